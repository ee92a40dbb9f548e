"""The ``hp`` expressions, with hyperopt's signatures and semantics.

Every function takes the label first and validates its arguments at once, raising an error that
names the label, the rule and the value. Keyword arguments work everywhere.

Values (what ``misc["vals"]`` holds and what the objective receives):

- ``choice(label, options)``: the objective gets ``options[i]``; the value is the index ``i``.
- ``pchoice(label, [(p, option), ...])``: as choice, option ``i`` drawn with probability ``p_i``
  (the last option gets ``1 - sum`` of the others, as in hyperopt).
- ``randint(label, upper)``: integers in ``[0, upper)``; ``randint(label, low, high)``: ``[low, high)``.
- ``uniform(label, low, high)``: floats in ``[low, high]``.
- ``quniform(label, low, high, q)``: ``round(uniform(low, high) / q) * q``.
- ``uniformint(label, low, high, q=1)``: ``quniform`` returned as ``int``.
- ``loguniform(label, low, high)``: ``exp(uniform(low, high))``; the bounds are in log space.
- ``qloguniform(label, low, high, q)``: ``round(exp(uniform(low, high)) / q) * q``.
- ``normal(label, mu, sigma)``; ``qnormal(label, mu, sigma, q)``: ``round(normal / q) * q``.
- ``lognormal(label, mu, sigma)``: ``exp(normal(mu, sigma))``; ``qlognormal``: quantised.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Sequence

import numpy as np

from sparktune._distributions import Categorical, Normal, RandInt, Uniform
from sparktune._expr import Param


def _check_label(label: Any) -> str:
    if not isinstance(label, str):
        raise TypeError(f"a label must be a str, got {label!r} ({type(label).__name__})")
    return label


def _plain(value: Any) -> Any:
    """A numpy scalar (or 0-d array) as the Python scalar it holds (``np.int64(20)`` -> ``20``)."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _check_options(label: str, options: Any, what: str = "choice options") -> tuple[Any, ...]:
    """``options`` as a tuple, numpy scalars made plain Python scalars.

    Any sized, ordered collection is accepted as hyperopt accepts it: lists, tuples, ``range``,
    numpy arrays (iterated along the first axis), pandas Series. Strings, mappings and sets are
    refused: hyperopt would take a string's characters, a dict's keys or a set in hash order,
    which is never what a space means.
    """
    if (
        isinstance(options, (str, bytes, Mapping, AbstractSet))
        or not isinstance(options, Collection)
        or (isinstance(options, np.ndarray) and options.ndim == 0)
    ):
        raise TypeError(
            f"{what} must be a sequence (list, tuple, range, numpy array), got {type(options).__name__} "
            f"for label {label!r}"
        )
    if len(options) == 0:
        raise ValueError(f"a choice needs at least one option, got an empty {what[:-1]} list for label {label!r}")
    return tuple(_plain(o) for o in options)


def choice(label: str, options: Collection[Any]) -> Param:
    """One of ``options`` (constants or sub-spaces), each equally likely; the value is the index.

    ``options`` may be any sequence: a list, tuple, ``range`` or numpy array. Numpy scalars among
    the options are returned to the objective as plain Python ``int``/``float``/``bool``/``str``.
    """
    label = _check_label(label)
    opts = _check_options(label, options)
    return Param(label, Categorical(label, tuple([1.0 / len(opts)] * len(opts))), opts)


def _hyperopt_probabilities(label: str, probs: Sequence[Any]) -> tuple[float, ...]:
    """The option probabilities hyperopt samples with for pchoice probabilities ``probs``.

    hyperopt draws a pchoice with ``Generator.multinomial(1, probs)``, which uses ``probs[:-1]``
    as given and gives the last option the rest, ``1 - sum(probs[:-1])``; it cannot run a
    probability outside ``[0, 1]`` (or NaN) nor ``sum(probs[:-1]) > 1``. A sum other than 1 warns.
    """
    ps = []
    for i, p in enumerate(probs):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"pchoice probabilities must be numbers, got {p!r} ({type(p).__name__}) for option {i} "
                f"of label {label!r}"
            )
        pv = float(p)
        if not 0.0 <= pv <= 1.0:  # also False for NaN
            raise ValueError(f"pchoice probabilities must be in [0, 1], got {p!r} for option {i} of label {label!r}")
        ps.append(pv)
    head = math.fsum(ps[:-1])
    if head > 1.0 + 1e-12:
        raise ValueError(
            f"pchoice probabilities of all options but the last must sum to at most 1, got "
            f"sum={head!r} of {ps[:-1]!r} for label {label!r}"
        )
    total = head + ps[-1]
    rest = max(0.0, 1.0 - head)
    if abs(total - 1.0) > 1e-6:
        used = [*ps[:-1], rest]
        warnings.warn(
            f"pchoice {label!r}: the probabilities sum to {total:.6g}, not 1; as in hyperopt, the last "
            f"option gets the rest, 1 - {head:.6g} = {rest:.6g} "
            f"(probabilities used: [{', '.join(f'{u:.6g}' for u in used)}])",
            UserWarning,
            stacklevel=3,
        )
    return (*ps[:-1], rest)


