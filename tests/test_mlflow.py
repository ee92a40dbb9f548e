"""MLflow tracking (``sparktune.mlflow``) against real MLflow: a SQLite store and ``mlflow server``."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow_support import QUIET_ENV, PortForward, free_port, migrated_db, mlflow_server, runs_of  # noqa: E402

import sparktune.mlflow as tracking  # noqa: E402
from sparktune import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, rand  # noqa: E402

SPACE = {
    "x": hp.uniform("x", 0, 1),
    "act": hp.choice("act", ["relu", "tanh", 3]),
    "model": hp.choice("model", [{"k": hp.randint("k", 5)}, {"depth": 2}]),
}


def objective(p: dict[str, Any]) -> Any:
    if p["x"] < 0.2:
        raise ValueError("x too low " + "!" * 5100)  # longer than any MLflow tag value
    if p["x"] < 0.35:
        return {"status": STATUS_FAIL}
    return {"loss": p["x"], "status": STATUS_OK, "accuracy": 1 - p["x"]}


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{migrated_db(tmp_path_factory.mktemp('mlflow') / 'mlflow.db')}"


@pytest.fixture
def use_uri(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point MLflow at a URI for one test (restored after), with telemetry off."""
    for k, v in QUIET_ENV.items():
        monkeypatch.setenv(k, v)
    before = mlflow.get_tracking_uri()

    def use(uri: str) -> str:
        mlflow.set_tracking_uri(uri)
        return uri

    yield use
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(before)
    tracking.autolog(disable=True)


@pytest.fixture
def experiment(tmp_path: Path) -> Any:
    """``experiment(uri)``: a new experiment's name; its artifacts go to tmp (not ./mlruns)."""

    def make(uri: str) -> str:
        name = f"exp-{uuid.uuid4().hex[:8]}"
        mlflow.MlflowClient(tracking_uri=uri).create_experiment(name, artifact_location=(tmp_path / name).as_uri())
        return name

    return make


def run_fmin(n: int, trials: Trials | None = None, **kw: Any) -> Any:
    return fmin(
        kw.pop("fn", objective),
        SPACE,
        algo=rand.suggest,
        max_evals=n,
        trials=trials if trials is not None else Trials(),
        rstate=kw.pop("rstate", 7),
        catch_eval_exceptions=True,
        show_progressbar=False,
        **kw,
    )


def check_one_parent(uri: str, exp: str, trials: Trials) -> tuple[Any, list[Any]]:
    """MLflow holds one parent run and exactly one child run per trial of ``trials``."""
    found = runs_of(uri, exp)
    assert len(found["parents"]) == 1, [r.info.run_name for r in found["parents"]]
    parent = found["parents"][0]
    children = found["children"].get(parent.info.run_id, [])
    tids = sorted(int(r.data.tags["sparktune.tid"]) for r in children)
    assert tids == sorted(t.tid for t in trials._records.values()), tids
    return parent, children


def test_parent_and_one_child_per_trial_on_sqlite(sqlite_uri: str, use_uri: Any, experiment: Any) -> None:
    uri = use_uri(sqlite_uri)
    exp = experiment(uri)
    # children created after each trial (as on executors): their times are exactly the trial's
    tracking.autolog(experiment_name=exp, activate_trial_runs=False)
    trials = Trials()
    # one trial that raises and one that returns status fail, whatever the random draws
    points = [{"x": 0.1, "act": 1, "model": 1}, {"x": 0.3, "act": 2, "model": 0, "k": 3}]
    best = run_fmin(12, trials, points_to_evaluate=points)
    parent, children = check_one_parent(uri, exp, trials)
    by_tid = {int(r.data.tags["sparktune.tid"]): r for r in children}
    records = trials._records

    # the parent: settings, space as text, best values and loss, counts
    p = parent.data
    assert p.params["algo"] == "rand" and p.params["max_evals"] == "12"
    assert p.params["space.x"].startswith("Uniform(label='x', low=0.0, high=1.0")
    assert p.params["space.act"] == "choice(['relu', 'tanh', 3])"
    assert p.params["space.model"].startswith("Categorical(")
    ok = [t for t in records.values() if t.loss is not None]
    assert p.metrics["best_loss"] == min(t.loss for t in ok) == pytest.approx(best["x"])
    assert p.tags["best.x"] == str(best["x"])
    assert p.metrics["trials_total"] == 12
    assert p.metrics["trials_ok"] + p.metrics["trials_failed"] == 12
    assert parent.info.status == "FINISHED"
    assert by_tid[int(p.tags["sparktune.best_tid"])].info.run_id == p.tags["sparktune.best_run_id"]

    for tid, run in by_tid.items():
        t = records[tid]
        d = run.data
        assert run.info.run_name == f"trial-{tid}"
        assert d.tags["mlflow.parentRunId"] == parent.info.run_id
        # values by label: plain choice options as themselves, other choices by index
        assert d.params["x"] == str(t.vals["x"])
        assert d.params["act"] == str(["relu", "tanh", 3][t.vals["act"]])
        assert d.params["model"] == str(t.vals["model"])
        assert ("k" in d.params) == ("k" in t.vals)
        # times are the trial's book and refresh times
        assert abs(run.info.start_time - _ms(t.book_time)) <= 1
        assert abs(run.info.end_time - _ms(t.refresh_time)) <= 1
        assert d.metrics["duration_s"] == pytest.approx((t.refresh_time - t.book_time).total_seconds())
        if t.loss is not None:
            assert d.metrics["loss"] == t.loss and d.metrics["accuracy"] == pytest.approx(1 - t.loss)
            assert (run.info.status, d.tags["sparktune.status"], d.tags["sparktune.state"]) == (
                "FINISHED",
                "ok",
                "done",
            )
        elif t.error is not None:  # raised: FAILED with the error, truncated to MLflow's limit
            assert (run.info.status, d.tags["sparktune.state"]) == ("FAILED", "error")
            assert d.tags["sparktune.error_type"] == "ValueError"
            assert d.tags["sparktune.error_message"].startswith("x too low !!!")
            assert len(d.tags["sparktune.error_message"]) == tracking.MAX_TAG_VALUE
            tb = d.tags["sparktune.traceback"]  # the end of the traceback is kept
            assert tb.startswith("...") and tb.rstrip().endswith("!!!") and len(tb) == tracking.MAX_TAG_VALUE
        else:  # returned status fail
            assert (run.info.status, d.tags["sparktune.status"]) == ("FAILED", "fail")
            assert "loss" not in d.metrics
    assert any(records[t].error for t in by_tid) and any(
        records[t].loss is None and not records[t].error for t in by_tid
    )


