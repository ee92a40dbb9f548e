"""The interface between the fmin loop's store and a durable trial log, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence, runtime_checkable

from sparktune._record import Trial
from sparktune.exceptions import SparktuneError


class TrialFileError(SparktuneError, ValueError):
    """The trial log is not a sparktune trial log, is corrupt, belongs to another search space, or
    cannot be written where it is."""


class StoreInUse(TrialFileError):
    """Another live driver holds the trial log's lease (see ``sparktune.storage``)."""


class LeaseLost(TrialFileError):
    """This driver's lease on the trial log was taken by another driver; it must stop writing."""


@dataclass(frozen=True)
class LoadedLog:
    """What a trial log holds.

    Attributes:
        labels: the search space's labels the log was started for, in the space's order.
        trials: one record per trial id, the last one written for it, in increasing tid order.
        metadata: the ``set_metadata`` map, the last value written for each key.
    """

    labels: tuple[str, ...]
    trials: list[Trial]
    metadata: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        """``labels, trials = log.load()``: the old ``TrialFile.load`` pair, kept for its callers."""
        return iter((self.labels, self.trials))


@runtime_checkable
class TrialLog(Protocol):
    """A durable, append-only log of trial records: what the loop's store writes through.

    One driver writes a log at a time: ``start`` takes a lease that ``close`` releases. Every
    method that writes raises ``LeaseLost`` (and writes nothing) once another driver holds it.
    """

    @property
    def path(self) -> Path:
        """Where the log lives (a file or a directory, by format)."""
        ...

    def exists(self) -> bool:
        """True when a log has been started at ``path`` (it may still be corrupt)."""
        ...

    def load(self) -> LoadedLog:
        """Read the log (no lease needed). Raises ``TrialFileError`` naming the path when it is
        not a sparktune log or is corrupt; a record cut short by a crash is dropped with a
        warning."""
        ...

    def start(self, labels: Sequence[str]) -> None:
        """Take the lease (``StoreInUse`` if a live driver holds it), create the log for
        ``labels`` if absent, or check that it was started for the same labels
        (``TrialFileError`` naming the path and both label lists), and make it ready for
        writes."""
        ...

    def append(self, trials: Sequence[Trial]) -> None:
        """Write a batch of records; they are durable when this returns."""
        ...

    def set_metadata(self, key: str, value: str) -> None:
        """Record ``key = value`` durably; ``load().metadata`` returns the last value per key."""
        ...

    def close(self) -> None:
        """Stop writing and release the lease. Idempotent."""
        ...


def check_labels(path: Path, found: Sequence[str], labels: Sequence[str]) -> None:
    """Raise ``TrialFileError`` when a log started for ``found`` is reused for ``labels``."""
    if tuple(found) != tuple(labels):
        raise TrialFileError(
            f"trial log {str(path)!r} was written for labels {list(found)}, but the search space has "
            f"{list(labels)}; use another path for a different space"
        )


def as_batch(trials: Trial | Sequence[Trial]) -> Sequence[Trial]:
    """``append``'s argument as a sequence (one ``Trial`` is accepted for the old callers)."""
    if isinstance(trials, Trial):
        return (trials,)
    for t in trials:
        if not isinstance(t, Trial):
            raise TypeError(f"append takes Trial records, got {type(t).__name__}: {t!r}")
    return trials
