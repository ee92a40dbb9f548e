"""SparkTrials' arguments, its clear errors, and fmin-level behaviour (local session)."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from sparktune import _spark_compat as compat
from sparktune import fmin, hp, rand
from sparktune.backends.spark_executors import ObjectiveNotPicklable, SparkObjectInObjective
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR
from sparktune.spark import MAX_DEFAULT_PARALLELISM, SparkTrials

from .conftest import SparkEnv, wait_no_active_jobs

pytestmark = pytest.mark.spark


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"parallelism": 0}, ValueError, "parallelism=0"),
        ({"parallelism": 2.5}, TypeError, "parallelism=2.5"),
        ({"parallelism": True}, TypeError, "parallelism=True"),
        ({"timeout": -1}, ValueError, "timeout argument should be None or a positive value"),
        ({"loss_threshold": "x"}, ValueError, "loss_threshold argument should be None or a numeric"),
        ({"run_on": "gpu"}, ValueError, "run_on='gpu'"),
        ({"trial_timeout": 0}, ValueError, "trial_timeout argument should be None or a positive value. Given value: 0"),
        ({"synchronous": 1}, TypeError, "synchronous=1"),
        ({"max_retries": -1}, ValueError, "max_retries=-1"),
        ({"max_retries": 1.0}, TypeError, "max_retries=1.0"),
        ({"transport": "carrier-pigeon"}, ValueError, "transport='carrier-pigeon'"),
        ({"run_on": "driver", "resource_profile": object()}, ValueError, "run_on='executors'"),
    ],
)
def test_bad_arguments_are_refused_with_the_rule_and_the_value(kwargs: dict, exc: type, words: str) -> None:
    with pytest.raises(exc, match=words.replace("(", r"\(").replace("[", r"\[")):
        SparkTrials(**kwargs)


def test_missing_pyspark_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(compat.SparkUnavailableError, match="pip install 'sparktune\\[spark\\]'"):
        SparkTrials(parallelism=2)


def test_missing_java_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(compat.SparkUnavailableError, match="Java runtime"):
        compat.require_java()


def test_local_mode_sets_pyspark_python(local_spark: SparkEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    compat.set_local_python(local_spark.session)
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    assert local_spark.session.sparkContext.pythonExec == sys.executable


def test_default_parallelism_is_spark_default_capped(local_spark: SparkEnv, caplog: pytest.LogCaptureFixture) -> None:
    trials = SparkTrials(spark_session=local_spark.session)
    assert trials.parallelism == min(2, MAX_DEFAULT_PARALLELISM)
    with caplog.at_level("WARNING"):
        assert SparkTrials(parallelism=5, spark_session=local_spark.session).parallelism == 5
    assert "exceeds the cluster's 2 task slots" in caplog.text


def test_unpicklable_objective_is_named_before_any_trial(local_spark: SparkEnv) -> None:
    lock = threading.Lock()

    def objective(params: dict) -> float:
        with lock:
            return 0.0

    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    with pytest.raises(ObjectiveNotPicklable, match="closure variable 'lock'"):
        fmin(objective, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=2, trials=trials)
    assert len(trials.all_trials) == 0


def test_objective_holding_a_dataframe_is_told_to_use_the_driver(spark: SparkEnv) -> None:
    df = spark.session.range(3)  # a Connect DataFrame on the Connect kind

    def objective(params: dict) -> float:
        return float(df.count())

    trials = SparkTrials(parallelism=2, spark_session=spark.session)
    with pytest.raises(SparkObjectInObjective, match="run_on='driver'"):
        fmin(objective, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=2, trials=trials)


def _uses_spark_on_executor(params: dict) -> float:
    from pyspark.sql import SparkSession

    return float(SparkSession.builder.getOrCreate().range(3).count())


def test_objective_using_spark_on_an_executor_fails_with_a_clear_message(local_spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    best = fmin(
        _uses_spark_on_executor,
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=2,
        trials=trials,
        return_argmin=False,
        show_progressbar=False,
    )
    assert best is None
    errors = [t["misc"]["error"] for t in trials.all_trials]
    assert len(errors) == 2
    assert all("run_on='driver'" in message for _, message in errors), errors


def _sleep_x(params: dict) -> float:
    time.sleep(params["x"])
    return params["x"]


def test_timeout_cancels_running_trials_and_keeps_the_finished(local_spark: SparkEnv) -> None:
    space = {"x": hp.choice("x", [0.05, 120.0])}
    # 10 s: time for the Python workers to start and a 0.05-s trial to finish on a loaded machine
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session, timeout=10)
    t0 = time.monotonic()
    best = fmin(
        _sleep_x,
        space,
        algo=rand.suggest,
        max_evals=200,
        trials=trials,
        rstate=np.random.default_rng(3),
        show_progressbar=False,
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 60, elapsed  # a 120-s trial was stopped, not awaited (60 s: room for a loaded machine)
    assert best == {"x": 0}
    states = [t["state"] for t in trials.all_trials]
    assert JOB_STATE_DONE in states and JOB_STATE_CANCEL in states
    cancelled = [t for t in trials.all_trials if t["state"] == JOB_STATE_CANCEL]
    assert 1 in {t["misc"]["vals"]["x"][0] for t in cancelled}  # a 120-s trial, stopped early:
    assert all((t["refresh_time"] - t["book_time"]).total_seconds() < 60 for t in cancelled)
    assert JOB_STATE_ERROR not in states
    assert wait_no_active_jobs(local_spark) == []


def test_loss_threshold_from_the_constructor_stops_the_run(local_spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session, loss_threshold=0.5)
    fmin(
        lambda p: p["x"],
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=500,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert min(trials.losses()) <= 0.5
    assert len(trials.all_trials) < 500


def _jitter(params: dict) -> float:
    time.sleep(np.random.default_rng().uniform(0, 0.05))  # completion order varies between runs
    return (params["x"] - 0.3) ** 2


def _synchronous_run(env: SparkEnv) -> list:
    from sparktune import tpe

    trials = SparkTrials(parallelism=2, spark_session=env.session, synchronous=True)
    fmin(
        _jitter,
        {"x": hp.uniform("x", 0, 1)},
        algo=tpe.suggest,
        max_evals=26,
        trials=trials,
        rstate=np.random.default_rng(7),
        show_progressbar=False,
    )
    return [t["misc"]["vals"]["x"] for t in trials.trials]


#: kind -> the trials of ``_synchronous_run`` on it (local runs before standalone: see conftest)
_SYNCHRONOUS_RUNS: dict[str, list] = {}


def test_synchronous_mode_repeats_the_same_trials(local_spark: SparkEnv) -> None:
    first = _synchronous_run(local_spark)
    assert _synchronous_run(local_spark) == first
    _SYNCHRONOUS_RUNS["local"] = first


@pytest.mark.spark_kind("standalone")
def test_synchronous_mode_gives_the_same_trials_on_a_cluster_as_locally(spark: SparkEnv) -> None:
    if "local" not in _SYNCHRONOUS_RUNS:
        pytest.skip("needs test_synchronous_mode_repeats_the_same_trials to have run on the local kind first")
    on_cluster = _synchronous_run(spark)
    assert len(on_cluster) == 26
    assert on_cluster == _SYNCHRONOUS_RUNS["local"]


def test_hyperopt_counters(local_spark: SparkEnv) -> None:
    def objective(params: dict) -> dict:
        if params["x"] == 2:
            raise ValueError("bad x")
        return {"loss": 1.0, "status": "ok" if params["x"] == 0 else "fail"}

    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    fmin(
        objective,
        {"x": hp.choice("x", [0, 1, 2])},
        algo=rand.suggest,
        max_evals=12,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    ok, failed = trials.count_successful_trials(), trials.count_failed_trials()
    assert ok > 0 and failed > 0
    assert ok + failed + trials.count_cancelled_trials() == trials.count_total_trials() == 12


def _four_uniform_trials(trials: SparkTrials) -> None:
    fmin(
        lambda p: p["x"],
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=4,
        trials=trials,
        show_progressbar=False,
    )


def test_auto_transport_falls_back_to_jobs_when_it_cannot_listen(
    local_spark: SparkEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sparktune.backends import _slot_server

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("cannot bind here")

    monkeypatch.setattr(_slot_server.socket, "create_server", refuse)
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    backend = trials._make_backend(lambda p: p)
    try:
        assert backend.transport == "jobs"
    finally:
        backend.close()
    jobs_before = _job_ids(local_spark)
    with caplog.at_level("WARNING"):
        _four_uniform_trials(trials)
    assert trials.count_successful_trials() == 4
    assert "(cannot bind here): one Spark job per trial instead" in caplog.text
    # One Spark job per trial (the socket transport runs one long-lived job per slot: 2).
    assert len(_job_ids(local_spark) - jobs_before) >= 4


def _job_ids(env: SparkEnv) -> set[int]:
    """Ids of every job the classic session has run (none of sparktune's jobs has a job group)."""
    return set(env.session.sparkContext.statusTracker().getJobIdsForGroup(None))


@pytest.mark.parametrize("run_on", ["executors", "driver"])
def test_ctrl_c_cancels_running_trials_and_returns_the_best(local_spark: SparkEnv, run_on: str) -> None:
    import signal

    space = {"x": hp.choice("x", [0.05, 120.0])}
    warm = SparkTrials(parallelism=2, spark_session=local_spark.session, run_on=run_on)
    fmin(lambda p: 0.0, space, algo=rand.suggest, max_evals=2, trials=warm, show_progressbar=False)
    # Python workers are up now: the first trial below (x=0.05) finishes well before Ctrl-C.
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session, run_on=run_on)
    ctrl_c = threading.Timer(3.0, os.kill, args=(os.getpid(), signal.SIGINT))  # Ctrl-C in a notebook cell
    t0 = time.monotonic()
    ctrl_c.start()
    try:
        best = fmin(
            _sleep_x,
            space,
            algo=rand.suggest,
            max_evals=500,
            trials=trials,
            points_to_evaluate=[{"x": 0}],
            rstate=np.random.default_rng(5),
            show_progressbar=False,
        )
    finally:
        ctrl_c.cancel()
    assert best == {"x": 0}  # fmin returns the best finished trial instead of raising
    assert time.monotonic() - t0 < 60  # the 120-s trials were stopped, not awaited
    assert trials.count_successful_trials() >= 1
    assert trials.count_cancelled_trials() >= 1
    assert wait_no_active_jobs(local_spark) == []


def test_auto_transport_falls_back_to_jobs_when_executors_cannot_connect(
    local_spark: SparkEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sparktune.backends._slot_server import SlotServer

    start = SlotServer.start

    def refuse_connections(self: SlotServer) -> None:
        start(self)
        self.close_listener()  # like a firewall between executors and the driver: connection refused

    monkeypatch.setattr(SlotServer, "start", refuse_connections)
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    with caplog.at_level("WARNING"):
        _four_uniform_trials(trials)
    assert trials.count_successful_trials() == 4
    assert "falling back to one Spark job per trial" in caplog.text
    assert wait_no_active_jobs(local_spark) == []
