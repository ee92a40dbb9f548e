"""Trials views, pickling, and that the core imports without pyspark."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from sparktune import Trials, anneal, fmin, hp, rand, tpe
from sparktune._space import compile_space
from sparktune.base import JOB_STATE_DONE, JOB_STATE_NEW
from sparktune.fmin import generate_trials_to_calculate

ROOT = Path(__file__).resolve().parents[1]


def test_trials_pickle_round_trip_and_continue():
    trials = Trials()
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=tpe.suggest, max_evals=5, trials=trials, show_progressbar=False)
    again = pickle.loads(pickle.dumps(trials))
    assert again.trials == trials.trials
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=tpe.suggest, max_evals=8, trials=again, show_progressbar=False)
    assert len(again) == 8


def test_history_arrays_follow_finished_trials():
    space = compile_space({"x": hp.uniform("x", 0, 1), "c": hp.choice("c", [0, hp.randint("r", 3)])})
    trials = Trials()
    fmin(lambda p: p["x"], space.root, algo=rand.suggest, max_evals=20, trials=trials, show_progressbar=False)
    h = trials._history(space)
    assert h.X.shape == (20, 3) and h.y.shape == (20,)
    assert np.allclose(h.y, trials.losses())
    assert np.array_equal(np.isnan(h.X), ~space.active_mask(h.X))
    assert not h.X.flags.writeable


def test_fmin_keeps_records_not_hyperopt_documents():
    # Documents are built on demand (and cached) when a hyperopt view asks for them, never by fmin
    # itself: with every document built a run held 2.6 KB per trial, with records only 0.9 KB.
    trials = Trials()
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=30, trials=trials, show_progressbar=False)
    assert len(trials._records) == 30
    assert len(trials._docs) <= 1  # the returned argmin reads the best trial's document
    assert len(trials.trials) == 30 and len(trials._docs) == 30
    assert trials.trials[3] is trials.trials[3]  # cached: edits to a document are kept, as in hyperopt


def test_generate_trials_docs_are_new():
    trials = generate_trials_to_calculate([{"x": 0.3}])
    assert trials.trials[0]["state"] == JOB_STATE_NEW and trials.trials[0]["misc"]["vals"] == {"x": [0.3]}
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=anneal.suggest, max_evals=1, trials=trials, show_progressbar=False)
    assert trials.trials[0]["state"] == JOB_STATE_DONE and trials.losses() == [0.3]


def test_import_sparktune_without_pyspark():
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pyspark" or name.startswith("pyspark."):
                    raise ImportError("pyspark is blocked for this test")
        sys.meta_path.insert(0, Block())
        import sparktune
        from sparktune import fmin, hp, tpe, rand, anneal, Trials, STATUS_OK, space_eval
        best = fmin(lambda x: x ** 2, hp.uniform("x", -1, 1), algo=tpe.suggest, max_evals=5, show_progressbar=False)
        print(best is not None)
        assert "pyspark" not in sys.modules
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_running_trials_left_by_an_interrupted_run_are_run_again():
    from sparktune._trials import Trial
    from sparktune.base import JOB_STATE_RUNNING

    trials = Trials()
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=3, trials=trials, show_progressbar=False)
    trials.store.put(Trial(tid=3, state=JOB_STATE_RUNNING, vals={"x": 0.125}))  # as a pickled mid-run store has
    fmin(lambda x: x, hp.uniform("x", 0, 1), algo=rand.suggest, max_evals=5, trials=trials, show_progressbar=False)
    assert len(trials) == 5 and all(d["state"] == JOB_STATE_DONE for d in trials.trials)
    assert trials.trials[3]["result"]["loss"] == 0.125


def test_distribution_json_round_trip():
    from sparktune._distributions import from_json, to_json

    space = compile_space(
        {
            "u": hp.qloguniform("u", 0, 3, 2),
            "n": hp.qnormal("n", 1, 2, 0.5),
            "r": hp.randint("r", 3, 9),
            "c": hp.pchoice("c", [(0.25, "a"), (0.75, "b")]),
            "i": hp.uniformint("i", 0, 10),
        }
    )
    for dist in space.dists:
        assert from_json(to_json(dist)) == dist


def test_suggest_called_directly_as_in_hyperopt():
    from sparktune.base import Domain

    domain = Domain(lambda p: p["x"], {"x": hp.uniform("x", 0, 1), "c": hp.choice("c", ["a", "b"])})
    trials = Trials()
    fmin(domain.fn, domain.expr, algo=rand.suggest, max_evals=12, trials=trials, show_progressbar=False)
    for algo in (rand.suggest, tpe.suggest, anneal.suggest):
        docs = algo(trials.new_trial_ids(3), domain, trials, 7)
        assert len(docs) == 3 and all(d["state"] == JOB_STATE_NEW for d in docs)
        assert all(set(d["misc"]["vals"]) == {"c", "x"} and 0 <= d["misc"]["vals"]["x"][0] <= 1 for d in docs)
        again = algo([d["tid"] for d in docs], domain, trials, 7)
        assert [d["misc"]["vals"] for d in again] == [d["misc"]["vals"] for d in docs]
