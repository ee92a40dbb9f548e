"""The durable trial file: resume after a killed process, refusal of foreign or corrupt files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sparktune import STATUS_OK, Trials, fmin, hp, rand
from sparktune._trials import Trial, utcnow
from sparktune.base import JOB_STATE_DONE
from sparktune.storage import TrialFile, TrialFileError
from sparktune.storage._journal import trial_from_json, trial_to_json

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"x": hp.uniform("x", -5, 5), "c": hp.choice("c", ["a", "b"])}


def objective(p):
    return {"loss": (p["x"] - 1) ** 2, "status": STATUS_OK, "note": p["c"]}


def test_trial_json_round_trip():
    t = Trial(
        tid=3,
        state=JOB_STATE_DONE,
        vals={"x": 0.5, "c": 1},
        result={"loss": 1.5, "status": "ok", "arr": np.arange(3), "inf": float("inf"), "obj": object()},
        book_time=utcnow(),
        refresh_time=utcnow(),
        attempts=2,
    )
    back = trial_from_json(json.loads(json.dumps(trial_to_json(t))))
    assert back.vals == t.vals and back.book_time == t.book_time and back.attempts == 2
    assert back.result["arr"] == [0, 1, 2] and back.result["inf"] == float("inf")
    assert back.result["obj"]["__repr__"].startswith("<object object")


def test_save_file_written_and_reloaded(tmp_path):
    path = tmp_path / "trials.jsonl"
    fmin(objective, SPACE, algo=rand.suggest, max_evals=5, trials_save_file=str(path), show_progressbar=False)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0].rpartition("\t")[0])  # version 2: each line ends with a tab and its crc32
    assert header["format"] == "sparktune-trials" and header["version"] == 2 and len(lines) == 6
    trials = Trials()
    fmin(
        objective,
        SPACE,
        algo=rand.suggest,
        max_evals=8,
        trials=trials,
        trials_save_file=str(path),
        show_progressbar=False,
    )
    assert len(trials) == 8 and trials.tids == list(range(8))
    assert trials.trials[0]["result"]["note"] in ("a", "b")
    assert len(path.read_text().splitlines()) == 9


def test_killed_process_resumes_where_it_stopped(tmp_path):
    path = tmp_path / "run.jsonl"
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from sparktune import fmin, hp, rand
            def slow(x):
                time.sleep(0.05)
                return x ** 2
            fmin(slow, hp.uniform("x", -1, 1), algo=rand.suggest, max_evals=1000,
                 trials_save_file={str(path)!r}, show_progressbar=False)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if path.exists() and len(path.read_bytes().splitlines()) > 12:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    saved = TrialFile(path).load().trials
    n_saved = len(saved)
    assert n_saved >= 11
    trials = Trials()
    fmin(
        lambda x: x**2,
        hp.uniform("x", -1, 1),
        algo=rand.suggest,
        max_evals=n_saved + 5,
        trials=trials,
        trials_save_file=str(path),
        show_progressbar=False,
    )
    assert len(trials) == n_saved + 5
    # the trials that finished before the kill are kept exactly
    assert [t.vals for t in saved] == [{"x": d["misc"]["vals"]["x"][0]} for d in trials.trials[:n_saved]]


def test_torn_last_line_is_dropped_and_cut(tmp_path, caplog):
    path = tmp_path / "t.jsonl"
    fmin(objective, SPACE, algo=rand.suggest, max_evals=3, trials_save_file=str(path), show_progressbar=False)
    with open(path, "ab") as f:
        f.write(b'{"tid": 3, "state": 2, "va')  # a crash in the middle of an append
    trials = TrialFile(path).load().trials
    assert len(trials) == 3
    t = Trials()
    fmin(objective, SPACE, algo=rand.suggest, max_evals=4, trials=t, trials_save_file=str(path), show_progressbar=False)
    assert len(t) == 4 and len(TrialFile(path).load().trials) == 4
    assert "cut short" in caplog.text


@pytest.mark.parametrize(
    "content, words",
    [
        (b"not json at all\n", ["is not a sparktune trial file"]),
        (b'{"format": "other"}\n', ["is not a sparktune trial file"]),
        (b"\x80\x04\x95pickle\n", ["is not a sparktune trial file"]),
        (b'{"format": "sparktune-trials", "version": 99, "labels": []}\n', ["version 99"]),
        (
            b'{"format": "sparktune-trials", "version": 1, "labels": ["c", "x"]}\n{"tid": 0, "garbage\n{"tid": 1}\n',
            ["corrupt at line 2"],
        ),
    ],
)
def test_foreign_or_corrupt_files_are_refused_naming_the_path(tmp_path, content, words):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(TrialFileError) as info:
        fmin(objective, SPACE, algo=rand.suggest, max_evals=2, trials_save_file=str(path), show_progressbar=False)
    assert str(path) in str(info.value)
    for w in words:
        assert w in str(info.value)
    assert path.read_bytes() == content  # never overwritten


def test_file_from_another_space_is_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    fmin(objective, SPACE, algo=rand.suggest, max_evals=2, trials_save_file=str(path), show_progressbar=False)
    with pytest.raises(TrialFileError, match="labels"):
        fmin(
            lambda y: y,
            hp.uniform("y", 0, 1),
            algo=rand.suggest,
            max_evals=2,
            trials_save_file=str(path),
            show_progressbar=False,
        )


def test_errored_trials_are_saved_too(tmp_path):
    path = tmp_path / "t.jsonl"

    def bad(p):
        raise ValueError("bad point")

    fmin(
        bad,
        SPACE,
        algo=rand.suggest,
        max_evals=2,
        trials_save_file=str(path),
        catch_eval_exceptions=True,
        return_argmin=False,
        show_progressbar=False,
    )
    saved = TrialFile(path).load().trials
    assert [t.error for t in saved] == [("ValueError", "bad point")] * 2
    assert "Traceback" in saved[0].traceback


def test_trials_passed_in_are_written_to_a_new_file(tmp_path):
    trials = Trials()
    fmin(objective, SPACE, algo=rand.suggest, max_evals=3, trials=trials, show_progressbar=False)
    path = tmp_path / "later.jsonl"
    fmin(
        objective,
        SPACE,
        algo=rand.suggest,
        max_evals=5,
        trials=trials,
        trials_save_file=str(path),
        show_progressbar=False,
    )
    saved = TrialFile(path).load().trials
    assert [t.tid for t in saved] == [0, 1, 2, 3, 4]
