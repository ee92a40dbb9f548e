# Source: hyperopt docs, "01. Basic Tutorial"
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/tutorials/01.BasicTutorial.md
#   (hyperopt project, BSD-3-Clause).
# Changes: max_evals 1000 -> 100, a seeded rstate, the matplotlib plot of the curve dropped,
#   a check that the optimum was found added.
import numpy as np
from hyperopt import fmin, hp, tpe


def objective(x):
    return (x - 3) ** 2 + 2


space = hp.uniform("x", -10, 10)
best = fmin(fn=objective, space=space, algo=tpe.suggest, max_evals=100, rstate=np.random.default_rng(0))
print(best)
assert abs(best["x"] - 3.0) < 1.0, best
