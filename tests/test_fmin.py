"""fmin with in-process Trials: hyperopt's semantics and sparktune's documented improvements."""

from __future__ import annotations

import functools
import math
import time

import numpy as np
import pytest

from sparktune import (
    STATUS_FAIL,
    STATUS_OK,
    AllTrialsFailed,
    InvalidLoss,
    Trials,
    anneal,
    fmin,
    hp,
    rand,
    space_eval,
    tpe,
)
from sparktune.base import JOB_STATE_DONE, JOB_STATE_ERROR
from sparktune.early_stop import no_progress_loss
from sparktune.exceptions import InvalidAnnotatedParameter, InvalidTrial
from sparktune.fmin import generate_trials_to_calculate

QUIET = {"show_progressbar": False}


def run(fn, space, **kw):
    kw.setdefault("algo", rand.suggest)
    kw.setdefault("show_progressbar", False)
    return fmin(fn, space, **kw)


def test_seed_example_from_the_guide():
    def objective(params):  # a stand-in for a model's accuracy
        acc = 1.0 - abs(params["Iterations"] - 6) / 10 - (params["Regularization"] - 0.5) ** 2
        return {"loss": -acc, "status": STATUS_OK}

    search_space = {
        "Iterations": hp.randint("Iterations", 10),
        "Regularization": hp.uniform("Regularization", 0.0, 1.0),
    }
    argmin = fmin(
        fn=objective, space=search_space, algo=tpe.suggest, max_evals=100, rstate=np.random.default_rng(0), **QUIET
    )
    assert set(argmin) == {"Iterations", "Regularization"}
    assert type(argmin["Iterations"]) is int and type(argmin["Regularization"]) is float
    assert 0 <= argmin["Iterations"] < 10 and 0.0 <= argmin["Regularization"] <= 1.0
    assert argmin["Iterations"] == 6


@pytest.mark.parametrize("algo", [rand.suggest, tpe.suggest, anneal.suggest], ids=["rand", "tpe", "anneal"])
def test_same_seed_same_trials_different_seed_different(algo):
    space = {"x": hp.uniform("x", -5, 5), "c": hp.choice("c", ["a", "b", "c"]), "n": hp.randint("n", 1, 20)}

    def vals(seed):
        t = Trials()
        run(
            lambda p: (p["x"] - 1) ** 2 + p["n"],
            space,
            algo=algo,
            max_evals=30,
            trials=t,
            rstate=np.random.default_rng(seed),
        )
        return [d["misc"]["vals"] for d in t.trials]

    assert vals(3) == vals(3)
    assert vals(3) != vals(4)


def test_max_evals_counts_earlier_trials_so_a_larger_value_resumes():
    trials = Trials()
    run(lambda x: x**2, hp.uniform("x", -1, 1), max_evals=5, trials=trials)
    run(lambda x: x**2, hp.uniform("x", -1, 1), max_evals=5, trials=trials)
    assert len(trials) == 5
    run(lambda x: x**2, hp.uniform("x", -1, 1), max_evals=12, trials=trials)
    assert len(trials) == 12 and trials.tids == list(range(12))


def test_return_argmin_indices_versus_values():
    space = hp.choice("x", [100, 5, 10])
    assert run(lambda x: x, space, max_evals=10, return_argmin=False, rstate=np.random.default_rng(0)) == 5
    assert run(lambda x: x, space, max_evals=10, return_argmin=True, rstate=np.random.default_rng(0)) == {"x": 1}


def test_catch_eval_exceptions_records_errors_with_traceback():
    def bad(x):
        raise RuntimeError(f"boom at {x:.3f}")

    trials = Trials()
    out = run(bad, hp.uniform("x", 0, 1), trials=trials, max_evals=3, catch_eval_exceptions=True, return_argmin=False)
    assert out is None
    assert len(trials) == 0 and len(trials.all_trials) == 3
    for doc in trials.all_trials:
        assert doc["state"] == JOB_STATE_ERROR
        name, message = doc["misc"]["error"]
        assert name == "RuntimeError" and message.startswith("boom at")
        assert "Traceback" in doc["misc"]["traceback"] and "in bad" in doc["misc"]["traceback"]


