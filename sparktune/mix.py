"""A mixture of suggest algorithms (``algo=partial(mix.suggest, p_suggest=[...])``), as in hyperopt.

``p_suggest`` is a list of ``(probability, algorithm)`` pairs; each proposal is made by one
algorithm, drawn with these probabilities from the run's random generator (so a run with a given
``rstate`` is repeatable)::

    from functools import partial
    from sparktune import anneal, fmin, mix, rand, tpe

    algo = partial(mix.suggest, p_suggest=[(0.1, rand.suggest), (0.2, anneal.suggest), (0.7, tpe.suggest)])
    best = fmin(fn, space, algo=algo, max_evals=100)

An algorithm may itself be a ``functools.partial`` with options (``partial(tpe.suggest, gamma=0.2)``).
The probabilities must be >= 0 and sum to 1 within ``numpy.isclose``'s tolerance (relative 1e-5,
absolute 1e-8), as hyperopt requires; they are then normalised.

hyperopt draws one algorithm per ``suggest`` call, for all the trial ids of the call; sparktune
draws one per proposal, so a batch (``SparkTrials(parallelism=8)``) mixes algorithms in the given
proportions. A proposal sees the earlier proposals of its batch as running trials.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from sparktune._space import SearchSpace
from sparktune._suggest import History, Propose, make_suggest, resolve_algo


def check_p_suggest(p_suggest: Any) -> list[tuple[float, Propose, dict[str, Any]]]:
    """``[(probability, propose, options), ...]`` from hyperopt's ``p_suggest``, probabilities normalised.

    Raises:
        TypeError: ``p_suggest`` is missing or not a list of ``(probability, algorithm)`` pairs, a
            probability is not a number, or an algorithm is not one of sparktune's suggest
            functions (or a ``functools.partial`` of one).
        ValueError: a probability is negative or not finite, or the probabilities do not sum to 1.
    """
    if p_suggest is None:
        raise TypeError(
            "mix.suggest needs `p_suggest`, a list of (probability, algorithm) pairs, e.g. "
            "partial(mix.suggest, p_suggest=[(0.2, rand.suggest), (0.8, tpe.suggest)])"
        )
    if isinstance(p_suggest, (str, bytes, Mapping)) or not isinstance(p_suggest, Collection) or not p_suggest:
        raise TypeError(f"`p_suggest` must be a non-empty list of (probability, algorithm) pairs, got {p_suggest!r}")
    probs: list[float] = []
    algos: list[tuple[Propose, dict[str, Any]]] = []
    for i, pair in enumerate(p_suggest):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"`p_suggest` entries must be (probability, algorithm) pairs, got {pair!r} at index {i}")
        p, algo = pair
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"`p_suggest` probabilities must be numbers, got {p!r} at index {i}")
        if not (math.isfinite(float(p)) and float(p) >= 0):
            raise ValueError(f"`p_suggest` probabilities must be finite and >= 0, got {p!r} at index {i}")
        try:
            propose, options = resolve_algo(algo)
        except TypeError as exc:
            raise TypeError(f"`p_suggest` algorithm at index {i}: {exc}") from None
        probs.append(float(p))
        algos.append((propose, options))
    total = math.fsum(probs)
    if not np.isclose(total, 1.0):
        raise ValueError(f"`p_suggest` probabilities must sum to 1, got sum={total!r} of {probs!r}")
    return [(p / total, propose, options) for p, (propose, options) in zip(probs, algos)]


def _pending_with(history: History, rows: np.ndarray) -> History:
    if len(rows) == 0:
        return history
    return History(
        X=history.X,
        y=history.y,
        X_pending=np.concatenate([np.asarray(history.X_pending).reshape(-1, rows.shape[1]), rows]),
        X_failed=history.X_failed,
    )


def propose(
    space: SearchSpace,
    history: History,
    n: int,
    rng: np.random.Generator,
    *,
    p_suggest: Any = None,
    **_: Any,
) -> np.ndarray:
    """``n`` configurations, each proposed by an algorithm drawn from ``p_suggest`` with ``rng``.

    Consecutive proposals drawn for the same algorithm are asked of it in one batch; each batch
    sees the rows proposed before it in this call as running trials.
    """
    entries = check_p_suggest(p_suggest)
    picks = rng.choice(len(entries), size=n, p=np.array([p for p, _, _ in entries]))
    out = np.empty((n, space.n_dims))
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and picks[stop] == picks[start]:
            stop += 1
        _p, sub_propose, sub_options = entries[int(picks[start])]
        rows = sub_propose(space, _pending_with(history, out[:start]), stop - start, rng, **sub_options)
        out[start:stop] = np.asarray(rows, dtype=np.float64).reshape(stop - start, space.n_dims)
        start = stop
    return out


_suggest = make_suggest(propose, {"p_suggest": None}, "")


def suggest(new_ids: Any, domain: Any, trials: Any, seed: Any, p_suggest: Any = None) -> list[dict[str, Any]]:
    """hyperopt's ``mix.suggest``: new trial documents, each from an algorithm drawn from ``p_suggest``.

    Args:
        new_ids: the trial ids to propose for.
        domain: a ``Domain`` (or anything with ``.expr`` / ``.space``: the search space).
        trials: the ``Trials`` to learn from.
        seed: seed of the random generator that draws the algorithms and their proposals.
        p_suggest: ``[(probability, algorithm), ...]``; see the module docstring.

    Used as ``algo=functools.partial(mix.suggest, p_suggest=[...])`` in ``fmin``.
    """
    check_p_suggest(p_suggest)
    return _suggest(new_ids, domain, trials, seed, p_suggest=p_suggest)  # type: ignore[no-any-return]


suggest.propose = propose  # type: ignore[attr-defined]
suggest.defaults = {"p_suggest": None}  # type: ignore[attr-defined]
suggest.check_options = lambda options: check_p_suggest(options.get("p_suggest"))  # type: ignore[attr-defined]

__all__ = ["check_p_suggest", "propose", "suggest"]
