# Source: hyperopt docs, "Defining a Search Space", section "Adding Non-Stochastic Expressions with
#   pyll": a function registered with @scope.define used inside the space
#   (docs/templates/getting-started/search_spaces.md, BSD-3-Clause).
# Changes: the registered function builds a scikit-learn Ridge from its sampled arguments;
#   bundled diabetes data; 12 evaluations; seeded.
import numpy as np
from hyperopt import Trials, fmin, hp, tpe
from hyperopt.pyll import scope
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score


@scope.define
def foo(a, b=0):
    return a + b / 2


@scope.define
def make_ridge(alpha, fit_intercept):
    return Ridge(alpha=alpha, fit_intercept=fit_intercept)


X, y = load_diabetes(return_X_y=True)
space = {
    "model": scope.make_ridge(hp.loguniform("alpha", -5, 3), hp.choice("fit_intercept", [True, False])),
    "offset": scope.foo(hp.uniform("a", 0, 10), hp.uniform("b", 0, 10)),
}


def objective(p):
    return -cross_val_score(p["model"], X, y, cv=3).mean() + 0.001 * p["offset"]


trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=12, trials=trials, rstate=np.random.default_rng(0))
print(best)
