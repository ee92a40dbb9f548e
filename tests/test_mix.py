"""mix.suggest: hyperopt's mixture of algorithms, drawn per proposal from the run's generator."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from sparktune import Domain, Trials, anneal, fmin, hp, mix, rand, tpe
from sparktune._space import compile_space
from sparktune._suggest import History, make_suggest

SPACE = {"x": hp.uniform("x", 0, 1)}
CSPACE = compile_space(SPACE)


def constant_algo(value, calls=None):
    """A real suggest function (built as tpe/rand are) whose proposals are all ``value``."""

    def propose(space, history, n, rng, **options):
        if calls is not None:
            calls.append((value, n, len(history.X_pending)))
        return np.full((n, space.n_dims), value)

    return make_suggest(propose, {}, f"always {value}")


def test_each_proposal_draws_its_algorithm_with_the_given_probabilities():
    rows = mix.propose(
        CSPACE,
        History.empty(1),
        20000,
        np.random.default_rng(0),
        p_suggest=[(0.3, constant_algo(0.25)), (0.7, constant_algo(0.75))],
    )
    share = np.mean(rows[:, 0] == 0.25)
    assert abs(share - 0.3) < 0.015
    assert set(np.unique(rows[:, 0])) == {0.25, 0.75}


def test_a_batch_asks_runs_of_one_algorithm_at_once_and_they_see_earlier_rows_as_running():
    calls = []
    algos = [(0.5, constant_algo(0.25, calls)), (0.5, constant_algo(0.75, calls))]
    history = History(X=np.empty((0, 1)), y=np.empty(0), X_pending=np.full((2, 1), 0.5), X_failed=np.empty((0, 1)))
    rows = mix.propose(CSPACE, history, 12, np.random.default_rng(1), p_suggest=algos)
    assert sum(n for _, n, _ in calls) == 12
    start = 0
    for value, n, n_pending in calls:
        assert n_pending == 2 + start  # the two running trials plus this batch's earlier rows
        assert np.all(rows[start : start + n, 0] == value)
        start += n
    assert len(calls) > 1 and all(a[0] != b[0] for a, b in zip(calls, calls[1:]))  # runs alternate


def test_fmin_with_mix_runs_and_is_repeatable_with_rstate():
    algo = partial(mix.suggest, p_suggest=[(0.1, rand.suggest), (0.9, tpe.suggest)])

    def run():
        trials = Trials()
        fmin(
            lambda p: (p["x"] - 0.3) ** 2,
            SPACE,
            algo=algo,
            max_evals=30,
            trials=trials,
            rstate=np.random.default_rng(7),
            show_progressbar=False,
        )
        return [t["misc"]["vals"]["x"][0] for t in trials.trials]

    first = run()
    assert len(first) == 30
    assert run() == first


def test_mix_of_partials_with_options_and_anneal():
    algo = partial(
        mix.suggest,
        p_suggest=[(0.5, partial(tpe.suggest, gamma=0.25, n_startup_jobs=5)), (0.5, anneal.suggest)],
    )
    best = fmin(
        lambda p: (p["x"] - 0.3) ** 2, SPACE, algo=algo, max_evals=25, rstate=np.random.default_rng(0),
        show_progressbar=False,
    )  # fmt: skip
    assert 0 <= best["x"] <= 1


def test_hyperopt_style_direct_call_with_positional_p_suggest():
    trials = Trials()
    domain = Domain(lambda p: p["x"], SPACE)
    docs = mix.suggest([0, 1, 2], domain, trials, 123, [(0.5, rand.suggest), (0.5, anneal.suggest)])
    assert [d["tid"] for d in docs] == [0, 1, 2]
    assert all(0 <= d["misc"]["vals"]["x"][0] <= 1 for d in docs)
    again = mix.suggest([0, 1, 2], domain, Trials(), 123, [(0.5, rand.suggest), (0.5, anneal.suggest)])
    assert [d["misc"]["vals"] for d in again] == [d["misc"]["vals"] for d in docs]


def test_probabilities_that_sum_to_one_within_isclose_are_accepted_and_normalised():
    entries = mix.check_p_suggest([(1 / 3, rand.suggest)] * 3)
    assert math.fsum(p for p, _, _ in entries) == pytest.approx(1.0, abs=1e-15)
    entries = mix.check_p_suggest([(0.5, rand.suggest), (0.500001, tpe.suggest)])  # hyperopt accepts this too
    assert entries[0][0] == pytest.approx(0.5 / 1.000001)


@pytest.mark.parametrize(
    "p_suggest, exc, words",
    [
        ([(0.5, rand.suggest), (0.4, tpe.suggest)], ValueError, ["sum to 1", "sum=0.9"]),
        ([(1.5, rand.suggest), (-0.5, tpe.suggest)], ValueError, [">= 0", "-0.5", "index 1"]),
        ([(float("nan"), rand.suggest), (1.0, tpe.suggest)], ValueError, ["finite", "nan", "index 0"]),
        ([("half", rand.suggest)], TypeError, ["numbers", "'half'", "index 0"]),
        ([(1.0, rand.suggest, "x")], TypeError, ["pairs", "index 0"]),
        ([], TypeError, ["non-empty"]),
        ({"rand": 1.0}, TypeError, ["non-empty list"]),
        ([(0.5, rand.suggest), (0.5, lambda *a: [])], TypeError, ["index 1", "must be sparktune's"]),
        ([(1.0, partial(tpe.suggest, bogus=1))], TypeError, ["index 0", "unknown option", "bogus"]),
    ],
)
def test_bad_p_suggest_is_refused_before_any_trial_runs(p_suggest, exc, words):
    calls = []
    with pytest.raises(exc) as info:
        fmin(calls.append, SPACE, algo=partial(mix.suggest, p_suggest=p_suggest), max_evals=3, show_progressbar=False)
    assert calls == []
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_mix_without_p_suggest_says_how_to_give_it():
    with pytest.raises(TypeError, match="needs `p_suggest`"):
        fmin(lambda p: 0.0, SPACE, algo=mix.suggest, max_evals=1, show_progressbar=False)
