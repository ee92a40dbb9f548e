"""TPE: estimator math on literal arrays, proposals' validity, constant liar, duplicates, options."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from sparktune import hp, tpe
from sparktune._space import compile_space
from sparktune._suggest import History, resolve_algo
from sparktune._tpe import Parzen, bandwidths, forgetting_weights, n_good, split_good_bad
from sparktune._tpe._columns import categorical_columns, numeric_columns
from sparktune._tpe._sampler import Options, _Proposer, compile_model, recombination_weights


def _history(X: np.ndarray, y: np.ndarray, pending: np.ndarray | None = None) -> History:
    D = X.shape[1]
    return History(X=X, y=y, X_pending=np.empty((0, D)) if pending is None else pending, X_failed=np.empty((0, D)))


def _parzen(space_dict: dict, values: list[list[float]], weights: list[float] | None = None, b=None) -> Parzen:
    space = compile_space(space_dict)
    num, cat = numeric_columns(space), categorical_columns(space)
    vals = np.asarray(values, dtype=float).reshape(len(values), space.n_dims)
    w = np.ones(len(vals)) if weights is None else np.asarray(weights, dtype=float)
    bw = bandwidths(num, len(vals), 0.2, None) if b is None else np.asarray(b, dtype=float)
    return Parzen(num, cat, vals, w, 1.0, bw)


# -- split, weights, bandwidth: reference values -------------------------------------------------


def test_split_sizes_reference_values() -> None:
    assert n_good(0, 0.15, "linear") == 0
    assert n_good(10, 0.15, "linear") == 2  # ceil(1.5)
    assert n_good(100, 0.15, "linear") == 15
    assert n_good(1000, 0.15, "linear") == 25  # capped as in hyperopt and Optuna
    assert n_good(100, 0.25, "sqrt") == 3  # hyperopt: ceil(0.25 * sqrt(100)) = ceil(2.5)
    good, bad = split_good_bad(np.array([5.0, 1.0, 3.0, 1.0, 9.0, 0.5]), 0.5, "linear")
    np.testing.assert_array_equal(good, [1, 3, 5])
    np.testing.assert_array_equal(bad, [0, 2, 4])


def test_forgetting_weights_reference_values() -> None:
    np.testing.assert_array_equal(forgetting_weights(5, 25), np.ones(5))
    w = forgetting_weights(30, 25)
    np.testing.assert_allclose(w[:5], np.linspace(1 / 30, 1, 5))
    np.testing.assert_array_equal(w[5:], np.ones(25))
    np.testing.assert_array_equal(forgetting_weights(30, None), np.ones(30))


def test_bandwidth_scott_rule_and_magic_clip() -> None:
    num = numeric_columns(compile_space({"a": hp.uniform("a", 0, 10), "b": hp.uniform("b", -1, 1)}))
    b = bandwidths(num, 10, 0.2, None)
    np.testing.assert_allclose(b, 0.2 * np.array([10.0, 2.0]) * 10 ** (-1 / 6))
    # magic clip: at least range / min(100, n + 1)
    b = bandwidths(num, 10**12, 0.2, None)
    np.testing.assert_allclose(b, np.array([10.0, 2.0]) / 100)
    b = bandwidths(num, 10**12, 0.2, 0.03)
    np.testing.assert_allclose(b, np.array([10.0, 2.0]) * 0.03)


# -- densities ---------------------------------------------------------------------------------


def test_one_kernel_density_matches_scipy_truncnorm() -> None:
    # One observation at 2 in [0, 10] with bandwidth 1.5, plus the prior N(5, 10) truncated to [0, 10];
    # weights 1 and prior_weight 1 -> each 1/2 (Watanabe eq. 4).
    p = _parzen({"x": hp.uniform("x", 0, 10)}, [[2.0]], b=[1.5])
    x = np.array([0.0, 1.0, 2.0, 7.5, 10.0])
    ref = 0.5 * stats.truncnorm.pdf(x, (0 - 2) / 1.5, (10 - 2) / 1.5, loc=2, scale=1.5) + 0.5 * stats.truncnorm.pdf(
        x, -0.5, 0.5, loc=5, scale=10
    )
    np.testing.assert_allclose(np.exp(p.log_pdf(x[:, None])), ref, rtol=1e-10)


@pytest.mark.parametrize(
    "space, obs",
    [
        ({"x": hp.uniform("x", -3, 7)}, [[-3.0], [0.1], [6.9], [7.0]]),
        ({"x": hp.loguniform("x", math.log(1e-3), math.log(10))}, [[1e-3], [0.5], [9.0]]),
        ({"x": hp.normal("x", 1.0, 2.0)}, [[-4.0], [1.5], [3.0]]),
    ],
)
def test_continuous_density_integrates_to_one(space: dict, obs: list[list[float]]) -> None:
    p = _parzen(space, obs)
    num = p.num
    lo, hi = (num.lo[0], num.hi[0]) if np.isfinite(num.lo[0]) else (-40.0, 40.0)
    z = np.linspace(lo, hi, 200001)
    v = np.exp(z) if num.log[0] else z  # the density is over z = log(value) for log columns
    dens = np.exp(p.log_pdf(v[:, None]))
    assert np.trapezoid(dens, z) == pytest.approx(1.0, abs=1e-6)


def test_multivariate_density_integrates_to_one() -> None:
    space = {"a": hp.uniform("a", 0, 1), "b": hp.uniform("b", -2, 2)}
    p = _parzen(space, [[0.0, 0.0], [0.3, 1.9], [0.9, -1.0]], weights=[1.0, 0.5, 2.0])
    ga, gb = np.linspace(0, 1, 801), np.linspace(-2, 2, 801)
    A, B = np.meshgrid(ga, gb, indexing="ij")
    dens = np.exp(p.log_pdf(np.stack([A.ravel(), B.ravel()], axis=1))).reshape(A.shape)
    assert np.trapezoid(np.trapezoid(dens, gb, axis=1), ga) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "expr, values",
    [
        (hp.quniform("x", 0, 10, 3), [0.0, 3.0, 6.0, 9.0]),
        (hp.uniformint("x", 1, 6), [1.0, 2, 3, 4, 5, 6]),
        (hp.randint("x", 2, 7), [2.0, 3, 4, 5, 6]),
        (hp.qloguniform("x", 0, math.log(20), 4), [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]),
        (hp.choice("x", ["a", "b", "c"]), [0.0, 1.0, 2.0]),
        (hp.pchoice("x", [(0.2, "a"), (0.8, "b")]), [0.0, 1.0]),
    ],
)
def test_discrete_masses_sum_to_one(expr, values: list[float]) -> None:
    obs = [[values[0]], [values[-1]], [values[len(values) // 2]]]
    p = _parzen({"x": expr}, obs)
    mass = np.exp(p.log_pdf(np.asarray(values)[:, None]))
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(mass > 0)


def test_mixed_discrete_product_sums_to_one() -> None:
    space = {"c": hp.choice("c", [0, 1]), "n": hp.randint("n", 0, 4), "q": hp.quniform("q", 0, 1, 0.5)}
    sp = compile_space(space)
    p = _parzen(space, [[0, 1, 0.5], [1, 3, 1.0]])
    grid = np.array([[c, n, q] for c in (0, 1) for n in range(4) for q in (0.0, 0.5, 1.0)])
    # Parzen value order: numeric columns first (sorted labels n, q), then the choice c.
    order = np.concatenate([numeric_columns(sp).cols, categorical_columns(sp).cols])
    cols = [sp.labels.index(label) for label in ("c", "n", "q")]
    vals = np.empty_like(grid, dtype=float)
    vals[:, cols] = grid
    mass = np.exp(p.log_pdf(vals[:, order]))
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)


# -- sampling: bounds and quantisation --------------------------------------------------------


def test_kernel_samples_respect_bounds_and_quantisation() -> None:
    space = {
        "u": hp.uniform("u", -1, 1),
        "lu": hp.loguniform("lu", math.log(1e-4), 0.0),
        "q": hp.quniform("q", 0, 10, 2.5),
        "qlu": hp.qloguniform("qlu", 0, math.log(100), 5),
        "i": hp.uniformint("i", 3, 9),
        "r": hp.randint("r", -2, 3),
    }
    sp = compile_space(space)
    num = numeric_columns(sp)
    edge = np.array([[-1.0, 1e-4, 0.0, 0.0, 3.0, -2.0], [1.0, 1.0, 10.0, 100.0, 9.0, 2.0]])
    by_label = {label: j for j, label in enumerate(sp.labels)}
    vals = np.empty_like(edge)
    for k, label in enumerate(["u", "lu", "q", "qlu", "i", "r"]):
        vals[:, list(num.cols).index(by_label[label])] = edge[:, k]
    p = Parzen(num, categorical_columns(sp), vals, np.ones(2), 1.0, bandwidths(num, 2, 0.2, None))
    s = p.sample(np.random.default_rng(0), 20000)
    col = {label: s[:, list(num.cols).index(by_label[label])] for label in by_label}
    assert col["u"].min() >= -1 and col["u"].max() <= 1
    assert col["lu"].min() >= 1e-4 * (1 - 1e-12) and col["lu"].max() <= 1.0 + 1e-12
    assert set(np.unique(col["q"])) <= {0.0, 2.5, 5.0, 7.5, 10.0}
    assert np.all(np.mod(col["qlu"], 5) == 0) and col["qlu"].min() >= 0 and col["qlu"].max() <= 100
    assert set(np.unique(col["i"])) == set(range(3, 10))
    assert set(np.unique(col["r"])) == set(range(-2, 3))


MIXED = {
    "lr": hp.loguniform("lr", math.log(1e-5), 0.0),
    "units": hp.qloguniform("units", math.log(8), math.log(512), 8),
    "layers": hp.uniformint("layers", 1, 5),
    "seed": hp.randint("seed", 10),
    "act": hp.choice("act", ["relu", "tanh"]),
    "opt": hp.pchoice("opt", [(0.7, "adam"), (0.3, "sgd")]),
    "noise": hp.normal("noise", 0.0, 1.0),
    "scale": hp.qlognormal("scale", 0.0, 1.0, 0.5),
    "model": hp.choice(
        "model",
        [
            {"kind": "svm", "C": hp.loguniform("C", -3, 3), "k": hp.choice("k", [{"g": hp.uniform("g", 0, 1)}, "lin"])},
            {"kind": "tree", "depth": hp.quniform("depth", 1, 10, 1)},
        ],
    ),
}


def _check_valid(space, rows: np.ndarray) -> None:
    active = space.active_mask(rows)
    assert np.array_equal(np.isnan(rows), ~active), "inactive labels must be NaN, active ones set"
    for j, d in enumerate(space.dists):
        v = rows[active[:, j], j]
        name = type(d).__name__
        if name == "Categorical":
            assert np.all((v >= 0) & (v < d.n_options) & (v == np.round(v)))
        elif name == "RandInt":
            assert np.all((v >= d.low) & (v < d.high) & (v == np.round(v)))
        elif name == "Uniform":
            lo, hi = (math.exp(d.low), math.exp(d.high)) if d.log else (d.low, d.high)
            if d.q is not None:
                assert np.allclose(v / d.q, np.round(v / d.q))
                lo, hi = round(lo / d.q) * d.q, round(hi / d.q) * d.q
            assert np.all((v >= lo - 1e-9) & (v <= hi + 1e-9)), (space.labels[j], v.min(), v.max())
            if d.integer:
                assert np.all(v == np.round(v))
        elif d.q is not None:  # Normal family, quantised
            assert np.allclose(v / d.q, np.round(v / d.q))


def _run(space_dict, f, n: int, seed: int, batch: int = 1, **opts) -> tuple[np.ndarray, np.ndarray]:
    sp = compile_space(space_dict)
    rng = np.random.default_rng(seed)
    X = np.empty((0, sp.n_dims))
    y = np.empty(0)
    while len(X) < n:
        rows = tpe.propose(sp, _history(X, y), batch, rng, **opts)
        _check_valid(sp, rows)
        X = np.vstack([X, rows])
        y = np.append(y, [f(sp.row_to_vals(r)) for r in rows])
    return X, y


def test_proposals_valid_in_mixed_conditional_space() -> None:
    def f(v: dict) -> float:
        return (math.log10(v["lr"]) + 3) ** 2 + v.get("g", 0.5) + v["layers"] * 0.1 + abs(v["noise"])

    X, y = _run(MIXED, f, 60, seed=3, batch=4, n_startup_jobs=5)
    assert len(X) == 60
    sp = compile_space(MIXED)
    # after startup both branches of the nested choice still get proposed, with their own models
    assert set(np.unique(X[:, sp.index["model"]])) == {0.0, 1.0}


def test_univariate_mode_is_valid() -> None:
    X, _ = _run(MIXED, lambda v: v["layers"] + v["lr"], 40, seed=1, multivariate=False, n_startup_jobs=5)
    assert len(X) == 40


def test_tpe_beats_random_on_a_quadratic() -> None:
    space = {f"x{i}": hp.uniform(f"x{i}", -5, 5) for i in range(3)}

    def f(v: dict) -> float:
        return sum((v[k] - 1.0) ** 2 for k in v)

    best_tpe = [_run(space, f, 60, seed=s)[1].min() for s in range(5)]
    rng = np.random.default_rng(0)
    best_rand = [((rng.uniform(-5, 5, (60, 3)) - 1) ** 2).sum(1).min() for _ in range(5)]
    assert np.median(best_tpe) < 0.5 * np.median(best_rand)


# -- reproducibility ---------------------------------------------------------------------------


def test_reproducible_from_seed() -> None:
    sp = compile_space(MIXED)
    X = sp.sample(np.random.default_rng(0), 40)
    y = np.random.default_rng(1).random(40)
    a = tpe.propose(sp, _history(X, y), 5, np.random.default_rng(7))
    b = tpe.propose(compile_space(MIXED), _history(X, y), 5, np.random.default_rng(7))  # fresh caches
    c = tpe.propose(sp, _history(X, y), 5, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.nan_to_num(a), np.nan_to_num(c))


def test_cached_kernels_match_a_fresh_fit() -> None:
    space = {f"x{i}": hp.uniform(f"x{i}", -5, 5) for i in range(3)}
    sp = compile_space(space)
    X = sp.sample(np.random.default_rng(0), 300)
    y = (X**2).sum(1)
    tpe.propose(sp, _history(X[:290], y[:290]), 1, np.random.default_rng(0))  # fills the kernel bank
    a = tpe.propose(sp, _history(X, y), 3, np.random.default_rng(5))  # extends it by 10 rows
    b = tpe.propose(compile_space(space), _history(X, y), 3, np.random.default_rng(5))
    np.testing.assert_allclose(a, b, rtol=1e-12)


# -- constant liar -----------------------------------------------------------------------------


def _spread(rows: np.ndarray) -> float:
    d = np.sqrt(((rows[:, None, :] - rows[None, :, :]) ** 2).sum(-1))
    return float(d[np.triu_indices(len(rows), 1)].mean())


def test_constant_liar_moves_a_batch_apart() -> None:
    space = {"a": hp.uniform("a", 0, 1), "b": hp.uniform("b", 0, 1)}
    sp = compile_space(space)
    X = sp.sample(np.random.default_rng(0), 40)
    y = ((X - 0.3) ** 2).sum(1)
    h = _history(X, y)
    same_bw = {"batch_bandwidth_factor": 1.0}  # the liar alone, at the sequential bandwidth
    with_liar = np.mean([_spread(tpe.propose(sp, h, 8, np.random.default_rng(s), **same_bw)) for s in range(10)])
    without = np.mean(
        [_spread(tpe.propose(sp, h, 8, np.random.default_rng(s), constant_liar=False, **same_bw)) for s in range(10)]
    )
    assert with_liar > 1.3 * without


def test_pending_trials_push_proposals_away() -> None:
    space = {"a": hp.uniform("a", 0, 1), "b": hp.uniform("b", 0, 1)}
    sp = compile_space(space)
    X = sp.sample(np.random.default_rng(0), 40)
    y = ((X - 0.3) ** 2).sum(1)
    pending = np.full((6, 2), 0.3)
    near = []
    seq = {"batch_bandwidth_factor": 1.0, "batch_recombination": 0.0}  # the liar alone
    for s in range(20):
        free = tpe.propose(sp, _history(X, y), 1, np.random.default_rng(s), **seq)
        busy = tpe.propose(sp, _history(X, y, pending), 1, np.random.default_rng(s), **seq)
        near.append((np.abs(free - 0.3).sum(), np.abs(busy - 0.3).sum()))
    free_d, busy_d = np.mean(near, axis=0)
    assert busy_d > free_d
    # With the default in-flight options (wider l, recombination) the liar still pushes apart.
    near = []
    for s in range(20):
        h = _history(X, y, pending)
        liar = tpe.propose(sp, h, 1, np.random.default_rng(s))
        no_liar = tpe.propose(sp, h, 1, np.random.default_rng(s), constant_liar=False)
        near.append((np.abs(no_liar - 0.3).sum(), np.abs(liar - 0.3).sum()))
    no_liar_d, liar_d = np.mean(near, axis=0)
    assert liar_d > no_liar_d


def test_in_flight_proposals_widen_the_good_density() -> None:
    """With trials in flight, l's kernels are ``batch_bandwidth_factor`` times wider (T4); g and
    a proposal with nothing in flight keep the sequential bandwidth."""
    sp = compile_space({"a": hp.uniform("a", 0, 1), "b": hp.loguniform("b", -3, 0)})
    X = sp.sample(np.random.default_rng(1), 50)
    y = ((X - 0.3) ** 2).sum(1)
    opts = Options.from_kwargs(
        **{
            k: v
            for k, v in {**tpe.DEFAULTS, "batch_bandwidth_factor": 1.5, "batch_gamma": None}.items()
            if k != "verbose"
        }
    )
    proposer = _Proposer(sp, compile_model(sp, True), X, y, np.empty((0, 2)), opts)
    group = proposer.model.groups[0]
    l_seq, g_seq = proposer.estimators(0, group)  # type: ignore[misc]
    proposer.in_flight = 3
    l_par, g_par = proposer.estimators(0, group)  # type: ignore[misc]
    b_seq, b_par = l_seq.parts[0][0].b, l_par.parts[0][0].b  # type: ignore[attr-defined]
    np.testing.assert_allclose(b_par, np.minimum(1.5 * b_seq, group.num.ref))
    np.testing.assert_allclose(g_par.parts[0][0].b, g_seq.parts[0][0].b)  # type: ignore[attr-defined]
    # A batch of one with nothing running is a sequential proposal: the option changes nothing.
    h = _history(X, y)
    a = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_bandwidth_factor=1.0)
    b = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_bandwidth_factor=3.0)
    np.testing.assert_array_equal(a, b)


def test_batch_gamma_applies_only_in_flight() -> None:
    """``batch_gamma`` sets the split (T1) of proposals made with trials in flight; a sequential
    proposal (n=1, nothing running) is unchanged by it and by ``batch_widen_first``."""
    sp = compile_space({"a": hp.uniform("a", 0, 1), "b": hp.loguniform("b", -3, 0)})
    X = sp.sample(np.random.default_rng(1), 60)
    y = ((X - 0.3) ** 2).sum(1)
    opts = Options.from_kwargs(**{k: v for k, v in {**tpe.DEFAULTS, "batch_gamma": 0.05}.items() if k != "verbose"})
    proposer = _Proposer(sp, compile_model(sp, True), X, y, np.empty((0, 2)), opts)
    group = proposer.model.groups[0]
    l_seq, _ = proposer.estimators(0, group)  # type: ignore[misc]
    proposer.in_flight = 2
    l_par, _ = proposer.estimators(0, group)  # type: ignore[misc]
    assert l_seq.parts[0][0].n == 6  # type: ignore[attr-defined]  # ceil(0.1 * 60)
    assert l_par.parts[0][0].n == 3  # type: ignore[attr-defined]  # ceil(0.05 * 60)
    h = _history(X, y)
    a = tpe.propose(sp, h, 1, np.random.default_rng(3))
    b = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_gamma=0.05, batch_widen_first=True)
    np.testing.assert_array_equal(a, b)
    # In a batch, the first member changes only with batch_widen_first.
    c = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_gamma=0.05)
    d = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_gamma=0.05, batch_widen_first=True)
    e = tpe.propose(sp, h, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(c[0], e[0])
    assert not np.array_equal(d[0], e[0])
    with pytest.raises(ValueError, match="batch_gamma"):
        tpe.propose(sp, h, 1, np.random.default_rng(3), batch_gamma=0.0)


def test_batch_n_EI_candidates_applies_only_in_flight() -> None:
    """``batch_n_EI_candidates`` sets the candidate count (T5) of proposals made with trials in
    flight: a sequential proposal and the first member of a batch are unchanged; the later
    members are the best of that many draws from ``l``."""
    sp = compile_space({"a": hp.uniform("a", 0, 1), "b": hp.loguniform("b", -3, 0)})
    X = sp.sample(np.random.default_rng(1), 60)
    y = ((X - 0.3) ** 2).sum(1)
    h = _history(X, y)
    a = tpe.propose(sp, h, 1, np.random.default_rng(3))
    b = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_n_EI_candidates=1)
    np.testing.assert_array_equal(a, b)
    c = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_n_EI_candidates=24)
    d = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_n_EI_candidates=1)
    e = tpe.propose(sp, h, 4, np.random.default_rng(3), n_EI_candidates=24, batch_n_EI_candidates=None)
    np.testing.assert_array_equal(c, e)  # None means n_EI_candidates
    np.testing.assert_array_equal(c[0], d[0])
    assert not np.array_equal(c[1:], d[1:])
    # The later members draw 1 candidate each instead of 24: the generator ends in another state.
    r1, r24 = np.random.default_rng(3), np.random.default_rng(3)
    tpe.propose(sp, h, 4, r1, batch_n_EI_candidates=1)
    tpe.propose(sp, h, 4, r24, batch_n_EI_candidates=24)
    assert r1.bit_generator.state != r24.bit_generator.state


def test_recombination_draws_around_the_good_sets_weighted_mean() -> None:
    """``sample(recombine=r)`` moves the numeric centre of a share ``r`` of the draws from
    observation kernels to the kernels' weighted mean, in the model space (a log column's mean is
    geometric); draws from the prior kernel stay where they are (T6)."""
    p = _parzen({"a": hp.uniform("a", 0, 1)}, [[0.2], [0.6]], weights=[1.0, 3.0], b=[0.01])

    # weights 1, 3 and the prior's 1: 4/5 of the draws come from observation kernels.
    def shares(r: float) -> np.ndarray:
        x = p.sample(np.random.default_rng(0), 20000, recombine=r)[:, 0]
        return np.array([np.mean(np.abs(x - c) < 0.04) for c in (0.2, 0.5, 0.6)])

    near = shares(0.0)
    assert abs(near[0] - 0.2) < 0.02 and abs(near[2] - 0.6) < 0.02 and near[1] < 0.04
    near = shares(1.0)  # 0.25 * 0.2 + 0.75 * 0.6 = 0.5
    assert near[0] < 0.04 and near[2] < 0.04 and abs(near[1] - 0.8) < 0.02
    near = shares(0.5)
    assert abs(near[1] - 0.4) < 0.03 and abs(near[2] - 0.3) < 0.03
    p.centre_weights = np.array([3.0, 1.0])  # 0.75 * 0.2 + 0.25 * 0.6 = 0.3
    x = p.sample(np.random.default_rng(0), 20000, recombine=1.0)[:, 0]
    assert abs(np.mean(np.abs(x - 0.3) < 0.04) - 0.8) < 0.02
    lp = _parzen({"lr": hp.loguniform("lr", math.log(1e-5), 0.0)}, [[1e-4], [1e-2]], b=[0.01])
    x = lp.sample(np.random.default_rng(1), 5000, recombine=1.0)[:, 0]
    assert np.mean(np.abs(np.log(x) - math.log(1e-3)) < 0.05) > 0.6  # 2/3 from the two kernels


def test_recombination_weights_are_cma_log_rank_weights() -> None:
    w = recombination_weights(np.array([3.0, 1.0, 2.0]))  # ranks 3, 1, 2 of mu = 3
    raw = math.log(3.5) - np.log([3.0, 1.0, 2.0])
    np.testing.assert_allclose(w, raw / raw.sum())
    np.testing.assert_allclose(w, [0.07839, 0.63704, 0.28457], atol=1e-5)
    np.testing.assert_allclose(recombination_weights(np.array([5.0])), [1.0])
    # ties keep trial order: the earlier of two equal losses ranks first
    assert recombination_weights(np.array([1.0, 1.0]))[0] > recombination_weights(np.array([1.0, 1.0]))[1]


def test_batch_recombination_applies_only_in_flight() -> None:
    """``batch_recombination`` changes only proposals made with trials in flight: a sequential
    proposal and the first member of a batch are unchanged, the later members are not."""
    sp = compile_space({"a": hp.uniform("a", 0, 1), "b": hp.loguniform("b", -3, 0)})
    X = sp.sample(np.random.default_rng(1), 60)
    y = ((X - 0.3) ** 2).sum(1)
    h = _history(X, y)
    a = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_recombination=0.0)
    b = tpe.propose(sp, h, 1, np.random.default_rng(3), batch_recombination=1.0)
    np.testing.assert_array_equal(a, b)
    c = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_recombination=0.0)
    d = tpe.propose(sp, h, 4, np.random.default_rng(3), batch_recombination=1.0)
    np.testing.assert_array_equal(c[0], d[0])
    assert not np.array_equal(c[1:], d[1:])
    with pytest.raises(ValueError, match=r"batch_recombination.*\[0.0, 1.0\].*1.5"):
        tpe.propose(sp, h, 2, np.random.default_rng(3), batch_recombination=1.5)


# -- duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 4, 12])
def test_no_duplicates_in_a_discrete_space(batch: int) -> None:
    space = {"c": hp.choice("c", ["a", "b", "c"]), "n": hp.randint("n", 4)}  # 12 configurations

    def f(v: dict) -> float:
        return v["c"] + abs(v["n"] - 1)

    X, _ = _run(space, f, 12, seed=0, batch=batch, n_startup_jobs=3)
    assert len({tuple(r) for r in X}) == 12


def test_no_duplicates_in_a_conditional_discrete_space() -> None:
    space = {
        "m": hp.choice(
            "m", [{"d": hp.quniform("d", 1, 4, 1)}, {"k": hp.choice("k", ["x", "y"]), "r": hp.randint("r", 3)}]
        )
    }  # 4 + 6 = 10 configurations

    def f(v: dict) -> float:
        return v.get("d", 0) + v.get("r", 0)

    X, _ = _run(space, f, 10, seed=1, n_startup_jobs=2)
    assert len({tuple(np.nan_to_num(r, nan=-1)) for r in X}) == 10
    # exhausted: still proposes valid rows
    X2, _ = _run(space, f, 13, seed=1, n_startup_jobs=2)
    assert len(X2) == 13


def test_failed_and_pending_count_as_seen() -> None:
    space = {"n": hp.randint("n", 3)}
    sp = compile_space(space)
    h = History(X=np.array([[0.0]]), y=np.array([1.0]), X_pending=np.array([[1.0]]), X_failed=np.empty((0, 1)))
    rows = tpe.propose(sp, h, 1, np.random.default_rng(0), n_startup_jobs=0)
    assert rows[0, 0] == 2.0


# -- options -----------------------------------------------------------------------------------


def test_hyperopt_options_through_partial() -> None:
    algo = functools.partial(
        tpe.suggest,
        n_startup_jobs=5,
        gamma=0.25,
        n_EI_candidates=30,
        prior_weight=0.8,
        verbose=False,
        linear_forgetting=25,
    )
    propose, opts = resolve_algo(algo)
    assert propose is tpe.propose
    assert opts["gamma"] == 0.25 and opts["n_EI_candidates"] == 30 and opts["multivariate"] is True
    sp = compile_space({"x": hp.uniform("x", 0, 1)})
    X = sp.sample(np.random.default_rng(0), 10)
    rows = propose(sp, _history(X, X[:, 0]), 2, np.random.default_rng(0), **opts)
    assert rows.shape == (2, 1)
    _, opts = resolve_algo(functools.partial(tpe.suggest, split="sqrt", linear_forgetting=None, constant_liar=False))
    propose(sp, _history(X, X[:, 0]), 2, np.random.default_rng(0), **opts)


def test_fmin_with_tpe_partial() -> None:
    fmin = pytest.importorskip("sparktune").fmin
    from sparktune import Trials

    trials = Trials()
    best = fmin(
        lambda d: (d["x"] - 1) ** 2,
        {"x": hp.uniform("x", -5, 5)},
        algo=functools.partial(tpe.suggest, n_startup_jobs=5, gamma=0.25),
        max_evals=30,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert abs(best["x"] - 1) < 1.0


@pytest.mark.parametrize(
    "opts, exc",
    [
        ({"gamma": 0}, ValueError),
        ({"gamma": 1.5}, ValueError),
        ({"n_EI_candidates": 0}, ValueError),
        ({"n_startup_jobs": -1}, ValueError),
        ({"prior_weight": 0}, ValueError),
        ({"split": "log"}, ValueError),
        ({"batch_bandwidth_factor": 0}, ValueError),
        ({"batch_n_EI_candidates": 0}, ValueError),
        ({"gamma": "x"}, TypeError),
        ({"bogus": 1}, TypeError),
    ],
)
def test_invalid_options_rejected(opts: dict, exc: type) -> None:
    sp = compile_space({"x": hp.uniform("x", 0, 1)})
    with pytest.raises(exc):
        tpe.propose(sp, History.empty(1), 1, np.random.default_rng(0), **opts)


def test_groups_follow_conditions_and_mark_gating_choices() -> None:
    from sparktune._tpe import compile_model

    sp = compile_space(MIXED)
    model = compile_model(sp, True)
    by_col = {int(c): g for g in model.groups for c in g.cols}
    # all always-active labels share one joint model, which holds the gating choice "model"
    root = by_col[sp.index["model"]]
    assert root.always_active and root.gating
    assert {sp.labels[c] for c in root.cols} == {
        "lr",
        "units",
        "layers",
        "seed",
        "act",
        "opt",
        "noise",
        "scale",
        "model",
    }
    # the svm branch (C and the kernel choice k) is one group, gating the rbf parameter g
    assert by_col[sp.index["C"]] is by_col[sp.index["k"]] and by_col[sp.index["C"]].gating
    assert not by_col[sp.index["g"]].gating and not by_col[sp.index["depth"]].gating
    # groups come in dependency order
    order = [g.key_col for g in model.groups]
    assert (
        order.index(root.key_col)
        < order.index(by_col[sp.index["C"]].key_col)
        < order.index(by_col[sp.index["g"]].key_col)
    )
    assert len(compile_model(sp, False).groups) == sp.n_dims


def test_tpe_defaults_have_one_source() -> None:
    """Every option the sampler reads comes from ``tpe.DEFAULTS``: Options has no defaults of its
    own, and its fields are exactly DEFAULTS' names (``verbose`` only affects logging)."""
    import dataclasses

    fields = dataclasses.fields(Options)
    assert all(f.default is dataclasses.MISSING for f in fields)
    assert {f.name for f in fields} == set(tpe.DEFAULTS) - {"verbose"}
    with pytest.raises(KeyError):
        Options.from_kwargs(**{k: v for k, v in tpe.DEFAULTS.items() if k not in ("verbose", "batch_gamma")})


