"""Multivariate Parzen estimators over mixed numeric/categorical columns (pure numpy/scipy).

A Parzen estimator is a weighted mixture of one kernel per observation plus a prior kernel
((T3) in ``_sampler``; Watanabe 2023, arXiv 2304.11127, Sec. 3):

    p(x) = sum_k w_k K(x | x_k, b) + w_prior K_prior(x),         sum of the weights = 1.

The kernel of an observation is a product over the columns (the "multivariate" kernel of
Watanabe 2023, Sec. 3 and App. C; Falkner et al. 2018): a Gaussian truncated to the column's bounds
for numeric columns (its mass over the value's bin for discrete ones) and a smoothed one-hot
distribution for categorical ones. All observation kernels share one bandwidth per column, so the
continuous part of ``log K`` for m candidates and n kernels is a single (m, d) x (d, n) matrix
product: ``-0.5 * ||(x - x_k) / b||^2 = -0.5 * (|x'|^2 - 2 x'.x_k' + |x_k'|^2)`` with ``x' = x / b``.
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from scipy.special import ndtr, ndtri

from sparktune._tpe._columns import CategoricalColumns, NumericColumns

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TINY = 1e-300


def _log_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for standardised ``a <= b``, accurate in both tails."""
    upper = a > 0  # both in the upper tail: use the mirrored difference to avoid 1 - 1
    mass = np.where(upper, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    return np.log(np.maximum(mass, _TINY))


def _log_inside(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``log(Phi(beta) - Phi(alpha))`` for ``alpha <= 0 <= beta`` (a kernel centred inside its bounds).

    Equals ``log(1 - Phi(-near) - Phi(-far))`` with ``near``/``far`` the standardised distances to
    the nearer and farther bound; ``Phi(-far)`` is below double precision (5e-17) for ``far > 8.3``
    and computed only where it is not, which halves the cost for large histories.
    """
    near = np.minimum(-alpha, beta)
    far = np.maximum(-alpha, beta)
    tail = ndtr(-near)
    close = far < 8.3
    if close.any():
        tail[close] += ndtr(-far[close])
    return np.log1p(-tail)


# Column block of the candidate-kernel product. OpenBLAS multi-threads larger products, which on a
# busy driver costs 10x more than it saves for these thin (m x d) @ (d x n) shapes.
_CHUNK = 1024


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for thin ``a`` (m, d) and wide ``b`` (d, n), in single-threaded column blocks."""
    n = b.shape[1]
    if n <= _CHUNK:
        return a @ b
    out = np.empty((a.shape[0], n))
    for s in range(0, n, _CHUNK):
        np.matmul(a, b[:, s : s + _CHUNK], out=out[:, s : s + _CHUNK])
    return out


def bandwidths(cols: NumericColumns, n: int, factor: float, min_factor: float | None) -> np.ndarray:
    """Per-column bandwidth of the observation kernels of an estimator with ``n`` observations.

    (T4): Scott's rule scaled to the column's range, ``b = factor * R * n^(-1 / (d + 4))``
    (Watanabe 2023, App. C; the multivariate rule of Optuna before v5), clipped to ``[b_min, R]``.
    ``b_min = min_factor * R``, or the "magic clip" ``R / min(100, n + 1)`` (Watanabe 2023, Sec. 3)
    when ``min_factor`` is None. A discrete column's bandwidth is at least half its step, so a
    kernel never collapses into one bin with no mass left for its neighbours.
    """
    d = len(cols.cols)
    n_eff = max(n, 1)
    b = factor * cols.ref * n_eff ** (-1.0 / (d + 4))
    b_min = cols.ref * (min_factor if min_factor is not None else 1.0 / min(100.0, n_eff + 1.0))
    b = np.minimum(np.maximum(b, b_min), cols.ref)
    return np.where(cols.discrete & ~cols.log, np.maximum(b, cols.step / 2), b)


def neighbour_bandwidths(cols: NumericColumns, mu: np.ndarray) -> np.ndarray:
    """Per kernel and column bandwidth by the neighbour rule (hyperopt; Optuna 5 in multivariate
    mode too): the larger distance from a kernel's centre to its sorted neighbours in that column,
    the bounds counting as neighbours, clipped to ``[R / min(100, n + 2), R]`` (magic clip with the
    prior counted as a kernel; Watanabe 2023, Sec. 3). A discrete column's is at least half a step.

    Args:
        cols: the numeric columns.
        mu: kernel centres in ``z``, shape (n, d).

    Returns:
        Bandwidths, shape (n, d).
    """
    n, d = mu.shape
    if n == 0:
        return np.empty((0, d))
    lo = np.where(np.isfinite(cols.lo), cols.lo, mu.min(axis=0) - cols.ref)
    hi = np.where(np.isfinite(cols.hi), cols.hi, mu.max(axis=0) + cols.ref)
    order = np.argsort(mu, axis=0, kind="stable")
    srt = np.take_along_axis(mu, order, axis=0)
    ext = np.concatenate([lo[None, :], srt, hi[None, :]], axis=0)
    gaps = np.diff(ext, axis=0)
    sig_sorted = np.maximum(gaps[:-1], gaps[1:])
    sig = np.empty_like(sig_sorted)
    np.put_along_axis(sig, order, sig_sorted, axis=0)
    b_min = cols.ref / min(100.0, n + 2.0)
    sig = np.minimum(np.maximum(sig, b_min), cols.ref)
    return np.where(cols.discrete & ~cols.log, np.maximum(sig, cols.step / 2), sig)


class KernelBank:
    """The observation kernels of one bandwidth: what ``log K_k(x)`` needs that does not depend on
    ``x``, per observation. Rows are appended in amortised O(1) (capacity doubles), so a history
    that grows by one trial costs one row of work, not a refit (the bank is reused across calls
    while the bandwidth stays the same; see ``_sampler``).

    Args:
        num, cat: the columns modelled.
        bandwidth: per numeric column bandwidth ``b`` (in ``z``).
        smoothing: the categorical pseudo-count ``s`` per option: kernel k puts
            ``(1[c = c_k] + s C pi_c) / (1 + s C)`` on option ``c`` of a choice with ``C`` options and
            prior ``pi`` (``s = prior_weight / (n + 1)`` for n kernels, as Optuna 5 does: kernels
            grow sharper as observations accumulate while the prior kernel keeps every option alive).
    """

    def __init__(self, num: NumericColumns, cat: CategoricalColumns, bandwidth: np.ndarray, smoothing: float) -> None:
        self.num = num
        self.cat = cat
        self.b = np.asarray(bandwidth, dtype=np.float64)
        self.smoothing = float(smoothing)
        self.cont = ~num.discrete
        self.disc_idx = np.flatnonzero(num.discrete)
        self.disc = num.subset(self.disc_idx)
        # Centre the continuous coordinates (precision of the expanded square), then scale by 1/b.
        self.centre = np.where(np.isfinite(num.prior_mu), num.prior_mu, 0.0)[self.cont]
        self.inv_b = 1.0 / self.b[self.cont]
        self.gauss_const = -float(np.sum(np.log(self.b[self.cont]) + _LOG_SQRT_2PI))
        self.dn = len(num.cols)
        self.n = 0
        cap = 0
        self.values = np.empty((cap, self.dn + len(cat.probs)))
        self.mu = np.empty((cap, self.dn))
        self.scaled_t = np.empty((int(self.cont.sum()), cap))
        self.const = np.empty(cap)
        self.cat_logp = [np.empty((cap, len(pi))) for pi in cat.probs]
        # Discrete columns: the distinct kernel centres (levels) and each kernel's level, so that
        # the bin masses are computed once per (candidate, level), not per (candidate, kernel):
        # a quantized parameter with 8 values and 20,000 kernels costs 8 evaluations, not 20,000.
        self.disc_levels: list[dict[float, int]] = [{} for _ in self.disc_idx]
        self._level_arrays: list[np.ndarray] = [np.empty(0) for _ in self.disc_idx]
        self.disc_codes = np.empty((len(self.disc_idx), cap), dtype=np.intp)

    def _grow(self, need: int) -> None:
        cap = max(need, 2 * len(self.const), 16)

        def grow(arr: np.ndarray, axis: int) -> np.ndarray:
            shape = list(arr.shape)
            shape[axis] = cap
            out = np.empty(shape)
            if axis == 0:
                out[: self.n] = arr[: self.n]
            else:
                out[:, : self.n] = arr[:, : self.n]
            return out

        self.values = grow(self.values, 0)
        self.mu = grow(self.mu, 0)
        self.scaled_t = grow(self.scaled_t, 1)
        self.const = grow(self.const, 0)
        self.cat_logp = [grow(p, 0) for p in self.cat_logp]
        codes = np.empty((len(self.disc_idx), cap), dtype=np.intp)
        codes[:, : self.n] = self.disc_codes[:, : self.n]
        self.disc_codes = codes

    def append(self, values: np.ndarray) -> None:
        """Add kernels centred at ``values`` (k, d): numeric columns first, then categorical."""
        k = len(values)
        if k == 0:
            return
        lo, hi = self.n, self.n + k
        if hi > len(self.const):
            self._grow(hi)
        num = self.num
        self.values[lo:hi] = values
        mu = num.to_model(values[:, : self.dn]) if self.dn else np.empty((k, 0))
        self.mu[lo:hi] = mu
        for i, j in enumerate(self.disc_idx):
            levels = self.disc_levels[i]
            self.disc_codes[i, lo:hi] = [levels.setdefault(v, len(levels)) for v in mu[:, j].tolist()]
        scaled = (mu[:, self.cont] - self.centre) * self.inv_b
        self.scaled_t[:, lo:hi] = scaled.T
        # The truncation normaliser Z_k of each kernel (summed in log over the numeric columns), the
        # Gaussian constant of the continuous ones and the |x_k'|^2 term of the expanded square.
        log_z = _log_inside((num.lo - mu) / self.b, (num.hi - mu) / self.b).sum(axis=1) if self.dn else 0.0
        self.const[lo:hi] = self.gauss_const - log_z - 0.5 * np.einsum("ij,ij->i", scaled, scaled)
        for i, pi in enumerate(self.cat.probs):
            onehot = np.zeros((k, len(pi)))
            onehot[np.arange(k), values[:, self.dn + i].astype(np.intp)] = 1.0
            with np.errstate(divide="ignore"):
                a = self.smoothing * len(pi)
                self.cat_logp[i][lo:hi] = np.log((onehot + a * pi) / (1.0 + a))
        self.n = hi

    def log_kernels(self, values: np.ndarray, x: np.ndarray, n: int, log_w: np.ndarray) -> np.ndarray:
        """``log(w_k K_k) + |x'|^2 / 2`` for candidates ``values`` (m, d) and the first ``n`` kernels,
        shape (m, n); ``x`` is the candidates' scaled continuous coordinates (``scaled()``)."""
        lk = _matmul(x, self.scaled_t[:, :n])
        lk += self.const[:n] + log_w
        if len(self.disc_idx):
            ea, eb = self.disc.bin_edges(values[:, self.disc_idx])
            for i, j in enumerate(self.disc_idx):
                bj = self.b[j]
                levels = self._levels(i)
                if len(levels) < n:  # tabulate per level, then gather per kernel
                    table = _log_mass((ea[:, i, None] - levels) / bj, (eb[:, i, None] - levels) / bj)
                    lk += table[:, self.disc_codes[i, :n]]
                else:
                    mu = self.mu[None, :n, j]
                    lk += _log_mass((ea[:, i, None] - mu) / bj, (eb[:, i, None] - mu) / bj)
        for i, logp in enumerate(self.cat_logp):
            lk += logp[:n, values[:, self.dn + i].astype(np.intp)].T
        return lk

    def _levels(self, i: int) -> np.ndarray:
        """The distinct centres of discrete column ``i``, indexed by level code."""
        levels = self.disc_levels[i]
        if len(self._level_arrays[i]) != len(levels):
            self._level_arrays[i] = np.fromiter(levels, dtype=np.float64, count=len(levels))
        return self._level_arrays[i]

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """Scaled continuous coordinates ``x' = (z - centre) / b`` of candidate rows (m, d)."""
        z = self.num.to_model(values[:, : self.dn]) if self.dn else np.empty((len(values), 0))
        return (z[:, self.cont] - self.centre) * self.inv_b

    def log_density(self, values: np.ndarray, log_w: np.ndarray) -> np.ndarray:
        """``log sum_k w_k K_k(x)`` over the first ``len(log_w)`` kernels, for candidates (m, d)."""
        x = self.scaled(values)
        lk = self.log_kernels(values, x, len(log_w), log_w)
        return _logsumexp_rows(lk) - 0.5 * np.einsum("ij,ij->i", x, x)

    def kernel_sd(self, rows: np.ndarray) -> np.ndarray:
        """Bandwidths of the kernels ``rows``, shape (len(rows), d)."""
        return np.broadcast_to(self.b, (len(rows), self.dn))


class LocalKernels:
    """Observation kernels with their own bandwidth per kernel and column (the neighbour rule).

    Scored directly over (m, n, d): meant for the good density, whose n <= 25 kernels are refitted
    every call. Same interface as ``KernelBank``.

    Args:
        num, cat: the columns modelled.
        values: kernel centres, (n, d) values (numeric columns first, then categorical).
        bandwidth: per kernel and numeric column bandwidth, shape (n, len(num.cols)).
        smoothing: categorical pseudo-count per option (see ``KernelBank``).
    """

    def __init__(
        self, num: NumericColumns, cat: CategoricalColumns, values: np.ndarray, bandwidth: np.ndarray, smoothing: float
    ) -> None:
        self.num = num
        self.cat = cat
        self.dn = len(num.cols)
        self.n = len(values)
        self.smoothing = float(smoothing)
        self.b = np.asarray(bandwidth, dtype=np.float64).reshape(self.n, self.dn)
        self.values = values
        self.cont = ~num.discrete
        self.disc_idx = np.flatnonzero(num.discrete)
        self.disc = num.subset(self.disc_idx)
        self.mu = num.to_model(values[:, : self.dn]) if self.dn else np.empty((self.n, 0))
        log_z = _log_inside((num.lo - self.mu) / self.b, (num.hi - self.mu) / self.b).sum(axis=1) if self.dn else 0.0
        self.const = -log_z - (np.log(self.b[:, self.cont]) + _LOG_SQRT_2PI).sum(axis=1)
        self.cat_logp = []
        for i, pi in enumerate(cat.probs):
            onehot = np.zeros((self.n, len(pi)))
            onehot[np.arange(self.n), values[:, self.dn + i].astype(np.intp)] = 1.0
            a = self.smoothing * len(pi)
            with np.errstate(divide="ignore"):
                self.cat_logp.append(np.log((onehot + a * pi) / (1.0 + a)))

    def log_density(self, values: np.ndarray, log_w: np.ndarray) -> np.ndarray:
        """``log sum_k w_k K_k(x)`` for candidates ``values`` (m, d)."""
        n = len(log_w)
        z = self.num.to_model(values[:, : self.dn]) if self.dn else np.empty((len(values), 0))
        u = (z[:, None, self.cont] - self.mu[None, :n, self.cont]) / self.b[None, :n, self.cont]
        lk = -0.5 * np.einsum("mnd,mnd->mn", u, u) + (self.const[:n] + log_w)[None, :]
        if len(self.disc_idx):
            ea, eb = self.disc.bin_edges(values[:, self.disc_idx])
            for i, j in enumerate(self.disc_idx):
                mu = self.mu[None, :n, j]
                bj = self.b[None, :n, j]
                lk += _log_mass((ea[:, i, None] - mu) / bj, (eb[:, i, None] - mu) / bj)
        for i, logp in enumerate(self.cat_logp):
            lk += logp[:n, values[:, self.dn + i].astype(np.intp)].T
        return _logsumexp_rows(lk)

    def kernel_sd(self, rows: np.ndarray) -> np.ndarray:
        return self.b[rows]


#: Either kind of observation kernels (same interface: ``log_density``, ``kernel_sd``, ``mu``, ...).
Kernels = Union[KernelBank, LocalKernels]


def _logsumexp_rows(lk: np.ndarray) -> np.ndarray:
    """``log(sum(exp(lk), axis=1))``, in place (``lk`` is overwritten)."""
    top = lk.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    lk -= top[:, None]
    # Terms below e^-600 of the largest cannot change the sum; clamping them keeps np.exp off its
    # slow underflow path (narrow kernels put most of g's terms far below it).
    np.maximum(lk, -600.0, out=lk)
    np.exp(lk, out=lk)
    with np.errstate(divide="ignore"):
        return np.log(lk.sum(axis=1)) + top


class Parzen:
    """A fitted mixture: one kernel per observation (rows of ``values``) plus the prior kernel.

    Args:
        num: the numeric columns modelled (may be empty).
        cat: the categorical columns modelled (may be empty).
        values: observed values, shape (n, len(num.cols) + len(cat.cols)): the numeric columns
            first (in ``num.cols`` order), then the categorical ones. No NaN.
        weights: non-negative weight of each observation, shape (n,); normalised together with
            ``prior_weight`` (a prior kernel of weight ``prior_weight`` next to observations of
            weight ~1).
        prior_weight: weight of the prior kernel (> 0).
        bandwidth: per-column bandwidth of the numeric observation kernels (in ``z``).

    ``centre_weights`` (set after construction; None = the mixture's own weights): the weights of
    the observation kernels' centres in the mean that ``sample(recombine=...)`` draws around.
    """

    centre_weights: np.ndarray | None = None

    def __init__(
        self,
        num: NumericColumns,
        cat: CategoricalColumns,
        values: np.ndarray,
        weights: np.ndarray,
        prior_weight: float,
        bandwidth: np.ndarray,
    ) -> None:
        bank = KernelBank(num, cat, bandwidth, prior_weight / (len(values) + 1))
        bank.append(np.asarray(values, dtype=np.float64))
        self._init(num, cat, [(bank, np.asarray(weights, dtype=np.float64))], prior_weight)

    @classmethod
    def from_banks(
        cls,
        num: NumericColumns,
        cat: CategoricalColumns,
        parts: list[tuple[Kernels, np.ndarray]],
        prior_weight: float,
    ) -> Parzen:
        """A mixture over the first ``len(w)`` kernels of each bank with weights ``w`` (0 excludes a
        kernel), plus the prior kernel; the banks must share ``num``/``cat``."""
        self = cls.__new__(cls)
        self._init(num, cat, parts, prior_weight)
        return self

    def _init(
        self,
        num: NumericColumns,
        cat: CategoricalColumns,
        parts: list[tuple[Kernels, np.ndarray]],
        prior_weight: float,
    ) -> None:
        self.num = num
        self.cat = cat
        total = float(sum(w.sum() for _, w in parts)) + prior_weight
        self.parts: list[tuple[Kernels, np.ndarray]] = []
        self.n = 0
        with np.errstate(divide="ignore"):
            for bank, w in parts:
                if len(w):
                    self.parts.append((bank, np.log(w / total)))
                    self.n += len(w)
            self.log_w_prior = math.log(prior_weight / total) if prior_weight > 0 else -np.inf
        self.cont = ~num.discrete
        self.disc_idx = np.flatnonzero(num.discrete)
        # The prior kernel: per column, its own centre and sigma (a bounded column's is mid-range
        # with sigma = range; a normal family's is the distribution itself).
        self.p_log_z = _log_mass((num.lo - num.prior_mu) / num.prior_sigma, (num.hi - num.prior_mu) / num.prior_sigma)

    # -- density ---------------------------------------------------------------------------

    def log_pdf(self, values: np.ndarray) -> np.ndarray:
        """Log density (log mass over the discrete columns) of candidate rows ``values`` (m, d)."""
        values = np.asarray(values, dtype=np.float64)
        dn = len(self.num.cols)
        m = len(values)
        z = self.num.to_model(values[:, :dn]) if dn else np.empty((m, 0))
        out = self.log_w_prior + self._prior_log_pdf(values, z)
        for bank, log_w in self.parts:
            out = np.logaddexp(out, bank.log_density(values, log_w))
        return out

    def _prior_log_pdf(self, values: np.ndarray, z: np.ndarray) -> np.ndarray:
        num = self.num
        dn = len(num.cols)
        s = num.prior_sigma
        out = np.zeros(len(values))
        if dn:
            cont = self.cont
            u = (z[:, cont] - num.prior_mu[cont]) / s[cont]
            out += (-0.5 * u * u - np.log(s[cont]) - _LOG_SQRT_2PI - self.p_log_z[cont]).sum(axis=1)
            if len(self.disc_idx):
                sub = num.subset(self.disc_idx)
                ea, eb = sub.bin_edges(values[:, self.disc_idx])
                out += (
                    _log_mass((ea - sub.prior_mu) / sub.prior_sigma, (eb - sub.prior_mu) / sub.prior_sigma)
                    - self.p_log_z[self.disc_idx]
                ).sum(axis=1)
        for i, pi in enumerate(self.cat.probs):
            with np.errstate(divide="ignore"):
                out += np.log(pi[values[:, dn + i].astype(np.intp)])
        return out

    # -- sampling --------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, m: int, recombine: float = 0.0) -> np.ndarray:
        """``m`` rows of values drawn from the mixture (numeric columns first, then categorical).

        ``recombine``: the share of the draws from observation kernels whose numeric centre is
        moved to the kernels' weighted mean (intermediate recombination; their bandwidths and
        categorical parts stay the chosen kernel's), with ``centre_weights`` if set, else the
        mixture's weights. 0 draws from the mixture itself.
        """
        num = self.num
        dn = len(num.cols)
        logs = [lw for _, lw in self.parts] + [np.array([self.log_w_prior])]
        w = np.exp(np.concatenate(logs))
        cw = np.cumsum(w)
        k = np.minimum(np.searchsorted(cw, rng.random(m) * cw[-1], side="right"), len(w) - 1)
        # Kernel centres and bandwidths of the chosen components (the prior's for the prior kernel).
        mu = np.repeat(num.prior_mu[None, :], m, axis=0)
        sd = np.repeat(num.prior_sigma[None, :], m, axis=0)
        out = np.empty((m, dn + len(self.cat.probs)))
        cat_p = [np.repeat(pi[None, :], m, axis=0) for pi in self.cat.probs]
        start = 0
        for bank, lw in self.parts:
            sel = np.flatnonzero((k >= start) & (k < start + len(lw)))
            rows = k[sel] - start
            if dn:
                mu[sel] = bank.mu[rows]
                sd[sel] = bank.kernel_sd(rows)
            for i, lp in enumerate(bank.cat_logp):
                cat_p[i][sel] = np.exp(lp[rows])
            start += len(lw)
        if recombine > 0.0 and dn and self.n > 1:
            centres = np.concatenate([bank.mu[: len(lw)] for bank, lw in self.parts])
            cwt = self.centre_weights
            if cwt is None:
                cwt = np.exp(np.concatenate([lw for _, lw in self.parts]))
            centre = (cwt / cwt.sum()) @ centres
            moved = np.flatnonzero((k < len(w) - 1) & (rng.random(m) < recombine))
            mu[moved] = centre
        if dn:
            # Truncated normal by inversion: u ~ U(Phi(a), Phi(b)), z = mu + sd * Phi^-1(u).
            pa = ndtr((num.lo - mu) / sd)
            pb = ndtr((num.hi - mu) / sd)
            u = pa + rng.random((m, dn)) * (pb - pa)
            z = mu + sd * ndtri(np.minimum(np.maximum(u, 1e-16), 1.0 - 1e-16))
            out[:, :dn] = num.to_values(np.minimum(np.maximum(z, num.lo), num.hi))
        for i, p in enumerate(cat_p):
            c = np.cumsum(p, axis=1)
            r = rng.random(m)[:, None] * c[:, -1:]
            out[:, dn + i] = np.minimum((r >= c).sum(axis=1), c.shape[1] - 1)
        return out
