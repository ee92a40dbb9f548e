"""The few distributions behind every ``hp`` expression.

Each value object says how one hyperparameter is drawn from its prior and what its *value* is:
the number hyperopt stores in ``misc["vals"]``. For ``choice``/``pchoice`` the value is the
option's index; for every other expression it is the sampled number itself (after ``exp`` for log
families and after quantisation ``round(x / q) * q`` for q-families).

The suggesters see a search space as a matrix of these values, one column per label, with NaN
where a label is inactive (see ``_space.SearchSpace``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

import numpy as np


def _check_number(label: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number, got {name}={value!r} ({type(value).__name__}) for label {label!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {name}={value!r} for label {label!r}")
    return v


def _check_q(label: str, q: Any) -> float | None:
    if q is None:
        return None
    qv = _check_number(label, "q", q)
    if qv <= 0:
        raise ValueError(f"`q > 0` must hold, got q={q!r} for label {label!r}")
    return qv


def _quantize(x: np.ndarray, q: float | None) -> np.ndarray:
    if q is None:
        return x
    return np.round(x / q) * q


@dataclass(frozen=True)
class Uniform:
    """``uniform``, ``quniform``, ``uniformint``, ``loguniform``, ``qloguniform``.

    Attributes:
        low, high: bounds of the uniform draw, inclusive. For ``log=True`` they bound
            ``log(value)``: the value lies in ``[exp(low), exp(high)]`` before quantisation.
        q: quantisation step (value = ``round(x / q) * q``), or None.
        log: draw ``u ~ U(low, high)`` and take ``exp(u)``.
        integer: values are integers (``uniformint``, ``scope.int`` of a quniform with integral q).
    """

    label: str
    low: float
    high: float
    q: float | None = None
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        low = _check_number(self.label, "low", self.low)
        high = _check_number(self.label, "high", self.high)
        if not low < high:
            raise ValueError(
                f"`low < high` must hold, got low={self.low!r}, high={self.high!r} for label {self.label!r}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "q", _check_q(self.label, self.q))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        x = rng.uniform(self.low, self.high, size=size)
        if self.log:
            x = np.exp(x)
        x = _quantize(x, self.q)
        return np.round(x) if self.integer else x


@dataclass(frozen=True)
class Normal:
    """``normal``, ``qnormal``, ``lognormal``, ``qlognormal``.

    Attributes:
        mu, sigma: mean and standard deviation of the normal draw (of ``log(value)`` when
            ``log=True``); ``sigma > 0``.
        q: quantisation step, or None.
        log: take ``exp`` of the normal draw.
        integer: values are integers (``scope.int`` applied to the expression).
    """

    label: str
    mu: float
    sigma: float
    q: float | None = None
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        mu = _check_number(self.label, "mu", self.mu)
        sigma = _check_number(self.label, "sigma", self.sigma)
        if not sigma > 0:
            raise ValueError(f"`sigma > 0` must hold, got sigma={self.sigma!r} for label {self.label!r}")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "q", _check_q(self.label, self.q))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        x = rng.normal(self.mu, self.sigma, size=size)
        if self.log:
            x = np.exp(x)
        x = _quantize(x, self.q)
        return np.round(x) if self.integer else x


@dataclass(frozen=True)
class RandInt:
    """``randint``: integers in ``[low, high)`` (high exclusive), all equally likely."""

    label: str
    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                if isinstance(v, (float, np.floating)) and float(v).is_integer():
                    v = int(v)
                else:
                    raise TypeError(
                        f"`{name}` of randint must be an integer, got {name}={v!r} for label {self.label!r}"
                    )
            object.__setattr__(self, name, int(v))
        if not self.low < self.high:
            raise ValueError(
                f"`low < high` must hold for randint, got low={self.low!r}, high={self.high!r} for label {self.label!r}"
            )

    @property
    def integer(self) -> bool:
        return True

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.integers(self.low, self.high, size=size).astype(np.float64)


@dataclass(frozen=True)
class Categorical:
    """``choice`` and ``pchoice``: the value is the index of the chosen option.

    Attributes:
        probs: prior probability of each option (uniform for ``choice``); they sum to 1.
    """

    label: str
    probs: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.probs) == 0:
            raise ValueError(f"a choice needs at least one option, got none for label {self.label!r}")
        probs = tuple(_check_number(self.label, "probability", p) for p in self.probs)
        if any(p < 0 for p in probs):
            raise ValueError(f"probabilities must be >= 0, got {list(self.probs)!r} for label {self.label!r}")
        total = math.fsum(probs)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"pchoice probabilities must sum to 1, got sum={total!r} of {list(self.probs)!r} "
                f"for label {self.label!r}"
            )
        object.__setattr__(self, "probs", tuple(p / total for p in probs))

    @property
    def n_options(self) -> int:
        return len(self.probs)

    @property
    def integer(self) -> bool:
        return True

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(len(self.probs), size=size, p=np.asarray(self.probs)).astype(np.float64)


Distribution = Union[Uniform, Normal, RandInt, Categorical]


def to_json(dist: Distribution) -> dict[str, Any]:
    """Plain-data form of a distribution (used in trial files)."""
    d: dict[str, Any] = {"type": type(dist).__name__}
    d.update({k: v for k, v in dist.__dict__.items()})
    if "probs" in d:
        d["probs"] = list(d["probs"])
    return d


def from_json(data: dict[str, Any]) -> Distribution:
    kinds: dict[str, Any] = {c.__name__: c for c in (Uniform, Normal, RandInt, Categorical)}
    data = dict(data)
    cls = kinds.get(data.pop("type", None))
    if cls is None:
        raise ValueError(f"unknown distribution in {data!r}")
    if "probs" in data:
        data["probs"] = tuple(data["probs"])
    return cls(**data)  # type: ignore[no-any-return]
