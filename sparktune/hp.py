"""The ``hp`` expressions, with hyperopt's signatures and semantics.

Every function takes the label first and validates its arguments at once, raising an error that
names the label, the rule and the value. Keyword arguments work everywhere.

Values (what ``misc["vals"]`` holds and what the objective receives):

- ``choice(label, options)``: the objective gets ``options[i]``; the value is the index ``i``.
- ``pchoice(label, [(p, option), ...])``: as choice, option ``i`` drawn with probability ``p_i``.
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

from typing import Any, Sequence

from sparktune._distributions import Categorical, Normal, RandInt, Uniform
from sparktune._expr import Param


def _check_label(label: Any) -> str:
    if not isinstance(label, str):
        raise TypeError(f"a label must be a str, got {label!r} ({type(label).__name__})")
    return label


def _check_options(label: str, options: Any) -> tuple[Any, ...]:
    if isinstance(options, (str, bytes, dict)) or not isinstance(options, Sequence):
        raise TypeError(f"choice options must be a list or tuple, got {type(options).__name__} for label {label!r}")
    if len(options) == 0:
        raise ValueError(f"a choice needs at least one option, got an empty list for label {label!r}")
    return tuple(options)


def choice(label: str, options: Sequence[Any]) -> Param:
    """One of ``options`` (constants or sub-spaces), each equally likely; the value is the index."""
    label = _check_label(label)
    opts = _check_options(label, options)
    return Param(label, Categorical(label, tuple([1.0 / len(opts)] * len(opts))), opts)


def pchoice(label: str, p_options: Sequence[tuple[float, Any]]) -> Param:
    """One of the options, option ``i`` with probability ``p_i``; the pairs are ``(p, option)``."""
    label = _check_label(label)
    pairs = _check_options(label, p_options)
    probs, opts = [], []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"pchoice options must be (probability, option) pairs, got {pair!r} for label {label!r}")
        probs.append(pair[0])
        opts.append(pair[1])
    return Param(label, Categorical(label, tuple(probs)), tuple(opts))


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
