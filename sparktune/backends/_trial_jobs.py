"""Transport "jobs": each trial is one Spark job of one task, started from one of ``parallelism``
driver threads. For executors that cannot reach the driver (a remote Spark Connect client, as
from an IDE or serverless compute), and the fallback of transport "auto" when slot workers never
connect back. The trial travels inside the job; its outcome comes back as the job's one row.
"""

from __future__ import annotations

import functools
import pickle
from typing import Any, Protocol

import cloudpickle

from sparktune import _spark_compat as compat
from sparktune.backends._base import Outcome, Task
from sparktune.backends._spark_jobs import JobRunner, JobThreads, summarize_exception
from sparktune.backends.spark_worker import InlineConfig, inline_main


class TrialHost(Protocol):
    """What the trial jobs need from the executor backend (its queue)."""

    run_id: str
    shipped_payload: Any  # the pickled objective, or a Spark broadcast of it

    def take_trial(self) -> tuple[Task, int] | None:
        """Block until a trial is queued: it and its attempt number; None once the run closed."""

    def trial_job_starts(self, tid: int, tag: str) -> bool:
        """The trial's job is about to start, tagged ``tag``; False if it was cancelled meanwhile."""

    def trial_lost(self, task: Task, reason: str) -> None: ...

    def trial_done(self, outcome: Outcome) -> None: ...


class TrialJobs(JobThreads):
    """``parallelism`` threads, each taking a trial and running it as its own tagged job."""

    def __init__(self, host: TrialHost, runner: JobRunner) -> None:
        super().__init__(runner)
        self.host = host

    def start(self, parallelism: int) -> None:
        for slot in range(parallelism):
            self.start_thread(functools.partial(self._loop, slot), f"sparktune-slot-jobs-{slot}")

    def wake(self) -> None:
        """Nothing to do: threads waiting for a trial are woken by the host's queue at close."""

    def _loop(self, slot: int) -> None:
        compat.set_scheduler_pool(self.runner.spark, "sparktune")
        while True:
            taken = self.host.take_trial()
            if taken is None:
                return
            task, attempt = taken
            tag = f"sparktune-{self.host.run_id}-trial{task.tid}-{attempt}"
            if not self.host.trial_job_starts(task.tid, tag):
                continue
            self.tags[slot] = tag
            config = InlineConfig(self.host.run_id, self.host.shipped_payload, cloudpickle.dumps(task), attempt)
            try:
                rows = self.runner.run(inline_main, config, tag)
            except Exception as exc:  # noqa: BLE001 - a failed job is a lost worker
                self.host.trial_lost(task, f"its Spark job failed ({summarize_exception(exc)})")
                continue
            _, outcome = pickle.loads(rows[0]["outcome"])
            self.host.trial_done(outcome)


__all__ = ["TrialHost", "TrialJobs"]
