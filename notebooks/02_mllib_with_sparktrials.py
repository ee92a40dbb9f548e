# Databricks notebook source
# MAGIC %md
# MAGIC # Tuning an MLlib model with concurrent trials
# MAGIC
# MAGIC An objective that uses Spark itself (MLlib) cannot run on an executor. With
# MAGIC `SparkTrials(run_on="driver")` its trials run as concurrent driver threads, each trial's
# MAGIC Spark jobs tagged (so a timeout cancels them) and sharing the cluster in a FAIR pool.
# MAGIC Works on classic clusters and on Spark Connect (shared and serverless compute).

# COMMAND ----------

import os

from sparktune import SparkTrials, fmin, tpe
from sparktune.demo import SPACE, make_mllib_objective

MAX_EVALS = int(os.environ.get("SPARKTUNE_NOTEBOOK_MAX_EVALS", "30"))

try:
    spark  # noqa: B018 - defined by Databricks notebooks
except NameError:  # running as a script: make a local session
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()

# COMMAND ----------

# The guide's objective: LogisticRegression(maxIter=Iterations, regParam=Regularization) scored
# by hold-out accuracy on the bundled Breast Cancer Wisconsin data.
objective = make_mllib_objective(spark)
print(SPACE)

# COMMAND ----------

trials = SparkTrials(parallelism=4, run_on="driver", spark_session=spark, trial_timeout=300)
argmin = fmin(fn=objective, space=SPACE, algo=tpe.suggest, max_evals=MAX_EVALS, trials=trials)
print("Best param values: ", argmin)
print("Best accuracy: ", -trials.best_trial["result"]["loss"])
assert len(trials) == MAX_EVALS
