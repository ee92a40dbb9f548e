"""``hyperopt.base`` names above the trial store: ``Domain``, ``trials_from_docs``, ``spec_from_misc``.

``sparktune.base`` resolves these (and ``Trials``, ``Ctrl``) from here on first use.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from sparktune._driver import Ctrl
from sparktune._expr import DistributionNode
from sparktune._space import compile_space, space_eval
from sparktune._trials import Trials
from sparktune._worker import normalize_result
from sparktune.base import STATUS_NEW
from sparktune.pyll._graph import dfs


class Domain:
    """hyperopt's ``Domain(fn, expr)``: an objective and its search space.

    Used to call an algorithm's ``suggest(new_ids, domain, trials, seed)`` directly and to
    evaluate one configuration as ``fmin`` would. The space is compiled when the domain is made,
    so a bad space fails here, naming the label.

    Attributes:
        fn: the objective.
        expr: the search space as given.
        params: label -> its distribution node (see the property).
        pass_expr_memo_ctrl: call ``fn(expr=..., memo=..., ctrl=...)`` instead of ``fn(params)``
            (default: ``fn``'s ``fmin_pass_expr_memo_ctrl`` attribute, as in hyperopt).
        workdir, name, loss_target: accepted and kept, as in hyperopt; unused.
    """

    def __init__(
        self,
        fn: Any,
        expr: Any,
        workdir: Any = None,
        pass_expr_memo_ctrl: bool | None = None,
        name: Any = None,
        loss_target: Any = None,
    ) -> None:
        self.fn = fn
        self.expr = expr
        self.workdir = workdir
        self.name = name
        self.loss_target = loss_target
        if pass_expr_memo_ctrl is None:
            pass_expr_memo_ctrl = bool(getattr(fn, "fmin_pass_expr_memo_ctrl", False))
        self.pass_expr_memo_ctrl = pass_expr_memo_ctrl
        self._space = compile_space(expr)

    @property
    def params(self) -> dict[str, Any]:
        """label -> its distribution node (``node.name`` is hyperopt's: ``"uniform"``, ``"randint"`` ...;
        ``node.param`` is the ``hp`` expression), as hyperopt's ``Domain.params``."""
        return {n.param.label: n for n in dfs(self.expr) if isinstance(n, DistributionNode)}

    def evaluate(self, config: Mapping[str, Any], ctrl: Any = None, attach_attachments: bool = True) -> dict[str, Any]:
        """Run the objective on one configuration and return its result dict, as ``fmin`` records it.

        Args:
            config: label -> value (the option index for choices; hyperopt's 1-element lists work).
            ctrl: a ``Ctrl``; passed to ``pass_expr_memo_ctrl`` objectives, and where the result's
                ``attachments`` go when ``attach_attachments``.
            attach_attachments: move ``result["attachments"]`` into ``ctrl.attachments``.

        Returns:
            ``{"loss": float, "status": "ok", ...}`` for a bare number; a result dict checked by
            hyperopt's rules (``InvalidResultStatus``/``InvalidLoss`` otherwise).
        """
        if self.pass_expr_memo_ctrl:
            memo = {k: (v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v) for k, v in config.items()}
            raw = self.fn(expr=self.expr, memo=memo, ctrl=ctrl)
        else:
            raw = self.fn(space_eval(self._space, config))
        tid = getattr(ctrl, "current_trial", None) or {}
        result = normalize_result(tid.get("tid", -1) if isinstance(tid, Mapping) else -1, raw)
        if attach_attachments:
            attachments = result.pop("attachments", {})
            if attachments and ctrl is not None:
                ctrl.attachments.update(attachments)
        return result

    def loss(self, result: Mapping[str, Any], config: Any = None) -> Any:
        """The result's ``loss`` (None if it has none)."""
        return result.get("loss")

    def loss_variance(self, result: Mapping[str, Any], config: Any = None) -> float:
        """The result's ``loss_variance`` (0.0 if it has none)."""
        return float(result.get("loss_variance", 0.0))

    def true_loss(self, result: Mapping[str, Any], config: Any = None) -> Any:
        """The result's ``true_loss``, else its ``loss``."""
        return result.get("true_loss", self.loss(result, config))

    def true_loss_variance(self, config: Any = None) -> Any:
        raise NotImplementedError("Domain.true_loss_variance is not implemented in hyperopt either")

    def status(self, result: Mapping[str, Any], config: Any = None) -> Any:
        """The result's ``status``."""
        return result["status"]

    def new_result(self) -> dict[str, Any]:
        """The result of a trial that has not run: ``{"status": "new"}``."""
        return {"status": STATUS_NEW}

    def short_str(self) -> str:
        return f"Domain{{{self.fn}}}"


def trials_from_docs(docs: Sequence[Mapping[str, Any]], validate: bool = True, **kwargs: Any) -> Any:
    """A ``Trials`` holding the trial documents ``docs`` (hyperopt's ``trials_from_docs``).

    Args:
        docs: hyperopt-shaped trial documents (``tid``, ``state``, ``result``, ``misc`` ...).
        validate: accepted for hyperopt compatibility; documents are always checked.
        **kwargs: passed to ``Trials`` (``exp_key``, ``refresh``).
    """
    trials = Trials(**kwargs)
    trials.insert_trial_docs(list(docs))
    trials.refresh()
    return trials


def spec_from_misc(misc: Mapping[str, Any]) -> dict[str, Any]:
    """label -> value from a trial document's ``misc`` (labels without a value are left out).

    Raises:
        ValueError: a label has more than one value in ``misc["vals"]``.
    """
    spec: dict[str, Any] = {}
    for label, values in misc["vals"].items():
        if len(values) > 1:
            raise ValueError(
                f"spec_from_misc: label {label!r} has {len(values)} values, expected at most one: {values!r}"
            )
        if len(values) == 1:
            spec[label] = values[0]
    return spec


__all__ = ["Ctrl", "Domain", "Trials", "spec_from_misc", "trials_from_docs"]
