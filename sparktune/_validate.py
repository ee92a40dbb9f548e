"""Argument checks shared by ``fmin`` and ``SparkTrials``: one rule, one wording, one place.

The wordings for ``timeout`` and ``loss_threshold`` are hyperopt's (its tests match on them).
"""

from __future__ import annotations

import numbers
from typing import Any


def timeout(value: Any, name: str = "timeout") -> float | None:
    """None or a positive number of seconds."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0):
        raise ValueError(f"The {name} argument should be None or a positive value. Given value: {value}")
    return None if value is None else float(value)


def loss_threshold(value: Any) -> float | None:
    """None or a real number."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise ValueError(f"The loss_threshold argument should be None or a numeric value. Given value: {value}")
    return None if value is None else float(value)


def count(name: str, value: Any, *, minimum: int) -> int:
    """An integer (an integral float is accepted, as hyperopt does) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise TypeError(f"`{name}` must be an integer, got {name}={value!r}")
    if int(value) < minimum:  # type: ignore[call-overload]
        raise ValueError(f"`{name} >= {minimum}` must hold, got {name}={value!r}")
    return int(value)  # type: ignore[call-overload]


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool, got {name}={value!r}")
    return value


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}, got {name}={value!r}")
    return str(value)


def optional_callable(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise TypeError(f"`{name}` must be callable or None, got {value!r}")
    return value


__all__ = ["count", "flag", "loss_threshold", "one_of", "optional_callable", "timeout"]