def test_raising_objective_is_recorded_then_reraised():
    class SomeError(Exception):
        pass

    def bad(x):
        raise SomeError("nope")

    trials = Trials()
    with pytest.raises(SomeError):
        run(bad, hp.uniform("x", 0, 1), trials=trials, max_evals=2)
    assert len(trials) == 0 and len(trials._dynamic_trials) == 1
    assert trials.all_trials[0]["misc"]["error"] == ("SomeError", "nope")


def test_every_trial_raised_gives_all_trials_failed():
    def bad(x):
        raise ValueError("always")

    with pytest.raises(AllTrialsFailed, match="No trial finished with status 'ok'") as info:
        run(bad, hp.uniform("x", 0, 1), max_evals=3, catch_eval_exceptions=True)
    # hyperopt's sentence, which programs and tests match on
    assert str(info.value).startswith("There are no evaluation tasks, cannot return argmin of task losses.")


@pytest.mark.parametrize(
    "result, words",
    [
        (float("nan"), ["trial 0", "nan"]),
        ("0.5", ["trial 0", "'0.5'"]),
        ({"status": STATUS_OK}, ["trial 0", "needs a 'loss'"]),
        ({"status": STATUS_OK, "loss": "high"}, ["trial 0", "loss='high'"]),
        ({"status": STATUS_OK, "loss": float("nan")}, ["trial 0", "NaN"]),
    ],
)
def test_invalid_loss_names_trial_and_value(result, words):
    with pytest.raises(InvalidLoss) as info:
        run(lambda x: result, hp.uniform("x", 0, 1), max_evals=1)
    for w in words:
        assert w in str(info.value)


def test_invalid_loss_with_catch_is_a_recorded_failed_trial():
    trials = Trials()
    run(
        lambda x: float("nan") if x < 0.5 else x,
        hp.uniform("x", 0, 1),
        max_evals=20,
        trials=trials,
        catch_eval_exceptions=True,
    )
    errs = [d for d in trials.all_trials if d["state"] == JOB_STATE_ERROR]
    assert errs and all(d["misc"]["error"][0] == "InvalidLoss" for d in errs)
    assert len(trials) + len(errs) == 20


@pytest.mark.parametrize("bad", [-1, 0, True, "5"])
def test_invalid_timeout_message(bad):
    with pytest.raises(Exception) as info:
        run(lambda x: x, hp.uniform("x", 0, 1), max_evals=2, timeout=bad)
    assert str(info.value) == f"The timeout argument should be None or a positive value. Given value: {bad}"


@pytest.mark.parametrize("bad", ["a", True])
def test_invalid_loss_threshold_message(bad):
    with pytest.raises(Exception) as info:
        run(lambda x: x, hp.uniform("x", 0, 1), max_evals=2, loss_threshold=bad)
    assert str(info.value) == f"The loss_threshold argument should be None or a numeric value. Given value: {bad}"


@pytest.mark.parametrize(
    "kw, exc, words",
    [
        ({"max_evals": -1}, ValueError, ["max_evals >= 0", "-1"]),
        ({"max_evals": 2.5}, TypeError, ["max_evals", "2.5"]),
        ({"max_queue_len": 0}, ValueError, ["max_queue_len >= 1", "0"]),
        ({"algo": "tpe"}, TypeError, ["algo", "'tpe'"]),
        ({"algo": functools.partial(tpe.suggest, n_startup=3)}, TypeError, ["unknown option", "n_startup"]),
        ({"rstate": "seed"}, TypeError, ["rstate", "'seed'"]),
        ({"points_to_evaluate": [{"x": 7, "y": 1}]}, InvalidTrial, ["'y'", "not in the search space"]),
    ],
)
def test_bad_arguments_fail_before_any_trial(kw, exc, words):
    calls = []
    kw.setdefault("max_evals", 3)
    with pytest.raises(exc) as info:
        run(lambda x: calls.append(x) or 0.0, hp.uniform("x", 0, 1), **kw)
    assert calls == []
    for w in words:
        assert w in str(info.value)


