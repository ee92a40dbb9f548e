"""Trial-log benchmark: resuming 100,000 stored trials of 10 parameters, in both formats.

Protocol (see benchmarks/README.md, "Trial store"):

1. Records: ``--trials`` (100,000) finished trials of 10 parameters (6 floats, 2 integers, 2
   choice indices), drawn with ``numpy.random.default_rng(0)``; each result holds ``loss``,
   ``status`` and a float ``duration``; book and refresh times are set, ``attempts`` = 1. A record
   is about 430 bytes of JSON.
2. Write: each format (the JSON Lines journal, ``TrialFile``; the segment directory,
   ``SegmentLog`` with its default fanout 16) is started in a fresh directory under ``--dir``
   (default: a temporary directory on the disk that holds ``/tmp``) and the records are appended
   in batches of ``--batch`` (100), every append durable (fsync) when it returns. Reported: write
   time and how many files the log holds at the end.
3. Load: ``--reps`` (5) times, a fresh Python process imports sparktune, then times
   ``open_trial_log(path).load()`` (read, check every checksum, parse, one ``Trial`` per tid) and,
   separately, the resume ``start()`` that follows it (lease, labels, crash leftovers).
   The file is in the page cache (written just before), as on a driver resuming its own run;
   a cold object-storage read adds its transfer time. Reported: median and worst wall time of
   the reps, the median CPU time of the loading process (``time.process_time``) and the
   machine's 1-minute load average then (the machine is shared: wall time above CPU time is
   time spent waiting for a core).
4. Memory, in one more fresh process (``tracemalloc`` slows allocation, so it is never on while
   timing): ``tracemalloc``'s peak during ``load()`` and what the loaded records still hold
   afterwards (current - before); and, from the timing processes, the peak RSS (``ru_maxrss``:
   the interpreter, numpy and sparktune's imports included).
5. Single-record appends: ``--singles`` (1,000) appends of one record each into a new log of
   each format: the per-append cost (one fsync each) and the files left.
6. A driver's run (``--run-trials``, 100,000): in a fresh process, ``fmin`` with in-process
   ``Trials``, ``rand.suggest`` and a no-op objective over the same 10 parameters (6
   ``hp.uniform``, 4 ``hp.randint``) writes a trial file of each format (under ``--run-dir``,
   default ``/dev/shm`` when writable: the loop fsyncs after every trial, 3-8 ms each on this
   disk, which is the disk's cost, not memory's). Reported: wall time, the process's RSS after
   imports, its RSS when ``fmin`` returned and its peak RSS (``VmHWM``), all with the
   interpreter and what the run imports (numpy, sparktune) included; then the same process loads the file back
   (``open_trial_log(...).load()``) to check that it holds every trial. ``--run-trials 0``
   skips this part; ``--only-run`` runs only it.

Run:  python benchmarks/bench_store.py [--trials 100000] [--dir DIR] [--out benchmarks/results/store.json]
Needs only sparktune.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _meta import run_meta  # benchmarks/_meta.py

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sparktune._record import Trial  # noqa: E402
from sparktune.storage import SegmentLog, TrialFile, TrialLog  # noqa: E402

LABELS = ("lr", "l2", "dropout", "momentum", "beta1", "beta2", "n_layers", "width", "optimizer", "act")

LOAD = """
import json, os, resource, sys, time, tracemalloc
sys.path.insert(0, {repo!r})
from sparktune.storage import open_trial_log
log = open_trial_log({path!r}, format={fmt!r})
if {memory!r}:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loaded = log.load()
    current, peak = tracemalloc.get_traced_memory()
    print(json.dumps({{"n": len(loaded.trials), "held_mb": (current - before) / 2**20,
        "peak_mb": (peak - before) / 2**20}}))
