# Source: hp.randint with its bound passed by keyword (hp.randint("batch", high=64)), as user code
#   writes it after reading "hp.randint(label, low, high)" in the hyperopt docs; with tpe.suggest
#   hyperopt 0.3 fails on it once TPE takes over from the random start (TypeError in
#   ap_randint_sampler).
# Changes: a toy objective; 30 evaluations (TPE takes over after 20 random ones); seeded.
import numpy as np
from hyperopt import Trials, fmin, hp, tpe

space = {"batch": hp.randint("batch", high=64), "depth": hp.randint("depth", 1, 6)}
trials = Trials()
best = fmin(
    lambda p: abs(p["batch"] - 32) + p["depth"],
    space,
    algo=tpe.suggest,
    max_evals=30,
    trials=trials,
    rstate=np.random.default_rng(0),
)
print(best)
assert 0 <= best["batch"] < 64
