"""Multivariate Parzen estimators over mixed numeric/categorical columns (pure numpy/scipy).

A Parzen estimator is a weighted mixture of one kernel per observation plus a prior kernel
(Watanabe 2023, arXiv 2304.11127, eq. 4 and sec. 3.3):

    p(x) = sum_k w_k K(x | x_k, b) + w_prior K_prior(x),         sum of the weights = 1.

The kernel of an observation is a product over the columns (the "multivariate" kernel of
Watanabe 2023 sec. 3.2, eq. 12; Falkner et al. 2018): a Gaussian truncated to the column's bounds
for numeric columns (its mass over the value's bin for discrete ones) and a smoothed one-hot
distribution for categorical ones. All observation kernels share one bandwidth per column, so the
continuous part of ``log K`` for m candidates and n kernels is a single (m, d) x (d, n) matrix
product: ``-0.5 * ||(x - x_k) / b||^2 = -0.5 * (|x'|^2 - 2 x'.x_k' + |x_k'|^2)`` with ``x' = x / b``.
"""

from __future__ import annotations

import math

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

    Scott's rule scaled to the column's range, ``b = factor * R * n^(-1 / (d + 4))`` (Watanabe 2023,
    eq. 15, the multivariate rule Optuna uses), clipped to ``[b_min, R]``. ``b_min`` is the
    "magic clip" ``R / min(100, n + 1)`` (eq. 16) unless ``min_factor`` gives ``b_min = min_factor * R``.
    A discrete column's bandwidth is at least half its step, so a kernel never collapses into one bin
    with no mass left for its neighbours.
    """
    d = len(cols.cols)
    n_eff = max(n, 1)
    b = factor * cols.ref * n_eff ** (-1.0 / (d + 4))
    b_min = cols.ref * (min_factor if min_factor is not None else 1.0 / min(100.0, n_eff + 1.0))
    b = np.clip(b, b_min, cols.ref)
    return np.where(cols.discrete & ~cols.log, np.maximum(b, cols.step / 2), b)


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
    """

    def __init__(
        self,
        num: NumericColumns,
        cat: CategoricalColumns,
        values: np.ndarray,
        weights: np.ndarray,
        prior_weight: float,
        bandwidth: np.ndarray,
    ) -> None:
        self.num = num
        self.cat = cat
        dn = len(num.cols)
        n = len(values)
        self.n = n
        w = np.append(np.asarray(weights, dtype=np.float64), prior_weight)
        w = w / w.sum()
        self.weights = w
        with np.errstate(divide="ignore"):
            self.log_w = np.log(w[:-1])
            self.log_w_prior = math.log(w[-1]) if w[-1] > 0 else -np.inf

        # Numeric part. Kernels centred at z_k with shared bandwidth b; truncated to [lo, hi].
        self.b = np.asarray(bandwidth, dtype=np.float64)
        self.mu = num.to_model(values[:, :dn]) if dn else np.empty((n, 0))
        self.cont = ~num.discrete
        self.disc_idx = np.flatnonzero(num.discrete)
        # Centre the continuous coordinates (precision of the expanded square), then scale by 1/b.
        self.centre = np.where(np.isfinite(num.prior_mu), num.prior_mu, 0.0)
        scaled = (self.mu[:, self.cont] - self.centre[self.cont]) / self.b[self.cont]
        self.scaled_mu = scaled
        self.sq_mu = np.einsum("ij,ij->i", scaled, scaled)
        # log of the truncation normaliser of each kernel, summed over the numeric columns, plus the
        # Gaussian normalising constant of the continuous columns.
        log_z = _log_inside((num.lo - self.mu) / self.b, (num.hi - self.mu) / self.b).sum(axis=1) if dn else np.zeros(n)
        self.log_norm = -log_z - float(np.sum(np.log(self.b[self.cont]) + _LOG_SQRT_2PI))
        # Everything in log(w_k K_k(x)) that does not depend on x, with the |x_k'|^2 term of the
        # expanded square; the -|x'|^2 / 2 term is the same for all kernels and added after the sum.
        self.kernel_const = self.log_norm + self.log_w - 0.5 * self.sq_mu
        self.scaled_mu_t = np.ascontiguousarray(scaled.T)
        # The prior kernel: per column, its own centre and sigma (a bounded column's is mid-range
        # with sigma = range; a normal family's is the distribution itself).
        self.p_log_z = _log_mass((num.lo - num.prior_mu) / num.prior_sigma, (num.hi - num.prior_mu) / num.prior_sigma)

        # Categorical part: kernel k puts (1 + a * pi_c) / (1 + a) on its observed option c_k and
        # a * pi_c / (1 + a) on the others, with a = prior_weight (Optuna's and hyperopt's
        # pseudo-count smoothing; pi = the choice's prior probabilities).
        self.cat_obs = values[:, dn:].astype(np.intp)
        self.cat_logp: list[np.ndarray] = []
        self.cat_cum: list[np.ndarray] = []
        a = prior_weight
        for i, pi in enumerate(cat.probs):
            onehot = np.zeros((n, len(pi)))
            onehot[np.arange(n), self.cat_obs[:, i]] = 1.0
            p = (onehot + a * pi) / (1.0 + a)
            with np.errstate(divide="ignore"):
                self.cat_logp.append(np.log(p))
            self.cat_cum.append(np.cumsum(np.vstack([p, pi]), axis=1))

    # -- density ---------------------------------------------------------------------------

    def log_pdf(self, values: np.ndarray) -> np.ndarray:
        """Log density (log mass over the discrete columns) of candidate rows ``values`` (m, d)."""
        dn = len(self.num.cols)
        m = len(values)
        z = self.num.to_model(values[:, :dn]) if dn else np.empty((m, 0))
        # Observation kernels, (m, n), computed in place: x'.x_k' + const_k (+ discrete, categorical).
        if self.n:
            x = (z[:, self.cont] - self.centre[self.cont]) / self.b[self.cont]
            lk = _matmul(x, self.scaled_mu_t)
            lk += self.kernel_const
            if len(self.disc_idx):
                sub = self.num.subset(self.disc_idx)
                ea, eb = sub.bin_edges(values[:, self.disc_idx])
                for i, j in enumerate(self.disc_idx):
                    bj = self.b[j]
                    lk += _log_mass(
                        (ea[:, i, None] - self.mu[None, :, j]) / bj, (eb[:, i, None] - self.mu[None, :, j]) / bj
                    )
            for i, logp in enumerate(self.cat_logp):
                lk += logp[:, values[:, dn + i].astype(np.intp)].T
            top = lk.max(axis=1)
            top = np.where(np.isfinite(top), top, 0.0)
            lk -= top[:, None]
            np.exp(lk, out=lk)
            with np.errstate(divide="ignore"):
                obs = np.log(lk.sum(axis=1)) + top - 0.5 * np.einsum("ij,ij->i", x, x)
        else:
            obs = np.full(m, -np.inf)
        return np.logaddexp(obs, self.log_w_prior + self._prior_log_pdf(values, z))

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

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` rows of values drawn from the mixture (numeric columns first, then categorical)."""
        dn = len(self.num.cols)
        k = rng.choice(self.n + 1, size=m, p=self.weights)
        is_prior = k == self.n
        out = np.empty((m, dn + len(self.cat.probs)))
        if dn:
            num = self.num
            kk = np.minimum(k, max(self.n - 1, 0))
            mu = np.where(is_prior[:, None], num.prior_mu[None, :], self.mu[kk] if self.n else num.prior_mu[None, :])
            sd = np.where(is_prior[:, None], num.prior_sigma[None, :], self.b[None, :])
            # Truncated normal by inversion: u ~ U(Phi(a), Phi(b)), z = mu + sd * Phi^-1(u).
            pa = ndtr((num.lo - mu) / sd)
            pb = ndtr((num.hi - mu) / sd)
            u = pa + rng.random((m, dn)) * (pb - pa)
            z = mu + sd * ndtri(np.clip(u, 1e-16, 1.0 - 1e-16))
            z = np.clip(z, num.lo, num.hi)
            out[:, :dn] = num.to_values(z)
        for i, cum in enumerate(self.cat_cum):
            rows = np.where(is_prior, self.n, k)
            c = cum[rows]
            r = rng.random(m)[:, None] * c[:, -1:]
            out[:, dn + i] = np.minimum((r >= c).sum(axis=1), c.shape[1] - 1)
        return out
