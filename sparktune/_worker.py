"""The one function that evaluates a trial, wherever it runs (driver thread or Spark executor).

Plain data in (the params), plain data out (an ``Outcome``). Exceptions never escape: they come
back as data with their type name, message and traceback text.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import traceback
from typing import Any, Callable

from sparktune.backends._base import ERROR, OK, Outcome, Task
from sparktune.base import STATUS_OK, STATUS_STRINGS
from sparktune.exceptions import InvalidLoss, InvalidResultStatus


def _numpy_types(*names: str) -> tuple[type, ...]:
    """numpy's scalar types of these names; none if numpy was never imported (then no value can
    be one). A Spark worker running a trial thus imports numpy only if the objective does."""
    np = sys.modules.get("numpy")
    return () if np is None else tuple(getattr(np, name) for name in names)


def _plain(value: Any, generic: tuple[type, ...] | None = None) -> Any:
    """numpy scalars -> Python numbers, recursively through dicts/lists (results must be plain)."""
    if generic is None:
        generic = _numpy_types("generic")
    if generic and isinstance(value, generic):
        return value.item()  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: _plain(v, generic) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, generic) for v in value)
    return value


def normalize_result(tid: int, raw: Any) -> dict[str, Any]:
    """hyperopt's rules for what an objective may return, with errors that name the trial.

    A bare number is the loss. A dict needs ``status`` in ``STATUS_STRINGS``; with
    ``status == "ok"`` it needs a numeric, non-NaN ``loss``.
    """
    if isinstance(raw, bool):
        raise InvalidLoss(f"trial {tid}: the objective returned {raw!r}; a loss must be a number")
    if isinstance(raw, (numbers.Number, *_numpy_types("generic"))) and not isinstance(raw, dict):
        try:
            loss = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidLoss(f"trial {tid}: the loss must be a real number, got {raw!r}") from None
        if math.isnan(loss):
            raise InvalidLoss(f"trial {tid}: the objective returned loss=nan; a loss must not be NaN")
        return {"loss": loss, "status": STATUS_OK}
    if not isinstance(raw, dict):
        raise InvalidLoss(
            f"trial {tid}: the objective must return a number or a dict with 'loss' and 'status', "
            f"got {raw!r} ({type(raw).__name__})"
        )
    result = dict(raw)
    status = result.get("status")
    if status is None:
        if "loss" not in result:
            raise InvalidResultStatus(
                f"trial {tid}: the result dict needs a 'status' (one of {list(STATUS_STRINGS)}), got {raw!r}"
            )
        # hyperopt requires 'status'; a dict with only a loss is treated as ok for convenience.
        status = result["status"] = STATUS_OK
    if status not in STATUS_STRINGS:
        raise InvalidResultStatus(
            f"trial {tid}: result status must be one of {list(STATUS_STRINGS)}, got status={status!r}"
        )
    if status == STATUS_OK:
        if "loss" not in result:
            raise InvalidLoss(f"trial {tid}: a result with status 'ok' needs a 'loss', got {raw!r}")
        loss = result["loss"]
        if isinstance(loss, bool) or not isinstance(loss, (numbers.Real, *_numpy_types("integer", "floating"))):
            raise InvalidLoss(f"trial {tid}: the loss must be a real number, got loss={loss!r}")
        loss = float(loss)
        if math.isnan(loss):
            raise InvalidLoss(f"trial {tid}: the loss must not be NaN, got loss=nan")
        result["loss"] = loss
    elif "loss" in result and result["loss"] is not None:
        try:
            result["loss"] = float(result["loss"])
        except (TypeError, ValueError):
            pass
    return _plain(result)  # type: ignore[no-any-return]


def run_trial(
    fn: Callable[..., Any],
    task: Task,
    *,
    call: Callable[[Callable[..., Any], Task], Any] | None = None,
    keep_exception: bool = False,
) -> Outcome:
    """Evaluate ``fn`` on ``task.params`` and return an ``Outcome``; never raises ``Exception``.

    Args:
        fn: the user's objective.
        task: the trial.
        call: how to call ``fn`` (default ``fn(task.params)``); fmin uses it for
            ``pass_expr_memo_ctrl``.
        keep_exception: attach the exception object (in-process backends only).
    """
    start = time.time()
    try:
        raw = call(fn, task) if call is not None else fn(task.params)
        result = normalize_result(task.tid, raw)
    except Exception as exc:  # noqa: BLE001 - a failed trial is data
        return Outcome(
            tid=task.tid,
            state=ERROR,
            error=(type(exc).__name__, str(exc)),
            traceback=traceback.format_exc(),
            start=start,
            end=time.time(),
            exception=exc if keep_exception else None,
        )
    return Outcome(tid=task.tid, state=OK, result=result, start=start, end=time.time())


__all__ = ["normalize_result", "run_trial"]
