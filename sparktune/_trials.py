"""Trial records and the ``Trials`` store, with hyperopt-shaped views.

A ``Trial`` is an immutable record. ``Trials`` keeps them in tid order and derives hyperopt's
documents (``trials.trials``, ``results``, ``losses()``...) from them, and keeps the suggester's
``History`` as numpy arrays that grow as trials finish (no pass over the whole history per
suggestion).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from sparktune._record import FINAL_STATES, Trial, from_epoch, utcnow
from sparktune._space import SearchSpace
from sparktune._suggest import GrowingRows, GrowingVector, History
from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    JOB_VALID_STATES,
    STATUS_OK,
)
from sparktune.exceptions import NO_EVALUATION_TASKS, AllTrialsFailed, InvalidTrial


class _HistoryCache:
    """The suggester's arrays for one space, appended to as trials reach a final state."""

    def __init__(self, space: SearchSpace) -> None:
        self.labels = space.labels
        self.X = GrowingRows(space.n_dims)
        self.y = GrowingVector()
        self.X_failed = GrowingRows(space.n_dims)
        self.cursor = 0  # position in Trials._finished already appended


class Trials:
    """All trials of a study, in tid order, with hyperopt's views.

    As in hyperopt, ``trials``, ``len()``, ``results``, ``losses()`` and ``statuses()`` cover the
    trials that are new, running or done (the objective returned, with status ok or fail).
    ``all_trials`` also holds trials whose objective raised (``misc["error"]`` and
    ``misc["traceback"]``) and trials that were cancelled.
    """

    asynchronous = False

    def __init__(self, exp_key: Any = None, refresh: bool = True) -> None:
        self._exp_key = exp_key
        self._records: dict[int, Trial] = {}
        self._docs: dict[int, dict[str, Any]] = {}
        self._finished: list[int] = []  # tids in the order they reached a final state
        self._labels: tuple[str, ...] = ()
        self._hist: _HistoryCache | None = None
        self.attachments: dict[str, Any] = {}
        # Derived state kept up to date by _put/_delete, so that the fmin loop does O(1) work per
        # trial instead of scanning every record (matters at thousands of trials).
        self._counts: dict[int, int] = {}
        self._pending: set[int] = set()  # tids in state NEW or RUNNING
        self._best: tuple[float, int] | None = None  # (loss, tid) of the best ok trial
        self._next_tid = 0  # above every tid recorded or handed out
        self._metadata: dict[str, str] = {}  # durable string map for run listeners (see _events)

    # -- recording (used by the fmin loop) ----------------------------------------------------

    def _set_labels(self, labels: Sequence[str]) -> None:
        if tuple(labels) != self._labels:
            self._labels = tuple(labels)
            self._docs.clear()

    def _put(self, trial: Trial) -> None:
        prev = self._records.get(trial.tid)
        if prev is not None:
            self._forget(prev)
        self._records[trial.tid] = trial
        self._next_tid = max(self._next_tid, trial.tid + 1)
        self._docs.pop(trial.tid, None)
        self._counts[trial.state] = self._counts.get(trial.state, 0) + 1
        if trial.state in (JOB_STATE_NEW, JOB_STATE_RUNNING):
            self._pending.add(trial.tid)
        loss = trial.loss
        if loss is not None and not math.isnan(loss) and (self._best is None or (loss, trial.tid) < self._best):
            self._best = (loss, trial.tid)
        if trial.state in FINAL_STATES and (prev is None or prev.state not in FINAL_STATES):
            self._finished.append(trial.tid)

    def _forget(self, trial: Trial) -> None:
        """Take ``trial`` out of the derived state (before it is replaced or deleted)."""
        self._counts[trial.state] -= 1
        self._pending.discard(trial.tid)
        if self._best is not None and self._best[1] == trial.tid:  # rare: the best trial is replaced
            ok = [(t.loss, t.tid) for t in self._records.values() if t.tid != trial.tid and t.loss is not None]
            self._best = min(((loss, tid) for loss, tid in ok if not math.isnan(loss)), default=None)

    def _delete(self, tid: int) -> None:
        """Remove a trial that never started (a queued trial cancelled at a stop)."""
        self._forget(self._records[tid])
        del self._records[tid]
        self._docs.pop(tid, None)

    def _count(self, *states: int) -> int:
        return sum(self._counts.get(s, 0) for s in states)

    def _best_loss(self) -> float | None:
        return None if self._best is None else self._best[0]

    def _best_trial(self) -> Trial | None:
        return None if self._best is None else self._records[self._best[1]]

    def _outcome_counts(self) -> dict[str, int]:
        """Trials by outcome: ok, fail (status fail), error (raised), cancelled, total."""
        counts = {"ok": 0, "fail": 0, "error": 0, "cancelled": 0, "total": len(self._records)}
        for t in self._records.values():
            if t.state == JOB_STATE_DONE:
                counts["ok" if t.result.get("status") == STATUS_OK else "fail"] += 1
            elif t.state == JOB_STATE_ERROR:
                counts["error"] += 1
            elif t.state == JOB_STATE_CANCEL:
                counts["cancelled"] += 1
        return counts

    def _update(self, tid: int, **changes: Any) -> Trial:
        trial = dataclasses.replace(self._records[tid], **changes)
        self._put(trial)
        return trial

    def _records_in_order(self) -> list[Trial]:
        return [self._records[t] for t in sorted(self._records)]

    def _history(self, space: SearchSpace) -> History:
        """The suggester's view: finished ok / failed rows, plus the pending ones."""
        h = self._hist
        if h is None or h.labels != space.labels:
            h = self._hist = _HistoryCache(space)
        for tid in sorted(self._finished[h.cursor :]):  # tid order: reproducible whatever finished first
            trial = self._records[tid]
            if trial.state == JOB_STATE_CANCEL:
                continue
            row = space.vals_to_row(trial.vals, what=f"trial {tid}")
            loss = trial.loss
            if loss is not None and not math.isnan(loss):
                h.X.append(row)
                h.y.append(loss)
            else:
                h.X_failed.append(row)
        h.cursor = len(self._finished)
        pending = [space.vals_to_row(self._records[t].vals, what=f"trial {t}") for t in sorted(self._pending)]
        X_pending = np.array(pending) if pending else np.empty((0, space.n_dims))
        return History(X=h.X.view(), y=h.y.view(), X_pending=X_pending, X_failed=h.X_failed.view())

    # -- hyperopt's document API ---------------------------------------------------------------

    #: hyperopt's SparkTrials stores ``misc["error"] = (type, message + traceback text)``;
    #: plain ``Trials`` store ``(type, message)``, as hyperopt's fmin does.
    _error_with_traceback = False

    def _doc(self, tid: int) -> dict[str, Any]:
        doc = self._docs.get(tid)
        if doc is None:
            rec = self._records[tid]
            doc = self._docs[tid] = rec.to_doc(self._labels)
            doc["exp_key"] = self._exp_key
            if self._error_with_traceback and rec.error is not None and rec.traceback:
                doc["misc"]["error"] = (rec.error[0], f"{rec.error[1]}\n\n{rec.traceback}")
        return doc

    def to_pandas(self) -> Any:
        """One row per trial (failed and cancelled included): parameters, loss, status, state,
        start, end, duration and error. Needs pandas (``pip install 'sparktune[pandas]'``)."""
        from sparktune._results import trials_to_frame

        return trials_to_frame(self)

    @property
    def _dynamic_trials(self) -> list[dict[str, Any]]:
        return [self._doc(t) for t in sorted(self._records)]

    @property
    def _trials(self) -> list[dict[str, Any]]:
        return self.trials

    @property
    def trials(self) -> list[dict[str, Any]]:
        """Documents of the trials that are new, running or done (hyperopt's ``trials``)."""
        return [self._doc(t) for t in sorted(self._records) if self._records[t].state in JOB_VALID_STATES]

    @property
    def all_trials(self) -> list[dict[str, Any]]:
        """Documents of every trial, including those that raised or were cancelled."""
        return self._dynamic_trials

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.trials)

    def __len__(self) -> int:
        return self._count(*JOB_VALID_STATES)

    def __getitem__(self, item: Any) -> Any:
        return self.trials[item]

    def refresh(self) -> None:
        """No-op: views are always current (kept for hyperopt compatibility)."""

    def view(self, exp_key: Any = None, refresh: bool = True) -> Trials:
        return self

    @property
    def tids(self) -> list[int]:
        return [d["tid"] for d in self.trials]

    @property
    def specs(self) -> list[Any]:
        return [d["spec"] for d in self.trials]

    @property
    def results(self) -> list[dict[str, Any]]:
        return [d["result"] for d in self.trials]

    @property
    def miscs(self) -> list[dict[str, Any]]:
        return [d["misc"] for d in self.trials]

    @property
    def idxs_vals(self) -> tuple[dict[str, list[int]], dict[str, list[Any]]]:
        idxs: dict[str, list[int]] = {}
        vals: dict[str, list[Any]] = {}
        for doc in self.trials:
            for k, v in doc["misc"]["vals"].items():
                idxs.setdefault(k, [])
                vals.setdefault(k, [])
                if v:
                    idxs[k].append(doc["tid"])
                    vals[k].append(v[0])
        return idxs, vals

    @property
    def idxs(self) -> dict[str, list[int]]:
        return self.idxs_vals[0]

    @property
    def vals(self) -> dict[str, list[Any]]:
        return self.idxs_vals[1]

    def losses(self, bandit: Any = None) -> list[float | None]:
        return [r.get("loss") for r in self.results]

    def statuses(self, bandit: Any = None) -> list[str | None]:
        return [r.get("status") for r in self.results]

    @property
    def best_trial(self) -> dict[str, Any]:
        """The document of the finished trial with status ok and the lowest loss.

        Raises:
            AllTrialsFailed: no trial finished with status ok.
        """
        if self._best is None:
            raise AllTrialsFailed(
                f"{NO_EVALUATION_TASKS} No trial finished with status 'ok' ({len(self._records)} trial(s) "
                "recorded); see trials.all_trials for their errors"
            )
        return self._doc(self._best[1])

    @property
    def argmin(self) -> dict[str, int | float]:
        """The best trial's values, label -> value (option index for choices)."""
        return {k: v[0] for k, v in self.best_trial["misc"]["vals"].items() if v}

    def average_best_error(self, bandit: Any = None) -> float:
        """The best ok loss (hyperopt's version also weighs loss variances; none are recorded here)."""
        return float(self.best_trial["result"]["loss"])

    def count_by_state_synced(self, arg: Any, trials: Any = None) -> int:
        states = set(arg) if isinstance(arg, (list, tuple, set)) else {arg}
        return self._count(*states)

    count_by_state_unsynced = count_by_state_synced

    # -- inserting trials (hyperopt API; used by generate_trials_to_calculate) ----------------

    def new_trial_ids(self, n: int) -> list[int]:
        start = self._next_tid
        self._next_tid = start + n
        return list(range(start, start + n))

    def new_trial_docs(
        self, tids: Sequence[int], specs: Sequence[Any], results: Sequence[Any], miscs: Sequence[Any]
    ) -> list[dict[str, Any]]:
        docs = []
        for tid, spec, result, misc in zip(tids, specs, results, miscs):
            doc = {
                "state": JOB_STATE_NEW,
                "tid": tid,
                "spec": spec,
                "result": result,
                "misc": misc,
                "exp_key": self._exp_key,
                "owner": None,
                "version": 0,
                "book_time": None,
                "refresh_time": None,
            }
            docs.append(doc)
        return docs

    def new_trial_docs_from_rows(
        self, tids: Sequence[int], space: SearchSpace, rows: np.ndarray
    ) -> list[dict[str, Any]]:
        docs = []
        for tid, row in zip(tids, rows):
            trial = Trial(tid=tid, state=JOB_STATE_NEW, vals=space.row_to_vals(row))
            docs.append(trial.to_doc(space.labels))
        return docs

    def insert_trial_doc(self, doc: Mapping[str, Any]) -> int:
        trial = Trial.from_doc(doc)
        if trial.tid in self._records:
            raise InvalidTrial(f"a trial with tid {trial.tid} is already recorded")
        self._put(trial)
        return trial.tid

    def insert_trial_docs(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        return [self.insert_trial_doc(d) for d in docs]

    def delete_all(self) -> None:
        self.__init__(exp_key=self._exp_key)  # type: ignore[misc]

    def trial_attachments(self, trial: Mapping[str, Any]) -> dict[str, Any]:
        return self.attachments.setdefault(f"ATTACH::{trial['tid']}", {})

    def fmin(self, fn: Any, space: Any, algo: Any = None, max_evals: int | None = None, **kwargs: Any) -> Any:
        """``fmin`` on this store (hyperopt's ``Trials.fmin``)."""
        from sparktune._driver import fmin

        kwargs.pop("allow_trials_fmin", None)
        return fmin(fn, space, algo=algo, max_evals=max_evals, trials=self, **kwargs)

    # -- pickling: the doc cache and the history arrays are derived state ----------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_docs"] = {}
        state["_hist"] = None
        return state


__all__ = ["Trial", "Trials", "from_epoch", "utcnow"]
