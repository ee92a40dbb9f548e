# Source: two ways of seeding hyperopt with known-good points that recur in public code:
#   fmin(points_to_evaluate=[...]) (hyperopt's fmin docstring) and
#   trials = generate_trials_to_calculate([...]) then fmin(..., trials=trials, max_evals=len(trials.tids) + N)
#   (e.g. the xgboost/lightgbm tuning scripts found with the string "generate_trials_to_calculate(";
#   Ray Tune's HyperOptSearch, Apache-2.0). Points name the choice by its index.
# Changes: a RandomForest on bundled wine data; small budgets; seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe
from hyperopt.fmin import generate_trials_to_calculate
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

X, y = load_wine(return_X_y=True)
space = {
    "n_estimators": hp.quniform("n_estimators", 5, 40, 5),
    "criterion": hp.choice("criterion", ["gini", "entropy"]),
    "max_features": hp.uniform("max_features", 0.2, 1.0),
}


def objective(params):
    clf = RandomForestClassifier(
        n_estimators=int(params["n_estimators"]),
        criterion=params["criterion"],
        max_features=params["max_features"],
        random_state=0,
    )
    return {"loss": -cross_val_score(clf, X, y, cv=3).mean(), "status": STATUS_OK}


start = [{"n_estimators": 10.0, "criterion": 0, "max_features": 0.5}]
trials = Trials()
best = fmin(
    objective,
    space,
    algo=tpe.suggest,
    max_evals=6,
    trials=trials,
    points_to_evaluate=start,
    rstate=np.random.default_rng(0),
)
print(space_eval(space, best), trials.trials[0]["misc"]["vals"])

trials = generate_trials_to_calculate([{"n_estimators": 20.0, "criterion": 1, "max_features": 0.3}])
best = fmin(
    objective,
    space,
    algo=tpe.suggest,
    max_evals=len(trials.tids) + 5,
    trials=trials,
    rstate=np.random.default_rng(1),
)
print(space_eval(space, best), len(trials.trials))
assert len(trials.trials) == 6
assert trials.trials[0]["misc"]["vals"]["criterion"] == [1]
