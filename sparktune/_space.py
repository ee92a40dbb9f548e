"""Compile a search space (nested dicts/lists/tuples of hp expressions) into a ``SearchSpace``.

The compiled form is what the suggesters work on: one column per label (sorted by label), each
with its distribution, and for conditional labels the choices that must hold for the label to be
active. A configuration is a float row of values (option index for choices) with NaN for the
labels that are inactive in it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from sparktune._distributions import Categorical, Distribution, Normal, Uniform
from sparktune._expr import Apply, Param, evaluate
from sparktune.exceptions import DuplicateLabel, InvalidTrial

# A condition is a conjunction of (column of a choice, index of the option) pairs; a label is
# active when any of its conditions holds (a node can appear in several branches).
Condition = tuple[tuple[int, int], ...]


def as_generator(rstate: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rstate`` (Generator, RandomState, int seed or None)."""
    if rstate is None:
        return np.random.default_rng()
    if isinstance(rstate, np.random.Generator):
        return rstate
    if isinstance(rstate, np.random.RandomState):
        return np.random.default_rng(rstate.randint(2**31 - 1))
    if isinstance(rstate, (int, np.integer)) and not isinstance(rstate, bool):
        return np.random.default_rng(int(rstate))
    raise TypeError(
        "`rstate` must be a numpy.random.Generator (e.g. np.random.default_rng(42)), "
        f"a RandomState, an int seed or None, got {rstate!r}"
    )


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """A compiled space.

    Attributes:
        root: the space as given (evaluated per trial to build the objective's argument).
        labels: the labels, sorted; column ``j`` of a configuration row is ``labels[j]``.
        dists: the distribution of each column.
        conditions: per column, the alternatives under which it is active; ``((),)`` = always.
    """

    root: Any
    labels: tuple[str, ...]
    dists: tuple[Distribution, ...]
    conditions: tuple[tuple[Condition, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {label: j for j, label in enumerate(self.labels)})
        object.__setattr__(self, "is_integer", np.array([d.integer for d in self.dists], dtype=bool))
        object.__setattr__(
            self,
            "always_active",
            np.array([any(len(c) == 0 for c in conds) for conds in self.conditions], dtype=bool),
        )

    index: dict[str, int] = dataclasses.field(init=False, repr=False)
    is_integer: np.ndarray = dataclasses.field(init=False, repr=False)
    always_active: np.ndarray = dataclasses.field(init=False, repr=False)

    @property
    def n_dims(self) -> int:
        return len(self.labels)

    @property
    def is_conditional(self) -> bool:
        return not bool(self.always_active.all())

    # -- rows <-> values ---------------------------------------------------------------------

    def active_mask(self, X: np.ndarray) -> np.ndarray:
        """Which labels each row activates, from the rows' choice values (vectorised)."""
        X = np.atleast_2d(X)
        mask = np.empty(X.shape, dtype=bool)
        for j, conds in enumerate(self.conditions):
            if self.always_active[j]:
                mask[:, j] = True
                continue
            m = np.zeros(X.shape[0], dtype=bool)
            for cond in conds:
                c = np.ones(X.shape[0], dtype=bool)
                for col, idx in cond:
                    c &= X[:, col] == idx
                m |= c
            mask[:, j] = m
        return mask

    def sample(self, rng: np.random.Generator, n: int, *, mask: bool = True) -> np.ndarray:
        """``n`` rows drawn from the prior; inactive labels are NaN (every label drawn if not ``mask``)."""
        X = np.empty((n, self.n_dims))
        for j, dist in enumerate(self.dists):
            X[:, j] = dist.sample(rng, n)
        return self.mask_inactive(X) if mask else X

    def mask_inactive(self, X: np.ndarray) -> np.ndarray:
        """Set the inactive labels of each row to NaN (in place) and return ``X``."""
        if self.is_conditional:
            X[~self.active_mask(X)] = np.nan
        return X

    def row_to_vals(self, row: np.ndarray) -> dict[str, int | float]:
        """The active labels of one row as plain Python numbers (int for integer labels)."""
        out: dict[str, int | float] = {}
        for j, label in enumerate(self.labels):
            v = row[j]
            if not math.isnan(v):
                out[label] = int(v) if self.is_integer[j] else float(v)
        return out

    def vals_to_row(self, vals: Mapping[str, Any], *, what: str = "point") -> np.ndarray:
        """A row from ``label -> value`` (index for choices). Values may be hyperopt's 1-lists.

        Raises:
            InvalidTrial: a label is unknown, or an active label has no value, or a value is not
                a number, or a choice index is out of range.
        """
        row = np.full(self.n_dims, np.nan)
        for label, v in vals.items():
            if label not in self.index:
                raise InvalidTrial(f"{what} has label {label!r}, which is not in the search space {list(self.labels)}")
            if isinstance(v, (list, tuple)):
                if len(v) == 0:
                    continue
                if len(v) != 1:
                    raise InvalidTrial(f"{what} has {len(v)} values for label {label!r}, expected one: {v!r}")
                v = v[0]
            if v is None:
                continue
            j = self.index[label]
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InvalidTrial(
                    f"{what} value for label {label!r} must be a number"
                    f"{' (the option index of a choice)' if isinstance(self.dists[j], Categorical) else ''}, got {v!r}"
                ) from None
            dist = self.dists[j]
            if isinstance(dist, Categorical) and not (fv.is_integer() and 0 <= fv < dist.n_options):
                raise InvalidTrial(
                    f"{what} value for choice {label!r} must be an option index in [0, {dist.n_options}), got {v!r}"
                )
            row[j] = fv
        active = self.active_mask(row[None, :])[0]
        missing = [self.labels[j] for j in range(self.n_dims) if active[j] and math.isnan(row[j])]
        if missing:
            raise InvalidTrial(f"{what} has no value for the active label(s) {missing}: {dict(vals)!r}")
        row[~active] = np.nan
        return row

    def evaluate(self, vals: Mapping[str, Any]) -> Any:
        """The objective's argument for these values (``space_eval``)."""
        try:
            return evaluate(self.root, vals)
        except KeyError as exc:
            raise InvalidTrial(f"no value for the active label {exc.args[0]!r} in {dict(vals)!r}") from None


class _Compiler:
    def __init__(self) -> None:
        self.params: dict[str, Param] = {}
        self.paths: dict[str, list[tuple[tuple[str, int], ...]]] = {}
        self.int_wrapped: set[str] = set()
        self._seen: set[tuple[int, tuple[tuple[str, int], ...]]] = set()

    def visit(self, node: Any, path: tuple[tuple[str, int], ...]) -> None:
        key = (id(node), path)
        if isinstance(node, (Param, Apply, dict, list, tuple)):
            if key in self._seen:
                return
            self._seen.add(key)
        if isinstance(node, Param):
            prev = self.params.get(node.label)
            if prev is not None and prev is not node:
                raise DuplicateLabel(
                    f"label {node.label!r} is used by two different expressions; labels must be unique"
                )
            self.params[node.label] = node
            paths = self.paths.setdefault(node.label, [])
            if path not in paths:
                paths.append(path)
            if node.options is not None:
                for i, option in enumerate(node.options):
                    self.visit(option, path + ((node.label, i),))
        elif isinstance(node, Apply):
            if node.name == "int" and len(node.args) == 1 and isinstance(node.args[0], Param):
                self.int_wrapped.add(node.args[0].label)
            for a in node.args:
                self.visit(a, path)
            for a in node.kwargs.values():
                self.visit(a, path)
        elif isinstance(node, dict):
            for v in node.values():
                self.visit(v, path)
        elif isinstance(node, (list, tuple)):
            for v in node:
                self.visit(v, path)


def _integral_q(dist: Distribution) -> bool:
    q = getattr(dist, "q", None)
    return q is not None and float(q).is_integer()


def compile_space(space: Any) -> SearchSpace:
    """Compile ``space`` once; raises ``DuplicateLabel`` for two expressions with one label."""
    if isinstance(space, SearchSpace):
        return space
    comp = _Compiler()
    comp.visit(space, ())
    labels = tuple(sorted(comp.params))
    col = {label: j for j, label in enumerate(labels)}
    dists: list[Distribution] = []
    conditions: list[tuple[Condition, ...]] = []
    for label in labels:
        dist = comp.params[label].dist
        # scope.int(quniform(..., q=1)) has integral values: store them as ints, as uniformint.
        if label in comp.int_wrapped and isinstance(dist, (Uniform, Normal)) and _integral_q(dist):
            dist = dataclasses.replace(dist, integer=True)
        dists.append(dist)
        paths = comp.paths[label]
        if any(len(p) == 0 for p in paths):
            conditions.append(((),))
        else:
            conditions.append(tuple(tuple((col[c], i) for c, i in p) for p in paths))
    return SearchSpace(root=space, labels=labels, dists=tuple(dists), conditions=tuple(conditions))


def space_eval(space: Any, hp_assignment: Mapping[str, Any]) -> Any:
    """The concrete point of ``space`` for ``hp_assignment`` (label -> value, index for choices).

    Accepts what ``fmin`` returns and hyperopt's ``misc["vals"]`` (1-element lists).
    """
    vals: dict[str, Any] = {}
    for k, v in hp_assignment.items():
        if isinstance(v, (list, tuple)) and len(v) <= 1:
            if len(v) == 0:
                continue
            v = v[0]
        vals[k] = v
    if isinstance(space, SearchSpace):
        return space.evaluate(vals)
    try:
        return evaluate(space, vals)
    except KeyError as exc:
        raise InvalidTrial(f"no value for the active label {exc.args[0]!r} in {dict(vals)!r}") from None
