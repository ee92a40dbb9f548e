"""``hyperopt.fmin`` names: ``fmin``, ``space_eval``, ``generate_trials_to_calculate``."""

from sparktune._driver import fmin, generate_trials_to_calculate, validate_loss_threshold, validate_timeout
from sparktune._space import space_eval


def fmin_pass_expr_memo_ctrl(f):  # type: ignore[no-untyped-def]
    """Mark ``f`` to be called as ``f(expr=space, memo=values, ctrl=Ctrl)`` (hyperopt's decorator)."""
    f.fmin_pass_expr_memo_ctrl = True
    return f


__all__ = [
    "fmin",
    "fmin_pass_expr_memo_ctrl",
    "generate_trials_to_calculate",
    "space_eval",
    "validate_loss_threshold",
    "validate_timeout",
]
