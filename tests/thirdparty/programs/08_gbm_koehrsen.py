# Source: Will Koehrsen, "Introduction to Bayesian Optimization with Hyperopt" / "Automated Model
#   Tuning" (Kaggle kernel and github.com/WillKoehrsen/hyperparameter-optimization, MIT licence on
#   the repository). Nested hp.choice for boosting_type with its own subsample, hp.quniform values
#   cast with int(), a global ITERATION counter, a CSV log written from the objective, extra keys
#   in the result dict, pyll.stochastic.sample of the space, results sorted by loss.
# Changes: LightGBM -> scikit-learn GradientBoostingClassifier (boosting_type picks its criterion),
#   synthetic data, 3-fold CV, MAX_EVALS 500 -> 15, rstate RandomState(50) -> default_rng(50)
#   (hyperopt 0.3 takes a Generator).
import csv
from timeit import default_timer as timer

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from hyperopt.pyll.stochastic import sample
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import cross_val_score

MAX_EVALS = 15
X, y = make_classification(n_samples=300, n_features=10, random_state=0)
CRITERION = {"gbdt": "friedman_mse", "dart": "squared_error", "goss": "friedman_mse"}

space = {
    "boosting_type": hp.choice(
        "boosting_type",
        [
            {"boosting_type": "gbdt", "subsample": hp.uniform("gdbt_subsample", 0.5, 1)},
            {"boosting_type": "dart", "subsample": hp.uniform("dart_subsample", 0.5, 1)},
            {"boosting_type": "goss", "subsample": 1.0},
        ],
    ),
    "num_leaves": hp.quniform("num_leaves", 4, 30, 1),
    "learning_rate": hp.loguniform("learning_rate", np.log(0.01), np.log(0.2)),
    "min_child_samples": hp.quniform("min_child_samples", 5, 50, 5),
    "colsample_bytree": hp.uniform("colsample_by_tree", 0.6, 1.0),
}

x = sample(space)
subsample = x["boosting_type"].get("subsample", 1.0)
x["boosting_type"] = x["boosting_type"]["boosting_type"]
x["subsample"] = subsample
print(x)

out_file = "gbm_trials.csv"
with open(out_file, "w") as of_connection:
    csv.writer(of_connection).writerow(["loss", "params", "iteration", "train_time"])
ITERATION = 0


def objective(params):
    global ITERATION
    ITERATION += 1
    subsample = params["boosting_type"].get("subsample", 1.0)
    params["boosting_type"] = params["boosting_type"]["boosting_type"]
    params["subsample"] = subsample
    for parameter_name in ["num_leaves", "min_child_samples"]:
        params[parameter_name] = int(params[parameter_name])
    start = timer()
    model = GradientBoostingClassifier(
        n_estimators=20,
        criterion=CRITERION[params["boosting_type"]],
        subsample=params["subsample"],
        max_leaf_nodes=max(2, params["num_leaves"]),
        learning_rate=params["learning_rate"],
        min_samples_leaf=params["min_child_samples"],
        max_features=params["colsample_bytree"],
        random_state=0,
    )
    best_score = cross_val_score(model, X, y, cv=3, scoring="roc_auc").mean()
    run_time = timer() - start
    loss = 1 - best_score
    with open(out_file, "a") as of_connection:
        csv.writer(of_connection).writerow([loss, params, ITERATION, run_time])
    return {"loss": loss, "params": params, "iteration": ITERATION, "train_time": run_time, "status": STATUS_OK}


bayes_trials = Trials()
best = fmin(
    fn=objective,
    space=space,
    algo=tpe.suggest,
    max_evals=MAX_EVALS,
    trials=bayes_trials,
    rstate=np.random.default_rng(50),
)
bayes_trials_results = sorted(bayes_trials.results, key=lambda x: x["loss"])
print(bayes_trials_results[:2])
print(best)
with open(out_file) as fh:
    assert len(fh.readlines()) == MAX_EVALS + 1