def _ms(t: Any) -> int:
    import datetime as dt

    return int(t.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_objective_logs_into_its_trial_run_and_parent_nests_under_active_run(
    sqlite_uri: str, use_uri: Any, experiment: Any
) -> None:
    uri = use_uri(sqlite_uri)
    exp = experiment(uri)
    mlflow.set_experiment(exp)
    tracking.autolog()
    seen: list[str] = []

    def fn(p: dict[str, Any]) -> float:
        run = mlflow.active_run()
        seen.append(run.info.run_id)
        mlflow.log_metric("inside", p["x"])
        mlflow.log_param("from_objective", "yes")
        return float(p["x"])

    trials = Trials()
    with mlflow.start_run(run_name="user") as user_run:
        run_fmin(5, trials, fn=fn)
        assert mlflow.active_run().info.run_id == user_run.info.run_id  # the stack is as before
    found = runs_of(uri, exp)
    user = found["by_id"][user_run.info.run_id]
    sparktune_parents = [r for r in found["parents"] if r.info.run_id != user_run.info.run_id]
    assert len(sparktune_parents) == 1
    parent = sparktune_parents[0]
    assert parent.data.tags["mlflow.parentRunId"] == user.info.run_id
    children = found["children"][parent.info.run_id]
    assert sorted(seen) == sorted(r.info.run_id for r in children)
    for r in children:
        t = trials._records[int(r.data.tags["sparktune.tid"])]
        assert r.data.metrics["inside"] == pytest.approx(t.vals["x"])
        assert r.data.params["from_objective"] == "yes"
        assert r.info.status == "FINISHED"
        # created just before the objective started (the trial's book time), ended at its end
        assert 0 <= _ms(t.book_time) - r.info.start_time < 5000
        assert abs(r.info.end_time - _ms(t.refresh_time)) <= 1
    assert user.info.status == "FINISHED" and "inside" not in user.data.metrics


def test_resume_from_trial_file_continues_the_parent_without_duplicates(
    sqlite_uri: str, use_uri: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, experiment: Any
) -> None:
    uri = use_uri(sqlite_uri)
    exp = experiment(uri)
    tracking.autolog(experiment_name=exp)
    path = str(tmp_path / "trials.jsonl")
    run_fmin(5, Trials(), trials_save_file=path)
    parent1, children1 = check_one_parent(uri, exp, _loaded(path))
    # two trials lost from MLflow (as if the earlier process died before logging them)
    client = mlflow.MlflowClient(tracking_uri=uri)
    lost = sorted(children1, key=lambda r: r.data.tags["sparktune.tid"])[:2]
    for r in lost:
        client.delete_run(r.info.run_id)
    monkeypatch.setattr(tracking, "SEARCH_PAGE", 2)  # list the children over several pages
    trials = Trials()  # a new process: only the file is shared
    run_fmin(9, trials, trials_save_file=path)
    parent2, children2 = check_one_parent(uri, exp, trials)
    assert parent2.info.run_id == parent1.info.run_id
    assert len(children2) == 9
    kept = {r.info.run_id for r in children1} - {r.info.run_id for r in lost}
    assert kept <= {r.info.run_id for r in children2}  # the same runs, not new copies
    assert parent2.data.params["max_evals"] == "5" and parent2.data.tags["sparktune.setting.max_evals"] == "9"
    assert parent2.data.metrics["trials_total"] == 9
    # the same Trials again: the parent id comes from the store's metadata
    assert trials.store.metadata[tracking.META_PARENT] == parent1.info.run_id
    run_fmin(11, trials, trials_save_file=path)
    parent3, children3 = check_one_parent(uri, exp, trials)
    assert parent3.info.run_id == parent1.info.run_id and len(children3) == 11


def _loaded(path: str) -> Trials:
    return Trials.load(path)


def test_log_every_trial_false_writes_only_the_parent(sqlite_uri: str, use_uri: Any, experiment: Any) -> None:
    uri = use_uri(sqlite_uri)
    exp = experiment(uri)
    tracking.autolog(experiment_name=exp, log_every_trial=False)
    trials = Trials()
    run_fmin(6, trials, fn=lambda p: float(p["x"]))
    found = runs_of(uri, exp)
    assert len(found["parents"]) == 1 and not found["children"]
    history = found["client"].get_metric_history(found["parents"][0].info.run_id, "loss")
    assert sorted(m.step for m in history) == sorted(trials._records)


def test_disable_stops_logging(sqlite_uri: str, use_uri: Any, experiment: Any) -> None:
    uri = use_uri(sqlite_uri)
    exp = experiment(uri)
    tracking.autolog(experiment_name=exp)
    assert tracking.is_enabled()
    tracking.autolog(disable=True)
    assert not tracking.is_enabled()
    run_fmin(3, fn=lambda p: float(p["x"]))
    assert runs_of(uri, exp)["parents"] == []


def test_missing_mlflow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ImportError, match=r"pip install 'sparktune\[mlflow\]'"):
        tracking.autolog()


