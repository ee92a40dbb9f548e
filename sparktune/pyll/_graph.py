"""hyperopt's pyll graph functions over sparktune's spaces: ``dfs``, ``clone``, ``rec_eval``.

A sparktune space is plain dicts/lists/tuples holding ``Param`` and ``Apply`` nodes. For code
written against hyperopt's graph, a ``Param`` also shows hyperopt's nodes: ``switch`` (a choice),
``hyperopt_param`` (``HyperoptParamNode``; ``node.arg["label"].obj`` is the label) and the
distribution (``DistributionNode``: ``randint``, ``uniform``, ...). ``dfs`` lists them, and
``clone``/``rec_eval`` take any of them as ``memo`` keys.
"""

from __future__ import annotations

from typing import Any, Mapping

from sparktune._expr import Apply, DistributionNode, Expr, HyperoptParamNode, Literal, Param, _ParamView, evaluate
from sparktune.exceptions import InvalidTrial


def dfs(expr: Any) -> list[Any]:
    """Every node of ``expr``, each once, inputs before the nodes that use them (hyperopt's order).

    Nodes are ``Apply`` nodes (``scope.*`` and arithmetic) and, for each hyperparameter, its
    distribution node, its ``hyperopt_param`` node and, for a choice, the ``Param`` itself as the
    ``switch`` node (for other hyperparameters the ``Param`` is the ``hyperopt_param`` node).
    Constants are not listed (hyperopt lists them as ``Literal`` nodes); dicts, lists and tuples
    are walked through, not listed.
    """
    seq: list[Any] = []
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for v in node.values():
                visit(v)
            return
        if isinstance(node, (list, tuple)):
            for v in node:
                visit(v)
            return
        if not isinstance(node, Expr) or id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, Param):
            seq.append(DistributionNode(node))
            if node.options is not None:
                seq.append(HyperoptParamNode(node))
                for option in node.options:
                    visit(option)
        elif isinstance(node, Apply):
            for a in node.args:
                visit(a)
            for _, a in sorted(node.kwargs.items()):
                visit(a)
        seq.append(node)

    visit(expr)
    return seq


toposort = dfs


def as_apply(obj: Any) -> Any:
    """``obj`` itself: sparktune spaces need no wrapping (a ``Literal`` gives its constant)."""
    return obj.obj if isinstance(obj, Literal) else obj


def _switch(index: Any, *options: Any) -> Any:
    return options[int(index)]


def clone(expr: Any, memo: Mapping[Any, Any] | None = None) -> Any:
    """A copy of ``expr`` with the nodes in ``memo`` replaced by their values.

    ``memo`` keys may be nodes from ``dfs`` or ``pos_args`` navigation, or labels:

    - a choice's distribution or ``hyperopt_param`` node, or its label: the value is an option
      index, and the choice is replaced by that option (hyperopt's partial-sampling recipe);
    - any other hyperparameter's nodes or label: the hyperparameter is replaced by the value;
    - a choice ``Param`` (the ``switch`` node) or an ``Apply`` node: replaced by the value.

    The value may be a constant, a ``Literal`` or an expression (``hp.*``). A replaced
    hyperparameter is no longer part of the space: ``fmin`` does not report it in ``argmin``
    (hyperopt reports it with its fixed value).
    """
    by_label: dict[str, Any] = {}
    whole: dict[int, Any] = {}
    for key, value in (memo or {}).items():
        value = as_apply(value)
        if isinstance(key, str):
            by_label[key] = value
        elif isinstance(key, _ParamView):
            by_label[key.param.label] = value
        elif isinstance(key, Param) and key.options is None:
            by_label[key.label] = value
        elif isinstance(key, (Param, Apply)):
            whole[id(key)] = value
        else:
            raise TypeError(
                f"clone: memo keys must be nodes of the space (from pyll.dfs or pos_args) or labels, got {key!r}"
            )
    done: dict[int, Any] = {}

    def rebuild(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: rebuild(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rebuild(v) for v in node]
        if isinstance(node, tuple):
            return tuple(rebuild(v) for v in node)
        if not isinstance(node, Expr):
            return node
        if id(node) in done:
            return done[id(node)]
        if id(node) in whole:
            out = whole[id(node)]
        elif isinstance(node, Param) and node.label in by_label:
            value = by_label[node.label]
            if node.options is None:
                out = value
            elif isinstance(value, Expr):
                out = Apply("switch", _switch, (value, *(rebuild(o) for o in node.options)))
            else:
                idx = int(value)
                if not 0 <= idx < len(node.options):
                    raise ValueError(
                        f"clone: a choice index must be in [0, {len(node.options)}), got {value!r} "
                        f"for label {node.label!r}"
                    )
                out = rebuild(node.options[idx])
        elif isinstance(node, Param):
            out = (
                node if node.options is None else Param(node.label, node.dist, tuple(rebuild(o) for o in node.options))
            )
        else:
            assert isinstance(node, Apply)
            out = Apply(
                node.name,
                node.fn,
                tuple(rebuild(a) for a in node.args),
                {k: rebuild(v) for k, v in node.kwargs.items()},
            )
        done[id(node)] = out
        return out

    return rebuild(expr)


def clone_merge(expr: Any, memo: Mapping[Any, Any] | None = None, merge_literals: bool = False) -> Any:
    """``clone`` (hyperopt's version also merges equal sub-expressions; the values are the same)."""
    return clone(expr, memo)


def rec_eval(
    expr: Any,
    deepcopy_inputs: bool = False,
    memo: Mapping[Any, Any] | None = None,
    max_program_len: Any = None,
    memo_gc: bool = True,
    print_trace: bool = False,
    print_node_on_error: bool = True,
) -> Any:
    """Evaluate ``expr`` with the hyperparameter values in ``memo``, as hyperopt's ``rec_eval``.

    ``memo`` maps nodes (from ``dfs``, e.g. every node named ``"hyperopt_param"``) or labels to
    values: the option index for a choice's ``hyperopt_param`` node or label, the value for the
    others (see ``clone``). ``fmin``'s ``argmin`` is such a mapping by label. The other
    arguments are accepted for hyperopt compatibility and ignored.

    Raises:
        InvalidTrial: an active hyperparameter has no value in ``memo`` (draw a whole
            configuration with ``sparktune.pyll.stochastic.sample(space, rng=...)``).
    """
    if deepcopy_inputs not in (0, 1, False, True):
        raise ValueError(
            f"rec_eval: `deepcopy_inputs` must be a bool, got {deepcopy_inputs!r} "
            "(pass the values as rec_eval(expr, memo=...))"
        )
    try:
        return evaluate(clone(expr, memo), {})
    except KeyError as exc:
        raise InvalidTrial(
            f"rec_eval: no value for the hyperparameter {exc.args[0]!r} in memo; give it (label or node -> "
            "value), or draw a whole configuration with sparktune.pyll.stochastic.sample(space, rng=...)"
        ) from None


__all__ = ["as_apply", "clone", "clone_merge", "dfs", "rec_eval", "toposort"]
