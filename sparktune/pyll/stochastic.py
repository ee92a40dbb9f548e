"""``hyperopt.pyll.stochastic``: draw one configuration from a space's prior."""

from __future__ import annotations

from typing import Any

import numpy as np


def sample(expr: Any, rng: np.random.Generator | None = None, **kwargs: Any) -> Any:
    """One draw from the prior of ``expr``, evaluated (choices replaced by their options).

    Args:
        expr: a search space.
        rng: a ``numpy.random.Generator`` (default: a fresh unseeded one). A legacy
            ``numpy.random.RandomState`` is accepted too.
    """
    from sparktune._space import as_generator, compile_space

    space = compile_space(expr)
    gen = as_generator(rng)
    row = space.sample(gen, 1)[0]
    return space.evaluate(space.row_to_vals(row))


__all__ = ["sample"]
