# Databricks notebook source
# MAGIC %md
# MAGIC # Tuning an MLlib model: concurrent trials, tracked in MLflow, with plots
# MAGIC
# MAGIC The README's example as written: an MLlib `LogisticRegression` scored by hold-out accuracy,
# MAGIC tuned over `Iterations` and `Regularization`. An objective that uses Spark itself cannot run
# MAGIC on an executor: with `SparkTrials(run_on="driver")` its trials run as concurrent driver
# MAGIC threads, each trial's Spark jobs tagged (so a timeout cancels them) and sharing the cluster
# MAGIC in a FAIR pool. Works on classic clusters and on Spark Connect (shared and serverless compute).
# MAGIC
# MAGIC Every trial is logged to MLflow (one parent run, one child run per trial), and the run is
# MAGIC shown as a table and as plots. Needs `%pip install 'sparktune[mlflow,plots,pandas]'`.
# MAGIC This file is a Databricks source-format notebook and also a plain Python script: CI runs it.

# COMMAND ----------

import os

import mlflow

import sparktune.mlflow
from sparktune import STATUS_OK, SparkTrials, fmin, hp, plot, tpe
from sparktune.demo import load_breast_cancer

MAX_EVALS = int(os.environ.get("SPARKTUNE_NOTEBOOK_MAX_EVALS", "30"))

try:
    spark  # noqa: B018 - defined by Databricks notebooks
    ON_DATABRICKS = True
except NameError:  # running as a script: a local session, MLflow and figures in a local folder
    from pyspark.sql import SparkSession

    ON_DATABRICKS = False
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    OUTPUT = os.path.abspath(os.environ.get("SPARKTUNE_NOTEBOOK_OUTPUT", "notebook-output"))
    os.makedirs(OUTPUT, exist_ok=True)
    if "MLFLOW_TRACKING_URI" not in os.environ:
        mlflow.set_tracking_uri("sqlite:///" + os.path.join(OUTPUT, "mlflow.db"))
    if mlflow.get_experiment_by_name("sparktune-mllib") is None:  # artifacts (figures) beside the database
        mlflow.create_experiment("sparktune-mllib", artifact_location="file://" + os.path.join(OUTPUT, "artifacts"))
    mlflow.set_experiment("sparktune-mllib")


def show(fig, name):
    """A figure: displayed in the notebook, saved to the output folder when run as a script."""
    if ON_DATABRICKS:
        display(fig)  # noqa: F821 - defined by Databricks notebooks
    else:
        fig.savefig(os.path.join(OUTPUT, name), dpi=80)
    mlflow.log_figure(fig, name)  # also kept with the MLflow run


# COMMAND ----------

# MAGIC %md The data: the Breast Cancer Wisconsin table bundled with sparktune (569 rows, 30
# MAGIC features), split 80/20 into training and hold-out sets.

# COMMAND ----------

from pyspark.ml.classification import LogisticRegression  # noqa: E402
from pyspark.ml.evaluation import MulticlassClassificationEvaluator  # noqa: E402
from pyspark.ml.feature import VectorAssembler  # noqa: E402

names, X, y = load_breast_cancer()
df = spark.createDataFrame([(*map(float, x), int(label)) for x, label in zip(X, y)], schema=[*names, "label"])
data = VectorAssembler(inputCols=names, outputCol="features").transform(df).select("features", "label")
train, test = data.randomSplit([0.8, 0.2], seed=42)
train, test = train.cache(), test.cache()

# COMMAND ----------

# MAGIC %md The objective and the search space.

# COMMAND ----------


def objective(params):
    lr = LogisticRegression(maxIter=int(params["Iterations"]), regParam=params["Regularization"])
    model = lr.fit(train)
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(model.transform(test))
    return {"loss": -accuracy, "status": STATUS_OK}


search_space = {
    "Iterations": hp.randint("Iterations", 10),
    "Regularization": hp.uniform("Regularization", 0.0, 1.0),
}

# COMMAND ----------

# MAGIC %md Tune, four trials at a time, with MLflow tracking on. The tuning run (the parent of
# MAGIC the trials' runs) nests under the notebook's active run, which also keeps the figures below.

# COMMAND ----------

sparktune.mlflow.autolog()
notebook_run = mlflow.start_run(run_name="mllib-logistic-regression")
trials = SparkTrials(parallelism=4, run_on="driver", spark_session=spark, trial_timeout=300)
argmin = fmin(fn=objective, space=search_space, algo=tpe.suggest, max_evals=MAX_EVALS, trials=trials)
print("Best param values: ", argmin)
print("Best accuracy: ", -trials.best_trial["result"]["loss"])

# COMMAND ----------

# MAGIC %md Every trial as a row (failed and cancelled ones included), best first.

# COMMAND ----------

table = trials.to_pandas()
print(table.sort_values("loss").head(5).to_string(index=False))

# COMMAND ----------

# MAGIC %md The run as pictures: the loss of each trial and the best so far; each trial as a line
# MAGIC across the parameters; loss against each parameter; how much each parameter matters
# MAGIC (PED-ANOVA).

# COMMAND ----------

show(plot.plot_optimization_history(trials), "history.png")
show(plot.plot_parallel_coordinate(trials, space=search_space), "parallel_coordinate.png")
show(plot.plot_slice(trials, space=search_space), "slice.png")
show(plot.plot_param_importances(trials), "importances.png")
mlflow.end_run()

# COMMAND ----------

# MAGIC %md What MLflow holds: the notebook's run, the tuning run under it, and one run per trial.

# COMMAND ----------

runs = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{notebook_run.info.run_id}'")
tuning_run_id = runs["run_id"].iloc[0]
children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{tuning_run_id}'")
print(f"tuning run {tuning_run_id}: {len(children)} trial runs")
print(children[["tags.mlflow.runName", "metrics.loss", "params.Iterations", "params.Regularization"]].head())
assert len(trials) == MAX_EVALS
