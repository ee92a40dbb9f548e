# Source: hyperopt docs, "Scaling out search with Apache Spark", the SparkTrials workflow tuning a
#   scikit-learn LogisticRegression (penalty choice, log-uniform regParam)
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/scaleout/spark.md
#   (hyperopt project, BSD-3-Clause; contributed by Databricks).
# Changes: MNIST (fetch_openml, a download) -> the bundled digits data, 500/300 samples;
#   max_evals 32 -> 6; the session is a small local[2] Spark on 127.0.0.1, created here and
#   stopped at the end; SparkTrials(parallelism=2); multi_class dropped (removed in scikit-learn).
import warnings

import hyperopt
import numpy as np
from hyperopt import STATUS_OK, SparkTrials, fmin, hp, tpe
from pyspark.sql import SparkSession
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .getOrCreate()
)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=500, test_size=300, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)


def train(params):
    regParam = float(params["regParam"])
    penalty = params["penalty"]
    clf = LogisticRegression(C=1.0 / regParam, penalty=penalty, solver="saga", tol=0.1)
    clf.fit(X_train, y_train)
    score = clf.score(X_test, y_test)
    return {"loss": -score, "status": STATUS_OK}


search_space = {
    "penalty": hp.choice("penalty", ["l1", "l2"]),
    "regParam": hp.loguniform("regParam", -10.0, 0),
}
algo = tpe.suggest
try:
    best_hyperparameters = fmin(fn=train, space=search_space, algo=algo, max_evals=6)
    print(best_hyperparameters)
    spark_trials = SparkTrials(parallelism=2)
    best_hyperparameters = hyperopt.fmin(
        fn=train,
        space=search_space,
        algo=algo,
        trials=spark_trials,
        max_evals=6,
        rstate=np.random.default_rng(0),
    )
    print(best_hyperparameters, len(spark_trials.trials))
    assert len(spark_trials.trials) == 6
finally:
    spark.stop()
