"""The contract between the fmin loop and a trial store, and the store every ``Trials`` uses.

The fmin loop (``sparktune._driver``) talks to trials through ``TrialStore`` only: records in
(``put``, ``delete``), records out (``get``, ``records``, ``queued``), and the few derived
views it needs on every iteration (``count``, ``n_counted``, ``best``, ``history``). Everything
a store must keep consistent lives behind these methods, so a new store (a database, a service)
implements this Protocol and nothing else::

    trials = Trials(store=MyStore())

``MemoryStore`` is the implementation: records in a dict, derived state kept up to date on each
``put`` (O(1) per trial; nothing scans the history per suggestion). With a ``TrialLog`` attached
(``attach``; fmin does it for ``trials_save_file``) it is the durable store too: every ``put`` of
a trial that is not merely running is written to the log, whatever path the trial took in
(the loop, ``points_to_evaluate``, ``insert_trial_docs``, ``generate_trials_to_calculate``, a
resume), and ``metadata`` writes go to the log as well.

Durability contract: ``put`` is visible to readers at once; it is durable once ``sync`` returns.
The loop calls ``sync`` after each batch of outcomes, before it reports them to anyone (listeners,
the progress display, early stopping), so a crash loses at most trials that nobody was told had
finished; those run again on resume.

Records are immutable ``Trial`` values (``sparktune._record``). States: ``JOB_STATE_NEW``
(queued, never started), ``RUNNING``, then one final state (``DONE``, ``ERROR``, ``CANCEL``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, MutableMapping
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from sparktune._record import FINAL_STATES, Trial
from sparktune._space import SearchSpace
from sparktune._suggest import GrowingRows, GrowingVector, History
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_NEW, JOB_STATE_RUNNING

logger = logging.getLogger("sparktune")


@runtime_checkable
class TrialStore(Protocol):
    """What the fmin loop needs from a store (the whole contract).

    Attributes:
        metadata: a small durable string map for the run's collaborators (an MLflow parent run
            id, say); written through to the log when one is attached.
    """

    metadata: MutableMapping[str, str]

    def get(self, tid: int) -> Trial | None:
        """The record with this tid, or None."""

    def records(self) -> list[Trial]:
        """Every record, in tid order."""

    def queued(self) -> list[Trial]:
        """Records in state NEW (queued, never started), in tid order."""

    def count(self, *states: int) -> int:
        """How many records are in any of ``states`` (all records when none is given)."""

    def best(self) -> Trial | None:
        """The finished ok trial with the lowest loss (lowest tid on ties), or None."""

    def finished_order(self) -> Sequence[int]:
        """Tids in the order they reached a final state (early stopping reads the newest)."""

    def history(self, space: SearchSpace) -> History:
        """The suggester's view: finished ok rows and losses, failed rows, pending rows (NEW or
        RUNNING), each in tid order."""

    def new_tids(self, n: int) -> list[int]:
        """``n`` fresh trial ids, above every id recorded or handed out before."""

    def put(self, trial: Trial) -> None:
        """Insert or replace the record with ``trial.tid`` (visible at once; durable after ``sync``)."""

    def delete(self, tid: int) -> None:
        """Forget a record that never started (a queued trial dropped at a stop)."""

    def sync(self) -> None:
        """Make every ``put`` so far durable (no-op without a log)."""

    def clear(self) -> None:
        """Forget every record and the metadata (``Trials.delete_all``)."""


class _HistoryCache:
    """The suggester's arrays for one space, appended to as trials reach a final state."""

    def __init__(self, space: SearchSpace) -> None:
        self.labels = space.labels
        self.X = GrowingRows(space.n_dims)
        self.y = GrowingVector()
        self.X_failed = GrowingRows(space.n_dims)
        self.cursor = 0  # position in MemoryStore._finished already appended
        # tid -> (the vals it was computed from, row) for trials in flight: a thousand running
        # trials are converted once each, not once per suggestion.
        self.pending: dict[int, tuple[Any, np.ndarray]] = {}


