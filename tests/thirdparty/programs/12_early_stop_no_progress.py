# Source: hyperopt's early-stopping helper as used in public projects, e.g. fugue-project/tune
#   (tune_hyperopt tests: early_stop_fn=no_progress_loss(...), Apache-2.0) and the hyperopt README
#   section on early_stop_fn; the Ridge objective follows the common "tune alpha on a regression"
#   blog pattern.
# Changes: bundled diabetes data, Ridge regression, 200 max evals with a stop after 10 trials
#   without progress; seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from hyperopt.early_stop import no_progress_loss
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

X, y = load_diabetes(return_X_y=True)


def objective(params):
    score = cross_val_score(Ridge(alpha=params["alpha"]), X, y, cv=3, scoring="neg_mean_squared_error").mean()
    return {"loss": -score, "status": STATUS_OK}


trials = Trials()
best = fmin(
    objective,
    {"alpha": hp.loguniform("alpha", np.log(1e-4), np.log(1e3))},
    algo=tpe.suggest,
    max_evals=200,
    trials=trials,
    early_stop_fn=no_progress_loss(10),
    rstate=np.random.default_rng(0),
)
print(best, len(trials.trials))
assert 10 < len(trials.trials) < 200
