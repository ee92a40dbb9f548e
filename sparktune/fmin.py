"""``hyperopt.fmin`` names: ``fmin``, ``space_eval``, ``generate_trials_to_calculate``, ``partial``."""

import functools
from typing import Any, Callable

from sparktune._driver import fmin, generate_trials_to_calculate, validate_loss_threshold, validate_timeout
from sparktune._space import space_eval


def fmin_pass_expr_memo_ctrl(f):  # type: ignore[no-untyped-def]
    """Mark ``f`` to be called as ``f(expr=space, memo=values, ctrl=Ctrl)`` (hyperopt's decorator)."""
    f.fmin_pass_expr_memo_ctrl = True
    return f


def partial(fn: Callable[..., Any], **kwargs: Any) -> functools.partial[Any]:
    """``functools.partial(fn, **kwargs)`` that keeps ``fn``'s ``fmin_pass_expr_memo_ctrl`` mark
    (hyperopt's ``partial``; options by keyword only)."""
    rval = functools.partial(fn, **kwargs)
    if hasattr(fn, "fmin_pass_expr_memo_ctrl"):
        rval.fmin_pass_expr_memo_ctrl = fn.fmin_pass_expr_memo_ctrl  # type: ignore[attr-defined]
    return rval


__all__ = [
    "fmin",
    "fmin_pass_expr_memo_ctrl",
    "partial",
    "generate_trials_to_calculate",
    "space_eval",
    "validate_loss_threshold",
    "validate_timeout",
]
