"""hyperopt's ``pyll`` compatibility: ``scope.int``, ``scope.float`` and user-defined functions.

``scope.NAME(*args)`` returns a node that applies the function to the evaluated arguments when a
trial's params are built. ``@scope.define`` registers a function of one's own, as in hyperopt.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from sparktune._expr import Apply, Expr, Param, evaluate


def _switch(index: Any, *options: Any) -> Any:
    return options[int(index)]


class _Scope:
    """Registry of functions usable on expressions (``scope.int(hp.quniform(...))``)."""

    def __init__(self) -> None:
        self._fns: dict[str, Callable[..., Any]] = {
            "int": int,
            "float": float,
            "bool": bool,
            "abs": abs,
            "len": len,
            "max": max,
            "min": min,
            "sum": sum,
            "round": round,
            "exp": math.exp,
            "log": math.log,
            "sqrt": math.sqrt,
            "maximum": np.maximum,
            "minimum": np.minimum,
            "switch": _switch,
            "pos_args": lambda *a: list(a),
            "dict": dict,
            "list": list,
            "tuple": tuple,
        }

    def define(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``fn`` so that ``scope.<name>(...)`` builds a node applying it (decorator)."""
        self._fns[fn.__name__] = fn
        return fn

    define_pure = define

    def undefine(self, fn: Callable[..., Any] | str) -> None:
        self._fns.pop(fn if isinstance(fn, str) else fn.__name__, None)

    def __getattr__(self, name: str) -> Callable[..., Apply]:
        fns = self.__dict__.get("_fns", {})
        if name not in fns:
            raise AttributeError(f"scope has no function {name!r}; register one with @scope.define")
        fn = fns[name]

        def build(*args: Any, **kwargs: Any) -> Apply:
            return Apply(name, fn, args, kwargs)

        build.__name__ = name
        return build


scope = _Scope()


def as_apply(obj: Any) -> Any:
    """Identity on spaces: sparktune needs no wrapping of literal containers."""
    return obj


def rec_eval(expr: Any, memo: dict[str, Any] | None = None) -> Any:
    """Evaluate a space whose labels have values in ``memo`` (label -> value)."""
    return evaluate(expr, memo or {})


__all__ = ["Apply", "Expr", "Param", "as_apply", "rec_eval", "scope"]
