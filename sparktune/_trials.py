"""Trial records and the ``Trials`` store, with hyperopt-shaped views.

A ``Trial`` is an immutable record. ``Trials`` keeps them in tid order and derives hyperopt's
documents (``trials.trials``, ``results``, ``losses()``...) from them, and keeps the suggester's
``History`` as numpy arrays that grow as trials finish (no pass over the whole history per
suggestion).
"""

from __future__ import annotations

import os
from typing import Any, Callable, ContextManager, Iterator, Mapping, Sequence

import numpy as np

from sparktune._record import FINAL_STATES, Trial, from_epoch, utcnow
from sparktune._space import SearchSpace
from sparktune._store import MemoryStore, TrialStore
from sparktune._suggest import History
from sparktune.backends._base import Backend, Task
from sparktune.backends.local import InProcessBackend
from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_VALID_STATES,
    STATUS_OK,
)
from sparktune.exceptions import NO_EVALUATION_TASKS, AllTrialsFailed, InvalidTrial


class EngineSettings:
    """What a ``Trials`` tells the fmin loop about how to run (the declared engine hook).

    Attributes:
        timeout: seconds for the whole run, used when ``fmin(timeout=None)``.
        loss_threshold: used when ``fmin(loss_threshold=None)``.
        trial_timeout: seconds one trial may run before it is cancelled.
        synchronous: propose and wait for whole batches of ``parallelism`` trials.
        record_failures: record a raising objective and go on, whatever
            ``catch_eval_exceptions`` says (hyperopt's SparkTrials does so).
    """

    __slots__ = ("timeout", "loss_threshold", "trial_timeout", "synchronous", "record_failures")

    def __init__(
        self,
        *,
        timeout: float | None = None,
        loss_threshold: float | None = None,
        trial_timeout: float | None = None,
        synchronous: bool = False,
        record_failures: bool = False,
    ) -> None:
        self.timeout = timeout
        self.loss_threshold = loss_threshold
        self.trial_timeout = trial_timeout
        self.synchronous = synchronous
        self.record_failures = record_failures


