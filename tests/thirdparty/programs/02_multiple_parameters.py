# Source: hyperopt docs, "02. MultipleParameterTutorial"
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/tutorials/02.MultipleParameterTutorial.md
#   (hyperopt project, BSD-3-Clause).
# Changes: max_evals cut (1000 -> 150, 100 -> 60), seeded rstate, the 3-D plot dropped.
import numpy as np
from hyperopt import fmin, hp, tpe


def objective(params):
    x, y = params["x"], params["y"]
    return np.sin(np.sqrt(x**2 + y**2))


space = {"x": hp.uniform("x", -6, 6), "y": hp.uniform("y", -6, 6)}
best = fmin(fn=objective, space=space, algo=tpe.suggest, max_evals=150, rstate=np.random.default_rng(1))
print(best)


def f(params):
    x1, x2 = params["x1"], params["x2"]
    if x1 == "james":
        return -1 * x2
    if x1 == "max":
        return 2 * x2
    if x1 == "wansoo":
        return -3 * x2


search_space = {
    "x1": hp.choice("x1", ["james", "max", "wansoo"]),
    "x2": hp.randint("x2", -5, 5),
}
best = fmin(fn=f, space=search_space, algo=tpe.suggest, max_evals=60, rstate=np.random.default_rng(2))
print(best)
assert best["x1"] in (0, 1, 2) and -5 <= best["x2"] < 5
