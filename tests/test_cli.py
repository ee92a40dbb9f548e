"""The sparktune command: job files, validation, the demo without Spark."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sparktune import cli

ROOT = Path(__file__).resolve().parents[1]


def test_conf_demo_matches_built_in_defaults():
    assert cli.load_config(str(ROOT / "conf" / "demo.toml")) == cli.DEMO_CONFIG


def _table(out: str) -> list[list[str]]:
    """The rows of the best-trials table printed by the command (between the header and the blank line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == ["tid", "loss", "duration", "params"])
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_demo_local_ends_with_a_table_of_the_best_trials(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--local", "--max-evals", "12"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("sparktune demo: 12 trials in ") and lines[0].endswith(" s on local")
    assert lines[1].startswith("ok 12, failed 0, cancelled 0; best loss -0.9")
    # the full results went to ./sparktune-demo, and the last line says so
    assert lines[-1] == "full results: sparktune-demo/trials.csv (one row per trial), sparktune-demo/summary.json"
    summary = json.loads((tmp_path / "sparktune-demo" / "summary.json").read_text())
    assert summary["trials"] == 12 and summary["failed"] == 0 and summary["engine"] == "local"
    assert -1.0 <= summary["best_loss"] < -0.9  # hold-out accuracy above 90%
    assert set(summary["best"]) == {"Iterations", "Regularization"}
    # the table: the 5 lowest losses of the CSV, best first, with each trial's params and duration
    table = csv.DictReader((tmp_path / "sparktune-demo" / "trials.csv").open())
    by_tid = {int(r["tid"]): r for r in table}
    assert len(by_tid) == 12
    rows = _table(out)
    assert len(rows) == 5
    best5 = sorted(float(r["loss"]) for r in by_tid.values())[:5]
    assert [float(r[1]) for r in rows] == pytest.approx(best5, abs=1e-6)
    assert float(rows[0][1]) == pytest.approx(summary["best_loss"], abs=1e-6)
    for tid, _loss, duration, unit, iterations, regularization in rows:
        source = by_tid[int(tid)]
        assert unit == "s" and float(duration) == pytest.approx(float(source["duration"]), abs=0.006)
        assert iterations == f"Iterations={source['Iterations']}"
        assert regularization == f"Regularization={float(source['Regularization']):.4g}"


def test_demo_json_flag_prints_the_summary_document(tmp_path, capsys):
    assert cli.main(["demo", "--local", "--max-evals", "3", "--json", "--output", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    assert summary["trials"] == 3 and set(summary["best_point"]) == {"Iterations", "Regularization"}


def test_run_output_dir_has_every_trial_in_the_csv_failed_ones_included(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pandas")
    (tmp_path / "half_fails.py").write_text(
        "from sparktune import hp\n"
        "SPACE = {'x': hp.uniform('x', 0, 1), 'k': hp.choice('k', ['a', 'b'])}\n"
        "def objective(p):\n"
        "    if p['x'] > 0.5:\n"
        "        raise ValueError('x too big')\n"
        "    return {'loss': p['x'], 'status': 'ok'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    job = tmp_path / "job.toml"
    job.write_text(
        '[study]\nobjective = "half_fails:objective"\nspace = "half_fails:SPACE"\nalgo = "rand"\n'
        'max_evals = 20\nseed = 1\n[trials]\nengine = "local"\n'
    )
    out_dir = tmp_path / "out"
    assert cli.main(["run", "--conf", str(job), "--output", str(out_dir)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader((out_dir / "trials.csv").open()))
    assert sorted(int(r["tid"]) for r in rows) == list(range(20))
    failed = [r for r in rows if float(r["x"]) > 0.5]
    assert 0 < len(failed) < 20
    assert {r["state"] for r in failed} == {"error"} and {r["error"] for r in failed} == {"ValueError: x too big"}
    assert all(r["loss"] == "" for r in failed)
    ok = [r for r in rows if float(r["x"]) <= 0.5]
    assert {r["state"] for r in ok} == {"done"} and all(float(r["loss"]) == float(r["x"]) for r in ok)
    assert all(r["k"] in ("0", "1") for r in rows)  # option index, as in misc["vals"]
    assert f"ok {len(ok)}, failed {len(failed)}, cancelled 0;" in out
    assert [float(r[1]) for r in _table(out)] == pytest.approx(sorted(float(r["x"]) for r in ok)[:5], rel=1e-5)
    assert (
        out.splitlines()[-1]
        == f"full results: {out_dir / 'trials.csv'} (one row per trial), {out_dir / 'summary.json'}"
    )


def test_run_without_output_says_results_were_not_saved(capsys):
    assert cli.main(["run", "--conf", str(ROOT / "conf" / "demo-local.toml"), "--max-evals", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "full results: not saved (use --output DIR)"


def test_output_without_pandas_is_refused_before_the_run(tmp_path):
    (tmp_path / "pandas").mkdir()
    (tmp_path / "pandas" / "__init__.py").write_text("raise ImportError(\"No module named 'pandas'\")\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    save = tmp_path / "run.jsonl"
    out = _cli(
        ["run", "--conf", "conf/demo-local.toml", "--trials-save-file", str(save), "--output", str(tmp_path / "o")],
        env,
    )
    _assert_user_error(out, ["--output writes trials.csv with pandas", "pip install pandas"])
    assert not save.exists()  # refused before any trial ran
    # the demo's default folder still gets the summary, and says why the table is missing
    out = _cli(["demo", "--local", "--max-evals", "2"], env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == (
        "full results: no trials.csv (it needs pandas: pip install pandas (or pip install 'sparktune[spark]', "
        "which includes it)), sparktune-demo/summary.json"
    )
    assert json.loads((tmp_path / "sparktune-demo" / "summary.json").read_text())["trials"] == 2


def test_quiet_spark_conf_points_the_driver_at_the_shipped_log4j2_file():
    path = cli.log4j_file()
    assert path is not None and Path(path).read_text() == (ROOT / "conf" / "log4j2.properties").read_text()
    conf = cli.quiet_spark_conf({"spark.driver.extraJavaOptions": "-Dx=1"})
    assert conf["spark.driver.extraJavaOptions"] == f"-Dx=1 -Dlog4j2.configurationFile=file:{path}"
    own = {"spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile=mine.properties"}
    assert cli.quiet_spark_conf(own) == own  # the job file's own log configuration wins
    assert "rootLogger.level = error" in Path(path).read_text()


def test_run_local_job_file_resumes_from_trials_file(tmp_path):
    save = tmp_path / "run.jsonl"
    conf = ROOT / "conf" / "demo-local.toml"
    assert cli.main(["run", "--conf", str(conf), "--max-evals", "5", "--trials-save-file", str(save)]) == 0
    assert cli.main(["run", "--conf", str(conf), "--max-evals", "9", "--trials-save-file", str(save)]) == 0
    assert len(save.read_text().splitlines()) == 1 + 9


@pytest.mark.parametrize(
    "toml, words",
    [
        ('[study]\nalgo = "bayes"\n', ["study.algo", "'bayes'"]),
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
        ("[study]\nmax_evals = 0\n", ["study.max_evals", ">= 1"]),
        ('[study]\nobjective = "sparktune.demo:SPACE"\nspace = "sparktune.demo:SPACE"\n', ["callable", "dict"]),
        ('[study]\nspace = "sparktune.demo:SPACE"\n', ["`study.objective` is required"]),
    ],
)
def test_bad_job_files_are_named(tmp_path, capsys, toml, words):
    path = tmp_path / "job.toml"
    path.write_text(toml)
    assert cli.main(["run", "--conf", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"job file {str(path)!r}" in err
    for w in words:
        assert w in err


VALID = '[study]\nobjective = "sparktune.demo:make_numpy_objective"\nspace = "sparktune.demo:SPACE"\n'


@pytest.mark.parametrize(
    "toml, message",
    [
        # a typo in a key: the nearest key of the section
        (VALID + "max_eval = 100\n", "unknown key `study.max_eval` (did you mean `study.max_evals`?)"),
        (VALID + "[trials]\nparalelism = 3\n", "unknown key `trials.paralelism` (did you mean `trials.parallelism`?)"),
        # a key in the wrong section: the same key where it belongs
        (VALID + "[trials]\nmax_evals = 5\n", "unknown key `trials.max_evals` (did you mean `study.max_evals`?)"),
        ("seed = 3\n" + VALID, "unknown key `seed` (did you mean `study.seed`?)"),
        # a typo in a section
        (VALID + "[trails]\nparallelism = 2\n", "unknown section `trails` (did you mean `trials`?)"),
        (VALID + "[spark.confs]\nx = 1\n", "unknown key `spark.confs` (did you mean `spark.conf`?)"),
        # nothing near: the section's keys are listed
        (VALID + "[trials]\nzzz = 1\n", "unknown key `trials.zzz` (known: engine, parallelism, run_on,"),
        # wrong value types
        (VALID + '[trials]\nsynchronous = "yes"\n', "`trials.synchronous` must be true or false, got "),
        (
            VALID + "[trials]\nparallelism = 2.0\n",
            "`trials.parallelism` must be an integer, got trials.parallelism=2.0",
        ),
        (VALID + 'timeout = "10"\n', "`study.timeout` must be a number, got study.timeout='10'"),
        (VALID + "[spark]\nconf = 3\n", "`spark.conf` must be a table, got spark.conf=3"),
        (VALID + '[spark.conf]\n"spark.jars" = ["a", "b"]\n', "`spark.conf.spark.jars` must be a string, number"),
        ("study = 3\n", "`study` must be a table ([study]), got study=3"),
    ],
)
def test_unknown_keys_sections_and_types_are_refused(tmp_path, capsys, toml, message):
    path = tmp_path / "typo.toml"
    path.write_text(toml)
    assert cli.main(["run", "--conf", str(path), "--max-evals", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert captured.err == f"sparktune: job file {str(path)!r}: " + captured.err.split(": ", 2)[2]
    assert message in captured.err, captured.err
    assert captured.err.count("\n") == 1  # one line


def test_check_validates_without_running_or_starting_spark(tmp_path, capsys):
    pyspark = pytest.importorskip("pyspark")
    save = tmp_path / "never.jsonl"
    conf = ROOT / "conf" / "demo.toml"
    assert cli.main(["run", "--conf", str(conf), "--check", "--trials-save-file", str(save)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"job file {str(conf)!r} is valid; `sparktune run` would run:"
    assert "sparktune.demo:make_mllib_objective (a factory: called with the SparkSession)" in out
    assert "(Iterations, Regularization)" in out
    assert "tpe, max_evals=30, seed=42" in out
    assert "spark on master local[2], run_on=driver, parallelism=4" in out
    assert str(save) in out
    assert not save.exists()  # no trial ran
    assert pyspark.SparkContext._active_spark_context is None  # no JVM, no session


def test_check_refuses_a_bad_job_file(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text(VALID + "max_eval = 100\n")
    assert cli.main(["run", "--conf", str(path), "--check"]) == 2
    assert "did you mean `study.max_evals`?" in capsys.readouterr().err


def _cli(args, env, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "sparktune.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def _assert_user_error(out, words):
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparktune: "), out.stderr  # one line, no traceback
    for w in words:
        assert w in lines[0]


def test_missing_pyspark_is_one_line_and_exit_2(tmp_path):
    # A package named pyspark that fails to import stands for a missing pyspark.
    (tmp_path / "pyspark").mkdir()
    (tmp_path / "pyspark" / "__init__.py").write_text("raise ImportError(\"No module named 'pyspark'\")\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env.pop("SPARK_REMOTE", None)
    for args in (["run", "--conf", "conf/demo.toml"], ["run", "--conf", "conf/demo.toml", "--check"], ["demo"]):
        _assert_user_error(_cli(args, env), ["needs pyspark", "pip install 'sparktune[spark]'"])


def test_missing_java_is_one_line_and_exit_2(tmp_path):
    pytest.importorskip("pyspark")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path)}  # no java on PATH
    for key in ("JAVA_HOME", "SPARK_REMOTE", "PYSPARK_GATEWAY_PORT"):
        env.pop(key, None)
    _assert_user_error(_cli(["run", "--conf", "conf/demo.toml"], env), ["needs a Java runtime", "JAVA_HOME"])


def test_objective_that_cannot_be_imported_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "broken_objective.py").write_text("import numpy\nraise RuntimeError('db password not set')\n")
    job = tmp_path / "job.toml"
    job.write_text(
        '[study]\nobjective = "broken_objective:f"\nspace = "sparktune.demo:SPACE"\n[trials]\nengine = "local"\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    _assert_user_error(
        _cli(["run", "--conf", str(job)], env),
        [f"job file {str(job)!r}", "`study.objective`", "'broken_objective'", "RuntimeError: db password not set"],
    )


def test_console_entry_point_runs_as_script(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "sparktune" / "cli.py"), "demo", "--local", "--max-evals", "3", "--json"]
        + ["--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["trials"] == 3


def test_demo_writes_plots_and_table_to_the_output_folder(tmp_path):
    from sparktune.cli import main

    out = tmp_path / "out"
    assert main(["demo", "--local", "--plots", "--output", str(out)]) == 0
    for name in ("trials.csv", "summary.json", "history.png", "importances.png", "parallel.png", "slices.png"):
        assert (out / name).stat().st_size > 1000 or name == "summary.json", name
    assert len((out / "trials.csv").read_text().splitlines()) == 31  # header + 30 trials


def test_plots_without_an_output_folder_is_a_user_error(capsys):
    from sparktune.cli import main

    assert main(["run", "--conf", "conf/demo-local.toml", "--plots"]) == 2
    assert "--plots writes into the output folder" in capsys.readouterr().err