else:
    t0, c0 = time.perf_counter(), time.process_time()
    loaded = log.load()
    t1, c1 = time.perf_counter(), time.process_time()
    log.start(loaded.labels)
    t2 = time.perf_counter()
    log.close()
    print(json.dumps({{"n": len(loaded.trials), "load_s": t1 - t0, "load_cpu_s": c1 - c0,
        "start_s": t2 - t1, "load1": os.getloadavg()[0],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


RUN = """
import json, sys, time
sys.path.insert(0, {repo!r})
import numpy as np
from sparktune import Trials, fmin, hp, rand
from sparktune.storage import open_trial_log


def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


labels = {labels!r}
space = {{name: hp.uniform(name, 0, 1) for name in labels[:6]}}
space.update({{name: hp.randint(name, 512) for name in labels[6:]}})


def objective(p):
    return p["lr"] - p["l2"]


base = rss_mb()
trials = Trials()
t0 = time.perf_counter()
fmin(objective, space, algo=rand.suggest, max_evals={n}, trials=trials, trials_save_file={path!r},
     show_progressbar=False, rstate=np.random.default_rng(0))
wall = time.perf_counter() - t0
end = rss_mb()
peak = rss_mb("VmHWM")
n_done = len(trials.trials)
del trials
n_file = len(open_trial_log({path!r}).load().trials)
print(json.dumps({{"n": n_done, "n_file": n_file, "wall_s": wall, "rss_base_mb": base, "rss_end_mb": end,
    "rss_peak_mb": peak}}))
"""


def bench_run(fmt: str, n: int, root: Path) -> dict[str, Any]:
    """A driver's fmin run of ``n`` trials writing a trial file (protocol step 6)."""
    path = root / ("run.jsonl" if fmt == "journal" else "run.segments")
    code = RUN.format(repo=str(REPO), labels=LABELS, n=n, path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["n"] == row["n_file"] == n, row
    return {"format": fmt, "trials": n, "dir": str(root), **row}


def run_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| format | trials | wall | trials/s | RSS after imports | RSS when fmin returned | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['format']} | {r['trials']:,} | {r['wall_s']:.1f} s | {r['trials'] / r['wall_s']:,.0f} | "
            f"{r['rss_base_mb']:.0f} MB | {r['rss_end_mb']:.0f} MB | {r['rss_peak_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def make_trials(n: int, seed: int = 0) -> list[Trial]:
    rng = np.random.default_rng(seed)
    floats = rng.random((n, 6))
    ints = rng.integers(0, 512, size=(n, 4))
    loss = rng.random(n)
    t0 = _dt.datetime(2026, 1, 1)
    out = []
    for i in range(n):
        vals: dict[str, int | float] = {LABELS[j]: float(floats[i, j]) for j in range(6)}
        vals.update({LABELS[6 + j]: int(ints[i, j]) for j in range(4)})
        book = t0 + _dt.timedelta(seconds=i)
        out.append(
            Trial(
                tid=i,
                state=2,
                vals=vals,
                result={"loss": float(loss[i]), "status": "ok", "duration": float(floats[i, 0] * 10)},
                book_time=book,
                refresh_time=book + _dt.timedelta(milliseconds=1500),
                attempts=1,
            )
        )
    return out


def new_log(fmt: str, path: Path) -> TrialLog:
    return TrialFile(path) if fmt == "journal" else SegmentLog(path)


def files_of(fmt: str, path: Path) -> int:
    return 1 if fmt == "journal" else sum(1 for n in os.listdir(path) if n.startswith("seg-"))


def size_of(fmt: str, path: Path) -> int:
    if fmt == "journal":
        return path.stat().st_size
    return sum((path / n).stat().st_size for n in os.listdir(path))


def bench_format(fmt: str, trials: list[Trial], root: Path, batch: int, reps: int, singles: int) -> dict[str, Any]:
    path = root / ("trials.jsonl" if fmt == "journal" else "trials.segments")
    log = new_log(fmt, path)
    log.start(LABELS)
    t0 = time.perf_counter()
    for i in range(0, len(trials), batch):
        log.append(trials[i : i + batch])
    write_s = time.perf_counter() - t0
    log.close()
    runs, mems = [], []
    for memory, into in ((False, runs), (True, mems)):
        for _ in range(reps if not memory else 1):
            code = LOAD.format(repo=str(REPO), path=str(path), fmt=fmt, memory=memory)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            into.append(json.loads(out.stdout))
    assert all(r["n"] == len(trials) for r in runs + mems)
    one = root / ("singles.jsonl" if fmt == "journal" else "singles.segments")
    slog = new_log(fmt, one)
    slog.start(LABELS)
    t0 = time.perf_counter()
    for t in trials[:singles]:
        slog.append([t])
    single_s = (time.perf_counter() - t0) / singles
    slog.close()
    return {
        "format": fmt,
        "trials": len(trials),
        "batch": batch,
        "write_s": write_s,
        "files": files_of(fmt, path),
        "bytes": size_of(fmt, path),
        "load_s_median": statistics.median(r["load_s"] for r in runs),
        "load_s_worst": max(r["load_s"] for r in runs),
        "load_cpu_s_median": statistics.median(r["load_cpu_s"] for r in runs),
        "loadavg_1min": statistics.median(r["load1"] for r in runs),
        "start_s_median": statistics.median(r["start_s"] for r in runs),
        "held_mb": mems[0]["held_mb"],
        "peak_mb": mems[0]["peak_mb"],
        "rss_mb": statistics.median(r["rss_mb"] for r in runs),
        "single_append_ms": single_s * 1000,
        "single_files": files_of(fmt, one),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| format | trials | write (batches of {b}) | files | MB on disk | load median / worst | load CPU "
        "| machine load avg | resume start() "
        "| records held | load peak | process RSS | 1-record append | files after {s} |"
    )
    lines = [
        head.format(b=rows[0]["batch"], s=ARGS.singles),
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['format']} | {r['trials']:,} | {r['write_s']:.1f} s | {r['files']} | {r['bytes'] / 2**20:.1f} | "
            f"{r['load_s_median']:.2f} s / {r['load_s_worst']:.2f} s | {r['load_cpu_s_median']:.2f} s | "
            f"{r['loadavg_1min']:.1f} | {r['start_s_median'] * 1000:.0f} ms | "
            f"{r['held_mb']:.0f} MB | {r['peak_mb']:.0f} MB | {r['rss_mb']:.0f} MB | {r['single_append_ms']:.1f} ms | "
            f"{r['single_files']} |"
        )
    return "\n".join(lines)


def main() -> None:
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--singles", type=int, default=1000)
    p.add_argument("--dir", default=None, help="where the logs are written (default: a temporary directory)")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    p.add_argument("--run-trials", type=int, default=100_000, help="trials of the driver run (0: skip it)")
    p.add_argument("--run-dir", default=None, help="where the driver run writes (default: /dev/shm if writable)")
    p.add_argument("--only-run", action="store_true", help="only the driver run (step 6)")
    ARGS = p.parse_args()
    rows: list[dict[str, Any]] = []
    if not ARGS.only_run:
        trials = make_trials(ARGS.trials)
        with tempfile.TemporaryDirectory(dir=ARGS.dir) as d:
            for fmt in ("journal", "segments"):
                rows.append(bench_format(fmt, trials, Path(d), ARGS.batch, ARGS.reps, ARGS.singles))
    run_rows: list[dict[str, Any]] = []
    if ARGS.run_trials:
        run_dir = ARGS.run_dir or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
        with tempfile.TemporaryDirectory(dir=run_dir) as d:
            for fmt in ("journal", "segments"):
                run_rows.append(bench_run(fmt, ARGS.run_trials, Path(d)))
    meta = run_meta()
    print(json.dumps(meta))
    if rows:
        print(table(rows))
    if run_rows:
        print(run_table(run_rows))
    if ARGS.out:
        Path(ARGS.out).write_text(json.dumps({"meta": meta, "rows": rows, "runs": run_rows}, indent=1) + "\n")


ARGS: argparse.Namespace

if __name__ == "__main__":
    main()
