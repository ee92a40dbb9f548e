"""How TPE models each column of a search space ("model space") and how it maps back to values.

A configuration row holds *values* (see ``sparktune._distributions``). TPE fits its kernels in a
model space where every numeric hyperparameter is a real number ``z``:

- ``uniform``/``quniform``/``uniformint``: ``z = value``, bounded by ``[low, high]`` (the bounds
  of the uniform draw before quantisation);
- ``loguniform``/``qloguniform``: ``z = log(value)``, bounded by ``[low, high]`` (log space);
- ``normal``/``lognormal`` families: ``z = value`` or ``log(value)``, unbounded;
- ``randint(low, high)``: ``z = value``, bounded by ``[low - 0.5, high - 0.5]``.

A quantised or integer column ("discrete") with step ``q`` keeps its kernels continuous in ``z``
but scores a value by the kernel's mass over the value's bin: the set of ``z`` that the
distribution maps to that value, ``[v - q/2, v + q/2]`` (through ``log`` for log families),
clipped to the bounds. The bins partition the bounds, so the masses of all values sum to 1
(Bergstra et al. 2011, sec. 4: quantised variables are scored by bin mass).

``choice``/``pchoice`` columns are categorical: their value is the option index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparktune._distributions import Categorical, Normal, RandInt, Uniform
from sparktune._space import SearchSpace

# Width, in prior standard deviations, used as the reference range of an unbounded (normal) column
# when scaling bandwidths: a uniform range R has standard deviation R / sqrt(12) ~ 0.29 R, so
# 4 sigma gives the same bandwidth-to-spread ratio (Scott's rule is in units of the spread).
_NORMAL_RANGE_SIGMAS = 4.0


@dataclass(frozen=True, eq=False)
class NumericColumns:
    """Model-space description of a set of numeric columns (arrays indexed like ``cols``).

    Attributes:
        cols: the row columns described, shape (d,).
        lo, hi: bounds of ``z`` (``-inf``/``inf`` for normal families).
        ref: reference range of ``z`` that bandwidths are scaled by (``hi - lo`` when bounded).
        prior_mu, prior_sigma: the prior kernel (mid-range with sigma = range for bounded
            columns, the distribution itself for normal families).
        log: ``z = log(value)``.
        step: quantisation step of the value (1 for integers), 0 for continuous columns.
        integer: the distribution rounds its value to an integer.
        clip_lo, clip_hi: bounds of the *value* after the distribution's transform (used for
            randint, whose top bin edge would otherwise round up to ``high``); +-inf if none.
    """

    cols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    ref: np.ndarray
    prior_mu: np.ndarray
    prior_sigma: np.ndarray
    log: np.ndarray
    step: np.ndarray
    integer: np.ndarray
    clip_lo: np.ndarray
    clip_hi: np.ndarray

    @property
    def discrete(self) -> np.ndarray:
        return self.step > 0

    def subset(self, which: np.ndarray) -> NumericColumns:
        """The columns selected by the boolean or integer index ``which``."""
        return NumericColumns(*(getattr(self, f)[which] for f in _NUMERIC_FIELDS))

    def to_model(self, values: np.ndarray) -> np.ndarray:
        """``z`` for values of shape (n, d): ``log`` for log columns, clipped to the bounds.

        A log-quantised value of 0 (``round(exp(x) / q) * q`` rounds small draws down to 0) has the
        bin ``z <= log(q / 2)``; its kernel is centred at that edge (clipped to the bounds).
        """
        z = values.astype(np.float64, copy=True)
        if self.log.any():
            lc = z[:, self.log]
            zero = np.log(np.where(self.step > 0, self.step / 2, 1.0))[self.log]
            zero = np.where(np.isfinite(self.lo[self.log]) | (self.step[self.log] > 0), zero, self.prior_mu[self.log])
            z[:, self.log] = np.where(lc > 0, np.log(np.where(lc > 0, lc, 1.0)), zero)
        return np.minimum(np.maximum(z, self.lo), self.hi)

    def bin_edges(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bin ``[a, b]`` in ``z`` of each value (n, d) of the discrete columns, clipped to bounds."""
        half = self.step / 2.0
        a = values - half
        b = values + half
        if self.log.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.where(self.log, np.log(np.where(a > 0, a, 1.0)) + np.where(a > 0, 0.0, -np.inf), a)
                b = np.where(self.log, np.log(np.where(b > 0, b, 1.0)) + np.where(b > 0, 0.0, -np.inf), b)
        return np.minimum(np.maximum(a, self.lo), self.hi), np.minimum(np.maximum(b, self.lo), self.hi)

    def to_values(self, z: np.ndarray) -> np.ndarray:
        """Values for ``z`` (n, d), applying each distribution's transform: exp, quantise, round."""
        v = np.where(self.log, np.exp(np.where(self.log, z, 0.0)), z)
        q = np.where(self.step > 0, self.step, 1.0)
        v = np.where(self.step > 0, np.round(v / q) * q, v)
        v = np.where(self.integer, np.round(v), v)
        return np.minimum(np.maximum(v, self.clip_lo), self.clip_hi)


_NUMERIC_FIELDS = (
    "cols",
    "lo",
    "hi",
    "ref",
    "prior_mu",
    "prior_sigma",
    "log",
    "step",
    "integer",
    "clip_lo",
    "clip_hi",
)


@dataclass(frozen=True, eq=False)
class CategoricalColumns:
    """Categorical columns: ``cols`` (row columns) and ``probs`` (prior of each option, per column)."""

    cols: np.ndarray
    probs: tuple[np.ndarray, ...]

    def subset(self, which: np.ndarray) -> CategoricalColumns:
        idx = np.flatnonzero(which) if np.asarray(which).dtype == bool else np.asarray(which)
        return CategoricalColumns(self.cols[idx], tuple(self.probs[i] for i in idx))


