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
        (lambda: hp.choice("c", "abc"), TypeError, ["list or tuple", "'c'"]),
        (lambda: hp.pchoice("p", [(0.5, 1), (0.4, 2)]), ValueError, ["sum to 1", "0.9", "'p'"]),
        (lambda: hp.pchoice("p", [(1.5, 1), (-0.5, 2)]), ValueError, [">= 0", "'p'"]),
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
