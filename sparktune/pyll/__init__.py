"""hyperopt's ``pyll`` compatibility: ``scope``, graph navigation and ``stochastic.sample``.

``scope.NAME(*args)`` returns a node that applies the function to the evaluated arguments when a
trial's params are built. ``@scope.define`` registers a function of one's own, as in hyperopt.

``dfs``, ``clone``, ``rec_eval`` and ``as_apply`` work on sparktune spaces as hyperopt's do on
its graphs (see ``sparktune.pyll._graph``); ``stochastic.sample(space, rng=...)`` draws one
configuration from the prior.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from sparktune._expr import Apply, DistributionNode, Expr, HyperoptParamNode, Literal, Param


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

    def define_if_new(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``define``, unless a function of that name is registered already (then ``fn`` is not)."""
        if fn.__name__ not in self._fns:
            self._fns[fn.__name__] = fn
        return fn

    def define_info(self, o_len: int | None = None, pure: bool = False) -> Callable[..., Any]:
        """hyperopt's ``@scope.define_info(o_len=...)``: ``define`` (``o_len`` and ``pure`` do not matter here)."""
        return self.define

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


from sparktune.pyll import stochastic  # noqa: E402 - hyperopt's pyll exposes it as pyll.stochastic
from sparktune.pyll._graph import as_apply, clone, clone_merge, dfs, rec_eval, toposort  # noqa: E402

__all__ = [
    "Apply",
    "DistributionNode",
    "Expr",
    "HyperoptParamNode",
    "Literal",
    "Param",
    "as_apply",
    "clone",
    "clone_merge",
    "dfs",
    "rec_eval",
    "scope",
    "stochastic",
    "toposort",
]
