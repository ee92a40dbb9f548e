# Source: fmin's trials_save_file option (hyperopt >= 0.2.5, fmin docstring, BSD-3-Clause) as used
#   for resumable jobs in public scripts: run with trials_save_file, then later inspect the saved
#   file with pickle.load and read its best trial, then resume by calling fmin again with the same
#   file and a larger max_evals.
# Changes: a quadratic objective; 10 + 5 evaluations; seeded.
import pickle

import numpy as np
from hyperopt import fmin, hp, tpe

space = hp.uniform("x", -10, 10)
best = fmin(
    lambda x: (x - 1) ** 2,
    space,
    algo=tpe.suggest,
    max_evals=10,
    trials_save_file="trials.hyperopt",
    rstate=np.random.default_rng(0),
)
with open("trials.hyperopt", "rb") as fh:
    saved = pickle.load(fh)
print(len(saved.trials), saved.best_trial["result"]["loss"])
assert len(saved.trials) == 10

best = fmin(
    lambda x: (x - 1) ** 2,
    space,
    algo=tpe.suggest,
    max_evals=15,
    trials_save_file="trials.hyperopt",
    rstate=np.random.default_rng(1),
)
with open("trials.hyperopt", "rb") as fh:
    saved = pickle.load(fh)
print(best, len(saved.trials))
assert len(saved.trials) == 15
