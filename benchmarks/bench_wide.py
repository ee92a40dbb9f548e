"""Many slots on one machine: ``local[32]``, parallelism 32, 1-second trials; sparktune and hyperopt.

Protocol (see benchmarks/README.md, "Dispatch at scale"):

1. Each engine runs in a fresh Python process: it creates a classic ``local[32]`` SparkSession
   (UI off, ``PYSPARK_PYTHON`` = this interpreter, FAIR scheduler) and runs one small Spark job
   (``spark.range(100).count()``), as a session that has done some work before tuning would.
2. sparktune: two ``fmin`` calls in the same session, each 320 trials of ``time.sleep(1.0)`` at
   ``SparkTrials(parallelism=32)``, ``rand.suggest`` (ideal 320 * 1 / 32 = 10 s each). The first
   pays the 32 Python workers' start; the second runs on warm workers.
3. hyperopt 0.3.0: one ``fmin`` of 128 trials, ``SparkTrials(parallelism=32)`` (ideal 4 s): it
   starts one Spark job per trial and polls once a second.
   ``spark-workers`` (Spark alone, the floor under any engine's first call): one job of 32 tasks
   of an empty function (``parallelize(range(32), 32).mapPartitions``) in the same setting; its
   row gives the wall time, when the first and the last task started ("first trial after" is the
   first task's start).
4. Reported per call: wall time; ideal; share of slot-time in trials = trials * 1 s /
   (32 * wall); time from the call to the first trial's start and from the last trial's end to
   the return (from the trials' ``book_time``/``refresh_time``).

Run:  python benchmarks/bench_wide.py [--engines spark-workers,sparktune,hyperopt] [--json out.json]
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
import datetime as dt, json, os, sys, time
sys.path.insert(0, {repo!r})
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
engine, P, calls = {engine!r}, {parallelism}, {calls!r}
from pyspark.sql import SparkSession
if engine == "hyperopt":
    from hyperopt import SparkTrials, fmin, hp, rand
else:
    from sparktune import fmin, hp, rand
    from sparktune.spark import SparkTrials
spark = (SparkSession.builder.master(f"local[{{P}}]").appName("bench-wide")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.scheduler.mode", "FAIR")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.range(100).count()


def objective(x):
    time.sleep(1.0)
    return x


def epoch(t):
    if isinstance(t, dt.datetime):
        return (t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t).timestamp()
    return float(t)


if engine == "spark-workers":
    # Spark alone: one job of P tasks of an empty function, on the fresh session's new workers.
    def task(rows):
        yield time.time()
    t0 = time.time()
    starts = sorted(spark.sparkContext.parallelize(range(P), P).mapPartitions(task).collect())
    t1 = time.time()
    print("ROW " + json.dumps(dict(engine=engine, call=1, trials=P, ok=P, parallelism=P, wall_s=round(t1 - t0, 2),
        ideal_s=0.0, share=0.0, first_trial_s=round(starts[0] - t0, 2), last_to_return_s=round(t1 - starts[-1], 2),
        last_task_start_s=round(starts[-1] - t0, 2))), flush=True)
    calls = []
for i, n in enumerate(calls):
    trials = SparkTrials(parallelism=P, spark_session=spark) if engine != "hyperopt" else SparkTrials(parallelism=P)
    t0 = time.time()
    fmin(objective, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=n, trials=trials, show_progressbar=False)
    t1 = time.time()
    docs = [t for t in trials.trials if t["result"].get("status") == "ok"]
    first = min(epoch(t["book_time"]) for t in docs)
    last = max(epoch(t["refresh_time"]) for t in docs)
    wall = t1 - t0
    print("ROW " + json.dumps(dict(engine=engine, call=i + 1, trials=n, ok=len(docs), parallelism=P,
        wall_s=round(wall, 2), ideal_s=n / P, share=round(n / (P * wall), 4),
        first_trial_s=round(first - t0, 2), last_to_return_s=round(t1 - last, 2))), flush=True)
spark.stop()
"""


def run_engine(engine: str, parallelism: int, calls: list[int]) -> list[dict[str, Any]]:
    code = CHILD.format(repo=str(REPO), engine=engine, parallelism=parallelism, calls=calls)
    # The Spark Python workers import sparktune from this tree too (not from wherever it is installed).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    rows = [json.loads(ln[4:]) for ln in out.stdout.splitlines() if ln.startswith("ROW ")]
    if out.returncode != 0 or len(rows) != len(calls):
        raise SystemExit(f"{engine} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | call | trials | wall | ideal | share of slot-time in trials | first trial after | "
        "last trial to return |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['call']} | {r['trials']} | {r['wall_s']:.1f} s | {r['ideal_s']:.1f} s "
            f"| {100 * r['share']:.0f}% | {r['first_trial_s']:.2f} s | {r['last_to_return_s']:.2f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="spark-workers,sparktune,hyperopt")
    parser.add_argument("--parallelism", type=int, default=32)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    rows = []
    for engine in args.engines.split(","):
        calls = {"hyperopt": [128], "spark-workers": [args.parallelism]}.get(
            engine, [10 * args.parallelism, 10 * args.parallelism]
        )
        for row in run_engine(engine, args.parallelism, calls):
            rows.append(row)
            print(json.dumps(row), flush=True)
    report(rows, table(rows), args.json)


if __name__ == "__main__":
    main()
