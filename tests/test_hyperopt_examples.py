"""Examples from hyperopt's documentation, with the import renamed (written out in our words)."""

from __future__ import annotations

import pickle
import time

import numpy as np

import sparktune.pyll.stochastic
from sparktune import STATUS_OK, Trials, fmin, hp, space_eval, tpe


def test_minimal_fmin():
    best = fmin(
        fn=lambda x: x**2, space=hp.uniform("x", -10, 10), algo=tpe.suggest, max_evals=100, show_progressbar=False
    )
    assert abs(best["x"]) < 0.5


def test_results_with_extra_keys_and_attachments():
    def objective(x):
        return {
            "loss": x**2,
            "status": STATUS_OK,
            "eval_time": time.time(),
            "other_stuff": {"type": None, "value": [0, 1, 2]},
            "attachments": {"time_module": pickle.dumps(time.time)},
        }

    trials = Trials()
    fmin(
        objective, space=hp.uniform("x", -10, 10), algo=tpe.suggest, max_evals=20, trials=trials, show_progressbar=False
    )
    assert trials.trials[5]["result"]["other_stuff"] == {"type": None, "value": [0, 1, 2]}
    assert "attachments" not in trials.trials[5]["result"]
    msg = trials.trial_attachments(trials.trials[5])["time_module"]
    assert pickle.loads(msg) is time.time


def test_classifier_space_from_the_docs():
    space = hp.choice(
        "classifier_type",
        [
            {"type": "naive_bayes"},
            {
                "type": "svm",
                "C": hp.lognormal("svm_C", 0, 1),
                "kernel": hp.choice(
                    "svm_kernel",
                    [
                        {"ktype": "linear"},
                        {"ktype": "RBF", "width": hp.lognormal("svm_rbf_width", 0, 1)},
                    ],
                ),
            },
            {
                "type": "dtree",
                "criterion": hp.choice("dtree_criterion", ["gini", "entropy"]),
                "max_depth": hp.choice("dtree_max_depth", [None, hp.qlognormal("dtree_max_depth_int", 3, 1, 1)]),
                "min_samples_split": hp.qlognormal("dtree_min_samples_split", 2, 1, 1),
            },
        ],
    )
    rng = np.random.default_rng(0)
    kinds = {sparktune.pyll.stochastic.sample(space, rng=rng)["type"] for _ in range(60)}
    assert kinds == {"naive_bayes", "svm", "dtree"}

    def loss(p):
        return {"naive_bayes": 0.5, "svm": 0.2, "dtree": 0.3}[p["type"]] + (p.get("C", 0) * 0.01)

    trials = Trials()
    best = fmin(
        loss,
        space,
        algo=tpe.suggest,
        max_evals=60,
        trials=trials,
        rstate=np.random.default_rng(1),
        show_progressbar=False,
    )
    assert space_eval(space, best)["type"] == "svm"