@pytest.mark.parametrize(
    ("kw", "rule"),
    [({"flush_timeout": 0}, "flush_timeout > 0"), ({"threads": 0}, "threads"), ({"experiment_name": ""}, "non-empty")],
)
def test_bad_options_name_the_rule(kw: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        tracking.autolog(**kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One ``mlflow server`` for this module (it takes 5-60 s to start, depending on load)."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as srv:
        yield srv


@pytest.mark.slow
def test_rest_server_parent_and_children(
    server: Any, use_uri: Any, experiment: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = use_uri(server.url)
    exp = experiment(uri)
    tracking.autolog(experiment_name=exp)
    trials = Trials()
    run_fmin(8, trials, points_to_evaluate=[{"x": 0.1, "act": 0, "model": 1}])
    parent, children = check_one_parent(uri, exp, trials)
    assert parent.info.status == "FINISHED"
    assert {r.info.status for r in children} == {"FINISHED", "FAILED"}
    assert capsys.readouterr().out.count("View run") <= 1  # MLflow's link for the parent, none per trial


@pytest.mark.slow
def test_server_down_warns_once_and_logs_when_it_comes_back(
    server: Any, use_uri: Any, experiment: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # MLflow's own HTTP retries would hide the outage for minutes: fail fast, sparktune retries
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    exp = experiment(server.url)
    gate = PortForward(free_port(), int(server.url.rsplit(":", 1)[1]))
    use_uri(gate.url)  # nothing listens there yet: the server is "down"
    tracking.autolog(experiment_name=exp, start_timeout=0.2, flush_timeout=60)

    def fn(p: dict[str, Any]) -> float:
        time.sleep(0.2)
        return float(p["x"])

    def on_progress(trials: Trials, *args: Any) -> tuple[bool, Any]:
        if len(trials._records) >= 4 and gate._sock is None:  # the server comes back while the run goes on
            gate.start()
        return False, args

    trials = Trials()
    try:
        with caplog.at_level(logging.WARNING, logger="sparktune"):
            best = run_fmin(8, trials, fn=fn, early_stop_fn=on_progress)
    finally:
        gate.stop()
    assert len(trials._records) == 8 and "x" in best
    warnings = [r.getMessage() for r in caplog.records if "MLflow" in r.getMessage()]
    assert sum("tracking at" in w for w in warnings) == 1, warnings  # one warning for the outage
    assert any("every trial was logged" in w for w in warnings), warnings
    check_one_parent(server.url, exp, trials)


@pytest.mark.slow
def test_server_down_for_the_whole_run_warns_and_fmin_returns(
    use_uri: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    use_uri(f"http://127.0.0.1:{free_port()}")
    tracking.autolog(experiment_name="never-created", start_timeout=0.2, flush_timeout=2)
    trials = Trials()
    with caplog.at_level(logging.WARNING, logger="sparktune"):
        t0 = time.monotonic()
        best = run_fmin(4, trials, fn=lambda p: float(p["x"]))
        elapsed = time.monotonic() - t0
    assert "x" in best and len(trials._records) == 4
    warnings = [r.getMessage() for r in caplog.records if "MLflow" in r.getMessage()]
    assert sum("tracking at" in w for w in warnings) == 1, warnings
    assert any("4 trial(s) and the parent run's summary could not be logged" in w for w in warnings), warnings
    assert elapsed < 15
