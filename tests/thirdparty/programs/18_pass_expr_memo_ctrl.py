# Source: hyperopt docs, "The Ctrl Object for Realtime Communication with MongoDB": the
#   fmin_pass_expr_memo_ctrl decorator, pyll.rec_eval(expr, memo=memo) to build the point, and the
#   ctrl handle (minimizing_functions.md, BSD-3-Clause); the same shape as hyperopt's own
#   test_fmin.test_pass_expr_memo_ctrl.
# Changes: a quadratic objective; 20 evaluations; seeded; the ctrl's current trial id recorded.
import numpy as np
from hyperopt import Trials, fmin, fmin_pass_expr_memo_ctrl, hp, pyll, tpe

seen = []


@fmin_pass_expr_memo_ctrl
def objective(expr, memo, ctrl):
    x = pyll.rec_eval(expr, memo=memo)
    seen.append(ctrl.current_trial["tid"])
    return (x["a"] - 2) ** 2 + x["b"]


trials = Trials()
best = fmin(
    objective,
    {"a": hp.uniform("a", -5, 5), "b": hp.choice("b", [0.0, 1.0])},
    algo=tpe.suggest,
    max_evals=20,
    trials=trials,
    rstate=np.random.default_rng(0),
)
print(best, seen[:5])
assert sorted(seen) == list(range(20))
