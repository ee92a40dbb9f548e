"""Driver side of ``run_on="executors"``: trials evaluated in Spark Python workers.

The parts, one per concern, each in its own module:

- the queue (this module's ``ExecutorBackend``): trials waiting, attempts, retries after a
  worker died, cancellations, outcomes for ``wait``; it decides when slot jobs that keep failing
  mean falling back to transport "jobs" or giving up;
- the slot server (``_slot_server.SlotServer``, transport "socket"): one thread and one selector
  for every slot worker's connection; it hands queued trials to idle workers and takes outcomes
  back;
- the slot jobs (``_slot_jobs.SlotJobs``, transport "socket"): ``parallelism`` long-lived Spark
  jobs of one task each ("slots"), whose task connects back to the slot server and pulls trials
  one at a time, so a trial starts as soon as a slot is free and Spark's job start is paid once
  per slot, not once per trial. One driver thread watches them all on classic Spark; on Spark
  Connect each is a blocked driver thread. ``launcher=`` replaces them with other slot workers
  (the dispatch simulation, ``backends/simulated.py``);
- the trial jobs (``_trial_jobs.TrialJobs``, transport "jobs"; the fallback, e.g. a remote Spark
  Connect server whose executors cannot reach the client): each trial is one Spark job of one
  task, started from one of ``parallelism`` driver threads;
- how a one-task job is run (``_spark_jobs.JobRunner``): tagged, as an RDD job on classic Spark
  (``parallelize([0], 1).mapPartitions``: its Python worker does not import pyarrow, so a fresh
  worker starts sooner), through ``DataFrame.mapInArrow`` on Spark Connect, which has no RDDs;
- the objective's pickling (``_pickling.dumps_objective``), once per run. On classic Spark an
  objective of ``_BROADCAST_AT`` bytes or more (one that captured a training set, say) reaches
  the executors as one Spark broadcast for the run, which each slot's or trial's job refers to;
  otherwise every job would carry its own copy, and Spark would broadcast each one.

Every job is tagged, so ``cancel``/``close`` can interrupt them. A worker that dies mid-trial (the
connection drops, or the one-trial job fails) gets the trial retried up to ``max_retries`` times;
after that it is an ERROR outcome that says why.
"""

from __future__ import annotations

import collections
import logging
import os
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Sequence

from sparktune import _spark_compat as compat
from sparktune.backends._base import CANCELLED, ERROR, Outcome, Task, mark_cancelled, take_outcomes
from sparktune.backends._pickling import ObjectiveNotPicklable, SparkObjectInObjective, dumps_objective
from sparktune.backends._slot_jobs import SlotJobs
from sparktune.backends._slot_server import Conn, SlotServer
from sparktune.backends._spark_jobs import JobRunner
from sparktune.backends._trial_jobs import TrialJobs
from sparktune.backends.spark_worker import SlotConfig

logger = logging.getLogger(__name__)

# A slot job that fails this many times in a row without ever connecting back means the
# executors cannot run our worker (unreachable driver, sparktune missing on executors, ...).
_MAX_SLOT_FAILURES = 3
# An objective pickled to this many bytes or more is shipped as one Spark broadcast per run (classic
# Spark): the size at which Spark itself broadcasts a Python function's pickled command
# (spark.broadcast.UDFCompressionThreshold's default, 1 MiB).
_BROADCAST_AT = 1 << 20
# After a cancel, how long the worker gets to exit by itself before its Spark job is interrupted.
_CANCEL_GRACE_S = 1.0
_REINTERRUPT_S = 0.25


