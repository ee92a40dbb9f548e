"""Run the third-party hyperopt programs under hyperopt and under sparktune.

Each program in ``programs/`` is a hyperopt program (``from hyperopt import ...``). ``run_both``
copies it into a fresh temporary directory twice, once as written and once with every occurrence
of the word ``hyperopt`` replaced by ``sparktune`` (the one change a user makes), and runs both
copies as ``python program.py`` subprocesses at the same time, each in its own working directory,
with a timeout. The sparktune copy imports sparktune from this checkout (its root goes first on
``PYTHONPATH``).

``python -m tests.thirdparty.runner --report`` prints a table (program, hyperopt result, sparktune
result, the last line of sparktune's stderr when it failed); ``--no-spark`` leaves out the
programs that start Spark, and names after the options pick programs by prefix.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
ROOT = HERE.parents[1]
LIBRARIES = ("hyperopt", "sparktune")
TIMEOUT_S = 300.0
TAIL_LINES = 12


@dataclass(frozen=True)
class Outcome:
    """How one program ended under one library.

    Attributes:
        library: ``"hyperopt"`` or ``"sparktune"``.
        returncode: the process's exit status; ``None`` when it was killed at the timeout.
        seconds: wall-clock seconds from start to exit (or to the kill).
        stderr_tail: the last ``TAIL_LINES`` lines of its standard error.
        stdout_tail: the last ``TAIL_LINES`` lines of its standard output.
    """

    library: str
    returncode: int | None
    seconds: float
    stderr_tail: str
    stdout_tail: str

    @property
    def ok(self) -> bool:
        """True when the program exited with status 0 before the timeout."""
        return self.returncode == 0

    @property
    def summary(self) -> str:
        """``ok``, ``timeout`` or ``exit N: <last non-empty stderr line>``."""
        if self.ok:
            return "ok"
        if self.returncode is None:
            return "timeout"
        return f"exit {self.returncode}: {last_line(self.stderr_tail)}"


def last_line(text: str) -> str:
    """The last non-blank line of ``text`` (stripped), or ``""``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def programs() -> list[Path]:
    """The corpus programs, ``NN_name.py``, sorted by name."""
    return sorted(p for p in PROGRAMS.glob("[0-9][0-9]_*.py"))


def needs_spark(path: Path) -> bool:
    """True when the program starts a Spark session (it mentions ``SparkTrials`` or ``SparkSession``)."""
    text = path.read_text(encoding="utf-8")
    return "SparkTrials" in text or "SparkSession" in text


def renamed(source: str) -> str:
    """``source`` with every ``hyperopt`` replaced by ``sparktune``."""
    return source.replace("hyperopt", "sparktune")


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-TAIL_LINES:])


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYSPARK_PYTHON"] = sys.executable  # Spark's Python workers use this interpreter
    env["MPLBACKEND"] = "Agg"  # plotting programs draw to files, never to a window
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("OMP_NUM_THREADS", "1")  # two programs run at once on a small machine
    return env


def run_both(path: Path, *, timeout: float = TIMEOUT_S) -> dict[str, Outcome]:
    """Run ``path`` under hyperopt and under sparktune, concurrently.

    Args:
        path: a program of the corpus (hyperopt source).
        timeout: seconds each run may take before it is killed (its outcome is then ``timeout``).

    Returns:
        ``{"hyperopt": Outcome, "sparktune": Outcome}``.
    """
    source = path.read_text(encoding="utf-8")
    env = _environment()
    with tempfile.TemporaryDirectory(prefix=f"thirdparty-{path.stem}-") as tmp:
        started: dict[str, tuple[subprocess.Popen[str], float]] = {}
        for library in LIBRARIES:
            workdir = Path(tmp) / library
            workdir.mkdir()
            text = source if library == "hyperopt" else renamed(source)
            (workdir / path.name).write_text(text, encoding="utf-8")
            proc = subprocess.Popen(
                [sys.executable, path.name],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            started[library] = (proc, time.monotonic())
        outcomes: dict[str, Outcome] = {}

        def finish(library: str) -> None:
            proc, t0 = started[library]
            try:
                out, err = proc.communicate(timeout=timeout)
                code: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the program's own group: a Spark JVM goes too
                out, err = proc.communicate()
                code = None
            outcomes[library] = Outcome(library, code, time.monotonic() - t0, _tail(err), _tail(out))

        waiters = [threading.Thread(target=finish, args=(library,)) for library in started]
        for w in waiters:
            w.start()
        for w in waiters:
            w.join()
    return outcomes


def _cell(text: str, width: int = 90) -> str:
    text = text.replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--report`` prints the results table (markdown) for the chosen programs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="run the programs and print a results table")
    parser.add_argument("--no-spark", action="store_true", help="leave out the programs that start Spark")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per run (default %(default)s)")
    parser.add_argument("names", nargs="*", help="program name prefixes (default: all)")
    args = parser.parse_args(argv)
    chosen = [
        p
        for p in programs()
        if (not args.names or any(p.name.startswith(n) for n in args.names)) and not (args.no_spark and needs_spark(p))
    ]
    if not args.report:
        for p in chosen:
            print(p.name)
        return 0
    print("| program | hyperopt | sparktune | seconds (h/s) |")
    print("|---|---|---|---|")
    for p in chosen:
        got = run_both(p, timeout=args.timeout)
        h, s = got["hyperopt"], got["sparktune"]
        print(
            f"| {p.name} | {_cell(h.summary)} | {_cell(s.summary)} | {h.seconds:.1f}/{s.seconds:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
