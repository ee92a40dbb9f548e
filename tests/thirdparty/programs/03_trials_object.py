# Source: hyperopt docs, "Defining a Function to Minimize" (sections "Attaching Extra Information via
#   the Trials Object" and "The Trials Object")
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/getting-started/minimizing_functions.md
#   (hyperopt project, BSD-3-Clause).
# Changes: max_evals 100 -> 30, seeded rstate, prints of the documented Trials views added.
import pickle
import time

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe


def objective(x):
    return {
        "loss": x**2,
        "status": STATUS_OK,
        "eval_time": time.time(),
        "other_stuff": {"type": None, "value": [0, 1, 2]},
        "attachments": {"time_module": pickle.dumps(time.time)},
    }


trials = Trials()
best = fmin(
    objective,
    space=hp.uniform("x", -10, 10),
    algo=tpe.suggest,
    max_evals=30,
    trials=trials,
    rstate=np.random.default_rng(0),
)
print(best)
print(len(trials.trials), trials.results[0]["other_stuff"])
print(trials.losses()[:3], trials.statuses()[:3])
msg = trials.trial_attachments(trials.trials[5])["time_module"]
time_module = pickle.loads(msg)
assert time_module is time.time
assert len(trials.losses()) == 30 and set(trials.statuses()) == {"ok"}
