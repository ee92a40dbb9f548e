"""Trials as a pandas DataFrame (sparktune._results.trials_to_frame), from real fmin runs."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sparktune import STATUS_FAIL, Trials, fmin, hp, rand
from sparktune._results import trials_to_frame
from sparktune.base import JOB_STATE_CANCEL

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "x": hp.uniform("x", -1, 1),
    "opt": hp.choice("opt", ["adam", "sgd"]),
    "model": hp.choice("model", ["linear", {"depth": hp.randint("depth", 1, 5)}]),
}


def objective(p):
    if p["x"] > 0.6:
        raise ValueError(f"x too large: {p['x']:.3f}")
    if p["x"] < -0.6:
        return {"status": STATUS_FAIL, "loss": 99.0}
    return p["x"] ** 2 + (0.5 if p["opt"] == "sgd" else 0.0)


@pytest.fixture(scope="module")
def trials():
    t = Trials()
    fmin(objective, SPACE, algo=rand.suggest, max_evals=40, trials=t, catch_eval_exceptions=True,
         rstate=np.random.default_rng(3), show_progressbar=False)  # fmt: skip
    return t


def test_one_row_per_trial_with_documented_columns(trials):
    frame = trials_to_frame(trials)
    docs = trials.all_trials
    assert len(frame) == len(docs) == 40
    assert list(frame.columns) == ["tid", "depth", "model", "opt", "x", "loss", "status", "state", "start", "end",
                                   "duration", "error"]  # fmt: skip
    assert frame["tid"].tolist() == [d["tid"] for d in docs]
    assert frame["tid"].dtype == np.int64
    for col in ("start", "end"):
        assert pd.api.types.is_datetime64_any_dtype(frame[col])
    assert frame["duration"].dtype == np.float64 and (frame["duration"] >= 0).all()


def test_values_are_misc_vals_with_nan_where_inactive(trials):
    frame = trials_to_frame(trials).set_index("tid")
    for doc in trials.all_trials:
        row = frame.loc[doc["tid"]]
        for label, v in doc["misc"]["vals"].items():
            if v:
                assert row[label] == v[0]
            else:
                assert math.isnan(row[label])
    assert set(frame["opt"]) == {0, 1}  # option index, not the option
    assert frame["depth"].isna().any() and frame["depth"].notna().any()  # conditional label
    assert frame["depth"].isna().tolist() == (frame["model"] == 0).tolist()


def test_failed_trials_have_state_status_and_error(trials):
    frame = trials_to_frame(trials)
    raised = frame[frame["x"] > 0.6]
    returned_fail = frame[frame["x"] < -0.6]
    ok = frame[frame["x"].abs() <= 0.6]
    assert len(raised) and len(returned_fail) and len(ok)
    assert (raised["state"] == "error").all() and (raised["status"] == "fail").all()
    assert raised["loss"].isna().all()
    assert all(e.startswith("ValueError: x too large: 0.") for e in raised["error"])
    assert (returned_fail["state"] == "done").all() and (returned_fail["status"] == "fail").all()
    assert (returned_fail["loss"] == 99.0).all() and returned_fail["error"].isna().all()
    assert (ok["state"] == "done").all() and (ok["status"] == "ok").all() and ok["error"].isna().all()
    assert np.allclose(ok["loss"], ok["x"] ** 2 + 0.5 * ok["opt"])


def test_cancelled_and_new_trials_are_rows():
    t = Trials()
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=2, trials=t, show_progressbar=False)
    (cancelled,) = t.new_trial_docs([2], [None], [{"status": "new"}], [{"tid": 2, "vals": {"x": [0.5]}, "idxs": {}}])
    cancelled["state"] = JOB_STATE_CANCEL
    cancelled["misc"]["error"] = ("TrialCancelled", "run timeout reached")
    t.insert_trial_doc(cancelled)
    t.insert_trial_docs(t.new_trial_docs([3], [None], [{"status": "new"}], [{"tid": 3, "vals": {"x": [0.25]}}]))
    frame = trials_to_frame(t)
    assert frame["state"].tolist() == ["done", "done", "cancelled", "new"]
    assert frame["error"].tolist()[2] == "TrialCancelled: run timeout reached"
    assert frame["start"].isna().tolist() == [False, False, True, True]
    assert frame["duration"].isna().tolist() == [False, False, True, True]


def test_a_label_named_like_a_fixed_column_gets_a_prefix():
    t = Trials()
    space = {"loss": hp.uniform("loss", 0, 1), "status": hp.choice("status", [1, 2])}
    fmin(lambda p: p["loss"], space, algo=rand.suggest, max_evals=3, trials=t, show_progressbar=False)
    frame = trials_to_frame(t)
    assert "params_loss" in frame and "params_status" in frame
    assert frame["loss"].tolist() == frame["params_loss"].tolist()
    assert frame["status"].tolist() == ["ok"] * 3


def test_empty_trials_give_an_empty_frame_with_the_fixed_columns():
    frame = trials_to_frame(Trials())
    assert len(frame) == 0
    assert list(frame.columns) == ["tid", "loss", "status", "state", "start", "end", "duration", "error"]


def test_a_store_with_only_hyperopt_trials_documents(trials):
    class HyperoptLike:  # hyperopt's Trials has `trials` but no `all_trials`
        def __init__(self, docs):
            self.trials = docs

    frame = trials_to_frame(HyperoptLike(trials.trials))
    assert frame["tid"].tolist() == [d["tid"] for d in trials.trials]
    assert (frame["state"] == "done").all()


def test_missing_pandas_names_the_extra():
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pandas" or name.startswith("pandas."):
                    raise ImportError("pandas is blocked for this test")
        sys.meta_path.insert(0, Block())
        from sparktune import Trials
        from sparktune._results import trials_to_frame
        try:
            trials_to_frame(Trials())
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "trials_to_frame needs pandas" in out.stdout
    assert "pip install 'sparktune[pandas]'" in out.stdout
