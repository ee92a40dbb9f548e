"""Durable trial stores (resume after a crash). No pickle in any file format."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Sequence

from sparktune._record import Trial
from sparktune.storage._journal import TrialFile, TrialFileError


@dataclass(frozen=True)
class LoadedLog:
    labels: tuple[str, ...]
    trials: list[Trial]
    metadata: dict[str, str] = field(default_factory=dict)


class _JournalLog:
    """Interim TrialLog over the JSON Lines journal (replaced by the storage package's own)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = TrialFile(path)
        self.path = self._file.path
        self._meta: dict[str, str] = {}

    def exists(self) -> bool:
        return self._file.exists()

    def load(self) -> LoadedLog:
        labels, trials = self._file.load()
        return LoadedLog(tuple(labels), list(trials), {})

    def start(self, labels: Sequence[str]) -> None:
        self._file.start(labels)

    def append(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            self._file.append(t)

    def set_metadata(self, key: str, value: str) -> None:
        self._meta[key] = value

    def close(self) -> None:
        pass


def open_trial_log(path: str | os.PathLike[str]) -> Any:
    return _JournalLog(path)


__all__ = ["LoadedLog", "TrialFile", "TrialFileError", "open_trial_log"]