def numeric_columns(space: SearchSpace) -> NumericColumns:
    """The numeric columns of ``space`` (every column that is not a ``choice``)."""
    rows: list[tuple[float, ...]] = []
    cols: list[int] = []
    for j, dist in enumerate(space.dists):
        inf = np.inf
        if isinstance(dist, Uniform):
            width = dist.high - dist.low
            step = dist.q if dist.q is not None else (1.0 if dist.integer else 0.0)
            rows.append(
                (dist.low, dist.high, width, (dist.low + dist.high) / 2, width, dist.log, step, dist.integer, -inf, inf)
            )
        elif isinstance(dist, Normal):
            step = dist.q if dist.q is not None else (1.0 if dist.integer else 0.0)
            rows.append(
                (
                    -inf,
                    inf,
                    _NORMAL_RANGE_SIGMAS * dist.sigma,
                    dist.mu,
                    dist.sigma,
                    dist.log,
                    step,
                    dist.integer,
                    -inf,
                    inf,
                )
            )
        elif isinstance(dist, RandInt):
            width = float(dist.high - dist.low)
            rows.append(
                (
                    dist.low - 0.5,
                    dist.high - 0.5,
                    width,
                    (dist.low + dist.high - 1) / 2,
                    width,
                    False,
                    1.0,
                    True,
                    float(dist.low),
                    float(dist.high - 1),
                )
            )
        else:
            continue
        cols.append(j)
    arr = np.array(rows, dtype=np.float64).reshape(len(rows), 10)
    return NumericColumns(
        cols=np.array(cols, dtype=np.intp),
        lo=arr[:, 0],
        hi=arr[:, 1],
        ref=arr[:, 2],
        prior_mu=arr[:, 3],
        prior_sigma=arr[:, 4],
        log=arr[:, 5].astype(bool),
        step=arr[:, 6],
        integer=arr[:, 7].astype(bool),
        clip_lo=arr[:, 8],
        clip_hi=arr[:, 9],
    )


def categorical_columns(space: SearchSpace) -> CategoricalColumns:
    """The ``choice``/``pchoice`` columns of ``space``."""
    cols = [j for j, d in enumerate(space.dists) if isinstance(d, Categorical)]
    probs = tuple(np.asarray(space.dists[j].probs, dtype=np.float64) for j in cols)  # type: ignore[union-attr]
    return CategoricalColumns(np.array(cols, dtype=np.intp), probs)


class Encoder:
    """Integer codes of rows of a fully discrete space, to detect exact duplicates vectorised.

    Each column's value maps to a level (0 = inactive/NaN, 1.. = the value's index among the
    column's possible values); a row's code is the mixed-radix number of its levels when the space
    is small enough for int64, otherwise a 64-bit multiplicative hash of the levels (collisions
    have probability ~ n^2 / 2^64).

    Attributes:
        finite: every column has finitely many values (the space is fully discrete and bounded).
        size: number of level combinations (an upper bound on the number of configurations).
    """

    def __init__(self, space: SearchSpace) -> None:
        kmin: list[float] = []
        levels: list[int] = []
        step: list[float] = []
        finite = True
        for dist in space.dists:
            if isinstance(dist, Categorical):
                kmin.append(0.0)
                step.append(1.0)
                levels.append(dist.n_options)
            elif isinstance(dist, RandInt):
                kmin.append(float(dist.low))
                step.append(1.0)
                levels.append(dist.high - dist.low)
            elif isinstance(dist, Uniform) and (dist.q is not None or dist.integer):
                q = dist.q if dist.q is not None else 1.0
                lo, hi = (np.exp(dist.low), np.exp(dist.high)) if dist.log else (dist.low, dist.high)
                k0, k1 = float(np.round(lo / q)), float(np.round(hi / q))
                kmin.append(k0)
                step.append(q)
                levels.append(int(k1 - k0) + 1)
            else:
                finite = False
                kmin.append(0.0)
                step.append(1.0)
                levels.append(0)
        self.finite = finite
        self.kmin = np.array(kmin)
        self.step = np.array(step)
        self.levels = np.array(levels, dtype=np.int64)
        size = 1
        for n in levels:
            size *= n + 1
        self.size = size if finite else 0
        self.exact = finite and size < 2**62
        if self.exact:
            radix = np.ones(len(levels), dtype=np.int64)
            for j in range(len(levels) - 2, -1, -1):
                radix[j] = radix[j + 1] * (levels[j + 1] + 1)
            self._mult = radix.astype(np.uint64)
        else:
            self._mult = (
                np.random.default_rng(0x7E5).integers(1, 2**62, size=len(levels), dtype=np.int64) * 2 + 1
            ).astype(np.uint64)

    def codes(self, X: np.ndarray) -> np.ndarray:
        """Code of each row of ``X`` (n, D), as uint64."""
        if len(X) == 0:
            return np.empty(0, dtype=np.uint64)
        lev = np.round(X / self.step) - np.round(self.kmin)
        lev = np.where(np.isnan(X), 0.0, lev + 1.0).astype(np.int64).astype(np.uint64)
        with np.errstate(over="ignore"):
            return (lev * self._mult).sum(axis=1, dtype=np.uint64)

    def values(self, j: int) -> np.ndarray:
        """All values of column ``j`` (finite columns only)."""
        return (np.round(self.kmin[j]) + np.arange(self.levels[j])) * self.step[j]
