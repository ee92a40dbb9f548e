"""JSON encoding of ``Trial`` records and checksummed lines, shared by both trial-log formats.

A record is one JSON object (``trial_to_json``). Values JSON cannot hold are tagged: a non-finite
float is ``{"__float__": "inf"}``, a ``datetime`` is ``{"__datetime__": ISO}``, a dict whose only
key is one of those tags is wrapped as ``{"__dict__": {...}}`` so it reads back as itself, and any
other object is stored as ``{"__repr__": "..."}`` (a warning names the key; it reads back as that
dict). numpy scalars and arrays (up to 10,000 elements) become Python numbers and lists, tuples
become lists, and dict keys become strings: these are the only ways a value read back differs
from the value written.

A checksummed line is ``JSON TAB crc32-as-8-hex-digits NEWLINE``; the checksum covers the JSON
bytes. ``json.dumps`` never writes a raw tab or newline (they are escaped inside strings), so the
last tab of a line separates the two.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import zlib
from typing import Any, Sequence

import numpy as np

from sparktune._record import Trial
from sparktune.storage._base import TrialFileError

logger = logging.getLogger("sparktune.storage")

_TAGS = frozenset({"__float__", "__datetime__", "__dict__"})


def jsonable(value: Any, key: str, warned: set[str]) -> Any:
    """``value`` as JSON data (see the module docstring); ``key`` names it in a warning."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return jsonable(value.item(), key, warned)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, dict):
        out = {str(k): jsonable(v, f"{key}.{k}", warned) for k, v in value.items()}
        if len(out) == 1 and next(iter(out)) in _TAGS:
            return {"__dict__": out}
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(v, key, warned) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 10_000:
        return jsonable(value.tolist(), key, warned)
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if key not in warned:
        warned.add(key)
        logger.warning("trial log: result key %r holds a %s; stored as its repr", key, type(value).__name__)
    return {"__repr__": repr(value)}


def from_json(value: Any) -> Any:
    """The inverse of ``jsonable`` (up to the changes the module docstring lists)."""
    if isinstance(value, dict):
        if len(value) == 1:
            if "__float__" in value:
                return float(value["__float__"])
            if "__datetime__" in value:
                return _dt.datetime.fromisoformat(value["__datetime__"])
            if "__dict__" in value:
                return {k: from_json(v) for k, v in value["__dict__"].items()}
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def _time(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def trial_to_json(trial: Trial, warned: set[str] | None = None) -> dict[str, Any]:
    """The JSON object one record is stored as (``error`` and ``traceback`` omitted when None)."""
    warned = set() if warned is None else warned
    data: dict[str, Any] = {
        "tid": trial.tid,
        "state": trial.state,
        "vals": {k: jsonable(v, k, warned) for k, v in trial.vals.items()},
        "result": jsonable(dict(trial.result), "result", warned),
    }
    # error and traceback only when set (most trials have neither): smaller files, faster loads
    if trial.error:
        data["error"] = list(trial.error)
    if trial.traceback is not None:
        data["traceback"] = trial.traceback
    data["book_time"] = _time(trial.book_time)
    data["refresh_time"] = _time(trial.refresh_time)
    data["attempts"] = trial.attempts
    return data


def trial_from_json(data: dict[str, Any], tagged: bool = True) -> Trial:
    """The record stored as ``data``.

    Args:
        data: a ``trial_to_json`` object read back.
        tagged: False when the text it was parsed from holds no ``"__`` at all, so no value is
            tagged and decoding can be skipped (the fast path of loading).

    Raises:
        KeyError, TypeError, ValueError: ``data`` is not a record.
    """
    vals = data["vals"]
    result = data["result"]
    if type(vals) is not dict or type(result) is not dict:
        raise TypeError(f"vals and result must be objects, got {type(vals).__name__} and {type(result).__name__}")
    if tagged:
        vals = from_json(vals)
        result = from_json(result)
    error = data.get("error")
    book = data.get("book_time")
    refresh = data.get("refresh_time")
    return Trial(
        tid=int(data["tid"]),
        state=int(data["state"]),
        vals=vals,
        result=result,
        error=(str(error[0]), str(error[1])) if error else None,
        traceback=data.get("traceback"),
        book_time=None if book is None else _dt.datetime.fromisoformat(book),
        refresh_time=None if refresh is None else _dt.datetime.fromisoformat(refresh),
        attempts=int(data.get("attempts", 1)),
    )


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (``allow_nan=False``: non-finite floats must be tagged first)."""
    return json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8")


def checked_line(obj: Any) -> bytes:
    """``obj`` as a checksummed line (JSON, tab, crc32 hex, newline)."""
    body = dumps(obj)
    return body + b"\t" + format(zlib.crc32(body), "08x").encode("ascii") + b"\n"


def read_checked_line(line: bytes) -> Any:
    """The JSON value of a checksummed line without its newline.

    Raises:
        ValueError: no checksum, a checksum that does not match, or not JSON.
    """
    body, tab, crc = line.rpartition(b"\t")
    if not tab:
        raise ValueError("the line has no checksum")
    if len(crc) != 8 or format(zlib.crc32(body), "08x").encode("ascii") != crc:
        raise ValueError("the line's checksum does not match its content")
    return json.loads(body.decode("utf-8"))


CHUNK = 4096  # lines parsed per json.loads call: fast, and the text of only one chunk is copied


def _parse_lines(texts: Sequence[bytes], first: int, name: str) -> list[Any]:
    try:
        items = json.loads(b"[" + b",".join(texts) + b"]")
        if isinstance(items, list) and len(items) == len(texts):
            return items
    except (UnicodeDecodeError, ValueError):
        pass
    items = []  # the fast path failed: parse line by line to name the bad line
    for i, text in enumerate(texts):
        try:
            items.append(json.loads(text.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TrialFileError(f"{name} is corrupt at line {first + i}: {type(exc).__name__}: {exc}") from None
    return items


def decode_records(
    texts: Sequence[bytes],
    *,
    tagged: bool,
    records: dict[int, Trial],
    metadata: dict[str, str],
    first: int,
    name: str,
) -> None:
    """Parse record lines into ``records`` (tid -> last record) and ``metadata`` (key -> last value).

    Args:
        texts: the lines' JSON, without newline or checksum, in file order.
        tagged: whether any line may hold a tagged value (``"__`` occurs in the text).
        records, metadata: updated in place, later lines replacing earlier ones.
        first: the file line number of ``texts[0]``, for messages.
        name: how messages name the file (e.g. ``"trial file '/p/run.jsonl'"``).

    Raises:
        TrialFileError: a line that is not JSON or not a record, naming ``name`` and the line.
    """
    for start in range(0, len(texts), CHUNK):
        items = _parse_lines(texts[start : start + CHUNK], first + start, name)
        for i, data in enumerate(items):
            try:
                if type(data) is not dict:
                    raise TypeError(f"a record is a JSON object, got {type(data).__name__}")
                if "meta" in data and "tid" not in data:
                    key, value = data["meta"]
                    metadata[str(key)] = str(value)
                    continue
                trial = trial_from_json(data, tagged=tagged)
            except (KeyError, TypeError, ValueError) as exc:
                raise TrialFileError(
                    f"{name} is corrupt at line {first + start + i}: {type(exc).__name__}: {exc}"
                ) from None
            records[trial.tid] = trial
