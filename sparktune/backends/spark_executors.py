"""Driver side of ``run_on="executors"``: trials evaluated in Spark Python workers.

The parts, one per concern:

- the queue (this class): trials waiting, attempts, retries after a worker died, cancellations,
  outcomes for ``wait``;
- the slot server (``_slot_server.SlotServer``, transport "socket"): one thread and one selector
  for every slot worker's connection; it hands queued trials to idle workers and takes outcomes
  back;
- the slot jobs: ``parallelism`` long-lived Spark jobs of one task each ("slots"), whose task
  connects back to the slot server and pulls trials one at a time, so a trial starts as soon as a
  slot is free and Spark's job start is paid once per slot, not once per trial. On classic Spark
  they are submitted asynchronously and watched from one driver thread (``_slot_jobs``); on Spark
  Connect, which has no asynchronous jobs, each slot job is a blocked driver thread
  (``_slot_loop``). Each slot is its own job, so a cluster with dynamic allocation sees
  ``parallelism`` pending tasks and scales for them, and one trial's worker can be stopped
  without touching the others. ``launcher=`` replaces them with other slot workers (the dispatch
  simulation, ``backends/simulated.py``);
- the objective's pickling (``_pickling.dumps_objective``), once per run;
- transport "jobs" (``_job_loop``; fallback, e.g. a remote Spark Connect server whose executors
  cannot reach the client): each trial is one Spark job of one task, started from a driver thread.

Tasks run as RDD jobs on classic Spark (``parallelize([0], 1).mapPartitions``: its Python worker
does not import pyarrow, so a fresh worker starts sooner) and through ``DataFrame.mapInArrow`` on
Spark Connect, which has no RDDs. Every job is tagged, so ``cancel``/``close`` can interrupt them.
A worker that dies mid-trial (the connection drops, or the one-trial job fails) gets the trial
retried up to ``max_retries`` times; after that it is an ERROR outcome that says why.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import pickle
import re
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Sequence

import cloudpickle

from sparktune import _spark_compat as compat
from sparktune.backends._base import CANCELLED, ERROR, Outcome, Task, mark_cancelled, take_outcomes
from sparktune.backends._pickling import ObjectiveNotPicklable, SparkObjectInObjective, dumps_objective
from sparktune.backends._slot_server import Conn, SlotServer
from sparktune.backends.spark_worker import (
    OUTPUT_SCHEMA,
    InlineConfig,
    SlotConfig,
    inline_main,
    rdd_entry,
    slot_main,
)

logger = logging.getLogger(__name__)

# A slot job that fails this many times in a row without ever connecting back means the
# executors cannot run our worker (unreachable driver, sparktune missing on executors, ...).
_MAX_SLOT_FAILURES = 3
# After a cancel, how long the worker gets to exit by itself before its Spark job is interrupted.
_CANCEL_GRACE_S = 1.0
# The slot-jobs thread looks at jobs every _POLL_S seconds, at most _POLL_BUDGET of them per look.
_POLL_S = 0.1
_POLL_BUDGET = 64


def _start_limit(session: Any, parallelism: int) -> int:
    """How many slot jobs may be starting (their Python worker not yet connected) at once.

    In local mode the executor is this machine: a new Spark Python worker spends ~0.45 s of CPU
    importing pyspark's worker after its fork (measured with pyspark 4.3), so ``local[32]`` on 2
    cores started all at once shares the CPU among 32 starting workers and none runs a trial for
    ~6 s. Started a few at a time (twice as many as the machine has cores: a starting worker also
    waits on the JVM), the first workers run trials while the rest start; on 2 cores the mean start
    of 32 slots went from ~9 s to ~4 s. Elsewhere the executors' cores are unknown here: all start
    at once.
    """
    if not compat.is_local_master(compat.master_of(session)):
        return parallelism
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(2, min(parallelism, 2 * cores))


_REINTERRUPT_S = 0.25


def summarize_exception(exc: BaseException) -> str:
    """``Type: message`` with the most telling line of a long Spark/Python error text."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    telling = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit)\b.*:", ln)]
    line = telling[-1] if telling else (lines[0] if lines else "")
    return f"{type(exc).__name__}: {line}"


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
        self._fn_payload = fn_payload
        self._max_retries = max_retries
        self._profile = resource_profile
        # See _run_job. SPARKTUNE_EXECUTOR_TASKS=arrow keeps mapInArrow on classic Spark too.
        tasks_api = os.environ.get("SPARKTUNE_EXECUTOR_TASKS", "auto")
        if tasks_api not in ("auto", "arrow"):
            raise ValueError(f"SPARKTUNE_EXECUTOR_TASKS must be 'auto' or 'arrow', got {tasks_api!r}")
        self._use_rdd = tasks_api == "auto" and launcher is None and not compat.is_connect(session)
        self._run_id = uuid.uuid4().hex[:12]
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
        self._threads: list[threading.Thread] = []
        self._slot_tags: dict[int, str] = {}
        self._conns: set[Conn] = set()
        self._stop_launched: Callable[[], None] | None = None
        self._wake_jobs = threading.Event()  # wakes the slot-jobs thread: a worker connected, or close
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
        logger.info("executor backend %s: transport=%s parallelism=%d", self._run_id, self.transport, parallelism)
        if launcher is not None:
            self._stop_launched = launcher([self._slot_config(slot) for slot in range(parallelism)])
            return
        if self.transport == "socket" and self._use_rdd:
            self._start_thread(self._slot_jobs, "sparktune-slot-jobs")
            return
        for slot in range(parallelism):
            target = self._slot_loop if self.transport == "socket" else self._job_loop
            self._start_thread(functools.partial(target, slot), f"sparktune-slot-{slot}")

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
        self._wake_jobs.set()
        if self._server is not None:
            self._server.wake()  # idle slot workers are told to stop
        if self._stop_launched is not None:
            self._stop_launched()
        deadline = time.monotonic() + 10.0
        for thread in self._threads:
            if thread.name.startswith("sparktune-slot"):
                thread.join(max(0.0, deadline - time.monotonic()))
        leftover = [t for t in self._threads if t.is_alive() and t.name.startswith("sparktune-slot")]
        if leftover:
            logger.warning("interrupting %d slot job(s) that did not stop by themselves", len(leftover))
            for tag in list(self._slot_tags.values()):
                compat.interrupt_tag(self._spark, tag)
            for thread in leftover:
                thread.join(10.0)
        if self._server is not None:
            self._server.stop()

    # -- SlotQueue (the slot server's view; every call holds self._lock) ------------------------

    def take_nowait(self, conn: Conn) -> tuple[Task, int] | None:
        if self._closed or self._fell_back or not self._pending:
            return None
        task = self._pending.popleft()
        self._attempts[task.tid] += 1
        self._running[task.tid] = conn
        return task, self._attempts[task.tid]

    def closing(self) -> bool:
        return self._closed or self._fell_back

    def finish(self, conn: Conn, outcome: Outcome) -> None:
        self._finish(outcome)

    def lost(self, conn: Conn, task: Task) -> None:
        self._lost(task, f"the Spark Python worker (pid {conn.pid}) died while running it")

    def failed(self, reason: str) -> None:
        self._give_up(reason)
        for tid, where in list(self._running.items()):  # their outcomes can no longer come back
            if isinstance(where, Conn):
                del self._running[tid]
                if tid not in self._cancelled:
                    self._results.append(self._failed(tid, reason))
        self._lock.notify_all()

    def connected(self, conn: Conn) -> None:
        self._conns.add(conn)
        self._connections_made += 1
        self._wake_jobs.set()  # another slot job may start (_start_limit)

    def disconnected(self, conn: Conn) -> None:
        self._conns.discard(conn)

    def _slot_config(self, slot: int) -> SlotConfig:
        return SlotConfig(self._run_id, self._address[0], self._address[1], self._token, slot, self._fn_payload)

    # -- internals ----------------------------------------------------------------------------

    def _start_thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _failed(self, tid: int, reason: str) -> Outcome:
        return Outcome(
            tid=tid,
            state=ERROR,
            error=("SparkError", reason),
            end=time.time(),
            attempts=max(1, self._attempts[tid]),
        )

    def _take(self) -> Task | None:
        """Block until a task is queued (returns it, counted as an attempt) or the run closes."""
        with self._lock:
            while not self._pending and not self._closed:
                self._lock.wait()
            if self._closed:
                return None
            task = self._pending.popleft()
            self._attempts[task.tid] += 1
            return task

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
                return self._slot_tags.get(where.slot) if alive else None

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

    def _run_job(self, main: Callable[..., Any], config: Any, tag: str) -> list[Any]:
        """One Spark job of one task running ``main(config, batches)``, tagged ``tag``.

        Classic Spark: an RDD job (``parallelize([0], 1).mapPartitions``), whose Python worker
        does not import pyarrow; the first trial of a fresh session starts ~4 s
        sooner than through ``mapInArrow`` (benchmarks/README.md, "Spark engine"). It is also how
        a resource profile is attached on pyspark 3.5, whose ``mapInArrow`` takes none. Spark
        Connect (no RDDs), or a classic session that refuses RDDs: ``mapInArrow``.
        """
        compat.add_tag(self._spark, tag)
        try:
            rdd = self._rdd_job(main, config) if self._use_rdd else None
            if rdd is not None:
                return list(rdd.collect())
            df = self._spark.range(0, 1, 1, 1)
            kwargs = {"profile": self._profile} if self._profile is not None else {}
            return list(df.mapInArrow(functools.partial(main, config), OUTPUT_SCHEMA, **kwargs).collect())
        finally:
            compat.remove_tag(self._spark, tag)

    def _rdd_job(self, main: Callable[..., Any], config: Any) -> Any:
        """The RDD of a one-task job running ``main``'s task, or None when RDDs are refused
        (then every later job goes through ``mapInArrow``)."""
        try:
            rdd = self._spark.sparkContext.parallelize([0], 1)
            if self._profile is not None:
                rdd = rdd.withResources(self._profile)
            kind = "slot" if main is slot_main else "inline"
            return rdd.mapPartitions(functools.partial(rdd_entry, kind, config))
        except Exception as exc:  # noqa: BLE001 - e.g. a cluster whose security manager blocks RDDs
            if self._profile is not None and not compat.map_in_arrow_takes_profile():
                raise
            with self._lock:
                if self._use_rdd:
                    self._use_rdd = False
                    logger.info("RDD jobs are refused here (%s): trial tasks go through mapInArrow", exc)
            return None

    def _give_up(self, reason: str) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = reason
                logger.error("%s", reason)
            for task in self._pending:
                self._results.append(self._failed(task.tid, reason))
            self._pending.clear()
            self._lock.notify_all()

    def _slot_loop(self, slot: int) -> None:
        """Keep one long-lived slot job running until close (restart it when it dies): one
        thread per slot, blocked in the job (Spark Connect, or mapInArrow tasks)."""
        compat.set_scheduler_pool(self._spark, "sparktune")
        generation = 0
        while True:
            with self._lock:
                if self._closed or self._failure is not None or self._fell_back:
                    return
            generation += 1
            tag = f"sparktune-{self._run_id}-slot{slot}-{generation}"
            self._slot_tags[slot] = tag
            config = self._slot_config(slot)
            connected_before = self._connections_made
            try:
                self._run_job(slot_main, config, tag)
                error = None
            except Exception as exc:  # noqa: BLE001 - a failed slot job is restarted
                error = summarize_exception(exc)
                logger.info("slot %d job ended with %s", slot, error)
            if not self._slot_job_ended(error, connected_before):
                return
            time.sleep(0.05 if error is None else 0.2)

    def _slot_job_ended(self, error: str | None, connected_before: int) -> bool:
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
            self._give_up(
                "Spark could not run sparktune's worker on the executors "
                f"({_MAX_SLOT_FAILURES} slot jobs in a row failed before connecting back to "
                f"{self._address[0]}:{self._address[1]}). Is sparktune installed on the "
                "executors, and can they reach the driver? Last error: " + fail
            )
            return False
        return True

    def _slot_jobs(self) -> None:
        try:
            self._watch_slot_jobs()
        except Exception as exc:  # noqa: BLE001 - never leave the run waiting for slots that never come
            logger.exception("the slot jobs' thread failed")
            self._give_up(f"sparktune's slot jobs failed: {summarize_exception(exc)}")

    def _watch_slot_jobs(self) -> None:
        """Classic Spark with RDD tasks: every slot job is submitted asynchronously
        (``JavaRDD.countAsync``) and watched from this one thread, so the driver holds one thread
        for the slot jobs whatever the parallelism. A job is looked at only while its slot has
        no connected worker (starting, or its worker died); a job that ended is started again.
        In local mode at most ``_start_limit`` jobs start at a time."""
        compat.set_scheduler_pool(self._spark, "sparktune")
        jobs: dict[int, tuple[Any, int]] = {}  # slot -> (JavaFutureAction, connections before it)
        generation: collections.Counter[int] = collections.Counter()
        restart_at: dict[int, float] = {}

        def launch(slot: int) -> bool:
            generation[slot] += 1
            tag = f"sparktune-{self._run_id}-slot{slot}-{generation[slot]}"
            self._slot_tags[slot] = tag
            rdd = self._rdd_job(slot_main, self._slot_config(slot))
            if rdd is None:
                return False
            before = self._connections_made
            compat.add_tag(self._spark, tag)
            try:
                jobs[slot] = (rdd._jrdd.countAsync(), before)
            except Exception as exc:  # noqa: BLE001 - counts as a slot job that failed at once
                error = summarize_exception(exc)
                logger.info("slot %d job could not start: %s", slot, error)
                if self._slot_job_ended(error, before):
                    restart_at[slot] = time.monotonic() + 0.2
            finally:
                compat.remove_tag(self._spark, tag)
            return True

        def threads_instead(slots: Sequence[int]) -> None:
            for slot in slots:  # RDDs are refused here: blocking mapInArrow jobs, a thread each
                self._start_thread(functools.partial(self._slot_loop, slot), f"sparktune-slot-{slot}")

        unlaunched = collections.deque(range(self.parallelism))
        limit = _start_limit(self._spark, self.parallelism)

        def launch_some(connected: set[int]) -> None:
            starting = len(restart_at) + sum(1 for slot in jobs if slot not in connected)
            while unlaunched and starting < limit:
                slot = unlaunched.popleft()
                if not launch(slot):
                    threads_instead([slot, *unlaunched])
                    unlaunched.clear()
                    return
                starting += 1
                logger.debug("slot %d job submitted: %d slot job(s) starting (at most %d)", slot, starting, limit)

        launch_some(set())
        if unlaunched:
            logger.info("starting %d slot jobs, %d at a time (local mode)", self.parallelism, limit)
        turn = 0
        while True:
            self._wake_jobs.wait(_POLL_S)
            self._wake_jobs.clear()
            with self._lock:
                if self._closed or self._failure is not None or self._fell_back:
                    break
                connected = {conn.slot for conn in self._conns}
            now = time.monotonic()
            if unlaunched:
                launch_some(connected)
            for slot in [s for s, at in restart_at.items() if at <= now]:
                del restart_at[slot]
                if not launch(slot):
                    threads_instead([slot])
            unconnected = [s for s in jobs if s not in connected]
            if not unconnected:
                continue
            turn = (turn + _POLL_BUDGET) % len(unconnected)
            for slot in (unconnected + unconnected)[turn : turn + min(_POLL_BUDGET, len(unconnected))]:
                future, before = jobs[slot]
                if not future.isDone():
                    continue
                del jobs[slot]
                error = None
                try:
                    future.get()
                except Exception as exc:  # noqa: BLE001 - a failed slot job is restarted
                    error = summarize_exception(exc)
                    logger.info("slot %d job ended with %s", slot, error)
                if not self._slot_job_ended(error, before):
                    break
                restart_at[slot] = now + (0.05 if error is None else 0.2)
        # Closing (or given up): the workers were told to stop; wait for their jobs to end.
        for grace, interrupt in ((10.0, False), (10.0, True)):
            if interrupt and jobs:
                logger.warning("interrupting %d slot job(s) that did not stop by themselves", len(jobs))
                for slot in jobs:
                    compat.interrupt_tag(self._spark, self._slot_tags[slot])
            deadline = time.monotonic() + grace
            while jobs and time.monotonic() < deadline:
                for slot in [s for s, (future, _) in jobs.items() if future.isDone()]:
                    del jobs[slot]
                if jobs:
                    time.sleep(0.01 * min(20, 1 + len(jobs) // 16))  # fewer JVM calls for many jobs

    def _fall_back(self, reason: str) -> None:
        """transport="auto": executors cannot reach this process; run one Spark job per trial."""
        with self._lock:
            if self._fell_back or self._closed:
                return
            self._fell_back = True
            self.transport = "jobs"
        logger.warning(
            "executors could not connect back to %s:%d (%s); falling back to one Spark job per "
            "trial (set SPARKTUNE_CALLBACK_HOST to an address executors can reach to avoid this)",
            self._address[0],
            self._address[1],
            reason,
        )
        for slot in range(self.parallelism):
            self._start_thread(functools.partial(self._job_loop, slot), f"sparktune-slot-jobs-{slot}")

    def _job_loop(self, slot: int) -> None:
        """Transport "jobs": take a trial, run it as its own tagged one-task Spark job."""
        compat.set_scheduler_pool(self._spark, "sparktune")
        while True:
            task = self._take()
            if task is None:
                return
            tag = f"sparktune-{self._run_id}-trial{task.tid}-{self._attempts[task.tid]}"
            with self._lock:
                if task.tid in self._cancelled:
                    continue
                self._running[task.tid] = tag
                self._slot_tags[slot] = tag
            config = InlineConfig(self._run_id, self._fn_payload, cloudpickle.dumps(task), self._attempts[task.tid])
            try:
                rows = self._run_job(inline_main, config, tag)
            except Exception as exc:  # noqa: BLE001 - a failed job is a lost worker
                self._lost(task, f"its Spark job failed ({summarize_exception(exc)})")
                continue
            _, outcome = pickle.loads(rows[0]["outcome"])
            self._finish(outcome)


__all__ = ["ExecutorBackend", "ObjectiveNotPicklable", "SparkObjectInObjective", "dumps_objective"]
