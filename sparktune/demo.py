"""The guide's example on bundled data: tune a logistic regression's iterations and regularisation.

``make_mllib_objective(spark)`` is the hyperopt guide's MLlib ``LogisticRegression`` objective
(run it with ``SparkTrials(run_on="driver")``); ``make_numpy_objective()`` is the same model fitted
with numpy, for machines without Spark. Both score accuracy on a fixed 20% hold-out split of the
bundled Breast Cancer Wisconsin data (``sparktune/data/README.md``) and return
``{"loss": -accuracy, "status": STATUS_OK}``.
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any, Callable

import numpy as np

from sparktune import hp
from sparktune.base import STATUS_OK

#: The guide's search space.
SPACE = {
    "Iterations": hp.randint("Iterations", 10),
    "Regularization": hp.uniform("Regularization", 0.0, 1.0),
}

LABEL = "benign"


def load_breast_cancer() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Feature names, features (569 x 30) and labels (1 = benign) of the bundled data."""
    with resources.files("sparktune.data").joinpath("breast_cancer.csv").open("r", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = np.array([[float(v) for v in row] for row in reader])
    return header[:-1], rows[:, :-1], rows[:, -1].astype(int)


def _split(n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    return np.sort(idx[:cut]), np.sort(idx[cut:])


def make_numpy_objective() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The guide's objective with a numpy logistic regression (L2, gradient descent)."""
    _, X, y = load_breast_cancer()
    train, test = _split(len(y))
    mu, sd = X[train].mean(0), X[train].std(0)
    Xs = (X - mu) / sd

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        iterations, reg = int(params["Iterations"]), float(params["Regularization"])
        w, b = np.zeros(X.shape[1]), 0.0
        Xt, yt = Xs[train], y[train]
        for _ in range(iterations * 10):
            p = 1 / (1 + np.exp(-(Xt @ w + b)))
            w -= 0.5 * (Xt.T @ (p - yt) / len(yt) + reg * w)
            b -= 0.5 * float(np.mean(p - yt))
        pred = (Xs[test] @ w + b) > 0
        accuracy = float(np.mean(pred == y[test]))
        return {"loss": -accuracy, "status": STATUS_OK}

    return objective


def make_mllib_objective(spark: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The guide's MLlib ``LogisticRegression`` objective; works on classic Spark and Connect.

    The data go to Spark with ``createDataFrame`` (no shared file system needed).
    """
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler

    names, X, y = load_breast_cancer()
    train_idx, _ = _split(len(y))
    is_train = np.zeros(len(y), dtype=bool)
    is_train[train_idx] = True
    rows = [(*map(float, X[i]), int(y[i]), bool(is_train[i])) for i in range(len(y))]
    df = spark.createDataFrame(rows, schema=[*names, LABEL, "is_train"])
    data = VectorAssembler(inputCols=names, outputCol="features").transform(df)
    train = data.filter("is_train").select("features", LABEL).cache()
    test = data.filter("NOT is_train").select("features", LABEL).cache()
    evaluator = MulticlassClassificationEvaluator(labelCol=LABEL, metricName="accuracy")

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        lr = LogisticRegression(
            maxIter=int(params["Iterations"]), regParam=float(params["Regularization"]), labelCol=LABEL
        )
        model = lr.fit(train)
        accuracy = evaluator.evaluate(model.transform(test))
        return {"loss": -accuracy, "status": STATUS_OK}

    return objective


__all__ = ["SPACE", "load_breast_cancer", "make_mllib_objective", "make_numpy_objective"]