def test_points_to_evaluate_honoured_with_trials_and_not_repeated():
    trials = Trials()
    pts = [{"x": 0.25}, {"x": 0.75}]
    run(lambda x: x, hp.uniform("x", 0, 1), max_evals=4, trials=trials, points_to_evaluate=pts)
    assert [d["misc"]["vals"]["x"] for d in trials.trials[:2]] == [[0.25], [0.75]]
    run(lambda x: x, hp.uniform("x", 0, 1), max_evals=6, trials=trials, points_to_evaluate=pts)
    xs = [d["misc"]["vals"]["x"][0] for d in trials.trials]
    assert len(xs) == 6 and xs.count(0.25) == 1 and xs.count(0.75) == 1


def test_generate_trials_to_calculate_runs_points_first():
    trials = generate_trials_to_calculate([{"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 1.0}])
    best = run(
        lambda p: p["x"] ** 2 + p["y"] ** 2,
        {"x": hp.uniform("x", -10, 10), "y": hp.uniform("y", -10, 10)},
        max_evals=10,
        trials=trials,
    )
    assert best == {"x": 0.0, "y": 0.0}
    assert trials.trials[1]["misc"]["vals"] == {"x": [1.0], "y": [1.0]}


def test_status_fail_trials_are_kept_but_never_best():
    trials = Trials()
    best = run(
        lambda x: {"loss": (x - 3) ** 2, "status": STATUS_OK} if x < 0 else {"status": STATUS_FAIL},
        hp.uniform("x", -5, 5),
        algo=tpe.suggest,
        max_evals=40,
        trials=trials,
    )
    assert len(trials) == 40 and best["x"] < 0
    assert STATUS_FAIL in trials.statuses()
    assert all(d["state"] == JOB_STATE_DONE for d in trials.trials)
    assert trials.best_trial["result"]["loss"] >= 9


def test_results_views_losses_statuses_best_trial():
    trials = Trials()
    run(lambda x: {"loss": x, "status": STATUS_OK, "extra": [1, 2]}, hp.uniform("x", 0, 1), max_evals=8, trials=trials)
    assert trials.losses() == [r["loss"] for r in trials.results]
    assert trials.statuses() == ["ok"] * 8
    assert trials.best_trial["result"]["loss"] == min(trials.losses())
    assert trials.results[0]["extra"] == [1, 2]
    assert trials.argmin == {"x": trials.best_trial["misc"]["vals"]["x"][0]}
    assert trials.vals["x"] == [d["misc"]["vals"]["x"][0] for d in trials.trials]
    assert all(d["book_time"] <= d["refresh_time"] for d in trials.trials)


def test_early_stop_custom_fn():
    def stop(trials, count=0):
        return count + 1 >= 7, [count + 1]

    trials = Trials()
    run(lambda x: x, hp.uniform("x", -5, 5), max_evals=50, trials=trials, early_stop_fn=stop)
    assert len(trials) == 7


def test_no_progress_loss_as_hyperopt():
    trials = generate_trials_to_calculate([{"x": -100}])
    run(lambda x: x, hp.uniform("x", -5, 5), max_evals=500, trials=trials, early_stop_fn=no_progress_loss(10))
    assert len(trials) == 10


def test_no_progress_loss_copes_with_failed_and_raising_trials():
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise RuntimeError("flaky")
        if calls["n"] % 3 == 1:
            return {"status": STATUS_FAIL}
        return 1.0

    trials = Trials()
    run(
        flaky,
        hp.uniform("x", 0, 1),
        max_evals=100,
        trials=trials,
        early_stop_fn=no_progress_loss(5),
        catch_eval_exceptions=True,
    )
    assert 5 <= len(trials.all_trials) < 100


def test_timeout_stops_the_run():
    t0 = time.perf_counter()
    trials = Trials()
    run(lambda x: [time.sleep(0.2), x][1], hp.uniform("x", 0, 1), max_evals=100, timeout=1, trials=trials)
    elapsed = time.perf_counter() - t0
    assert 0.9 < elapsed < 1.6
    assert 4 <= len(trials) <= 6


def test_loss_threshold_without_max_evals():
    trials = Trials()
    run(lambda x: x**2, hp.uniform("x", -10, 10), loss_threshold=0.01, trials=trials, rstate=np.random.default_rng(0))
    assert trials.best_trial["result"]["loss"] <= 0.01
    assert trials.losses()[-1] <= 0.01


def test_annotated_space():
    def objective(x: hp.uniform("x", -10, 10), y: hp.choice("y", [1, 2])):  # noqa: F821
        return (x * y) ** 2

    trials = Trials()
    best = run(objective, "annotated", max_evals=10, trials=trials)
    assert len(trials) == 10 and set(best) == {"x", "y"}

    def half(x: hp.uniform("x", -10, 10), y: float):  # noqa: F821
        return x

    with pytest.raises(InvalidAnnotatedParameter, match="'y'"):
        run(half, "annotated", max_evals=10)


def test_max_queue_len_suggests_in_batches():
    batches = []
    orig = rand.propose

    def spy(space, history, n, rng, **kw):
        batches.append(n)
        return orig(space, history, n, rng, **kw)

    spy_suggest = functools.partial(rand.suggest)
    rand.suggest.propose = spy  # type: ignore[attr-defined]
    try:
        trials = Trials()
        run(lambda x: x, hp.uniform("x", 0, 1), algo=spy_suggest, max_evals=10, max_queue_len=4, trials=trials)
    finally:
        rand.suggest.propose = orig  # type: ignore[attr-defined]
    assert batches[0] == 4 and sum(batches) == 10 and len(trials) == 10


def test_pass_expr_memo_ctrl():
    seen = []

    def fn(expr, memo, ctrl):
        seen.append((memo, ctrl.current_trial["tid"]))
        return memo["x"]

    run(fn, hp.uniform("x", 0, 1), max_evals=3, pass_expr_memo_ctrl=True)
    assert [tid for _, tid in seen] == [0, 1, 2] and all("x" in m for m, _ in seen)


def test_keyboard_interrupt_returns_best_finished_trial():
    calls = {"n": 0}

    def fn(x):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return x

    trials = Trials()
    best = run(fn, hp.uniform("x", 0, 1), max_evals=10, trials=trials)
    assert len(trials) == 3 and best == trials.argmin


def test_keyboard_interrupt_before_any_result_propagates():
    def fn(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(fn, hp.uniform("x", 0, 1), max_evals=3)


def test_bare_numbers_and_numpy_scalars_are_losses():
    trials = Trials()
    run(lambda x: np.float32(x), hp.uniform("x", 0, 1), max_evals=3, trials=trials)
    assert all(type(v) is float for v in trials.losses())


def test_space_eval_of_argmin_rebuilds_best_point():
    space = {
        "opt": hp.choice("opt", [{"lr": hp.loguniform("lr", math.log(1e-4), 0)}, {"depth": hp.randint("depth", 1, 8)}])
    }
    best = run(lambda p: p["opt"].get("lr", 1.0), space, max_evals=30, rstate=np.random.default_rng(2))
    point = space_eval(space, best)
    assert "lr" in point["opt"] and point["opt"]["lr"] == best["lr"]


def test_warns_when_parallelism_exceeds_trials_left(caplog):
    from sparktune.backends.local import InProcessBackend

    class Wide(Trials):
        def _make_backend(self, fn, call=None, trial_context=None):
            backend = InProcessBackend(fn, call, trial_context)
            backend.parallelism = 4  # type: ignore[misc]
            return backend

    trials = Wide()
    run(lambda x: x, hp.uniform("x", 0, 1), max_evals=3, trials=trials)
    assert len(trials) == 3
    assert "parallelism=4 is more than the 3 trial(s) left to run (max_evals=3)" in caplog.text
