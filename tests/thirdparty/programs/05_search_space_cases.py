# Source: hyperopt docs, "Defining a Search Space" (the 'case 1' / 'case 2' example, sampling with
#   hyperopt.pyll.stochastic, and space_eval on the result of fmin)
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/getting-started/search_spaces.md
#   and the landing-page example in the hyperopt README (hyperopt project, BSD-3-Clause).
# Changes: max_evals 100 -> 50, seeded rstate, Python 3 prints.
import hyperopt.pyll.stochastic
import numpy as np
from hyperopt import fmin, hp, space_eval, tpe

space = hp.choice(
    "a",
    [
        ("case 1", 1 + hp.lognormal("c1", 0, 1)),
        ("case 2", hp.uniform("c2", -10, 10)),
    ],
)
for _ in range(3):
    print(hyperopt.pyll.stochastic.sample(space))


def objective(args):
    case, val = args
    if case == "case 1":
        return val
    else:
        return val**2


best = fmin(objective, space, algo=tpe.suggest, max_evals=50, rstate=np.random.default_rng(3))
print(best)
print(space_eval(space, best))
assert space_eval(space, best)[0] in ("case 1", "case 2")
