# Source: hyperopt docs, "Defining a Function to Minimize", the example that saves the Trials object
#   with pickle, loads it and continues to 200 evaluations
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/getting-started/minimizing_functions.md
#   (hyperopt project, BSD-3-Clause).
# Changes: 100 + 100 evaluations -> 20 + 20, files closed with `with`, seeded rstate.
import pickle

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe


def objective(x):
    return {"loss": x**2, "status": STATUS_OK}


trials = Trials()
best = fmin(
    objective,
    space=hp.uniform("x", -10, 10),
    algo=tpe.suggest,
    trials=trials,
    max_evals=20,
    rstate=np.random.default_rng(0),
)
with open("my_trials.pkl", "wb") as fh:
    pickle.dump(trials, fh)
with open("my_trials.pkl", "rb") as fh:
    trials = pickle.load(fh)

# max_evals counts the trials already in the database.
best = fmin(
    objective,
    space=hp.uniform("x", -10, 10),
    algo=tpe.suggest,
    trials=trials,
    max_evals=40,
    rstate=np.random.default_rng(1),
)
print(best, len(trials.trials))
assert len(trials.trials) == 40
