"""Behaviours the README promises where sparktune differs from hyperopt (no Spark needed)."""

from __future__ import annotations

import numpy as np
import pytest

from sparktune import STATUS_OK, Trials, fmin, hp, rand

#: 3 x 4 x 3 = 36 configurations, every label discrete (choice, randint, bounded quniform)
DISCRETE = {
    "a": hp.choice("a", ["x", "y", "z"]),
    "b": hp.randint("b", 4),
    "c": hp.quniform("c", 0, 1, 0.5),
}


def _configs(trials: Trials) -> list[tuple]:
    return [tuple(t["misc"]["vals"][k][0] for k in ("a", "b", "c")) for t in trials.trials]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_queue_len", [1, 36])
def test_random_search_samples_without_replacement_in_discrete_spaces(seed: int, max_queue_len: int) -> None:
    # With replacement, 36 draws from 36 configurations are all distinct with probability
    # 36!/36**36 (about 4e-15); without, always. max_queue_len=36 proposes all 36 in one batch.
    trials = Trials()
    fmin(
        lambda p: 0.0,
        DISCRETE,
        algo=rand.suggest,
        max_evals=36,
        trials=trials,
        rstate=np.random.default_rng(seed),
        max_queue_len=max_queue_len,
        show_progressbar=False,
    )
    configs = _configs(trials)
    assert len(configs) == 36 and len(set(configs)) == 36  # the whole space, each configuration once


def test_a_result_with_a_loss_and_no_status_counts_as_ok() -> None:
    trials = Trials()
    best = fmin(
        lambda p: {"loss": (p["x"] - 0.25) ** 2, "note": "no status"},
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=10,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert trials.statuses() == [STATUS_OK] * 10
    assert len(trials.trials) == 10 and len(trials.all_trials) == 10  # recorded as finished, none failed
    assert trials.best_trial["result"] == {
        "loss": min(trials.losses()),
        "status": STATUS_OK,
        "note": "no status",
    }
    assert best == trials.argmin
