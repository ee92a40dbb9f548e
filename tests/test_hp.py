"""Every hp expression: bounds, value types and quantisation, from the prior."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sparktune import hp
from sparktune._space import compile_space
from sparktune.exceptions import DuplicateLabel
from sparktune.pyll import scope
from sparktune.pyll.stochastic import sample

N = 2000


def draws(expr, n=N, seed=0):
    rng = np.random.default_rng(seed)
    return [sample(expr, rng=rng) for _ in range(n)]


def test_uniform_bounds_and_type():
    xs = draws(hp.uniform("x", -2.0, 3.0))
    assert all(type(x) is float and -2.0 <= x <= 3.0 for x in xs)
    assert min(xs) < -1.9 and max(xs) > 2.9


def test_quniform_is_rounded_multiple_of_q():
    xs = draws(hp.quniform("x", 0, 10, 2.5))
    assert set(xs) <= {0.0, 2.5, 5.0, 7.5, 10.0}
    assert all(type(x) is float for x in xs)
    assert len(set(xs)) == 5


def test_uniformint_gives_ints_in_closed_range():
    xs = draws(hp.uniformint("x", 2, 6))
    assert all(type(x) is int for x in xs)
    assert set(xs) == {2, 3, 4, 5, 6}


def test_loguniform_bounds_are_in_log_space():
    xs = np.array(draws(hp.loguniform("x", math.log(1e-3), math.log(10.0))))
    assert xs.min() >= 1e-3 and xs.max() <= 10.0
    # uniform in log space: about half the mass below the geometric mean (0.1)
    assert 0.45 < np.mean(xs < 0.1) < 0.55


def test_qloguniform_quantises_after_exp():
    xs = draws(hp.qloguniform("x", math.log(1), math.log(100), 5))
    assert all(x % 5 == 0 for x in xs)
    assert min(xs) >= 0 and max(xs) <= 100


def test_normal_moments():
    xs = np.array(draws(hp.normal("x", 3.0, 2.0), n=5000))
    assert abs(xs.mean() - 3.0) < 0.1 and abs(xs.std() - 2.0) < 0.1


def test_qnormal_and_lognormal_and_qlognormal():
    qn = draws(hp.qnormal("a", 0.0, 5.0, 2.0))
    assert all(x % 2 == 0 for x in qn)
    ln = np.array(draws(hp.lognormal("b", 0.0, 1.0)))
    assert ln.min() > 0 and abs(np.median(np.log(ln))) < 0.1
    qln = draws(hp.qlognormal("c", 2.0, 0.5, 1.0))
    assert all(x >= 0 and float(x).is_integer() for x in qln)


@pytest.mark.parametrize(
    "expr, lo, hi",
    [
        (hp.randint("r", 5), 0, 5),
        (hp.randint("r", 5, 15), 5, 15),
        (hp.randint("r", low=4, high=12), 4, 12),
        (hp.randint("r", upper=7), 0, 7),
    ],
)
def test_randint_forms(expr, lo, hi):
    xs = draws(expr)
    assert all(type(x) is int for x in xs)
    assert set(xs) == set(range(lo, hi))


def test_choice_and_pchoice_frequencies():
    xs = draws(hp.pchoice("p", [(0.1, "a"), (0.6, "b"), (0.3, "c")]), n=5000)
    freq = {k: xs.count(k) / len(xs) for k in "abc"}
    assert abs(freq["a"] - 0.1) < 0.02 and abs(freq["b"] - 0.6) < 0.03
    assert set(draws(hp.choice("c", ["x", 2, None]), n=200)) == {"x", 2, None}


def test_arithmetic_and_scope():
    space = {
        "a": 1 + hp.lognormal("a", 0, 1),
        "b": scope.int(hp.quniform("b", 1, 10, 1)),
        "c": -hp.uniform("c", 0, 1) * 2,
    }
    for s in draws(space, n=200):
        assert s["a"] > 1
        assert type(s["b"]) is int and 1 <= s["b"] <= 10
        assert -2 <= s["c"] <= 0


def test_scope_int_of_integral_quniform_stores_ints():
    space = compile_space(scope.int(hp.quniform("n", 1, 10, 1)))
    assert space.dists[0].integer


def test_scope_define_user_function():
    @scope.define
    def add_ten(x):
        return x + 10

    v = sample(scope.add_ten(hp.uniform("u", 0, 1)), rng=np.random.default_rng(0))
    assert 10 <= v <= 11


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: hp.uniform("x", 3, 1), ValueError, ["low < high", "low=3", "high=1", "'x'"]),
        (lambda: hp.uniform("x", 1, 1), ValueError, ["low < high", "'x'"]),
        (lambda: hp.quniform("q", 0, 1, 0), ValueError, ["q > 0", "q=0", "'q'"]),
        (lambda: hp.quniform("q", 0, 1, -1), ValueError, ["q > 0", "q=-1"]),
        (lambda: hp.choice("c", []), ValueError, ["at least one option", "'c'"]),
        (lambda: hp.choice("c", "abc"), TypeError, ["sequence", "str", "'c'"]),
        (lambda: hp.choice("c", {"a": 1}), TypeError, ["sequence", "dict", "'c'"]),
        (lambda: hp.choice("c", {1, 2}), TypeError, ["sequence", "set", "'c'"]),
        (lambda: hp.choice("c", iter([1, 2])), TypeError, ["sequence", "'c'"]),
        (lambda: hp.choice("c", np.array(3)), TypeError, ["sequence", "ndarray", "'c'"]),
        (lambda: hp.pchoice("p", [(1.5, 1), (-0.5, 2)]), ValueError, ["[0, 1]", "1.5", "option 0", "'p'"]),
        (lambda: hp.pchoice("p", [(0.5, 1), (-0.5, 2)]), ValueError, ["[0, 1]", "-0.5", "option 1", "'p'"]),
        (lambda: hp.pchoice("p", [(float("nan"), 1), (1.0, 2)]), ValueError, ["[0, 1]", "nan", "'p'"]),
        (lambda: hp.pchoice("p", [(0.6, 1), (0.6, 2), (0.1, 3)]), ValueError, ["at most 1", "1.2", "'p'"]),
        (lambda: hp.pchoice("p", [("a", 1), (1.0, 2)]), TypeError, ["numbers", "'a'", "'p'"]),
        (lambda: hp.pchoice("p", [(0.5, 1, 2), (0.5, 2)]), TypeError, ["pairs", "'p'"]),
        (lambda: hp.normal("n", 0, 0), ValueError, ["sigma > 0", "sigma=0", "'n'"]),
        (lambda: hp.lognormal("n", 0, -1), ValueError, ["sigma > 0", "sigma=-1"]),
        (lambda: hp.randint("r", 5, 5), ValueError, ["low < high", "'r'"]),
        (lambda: hp.randint("r", 2.5), TypeError, ["integer", "2.5", "'r'"]),
        (lambda: hp.uniform("x", "a", 1), TypeError, ["number", "'a'", "'x'"]),
        (lambda: hp.uniform("x", 0, float("inf")), ValueError, ["finite", "'x'"]),
        (lambda: hp.uniform(3, 0, 1), TypeError, ["label must be a str", "3"]),
    ],
)
def test_bad_expressions_name_rule_and_value(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_duplicate_label_is_error_naming_label():
    with pytest.raises(DuplicateLabel, match="'x'"):
        compile_space([hp.uniform("x", 0, 1), hp.uniform("x", 0, 1)])


def test_same_node_twice_is_fine():
    x = hp.uniform("x", 0, 1)
    space = compile_space({"a": x, "b": [x, x * 2]})
    assert space.labels == ("x",)


# -- choice over any sequence (hyperopt accepts them) -------------------------------------------


@pytest.mark.parametrize(
    "options, expected",
    [
        (np.arange(20, 200, 10), list(range(20, 200, 10))),
        (range(3, 9), list(range(3, 9))),
        ((0.5, 1.5, 2.5), [0.5, 1.5, 2.5]),
        (np.array([0.25, 0.75], dtype=np.float32), [0.25, 0.75]),
        (np.array(["adam", "sgd"]), ["adam", "sgd"]),
    ],
)
def test_choice_accepts_sequences_and_returns_plain_scalars(options, expected):
    xs = draws(hp.choice("c", options), n=400)
    assert set(xs) == set(expected)
    kinds = {type(e) for e in expected}
    assert {type(x) for x in xs} == kinds  # int/float/str, never numpy scalars


def test_choice_of_numpy_array_in_fmin_gives_python_ints_and_index():
    from sparktune import Trials, fmin, rand

    seen = []

    def objective(params):
        seen.append(params["n"])
        return abs(params["n"] - 110)

    trials = Trials()
    best = fmin(
        objective,
        {"n": hp.choice("n", np.arange(20, 200, 10))},
        algo=rand.suggest,
        max_evals=25,
        trials=trials,
        rstate=np.random.default_rng(3),
        show_progressbar=False,
    )
    assert all(type(v) is int and v in range(20, 200, 10) for v in seen)
    assert type(best["n"]) is int and 0 <= best["n"] < 18  # the index, as in hyperopt


def test_pchoice_accepts_numpy_pairs_and_returns_plain_scalars():
    xs = draws(hp.pchoice("p", np.array([[0.25, 1.0], [0.75, 2.0]])), n=2000)
    assert {type(x) for x in xs} == {float}
    assert abs(xs.count(2.0) / len(xs) - 0.75) < 0.03
    expr = hp.pchoice("q", [(np.array(0.25), np.int64(1)), (np.float32(0.75), "b")])
    assert expr.dist.probs == (0.25, 0.75) and expr.options == (1, "b") and type(expr.options[0]) is int


# -- pchoice probabilities that do not sum to 1: hyperopt's rule --------------------------------
# hyperopt 0.3 samples a pchoice with Generator.multinomial(1, p): options 0..n-2 get their p,
# the last gets 1 - sum(p[:-1]). Measured with hyperopt 0.3.0 (20,000 draws, seed 0):
# [0.5, 0.3, 0.1] -> 0.499/0.300/0.201; [0.5, 0.4, 0.3] -> 0.499/0.399/0.102;
# [0.2, 0.2, 0.2] -> 0.199/0.200/0.601; [0.6, 0.6, 0.1] and [2, 1, 1] raise ValueError.


@pytest.mark.parametrize(
    "stated, used",
    [
        ([0.5, 0.3, 0.1], [0.5, 0.3, 0.2]),
        ([0.5, 0.4, 0.3], [0.5, 0.4, 0.1]),
        ([0.2, 0.2, 0.2], [0.2, 0.2, 0.6]),
        ([0.5, 0.6], [0.5, 0.5]),
    ],
)
def test_pchoice_last_option_takes_the_rest_as_in_hyperopt(stated, used):
    import warnings

    from sparktune import fmin, rand

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        expr = hp.pchoice("lr", [(p, i) for i, p in enumerate(stated)])
        xs = compile_space(expr).sample(np.random.default_rng(0), 20000)[:, 0]
        fmin(lambda i: float(i), expr, algo=rand.suggest, max_evals=5, show_progressbar=False)
    assert expr.dist.probs == pytest.approx(used)
    for i, p in enumerate(used):
        assert abs(np.mean(xs == i) - p) < 0.015, (i, p)
    (w,) = record  # once, when the expression is made; not per draw or per run
    assert w.category is UserWarning
    msg = str(w.message)
    assert "'lr'" in msg and f"sum to {sum(stated):.6g}" in msg and "last option" in msg
    assert w.filename == __file__  # points at the caller's line


def test_pchoice_summing_to_one_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hp.pchoice("p", [(0.1, "a"), (0.2, "b"), (0.7, "c")])
        hp.pchoice("p", [(1 / 3, "a"), (1 / 3, "b"), (1 / 3, "c")])
        zero_last = hp.pchoice("p", [(0.5, "a"), (0.5, "b"), (0.0, "c")])
    assert zero_last.dist.probs == (0.5, 0.5, 0.0)


def test_pchoice_with_unnormalised_probabilities_runs_in_fmin_with_tpe():
    import warnings

    from sparktune import fmin, tpe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = hp.pchoice("k", [(0.3, 0.0), (0.3, 1.0), (0.1, 2.0)])  # sum 0.7: last gets 0.4
    best = fmin(
        lambda x: x, space, algo=tpe.suggest, max_evals=20, rstate=np.random.default_rng(0), show_progressbar=False
    )
    assert best == {"k": 0}
