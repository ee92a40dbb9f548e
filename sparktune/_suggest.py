"""The suggester interface: ``propose(space, history, n, rng, **options) -> (n, D) array``.

A suggester only proposes. It gets the compiled ``SearchSpace``, the ``History`` as plain numpy
arrays, how many configurations to return and a ``numpy.random.Generator``; it returns ``n`` rows
of values (option index for choices, NaN for inactive labels) that lie in the space.

The public ``rand.suggest``, ``tpe.suggest``, ``anneal.suggest`` and ``mix.suggest`` are hyperopt-shaped
functions (usable as ``algo=`` and with ``functools.partial``) that carry their batch
``propose`` function; ``resolve_algo`` unwraps them for the fmin loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from sparktune._space import SearchSpace, compile_space


@dataclass(frozen=True)
class History:
    """What the suggester may learn from. Arrays are read-only views; rows follow trial order.

    Attributes:
        X: values of the finished trials with status ok, shape (n, D), NaN where inactive.
        y: their losses, shape (n,).
        X_pending: values of the trials still running or queued, shape (m, D).
        X_failed: values of the trials that failed or raised, shape (k, D); they have no loss.
    """

    X: np.ndarray
    y: np.ndarray
    X_pending: np.ndarray
    X_failed: np.ndarray

    @classmethod
    def empty(cls, n_dims: int) -> History:
        z = np.empty((0, n_dims))
        return cls(X=z, y=np.empty(0), X_pending=z, X_failed=z)

    @property
    def n_trials(self) -> int:
        """Trials started so far: finished ok, failed and pending."""
        return len(self.X) + len(self.X_pending) + len(self.X_failed)


class Propose(Protocol):
    def __call__(
        self, space: SearchSpace, history: History, n: int, rng: np.random.Generator, **options: Any
    ) -> np.ndarray: ...


class GrowingRows:
    """An append-only float matrix with amortised O(1) appends (capacity doubles)."""

    def __init__(self, n_cols: int, capacity: int = 64) -> None:
        self._buf = np.empty((capacity, n_cols))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, row: np.ndarray) -> None:
        if self._n == len(self._buf):
            grown = np.empty((2 * len(self._buf), self._buf.shape[1]))
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n] = row
        self._n += 1

    def view(self) -> np.ndarray:
        v = self._buf[: self._n]
        v.flags.writeable = False
        return v


class GrowingVector:
    """An append-only float vector with amortised O(1) appends."""

    def __init__(self, capacity: int = 64) -> None:
        self._buf = np.empty(capacity)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, value: float) -> None:
        if self._n == len(self._buf):
            self._buf = np.concatenate([self._buf, np.empty(len(self._buf))])
        self._buf[self._n] = value
        self._n += 1

    def view(self) -> np.ndarray:
        v = self._buf[: self._n]
        v.flags.writeable = False
        return v


def make_suggest(propose: Propose, defaults: dict[str, Any], doc: str) -> Callable[..., Any]:
    """Build a hyperopt-shaped ``suggest(new_ids, domain, trials, seed, **options)`` for ``propose``.

    Called directly (as hyperopt's algorithms are), it returns new trial documents; passed to
    ``fmin`` (alone or through ``functools.partial``), fmin calls ``propose`` in batches.
    """

    def suggest(new_ids: Any, domain: Any, trials: Any, seed: Any, **options: Any) -> list[dict[str, Any]]:
        opts = {**defaults, **options}
        space = compile_space(domain.space if hasattr(domain, "space") else domain.expr)
        rng = np.random.default_rng(seed)
        trials._set_labels(space.labels)
        history = trials._history(space)
        rows = propose(space, history, len(new_ids), rng, **opts)
        return trials.new_trial_docs_from_rows(list(new_ids), space, rows)

    suggest.__doc__ = doc
    suggest.propose = propose  # type: ignore[attr-defined]
    suggest.defaults = dict(defaults)  # type: ignore[attr-defined]
    return suggest


def resolve_algo(algo: Any) -> tuple[Propose, dict[str, Any]]:
    """``(propose, options)`` from ``algo`` (a suggest function, a partial of one, or a propose)."""
    options: dict[str, Any] = {}
    fn = algo
    while isinstance(fn, functools.partial):
        if fn.args:
            raise TypeError(
                f"algo: functools.partial of a suggest function takes options by keyword only, got {fn.args!r}"
            )
        options = {**fn.keywords, **options}
        fn = fn.func
    propose = getattr(fn, "propose", None)
    if propose is None:
        raise TypeError(
            "`algo` must be sparktune's tpe.suggest, rand.suggest, anneal.suggest or mix.suggest, or a "
            f"functools.partial of one of them, got {algo!r}"
        )
    defaults = getattr(fn, "defaults", {})
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(
            f"algo: unknown option(s) {sorted(unknown)}; {getattr(fn, '__module__', '')} accepts {sorted(defaults)}"
        )
    merged = {**defaults, **options}
    check = getattr(fn, "check_options", None)
    if check is not None:  # e.g. mix.suggest's p_suggest: refused before any trial runs
        check(merged)
    return propose, merged


def is_finite_discrete(space: SearchSpace) -> bool:
    """True when every label takes finitely many values (choices, randint, bounded q-uniforms)."""
    from sparktune._distributions import Categorical, RandInt, Uniform

    return all(
        isinstance(d, (Categorical, RandInt)) or (isinstance(d, Uniform) and d.q is not None) for d in space.dists
    )


def seen_keys(history: History) -> set[bytes]:
    """Byte keys of every configuration already tried or running (NaN marks inactive labels)."""
    keys: set[bytes] = set()
    for arr in (history.X, history.X_pending, history.X_failed):
        if len(arr):
            a = np.ascontiguousarray(np.where(np.isnan(arr), np.nan, arr))
            keys.update(a[i].tobytes() for i in range(len(a)))
    return keys


def replace_seen(
    rows: np.ndarray,
    seen: set[bytes],
    draw: Callable[[int], np.ndarray],
    *,
    tries: int = 256,
) -> np.ndarray:
    """Replace rows that were seen before (or repeat an earlier row) by fresh unseen draws.

    ``draw(k)`` returns ``k`` candidate rows. A row keeps its duplicate value only when ``tries``
    candidates hold no unseen configuration (the space is, for practical purposes, exhausted).
    """
    out = rows.copy()
    seen = set(seen)
    for i in range(len(out)):
        key = out[i].tobytes()
        if key not in seen:
            seen.add(key)
            continue
        cands = draw(tries)
        for c in cands:
            ck = c.tobytes()
            if ck not in seen:
                out[i] = c
                seen.add(ck)
                break
    return out
