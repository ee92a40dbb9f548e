"""run_on="executors" on each kind of Spark: trials in Spark Python workers."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from sparktune import STATUS_OK, fmin, hp, rand
from sparktune.backends._base import CANCELLED, ERROR, OK, Task
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR
from sparktune.spark import SparkTrials

from .conftest import SparkEnv, longest_overlap, wait_no_active_jobs

pytestmark = pytest.mark.spark


def _objective(params: dict) -> dict:
    x = params["x"]
    if x == "raise":
        raise ZeroDivisionError("boom from the objective")
    if x == "die":
        os._exit(3)
    if x == "sleep":
        time.sleep(60)
    return {"loss": float(x) ** 2, "status": STATUS_OK, "pid": os.getpid()}


def _collect(backend, n: int, timeout: float = 120) -> dict:
    got: dict = {}
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        for out in backend.wait(deadline - time.monotonic()):
            got[out.tid] = out
    return got


def _two_seconds(params: dict) -> dict:
    time.sleep(2.0)
    return {"loss": params["x"] ** 2, "status": STATUS_OK, "pid": os.getpid()}


def test_trials_run_in_python_workers_in_parallel(spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=spark.session)
    fmin(
        _two_seconds,
        {"x": hp.uniform("x", -1, 1)},
        algo=rand.suggest,
        max_evals=4,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert [t["state"] for t in trials.all_trials] == [JOB_STATE_DONE] * 4
    assert all(r["loss"] == pytest.approx(v**2) for r, v in zip(trials.results, trials.vals["x"]))
    pids = {r["pid"] for r in trials.results}
    assert os.getpid() not in pids  # in Spark's Python workers, not the driver
    # Two trials of 2 s ran at the same time (one after the other they would overlap by ~0 s).
    assert longest_overlap(trials) > 1.0, [(t["book_time"], t["refresh_time"]) for t in trials.all_trials]
    assert wait_no_active_jobs(spark) == []


def test_failures_come_back_as_data_and_dead_workers_are_retried(spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=spark.session, max_retries=1)
    backend = trials._make_backend(_objective)
    try:
        backend.submit([Task(0, {"x": "raise"}), Task(1, {"x": "die"})])
        got = _collect(backend, 2)
        backend.submit([Task(2, {"x": 2.0})])  # the slots recover after the worker death
        got.update(_collect(backend, 1))
    finally:
        backend.close()
    raised, died, fine = got[0], got[1], got[2]
    assert raised.state == ERROR and raised.error[0] == "ZeroDivisionError"
    assert "boom from the objective" in raised.traceback
    assert died.state == ERROR and died.error[0] == "WorkerLost"
    assert died.attempts == 2 and "max_retries=1" in died.error[1]
    assert fine.state == OK and fine.result["loss"] == 4.0


def test_cancel_stops_the_running_trial_and_its_job(spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=spark.session)
    backend = trials._make_backend(_objective)
    try:
        backend.submit([Task(0, {"x": "sleep"}), Task(1, {"x": 1.0})])
        assert _collect(backend, 1)[1].state == OK
        time.sleep(0.5)
        backend.cancel([0])
        out = backend.wait(5)
        assert [o.state for o in out] == [CANCELLED] and out[0].tid == 0
        backend.submit([Task(2, {"x": 2.0})])
        assert _collect(backend, 1)[2].state == OK
    finally:
        backend.close()
    assert wait_no_active_jobs(spark) == []


def test_fmin_end_to_end_with_trial_timeout(spark: SparkEnv) -> None:
    space = {"x": hp.choice("x", [1.0, 2.0, "sleep", "raise"])}
    trials = SparkTrials(parallelism=2, spark_session=spark.session, trial_timeout=3)
    best = fmin(
        _objective,
        space,
        algo=rand.suggest,
        max_evals=12,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert best == {"x": 0}
    states = {t["state"] for t in trials.all_trials} if hasattr(trials, "all_trials") else set()
    assert JOB_STATE_DONE in states
    assert len(trials.all_trials) == 12
    by_x = {}
    for t in trials.all_trials:
        by_x.setdefault(t["misc"]["vals"]["x"][0], set()).add(t["state"])
    assert by_x.get(2, {JOB_STATE_CANCEL}) == {JOB_STATE_CANCEL}
    assert by_x.get(3, {JOB_STATE_ERROR}) == {JOB_STATE_ERROR}
    assert wait_no_active_jobs(spark) == []


def test_jobs_transport_one_job_per_trial(spark: SparkEnv) -> None:
    """The fallback for executors that cannot reach the driver (a remote Connect server)."""
    trials = SparkTrials(parallelism=2, spark_session=spark.session, transport="jobs", max_retries=1)
    backend = trials._make_backend(_objective)
    assert backend.transport == "jobs"
    try:
        backend.submit([Task(0, {"x": 3.0}), Task(1, {"x": "raise"})])
        got = _collect(backend, 2)
        backend.submit([Task(2, {"x": "sleep"}), Task(3, {"x": "die"})])
        time.sleep(2.0)
        backend.cancel([2])
        got.update(_collect(backend, 2))
    finally:
        backend.close()
    assert got[0].state == OK and got[0].result["loss"] == 9.0
    assert got[1].state == ERROR and got[1].error[0] == "ZeroDivisionError"
    assert got[2].state == CANCELLED
    assert got[3].state == ERROR and got[3].error[0] == "WorkerLost"
    assert wait_no_active_jobs(spark) == []


@pytest.mark.spark_kind("local", "standalone")
@pytest.mark.parametrize("transport", ["socket", "jobs"])
def test_a_large_objective_reaches_the_executors_as_one_broadcast(
    spark: SparkEnv, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An objective that captured 3.2 MB of data is broadcast once per run, not once per slot
    job or trial job (Spark broadcasts any pickled command over 1 MiB, so each job would make
    its own copy), and the broadcast is destroyed when the run ends."""
    from pyspark import SparkContext

    data = np.arange(400_000, dtype=float)  # 3.2 MB, captured by value
    large: list = []  # the broadcasts of 1 MiB or more made during the run
    real_broadcast = SparkContext.broadcast

    def counting_broadcast(self, value):  # the real broadcast, counted
        made = real_broadcast(self, value)
        if len(value) >= 1 << 20:
            large.append(made)
        return made

    monkeypatch.setattr(SparkContext, "broadcast", counting_broadcast)

    def objective(x: float) -> float:
        return float(data[-1]) + x

    trials = SparkTrials(parallelism=4, spark_session=spark.session, transport=transport)
    fmin(objective, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=8, trials=trials, show_progressbar=False)
    assert trials.count_successful_trials() == 8
    assert all(r["loss"] == pytest.approx(399_999 + v) for r, v in zip(trials.results, trials.vals["x"]))
    assert len(large) == 1, f"{len(large)} broadcasts of 1 MiB or more for one run"
    assert not large[0]._jbroadcast.isValid()  # destroyed when the run closed
    assert wait_no_active_jobs(spark) == []


