"""How the executor backend runs its Spark jobs: one task each, tagged, as an RDD job on classic
Spark and through ``DataFrame.mapInArrow`` on Spark Connect (which has no RDDs); and the driver
threads that keep them going, which ``close`` waits for and interrupts.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from typing import Any, Callable

from sparktune import _spark_compat as compat
from sparktune.backends.spark_worker import OUTPUT_SCHEMA, rdd_entry, slot_main

# The executor backend's parts log under its name: one logger to configure (and for the tests).
logger = logging.getLogger("sparktune.backends.spark_executors")


def summarize_exception(exc: BaseException) -> str:
    """``Type: message`` with the most telling line of a long Spark/Python error text."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    telling = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit)\b.*:", ln)]
    line = telling[-1] if telling else (lines[0] if lines else "")
    return f"{type(exc).__name__}: {line}"


class JobRunner:
    """Runs ``main(config, ...)`` as a one-task Spark job.

    Classic Spark: an RDD job (``parallelize([0], 1).mapPartitions``), whose Python worker does
    not import pyarrow; the first trial of a fresh session starts ~4 s sooner than through
    ``mapInArrow`` (benchmarks/README.md, "Spark engine"). It is also how a resource profile is
    attached on pyspark 3.5, whose ``mapInArrow`` takes none. Spark Connect (no RDDs), or a
    classic session that refuses RDDs: ``mapInArrow``.
    """

    def __init__(self, session: Any, *, use_rdd: bool, profile: Any = None) -> None:
        self.spark = session
        self.use_rdd = use_rdd
        self.profile = profile
        self._lock = threading.Lock()

    def run(self, main: Callable[..., Any], config: Any, tag: str) -> list[Any]:
        """Run the job to its end (blocking), tagged ``tag``; its output rows."""
        compat.add_tag(self.spark, tag)
        try:
            rdd = self.rdd(main, config) if self.use_rdd else None
            if rdd is not None:
                return list(rdd.collect())
            df = self.spark.range(0, 1, 1, 1)
            kwargs = {"profile": self.profile} if self.profile is not None else {}
            return list(df.mapInArrow(functools.partial(main, config), OUTPUT_SCHEMA, **kwargs).collect())
        finally:
            compat.remove_tag(self.spark, tag)

    def rdd(self, main: Callable[..., Any], config: Any) -> Any:
        """The RDD of a one-task job running ``main``'s task, or None when RDDs are refused
        (then every later job goes through ``mapInArrow``)."""
        try:
            rdd = self.spark.sparkContext.parallelize([0], 1)
            if self.profile is not None:
                rdd = rdd.withResources(self.profile)
            kind = "slot" if main is slot_main else "inline"
            return rdd.mapPartitions(functools.partial(rdd_entry, kind, config))
        except Exception as exc:  # noqa: BLE001 - e.g. a cluster whose security manager blocks RDDs
            if self.profile is not None and not compat.map_in_arrow_takes_profile():
                raise
            with self._lock:
                if self.use_rdd:
                    self.use_rdd = False
                    logger.info("RDD jobs are refused here (%s): trial tasks go through mapInArrow", exc)
            return None


class JobThreads:
    """The driver threads that run one kind of Spark job, and the tag of each one's current job
    (by slot), so that a trial's job can be interrupted and ``close`` can interrupt leftovers."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.tags: dict[int, str] = {}
        self._threads: list[threading.Thread] = []

    def start_thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def join(self, deadline: float) -> bool:
        """Wait until every thread has ended or ``deadline`` (``time.monotonic()``); True if all ended."""
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.alive()

    def alive(self) -> int:
        return sum(1 for thread in self._threads if thread.is_alive())

    def interrupt(self) -> None:
        """Interrupt every job these threads started (their threads then end)."""
        for tag in list(self.tags.values()):
            compat.interrupt_tag(self.runner.spark, tag)


__all__ = ["JobRunner", "JobThreads", "summarize_exception"]
