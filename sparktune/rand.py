"""Random search: every configuration drawn independently from the space's prior.

In a space where every label is discrete (choices, randint, bounded q-uniforms) configurations
already tried or running are not proposed again while unseen ones remain (sampling without
replacement), so ``max_evals`` at least the space's size covers it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sparktune._space import SearchSpace
from sparktune._suggest import History, is_finite_discrete, make_suggest, replace_seen, seen_keys


def propose(space: SearchSpace, history: History, n: int, rng: np.random.Generator, **options: Any) -> np.ndarray:
    """``n`` draws from the prior, without repeats in fully discrete spaces."""
    rows = space.sample(rng, n)
    if is_finite_discrete(space):
        rows = replace_seen(rows, seen_keys(history), lambda k: space.sample(rng, k))
    return rows


suggest = make_suggest(propose, {}, "Random search (``algo=rand.suggest``).")

__all__ = ["suggest", "propose"]
