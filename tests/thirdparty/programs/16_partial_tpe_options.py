# Source: configuring TPE through functools.partial, as in hyperopt's tpe.suggest signature and
#   public training scripts (e.g. `algo=partial(tpe.suggest, n_startup_jobs=5)` found with the
#   string "generate_trials_to_calculate("); gamma and n_EI_candidates as in hyperopt's docstrings.
# Changes: a 2-D Branin function instead of a network; 40 evaluations; seeded.
from functools import partial

import numpy as np
from hyperopt import Trials, fmin, hp, tpe


def branin(p):
    x, y = p["x"], p["y"]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * np.cos(x) + 10


space = {"x": hp.uniform("x", -5, 10), "y": hp.uniform("y", 0, 15)}
trials = Trials()
algo = partial(tpe.suggest, n_startup_jobs=5, gamma=0.2, n_EI_candidates=32)
best = fmin(branin, space, algo=algo, max_evals=40, trials=trials, rstate=np.random.default_rng(0))
print(best, min(trials.losses()))
assert min(trials.losses()) < 5.0
