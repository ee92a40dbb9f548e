"""The sparktune command: job files, validation, the demo without Spark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sparktune import cli

ROOT = Path(__file__).resolve().parents[1]


def test_conf_demo_matches_built_in_defaults():
    assert cli.load_config(str(ROOT / "conf" / "demo.toml")) == cli.DEMO_CONFIG


def test_demo_local_runs_and_prints_summary(tmp_path):
    out_file = tmp_path / "summary.json"
    code = cli.main(["demo", "--local", "--max-evals", "12", "--output", str(out_file)])
    assert code == 0
    summary = json.loads(out_file.read_text())
    assert summary["trials"] == 12 and summary["failed"] == 0 and summary["engine"] == "local"
    assert -1.0 <= summary["best_loss"] < -0.9  # hold-out accuracy above 90%
    assert set(summary["best"]) == {"Iterations", "Regularization"}


def test_run_local_job_file_resumes_from_trials_file(tmp_path):
    save = tmp_path / "run.jsonl"
    conf = ROOT / "conf" / "demo-local.toml"
    assert cli.main(["run", "--conf", str(conf), "--max-evals", "5", "--trials-save-file", str(save)]) == 0
    assert cli.main(["run", "--conf", str(conf), "--max-evals", "9", "--trials-save-file", str(save)]) == 0
    assert len(save.read_text().splitlines()) == 1 + 9


@pytest.mark.parametrize(
    "toml, words",
    [
        ('[study]\nalgo = "bayes"\n', ["algo", "'bayes'"]),
        ("[study]\nmax_evals = 0\n", ["max_evals", ">= 1", "0"]),
        ('[study]\nmax_evals = "ten"\n', ["max_evals", "'ten'"]),
        ('[trials]\nengine = "dask"\n', ["engine", "'dask'"]),
        ('[trials]\nrun_on = "gpu"\n', ["run_on", "'gpu'"]),
        (
            '[study]\nobjective = "nope"\nspace = "sparktune.demo:SPACE"\n[trials]\nengine = "local"\n',
            ["objective", "module:attribute"],
        ),
        (
            '[study]\nobjective = "sparktune.demo:nothing"\nspace = "sparktune.demo:SPACE"\n'
            '[trials]\nengine = "local"\n',
            ["no attribute", "nothing"],
        ),
        ("not = [toml", ["not valid TOML"]),
    ],
)
def test_bad_job_files_are_named(tmp_path, capsys, toml, words):
    path = tmp_path / "job.toml"
    path.write_text(toml)
    assert cli.main(["run", "--conf", str(path)]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err


def test_console_entry_point_runs_as_script():
    out = subprocess.run(
        [sys.executable, str(ROOT / "sparktune" / "cli.py"), "demo", "--local", "--max-evals", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["trials"] == 3