QUANTIZED = {
    "x": hp.uniform("x", -5, 5),
    "layers": hp.quniform("layers", 1, 8, 1),
    "units": hp.qloguniform("units", 2, 6, 1),
    "opt": hp.choice("opt", ["adam", "sgd", "rmsprop"]),
}


def test_discrete_bin_masses_tabulated_per_level_equal_the_per_kernel_masses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A quantized column's bin masses are computed once per distinct kernel centre and gathered;
    the result is exactly the per-kernel computation (taken when levels are as many as kernels)."""
    from sparktune._tpe._parzen import KernelBank

    sp = compile_space(QUANTIZED)
    group = compile_model(sp, True).groups[0]
    rng = np.random.default_rng(5)
    bank = KernelBank(group.num, group.cat, bandwidths(group.num, 400, 1.0, None), 0.01)
    bank.append(sp.sample(rng, 400)[:, group.cols])
    assert 0 < len(bank.disc_levels[0]) <= 8 < bank.n  # "layers" has 8 values
    cand = sp.sample(rng, 24)[:, group.cols]
    log_w = np.log(rng.random(bank.n))
    tabulated = bank.log_kernels(cand, bank.scaled(cand), bank.n, log_w)
    monkeypatch.setattr(bank, "_levels", lambda i: np.zeros(bank.n))  # as many levels as kernels
    per_kernel = bank.log_kernels(cand, bank.scaled(cand), bank.n, log_w)
    np.testing.assert_array_equal(tabulated, per_kernel)


def test_lies_added_one_by_one_give_the_bad_density_of_all_lies_at_once() -> None:
    """In a batch each member adds a lie; the lies' kernels are appended, not rebuilt, and the bad
    density equals the one built from all the lies at once."""
    sp = compile_space(QUANTIZED)
    rng = np.random.default_rng(7)
    X = sp.sample(rng, 300)
    y = rng.random(300)
    lies = sp.sample(rng, 40)
    opts = Options.from_kwargs(**{k: v for k, v in tpe.DEFAULTS.items() if k != "verbose"})
    model = compile_model(sp, True)
    group = model.groups[0]
    grown = _Proposer(sp, model, X, y, lies[:30], opts)
    grown.in_flight = 30
    grown.estimators(0, group)
    for row in lies[30:]:
        grown.lies.append(row[None, :])
        grown.in_flight += 1
        grown.estimators(0, group)
    at_once = _Proposer(sp, model, X, y, lies, opts)
    at_once.in_flight = 40
    cand = sp.sample(rng, 50)[:, group.cols]
    _, g_grown = grown.estimators(0, group)  # type: ignore[misc]
    _, g_once = at_once.estimators(0, group)  # type: ignore[misc]
    np.testing.assert_array_equal(g_grown.log_pdf(cand), g_once.log_pdf(cand))
    # and a duplicate retry that takes lies back starts the lies over, still exact
    del grown.lies[-5:]
    at_35 = _Proposer(sp, model, X, y, lies[:35], opts)
    at_35.in_flight = 40
    np.testing.assert_array_equal(
        grown.estimators(0, group)[1].log_pdf(cand), at_35.estimators(0, group)[1].log_pdf(cand)
    )  # type: ignore[index]
