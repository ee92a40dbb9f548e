"""No-op throughput A/B: two checkouts of sparktune, one fresh Spark session each, alternating.

Protocol (see benchmarks/README.md, "Spark engine"):

1. For each source tree given (e.g. a ``git worktree`` of an older commit and one of the new), a
   fresh Python process puts the tree first on ``PYTHONPATH`` (so the driver and the Spark
   Python workers both import that tree's sparktune; the process checks it), creates a classic
   ``local[2]`` session (UI off, FAIR scheduler), runs a 4-trial warm-up ``fmin``, then three
   ``fmin`` of 1,000 trials of an objective that returns 0.0, ``tpe.suggest``, ``rstate`` 0,
   ``SparkTrials(parallelism=2)`` (a new one each time, so its slot jobs' start is included).
2. ``--rounds`` rounds (default 2); the trees' order is reversed every other round.
3. Reported: trials per second of each ``fmin``.

Run:  python benchmarks/bench_noop_ab.py OLD_TREE NEW_TREE [--rounds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _meta import run_meta  # benchmarks/_meta.py

CHILD = r"""
import os, sys, time
tree = sys.argv[1]
sys.path.insert(0, tree)
os.environ["PYSPARK_PYTHON"] = sys.executable
import numpy as np
from pyspark.sql import SparkSession
import sparktune
from sparktune import fmin, hp, tpe
from sparktune.spark import SparkTrials
assert os.path.realpath(sparktune.__file__).startswith(os.path.realpath(tree)), sparktune.__file__
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").config("spark.scheduler.mode", "FAIR")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
def noop(x):
    return 0.0
fmin(noop, hp.uniform("x", 0, 1), algo=tpe.suggest, max_evals=4, trials=SparkTrials(parallelism=2, spark_session=spark),
     show_progressbar=False)
rates = []
for _ in range(3):
    t0 = time.perf_counter()
    trials = SparkTrials(parallelism=2, spark_session=spark)
    fmin(noop, {"x": hp.uniform("x", 0, 1)}, algo=tpe.suggest, max_evals=1000, trials=trials,
         rstate=np.random.default_rng(0), show_progressbar=False)
    rates.append(round(1000 / (time.perf_counter() - t0), 1))
print("RATES " + " ".join(map(str, rates)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs=2, help="two source trees (checkouts) of sparktune")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    rows = []
    for rnd in range(args.rounds):
        for tree in args.trees if rnd % 2 == 0 else args.trees[::-1]:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([tree, os.environ.get("PYTHONPATH", "")])}
            out = subprocess.run([sys.executable, "-c", CHILD, tree], capture_output=True, text=True, env=env)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RATES ")), None)
            if out.returncode != 0 or line is None:
                raise SystemExit(f"{tree} failed ({out.returncode}):\n{out.stderr[-3000:]}")
            commit = subprocess.run(
                ["git", "describe", "--always", "--dirty"], cwd=tree, capture_output=True, text=True
            ).stdout.strip()
            rows.append(
                {"round": rnd, "tree": tree, "commit": commit, "trials_per_s": [float(x) for x in line.split()[1:]]}
            )
            print(json.dumps(rows[-1]), flush=True)
    meta = run_meta()
    print(json.dumps(meta))
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