def pchoice(label: str, p_options: Collection[Any]) -> Param:
    """One of the options, option ``i`` with probability ``p_i``; the pairs are ``(p, option)``.

    As in hyperopt, the last option's probability is ``1 - sum(p_0 .. p_{n-2})`` whatever its
    stated ``p``: when the stated probabilities do not sum to 1 a ``UserWarning`` names the label,
    the sum and the probabilities used. A probability outside ``[0, 1]`` (or NaN) and
    ``sum(p_0 .. p_{n-2}) > 1`` raise ``ValueError``: hyperopt cannot sample them either.
    """
    label = _check_label(label)
    pairs = _check_options(label, p_options, what="pchoice options")
    probs, opts = [], []
    for pair in pairs:
        if (
            isinstance(pair, (str, bytes, Mapping, AbstractSet))
            or not isinstance(pair, Collection)
            or (isinstance(pair, np.ndarray) and pair.ndim != 1)
            or len(pair) != 2
        ):
            raise TypeError(f"pchoice options must be (probability, option) pairs, got {pair!r} for label {label!r}")
        p, option = pair
        probs.append(_plain(p))
        opts.append(_plain(option))
    return Param(label, Categorical(label, _hyperopt_probabilities(label, probs)), tuple(opts))


def randint(label: str, *args: Any, **kwargs: Any) -> Param:
    """Integers in ``[0, upper)`` (one bound) or ``[low, high)`` (two bounds); keywords work too."""
    label = _check_label(label)
    allowed = {"low", "high", "upper"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"randint got unexpected keyword(s) {sorted(unknown)} for label {label!r}")
    low = kwargs.get("low")
    high = kwargs.get("high", kwargs.get("upper"))
    if len(args) > 2:
        raise TypeError(f"randint takes (upper) or (low, high), got {len(args)} bounds for label {label!r}")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if low is None and high is None:
            low, high = 0, args[0]
        elif high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None and low is not None:  # randint(label, low=5) means upper=5, as in hyperopt
        low, high = 0, low
    if high is None:
        raise TypeError(f"randint needs an upper bound, got none for label {label!r}")
    return Param(label, RandInt(label, 0 if low is None else low, high))


def uniform(label: str, low: float, high: float) -> Param:
    """Floats uniform in ``[low, high]``."""
    label = _check_label(label)
    return Param(label, Uniform(label, low, high))


def quniform(label: str, low: float, high: float, q: float) -> Param:
    """``round(uniform(low, high) / q) * q``."""
    label = _check_label(label)
    return Param(label, Uniform(label, low, high, q=q))


def uniformint(label: str, low: float, high: float, q: float = 1.0) -> Param:
    """``quniform(low, high, q)`` as an ``int``."""
    label = _check_label(label)
    return Param(label, Uniform(label, low, high, q=q, integer=True))


def loguniform(label: str, low: float, high: float) -> Param:
    """``exp(uniform(low, high))``: log-uniform in ``[exp(low), exp(high)]``."""
    label = _check_label(label)
    return Param(label, Uniform(label, low, high, log=True))


def qloguniform(label: str, low: float, high: float, q: float) -> Param:
    """``round(exp(uniform(low, high)) / q) * q``."""
    label = _check_label(label)
    return Param(label, Uniform(label, low, high, q=q, log=True))


def normal(label: str, mu: float, sigma: float) -> Param:
    """Normally distributed with mean ``mu`` and standard deviation ``sigma``."""
    label = _check_label(label)
    return Param(label, Normal(label, mu, sigma))


def qnormal(label: str, mu: float, sigma: float, q: float) -> Param:
    """``round(normal(mu, sigma) / q) * q``."""
    label = _check_label(label)
    return Param(label, Normal(label, mu, sigma, q=q))


def lognormal(label: str, mu: float, sigma: float) -> Param:
    """``exp(normal(mu, sigma))``."""
    label = _check_label(label)
    return Param(label, Normal(label, mu, sigma, log=True))


def qlognormal(label: str, mu: float, sigma: float, q: float) -> Param:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    label = _check_label(label)
    return Param(label, Normal(label, mu, sigma, q=q, log=True))


__all__ = [
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "pchoice",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
    "uniformint",
]
