# Databricks notebook source
# MAGIC %md
# MAGIC # Moving a hyperopt notebook to sparktune
# MAGIC
# MAGIC Replace the word `hyperopt` with `sparktune` in the imports; nothing else changes.
# MAGIC On Databricks, install with `%pip install sparktune` (the runtime's pyspark is kept).
# MAGIC This file is a Databricks source-format notebook and also a plain Python script: CI runs it.

# COMMAND ----------

import os

import numpy as np

from sparktune import STATUS_OK, SparkTrials, Trials, fmin, hp, space_eval, tpe

MAX_EVALS = int(os.environ.get("SPARKTUNE_NOTEBOOK_MAX_EVALS", "40"))

try:
    spark  # noqa: B018 - defined by Databricks notebooks
except NameError:  # running as a script: make a local session
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()

# COMMAND ----------

# MAGIC %md A conditional space: each model type has its own parameters.

# COMMAND ----------

space = hp.choice(
    "model",
    [
        {"type": "ridge", "alpha": hp.loguniform("alpha", np.log(1e-4), np.log(10.0))},
        {"type": "knn", "k": hp.randint("k", 1, 30), "weights": hp.choice("weights", ["uniform", "distance"])},
    ],
)


def objective(params):
    # a stand-in for training and scoring a model on one machine
    if params["type"] == "ridge":
        loss = (np.log10(params["alpha"]) + 1.5) ** 2
    else:
        loss = 0.5 + abs(params["k"] - 7) / 10 + (0.0 if params["weights"] == "distance" else 0.1)
    return {"loss": loss, "status": STATUS_OK}


# COMMAND ----------

# MAGIC %md In-process, as with hyperopt's `Trials`:

# COMMAND ----------

trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=MAX_EVALS, trials=trials, rstate=np.random.default_rng(0))
print("best:", space_eval(space, best), "loss:", trials.best_trial["result"]["loss"])

# COMMAND ----------

# MAGIC %md On the cluster's executors, 2 trials at a time, with `SparkTrials`:

# COMMAND ----------

spark_trials = SparkTrials(parallelism=2, spark_session=spark)
best = fmin(
    objective, space, algo=tpe.suggest, max_evals=MAX_EVALS, trials=spark_trials, rstate=np.random.default_rng(0)
)
print("best:", space_eval(space, best), "loss:", spark_trials.best_trial["result"]["loss"])
assert len(spark_trials) == MAX_EVALS
