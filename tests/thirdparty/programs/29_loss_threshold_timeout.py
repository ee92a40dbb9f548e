# Source: fmin's loss_threshold and timeout arguments (hyperopt fmin docstring, BSD-3-Clause; the
#   Databricks "Hyperopt concepts" page lists both): stop once the loss is good enough, or after a
#   number of seconds.
# Changes: a 1-D quadratic with an easy threshold, then a slow objective with a 1 s timeout.
import time

import numpy as np
from hyperopt import Trials, fmin, hp, tpe

trials = Trials()
best = fmin(
    lambda x: (x - 2) ** 2,
    hp.uniform("x", -10, 10),
    algo=tpe.suggest,
    max_evals=500,
    loss_threshold=0.5,
    trials=trials,
    rstate=np.random.default_rng(0),
)
print(best, len(trials.trials))
assert min(trials.losses()) <= 0.5 and len(trials.trials) < 500


def slow(x):
    time.sleep(0.2)
    return x**2


trials = Trials()
t0 = time.time()
best = fmin(slow, hp.uniform("x", -1, 1), algo=tpe.suggest, max_evals=100, timeout=1, trials=trials)
print(best, len(trials.trials), round(time.time() - t0, 1))
assert len(trials.trials) < 100 and time.time() - t0 < 10
