# Source: hyperopt docs, "Defining a Function to Minimize": status 'fail' for points where the
#   function is undefined (minimizing_functions.md, BSD-3-Clause); the pattern of catching an
#   invalid scikit-learn parameter combination (penalty/solver) and returning STATUS_FAIL is the
#   one recommended in answers to "hyperopt LogisticRegression solver penalty incompatible".
# Changes: bundled breast-cancer data; 15 evaluations on half the rows with rand.suggest; seeded.
import warnings

import numpy as np
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, rand
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

warnings.filterwarnings("ignore")
X, y = load_breast_cancer(return_X_y=True)
X, y = X[::2, :8], y[::2]
space = {
    "penalty": hp.choice("penalty", ["l1", "l2", "elasticnet"]),
    "solver": hp.choice("solver", ["lbfgs", "liblinear", "saga"]),
    "C": hp.loguniform("C", -4, 2),
}


def objective(params):
    try:
        clf = LogisticRegression(max_iter=200, l1_ratio=0.5 if params["penalty"] == "elasticnet" else None, **params)
        acc = cross_val_score(clf, X, y, cv=3, error_score="raise").mean()
    except ValueError as exc:
        return {"status": STATUS_FAIL, "failure": str(exc)[:80]}
    return {"loss": -acc, "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=rand.suggest, max_evals=15, trials=trials, rstate=np.random.default_rng(0))
statuses = trials.statuses()
print(best, statuses.count("ok"), statuses.count("fail"))
print(trials.best_trial["result"], len(trials.losses()))
assert statuses.count("fail") > 0 and statuses.count("ok") > 0
assert trials.losses().count(None) == statuses.count("fail")
