"""Expression nodes of a search space: hyperparameters, function applications, and arithmetic.

A space is any nesting of dicts, lists and tuples whose leaves are constants or these nodes.
``_space.compile_space`` turns it into a ``SearchSpace`` once; nothing here is interpreted while
trials run except ``evaluate``, which builds the objective's argument from the sampled values.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Mapping

from sparktune._distributions import Categorical, Distribution, RandInt, Uniform


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

    # -- hyperopt's pyll graph, read-only (see sparktune.pyll.dfs) ----------------------------
    # hyperopt builds hp.uniform("x", 0, 1) as float(hyperopt_param(Literal("x"), uniform(0, 1)))
    # and hp.choice("c", options) as switch(hyperopt_param(Literal("c"), randint(n)), *options).
    # A Param shows itself as the "hyperopt_param" node (a choice: as the "switch" node, whose
    # first input is the "hyperopt_param"), so code that navigates those graphs finds the nodes.

    @property
    def name(self) -> str:
        """``"switch"`` for a choice, else ``"hyperopt_param"`` (hyperopt's node names)."""
        return "switch" if self.options is not None else "hyperopt_param"

    @property
    def pos_args(self) -> list[Any]:
        """A choice: ``[hyperopt_param node, *options]``; else ``[Literal(label), distribution node]``."""
        if self.options is not None:
            return [HyperoptParamNode(self), *(as_node(o) for o in self.options)]
        return HyperoptParamNode(self).pos_args

    @property
    def named_args(self) -> list[list[Any]]:
        return []

    @property
    def arg(self) -> dict[str, Any]:
        """``{"label": Literal(label), "obj": distribution node}`` (a choice: its options by position)."""
        if self.options is not None:
            return {"pos": HyperoptParamNode(self), "args": [as_node(o) for o in self.options]}
        return HyperoptParamNode(self).arg

    def inputs(self) -> list[Any]:
        return self.pos_args


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

    @property
    def pos_args(self) -> list[Any]:
        """The positional arguments (constants shown as ``Literal`` nodes), as in hyperopt."""
        return [as_node(a) for a in self.args]

    @property
    def named_args(self) -> list[list[Any]]:
        """``[[name, argument], ...]`` sorted by name, as in hyperopt."""
        return [[k, as_node(v)] for k, v in sorted(self.kwargs.items())]

    def inputs(self) -> list[Any]:
        return self.pos_args + [v for _, v in self.named_args]


class Literal:
    """A constant in hyperopt's graph view (``node.obj`` is the constant, ``node.name`` ``"literal"``)."""

    __slots__ = ("obj",)
    name = "literal"

    def __init__(self, obj: Any = None) -> None:
        self.obj = obj

    pos_args: list[Any] = []
    named_args: list[list[Any]] = []
    arg: dict[str, Any] = {}

    def inputs(self) -> list[Any]:
        return []

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Literal) and other.obj is self.obj

    def __hash__(self) -> int:
        return hash((Literal, id(self.obj)))

    def __repr__(self) -> str:
        return f"Literal{{{self.obj!r}}}"


class _ParamView:
    """A node of hyperopt's graph that stands for part of a ``Param`` (equal when the Param is)."""

    __slots__ = ("param",)

    def __init__(self, param: Param) -> None:
        self.param = param

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.param is self.param

    def __hash__(self) -> int:
        return hash((type(self), id(self.param)))

    @property
    def named_args(self) -> list[list[Any]]:
        return []

    def inputs(self) -> list[Any]:
        return self.pos_args  # type: ignore[attr-defined, no-any-return]


class HyperoptParamNode(_ParamView):
    """hyperopt's ``hyperopt_param(Literal(label), distribution)`` node of a ``Param``."""

    name = "hyperopt_param"

    @property
    def label(self) -> str:
        return self.param.label

    @property
    def pos_args(self) -> list[Any]:
        return [Literal(self.param.label), DistributionNode(self.param)]

    @property
    def arg(self) -> dict[str, Any]:
        return {"label": Literal(self.param.label), "obj": DistributionNode(self.param)}

    def __repr__(self) -> str:
        return f"hyperopt_param({self.param.label!r})"


class DistributionNode(_ParamView):
    """hyperopt's distribution node of a ``Param`` (``randint``, ``uniform``, ``qloguniform``, ...).

    ``name`` is hyperopt's name: ``randint`` for ``choice`` and ``randint``, ``categorical`` for a
    ``pchoice`` with unequal probabilities, ``[q][log]uniform``, ``[q][log]normal``.
    """

    @property
    def name(self) -> str:
        d = self.param.dist
        if isinstance(d, Categorical):
            return "randint" if len(set(d.probs)) == 1 else "categorical"
        if isinstance(d, RandInt):
            return "randint"
        kind = "uniform" if isinstance(d, Uniform) else "normal"
        return f"{'q' if d.q is not None else ''}{'log' if d.log else ''}{kind}"

    @property
    def pos_args(self) -> list[Any]:
        """The distribution's arguments as ``Literal`` nodes, in hyperopt's order."""
        d = self.param.dist
        if isinstance(d, Categorical):
            return [Literal(len(d.probs))] if len(set(d.probs)) == 1 else [Literal(list(d.probs))]
        if isinstance(d, RandInt):
            return [Literal(d.high)] if d.low == 0 else [Literal(d.low), Literal(d.high)]
        args: tuple[float, ...] = (d.low, d.high) if isinstance(d, Uniform) else (d.mu, d.sigma)
        return [Literal(v) for v in (*args, *(() if d.q is None else (d.q,)))]

    @property
    def arg(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"{self.name}({self.param.label!r})"


def as_node(obj: Any) -> Any:
    """``obj`` as a node of the graph view: nodes as they are, anything else as a ``Literal``."""
    return obj if isinstance(obj, (Expr, Literal, _ParamView)) else Literal(obj)


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
