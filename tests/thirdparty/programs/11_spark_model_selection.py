# Source: Databricks documentation, "Hyperopt concepts" and the notebook "Hyperopt: model selection
#   with scikit-learn" (docs.databricks.com/.../automl-hyperparam-tuning/hyperopt-model-selection,
#   Databricks, no licence stated): hp.choice over whole model configurations (SVM, random forest,
#   logistic regression), SparkTrials(parallelism=...), space_eval of the best, and the
#   SparkTrials counters.
# Changes: local[2] Spark on 127.0.0.1 started and stopped here; bundled iris data; max_evals
#   16 -> 6; random forests of 10 trees; no MLflow autologging (a Databricks-only feature).
import warnings

import numpy as np
from hyperopt import STATUS_OK, SparkTrials, fmin, hp, space_eval, tpe
from pyspark.sql import SparkSession
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

warnings.filterwarnings("ignore")
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .getOrCreate()
)
X, y = load_iris(return_X_y=True)


def objective(params):
    classifier_type = params["type"]
    del params["type"]
    if classifier_type == "svm":
        clf = SVC(**params)
    elif classifier_type == "rf":
        params["max_depth"] = int(params["max_depth"])
        clf = RandomForestClassifier(n_estimators=10, **params)
    elif classifier_type == "logreg":
        clf = LogisticRegression(**params)
    else:
        return 0
    accuracy = cross_val_score(clf, X, y, cv=3).mean()
    return {"loss": -accuracy, "status": STATUS_OK}


search_space = hp.choice(
    "classifier_type",
    [
        {"type": "svm", "C": hp.lognormal("SVM_C", 0, 1.0), "kernel": hp.choice("kernel", ["linear", "rbf"])},
        {
            "type": "rf",
            "max_depth": hp.quniform("max_depth", 2, 5, 1),
            "criterion": hp.choice("criterion", ["gini", "entropy"]),
        },
        {"type": "logreg", "C": hp.lognormal("LR_C", 0, 1.0), "solver": hp.choice("solver", ["liblinear", "lbfgs"])},
    ],
)
try:
    spark_trials = SparkTrials(parallelism=2)
    best_result = fmin(
        fn=objective,
        space=search_space,
        algo=tpe.suggest,
        max_evals=6,
        trials=spark_trials,
        rstate=np.random.default_rng(1),
    )
    print(space_eval(search_space, best_result))
    print(spark_trials.count_successful_trials(), spark_trials.count_failed_trials(), spark_trials.count_total_trials())
    print(spark_trials.best_trial["result"])
finally:
    spark.stop()