class ExecutorBackend:
    """Evaluates trials in Spark Python workers (see the module docstring).

    Args:
        session: the SparkSession (classic or Connect).
        fn_payload: ``dumps_objective(fn, call)``.
        parallelism: the most trials running at once (= slot jobs).
        max_retries: re-runs of a trial whose Python worker died, before it is an ERROR.
        transport: "socket", "jobs" or "auto" (socket when executors can reach this process).
        resource_profile: a ``pyspark.resource.ResourceProfile`` for the trial tasks, or None.
        launcher: starts the slot workers instead of Spark: called once with one ``SlotConfig``
            per slot, it returns the function that ``close`` calls at the end. The dispatch
            simulation (``benchmarks/bench_dispatch.py``) and the tests use it to drive this
            backend with slot workers that are not Spark tasks; ``session`` may then be None.
    """

    returns_immediately = False

    def __init__(
        self,
        session: Any,
        fn_payload: bytes,
        *,
        parallelism: int,
        max_retries: int = 1,
        transport: str = "auto",
        resource_profile: Any = None,
        launcher: Callable[[Sequence[SlotConfig]], Callable[[], None]] | None = None,
    ) -> None:
        self.parallelism = parallelism
        self._spark = session
        self._max_retries = max_retries
        # See _spark_jobs.JobRunner. SPARKTUNE_EXECUTOR_TASKS=arrow keeps mapInArrow on classic Spark too.
        tasks_api = os.environ.get("SPARKTUNE_EXECUTOR_TASKS", "auto")
        if tasks_api not in ("auto", "arrow"):
            raise ValueError(f"SPARKTUNE_EXECUTOR_TASKS must be 'auto' or 'arrow', got {tasks_api!r}")
        use_rdd = tasks_api == "auto" and launcher is None and not compat.is_connect(session)
        self._runner = JobRunner(session, use_rdd=use_rdd, profile=resource_profile)
        # What the jobs carry of the objective: its bytes, or one broadcast of them (see the module doc).
        self.shipped_payload: Any = fn_payload
        self._broadcast: Any = None
        self.run_id = uuid.uuid4().hex[:12]
        self._lock = threading.Condition()
        self.lock = self._lock  # SlotQueue
        self._pending: collections.deque[Task] = collections.deque()
        self._attempts: dict[int, int] = collections.defaultdict(int)
        self._running: dict[int, Any] = {}  # tid -> Conn (socket) or job tag (jobs)
        self._cancelled: set[int] = set()
        self._results: collections.deque[Outcome] = collections.deque()
        self._closed = False
        self._failure: str | None = None
        self._slot_failures = 0
        self._connections_made = 0
        self._conns: set[Conn] = set()
        self._stop_launched: Callable[[], None] | None = None
        self._slot_jobs: SlotJobs | None = None  # transport "socket" on Spark
        self._trial_jobs: TrialJobs | None = None  # transport "jobs", from the start or as the fallback
        if launcher is not None:
            host: str | None = "127.0.0.1"
            transport = "socket"
        else:
            host = compat.callback_host(session) if transport in ("auto", "socket") else None
        if transport == "socket" and host is None:
            raise ValueError(
                "transport='socket' needs executors that can reach this process, but no address "
                "for them is known (remote Spark Connect); set SPARKTUNE_CALLBACK_HOST or use "
                "transport='jobs'"
            )
        self._auto = transport == "auto"
        self._fell_back = False
        self._server: SlotServer | None = None
        self._token = secrets.token_bytes(32)
        if host is not None:
            try:
                self._server = SlotServer(str(host), self._token, self)
            except OSError as exc:
                if not self._auto:
                    raise
                logger.warning("cannot listen on %s (%s): one Spark job per trial instead", host, exc)
        self.transport = "socket" if self._server is not None else "jobs"
        if self._server is not None:
            self._address: tuple[str, int] = self._server.address
            self._server.start()
        logger.info("executor backend %s: transport=%s parallelism=%d", self.run_id, self.transport, parallelism)
        if launcher is not None:
            self._stop_launched = launcher([self.slot_config(slot) for slot in range(parallelism)])
            return
        if use_rdd and len(fn_payload) >= _BROADCAST_AT:
            self._broadcast = _broadcast(session, fn_payload)
            if self._broadcast is not None:
                self.shipped_payload = self._broadcast
        if self.transport == "socket":
            self._slot_jobs = SlotJobs(self, self._runner)
            self._slot_jobs.start()
        else:
            self._trial_jobs = TrialJobs(self, self._runner)
            self._trial_jobs.start(parallelism)

    # -- Backend protocol ---------------------------------------------------------------------

    def submit(self, tasks: Sequence[Task]) -> None:
        """Queue ``tasks``; free slots pick them up at once."""
        with self._lock:
            if self._closed:
                raise RuntimeError("submit() after close()")
            for task in tasks:
                if self._failure is not None:
                    self._results.append(self._failed(task.tid, self._failure))
                else:
                    self._pending.append(task)
            self._lock.notify_all()
        if self._server is not None:
            self._server.wake()

    def wait(self, timeout: float | None) -> list[Outcome]:
        """Outcomes ready now, blocking up to ``timeout`` seconds for the first one."""
        return take_outcomes(self._lock, self._results, timeout)

    def cancel(self, tids: Sequence[int]) -> None:
        """Cancel queued or running trials; they come back from ``wait`` as CANCELLED."""
        with self._lock:
            running = mark_cancelled(
                tids,
                pending=self._pending,
                running=self._running,
                cancelled=self._cancelled,
                results=self._results,
                attempts=lambda tid: self._attempts.get(tid, 0),
            )
            to_stop = [(tid, self._running[tid]) for tid in running]
            self._lock.notify_all()
        for tid, where in to_stop:
            self._stop_running(tid, where)

    def close(self) -> None:
        """Cancel what still runs, stop every slot job and wait (bounded) until none is left."""
        with self._lock:
            if self._closed:
                return
            running = list(self._running)
        self.cancel(running)
        with self._lock:
            self._closed = True
            for task in self._pending:
                self._results.append(
                    Outcome(
                        tid=task.tid,
                        state=CANCELLED,
                        attempts=self._attempts.get(task.tid, 0),
                        error=("Cancelled", "the run was closed"),
                    )
                )
            self._pending.clear()
            self._lock.notify_all()
        parts = [part for part in (self._slot_jobs, self._trial_jobs) if part is not None]
        for part in parts:
            part.wake()
        if self._server is not None:
            self._server.wake()  # idle slot workers are told to stop
        if self._stop_launched is not None:
            self._stop_launched()
        deadline = time.monotonic() + 10.0
        leftover = [part for part in parts if not part.join(deadline)]
        if leftover:
            logger.warning(
                "interrupting %d Spark job(s) that did not stop by themselves", sum(p.alive() for p in leftover)
            )
            for part in leftover:
                part.interrupt()
            for part in leftover:
                part.join(time.monotonic() + 10.0)
        if self._server is not None:
            self._server.stop()
        if self._broadcast is not None:
            try:
                self._broadcast.destroy()
            except Exception as exc:  # noqa: BLE001 - the session may be stopping; the run is over anyway
                logger.debug("could not destroy the objective's broadcast: %s", exc)

    # -- SlotQueue (the slot server's view; every call holds self._lock) ------------------------

    def take_nowait(self, conn: Conn) -> tuple[Task, int] | None:
        if self._closed or self._fell_back or not self._pending:
            return None
        task, attempt = self._next_attempt()
        self._running[task.tid] = conn
        return task, attempt

    def closing(self) -> bool:
        return self._closed or self._fell_back

    def finish(self, conn: Conn, outcome: Outcome) -> None:
        self._finish(outcome)

    def lost(self, conn: Conn, task: Task) -> None:
        self._lost(task, f"the Spark Python worker (pid {conn.pid}) died while running it")

    def failed(self, reason: str) -> None:
        self.give_up(reason)
        for tid, where in list(self._running.items()):  # their outcomes can no longer come back
            if isinstance(where, Conn):
                del self._running[tid]
                if tid not in self._cancelled:
                    self._results.append(self._failed(tid, reason))
        self._lock.notify_all()

    def connected(self, conn: Conn) -> None:
        self._conns.add(conn)
        self._connections_made += 1
        if self._slot_jobs is not None:
            self._slot_jobs.wake()  # another slot job may start

    def disconnected(self, conn: Conn) -> None:
        self._conns.discard(conn)

    # -- SlotHost (the slot jobs' view) and TrialHost (the trial jobs') -----------------------

    def slot_config(self, slot: int) -> SlotConfig:
        return SlotConfig(self.run_id, self._address[0], self._address[1], self._token, slot, self.shipped_payload)

    def slots_connected(self) -> set[int] | None:
        with self._lock:
            if self._closed or self._failure is not None or self._fell_back:
                return None
            return {conn.slot for conn in self._conns}

    def connections_made(self) -> int:
        return self._connections_made

    def take_trial(self) -> tuple[Task, int] | None:
        """Block until a task is queued (returns it, counted as an attempt) or the run closes."""
        with self._lock:
            while not self._pending and not self._closed:
                self._lock.wait()
            if self._closed:
                return None
            return self._next_attempt()

    def trial_job_starts(self, tid: int, tag: str) -> bool:
        with self._lock:
            if tid in self._cancelled:
                return False
            self._running[tid] = tag
            return True

    def trial_lost(self, task: Task, reason: str) -> None:
        self._lost(task, reason)

    def trial_done(self, outcome: Outcome) -> None:
        self._finish(outcome)

    # -- internals ----------------------------------------------------------------------------

    def _next_attempt(self) -> tuple[Task, int]:
        """The next queued trial and its attempt number, counted (holding the lock)."""
        task = self._pending.popleft()
        self._attempts[task.tid] += 1
        return task, self._attempts[task.tid]

    def _failed(self, tid: int, reason: str) -> Outcome:
        return Outcome(
            tid=tid,
            state=ERROR,
            error=("SparkError", reason),
            end=time.time(),
            attempts=max(1, self._attempts[tid]),
        )

    def _lost(self, task: Task, reason: str) -> None:
        """A trial's worker died: retry it, or record it as an ERROR once retries are spent."""
        with self._lock:
            self._running.pop(task.tid, None)
            if task.tid in self._cancelled or self._closed:
                return
            n = self._attempts[task.tid]
            if n <= self._max_retries:
                logger.warning(
                    "trial %d: %s; retrying (attempt %d of %d)", task.tid, reason, n + 1, self._max_retries + 1
                )
                self._pending.appendleft(task)
            else:
                self._results.append(
                    Outcome(
                        tid=task.tid,
                        state=ERROR,
                        attempts=n,
                        end=time.time(),
                        error=(
                            "WorkerLost",
                            f"trial {task.tid}: {reason}, on each of {n} attempt(s) (max_retries={self._max_retries})",
                        ),
                    )
                )
            self._lock.notify_all()

    def _finish(self, outcome: Outcome) -> None:
        with self._lock:
            self._running.pop(outcome.tid, None)
            if outcome.tid in self._cancelled:
                return
            self._results.append(outcome)
            self._lock.notify_all()

    def _stop_running(self, tid: int, where: Any) -> None:
        """Stop a running trial: ask its worker to exit, and interrupt its job if it lingers.

        The interrupt is repeated until the trial is gone: an interrupt that reaches Spark
        before the job is registered (a job just being submitted) cancels nothing.
        """
        if isinstance(where, Conn):
            assert self._server is not None  # a Conn exists only with a server
            self._server.post(where, ("cancel", tid))

            def lingering() -> str | None:
                with self._lock:
                    alive = where in self._conns and where.tid == tid
                return self._slot_jobs.tags.get(where.slot) if alive and self._slot_jobs is not None else None

            delay = _CANCEL_GRACE_S
        else:

            def lingering() -> str | None:
                with self._lock:
                    return str(where) if self._running.get(tid) == where else None

            delay = 0.0

        def reap() -> None:
            time.sleep(delay)
            deadline = time.monotonic() + 120.0
            while time.monotonic() < deadline:
                tag = lingering()
                if tag is None:
                    return
                logger.debug("trial %d: interrupting Spark jobs tagged %s", tid, tag)
                compat.interrupt_tag(self._spark, tag)
                time.sleep(_REINTERRUPT_S)
            logger.warning("trial %d: still running 120 s after it was cancelled", tid)

        threading.Thread(target=reap, name=f"sparktune-reap-{tid}", daemon=True).start()

    def give_up(self, reason: str) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = reason
                logger.error("%s", reason)
            for task in self._pending:
                self._results.append(self._failed(task.tid, reason))
            self._pending.clear()
            self._lock.notify_all()

    def slot_job_ended(self, error: str | None, connected_before: int) -> bool:
        """Account for a slot job that ended (``error`` None: it ended cleanly); False when no
        slot job should be started again (the run closed, fell back or gave up)."""
        with self._lock:
            if self._closed:
                return False
            if error is not None and self._connections_made == connected_before:
                self._slot_failures += 1
                fail = error if self._slot_failures >= _MAX_SLOT_FAILURES else None
            else:
                self._slot_failures = 0
                fail = None
        if fail is not None and self._auto and "No module named" not in fail:
            self._fall_back(fail)
            return False
        if fail is not None:
            self.give_up(
                "Spark could not run sparktune's worker on the executors "
                f"({_MAX_SLOT_FAILURES} slot jobs in a row failed before connecting back to "
                f"{self._address[0]}:{self._address[1]}). Is sparktune installed on the "
                "executors, and can they reach the driver? Last error: " + fail
            )
            return False
        return True

    def _fall_back(self, reason: str) -> None:
        """transport="auto": executors cannot reach this process; run one Spark job per trial."""
        with self._lock:
            if self._fell_back or self._closed:
                return
            self._fell_back = True
            self.transport = "jobs"
            self._trial_jobs = TrialJobs(self, self._runner)
        logger.warning(
            "executors could not connect back to %s:%d (%s); falling back to one Spark job per "
            "trial (set SPARKTUNE_CALLBACK_HOST to an address executors can reach to avoid this)",
            self._address[0],
            self._address[1],
            reason,
        )
        self._trial_jobs.start(self.parallelism)


def _broadcast(session: Any, payload: bytes) -> Any:
    """One Spark broadcast of the pickled objective, or None where broadcasts are refused (the
    jobs then carry the bytes themselves)."""
    try:
        shipped = session.sparkContext.broadcast(payload)
    except Exception as exc:  # noqa: BLE001 - e.g. a cluster that blocks SparkContext
        logger.info("the objective (%d bytes) goes inside every job: no broadcast here (%s)", len(payload), exc)
        return None
    logger.debug("the objective (%d bytes) goes to the executors as one broadcast", len(payload))
    return shipped


__all__ = ["ExecutorBackend", "ObjectiveNotPicklable", "SparkObjectInObjective", "dumps_objective"]
