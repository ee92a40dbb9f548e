"""MLflow tracking with SparkTrials: executor mode, driver mode, classic Spark and Spark Connect.

The trials are logged on the driver; executors never talk to MLflow (their objective has no
MLflow import). In driver mode the objective's own MLflow calls land in its trial's child run.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow_support import QUIET_ENV, migrated_db, runs_of  # noqa: E402

import sparktune.mlflow as tracking  # noqa: E402
from sparktune import STATUS_OK, fmin, hp, rand  # noqa: E402
from sparktune.spark import SparkTrials  # noqa: E402

from .conftest import SparkEnv  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.spark_kind("local", "connect")]

SPACE = {"x": hp.uniform("x", 0, 1), "act": hp.choice("act", ["relu", "tanh"])}


def objective(p: dict[str, Any]) -> Any:
    if p["x"] < 0.25:
        raise ValueError("x too low")
    return {"loss": p["x"], "status": STATUS_OK, "accuracy": 1 - p["x"]}


def driver_objective(p: dict[str, Any]) -> Any:
    import mlflow as m  # on the driver: the trial's child run is the active run in this thread

    m.log_metric("inside", p["x"])
    return objective(p)


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{migrated_db(tmp_path_factory.mktemp('mlflow-spark') / 'mlflow.db')}"


@pytest.fixture
def exp(sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for k, v in QUIET_ENV.items():
        monkeypatch.setenv(k, v)
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(sqlite_uri)
    name = f"spark-{uuid.uuid4().hex[:8]}"
    mlflow.MlflowClient().create_experiment(name, artifact_location=(tmp_path / "artifacts").as_uri())
    tracking.autolog(experiment_name=name)
    yield name
    tracking.autolog(disable=True)
    mlflow.set_tracking_uri(before)


@pytest.mark.parametrize("run_on", ["executors", "driver"])
def test_one_parent_and_one_child_per_trial(spark: SparkEnv, exp: str, sqlite_uri: str, run_on: str) -> None:
    trials = SparkTrials(parallelism=2, spark_session=spark.session, run_on=run_on)
    points = [{"x": 0.1, "act": 0}]  # one trial that raises
    fmin(
        driver_objective if run_on == "driver" else objective,
        SPACE,
        algo=rand.suggest,
        max_evals=8,
        trials=trials,
        rstate=3,
        points_to_evaluate=points,
        show_progressbar=False,
    )
    found = runs_of(sqlite_uri, exp)
    assert len(found["parents"]) == 1
    parent = found["parents"][0]
    assert parent.data.params["run_on"] == run_on and parent.data.params["parallelism"] == "2"
    children = found["children"][parent.info.run_id]
    by_tid = {int(r.data.tags["sparktune.tid"]): r for r in children}
    assert sorted(by_tid) == sorted(trials._records) and len(children) == 8
    for tid, run in by_tid.items():
        t = trials._records[tid]
        assert run.data.params["act"] == ["relu", "tanh"][t.vals["act"]]
        if t.error is not None:
            assert run.info.status == "FAILED" and run.data.tags["sparktune.error_type"] == "ValueError"
        else:
            assert run.info.status == "FINISHED" and run.data.metrics["loss"] == t.loss
            assert run.data.metrics["accuracy"] == pytest.approx(1 - t.loss)
        if run_on == "driver":  # logged by the objective itself, into its own trial's run
            assert run.data.metrics["inside"] == pytest.approx(t.vals["x"])
        else:
            assert "inside" not in run.data.metrics
    assert parent.data.metrics["best_loss"] == min(t.loss for t in trials._records.values() if t.loss is not None)