@pytest.mark.spark_kind("standalone")  # task resource profiles need a cluster manager
def test_resource_profile_on_a_cluster(spark: SparkEnv) -> None:
    """Stage-level scheduling (task resource profile) for the trial tasks; standalone cluster."""
    from pyspark.resource import ResourceProfileBuilder, TaskResourceRequests

    profile = ResourceProfileBuilder().require(TaskResourceRequests().cpus(1)).build
    trials = SparkTrials(parallelism=2, spark_session=spark.session, resource_profile=profile)
    best = fmin(
        _objective, {"x": hp.uniform("x", -1, 1)}, algo=rand.suggest, max_evals=6, trials=trials, show_progressbar=False
    )
    assert trials.count_successful_trials() == 6 and set(best) == {"x"}


def _worker_modules(params: dict) -> dict:
    import sys

    return {
        "loss": params["x"] ** 2,
        "status": STATUS_OK,
        "pyarrow": int("pyarrow" in sys.modules),
        "pandas": int("pandas" in sys.modules),
    }


def _modules_seen(spark: SparkEnv, transport: str) -> set[tuple[int, int]]:
    trials = SparkTrials(parallelism=2, spark_session=spark.session, transport=transport)
    fmin(
        _worker_modules,
        {"x": hp.uniform("x", -1, 1)},
        algo=rand.suggest,
        max_evals=4,
        trials=trials,
        show_progressbar=False,
    )
    assert trials.count_successful_trials() == 4
    return {(r["pyarrow"], r["pandas"]) for r in trials.results}


# Before the mapInArrow test below: Python workers are reused, and one that ran a mapInArrow task
# keeps pyarrow imported.
@pytest.mark.spark_kind("local", "standalone")
@pytest.mark.parametrize("transport", ["socket", "jobs"])
def test_classic_trial_tasks_import_neither_pyarrow_nor_pandas(spark: SparkEnv, transport: str) -> None:
    """On classic Spark the tasks are RDD jobs: a fresh worker starts without pyarrow (nor pandas)."""
    assert _modules_seen(spark, transport) == {(0, 0)}


