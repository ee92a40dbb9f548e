"""Where the CPU goes while a first ``fmin`` at ``local[32]`` starts its slots.

Protocol (see benchmarks/README.md, "Dispatch at scale"):

1. Runs ``bench_wide.py``'s sparktune child unchanged (a fresh process, a classic ``local[32]``
   session that ran one small Spark job, then two ``fmin`` calls of 320 one-second trials at
   parallelism 32), with one line added that prints the time each call starts.
2. Every 0.25 s it reads the CPU time (user + system, ``/proc/PID/stat``) of every process in the
   child's tree and sorts them into: the driver (the child itself: Python, sparktune's loop, py4j),
   the JVM (``java``), the Python workers (pyspark's daemon and the workers it forks) and other.
3. Prints, per call, each 0.5-s window's CPU use in cores per group and the totals over the
   call's first ``--window`` seconds (the slots' start), beside the call's ``bench_wide`` row.

On 2 cores a sum near 2.0 means the start is CPU-bound; the groups say whose CPU it is.

Run:  python benchmarks/probe_first_call_cpu.py [--window 7] [--json out.json]
Needs: pip install 'sparktune[spark]'.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from _meta import REPO, report  # benchmarks/_meta.py
from bench_wide import CHILD

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("driver", "jvm", "workers", "other")


def _tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of every descendant of ``root`` (not ``root`` itself)."""
    children: dict[int, list[tuple[int, float]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        children.setdefault(int(fields[1]), []).append((int(name), cpu))
    out: dict[int, float] = {}
    todo = [root]
    while todo:
        for pid, cpu in children.get(todo.pop(), []):
            out[pid] = cpu
            todo.append(pid)
    return out


def _group(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            cmd = f.read().replace("\0", " ")
    except OSError:
        return "other"
    if "pyspark.daemon" in cmd:
        return "workers"
    if "java" in cmd.split(" ", 1)[0]:
        return "jvm"
    return "other"


def _own_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=7.0, help="seconds from each call's start to total")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()

    code = CHILD.format(repo=str(REPO), engine="sparktune", parallelism=32, calls=[320, 320])
    marker = "    t0 = time.time()\n    fmin("
    assert marker in code, "bench_wide's child changed: update this probe"
    code = code.replace(marker, "    t0 = time.time()\n    print('CALL', i + 1, t0, flush=True)\n    fmin(")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.DEVNULL, env=env)
        groups: dict[int, str] = {}
        samples: list[tuple[float, dict[str, float]]] = []
        while proc.poll() is None:
            now = time.time()
            cpu = _tree_cpu(proc.pid)
            totals = dict.fromkeys(GROUPS, 0.0)
            try:
                totals["driver"] = _own_cpu(proc.pid)
            except OSError:
                break
            for pid, seconds in cpu.items():
                # A process is grouped once it is no longer a launcher script that will exec java.
                if groups.get(pid, "other") == "other":
                    groups[pid] = _group(pid)
                totals[groups[pid]] += seconds
            samples.append((now, totals))
            time.sleep(0.25)
        proc.wait()
        out.seek(0)
        lines = out.read().splitlines()
    if proc.returncode != 0:
        raise SystemExit(f"the child failed ({proc.returncode})")
    starts = {int(ln.split()[1]): float(ln.split()[2]) for ln in lines if ln.startswith("CALL ")}
    wide = {r["call"]: r for r in (json.loads(ln[4:]) for ln in lines if ln.startswith("ROW "))}

    rows: list[dict[str, Any]] = []
    text = []
    for call, t0 in sorted(starts.items()):
        inside = [(t, c) for t, c in samples if t0 <= t <= t0 + args.window]
        if len(inside) < 2:
            continue
        text.append(f"call {call}: {json.dumps(wide.get(call))}")
        text.append("| from | " + " | ".join(GROUPS) + " | sum (cores) |")
        text.append("|---|" + "---|" * (len(GROUPS) + 1))
        prev = inside[0]
        for t, c in inside[1:]:
            if t - prev[0] < 0.5 and t != inside[-1][0]:
                continue
            use = {g: (c[g] - prev[1][g]) / (t - prev[0]) for g in GROUPS}
            cells = " | ".join(f"{use[g]:.2f}" for g in GROUPS)
            text.append(f"| {prev[0] - t0:.2f} s | {cells} | {sum(use.values()):.2f} |")
            prev = (t, c)
        (ta, ca), (tb, cb) = inside[0], inside[-1]
        spent = {g: round(cb[g] - ca[g], 2) for g in GROUPS}
        text.append(f"CPU seconds from {ta - t0:.2f} to {tb - t0:.2f} s: {spent}")
        rows.append(dict(call=call, window_s=round(tb - ta, 2), cpu_s=spent, wide=wide.get(call)))
    report(rows, "\n".join(text), args.json)


if __name__ == "__main__":
    main()