class _Metadata(MutableMapping[str, str]):
    """A string map that writes each change through to the store's log."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._data: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __setitem__(self, key: str, value: str) -> None:
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"store metadata maps str to str, got {key!r}: {value!r}")
        self._data[key] = value
        if self._store.log is not None:
            self._store.log.set_metadata(key, value)

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def _load(self, data: dict[str, str]) -> None:
        self._data.update(data)


class MemoryStore:
    """The ``TrialStore`` of every ``Trials``: records in memory, optionally backed by a log.

    Derived state (counts by state, pending tids, the best trial, the finish order and the
    suggester's arrays) is kept up to date by ``put``/``delete``, so the loop does O(1) work per
    trial whatever the history holds.
    """

    def __init__(self) -> None:
        self._records: dict[int, Trial] = {}
        self._counts: dict[int, int] = {}
        self._pending: set[int] = set()  # tids in state NEW or RUNNING
        self._best: tuple[float, int] | None = None  # (loss, tid) of the best ok trial
        self._finished: list[int] = []  # tids in the order they reached a final state
        self._next_tid = 0
        self._hist: _HistoryCache | None = None
        self._unsynced: list[Trial] = []
        self.log: Any = None  # a sparktune.storage TrialLog, when attached
        self.metadata: MutableMapping[str, str] = _Metadata(self)

    # -- reading ---------------------------------------------------------------------------------

    def get(self, tid: int) -> Trial | None:
        return self._records.get(tid)

    def __contains__(self, tid: object) -> bool:
        return tid in self._records

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[Trial]:
        return [self._records[t] for t in sorted(self._records)]

    def queued(self) -> list[Trial]:
        if not self._counts.get(JOB_STATE_NEW):
            return []
        return [self._records[t] for t in sorted(self._pending) if self._records[t].state == JOB_STATE_NEW]

    def count(self, *states: int) -> int:
        if not states:
            return len(self._records)
        return sum(self._counts.get(s, 0) for s in states)

    def best(self) -> Trial | None:
        return None if self._best is None else self._records[self._best[1]]

    def finished_order(self) -> Sequence[int]:
        return self._finished

    def history(self, space: SearchSpace) -> History:
        h = self._hist
        if h is None or h.labels != space.labels:
            h = self._hist = _HistoryCache(space)
        for tid in sorted(self._finished[h.cursor :]):  # tid order: reproducible whatever finished first
            trial = self._records.get(tid)
            if trial is None or trial.state == JOB_STATE_CANCEL:
                continue
            row = space.vals_to_row(trial.vals, what=f"trial {tid}")
            loss = trial.loss
            if loss is not None and not math.isnan(loss):
                h.X.append(row)
                h.y.append(loss)
            else:
                h.X_failed.append(row)
        h.cursor = len(self._finished)
        cached, h.pending = h.pending, {}
        for tid in sorted(self._pending):
            vals = self._records[tid].vals
            hit = cached.get(tid)
            h.pending[tid] = (
                hit if hit is not None and hit[0] is vals else (vals, space.vals_to_row(vals, what=f"trial {tid}"))
            )
        pending = [row for _, row in h.pending.values()]
        X_pending = np.array(pending) if pending else np.empty((0, space.n_dims))
        return History(X=h.X.view(), y=h.y.view(), X_pending=X_pending, X_failed=h.X_failed.view())

    # -- writing ---------------------------------------------------------------------------------

    def new_tids(self, n: int) -> list[int]:
        start = self._next_tid
        self._next_tid = start + n
        return list(range(start, start + n))

    def put(self, trial: Trial) -> None:
        prev = self._records.get(trial.tid)
        if prev is not None:
            self._forget(prev)
        self._records[trial.tid] = trial
        self._next_tid = max(self._next_tid, trial.tid + 1)
        self._counts[trial.state] = self._counts.get(trial.state, 0) + 1
        if trial.state in (JOB_STATE_NEW, JOB_STATE_RUNNING):
            self._pending.add(trial.tid)
        loss = trial.loss
        if loss is not None and not math.isnan(loss) and (self._best is None or (loss, trial.tid) < self._best):
            self._best = (loss, trial.tid)
        if trial.state in FINAL_STATES and (prev is None or prev.state not in FINAL_STATES):
            self._finished.append(trial.tid)
        if self.log is not None and trial.state != JOB_STATE_RUNNING:
            self._unsynced.append(trial)

    def _forget(self, trial: Trial) -> None:
        """Take ``trial`` out of the derived state (before it is replaced or deleted)."""
        self._counts[trial.state] -= 1
        self._pending.discard(trial.tid)
        if self._best is not None and self._best[1] == trial.tid:  # rare: the best trial is replaced
            ok = [(t.loss, t.tid) for t in self._records.values() if t.tid != trial.tid and t.loss is not None]
            self._best = min(((loss, tid) for loss, tid in ok if not math.isnan(loss)), default=None)

    def delete(self, tid: int) -> None:
        trial = self._records.get(tid)
        if trial is None:
            return
        if trial.state in FINAL_STATES:
            raise ValueError(f"trial {tid} has finished (state {trial.state}); only unstarted trials can be deleted")
        self._forget(trial)
        del self._records[tid]
        self._unsynced = [t for t in self._unsynced if t.tid != tid]

    def sync(self) -> None:
        if self._unsynced and self.log is not None:
            batch, self._unsynced = self._unsynced, []
            self.log.append(batch)

    def clear(self) -> None:
        log = self.log
        self.__init__()  # type: ignore[misc]
        self.log = log

    # -- durability --------------------------------------------------------------------------------

    def attach(self, log: Any, labels: Sequence[str]) -> int:
        """Back this store with ``log`` (a ``sparktune.storage.TrialLog``) for ``labels``.

        Loads the log's records (a resume) and metadata, writes the records this store had that
        the log lacks, takes the log's lease and from then on writes every ``put`` through.
        Returns how many records were loaded from the log.

        Raises:
            sparktune.storage.TrialFileError: the log is corrupt, foreign, for other labels, or
                held by another live driver (``StoreInUse``).
        """
        in_log: set[int] = set()
        loaded = 0
        if log.exists():
            found = log.load()
            if tuple(found.labels) != tuple(labels):
                from sparktune.storage import TrialFileError

                raise TrialFileError(
                    f"trial file {str(log.path)!r} was written for labels {list(found.labels)}, but the "
                    f"search space has {list(labels)}; use another trials_save_file for a different space"
                )
            for trial in found.trials:
                in_log.add(trial.tid)
                if trial.tid not in self._records:
                    self.put(trial)
                    loaded += 1
            if isinstance(self.metadata, _Metadata):
                self.metadata._load(dict(found.metadata))
        log.start(labels)
        self.log = log
        self._unsynced = [t for t in self.records() if t.tid not in in_log and t.state != JOB_STATE_RUNNING]
        for key, value in list(self.metadata.items()):
            log.set_metadata(key, value)
        self.sync()
        return loaded

    def detach(self) -> None:
        """Write what is pending, release the log's lease and stop writing through."""
        if self.log is None:
            return
        try:
            self.sync()
        finally:
            log, self.log = self.log, None
            log.close()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_hist"] = None
        state["log"] = None  # a pickled store is a snapshot: it holds no lease and writes nowhere
        state["_unsynced"] = []
        return state


__all__ = ["MemoryStore", "TrialStore"]
