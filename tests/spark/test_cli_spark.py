"""The command line on Spark: the demo, a job file, and the README's spark-submit line."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sparktune import cli

from .conftest import REPO, SPARK_HOME, SparkEnv, _env

pytestmark = pytest.mark.spark


def _job_file(tmp_path: Path, **study: object) -> Path:
    """conf/demo.toml with ``study`` keys replaced."""
    text = (REPO / "conf" / "demo.toml").read_text()
    for key, value in study.items():
        lines = text.splitlines()
        i = next(i for i, line in enumerate(lines) if line.startswith(f"{key} "))
        lines[i] = f"{key} = {json.dumps(value)}"
        text = "\n".join(lines) + "\n"
    path = tmp_path / "job.toml"
    path.write_text(text)
    return path


def test_demo_on_spark(local_spark: SparkEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--max-evals", "2", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("sparktune demo: 2 trials in ")
    assert out.splitlines()[0].endswith(" s on spark (driver, parallelism 4)")
    assert "ok 2, failed 0, cancelled 0" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["trials"] == 2 and -1.0 <= summary["best_loss"] < -0.5
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert [r["state"] for r in rows] == ["done", "done"]


def test_job_file_on_spark_resumes(local_spark: SparkEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save = tmp_path / "run.jsonl"
    job = _job_file(tmp_path, max_evals=2, trials_save_file=str(save))
    assert cli.main(["run", "--conf", str(job), "--check"]) == 0
    assert not save.exists()
    assert cli.main(["run", "--conf", str(job), "--output", str(tmp_path / "first")]) == 0
    assert cli.main(["run", "--conf", str(job), "--max-evals", "3", "--output", str(tmp_path / "second")]) == 0
    assert "ok 3, failed 0, cancelled 0" in capsys.readouterr().out
    summary = json.loads((tmp_path / "second" / "summary.json").read_text())
    assert summary["trials"] == 3 and summary["engine"] == "spark (driver, parallelism 4)"
    assert len(save.read_text().splitlines()) == 1 + 3  # header and 3 trials: the second run added one


def _readme_spark_submit_line() -> str:
    lines = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("spark-submit ")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.spark_kind("standalone")
def test_readme_spark_submit_line_runs_on_the_standalone_cluster(spark: SparkEnv, tmp_path: Path) -> None:
    line = _readme_spark_submit_line()
    assert "--master spark://host:7077 " in line and line.endswith(" run --conf conf/demo.toml")
    assert spark.master_url is not None
    command = line.replace("spark://host:7077", spark.master_url) + f" --max-evals 2 --json --output {tmp_path}"
    env = _env()
    env["PATH"] = os.pathsep.join([str(SPARK_HOME / "bin"), str(Path(sys.executable).parent), env["PATH"]])
    for key in ("SPARK_REMOTE", "PYSPARK_GATEWAY_PORT", "PYSPARK_GATEWAY_SECRET"):
        env.pop(key, None)
    apps_before = set((spark.log_dir / "work").glob("app-*"))
    proc = subprocess.Popen(
        ["bash", "-c", command],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, err[-4000:]
    # spark-submit merges the Python process's stderr (log lines) into its stdout: the JSON follows them.
    summary = json.loads(out[out.index("{\n") :])
    assert summary["trials"] == 2 and summary["failed"] == 0
    assert summary["engine"] == "spark (driver, parallelism 4)"
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    # It ran as an application of its own on the cluster: the worker started an executor for it.
    assert len(set((spark.log_dir / "work").glob("app-*")) - apps_before) == 1
