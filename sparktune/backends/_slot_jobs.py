"""The slot jobs of transport "socket": ``parallelism`` long-lived Spark jobs of one task each,
whose task connects back to the slot server and pulls trials until told to stop.

On classic Spark they are submitted asynchronously (``JavaRDD.countAsync``) and watched from one
driver thread, whatever the parallelism; on Spark Connect, which has no asynchronous jobs, each
is a blocked driver thread. Each slot is its own job, so a cluster with dynamic allocation sees
``parallelism`` pending tasks and scales for them, and one trial's worker can be stopped without
touching the others. A slot job that ended (its worker died, or it failed) is started again
until the run closes; the host (the executor backend) counts the failures and decides when to
fall back or give up.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import os
import threading
import time
from typing import Any, Protocol, Sequence

from sparktune import _spark_compat as compat
from sparktune.backends._spark_jobs import JobRunner, JobThreads, logger, summarize_exception
from sparktune.backends.spark_worker import SlotConfig, slot_main

# The slot-jobs thread looks at jobs every _POLL_S seconds, at most _POLL_BUDGET of them per look.
_POLL_S = 0.1
_POLL_BUDGET = 64
# A slot worker that connects this soon after its job was submitted ran in a Python worker that
# already existed (pyspark reuses idle workers): starting the rest at once costs no CPU then.
_WARM_START_S = 0.25
# Threads that submit slot jobs when several start at once (then dropped at close).
_SUBMIT_THREADS = 8


class SlotHost(Protocol):
    """What the slot jobs need from the executor backend."""

    run_id: str
    parallelism: int

    def slot_config(self, slot: int) -> SlotConfig: ...

    def slots_connected(self) -> set[int] | None:
        """The slots whose worker is connected now; None once no slot job should run (the run
        closed, fell back to transport "jobs" or gave up)."""

    def connections_made(self) -> int: ...

    def slot_job_ended(self, error: str | None, connections_before: int) -> bool:
        """Account for a slot job that ended (``error`` None: cleanly); False: start no other."""

    def give_up(self, reason: str) -> None: ...


def _start_limit(session: Any, parallelism: int) -> int:
    """How many slot jobs may be starting (their Python worker not yet connected) at once.

    In local mode the executor is this machine: a new Spark Python worker spends ~0.3-0.5 s of
    CPU importing pyspark's worker after its fork (measured with pyspark 4.3), so ``local[32]`` on
    2 cores started all at once shares the CPU among 32 starting workers and none runs a trial
    for ~6 s. Started a few at a time (twice as many as the machine has cores: a starting worker
    also waits on the JVM), the first workers run trials while the rest start; on 2 cores the mean
    start of 32 slots went from ~9 s to ~4-6 s. The limit is lifted as soon as a worker connects
    within ``_WARM_START_S`` of its job's submission: it was a warm worker, as in a second ``fmin``
    in the same session. Elsewhere the executors' cores are unknown here: all start at once.
    """
    if not compat.is_local_master(compat.master_of(session)):
        return parallelism
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(2, min(parallelism, 2 * cores))


class SlotJobs(JobThreads):
    """Keeps the run's slot jobs going until the host says no more (see the module docstring)."""

    def __init__(self, host: SlotHost, runner: JobRunner) -> None:
        super().__init__(runner)
        self.host = host
        self._event = threading.Event()  # wakes the watching thread

    def start(self) -> None:
        if self.runner.use_rdd:
            self.start_thread(self._watch_guarded, "sparktune-slot-jobs")
        else:
            self._threads_for(range(self.host.parallelism))

    def wake(self) -> None:
        """A worker connected (another slot job may start), or the run is closing."""
        self._event.set()

    def _threads_for(self, slots: Sequence[int]) -> None:
        for slot in slots:
            self.start_thread(functools.partial(self._slot_loop, slot), f"sparktune-slot-{slot}")

    def _slot_loop(self, slot: int) -> None:
        """Keep one slot job running until the run closes (restart it when it ends): one thread
        per slot, blocked in the job (Spark Connect, or mapInArrow tasks)."""
        compat.set_scheduler_pool(self.runner.spark, "sparktune")
        generation = 0
        while self.host.slots_connected() is not None:
            generation += 1
            tag = f"sparktune-{self.host.run_id}-slot{slot}-{generation}"
            self.tags[slot] = tag
            config = self.host.slot_config(slot)
            before = self.host.connections_made()
            try:
                self.runner.run(slot_main, config, tag)
                error = None
            except Exception as exc:  # noqa: BLE001 - a failed slot job is restarted
                error = summarize_exception(exc)
                logger.info("slot %d job ended with %s", slot, error)
            if not self.host.slot_job_ended(error, before):
                return
            time.sleep(0.05 if error is None else 0.2)

    def _watch_guarded(self) -> None:
        try:
            self._watch()
        except Exception as exc:  # noqa: BLE001 - never leave the run waiting for slots that never come
            logger.exception("the slot jobs' thread failed")
            self.host.give_up(f"sparktune's slot jobs failed: {summarize_exception(exc)}")

    def _watch(self) -> None:
        """Classic Spark with RDD tasks: every slot job is submitted asynchronously
        (``JavaRDD.countAsync``) and watched from this one thread, so the driver's threads for the
        slot jobs do not grow with the parallelism: this one, and up to ``_SUBMIT_THREADS`` that
        submit jobs when several start at once. A job is looked at only while its slot has
        no connected worker (starting, or its worker died); a job that ended is started again.
        In local mode at most ``_start_limit`` jobs start at a time."""
        host, spark = self.host, self.runner.spark
        compat.set_scheduler_pool(spark, "sparktune")
        jobs: dict[int, tuple[Any, int]] = {}  # slot -> (JavaFutureAction, connections before it)
        generation: collections.Counter[int] = collections.Counter()
        restart_at: dict[int, float] = {}

        launched_at: dict[int, float] = {}
        pool: concurrent.futures.ThreadPoolExecutor | None = None

        def submit(slot: int, tag: str) -> tuple[Any, str | None]:
            """Submit a slot's job (any thread): (JavaFutureAction, None), (None, error) when it
            could not start, (None, None) when RDDs are refused here."""
            rdd = self.runner.rdd(slot_main, host.slot_config(slot))
            if rdd is None:
                return None, None
            compat.add_tag(spark, tag)
            try:
                return rdd._jrdd.countAsync(), None
            except Exception as exc:  # noqa: BLE001 - counts as a slot job that failed at once
                return None, summarize_exception(exc)
            finally:
                compat.remove_tag(spark, tag)

        def launch(slots: list[int]) -> list[int]:
            """Submit these slots' jobs, from a few threads when there are several (each costs
            ~10-30 ms of JVM calls, mostly ``countAsync``); the slots whose jobs RDDs refused."""
            nonlocal pool
            batch = []
            for slot in slots:
                generation[slot] += 1
                tag = f"sparktune-{host.run_id}-slot{slot}-{generation[slot]}"
                self.tags[slot] = tag
                launched_at[slot] = time.monotonic()
                batch.append((slot, tag, host.connections_made()))
            if len(batch) > 1 and pool is None:
                pool = concurrent.futures.ThreadPoolExecutor(
                    _SUBMIT_THREADS,
                    thread_name_prefix="sparktune-submit",
                    initializer=compat.set_scheduler_pool,
                    initargs=(spark, "sparktune"),
                )
            if pool is None or len(batch) == 1:
                results = [submit(slot, tag) for slot, tag, _ in batch]
            else:
                results = list(pool.map(submit, [b[0] for b in batch], [b[1] for b in batch]))
            refused = []
            for (slot, _, before), (future, error) in zip(batch, results):
                if future is not None:
                    jobs[slot] = (future, before)
                elif error is not None:
                    logger.info("slot %d job could not start: %s", slot, error)
                    if host.slot_job_ended(error, before):
                        restart_at[slot] = time.monotonic() + 0.2
                else:
                    refused.append(slot)
            return refused

        unlaunched = collections.deque(range(host.parallelism))
        limit = _start_limit(spark, host.parallelism)
        seen: set[int] = set()  # slots seen connected

        def launch_some(connected: set[int]) -> None:
            starting = len(restart_at) + sum(1 for slot in jobs if slot not in connected)
            slots = [unlaunched.popleft() for _ in range(min(len(unlaunched), max(0, limit - starting)))]
            refused = launch(slots)
            if refused:  # RDDs are refused here: blocking mapInArrow jobs, a thread each
                self._threads_for([*refused, *unlaunched])
                unlaunched.clear()
            for slot in slots:
                if slot not in refused:
                    starting += 1
                    logger.debug("slot %d job submitted: %d slot job(s) starting (at most %d)", slot, starting, limit)

        launch_some(set())
        if unlaunched:
            logger.info("starting %d slot jobs, %d at a time (local mode)", host.parallelism, limit)
        turn = 0
        while True:
            self._event.wait(_POLL_S)
            self._event.clear()
            connected = host.slots_connected()
            if connected is None:
                break
            now = time.monotonic()
            if unlaunched:
                fast = [s for s in connected - seen if now - launched_at.get(s, -1e9) < _WARM_START_S]
                seen |= connected
                if fast and limit < host.parallelism:
                    limit = host.parallelism
                    logger.debug("slot %d connected at once (a warm worker): the other slot jobs start now", fast[0])
                launch_some(connected)
            due = [s for s, at in restart_at.items() if at <= now]
            for slot in due:
                del restart_at[slot]
            if due:
                self._threads_for(launch(due))
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
                if not host.slot_job_ended(error, before):
                    break
                restart_at[slot] = now + (0.05 if error is None else 0.2)
        if pool is not None:
            pool.shutdown(wait=False)
        # Closing (or given up): the workers were told to stop; wait for their jobs to end.
        for grace, interrupt in ((10.0, False), (10.0, True)):
            if interrupt and jobs:
                logger.warning("interrupting %d slot job(s) that did not stop by themselves", len(jobs))
                for slot in jobs:
                    compat.interrupt_tag(spark, self.tags[slot])
            deadline = time.monotonic() + grace
            while jobs and time.monotonic() < deadline:
                for slot in [s for s, (future, _) in jobs.items() if future.isDone()]:
                    del jobs[slot]
                if jobs:
                    time.sleep(0.01 * min(20, 1 + len(jobs) // 16))  # fewer JVM calls for many jobs


__all__ = ["SlotHost", "SlotJobs"]
