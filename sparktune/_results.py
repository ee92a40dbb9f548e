"""Trials as a table: one row per trial, read from hyperopt's trial documents.

Only the public document API is read (``trials.all_trials`` and each document's ``tid``,
``misc``, ``result``, ``state``, ``book_time`` and ``refresh_time``), so the table works for any
store that offers it, including a hyperopt ``Trials`` (which has no ``all_trials``: its
``trials`` are read instead).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    STATUS_OK,
)

STATE_NAMES = {
    JOB_STATE_NEW: "new",
    JOB_STATE_RUNNING: "running",
    JOB_STATE_DONE: "done",
    JOB_STATE_ERROR: "error",
    JOB_STATE_CANCEL: "cancelled",
}
FIXED_COLUMNS = ("tid", "loss", "status", "state", "start", "end", "duration", "error")
PANDAS_HINT = "pip install 'sparktune[pandas]'"


@dataclass(frozen=True)
class TrialRow:
    """One trial, flattened.

    Attributes:
        tid: trial id.
        vals: label -> value of the labels active in the trial (option index for choices).
        loss: the result's ``loss`` as a float, NaN when the result has none (whatever the status).
        status: the result's ``status`` (``"ok"``, ``"fail"``, ...), None when it has none.
        state: ``"new"``, ``"running"``, ``"done"``, ``"error"`` or ``"cancelled"``.
        start, end: ``book_time`` and ``refresh_time`` (naive UTC), None when not recorded.
        error: ``"TypeName: message"`` when the objective raised or the trial was cancelled.
    """

    tid: int
    vals: Mapping[str, Any]
    loss: float
    status: str | None
    state: str
    start: _dt.datetime | None
    end: _dt.datetime | None
    error: str | None

    @property
    def ok(self) -> bool:
        """The objective returned status ok with a finite loss: the trials that count for the best."""
        return self.state == "done" and self.status == STATUS_OK and math.isfinite(self.loss)

    @property
    def failed(self) -> bool:
        """The objective raised, or it returned without status ok or without a finite loss."""
        return self.state == "error" or (self.state == "done" and not self.ok)

    @property
    def duration(self) -> float:
        """Seconds from ``start`` to ``end``; NaN when either is missing."""
        if self.start is None or self.end is None:
            return math.nan
        return (self.end - self.start).total_seconds()


def _loss(result: Mapping[str, Any]) -> float:
    loss = result.get("loss")
    if isinstance(loss, bool) or not isinstance(loss, (int, float)):
        return math.nan
    return float(loss)


def _error(misc: Mapping[str, Any]) -> str | None:
    err = misc.get("error")
    if not err:
        return None
    if isinstance(err, (list, tuple)) and len(err) == 2:
        return f"{err[0]}: {err[1]}"
    return str(err)


def trial_rows(trials: Any) -> tuple[list[str], list[TrialRow]]:
    """The labels (in the documents' order) and one ``TrialRow`` per trial, in tid order.

    Args:
        trials: a ``Trials`` (or any object with hyperopt's ``all_trials`` or ``trials`` documents).
    """
    docs: Sequence[Mapping[str, Any]] = trials.all_trials if hasattr(trials, "all_trials") else trials.trials
    labels: dict[str, None] = {}
    rows = []
    for doc in sorted(docs, key=lambda d: d["tid"]):
        misc = doc.get("misc") or {}
        vals = {}
        for label, v in (misc.get("vals") or {}).items():
            labels.setdefault(label, None)
            if len(v) > 0:
                vals[label] = v[0]
        result = doc.get("result") or {}
        state = doc.get("state", JOB_STATE_NEW)
        rows.append(
            TrialRow(
                tid=int(doc["tid"]),
                vals=vals,
                loss=_loss(result),
                status=result.get("status"),
                state=STATE_NAMES.get(state, str(state)),
                start=doc.get("book_time"),
                end=doc.get("refresh_time"),
                error=_error(misc),
            )
        )
    return list(labels), rows


def column_names(labels: Sequence[str]) -> dict[str, str]:
    """label -> its column: the label itself, or ``params_<label>`` when it clashes with a fixed column."""
    return {label: f"params_{label}" if label in FIXED_COLUMNS else label for label in labels}


def trials_to_frame(trials: Any) -> Any:
    """Every trial of ``trials`` as a ``pandas.DataFrame``, one row per trial in tid order.

    Failed and cancelled trials are included. Columns:

    - ``tid``: the trial id (int).
    - one column per label, in the documents' order: the value from ``misc["vals"]`` (the option
      index for ``hp.choice``/``hp.pchoice``), NaN where the label is inactive in the trial (a
      column with inactive entries is float). A label named like a fixed column gets the
      column ``params_<label>``.
    - ``loss``: the result's loss (float), NaN when the result has none. A trial with status
      ``"fail"`` keeps a loss it returned; read ``status`` to tell.
    - ``status``: the result's status (``"ok"``, ``"fail"``, ``"new"``...), None when absent.
    - ``state``: ``"new"``, ``"running"``, ``"done"``, ``"error"`` (the objective raised) or
      ``"cancelled"``.
    - ``start``, ``end``: ``book_time`` and ``refresh_time`` (naive UTC datetimes, NaT when unset).
    - ``duration``: ``end - start`` in seconds (float; NaN when either is unset).
    - ``error``: ``"TypeName: message"`` for trials that raised or were cancelled, else None.

    Raises:
        ImportError: pandas is not installed (``pip install 'sparktune[pandas]'``).
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(f"trials_to_frame needs pandas ({exc}); install it with: {PANDAS_HINT}") from None
    labels, rows = trial_rows(trials)
    columns = column_names(labels)
    data: dict[str, list[Any]] = {"tid": [r.tid for r in rows]}
    for label in labels:
        data[columns[label]] = [r.vals.get(label) for r in rows]
    data["loss"] = [r.loss for r in rows]
    data["status"] = [r.status for r in rows]
    data["state"] = [r.state for r in rows]
    data["start"] = [r.start for r in rows]
    data["end"] = [r.end for r in rows]
    data["duration"] = [r.duration for r in rows]
    data["error"] = [r.error for r in rows]
    frame = pd.DataFrame(data)
    for col in ("start", "end"):  # all-None columns would otherwise be object
        frame[col] = pd.to_datetime(frame[col])
    frame["tid"] = frame["tid"].astype("int64")
    return frame


__all__ = ["STATE_NAMES", "TrialRow", "column_names", "trial_rows", "trials_to_frame"]
