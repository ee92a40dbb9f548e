"""``hyperopt.pyll.base`` names."""

from sparktune.pyll import Apply, Expr, Param, as_apply, rec_eval, scope

__all__ = ["Apply", "Expr", "Param", "as_apply", "rec_eval", "scope"]