class Trials:
    """All trials of a study, in tid order, with hyperopt's views.

    As in hyperopt, ``trials``, ``len()``, ``results``, ``losses()`` and ``statuses()`` cover the
    trials that are new, running or done (the objective returned, with status ok or fail).
    ``all_trials`` also holds trials whose objective raised (``misc["error"]`` and
    ``misc["traceback"]``) and trials that were cancelled.

    Args:
        exp_key: hyperopt's experiment key, copied into every document's ``exp_key``.
        refresh: accepted for hyperopt compatibility; views here are always current, so there is
            nothing to refresh.
        store: the ``TrialStore`` the records live in (``sparktune._store``); a new
            ``MemoryStore`` by default.
    """

    asynchronous = False

    def __init__(self, exp_key: Any = None, refresh: bool = True, *, store: TrialStore | None = None) -> None:
        self._exp_key = exp_key
        self._store: TrialStore = store if store is not None else MemoryStore()
        self._docs: dict[int, tuple[Trial, dict[str, Any]]] = {}  # tid -> (record, its document)
        self._labels: tuple[str, ...] = ()
        self.attachments: dict[str, Any] = {}

    # -- the declared hooks the fmin loop uses -------------------------------------------------

    @property
    def store(self) -> TrialStore:
        """The ``TrialStore`` holding this object's records (the fmin loop talks to it only)."""
        return self._store

    def _engine_settings(self) -> EngineSettings:
        """How the loop should run trials of this store (``SparkTrials`` overrides it)."""
        return EngineSettings()

    def _engine_description(self) -> dict[str, Any]:
        """The engine's settings as plain values, for tracking and display."""
        return {"engine": "in-process", "parallelism": 1}

    def _make_backend(
        self,
        fn: Callable[..., Any],
        call: Callable[[Callable[..., Any], Task], Any] | None = None,
        trial_context: Callable[[int], ContextManager[Any]] | None = None,
    ) -> Backend:
        """The backend that evaluates this store's trials (called once per fmin)."""
        return InProcessBackend(fn, call, trial_context)

    def _set_labels(self, labels: Sequence[str]) -> None:
        if tuple(labels) != self._labels:
            self._labels = tuple(labels)
            self._docs.clear()

    # -- shorthands over the store (kept for tests, benchmarks and early stopping) ------------------

    @property
    def _records(self) -> Mapping[int, Trial]:
        return {t.tid: t for t in self._store.records()}

    def _history(self, space: SearchSpace) -> History:
        return self._store.history(space)

    def _count(self, *states: int) -> int:
        return self._store.count(*states)

    def _outcome_counts(self) -> dict[str, int]:
        """Trials by outcome: ok, fail (status fail), error (raised), cancelled, total."""
        counts = {"ok": 0, "fail": 0, "error": 0, "cancelled": 0, "total": 0}
        for t in self._store.records():
            counts["total"] += 1
            if t.state == JOB_STATE_DONE:
                counts["ok" if t.result.get("status") == STATUS_OK else "fail"] += 1
            elif t.state == JOB_STATE_ERROR:
                counts["error"] += 1
            elif t.state == JOB_STATE_CANCEL:
                counts["cancelled"] += 1
        return counts

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Trials:
        """The trials of a ``trials_save_file`` (what hyperopt programs got from ``pickle.load``).

        Reads JSON only, never runs code, takes no lease: a run may be writing the file.

        Raises:
            sparktune.storage.TrialFileError: the file is not a sparktune trial file or is corrupt.
        """
        from sparktune.storage import open_trial_log

        log = open_trial_log(path)
        if not log.exists():
            from sparktune.storage import TrialFileError

            raise TrialFileError(f"no sparktune trial file at {str(path)!r}")
        found = log.load()
        trials = cls()
        for trial in found.trials:
            trials._store.put(trial)
        trials._set_labels(found.labels)
        for key, value in found.metadata.items():
            trials._store.metadata[key] = value
        return trials

    # -- hyperopt's document API ---------------------------------------------------------------

    #: hyperopt's SparkTrials stores ``misc["error"] = (type, message + traceback text)``;
    #: plain ``Trials`` store ``(type, message)``, as hyperopt's fmin does.
    _error_with_traceback = False

    def _doc(self, tid: int) -> dict[str, Any]:
        rec = self._store.get(tid)
        if rec is None:
            raise KeyError(f"no trial with tid {tid}")
        return self._doc_of(rec)

    def _doc_of(self, rec: Trial) -> dict[str, Any]:
        cached = self._docs.get(rec.tid)
        if cached is not None and cached[0] is rec:
            return cached[1]
        doc = rec.to_doc(self._labels)
        doc["exp_key"] = self._exp_key
        if self._error_with_traceback and rec.error is not None and rec.traceback:
            doc["misc"]["error"] = (rec.error[0], f"{rec.error[1]}\n\n{rec.traceback}")
        self._docs[rec.tid] = (rec, doc)
        return doc

    def to_pandas(self) -> Any:
        """One row per trial (failed and cancelled included): parameters, loss, status, state,
        start, end, duration and error. Needs pandas (``pip install 'sparktune[pandas]'``)."""
        from sparktune._results import trials_to_frame

        return trials_to_frame(self)

    @property
    def _dynamic_trials(self) -> list[dict[str, Any]]:
        return [self._doc_of(t) for t in self._store.records()]

    @property
    def _trials(self) -> list[dict[str, Any]]:
        return self.trials

    @property
    def trials(self) -> list[dict[str, Any]]:
        """Documents of the trials that are new, running or done (hyperopt's ``trials``)."""
        return [self._doc_of(t) for t in self._store.records() if t.state in JOB_VALID_STATES]

    @property
    def all_trials(self) -> list[dict[str, Any]]:
        """Documents of every trial, including those that raised or were cancelled."""
        return self._dynamic_trials

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.trials)

    def __len__(self) -> int:
        return self._store.count(*JOB_VALID_STATES)

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
        best = self._store.best()
        if best is None:
            raise AllTrialsFailed(
                f"{NO_EVALUATION_TASKS} No trial finished with status 'ok' ({self._store.count()} trial(s) "
                "recorded); see trials.all_trials for their errors"
            )
        return self._doc_of(best)

    @property
    def argmin(self) -> dict[str, int | float]:
        """The best trial's values, label -> value (option index for choices)."""
        return {k: v[0] for k, v in self.best_trial["misc"]["vals"].items() if v}

    def average_best_error(self, bandit: Any = None) -> float:
        """The best ok loss (hyperopt's version also weighs loss variances; none are recorded here)."""
        return float(self.best_trial["result"]["loss"])

    def count_by_state_synced(self, arg: Any, trials: Any = None) -> int:
        states = set(arg) if isinstance(arg, (list, tuple, set)) else {arg}
        return self._store.count(*states)

    count_by_state_unsynced = count_by_state_synced

    # -- inserting trials (hyperopt API; used by generate_trials_to_calculate) ----------------

    def new_trial_ids(self, n: int) -> list[int]:
        return self._store.new_tids(n)

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
        return self.insert_trial_docs([doc])[0]

    def insert_trial_docs(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        """Add hyperopt-shaped documents as records (through the store, so a trial file gets them)."""
        trials = [Trial.from_doc(d) for d in docs]
        seen: set[int] = set()
        for trial in trials:
            if self._store.get(trial.tid) is not None or trial.tid in seen:
                raise InvalidTrial(f"a trial with tid {trial.tid} is already recorded")
            seen.add(trial.tid)
        for trial in trials:
            self._store.put(trial)
        self._store.sync()
        return [t.tid for t in trials]

    def delete_all(self) -> None:
        """Forget every trial (in the store too) and every attachment."""
        self._store.clear()
        self._docs.clear()
        self.attachments.clear()

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
        return state


__all__ = ["FINAL_STATES", "EngineSettings", "Trial", "Trials", "from_epoch", "utcnow"]
