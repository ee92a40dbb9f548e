"""Random search: every configuration drawn independently from the space's prior."""

from __future__ import annotations

from typing import Any

import numpy as np

from sparktune._space import SearchSpace
from sparktune._suggest import History, make_suggest


def propose(space: SearchSpace, history: History, n: int, rng: np.random.Generator, **options: Any) -> np.ndarray:
    """``n`` independent draws from the prior (the history is not used)."""
    return space.sample(rng, n)


suggest = make_suggest(propose, {}, "Random search (``algo=rand.suggest``).")

__all__ = ["suggest", "propose"]
