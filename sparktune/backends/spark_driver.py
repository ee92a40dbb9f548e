"""``run_on="driver"``: trials run in driver threads, for objectives that use Spark themselves.

Up to ``parallelism`` threads each take a trial, make the user's session active in the thread
(``pyspark.ml`` on Spark Connect finds its session through the thread-local active session),
tag the thread's Spark jobs with the trial id, put them in the FAIR scheduler pool ``sparktune``
and run the objective. ``cancel`` interrupts the trial's tag; a Python thread cannot be killed,
so the tag is interrupted again every ``_REINTERRUPT_S`` seconds for as long as the cancelled
objective keeps running, which stops any Spark job it starts later. The exception the
interrupted Spark call raises in the objective is not an objective failure: the trial is
recorded as CANCELLED.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import uuid
from typing import Any, Callable, ContextManager, Sequence

from sparktune import _spark_compat as compat
from sparktune._worker import run_trial
from sparktune.backends._base import CANCELLED, Outcome, Task, mark_cancelled, take_outcomes

logger = logging.getLogger(__name__)

POOL = "sparktune"
_REINTERRUPT_S = 0.25
_CLOSE_WAIT_S = 2.0


class DriverThreadBackend:
    """Evaluates trials in driver threads with tagged, cancellable Spark jobs.

    Args:
        session: the user's SparkSession (classic or Connect).
        fn: the objective.
        call: how to call it (``run_trial``'s ``call``), or None.
        parallelism: the most trials running at once (= threads).
        trial_context: entered around each objective call in its thread (run listeners), or None.
    """

    returns_immediately = False

    def __init__(
        self,
        session: Any,
        fn: Callable[..., Any],
        call: Callable[[Callable[..., Any], Task], Any] | None = None,
        *,
        parallelism: int,
        trial_context: Callable[[int], ContextManager[Any]] | None = None,
    ) -> None:
        self.parallelism = parallelism
        self._context = trial_context or (lambda tid: contextlib.nullcontext())
        self._spark = session
        self._fn = fn
        self._call = call
        self._run_id = uuid.uuid4().hex[:12]
        self._lock = threading.Condition()
        self._pending: collections.deque[Task] = collections.deque()
        self._running: dict[int, str] = {}  # tid -> tag
        self._cancelled: set[int] = set()
        self._zombies: dict[int, str] = {}  # cancelled trials whose thread still runs -> tag
        self._results: collections.deque[Outcome] = collections.deque()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"sparktune-trial-{i}", daemon=True) for i in range(parallelism)
        ]
        for thread in self._threads:
            thread.start()
        self._reaper: threading.Thread | None = None

    # -- Backend protocol ---------------------------------------------------------------------

    def submit(self, tasks: Sequence[Task]) -> None:
        """Queue ``tasks``; idle threads start them at once."""
        with self._lock:
            if self._closed:
                raise RuntimeError("submit() after close()")
            self._pending.extend(tasks)
            self._lock.notify_all()

    def wait(self, timeout: float | None) -> list[Outcome]:
        """Outcomes ready now, blocking up to ``timeout`` seconds for the first one."""
        return take_outcomes(self._lock, self._results, timeout)

    def cancel(self, tids: Sequence[int]) -> None:
        """Cancel queued or running trials: interrupt their Spark jobs, report them CANCELLED."""
        with self._lock:
            running = mark_cancelled(
                tids, pending=self._pending, running=self._running, cancelled=self._cancelled, results=self._results
            )
            tags = [self._running[tid] for tid in running]
            for tid in running:
                self._zombies[tid] = self._running[tid]
            self._lock.notify_all()
            if tags and self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="sparktune-reaper", daemon=True)
                self._reaper.start()
        for tag in tags:
            compat.interrupt_tag(self._spark, tag)

    def close(self) -> None:
        """Cancel everything, then wait (bounded) for the trial threads to return."""
        with self._lock:
            if self._closed:
                return
            running = list(self._running)
        self.cancel(running)
        with self._lock:
            self._closed = True
            for task in self._pending:
                self._results.append(
                    Outcome(tid=task.tid, state=CANCELLED, attempts=0, error=("Cancelled", "the run was closed"))
                )
            self._pending.clear()
            self._lock.notify_all()
        # A cancelled objective still in Python code cannot be stopped; do not hold fmin for it.
        # The reaper keeps interrupting its tag, so any Spark job it starts is cancelled.
        deadline = time.monotonic() + _CLOSE_WAIT_S
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning(
                "%d cancelled objective(s) still run Python code in driver threads (%s); their "
                "Spark jobs are interrupted as they start",
                len(alive),
                ", ".join(alive),
            )

    # -- internals ----------------------------------------------------------------------------

    def _reap(self) -> None:
        """Interrupt cancelled trials' tags until their threads leave the objective."""
        while True:
            with self._lock:
                tags = list(self._zombies.values())
                if not tags:
                    self._reaper = None
                    return
            for tag in tags:
                compat.interrupt_tag(self._spark, tag)
            time.sleep(_REINTERRUPT_S)

    def _loop(self) -> None:
        compat.activate_session(self._spark)
        compat.set_scheduler_pool(self._spark, POOL)
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                task = self._pending.popleft()
                tag = f"sparktune-{self._run_id}-trial{task.tid}"
                self._running[task.tid] = tag
            compat.activate_session(self._spark)  # the objective may have changed it
            compat.add_tag(self._spark, tag)
            try:
                with self._context(task.tid):
                    outcome = run_trial(self._fn, task, call=self._call, keep_exception=True)
            finally:
                compat.remove_tag(self._spark, tag)
            with self._lock:
                self._running.pop(task.tid, None)
                self._zombies.pop(task.tid, None)
                if task.tid not in self._cancelled:
                    # Not cancelled by us: whatever the objective raised is its own failure.
                    self._results.append(outcome)
                self._lock.notify_all()


__all__ = ["POOL", "DriverThreadBackend"]
