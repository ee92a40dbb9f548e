# Source: hyperopt's mix.suggest docstring example (algo=partial(mix.suggest, p_suggest=[(.1,
#   rand.suggest), (.2, anneal.suggest), (.7, tpe.suggest)])), hyperopt/mix.py, BSD-3-Clause;
#   anneal.suggest and rand.suggest used on their own as in the hyperopt docs' overview.
# Changes: a noisy quadratic objective; 30 evaluations each; seeded.
from functools import partial

import numpy as np
from hyperopt import Trials, anneal, fmin, hp, mix, rand, tpe

space = {"x": hp.uniform("x", -5, 5), "k": hp.quniform("k", 0, 10, 1)}


def objective(p):
    return (p["x"] - 1.5) ** 2 + (p["k"] - 4) ** 2


for name, algo in [
    ("anneal", anneal.suggest),
    ("rand", rand.suggest),
    ("mix", partial(mix.suggest, p_suggest=[(0.1, rand.suggest), (0.2, anneal.suggest), (0.7, tpe.suggest)])),
]:
    trials = Trials()
    best = fmin(objective, space, algo=algo, max_evals=30, trials=trials, rstate=np.random.default_rng(5))
    print(name, best, min(trials.losses()))
