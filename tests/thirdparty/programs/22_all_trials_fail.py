# Source: the guard that wrappers around hyperopt put around fmin when every configuration can
#   fail (e.g. AutoML/feature-selection scripts: `except AllTrialsFailed:` then fall back to
#   defaults); hyperopt.exceptions.AllTrialsFailed raised by Trials.argmin/best_trial
#   (hyperopt/base.py, BSD-3-Clause).
# Changes: an objective that returns STATUS_FAIL for every point; 5 evaluations.
import numpy as np
from hyperopt import STATUS_FAIL, Trials, fmin, hp, rand
from hyperopt.exceptions import AllTrialsFailed

DEFAULTS = {"lr": 0.1}


def objective(params):
    return {"status": STATUS_FAIL, "reason": "model did not converge"}


trials = Trials()
try:
    best = fmin(
        objective,
        {"lr": hp.loguniform("lr", -5, 0)},
        algo=rand.suggest,
        max_evals=5,
        trials=trials,
        rstate=np.random.default_rng(0),
    )
except AllTrialsFailed as exc:
    print("every trial failed:", repr(exc))
    best = DEFAULTS
print(best, trials.statuses())
assert best == DEFAULTS
assert trials.statuses() == ["fail"] * 5
