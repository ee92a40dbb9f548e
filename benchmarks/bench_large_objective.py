"""An objective that captured 50 MB of data, at parallelism 32: sparktune (and an older tree) and hyperopt.

Protocol (see benchmarks/README.md, "Dispatch at scale"):

1. Each engine runs in a fresh Python process whose ``PYTHONPATH`` starts with the tree under
   test (the driver and Spark's Python workers import that tree's sparktune; checked). It creates
   a classic ``local[32]`` SparkSession (UI off, ``PYSPARK_PYTHON`` = this interpreter, default
   driver memory) and runs one small Spark job (``spark.range(100).count()``).
2. The objective closes over a 50 MB numpy array (``--mb``), as one that trains on a captured
   data set does, and sleeps 0.2 s. sparktune: two ``fmin`` calls in the same session, each 128
   trials, ``rand.suggest``, ``SparkTrials(parallelism=32)`` (ideal 128 * 0.2 / 32 = 0.8 s);
   hyperopt 0.3.0: one ``fmin`` of 128 trials with its ``SparkTrials(parallelism=32)``.
3. Reported per call: wall time, time from the call to the first trial's start and from the last
   trial's end to the return, the driver process's peak RSS (``ru_maxrss``) and the JVM's
   (``VmHWM`` of the ``java`` child) after the call.

Run:  python benchmarks/bench_large_objective.py [--old TREE] [--engines sparktune,hyperopt] [--json out.json]
(``--old``: another checkout, e.g. ``git worktree add /tmp/old <commit>``, run as "sparktune-old".)
Needs: pip install 'sparktune[spark,bench]' (hyperopt for its row).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from _meta import REPO, report  # benchmarks/_meta.py

CHILD = r"""
import datetime as dt, json, os, resource, sys, time
tree, engine, P, MB = {tree!r}, {engine!r}, {parallelism}, {mb}
sys.path.insert(0, tree)  # before the current directory, which "python -c" puts first
os.environ["PYSPARK_PYTHON"] = sys.executable
import numpy as np
from pyspark.sql import SparkSession
if engine == "hyperopt":
    from hyperopt import SparkTrials, fmin, hp, rand
    calls = [128]
else:
    import sparktune
    assert os.path.realpath(sparktune.__file__).startswith(os.path.realpath(tree)), sparktune.__file__
    from sparktune import fmin, hp, rand
    from sparktune.spark import SparkTrials
    calls = [128, 128]
spark = (SparkSession.builder.master(f"local[{{P}}]").appName("bench-large-objective")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.range(100).count()
data = np.random.default_rng(0).random(MB * 131072)  # MB megabytes of float64

def objective(x):
    time.sleep(0.2)
    return float(data[0]) + x

def epoch(t):
    if isinstance(t, dt.datetime):
        return (t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t).timestamp()
    return float(t)

def jvm_peak_mb():
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{{name}}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != os.getpid():
                continue
            with open(f"/proc/{{name}}/cmdline") as f:
                if "java" not in f.read().split("\0", 1)[0]:
                    continue
            with open(f"/proc/{{name}}/status") as f:
                return next(int(ln.split()[1]) // 1024 for ln in f if ln.startswith("VmHWM"))
        except (OSError, StopIteration, ValueError):
            continue
    return None

for i, n in enumerate(calls):
    trials = SparkTrials(parallelism=P, spark_session=spark) if engine != "hyperopt" else SparkTrials(parallelism=P)
    t0 = time.time()
    fmin(objective, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=n, trials=trials, show_progressbar=False)
    t1 = time.time()
    docs = [t for t in trials.trials if t["result"].get("status") == "ok"]
    print("ROW " + json.dumps(dict(engine=engine, call=i + 1, trials=n, ok=len(docs), parallelism=P, mb=MB,
        wall_s=round(t1 - t0, 2), ideal_s=round(n * 0.2 / P, 2),
        first_trial_s=round(min(epoch(t["book_time"]) for t in docs) - t0, 2),
        last_to_return_s=round(t1 - max(epoch(t["refresh_time"]) for t in docs), 2),
        driver_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        jvm_peak_mb=jvm_peak_mb())), flush=True)
spark.stop()
"""


def run_engine(engine: str, tree: str, parallelism: int, mb: int) -> list[dict[str, Any]]:
    code = CHILD.format(tree=tree, engine=engine.replace("-old", ""), parallelism=parallelism, mb=mb)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (tree, os.environ.get("PYTHONPATH")) if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    rows = [json.loads(ln[4:]) for ln in out.stdout.splitlines() if ln.startswith("ROW ")]
    if out.returncode != 0 or not rows:
        raise SystemExit(f"{engine} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    for row in rows:
        row["engine"] = engine
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sparktune,hyperopt")
    parser.add_argument("--old", help="another sparktune checkout, run as engine 'sparktune-old'")
    parser.add_argument("--parallelism", type=int, default=32)
    parser.add_argument("--mb", type=int, default=50, help="megabytes the objective captures")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    engines = args.engines.split(",") + (["sparktune-old"] if args.old else [])
    rows = []
    for engine in engines:
        tree = args.old if engine == "sparktune-old" else str(REPO)
        for row in run_engine(engine, tree, args.parallelism, args.mb):
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "| engine | call | trials | wall | ideal | first trial after | last trial to return | driver peak RSS | "
        "JVM peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['call']} | {r['ok']}/{r['trials']} | {r['wall_s']:.2f} s | {r['ideal_s']:.1f} s "
            f"| {r['first_trial_s']:.2f} s | {r['last_to_return_s']:.2f} s | {r['driver_peak_mb']} MB "
            f"| {r['jvm_peak_mb']} MB |"
        )
    report(rows, "\n".join(lines), args.json)


if __name__ == "__main__":
    main()
