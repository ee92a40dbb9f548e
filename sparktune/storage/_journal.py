"""An append-only JSON Lines trial file: the durable store behind ``trials_save_file``.

Format (UTF-8, one JSON object per line):

- line 1, the header: ``{"format": "sparktune-trials", "version": 1, "labels": [...]}``;
- then one line per finished trial: ``{"tid": ..., "state": ..., "vals": {...}, "result": {...},
  "error": [type, message] | null, "traceback": ..., "book_time": ISO, "refresh_time": ISO,
  "attempts": n}``. A later line for the same tid replaces the earlier one.

Each record is written with one ``write`` of a whole line, flushed and fsynced, so a crash can
at worst leave the *last* line without its newline; such a torn tail is dropped on load (with a
warning) and cut off before the next append. Everything before it is intact, so nothing that had
been reported finished is lost. Any other malformed content is refused with an error naming the
file and the line. Loading parses JSON only: it never runs code. Values a result holds that JSON
cannot represent are stored as ``{"__repr__": "..."}`` (and a warning names the key).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sparktune._record import Trial

logger = logging.getLogger(__name__)

FORMAT = "sparktune-trials"
VERSION = 1


class TrialFileError(ValueError):
    """The file is not a sparktune trial file, is corrupt, or belongs to another search space."""


def _jsonable(value: Any, key: str, warned: set[str]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return _jsonable(value.item(), key, warned)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{key}.{k}", warned) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, key, warned) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 10_000:
        return _jsonable(value.tolist(), key, warned)
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if key not in warned:
        warned.add(key)
        logger.warning("trial file: result key %r holds a %s; stored as its repr", key, type(value).__name__)
    return {"__repr__": repr(value)}


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            if "__float__" in value:
                return float(value["__float__"])
            if "__datetime__" in value:
                return _dt.datetime.fromisoformat(value["__datetime__"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _time(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _parse_time(s: Any) -> _dt.datetime | None:
    return None if s is None else _dt.datetime.fromisoformat(s)


def trial_to_json(trial: Trial, warned: set[str] | None = None) -> dict[str, Any]:
    warned = set() if warned is None else warned
    return {
        "tid": trial.tid,
        "state": trial.state,
        "vals": {k: _jsonable(v, k, warned) for k, v in trial.vals.items()},
        "result": _jsonable(dict(trial.result), "result", warned),
        "error": list(trial.error) if trial.error else None,
        "traceback": trial.traceback,
        "book_time": _time(trial.book_time),
        "refresh_time": _time(trial.refresh_time),
        "attempts": trial.attempts,
    }


def trial_from_json(data: dict[str, Any]) -> Trial:
    return Trial(
        tid=int(data["tid"]),
        state=int(data["state"]),
        vals=dict(data["vals"]),
        result=_from_json(data["result"]),
        error=tuple(data["error"]) if data.get("error") else None,  # type: ignore[arg-type]
        traceback=data.get("traceback"),
        book_time=_parse_time(data.get("book_time")),
        refresh_time=_parse_time(data.get("refresh_time")),
        attempts=int(data.get("attempts", 1)),
    )


class TrialFile:
    """One trial file on disk.

    Args:
        path: where the file lives; it is created on the first ``open_for_append``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._warned: set[str] = set()

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def load(self) -> tuple[tuple[str, ...], list[Trial]]:
        """The labels and the trials recorded in the file (last record per tid wins).

        Raises:
            TrialFileError: the file is not a sparktune trial file or is corrupt.
        """
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise TrialFileError(f"cannot read trial file {str(self.path)!r}: {exc}") from None
        lines = raw.split(b"\n")
        torn = lines[-1] != b""
        if torn:
            logger.warning(
                "trial file %s: the last record was cut short (a crash during a write); it is ignored",
                self.path,
            )
        body = lines[:-1]
        if not body:
            raise TrialFileError(f"{str(self.path)!r} is not a sparktune trial file (no header line)")
        try:
            header = json.loads(body[0].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TrialFileError(
                f"{str(self.path)!r} is not a sparktune trial file (its first line is not a "
                f"'{FORMAT}' header); refusing to use or overwrite it"
            )
        if header.get("version") != VERSION:
            raise TrialFileError(
                f"trial file {str(self.path)!r} has format version {header.get('version')!r}; "
                f"this sparktune reads version {VERSION}"
            )
        records: dict[int, Trial] = {}
        for lineno, line in enumerate(body[1:], start=2):
            try:
                trial = trial_from_json(json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise TrialFileError(
                    f"trial file {str(self.path)!r} is corrupt at line {lineno}: {type(exc).__name__}: {exc}"
                ) from None
            records[trial.tid] = trial
        return tuple(header.get("labels", ())), [records[t] for t in sorted(records)]

    def start(self, labels: Sequence[str]) -> None:
        """Create the file with its header if it does not exist; cut a torn last line off."""
        if not self.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            header = json.dumps({"format": FORMAT, "version": VERSION, "labels": list(labels)})
            with open(tmp, "wb") as f:
                f.write(header.encode("utf-8") + b"\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            return
        raw = self.path.read_bytes()
        if not raw.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(raw.rfind(b"\n") + 1)

    def append(self, trial: Trial) -> None:
        """Append one record durably (one write of one whole line, then fsync)."""
        line = json.dumps(trial_to_json(trial, self._warned), allow_nan=False).encode("utf-8") + b"\n"
        with open(self.path, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
