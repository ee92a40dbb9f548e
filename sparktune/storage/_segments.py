"""The segment directory: a trial log made of immutable files, for object-storage mounts.

Databricks Unity Catalog Volumes (``/Volumes/...``) and DBFS (``/dbfs/...``) are FUSE mounts over
object storage: opening a file for append fails there ("Illegal seek") and renames can fail
("Function not implemented"), while writing a whole new file works. This format needs nothing
else: every file is created, written with one ``write``, closed, and never changed or renamed.

Layout of the directory:

- ``header.json``: one checksummed line ``{"format": "sparktune-trial-segments", "version": 1,
  "labels": [...]}``, written once by the first ``start``;
- ``lease.json``: the lease (see ``_lease``);
- ``seg-EEEEEE-SSSSSSSSS-OOOOOOOO.jsonl``: the segments. ``E`` is the writer's epoch (one more
  than the largest epoch in the directory when its ``start`` took the lease), ``S`` its sequence
  number within the epoch, ``O`` its owner id. Segments are read in (E, S, O) order.

A segment is a checksummed header line ``{"segment": 1, "level": L, "records": n, "bytes": b,
"crc": c, "replaces": [names]}`` followed by ``b`` bytes of body: ``n`` JSON lines, each a trial
record (``_codec.trial_to_json``) or a metadata entry ``{"meta": [key, value]}``, with ``c`` the
crc32 of the body. Across the log the last record for a tid (and the last value for a key) wins.

Each ``append`` writes one segment holding its whole batch (durable when it returns). Segments
are merged so their number stays small: when the newest segments are ``fanout`` (16) or more of
one level L, they are merged into one segment of level L+1 that lists them in ``replaces`` and is
written after them; then they are deleted. Only a newest run of segments is ever merged, so the
merged segment, which comes after them in the order, holds exactly what they held: a crash at any
point of a merge (before, during or after writing the merged segment, or between deletions) loads
the same records. A record is rewritten about log_16(n) times; 100,000 single-record appends keep
at most about 60 files.

Loading checks every segment: a segment shorter than its header says (a crash during its write)
is ignored with a warning when it is the last of its epoch, and deleted by the next ``start``;
any other mismatch (checksum, length, a torn segment followed by one of the same writer, a
foreign ``seg-`` file) raises ``TrialFileError`` naming the file.
"""

from __future__ import annotations

import logging
import os
import re
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from sparktune._record import Trial
from sparktune.storage._base import LoadedLog, TrialFileError, as_batch, check_labels
from sparktune.storage._codec import checked_line, decode_records, dumps, read_checked_line, trial_to_json
from sparktune.storage._lease import Lease

logger = logging.getLogger("sparktune.storage")

FORMAT = "sparktune-trial-segments"
VERSION = 1
HEADER = "header.json"
LEASE = "lease.json"
FANOUT = 16
_NAME = re.compile(r"^seg-(\d{6})-(\d{9})-([0-9a-f]{8})\.jsonl$")


@dataclass(frozen=True)
class _Segment:
    name: str
    epoch: int
    seq: int
    owner: str

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.epoch, self.seq, self.owner)


@dataclass
class _Read:
    """A segment read and checked (``torn``: shorter than its header says)."""

    segment: _Segment
    level: int
    replaces: list[str]
    body: bytes
    records: int
    torn: bool


def _fsync(f: Any) -> None:
    try:
        os.fsync(f.fileno())
    except OSError:
        pass  # some FUSE mounts do not implement fsync; their close() is the upload


