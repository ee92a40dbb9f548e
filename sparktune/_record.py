"""The trial record: one immutable ``Trial`` per trial, and the clock helpers that stamp it.

This module imports nothing from the loop, the stores or the backends, so every one of them can
use the record without an import circle.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    STATUS_NEW,
    STATUS_OK,
)
from sparktune.exceptions import InvalidTrial

FINAL_STATES = (JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL)


def utcnow() -> _dt.datetime:
    """hyperopt's ``coarse_utcnow``: naive UTC time, millisecond precision."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def from_epoch(ts: float) -> _dt.datetime:
    """Naive UTC time, millisecond precision, from seconds since the epoch."""
    t = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=(t.microsecond // 1000) * 1000)


@dataclass(frozen=True)
class Trial:
    """One trial, as recorded.

    Attributes:
        tid: trial id, unique within a ``Trials``.
        state: one of ``JOB_STATE_*``.
        vals: label -> value of the labels active in this trial (option index for choices).
        result: the normalised result dict (``{"status": "new"}`` until the trial finishes).
        error: ``(exception type name, message)`` when the objective raised or was cancelled.
        traceback: the traceback text when the objective raised.
        book_time, refresh_time: when the trial started and when it was last updated (UTC).
        attempts: how many times it was started (retries after worker deaths).
    """

    tid: int
    state: int
    vals: Mapping[str, int | float]
    result: Mapping[str, Any] = field(default_factory=lambda: {"status": STATUS_NEW})
    error: tuple[str, str] | None = None
    traceback: str | None = None
    book_time: _dt.datetime | None = None
    refresh_time: _dt.datetime | None = None
    attempts: int = 0

    @property
    def loss(self) -> float | None:
        """The loss when the trial finished with status ok, else None."""
        if self.state == JOB_STATE_DONE and self.result.get("status") == STATUS_OK:
            loss = self.result.get("loss")
            return None if loss is None else float(loss)
        return None

    def to_doc(self, labels: Sequence[str] = ()) -> dict[str, Any]:
        """hyperopt's trial document (``misc.vals`` as 1-element lists, ``[]`` when inactive)."""
        all_labels = list(labels) or list(self.vals)
        misc: dict[str, Any] = {
            "tid": self.tid,
            "cmd": ("domain_attachment", "FMinIter_Domain"),
            "workdir": None,
            "idxs": {k: ([self.tid] if k in self.vals else []) for k in all_labels},
            "vals": {k: ([self.vals[k]] if k in self.vals else []) for k in all_labels},
        }
        if self.error is not None:
            misc["error"] = self.error
        if self.traceback is not None:
            misc["traceback"] = self.traceback
        return {
            "state": self.state,
            "tid": self.tid,
            "spec": None,
            "result": dict(self.result),
            "misc": misc,
            "exp_key": None,
            "owner": None,
            "version": 0,
            "book_time": self.book_time,
            "refresh_time": self.refresh_time,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Trial:
        """A record from a hyperopt-shaped trial document."""
        try:
            misc = doc["misc"]
            vals = {k: v[0] for k, v in misc["vals"].items() if len(v) > 0}
            return cls(
                tid=int(doc["tid"]),
                state=int(doc.get("state", JOB_STATE_NEW)),
                vals=vals,
                result=dict(doc.get("result") or {"status": STATUS_NEW}),
                error=tuple(misc["error"]) if misc.get("error") else None,  # type: ignore[arg-type]
                traceback=misc.get("traceback"),
                book_time=doc.get("book_time"),
                refresh_time=doc.get("refresh_time"),
            )
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise InvalidTrial(f"not a trial document ({type(exc).__name__}: {exc}): {doc!r}") from None


__all__ = ["FINAL_STATES", "Trial", "from_epoch", "utcnow"]
