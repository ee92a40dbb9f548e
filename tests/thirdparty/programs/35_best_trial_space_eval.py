# Source: the common answer to "how do I get the actual best parameters (not indices) from
#   hyperopt" (Stack Overflow and GitHub issues): space_eval(space, best), or rebuild the point from
#   trials.best_trial['misc']['vals'] keeping only the active labels, and fmin(...,
#   return_argmin=False) which returns the point itself; verbose=False / show_progressbar=False.
# Changes: a conditional space over two scikit-learn regressors on bundled diabetes data;
#   15 evaluations; seeded.
import numpy as np
from hyperopt import Trials, fmin, hp, space_eval, tpe
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsRegressor

X, y = load_diabetes(return_X_y=True)
space = hp.choice(
    "model",
    [
        {"name": "enet", "alpha": hp.loguniform("alpha", -6, 1), "l1_ratio": hp.uniform("l1_ratio", 0, 1)},
        {
            "name": "knn",
            "n_neighbors": hp.choice("n_neighbors", [3, 5, 9, 15]),
            "weights": hp.choice("w", ["uniform", "distance"]),
        },
    ],
)


def objective(p):
    p = dict(p)
    name = p.pop("name")
    model = ElasticNet(**p) if name == "enet" else KNeighborsRegressor(**p)
    return -cross_val_score(model, X, y, cv=3).mean()


trials = Trials()
best = fmin(
    objective,
    space,
    algo=tpe.suggest,
    max_evals=15,
    trials=trials,
    rstate=np.random.default_rng(0),
    verbose=False,
    show_progressbar=False,
)
print("indices:", best)
print("values:", space_eval(space, best))
vals = {k: v[0] for k, v in trials.best_trial["misc"]["vals"].items() if v}
assert space_eval(space, vals) == space_eval(space, best)

point = fmin(
    objective,
    space,
    algo=tpe.suggest,
    max_evals=15,
    rstate=np.random.default_rng(0),
    return_argmin=False,
    show_progressbar=False,
)
print("point:", point)
assert point == space_eval(space, best)
