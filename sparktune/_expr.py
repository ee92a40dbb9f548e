"""Expression nodes of a search space: hyperparameters, function applications, and arithmetic.

A space is any nesting of dicts, lists and tuples whose leaves are constants or these nodes.
``_space.compile_space`` turns it into a ``SearchSpace`` once; nothing here is interpreted while
trials run except ``evaluate``, which builds the objective's argument from the sampled values.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Mapping

from sparktune._distributions import Categorical, Distribution


class Expr:
    """Base of every node. Supports arithmetic with numbers and other nodes (as hyperopt's pyll)."""

    __slots__ = ()

    def __add__(self, other: Any) -> Apply:
        return Apply("add", operator.add, (self, other))

    def __radd__(self, other: Any) -> Apply:
        return Apply("add", operator.add, (other, self))

    def __sub__(self, other: Any) -> Apply:
        return Apply("sub", operator.sub, (self, other))

    def __rsub__(self, other: Any) -> Apply:
        return Apply("sub", operator.sub, (other, self))

    def __mul__(self, other: Any) -> Apply:
        return Apply("mul", operator.mul, (self, other))

    def __rmul__(self, other: Any) -> Apply:
        return Apply("mul", operator.mul, (other, self))

    def __truediv__(self, other: Any) -> Apply:
        return Apply("truediv", operator.truediv, (self, other))

    def __rtruediv__(self, other: Any) -> Apply:
        return Apply("truediv", operator.truediv, (other, self))

    def __floordiv__(self, other: Any) -> Apply:
        return Apply("floordiv", operator.floordiv, (self, other))

    def __rfloordiv__(self, other: Any) -> Apply:
        return Apply("floordiv", operator.floordiv, (other, self))

    def __mod__(self, other: Any) -> Apply:
        return Apply("mod", operator.mod, (self, other))

    def __pow__(self, other: Any) -> Apply:
        return Apply("pow", operator.pow, (self, other))

    def __rpow__(self, other: Any) -> Apply:
        return Apply("pow", operator.pow, (other, self))

    def __neg__(self) -> Apply:
        return Apply("neg", operator.neg, (self,))

    def __pos__(self) -> Apply:
        return Apply("pos", operator.pos, (self,))

    def __abs__(self) -> Apply:
        return Apply("abs", abs, (self,))

    def __getitem__(self, key: Any) -> Apply:
        return Apply("getitem", operator.getitem, (self, key))


class Param(Expr):
    """One labelled hyperparameter.

    For a ``Categorical`` distribution, ``options`` holds the choice's options (constants or whole
    sub-spaces) and the node evaluates to the chosen option; otherwise it evaluates to its value.
    """

    __slots__ = ("label", "dist", "options")

    def __init__(self, label: str, dist: Distribution, options: tuple[Any, ...] | None = None) -> None:
        self.label = label
        self.dist = dist
        self.options = options
        if isinstance(dist, Categorical) and (options is None or len(options) != dist.n_options):
            raise ValueError(f"choice {label!r} needs one option per probability")

    def __repr__(self) -> str:
        return f"Param({self.label!r}, {self.dist!r})"


class Apply(Expr):
    """A function applied to (possibly symbolic) arguments: ``scope.int(x)``, ``1 + x``, ..."""

    __slots__ = ("name", "fn", "args", "kwargs")

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.fn = fn
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def __repr__(self) -> str:
        return f"Apply({self.name!r}, {self.args!r})"


def evaluate(node: Any, values: Mapping[str, Any]) -> Any:
    """Build the concrete object for ``node`` given each active label's value.

    ``values`` maps label -> value (the option index for choices). Only the chosen branch of each
    choice is evaluated, so inactive labels need no value.
    """
    if isinstance(node, Param):
        if node.label not in values:
            raise KeyError(node.label)
        v = values[node.label]
        if node.options is not None:
            idx = int(v)
            if not 0 <= idx < len(node.options):
                raise ValueError(
                    f"choice index must be in [0, {len(node.options)}), got {v!r} for label {node.label!r}"
                )
            return evaluate(node.options[idx], values)
        return v
    if isinstance(node, Apply):
        args = [evaluate(a, values) for a in node.args]
        kwargs = {k: evaluate(a, values) for k, a in node.kwargs.items()}
        return node.fn(*args, **kwargs)
    if isinstance(node, dict):
        return {k: evaluate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [evaluate(v, values) for v in node]
    if isinstance(node, tuple):
        return tuple(evaluate(v, values) for v in node)
    return node