class SegmentLog:
    """A trial log in a directory of immutable segment files (``TrialLog``).

    Args:
        path: the directory; ``start`` creates it.
        lease_seconds: how long a silent holder keeps the lease (default
            ``SPARKTUNE_LEASE_SECONDS`` or 60).
        fanout: how many newest segments of one level are merged into one (at least 2).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, lease_seconds: float | None = None, fanout: int = FANOUT
    ) -> None:
        if not isinstance(fanout, int) or fanout < 2:
            raise ValueError(f"fanout must be an int >= 2, got {fanout!r}")
        self._path = Path(path)
        self._fanout = fanout
        self._warned: set[str] = set()
        self._lease = Lease(self._path / LEASE, self._path, seconds=lease_seconds)
        self._epoch = 0
        self._seq = 0
        self._tail: list[tuple[str, int]] = []  # live segments (name, level), in order
        self._started = False
        self._finalizer = weakref.finalize(self, self._lease.release)

    @property
    def path(self) -> Path:
        return self._path

    def __repr__(self) -> str:
        return f"SegmentLog({str(self._path)!r})"

    def exists(self) -> bool:
        return (self._path / HEADER).is_file()

    # -- reading -------------------------------------------------------------------------------

    def _labels(self) -> tuple[str, ...]:
        hpath = self._path / HEADER
        try:
            raw = hpath.read_bytes()
        except FileNotFoundError:
            if self._path.is_dir():
                raise TrialFileError(
                    f"{str(self._path)!r} is not a sparktune trial log directory (it has no {HEADER}); refusing "
                    f"to use it"
                ) from None
            raise TrialFileError(f"trial log {str(self._path)!r} does not exist") from None
        except OSError as exc:
            raise TrialFileError(f"cannot read {str(hpath)!r}: {exc}") from None
        try:
            if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
                raise ValueError("not one line")
            header = read_checked_line(raw[:-1])
        except (ValueError, UnicodeDecodeError) as exc:
            raise TrialFileError(
                f"{str(hpath)!r} is not a sparktune trial log header ({exc}); refusing to use or overwrite it"
            ) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TrialFileError(f"{str(hpath)!r} is not a '{FORMAT}' header; refusing to use or overwrite it")
        if header.get("version") != VERSION:
            raise TrialFileError(
                f"trial log {str(self._path)!r} has format version {header.get('version')!r}; this sparktune "
                f"reads version {VERSION}"
            )
        labels = header.get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise TrialFileError(f"{str(hpath)!r} has labels that are not a list of strings")
        return tuple(labels)

    def _segments(self) -> list[_Segment]:
        out = []
        try:
            names = os.listdir(self._path)
        except OSError as exc:
            raise TrialFileError(f"cannot list trial log {str(self._path)!r}: {exc}") from None
        for name in names:
            m = _NAME.match(name)
            if m:
                out.append(_Segment(name, int(m[1]), int(m[2]), m[3]))
            elif name.startswith("seg-"):
                raise TrialFileError(f"trial log {str(self._path)!r} holds a foreign segment name {name!r}")
            elif name not in (HEADER, LEASE) and not name.startswith("."):
                if name not in self._warned:
                    self._warned.add(name)
                    logger.warning("trial log %s: ignoring the unknown file %r", self._path, name)
        return sorted(out, key=lambda s: s.key)

    def _read_segment(self, seg: _Segment) -> _Read:
        spath = self._path / seg.name
        try:
            raw = spath.read_bytes()
        except OSError as exc:
            raise TrialFileError(f"cannot read segment {str(spath)!r}: {exc}") from None
        nl = raw.find(b"\n")
        if nl < 0:
            # not even the header line is complete: a crash in the first bytes of the write
            return _Read(seg, 0, [], b"", 0, torn=True)
        try:
            head = read_checked_line(raw[:nl])
            if not isinstance(head, dict) or head.get("segment") != 1:
                raise ValueError("not a segment header")
            level, count, size, crc = int(head["level"]), int(head["records"]), int(head["bytes"]), int(head["crc"])
            replaces = [str(n) for n in head.get("replaces", [])]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise TrialFileError(f"segment {str(spath)!r} is corrupt: its header line: {exc}") from None
        body = raw[nl + 1 :]
        if len(body) < size:
            return _Read(seg, level, replaces, b"", 0, torn=True)
        if len(body) > size or zlib.crc32(body) != crc:
            raise TrialFileError(
                f"segment {str(spath)!r} is corrupt: its body does not match its header (length {len(body)} "
                f"for {size}, or checksum)"
            )
        if body.count(b"\n") != count or (body and not body.endswith(b"\n")):
            raise TrialFileError(f"segment {str(spath)!r} is corrupt: {count} records declared")
        return _Read(seg, level, replaces, body, count, torn=False)

    def _read_all(self) -> tuple[list[_Read], list[_Read], set[str]]:
        """The live segments in order, the torn ones, and the names replaced by a merge."""
        reads = [self._read_segment(s) for s in self._segments()]
        replaced: set[str] = set()
        for r in reads:
            if not r.torn:
                replaced.update(r.replaces)
        live, torn = [], []
        for i, r in enumerate(reads):
            if r.segment.name in replaced:
                continue
            if r.torn:
                same = (r.segment.epoch, r.segment.owner)
                later = any((o.segment.epoch, o.segment.owner) == same for o in reads[i + 1 :])
                if later:
                    raise TrialFileError(
                        f"segment {str(self._path / r.segment.name)!r} is shorter than its header says, yet its "
                        f"writer wrote more segments after it: the log is corrupt"
                    )
                torn.append(r)
                continue
            live.append(r)
        for r in torn:
            logger.warning(
                "trial log %s: segment %s was cut short (a crash during its write); it is ignored",
                self._path,
                r.segment.name,
            )
        return live, torn, replaced

    def _parse(self, r: _Read, records: dict[int, Trial], metadata: dict[str, str]) -> None:
        if not r.body:
            return
        decode_records(
            r.body[:-1].split(b"\n"),
            tagged=b'"__' in r.body,
            records=records,
            metadata=metadata,
            first=2,
            name=f"segment {str(self._path / r.segment.name)!r}",
        )

    def load(self) -> LoadedLog:
        """The labels, trials (last record per tid wins, tid order) and metadata.

        Raises:
            TrialFileError: not a sparktune trial log directory, or a corrupt file (named).
        """
        labels = self._labels()
        live, _, _ = self._read_all()
        records: dict[int, Trial] = {}
        metadata: dict[str, str] = {}
        for r in live:
            self._parse(r, records, metadata)
        return LoadedLog(labels, [records[t] for t in sorted(records)], metadata)

    # -- writing -------------------------------------------------------------------------------

    def start(self, labels: Sequence[str]) -> None:
        """Take the lease, create the directory and header for ``labels`` or check the existing
        header's labels, and delete what a crash left behind (torn and merged-away segments).

        Raises:
            StoreInUse: another live driver holds the lease.
            TrialFileError: a foreign directory, a corrupt log, or other labels.
        """
        if self._started:
            return
        if self._path.exists() and not self._path.is_dir():
            raise TrialFileError(
                f"{str(self._path)!r} is a file, not a trial log directory; a file there is a JSON Lines journal "
                f"(give its path without a trailing '/')"
            )
        if self._path.is_dir() and not self.exists():
            others = [n for n in os.listdir(self._path) if n != LEASE and not n.startswith(".")]
            if others:
                raise TrialFileError(
                    f"{str(self._path)!r} is not a sparktune trial log directory (it has no {HEADER} but holds "
                    f"{sorted(others)[:5]}); refusing to use it"
                )
        try:
            self._path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrialFileError(f"cannot create trial log directory {str(self._path)!r}: {exc}") from None
        self._lease.acquire()
        try:
            self._prepare(labels)
        except BaseException:
            self._lease.release()
            raise
        self._started = True

    def _prepare(self, labels: Sequence[str]) -> None:
        if not self.exists():
            header = checked_line({"format": FORMAT, "version": VERSION, "labels": list(labels)})
            self._write_file(HEADER, header)
        check_labels(self._path, self._labels(), labels)
        live, torn, replaced = self._read_all()
        for r in torn:
            self._unlink(r.segment.name)
        for s in self._segments():
            if s.name in replaced:
                self._unlink(s.name)
        self._epoch = 1 + max((r.segment.epoch for r in live + torn), default=0)
        self._seq = 0
        self._tail = [(r.segment.name, r.level) for r in live]

    def _write_file(self, name: str, data: bytes) -> None:
        fpath = self._path / name
        try:
            with open(fpath, "wb") as f:  # one open, one write, one close; never appended or renamed
                f.write(data)
                f.flush()
                _fsync(f)
        except OSError as exc:
            raise TrialFileError(f"cannot write {str(fpath)!r}: {exc}") from None

    def _unlink(self, name: str) -> None:
        try:
            (self._path / name).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # harmless: a merged-away segment is skipped on load
            logger.warning("trial log %s: cannot delete %s: %s", self._path, name, exc)

    def _segment(self, lines: list[bytes], level: int, replaces: Sequence[str] = ()) -> str:
        """Write one segment of ``lines`` (each ending with a newline); returns its name."""
        body = b"".join(lines)
        head = {
            "segment": 1,
            "level": level,
            "records": len(lines),
            "bytes": len(body),
            "crc": zlib.crc32(body),
            "replaces": list(replaces),
        }
        self._seq += 1
        name = f"seg-{self._epoch:06d}-{self._seq:09d}-{self._lease.owner[:8]}.jsonl"
        self._write_file(name, checked_line(head) + body)
        return name

    def _write(self, lines: list[bytes]) -> None:
        if not self._started:
            raise TrialFileError(f"trial log {str(self._path)!r} is not started (or is closed): call start() first")
        self._lease.check()
        self._tail.append((self._segment(lines, 0), 0))
        self._compact()

    def append(self, trials: Sequence[Trial] | Trial) -> None:
        """Write the batch as one new segment (durable when this returns), then merge the newest
        segments when ``fanout`` of one level have accumulated.

        Raises:
            LeaseLost: another driver took the lease; nothing was written.
        """
        batch = as_batch(trials)
        if not batch:
            return
        self._write([dumps(trial_to_json(t, self._warned)) + b"\n" for t in batch])

    def set_metadata(self, key: str, value: str) -> None:
        """Record ``key = value`` durably (a one-line segment)."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata keys and values are strings, got {key!r}: {value!r}")
        self._write([dumps({"meta": [key, value]}) + b"\n"])

    def _compact(self) -> None:
        while True:
            level = self._tail[-1][1]
            run = 0
            for _, lv in reversed(self._tail):
                if lv != level:
                    break
                run += 1
            if run < self._fanout:
                return
            names = [n for n, _ in self._tail[-run:]]
            records: dict[int, Trial] = {}
            metadata: dict[str, str] = {}
            for n in names:
                m = _NAME.match(n)
                assert m is not None  # our own names
                r = self._read_segment(_Segment(n, int(m[1]), int(m[2]), m[3]))
                if r.torn:
                    raise TrialFileError(f"segment {str(self._path / n)!r} was cut short while this driver runs")
                self._parse(r, records, metadata)
            lines = [dumps({"meta": [k, v]}) + b"\n" for k, v in metadata.items()]
            lines += [dumps(trial_to_json(records[t], self._warned)) + b"\n" for t in sorted(records)]
            self._lease.check()
            merged = self._segment(lines, level + 1, names)
            del self._tail[-run:]
            self._tail.append((merged, level + 1))
            for n in names:
                self._unlink(n)

    def close(self) -> None:
        """Release the lease (every append was already durable). Idempotent."""
        self._started = False
        self._lease.release()

    def __enter__(self) -> SegmentLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
