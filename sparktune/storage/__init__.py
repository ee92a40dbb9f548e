"""Durable trial logs: resume a run after a crash. No pickle in any file format.

The loop's store writes through one small interface, ``TrialLog`` (``start``, ``append`` a batch,
``set_metadata``, ``load``, ``close``), implemented by two formats:

- ``TrialFile``: a JSON Lines journal, one append-only file (see ``_journal``). For local and
  network disks.
- ``SegmentLog``: a directory of immutable segment files, merged now and then (see
  ``_segments``). It needs neither append nor rename, so it works on object-storage FUSE mounts
  such as Databricks Unity Catalog Volumes and DBFS, where both are refused.

``open_trial_log(path)`` chooses the format by this rule, first match wins:

1. ``format="journal"`` or ``format="segments"`` when given; else the environment variable
   ``SPARKTUNE_TRIAL_LOG_FORMAT`` (the same two words) when set;
2. an existing directory: segments; an existing file: journal (files written before the segment
   format keep loading exactly as before);
3. a path that ends with ``/`` (or ``os.sep``) or whose name ends with ``.segments``: segments;
4. a path under ``/Volumes/`` or ``/dbfs/`` (after ``~`` expansion): segments;
5. anything else: journal.

Two drivers, one log: ``start`` takes a lease (a small file, ``<file>.lease`` beside a journal,
``lease.json`` inside a segment directory, rewritten every ``lease_seconds / 4`` by a daemon
thread). A second driver's ``start`` raises ``StoreInUse`` (a ``TrialFileError``) naming the log and
the holder's host, pid and since-when, unless the holder is gone: it released the lease, did not
renew it for ``lease_seconds`` (60 by default, or ``SPARKTUNE_LEASE_SECONDS``), or ran on this host
in a process that no longer exists. A writer that finds another driver's claim in the lease
raises ``LeaseLost`` and writes nothing more, so a log is never mixed from two runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from sparktune.storage._base import LeaseLost, LoadedLog, StoreInUse, TrialFileError, TrialLog
from sparktune.storage._journal import TrialFile
from sparktune.storage._segments import SegmentLog

FORMATS = ("journal", "segments")
ENV_FORMAT = "SPARKTUNE_TRIAL_LOG_FORMAT"
SEGMENTS_SUFFIX = ".segments"
OBJECT_STORE_ROOTS = ("/Volumes/", "/dbfs/")


def trial_log_format(path: str | os.PathLike[str], format: str | None = None) -> Literal["journal", "segments"]:
    """The format ``open_trial_log`` uses for ``path`` (the rule in the module docstring).

    Raises:
        ValueError: ``format`` or ``SPARKTUNE_TRIAL_LOG_FORMAT`` is not one of ``FORMATS``.
    """
    if format is None:
        env = os.environ.get(ENV_FORMAT)
        if env:
            if env not in FORMATS:
                raise ValueError(f"{ENV_FORMAT} must be one of {list(FORMATS)}, got {env!r}")
            format = env
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
        return "journal" if format == "journal" else "segments"
    raw = os.fspath(path)
    p = Path(raw).expanduser()
    if p.is_dir():
        return "segments"
    if p.exists():
        return "journal"
    if raw.endswith("/") or raw.endswith(os.sep) or p.name.endswith(SEGMENTS_SUFFIX):
        return "segments"
    text = p.as_posix() + "/"
    if any(text.startswith(root) for root in OBJECT_STORE_ROOTS):
        return "segments"
    return "journal"


def open_trial_log(
    path: str | os.PathLike[str], *, format: str | None = None, lease_seconds: float | None = None
) -> TrialLog:
    """The trial log at ``path``, in the format the module docstring's rule picks.

    Args:
        path: a file (journal) or directory (segments); nothing is created until ``start``.
        format: ``"journal"`` or ``"segments"`` to override the rule.
        lease_seconds: how long a silent holder keeps the lease (default
            ``SPARKTUNE_LEASE_SECONDS`` or 60).

    Raises:
        ValueError: an unknown ``format``.
    """
    if trial_log_format(path, format) == "segments":
        return SegmentLog(Path(os.fspath(path)).expanduser(), lease_seconds=lease_seconds)
    return TrialFile(Path(os.fspath(path)).expanduser(), lease_seconds=lease_seconds)


__all__ = [
    "LeaseLost",
    "LoadedLog",
    "SegmentLog",
    "StoreInUse",
    "TrialFile",
    "TrialFileError",
    "TrialLog",
    "open_trial_log",
    "trial_log_format",
]
