# Source: a pattern reported on hyperopt's issue tracker and Q&A sites ("hyperopt loss is nan"):
#   a correlation-based loss (as in Numerai-style tuning scripts, loss = -corr(pred, target)) that
#   is NaN when a strongly regularised model predicts a constant; hyperopt records the NaN loss and
#   the search goes on, the best trial being a finite one.
# Changes: a Lasso on bundled diabetes data (large alpha zeroes every coefficient); 15 evaluations
#   with rand.suggest; seeded.
import warnings

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, rand
from scipy.stats import pearsonr
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
X, y = load_diabetes(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)


def objective(p):
    pred = Lasso(alpha=p["alpha"]).fit(X_train, y_train).predict(X_valid)
    corr = pearsonr(pred, y_valid)[0]  # NaN for a constant prediction
    return {"loss": -corr, "status": STATUS_OK}


trials = Trials()
best = fmin(
    objective,
    {"alpha": hp.loguniform("alpha", -4, 6)},
    algo=rand.suggest,
    max_evals=15,
    trials=trials,
    rstate=np.random.default_rng(0),
)
n_nan = sum(np.isnan(loss) for loss in trials.losses())
print(best, n_nan)
assert n_nan > 0
