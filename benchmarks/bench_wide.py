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
   first task's start), the median CPU a new Python worker used before its task ran
   (``worker_cpu_s``), and, as "last trial to return", how long Spark takes to end 32 one-task
   jobs whose tasks all return at the same instant. From these the script prints the best share
   a first call could reach on this machine (see ``first_call_bound``), once with the CPU of
   Spark's empty-task workers and once with that of the workers of sparktune's first call (each
   trial reads its worker's CPU time from ``/proc/self/stat`` before sleeping; a worker's first
   reading is what its start cost). That bound counts only the workers' CPU: not the daemon's
   start nor the JVM's CPU (``probe_first_call_cpu.py`` measures both). It also prints the share
   a call would reach if its slots started at the mean start of Spark's own 32 empty tasks.
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


def worker_cpu():
    # CPU this process (the Spark Python worker running the trial) has used so far.
    stat = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def objective(x):
    cpu = worker_cpu()  # ~20 us; before the sleep, so it counts the worker's start and nothing of the trial
    time.sleep(1.0)
    return {{"loss": x, "status": "ok", "pid": os.getpid(), "cpu": cpu}}


def epoch(t):
    if isinstance(t, dt.datetime):
        return (t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t).timestamp()
    return float(t)


if engine == "spark-workers":
    # Spark alone: one job of P tasks of an empty function, on the fresh session's new workers;
    # each task reports when it started and the CPU its Python worker used before it (the fork
    # from pyspark's daemon, then importing pyspark's worker).
    def task(rows):
        stat = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
        yield time.time(), (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    t0 = time.time()
    got = sorted(spark.sparkContext.parallelize(range(P), P).mapPartitions(task).collect())
    t1 = time.time()
    starts, cpu = [g[0] for g in got], sorted(g[1] for g in got)
    # Then P one-task jobs (as sparktune's slots) whose tasks all return at the same instant:
    # how long Spark takes to end them (the floor under "last trial to return").
    end_at = time.time() + 3.0
    def wait_then_return(rows, end_at=end_at):
        time.sleep(max(0.0, end_at - time.time()))
        yield 1
    futures = [spark.sparkContext.parallelize([0], 1).mapPartitions(wait_then_return)._jrdd.countAsync()
               for _ in range(P)]
    while not all(f.isDone() for f in futures):
        time.sleep(0.005)
    ended = time.time()
    print("ROW " + json.dumps(dict(engine=engine, call=1, trials=P, ok=P, parallelism=P, wall_s=round(t1 - t0, 2),
        ideal_s=0.0, share=0.0, first_trial_s=round(starts[0] - t0, 2), last_to_return_s=round(ended - end_at, 2),
        last_task_start_s=round(starts[-1] - t0, 2), mean_task_start_s=round(sum(starts) / P - t0, 2),
        worker_cpu_s=round(cpu[P // 2], 3))), flush=True)
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
    # Each Python worker's CPU before its first trial of this call (its start, if it is new).
    first_cpu = {{}}
    for t in sorted(docs, key=lambda t: epoch(t["book_time"])):
        first_cpu.setdefault(t["result"]["pid"], t["result"]["cpu"])
    cpus = sorted(first_cpu.values())
    print("ROW " + json.dumps(dict(engine=engine, call=i + 1, trials=n, ok=len(docs), parallelism=P,
        wall_s=round(wall, 2), ideal_s=n / P, share=round(n / (P * wall), 4),
        first_trial_s=round(first - t0, 2), last_to_return_s=round(t1 - last, 2),
        workers=len(cpus), worker_cpu_s=round(cpus[len(cpus) // 2], 3))), flush=True)
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


def share(mean_start: float, end: float, trials_per_slot: int = 10) -> float:
    """The share of slot-time in trials of a call of ``trials_per_slot`` 1-s trials per slot whose
    slots start at ``mean_start`` on average and whose jobs take ``end`` to end."""
    return trials_per_slot / (trials_per_slot + mean_start + end)


def first_call_bound(what: str, cpu: float, end: float, p: int, cores: int, trials_per_slot: int = 10) -> str:
    """The best share a first call could reach here, from Spark's own costs: every new Python
    worker needs ``cpu`` seconds of CPU before it runs anything, so with ``cores`` cores the k-th
    of ``p`` workers is ready at k * cpu / cores at the earliest (mean cpu * (p + 1) / (2 * cores));
    and ``p`` tasks ending at once take ``end`` (the spark-workers row's measure)."""
    mean_start = cpu * (p + 1) / (2 * cores)
    bound = share(mean_start, end, trials_per_slot)
    return (
        f"{what}: {cpu:.2f} s of CPU per new Python worker (median), {cores} cores -> mean slot start >= "
        f"{mean_start:.2f} s; {p} tasks ending at once take {end:.2f} s -> a first call of {trials_per_slot} "
        f"1-s trials per slot reaches at most {100 * bound:.0f}%"
    )


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
    text = table(rows)
    cores = len(os.sched_getaffinity(0))
    spark_rows = [r for r in rows if r["engine"] == "spark-workers"]
    if spark_rows:
        s = spark_rows[0]
        end = s["last_to_return_s"]
        text += "\n\n" + first_call_bound("Spark alone", s["worker_cpu_s"], end, s["parallelism"], cores)
        # Measured, not modelled: Spark's own tasks (all submitted at once) started at this mean.
        at_spark = share(s["mean_task_start_s"], end)
        text += (
            f"\nSpark alone, measured: its {s['parallelism']} empty tasks started at a mean of "
            f"{s['mean_task_start_s']:.2f} s (first {s['first_trial_s']:.2f} s, last {s['last_task_start_s']:.2f} s); "
            f"slots starting at that mean would give a call of 10 1-s trials per slot {100 * at_spark:.0f}%"
        )
        for r in rows:
            if r["engine"] == "sparktune" and r["call"] == 1:
                what = "sparktune's first call, its own workers"
                text += "\n" + first_call_bound(what, r["worker_cpu_s"], end, r["parallelism"], cores)
    report(rows, text, args.json)


if __name__ == "__main__":
    main()
