# Source: hyperopt's catch_eval_exceptions=True (fmin docstring) and its own test
#   test_fmin/test_catch_eval_exceptions (hyperopt, BSD-3-Clause): raising evaluations are kept
#   as JOB_STATE_ERROR trials with misc['error'] = (type, message), out of trials.trials, and the
#   search goes on.
# Changes: a KNN whose n_neighbors can exceed the training-fold size (sklearn raises ValueError);
#   20 evaluations; seeded.
import numpy as np
from hyperopt import JOB_STATE_ERROR, Trials, fmin, hp, tpe
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

X, y = load_iris(return_X_y=True)
X, y = X[::5], y[::5]  # 30 rows, 20 per training fold


def objective(params):
    clf = KNeighborsClassifier(n_neighbors=int(params["k"]))
    return -cross_val_score(clf, X, y, cv=3, error_score="raise").mean()


trials = Trials()
best = fmin(
    objective,
    {"k": hp.quniform("k", 1, 40, 1)},
    algo=tpe.suggest,
    max_evals=20,
    trials=trials,
    catch_eval_exceptions=True,
    rstate=np.random.default_rng(0),
)
errors = [t for t in trials._dynamic_trials if t["state"] == JOB_STATE_ERROR]
print(best, len(trials.trials), len(errors))
print(errors[0]["misc"]["error"][0] if errors else None)
assert errors and all("ValueError" in t["misc"]["error"][0] for t in errors)
assert len(trials.trials) + len(errors) == 20
assert best["k"] <= 20
