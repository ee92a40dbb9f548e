"""Annealing search (``algo=anneal.suggest``): sample near good trials, ever closer.

Each new configuration starts from a finished trial picked among the best (rank drawn from a
geometric distribution with mean ``avg_best_idx``) and perturbs every label around that trial's
value with a width that shrinks as ``1 / (1 + shrink_coef * n)`` with ``n`` trials seen
(hyperopt's defaults: ``avg_best_idx=2.0``, ``shrink_coef=0.1``). Categorical labels keep the
picked trial's option with probability ``1 - shrink`` and are redrawn from the prior otherwise.
Labels the picked trial did not use are drawn from the prior.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sparktune._distributions import Categorical, Normal, RandInt, Uniform
from sparktune._space import SearchSpace
from sparktune._suggest import History, make_suggest


def _quantize(x: np.ndarray, dist: Uniform | Normal) -> np.ndarray:
    if dist.q is not None:
        x = np.round(x / dist.q) * dist.q
    return np.round(x) if dist.integer else x


def propose(
    space: SearchSpace,
    history: History,
    n: int,
    rng: np.random.Generator,
    *,
    avg_best_idx: float = 2.0,
    shrink_coef: float = 0.1,
    **_: Any,
) -> np.ndarray:
    """``n`` configurations near good finished trials (prior draws while there are none)."""
    prior = space.sample(rng, n, mask=False)
    if len(history.y) == 0:
        return space.mask_inactive(prior)
    order = np.argsort(history.y, kind="stable")
    ranks = np.minimum(rng.geometric(1.0 / (1.0 + avg_best_idx), size=n) - 1, len(order) - 1)
    base = history.X[order[ranks]]
    shrink = 1.0 / (1.0 + shrink_coef * history.n_trials)
    out = np.empty((n, space.n_dims))
    for j, dist in enumerate(space.dists):
        v = base[:, j]
        if isinstance(dist, Categorical):
            keep = rng.random(n) >= shrink
            x = np.where(keep, v, prior[:, j])
        elif isinstance(dist, RandInt):
            width = (dist.high - dist.low) * shrink
            x = np.clip(np.round(v + rng.uniform(-width / 2, width / 2, size=n)), dist.low, dist.high - 1)
        elif isinstance(dist, Uniform):
            center = np.log(np.maximum(v, np.exp(dist.low))) if dist.log else v
            width = (dist.high - dist.low) * shrink
            lo = np.clip(center - width / 2, dist.low, dist.high - width)
            x = rng.uniform(lo, lo + width)
            x = _quantize(np.exp(x) if dist.log else x, dist)
        else:
            center = np.log(np.maximum(v, 1e-300)) if dist.log else v
            x = rng.normal(center, dist.sigma * shrink)
            x = _quantize(np.exp(x) if dist.log else x, dist)
        out[:, j] = np.where(np.isnan(v), prior[:, j], x)
    return space.mask_inactive(out)


suggest = make_suggest(
    propose,
    {"avg_best_idx": 2.0, "shrink_coef": 0.1},
    "Annealing search (``algo=anneal.suggest``); options ``avg_best_idx``, ``shrink_coef``.",
)

__all__ = ["propose", "suggest"]
