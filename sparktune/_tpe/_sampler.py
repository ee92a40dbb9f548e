"""The TPE proposal: split, weights, conditional groups, candidate scoring, constant liar, duplicates.

Notation follows Watanabe (2023), "Tree-Structured Parzen Estimator: Understanding Its Algorithm
Components and Their Roles for Better Empirical Performance", arXiv 2304.11127 (Sec. 3,
"Algorithm Details", App. A on the acquisition function, App. C on the kernel density
estimator), and Bergstra et al. (2011), "Algorithms for Hyper-Parameter Optimization"
(NeurIPS, Sec. 4). The equations the code cites:

(T1) split: the ``n_good`` best observations form ``D^(l)``, the rest ``D^(g)``, with
     ``n_good = min(ceil(gamma * N), 25)`` ("linear", Watanabe's and Optuna's) or
     ``min(ceil(gamma * sqrt(N)), 25)`` ("sqrt", hyperopt's);
(T2) weights: the newest ``linear_forgetting`` observations of a set weigh 1, older ones a linear
     ramp from ``1/N`` (hyperopt's and Optuna's default);
(T3) Parzen estimators ``l(x) = p(x | D^(l))`` and ``g(x) = p(x | D^(g))``, each
     ``sum_k w_k K(x | x_k, b) + w_0 K_0(x)`` with a prior kernel ``K_0`` and weights summing to 1;
(T4) bandwidth (``_parzen.bandwidths``): Scott's rule ``b = factor * R * n^(-1/(d+4))``, clipped;
     a proposal made while other trials are in flight draws from ``l`` with its observation
     kernels' bandwidths multiplied by ``batch_bandwidth_factor`` (see "Parallel runs" below);
(T5) acquisition: draw ``n_EI_candidates`` candidates from ``l`` and return the one maximising
     ``l(x) / g(x)``; expected improvement over the threshold is a monotone function of this
     ratio (Bergstra et al. 2011, Sec. 4.1; Watanabe 2023, App. A);
(T6) recombination (parallel runs): a proposal made while trials are in flight draws a share
     ``batch_recombination`` of its candidates from the observation kernels of ``l`` with their
     numeric centres moved to the good set's weighted mean ``sum_k w_k mu_k / sum_k w_k`` (in the
     model space, so a log column's mean is geometric), with CMA-ES's log-rank weights
     ``w_k = ln(n_good + 1/2) - ln(rank_k)`` (rank 1 = the lowest loss); bandwidths and
     categorical parts stay the chosen kernel's, the prior kernel's draws are not moved, and (T5)
     scores them as usual.

Conditional spaces: the columns that are active under the same conditions form a *group* with its
own joint model, fitted on the trials where the group is active, split on those trials' losses
(as Optuna's ``group=True``). Groups are proposed in dependency order, so a nested group is only
proposed once the choices that activate it are set. A group holding such a choice gives its prior
kernel ``gating_prior_weight`` (the branches keep being explored while their own parameters are
still untuned).

Parallel runs: with ``constant_liar`` the running trials and the members of the batch already
proposed join ``D^(g)`` (a "bad" lie), so concurrent proposals move apart (Optuna's constant
liar). Failed trials always join ``D^(g)``. A proposal made while trials are in flight (running,
or earlier in the same batch) also widens the good density's kernels by
``batch_bandwidth_factor`` (T4): it is proposed without the results of those trials, so it is
one of several steps taken from the same incumbent before the model learns from any of them,
and for several steps from one point a longer step pays (as the best step size of an evolution
strategy grows with its population); the first proposal of a batch with nothing in flight keeps
the sequential bandwidth (the measurements behind the factor are in benchmarks/README.md). ``batch_gamma``
replaces ``gamma`` in the split (T1) of such proposals, so that the recombination below
averages more good observations. Two options, off by default, change only proposals made while
trials are in flight: ``batch_widen_first`` treats the first member of a batch of n > 1 as in
flight too, and ``batch_n_EI_candidates`` replaces ``n_EI_candidates`` in (T5). Neither beat
the defaults by more than the seed noise (benchmarks/README.md).

Recombination (T6, ``batch_recombination``; defaults in ``sparktune.tpe.DEFAULTS``): a proposal made while trials are in
flight draws its candidates around the rank-weighted mean of the good set instead of around
single good observations. Such a proposal is one of several steps taken from the same model
before it learns from any of them; an evolution strategy with a population of steps centres
them on the weighted mean of its best parents (intermediate recombination, ``(mu/mu_w,
lambda)``: the parents' independent deviations from the optimum partly cancel in their mean;
Beyer 1995, "Toward a theory of evolution strategies: on the benefits of sex", Evolutionary
Computation 3(1); the weights are CMA-ES's, Hansen 2016), and (T5) still chooses among the
candidates by ``l/g``. The first member of a batch with nothing in flight, and every sequential
proposal, are unchanged. The measurements behind these choices (seeds, problems, shares of
the sequential advantage kept) are in benchmarks/README.md.

Fully discrete spaces: no configuration already seen (finished, running, failed or earlier in the
batch) is proposed while an unseen one remains.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparktune._space import Condition, SearchSpace
from sparktune._tpe._columns import (
    CategoricalColumns,
    Encoder,
    NumericColumns,
    categorical_columns,
    numeric_columns,
)
from sparktune._tpe._parzen import KernelBank, Kernels, LocalKernels, Parzen, bandwidths, neighbour_bandwidths

logger = logging.getLogger("sparktune.tpe")

# Hyperopt and Optuna both cap the good set at 25 observations.
MAX_GOOD = 25
# Enumerate a fully discrete space to find an unseen configuration only up to this many cells.
_MAX_ENUMERATE = 1 << 20


@dataclass(frozen=True)
class Options:
    """Validated TPE options. Their defaults and meaning live in one place, ``sparktune.tpe.DEFAULTS``;
    every field is required here so that no second default can drift from it."""

    n_startup_jobs: int
    gamma: float
    n_EI_candidates: int
    prior_weight: float
    gating_prior_weight: float
    linear_forgetting: int | None
    multivariate: bool
    constant_liar: bool
    split: str
    bandwidth_factor: float
    min_bandwidth_factor: float | None
    bandwidth: str
    batch_bandwidth_factor: float
    batch_gamma: float | None
    batch_widen_first: bool
    batch_n_EI_candidates: int | None
    batch_recombination: float

    @classmethod
    def from_kwargs(cls, **opts: Any) -> Options:
        def integer(name: str, low: int) -> int:
            v = opts[name]
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"tpe option `{name}` must be an integer >= {low}, got {name}={v!r}")
            return int(v)

        def number(name: str, low: float, high: float, low_open: bool = True) -> float:
            v = opts[name]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"tpe option `{name}` must be a number, got {name}={v!r}")
            v = float(v)
            ok = (v > low if low_open else v >= low) and v <= high
            if not ok:
                raise ValueError(
                    f"tpe option `{name}` must be in {'(' if low_open else '['}{low}, {high}], got {name}={v!r}"
                )
            return v

        lf = opts["linear_forgetting"]
        if lf is not None:
            lf = integer("linear_forgetting", 1)
        split = opts["split"]
        if split not in ("linear", "sqrt"):
            raise ValueError(f"tpe option `split` must be 'linear' or 'sqrt', got split={split!r}")
        bw = opts["bandwidth"]
        if bw not in ("scott", "neighbour", "neighbour-both"):
            raise ValueError(
                f"tpe option `bandwidth` must be 'scott', 'neighbour' or 'neighbour-both', got bandwidth={bw!r}"
            )
        bg = opts["batch_gamma"]
        mbf = opts["min_bandwidth_factor"]
        if mbf is not None:
            mbf = number("min_bandwidth_factor", 0.0, 1.0)
        return cls(
            n_startup_jobs=integer("n_startup_jobs", 0),
            gamma=number("gamma", 0.0, 1.0 if split == "linear" else math.inf),
            n_EI_candidates=integer("n_EI_candidates", 1),
            prior_weight=number("prior_weight", 0.0, math.inf),
            gating_prior_weight=number("gating_prior_weight", 0.0, math.inf),
            linear_forgetting=lf,
            multivariate=bool(opts["multivariate"]),
            constant_liar=bool(opts["constant_liar"]),
            split=split,
            bandwidth_factor=number("bandwidth_factor", 0.0, math.inf),
            min_bandwidth_factor=mbf,
            bandwidth=bw,
            batch_bandwidth_factor=number("batch_bandwidth_factor", 0.0, math.inf),
            batch_gamma=None if bg is None else number("batch_gamma", 0.0, 1.0 if split == "linear" else math.inf),
            batch_widen_first=bool(opts["batch_widen_first"]),
            batch_n_EI_candidates=(
                None if opts["batch_n_EI_candidates"] is None else integer("batch_n_EI_candidates", 1)
            ),
            batch_recombination=number("batch_recombination", 0.0, 1.0, low_open=False),
        )


# -- compiled per space -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Group:
    """Columns modelled jointly. Value arrays of the group hold ``num.cols`` then ``cat.cols``."""

    num: NumericColumns
    cat: CategoricalColumns
    cols: np.ndarray
    conditions: tuple[Condition, ...]
    key_col: int
    n_dims: int
    gating: bool = False

    @property
    def always_active(self) -> bool:
        return self.conditions == ((),)

    @property
    def identity(self) -> bool:
        """The group's columns are all the row's columns, in order."""
        return bool(np.array_equal(self.cols, np.arange(self.n_dims)))

    def active(self, row: np.ndarray) -> bool:
        return any(all(row[c] == i for c, i in cond) for cond in self.conditions)


@dataclass(frozen=True, eq=False)
class Model:
    """What TPE keeps per space: its groups, the duplicate encoder and, per group, the kernel bank
    of the finished trials at the last bandwidth (extended as the history grows)."""

    groups: tuple[Group, ...]
    encoder: Encoder
    banks: dict[int, tuple[Any, KernelBank]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_MODELS: weakref.WeakKeyDictionary[SearchSpace, dict[bool, Model]] = weakref.WeakKeyDictionary()


def compile_model(space: SearchSpace, multivariate: bool) -> Model:
    """Groups (in dependency order) and the duplicate encoder of ``space``; cached per space."""
    per_space = _MODELS.setdefault(space, {})
    model = per_space.get(multivariate)
    if model is not None:
        return model
    num_all = numeric_columns(space)
    cat_all = categorical_columns(space)
    gating_cols = {c for conds in space.conditions for cond in conds for c, _ in cond}
    keys: dict[Any, list[int]] = {}
    for j, conds in enumerate(space.conditions):
        key: Any = tuple(sorted(conds)) if multivariate else j
        keys.setdefault(key, []).append(j)
    pending = [(tuple(sorted(space.conditions[cols[0]])), cols) for cols in keys.values()]
    ordered: list[Group] = []
    done: set[int] = set()
    while pending:
        progressed = False
        for item in list(pending):
            conds, cols = item
            needed = {c for cond in conds for c, _ in cond}
            if needed <= done:
                colset = np.array(cols)
                ordered.append(
                    Group(
                        num=num_all.subset(np.isin(num_all.cols, colset)),
                        cat=cat_all.subset(np.isin(cat_all.cols, colset)),
                        cols=np.concatenate(
                            [num_all.cols[np.isin(num_all.cols, colset)], cat_all.cols[np.isin(cat_all.cols, colset)]]
                        ),
                        conditions=conds,
                        key_col=cols[0],
                        n_dims=space.n_dims,
                        gating=bool(gating_cols & set(cols)),
                    )
                )
                done.update(cols)
                pending.remove(item)
                progressed = True
        if not progressed:  # a cycle cannot come out of compile_space; keep going regardless
            conds, cols = pending.pop(0)
            done.update(cols)
    model = Model(groups=tuple(ordered), encoder=Encoder(space))
    per_space[multivariate] = model
    return model


def _bucket(n: int) -> int:
    """``n`` rounded down to an eighth of an octave from 64 on: the bandwidth of an estimator with
    ``n`` kernels changes by < 1% between buckets (Scott's rule, ``n^(-1/(d+4))``), and within a
    bucket the kernels computed for earlier trials are reused."""
    if n < 64:
        return max(n, 1)
    return int(2.0 ** (math.floor(8.0 * math.log2(n)) / 8.0))


# -- split and weights --------------------------------------------------------------------------


def n_good(n: int, gamma: float, split: str) -> int:
    """Size of the good set ``D^(l)`` among ``n`` observations (T1)."""
    if n == 0:
        return 0
    k = gamma * n if split == "linear" else gamma * math.sqrt(n)
    return int(min(math.ceil(k), MAX_GOOD, n))


def forgetting_weights(n: int, linear_forgetting: int | None) -> np.ndarray:
    """Weights of ``n`` observations in trial order: 1 for the newest ``linear_forgetting``, a
    linear ramp from ``1/n`` up to 1 for the older ones (hyperopt's and Optuna's default weights;
    (T2)). ``None`` gives uniform weights."""
    if linear_forgetting is None or n <= linear_forgetting:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, n - linear_forgetting), np.ones(linear_forgetting)])


def split_good_bad(y: np.ndarray, gamma: float, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices (in trial order) of the good and bad observations for losses ``y``."""
    k = n_good(len(y), gamma, split)  # (T1)
    if k == 0:
        return np.empty(0, dtype=np.intp), np.arange(len(y))
    # O(N) selection of the k best; ties at the threshold go to the earlier trial (stable order).
    if k < len(y):
        kth = np.partition(y, k - 1)[k - 1]
        below = np.flatnonzero(y < kth)
        at = np.flatnonzero(y == kth)[: k - len(below)]
        is_good = np.zeros(len(y), dtype=bool)
        is_good[below] = True
        is_good[at] = True
    else:
        is_good = np.ones(len(y), dtype=bool)
    return np.flatnonzero(is_good), np.flatnonzero(~is_good)


def recombination_weights(y_good: np.ndarray) -> np.ndarray:
    """Weights of the good set's members in the mean that in-flight candidates are drawn around
    (T6): CMA-ES's log-rank weights ``ln(mu + 1/2) - ln(rank)`` for ``mu`` members, rank 1 = the
    lowest loss, normalised (the default positive weights of Hansen 2016, "The CMA Evolution
    Strategy: A Tutorial", arXiv:1604.00772, with ``mu = lambda / 2``). Ties keep trial order."""
    mu = len(y_good)
    rank = np.empty(mu)
    rank[np.argsort(y_good, kind="stable")] = np.arange(1, mu + 1)
    w = np.log(mu + 0.5) - np.log(rank)
    return w / w.sum()


# -- proposal -----------------------------------------------------------------------------------


def _group_rows(group: Group, chunks: list[np.ndarray]) -> np.ndarray:
    """The rows of ``chunks`` where ``group`` is active, restricted to its columns."""
    rows = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return rows[~np.isnan(rows[:, group.key_col])][:, group.cols] if len(rows) else rows[:, group.cols]


class _GroupLies:
    """One group's lies (running trials, earlier batch members) and their kernels, appended as the
    batch grows: each member adds one lie, so the kernels of a thousand running trials are
    computed once per ``propose`` call, not once per member."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.chunks: list[np.ndarray] = []  # the chunks of ``_Proposer.lies`` taken in, in order
        self.rows: list[np.ndarray] = []  # their rows of this group (active ones, group columns)
        self.count = 0
        self._bank: KernelBank | None = None
        self._for: KernelBank | None = None  # the history bank whose bandwidth it has
        self._in_bank = 0  # how many of ``rows`` are in ``_bank``

    def extends(self, lies: list[np.ndarray]) -> bool:
        return len(lies) >= len(self.chunks) and all(a is b for a, b in zip(self.chunks, lies))

    def update(self, lies: list[np.ndarray]) -> None:
        for chunk in lies[len(self.chunks) :]:
            self.chunks.append(chunk)
            rows = _group_rows(self.group, [chunk])
            self.rows.append(rows)
            self.count += len(rows)

    def bank_for(self, history: KernelBank) -> KernelBank:
        """The lies' kernels at ``history``'s bandwidth and smoothing."""
        if self._bank is None or self._for is not history:
            self._bank = KernelBank(self.group.num, self.group.cat, history.b, history.smoothing)
            self._for, self._in_bank = history, 0
        if self._in_bank < len(self.rows):
            new = self.rows[self._in_bank :]
            self._bank.append(np.concatenate(new) if len(new) > 1 else new[0])
            self._in_bank = len(self.rows)
        return self._bank


class _Proposer:
    """State of one ``propose`` call: the history split per group, the good estimators, the lies."""

    def __init__(
        self, space: SearchSpace, model: Model, X: np.ndarray, y: np.ndarray, lies: np.ndarray, opts: Options
    ) -> None:
        self.space = space
        self.model = model
        self.opts = opts
        self.X = X
        self.y = np.where(np.isnan(y), np.inf, y)
        self.lies = [lies]
        # Trials in flight when the next row is proposed: running ones and earlier batch members.
        self.in_flight = 0
        # A batch of n > 1 with ``batch_widen_first``: its first member is treated as in flight too.
        self.batch = False
        self._good: dict[tuple[int, float, float], tuple[Parzen, np.ndarray, np.ndarray] | None] = {}
        self._lies: dict[int, _GroupLies] = {}

    @property
    def parallel(self) -> bool:
        """Whether the next row is proposed while trials are in flight (the batch options apply)."""
        return bool(self.in_flight) or self.batch

    def _prior_weight(self, group: Group) -> float:
        """The prior kernel's weight: ``gating_prior_weight`` for a group holding a choice that
        activates other parameters, ``prior_weight`` otherwise. A branch is first judged by losses
        observed while its own parameters were barely tuned, so the choice keeps more of its prior
        to go on exploring the branches (measured on the nested-choice benchmark problem)."""
        return self.opts.gating_prior_weight if group.gating else self.opts.prior_weight

    def _bandwidth(self, group: Group, n: int) -> np.ndarray:
        return bandwidths(group.num, n, self.opts.bandwidth_factor, self.opts.min_bandwidth_factor)

    def _history_bank(self, gi: int, group: Group, vals: np.ndarray, n_kernels: int) -> KernelBank:
        """The kernels of all finished observations of group ``gi`` at the bandwidth of an estimator
        with ``n_kernels`` kernels, reused from the previous call when its rows are a prefix of
        ``vals`` and the bandwidth bucket is unchanged (then only the new rows are computed)."""
        key = (
            _bucket(n_kernels),
            self.opts.bandwidth_factor,
            self.opts.min_bandwidth_factor,
            self._prior_weight(group),
        )
        with self.model.lock:
            cached = self.model.banks.get(gi)
            if cached is not None and cached[0] == key:
                bank = cached[1]
                if bank.n <= len(vals) and np.array_equal(bank.values[: bank.n], vals[: bank.n]):
                    bank.append(vals[bank.n :])
                    return bank
            smoothing = self._prior_weight(group) / (key[0] + 1)
            bank = KernelBank(group.num, group.cat, self._bandwidth(group, key[0]), smoothing)
            bank.append(vals)
            self.model.banks[gi] = (key, bank)
            return bank

    def _good_parzen(self, group: Group, vals: np.ndarray, w: np.ndarray, widen: float = 1.0) -> Parzen:
        """A density over ``vals`` (the good set, or the bad one with ``neighbour-both``), its
        numeric kernels' bandwidths multiplied by ``widen`` (clipped to the range)."""
        ref = group.num.ref
        if self.opts.bandwidth == "scott":
            b = self._bandwidth(group, len(vals))
            b = b if widen == 1.0 else np.minimum(b * widen, ref)
            return Parzen(group.num, group.cat, vals, w, self._prior_weight(group), b)
        mu = group.num.to_model(vals[:, : len(group.num.cols)])
        nb = neighbour_bandwidths(group.num, mu)
        nb = nb if widen == 1.0 else np.minimum(nb * widen, ref)
        kernels = LocalKernels(group.num, group.cat, vals, nb, self._prior_weight(group) / (len(vals) + 1))
        return Parzen.from_banks(group.num, group.cat, [(kernels, w)], self._prior_weight(group))

    def estimators(self, gi: int, group: Group) -> tuple[Parzen, Parzen] | None:
        """``(l, g)`` of group ``gi``; None when the group has no finished observation. ``l``'s
        kernels are widened by ``batch_bandwidth_factor`` while trials are in flight (T4)."""
        parallel = self.parallel
        widen = self.opts.batch_bandwidth_factor if parallel else 1.0
        gamma = self.opts.batch_gamma if parallel and self.opts.batch_gamma is not None else self.opts.gamma
        key = (gi, widen, gamma)
        if key not in self._good:
            if group.always_active:
                vals = self.X if group.identity else self.X[:, group.cols]
                y = self.y
            else:
                rows = np.flatnonzero(~np.isnan(self.X[:, group.key_col]))
                vals = self.X[np.ix_(rows, group.cols)]
                y = self.y[rows]
            if len(y) == 0:
                self._good[key] = None
            else:
                good, bad = split_good_bad(y, gamma, self.opts.split)
                lw = forgetting_weights(len(good), self.opts.linear_forgetting)
                est_l = self._good_parzen(group, vals[good], lw, widen)
                if parallel and self.opts.batch_recombination > 0.0:
                    est_l.centre_weights = recombination_weights(y[good])  # (T6)
                # g's weights over all observations: 0 for the good ones (T3) with the
                # forgetting ramp over the bad ones in trial order).
                gw = np.zeros(len(y))
                gw[bad] = forgetting_weights(len(bad), self.opts.linear_forgetting)
                self._good[key] = (est_l, vals, gw)
        state = self._good[key]
        if state is None:
            return None
        est_l, vals, gw = state
        if self.opts.bandwidth == "neighbour-both":
            lies = _group_rows(group, self.lies)
            bad_vals = np.concatenate([vals[gw > 0], lies])
            w = np.concatenate([gw[gw > 0], np.ones(len(lies))])
            return est_l, self._good_parzen(group, bad_vals, w)
        group_lies = self._lies_of(gi, group)
        bank = self._history_bank(gi, group, vals, int(np.count_nonzero(gw)) + group_lies.count)
        lie_bank = group_lies.bank_for(bank)
        parts: list[tuple[Kernels, np.ndarray]] = [(bank, gw)]
        if lie_bank.n:
            parts.append((lie_bank, np.ones(lie_bank.n)))
        return est_l, Parzen.from_banks(group.num, group.cat, parts, self._prior_weight(group))

    def _lies_of(self, gi: int, group: Group) -> _GroupLies:
        """Group ``gi``'s share of ``self.lies``, brought up to date (the lies only grow within a
        batch, except for the duplicate retries of ``propose_tpe``, which start it over)."""
        cache = self._lies.get(gi)
        if cache is None or not cache.extends(self.lies):
            cache = self._lies[gi] = _GroupLies(group)
        cache.update(self.lies)
        return cache

    def best_of(self, est_l: Parzen, est_g: Parzen, rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
        """``m`` candidates from ``l`` and their scores ``log l - log g`` (T5). While trials are in
        flight, ``batch_recombination`` of the candidates are drawn around the good set's weighted
        mean (T6)."""
        cand = est_l.sample(rng, m, self.opts.batch_recombination if self.parallel else 0.0)
        return cand, est_l.log_pdf(cand) - est_g.log_pdf(cand)

    def row(self, rng: np.random.Generator, seen: np.ndarray | None) -> np.ndarray:
        """One configuration. ``seen`` (sorted codes) filters candidates when one group covers the row."""
        D = self.space.n_dims
        row = np.full(D, np.nan)
        single = seen is not None and len(self.model.groups) == 1 and len(self.model.groups[0].cols) == D
        for gi, group in enumerate(self.model.groups):
            if not group.active(row):
                continue
            est = self.estimators(gi, group)
            if est is None:  # nothing observed in this branch yet: its prior
                for j in group.cols:
                    row[j] = self.space.dists[j].sample(rng, 1)[0]
                continue
            m = self.opts.n_EI_candidates
            if self.opts.batch_n_EI_candidates is not None and self.parallel:
                m = self.opts.batch_n_EI_candidates
            if not single or seen is None:
                cand, score = self.best_of(est[0], est[1], rng, m)
                row[group.cols] = cand[int(np.argmax(score))]
                continue
            for _ in range(4):  # fully discrete single-group space: best candidate not yet seen
                cand, score = self.best_of(est[0], est[1], rng, m)
                full = np.full((len(cand), D), np.nan)
                full[:, group.cols] = cand
                fresh = ~_contains(seen, self.model.encoder.codes(full))
                if fresh.any():
                    score = np.where(fresh, score, -np.inf)
                    row[group.cols] = cand[int(np.argmax(score))]
                    break
            else:
                row[group.cols] = cand[int(np.argmax(score))]
        return row


def _contains(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    if len(sorted_codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    pos = np.searchsorted(sorted_codes, codes)
    pos = np.minimum(pos, len(sorted_codes) - 1)
    return sorted_codes[pos] == codes


def _unseen_prior(space: SearchSpace, enc: Encoder, seen: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A configuration not in ``seen``: from the prior, else by enumerating the space; None if none."""
    for size in (64, 256, 1024):
        cand = space.sample(rng, size)
        fresh = np.flatnonzero(~_contains(seen, enc.codes(cand)))
        if len(fresh):
            return cand[fresh[0]]
    cells = 1
    for n in enc.levels:
        cells *= int(n)
    if cells > _MAX_ENUMERATE:
        return None
    grids = np.meshgrid(*[enc.values(j) for j in range(space.n_dims)], indexing="ij")
    allrows = space.mask_inactive(np.stack([g.ravel() for g in grids], axis=1))
    codes = enc.codes(allrows)
    fresh = np.flatnonzero(~_contains(seen, codes))
    if len(fresh) == 0:
        return None
    return allrows[fresh[rng.integers(len(fresh))]]


def propose_tpe(
    space: SearchSpace,
    X: np.ndarray,
    y: np.ndarray,
    X_pending: np.ndarray,
    X_failed: np.ndarray,
    n: int,
    rng: np.random.Generator,
    opts: Options,
) -> np.ndarray:
    """``n`` configurations (rows of values, NaN where inactive) proposed by TPE."""
    D = space.n_dims
    out = np.empty((n, D))
    if n == 0:
        return out
    model = compile_model(space, opts.multivariate)
    enc = model.encoder
    seen: np.ndarray | None = None
    if enc.finite:
        seen = np.unique(enc.codes(np.concatenate([X, X_pending, X_failed])))

    def remember(row: np.ndarray) -> None:
        nonlocal seen
        if seen is not None:
            seen = np.union1d(seen, enc.codes(row[None, :]))

    def is_seen(row: np.ndarray) -> bool:
        return seen is not None and bool(_contains(seen, enc.codes(row[None, :]))[0])

    # Startup (hyperopt's rule): a configuration is drawn from the prior while fewer than
    # n_startup_jobs trials have started before it (finished, failed, running and the earlier
    # members of this batch), or while no trial has finished.
    started = len(X) + len(X_pending) + len(X_failed)
    n_prior = n if len(X) == 0 else int(min(n, max(opts.n_startup_jobs - started, 0)))
    if n_prior:
        logger.debug(
            "tpe: %d trials started < n_startup_jobs=%d: %d from the prior", started, opts.n_startup_jobs, n_prior
        )
        prior = space.sample(rng, n_prior)
        for i in range(n_prior):
            row = prior[i]
            if is_seen(row):
                row = _unseen_prior(space, enc, seen, rng)  # type: ignore[arg-type]
                row = prior[i] if row is None else row
            out[i] = row
            remember(row)
        if n_prior == n:
            return out

    lies = X_failed
    if opts.constant_liar and len(X_pending):
        lies = np.concatenate([X_pending, X_failed])
    if n_prior and opts.constant_liar:
        lies = np.concatenate([lies, out[:n_prior]])
    proposer = _Proposer(space, model, X, y, lies, opts)
    proposer.in_flight = len(X_pending) + n_prior
    proposer.batch = opts.batch_widen_first and n > 1
    for i in range(n_prior, n):
        row = proposer.row(rng, seen)
        if is_seen(row):
            # A duplicate in a discrete space: lie that it is bad and try again, then fall back to
            # an unseen configuration from the prior (or the enumeration of the space).
            base = len(proposer.lies)
            for _ in range(8):
                proposer.lies.append(row[None, :])
                row = proposer.row(rng, seen)
                if not is_seen(row):
                    break
            del proposer.lies[base:]
            if is_seen(row):
                alt = _unseen_prior(space, enc, seen, rng)  # type: ignore[arg-type]
                row = row if alt is None else alt
        out[i] = space.mask_inactive(row[None, :])[0]
        remember(out[i])
        if opts.constant_liar and i + 1 < n:
            proposer.lies.append(out[i][None, :])
        proposer.in_flight += 1
    return out
