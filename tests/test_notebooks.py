"""The notebooks in notebooks/ (Databricks source format) run end to end as scripts on local Spark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.spark
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path):
    env = {
        **os.environ,
        "SPARKTUNE_NOTEBOOK_MAX_EVALS": "6",
        "SPARKTUNE_NOTEBOOK_OUTPUT": str(tmp_path),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
    }
    # A Connect session made earlier in this process (the Spark fixtures) leaves these set; a
    # notebook started from here would then try to build a Connect session.
    env.pop("MLFLOW_TRACKING_URI", None)  # the notebook keeps its runs in its output folder
    for var in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "PYSPARK_GATEWAY_PORT"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, str(notebook)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the notebook's JVM is in this process group: killed below
    )
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "best" in out.lower()
    if notebook.stem == "02_mllib_with_sparktrials":
        _check_tracking_and_plots(tmp_path, trials=6)


def _check_tracking_and_plots(output: Path, trials: int) -> None:
    """The MLlib notebook's MLflow runs (notebook run > tuning run > one run per trial) and figures."""
    import matplotlib.image
    from mlflow.tracking import MlflowClient

    for name in ("history.png", "parallel_coordinate.png", "slice.png", "importances.png"):
        pixels = matplotlib.image.imread(output / name)[..., :3]
        assert pixels.std() > 0.05, f"{name} is blank"
    client = MlflowClient(tracking_uri=f"sqlite:///{output / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sparktune-mllib")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    by_parent: dict[str | None, list] = {}
    for run in runs:
        by_parent.setdefault(run.data.tags.get("mlflow.parentRunId"), []).append(run)
    (notebook_run,) = by_parent[None]
    (tuning_run,) = by_parent[notebook_run.info.run_id]
    children = by_parent[tuning_run.info.run_id]
    assert len(children) == trials and len(runs) == trials + 2
    assert all(set(c.data.params) == {"Iterations", "Regularization"} and "loss" in c.data.metrics for c in children)
    assert tuning_run.data.metrics["best_loss"] == min(c.data.metrics["loss"] for c in children)
    figures = {a.path for a in client.list_artifacts(notebook_run.info.run_id)}
    assert {"history.png", "importances.png"} <= figures
    assert list((output / "artifacts").rglob("history.png")), "the figures are not beside the database"