@pytest.mark.spark_kind("local")
def test_executor_tasks_through_map_in_arrow_on_request(spark: SparkEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKTUNE_EXECUTOR_TASKS", "arrow")
    assert {arrow for arrow, _ in _modules_seen(spark, "socket")} == {1}  # mapInArrow's worker imports it
    monkeypatch.setenv("SPARKTUNE_EXECUTOR_TASKS", "rdd")
    trials = SparkTrials(parallelism=2, spark_session=spark.session)
    with pytest.raises(ValueError, match="SPARKTUNE_EXECUTOR_TASKS must be 'auto' or 'arrow', got 'rdd'"):
        fmin(_worker_modules, {"x": hp.uniform("x", -1, 1)}, algo=rand.suggest, max_evals=1, trials=trials)
    assert len(trials.trials) == 0


@pytest.mark.spark_kind("local", "standalone")
def test_in_local_mode_slot_jobs_start_a_few_at_a_time(spark: SparkEnv, caplog: pytest.LogCaptureFixture) -> None:
    # A new Spark Python worker spends ~0.3-0.5 s of CPU starting; in local mode at most twice
    # this machine's cores start at once (the next ones when workers connect) until a worker
    # connects at once (a warm one); elsewhere all start at once.
    import re

    from sparktune.backends._slot_jobs import _start_limit

    parallelism = 2 * len(os.sched_getaffinity(0)) + 2
    limit = _start_limit(spark.session, parallelism)
    if spark.kind == "local":
        assert limit == 2 * len(os.sched_getaffinity(0)) < parallelism
    else:
        assert limit == parallelism  # executors elsewhere: their cores are not this machine's

    def objective(params: dict) -> float:
        time.sleep(0.2)
        return params["x"]

    with caplog.at_level("DEBUG", logger="sparktune.backends.spark_executors"):
        trials = SparkTrials(parallelism=parallelism, spark_session=spark.session)
        fmin(objective, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=parallelism, trials=trials)
    messages = [r.getMessage() for r in caplog.records]
    warm = next((i for i, m in enumerate(messages) if "a warm worker" in m), len(messages))
    starts = [
        (i, int(m[1]), int(m[2]))
        for i, m in enumerate(re.match(r"slot (\d+) job submitted: (\d+) slot job", m) for m in messages)
        if m
    ]
    assert trials.count_successful_trials() == parallelism
    assert sorted(slot for _, slot, _ in starts) == list(range(parallelism)), starts
    # The first `limit` jobs are submitted together; no more than `limit` start at once until a
    # worker has shown that workers are warm.
    assert [starting for _, _, starting in starts[:limit]] == list(range(1, limit + 1)), starts
    assert max(starting for i, _, starting in starts if i < warm) == limit, starts


@pytest.mark.spark_kind("local", "standalone")
def test_on_classic_spark_one_driver_thread_watches_every_slot_job(spark: SparkEnv) -> None:
    # The slot jobs are submitted asynchronously and the workers' connections share one
    # selector loop: the driver's threads do not grow with the parallelism.
    seen: list[set[str]] = []

    def objective(params: dict) -> float:
        time.sleep(0.5)
        return params["x"]

    trials = SparkTrials(parallelism=6, spark_session=spark.session)
    sampler_stop = threading.Event()

    def sample() -> None:
        while not sampler_stop.wait(0.2):
            seen.append({t.name for t in threading.enumerate() if t.name.startswith("sparktune")})

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        fmin(
            objective,
            {"x": hp.uniform("x", 0, 1)},
            algo=rand.suggest,
            max_evals=12,
            trials=trials,
            show_progressbar=False,
        )
    finally:
        sampler_stop.set()
        watcher.join()
    assert trials.count_successful_trials() == 12
    busiest = max(seen, key=len)
    assert {"sparktune-slot-jobs", "sparktune-slot-server"} <= busiest
    assert not [
        name
        for names in seen
        for name in names
        if name.startswith(("sparktune-slot-", "sparktune-conn"))
        and name not in ("sparktune-slot-jobs", "sparktune-slot-server")
    ]
    assert max(sum(name.startswith("sparktune-submit") for name in names) for names in seen) <= 8
