# Source: Databricks documentation, "Hyperopt concepts" / "Best practices: Hyperparameter tuning with
#   Hyperopt" (docs.databricks.com, no licence stated): SparkTrials(parallelism=..., timeout=...)
#   to cap a run's time, a loss_threshold-free run whose slow trials are cut, and the SparkTrials
#   counters (count_successful_trials, count_failed_trials, count_cancelled_trials,
#   count_total_trials) read afterwards, plus the trials' statuses.
# Changes: local[2] Spark on 127.0.0.1 started and stopped here; a sleeping objective instead of a
#   model; timeout 30 s against 300 trials of 0.2-0.6 s; a failing objective for some points.
import logging
import time

import numpy as np
from hyperopt import STATUS_OK, SparkTrials, fmin, hp, rand
from pyspark.sql import SparkSession

logging.basicConfig(level=logging.INFO)
logging.getLogger("py4j").setLevel(logging.WARNING)
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .getOrCreate()
)


def objective(params):
    if params["x"] > 0.8:
        raise ValueError("x too large")
    time.sleep(0.2 + 0.5 * params["x"])
    return {"loss": (params["x"] - 0.3) ** 2, "status": STATUS_OK}


try:
    spark_trials = SparkTrials(parallelism=2, timeout=30)
    t0 = time.time()
    best = fmin(
        objective,
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=300,
        trials=spark_trials,
        rstate=np.random.default_rng(0),
    )
    elapsed = time.time() - t0
    counts = (
        spark_trials.count_successful_trials(),
        spark_trials.count_failed_trials(),
        spark_trials.count_cancelled_trials(),
        spark_trials.count_total_trials(),
    )
    print(best, counts, round(elapsed, 1))
    assert counts[3] < 300 and elapsed < 300
    assert counts[0] >= 1
finally:
    spark.stop()
