"""First ``fmin`` in a fresh Spark session: sparktune (RDD tasks, mapInArrow tasks) and hyperopt.

Protocol (see benchmarks/README.md, "First fmin in a fresh session"):

1. Each measurement is a fresh Python process, as a ``spark-submit`` job is: it creates a
   classic ``local[2]`` SparkSession (UI off, ``PYSPARK_PYTHON`` = this interpreter) without
   running any Spark job, then calls ``fmin`` twice: 24 trials of ``time.sleep(0.3)`` at
   parallelism 2, ``rand.suggest``, ideal 24 * 0.3 / 2 = 3.6 s each. The first call pays the
   JVM's first job and the Python workers' start; the second shows the warm engine.
2. Engines: ``sparktune`` (``SparkTrials(parallelism=2)``, its default executor tasks: RDD jobs
   on classic Spark), ``sparktune-arrow`` (the same with ``SPARKTUNE_EXECUTOR_TASKS=arrow``:
   the tasks go through ``DataFrame.mapInArrow``, whose Python workers import pyarrow; this
   was the only way before) and ``hyperopt`` (hyperopt 0.3.0's ``SparkTrials``).
3. Reported per call: wall time around ``fmin``; the time from the call to the first trial's
   start (``book_time``) and from the last trial's end (``refresh_time``) to ``fmin``'s return;
   and, once per process, the time to create the session (imports included).
4. ``--reps`` rounds (default 3); in each round the engines run in turn, in a rotating order.
   Medians are reported; every row is in the JSON output. The machine's 1-minute load average
   is recorded with each process.

Run:  python benchmarks/bench_first_fmin.py [--reps 3] [--engines sparktune,sparktune-arrow,hyperopt] [--json out.json]
Needs: pip install 'sparktune[spark,bench]' (hyperopt for its row).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from _meta import run_meta  # benchmarks/_meta.py

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import datetime as dt, json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
engine = {engine!r}
from pyspark.sql import SparkSession
if engine == "hyperopt":
    from hyperopt import SparkTrials, fmin, hp, rand
else:
    from sparktune import fmin, hp, rand
    from sparktune.spark import SparkTrials
spark = (SparkSession.builder.master("local[2]").appName("bench-first-fmin")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
session_s = time.perf_counter() - t0


def objective(p):
    time.sleep(0.3)
    return p["x"] ** 2


calls = []
for call in range(2):
    trials = SparkTrials(parallelism=2, spark_session=spark)
    start = dt.datetime.utcnow()
    w0 = time.perf_counter()
    fmin(objective, {{"x": hp.uniform("x", -1, 1)}}, algo=rand.suggest, max_evals=24, trials=trials,
         show_progressbar=False)
    wall = time.perf_counter() - w0
    end = dt.datetime.utcnow()
    books = [t["book_time"] for t in trials.trials if t["book_time"] is not None]
    ends = [t["refresh_time"] for t in trials.trials if t["refresh_time"] is not None]
    ok = sum(1 for t in trials.trials if t["result"].get("status") == "ok")
    calls.append({{"wall_s": wall, "first_start_s": (min(books) - start).total_seconds(),
                   "last_end_to_return_s": (end - max(ends)).total_seconds(), "ok": ok}})
spark.stop()
print("RESULT " + json.dumps({{"session_s": session_s, "calls": calls, "load1": os.getloadavg()[0]}}))
"""


def run_one(engine: str) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("SPARKTUNE_EXECUTOR_TASKS", None)
    if engine == "sparktune-arrow":
        env["SPARKTUNE_EXECUTOR_TASKS"] = "arrow"
    code = CHILD.format(repo=str(REPO), engine="hyperopt" if engine == "hyperopt" else "sparktune")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{engine} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    row = json.loads(lines[-1][len("RESULT ") :])
    assert all(c["ok"] == 24 for c in row["calls"]), row
    return {"engine": engine, **row}


def summary(rows: list[dict[str, Any]], engines: list[str]) -> str:
    lines = [
        "| engine | session start | first fmin | first trial starts after | last result to return "
        "| second fmin | runs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for engine in engines:
        mine = [r for r in rows if r["engine"] == engine]

        def med(key: str, call: int, mine: list[dict[str, Any]] = mine) -> float:
            return statistics.median(r["calls"][call][key] for r in mine)

        lines.append(
            f"| {engine} | {statistics.median(r['session_s'] for r in mine):.1f} s | {med('wall_s', 0):.2f} s "
            f"| {med('first_start_s', 0):.2f} s | {med('last_end_to_return_s', 0):.2f} s | {med('wall_s', 1):.2f} s "
            f"| {len(mine)} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--engines", default="sparktune,sparktune-arrow,hyperopt")
    ap.add_argument("--json", help="also write every row to this file")
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - {"sparktune", "sparktune-arrow", "hyperopt"}
    if unknown:
        raise SystemExit(f"unknown engine(s) {sorted(unknown)}")
    rows = []
    for rep in range(args.reps):
        order = engines[rep % len(engines) :] + engines[: rep % len(engines)]
        for engine in order:
            row = run_one(engine)
            rows.append({"rep": rep, **row})
            print(json.dumps(rows[-1]), flush=True)
    meta = run_meta()
    print(json.dumps(meta))
    print(summary(rows, engines))
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
