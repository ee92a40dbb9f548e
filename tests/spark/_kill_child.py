"""The driver a kill-and-resume test SIGKILLs: one SparkTrials run with a trial file.

Usage: python -m tests.spark._kill_child MODE TRIAL_FILE EVAL_LOG MAX_EVALS RUN

Every evaluation appends ``RUN x`` (this start's number and the point) to EVAL_LOG (one line,
O_APPEND) before it sleeps, so the test can tell which start of the run evaluated which point.
The same command resumes the run from TRIAL_FILE; it prints DONE when fmin returns.
"""

from __future__ import annotations

import os
import sys
import time

from pyspark.sql import SparkSession

from sparktune import fmin, hp, rand
from sparktune.spark import SparkTrials

POINTS = [{"x": 0.5, "y": 0.5}, {"x": -0.25, "y": 0.1}, {"x": 0.125, "y": 0.9}]


def main() -> None:
    mode, trial_file, eval_log, max_evals, run = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

    def objective(p: dict) -> float:
        fd = os.open(eval_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, f"{run} {p['x']!r}\n".encode())
        finally:
            os.close(fd)
        time.sleep(0.02 + 0.15 * p["y"])
        if p["x"] > 0.9:
            raise ValueError("a failed trial is a recorded trial too")
        return p["x"] ** 2

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sparktune-kill-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print("STARTED", flush=True)
    fmin(
        objective,
        {"x": hp.uniform("x", -1, 1), "y": hp.uniform("y", 0, 1)},
        algo=rand.suggest,
        max_evals=max_evals,
        trials=SparkTrials(parallelism=2, run_on=mode, spark_session=spark),
        trials_save_file=trial_file,
        points_to_evaluate=POINTS,
        show_progressbar=False,
    )
    print("DONE", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
