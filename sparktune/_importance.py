"""PED-ANOVA hyperparameter importance over plain numpy arrays.

Watanabe, Bansal and Hutter, "PED-ANOVA: Efficiently Quantifying Hyperparameter Importance in
Arbitrary Subspaces", IJCAI 2023 (https://arxiv.org/abs/2304.10255); the handling of labels that
are inactive in some trials follows its conditional extension (Optuna's
``PedAnovaImportanceEvaluator``). The importance of a label is the Pearson divergence between
its distribution among the top ``target_quantile`` of trials and among all trials (the region,
gamma = 1 in the paper):

    D = sum_g p_region(g) * (p_top(g) / p_region(g) - 1) ** 2        (Theorem 4.1)

For a label that is active in only some trials, the divergence is computed over the trials where
it is active and weighted by ``alpha ** 2 / beta`` (alpha: the share of top trials where it is
active, beta: the share of all trials); inactive trials contribute nothing.

Densities are Parzen estimators with Scott's bandwidth and a uniform prior component of weight
1, as in the paper. Continuous values are first replaced by their ranks among the region's
values, mapped to (0, 1): the divergence of two densities does not change under a monotone
reparametrisation, so a log-scaled and a linear label need no separate case and no bounds are
needed. Labels whose values are integers with at most ``n_steps`` distinct values (choice
indices, small ``randint``) get a smoothed histogram over their values instead.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

N_STEPS = 50  # grid points for continuous labels, and the most distinct values of a discrete one
PRIOR_WEIGHT = 1.0


def top_mask(losses: np.ndarray, quantile: float) -> np.ndarray:
    """Which trials are in the top ``quantile`` (lowest losses; ties at the cut-off included)."""
    n_top = max(1, math.ceil(quantile * losses.size))
    cutoff = np.partition(losses, n_top - 1)[n_top - 1]
    return losses <= cutoff


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (``scipy.stats.rankdata``; scipy.stats imports slowly)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def _discrete_pmfs(values: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, codes = np.unique(values, return_inverse=True)
    k = int(codes.max()) + 1

    def pmf(c: np.ndarray) -> np.ndarray:
        return (np.bincount(c, minlength=k) + PRIOR_WEIGHT / k) / (c.size + PRIOR_WEIGHT)

    return pmf(codes[top]), pmf(codes)


def _scott_sigma(u: np.ndarray) -> float:
    q1, q3 = np.percentile(u, [25, 75])
    spread = min(float(np.std(u, ddof=1)) if u.size > 1 else 1.0, (q3 - q1) / 1.34)
    return max(1.059 * spread * u.size**-0.2, 1.0 / N_STEPS)


def _grid_pmf(u: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Parzen estimator of points ``u`` in (0, 1) on ``grid``, each kernel normalised over the grid."""
    kernels = np.exp(-0.5 * ((grid[None, :] - u[:, None]) / _scott_sigma(u)) ** 2)
    kernels /= kernels.sum(axis=1, keepdims=True)
    mix = kernels.sum(axis=0) + PRIOR_WEIGHT / grid.size
    return mix / mix.sum()


def pearson_divergence(values: np.ndarray, top: np.ndarray) -> float:
    """The divergence of the top trials' ``values`` from all ``values`` (no NaN in ``values``)."""
    if np.unique(values).size < 2 or not top.any():
        return 0.0
    if np.all(values == np.round(values)) and np.unique(values).size <= N_STEPS:
        p_top, p_region = _discrete_pmfs(values, top)
    else:
        u = (_ranks(values) - 0.5) / values.size
        grid = (np.arange(N_STEPS) + 0.5) / N_STEPS
        p_top, p_region = _grid_pmf(u[top], grid), _grid_pmf(u, grid)
    return float(p_region @ (p_top / p_region - 1.0) ** 2)


def ped_anova(columns: Mapping[str, np.ndarray], losses: np.ndarray, target_quantile: float) -> dict[str, float]:
    """Unnormalised PED-ANOVA importance of each column.

    Args:
        columns: label -> one value per trial (NaN where the label is inactive), aligned with
            ``losses``.
        losses: finite losses of the trials (lower is better).
        target_quantile: the top share of trials whose distribution is compared, in (0, 1).
    """
    top = top_mask(losses, target_quantile)
    out = {}
    for label, values in columns.items():
        active = ~np.isnan(values)
        if active.sum() < 2 or not (active & top).any():
            out[label] = 0.0
            continue
        alpha = (active & top).sum() / top.sum()
        beta = active.sum() / active.size
        out[label] = alpha**2 / beta * pearson_divergence(values[active], top[active])
    return out


__all__ = ["N_STEPS", "ped_anova", "pearson_divergence", "top_mask"]
