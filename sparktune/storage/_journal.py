"""The JSON Lines journal: one append-only file, the trial log for local and network disks.

Format (UTF-8, one JSON object per line):

- line 1, the header: ``{"format": "sparktune-trials", "version": 2, "labels": [...]}``;
- then one line per trial record (``sparktune.storage._codec.trial_to_json``) or metadata entry
  (``{"meta": [key, value]}``). A later line for the same tid (or key) replaces the earlier one.

In version 2 (written since the trial-log interface) every line, the header too, ends with a tab
and the crc32 of its JSON as 8 hex digits, so a changed byte is found, not read as another value.
Version 1 files (no checksums) load as before, and a run that resumes one goes on writing
version-1 lines to it.

Each ``append`` is one ``write`` of whole lines, flushed and fsynced, so a crash can at worst
leave the *last* line without its newline; such a torn tail is dropped on load (with a warning)
and cut off by ``start``. Everything before it is intact, so nothing that had been reported
finished is lost. Any other malformed content is refused with an error naming the file and the
line. Loading parses JSON only: it never runs code.

The journal needs a filesystem that can append and rename; on object-storage mounts (Databricks
Volumes, DBFS) ``start`` fails with an error that says to use the segment-directory format. The
lease (see ``_lease``) is the sibling file ``<name>.lease``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import weakref
import zlib
from pathlib import Path
from typing import Any, Sequence

from sparktune._record import Trial
from sparktune.storage._base import LoadedLog, TrialFileError, as_batch, check_labels
from sparktune.storage._codec import (
    checked_line,
    decode_records,
    dumps,
    read_checked_line,
    trial_from_json,
    trial_to_json,
)
from sparktune.storage._lease import Lease

logger = logging.getLogger("sparktune.storage")

# trial_to_json / trial_from_json stay importable from here for callers written before _codec.
__all__ = ["FORMAT", "VERSION", "TrialFile", "trial_from_json", "trial_to_json"]

FORMAT = "sparktune-trials"
VERSION = 2
READS = (1, 2)

# errno values object-storage FUSE mounts answer for append, seek and rename
UNSUPPORTED = {errno.ESPIPE, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM, errno.EINVAL}


def _unsupported(path: Path, what: str, exc: OSError) -> TrialFileError:
    return TrialFileError(
        f"trial file {str(path)!r}: this filesystem refuses to {what} ({exc.strerror or exc}), which the "
        f"JSON Lines journal needs. Object-storage mounts (Databricks /Volumes, /dbfs) behave so: use the "
        f"segment-directory format there, by giving a path that ends with '/' (a directory), e.g. "
        f"{str(path) + '.d/'!r}"
    )


class TrialFile:
    """A trial log in one append-only JSON Lines file (``TrialLog``).

    Args:
        path: where the file lives; ``start`` creates it.
        lease_seconds: how long a silent holder keeps the lease (default
            ``SPARKTUNE_LEASE_SECONDS`` or 60).
    """

    def __init__(self, path: str | os.PathLike[str], *, lease_seconds: float | None = None) -> None:
        self._path = Path(path)
        self._warned: set[str] = set()
        self._lease = Lease(self._path.with_name(self._path.name + ".lease"), self._path, seconds=lease_seconds)
        self._version = VERSION
        self._started = False
        # A log dropped without close() releases its lease when collected.
        self._finalizer = weakref.finalize(self, self._lease.release)

    @property
    def path(self) -> Path:
        return self._path

    def __repr__(self) -> str:
        return f"TrialFile({str(self._path)!r})"

    def exists(self) -> bool:
        return self._path.is_file() and self._path.stat().st_size > 0

    def _read(self) -> bytes:
        try:
            return self._path.read_bytes()
        except OSError as exc:
            raise TrialFileError(f"cannot read trial file {str(self._path)!r}: {exc}") from None

    def _header(self, line: bytes) -> dict[str, Any]:
        header: Any
        try:
            header = read_checked_line(line) if b"\t" in line else json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TrialFileError(
                f"{str(self._path)!r} is not a sparktune trial file (its first line is not a "
                f"'{FORMAT}' header); refusing to use or overwrite it"
            )
        version = header.get("version")
        if version not in READS or (version == 2) != (b"\t" in line):
            raise TrialFileError(
                f"trial file {str(self._path)!r} has format version {version!r}; this sparktune reads versions "
                f"{list(READS)}"
            )
        labels = header.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise TrialFileError(f"trial file {str(self._path)!r} has a header whose labels are not strings")
        return header

    def load(self) -> LoadedLog:
        """The labels, trials and metadata in the file (last record per tid wins).

        Raises:
            TrialFileError: the file is not a sparktune trial file or is corrupt (the message
                names the file and the line).
        """
        raw = self._read()
        lines = raw.split(b"\n")
        if lines[-1] != b"":
            logger.warning(
                "trial file %s: the last record was cut short (a crash during a write); it is ignored", self._path
            )
        body = lines[:-1]
        if not body:
            raise TrialFileError(f"{str(self._path)!r} is not a sparktune trial file (no header line)")
        header = self._header(body[0])
        lines = body[1:]
        if header["version"] == 2:
            for lineno, line in enumerate(lines, start=2):
                if line[-9:-8] != b"\t" or format(zlib.crc32(line[:-9]), "08x").encode("ascii") != line[-8:]:
                    raise TrialFileError(
                        f"trial file {str(self._path)!r} is corrupt at line {lineno}: its checksum does not match "
                        f"its content"
                    )
            texts = [line[:-9] for line in lines]
        else:
            texts = lines
        records: dict[int, Trial] = {}
        metadata: dict[str, str] = {}
        decode_records(
            texts,
            tagged=b'"__' in raw,
            records=records,
            metadata=metadata,
            first=2,
            name=f"trial file {str(self._path)!r}",
        )
        return LoadedLog(tuple(header["labels"]), [records[t] for t in sorted(records)], metadata)

    def start(self, labels: Sequence[str]) -> None:
        """Take the lease, then create the file for ``labels`` or check an existing one's labels
        and cut a torn last line off.

        Raises:
            StoreInUse: another live driver holds the lease.
            TrialFileError: the file is not a trial file, is for other labels, or this filesystem
                cannot append or rename (an object-storage mount).
        """
        if self._started:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._lease.acquire()
        try:
            self._prepare(labels)
        except BaseException:
            self._lease.release()
            raise
        self._started = True

    def _prepare(self, labels: Sequence[str]) -> None:
        if not self.exists():
            first_line = checked_line({"format": FORMAT, "version": VERSION, "labels": list(labels)})
            tmp = self._path.with_name(self._path.name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(first_line)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.replace(tmp, self._path)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                if exc.errno in UNSUPPORTED:
                    raise _unsupported(self._path, "rename files", exc) from None
                raise
            self._version = VERSION
            return
        raw = self._read()
        first = raw.split(b"\n", 1)[0]
        header = self._header(first)
        check_labels(self._path, header.get("labels", []), labels)
        self._version = int(header["version"])
        try:
            if not raw.endswith(b"\n"):
                with open(self._path, "r+b") as f:
                    f.truncate(raw.rfind(b"\n") + 1)
            with open(self._path, "ab"):
                pass  # fail now, not after the first trial ran, where append is refused
        except OSError as exc:
            if exc.errno in UNSUPPORTED:
                raise _unsupported(self._path, "open files for append", exc) from None
            raise

    def _line(self, obj: dict[str, Any]) -> bytes:
        return checked_line(obj) if self._version == 2 else dumps(obj) + b"\n"

    def _write(self, data: bytes) -> None:
        self._lease.check()
        try:
            with open(self._path, "ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            if exc.errno in UNSUPPORTED:
                raise _unsupported(self._path, "open files for append", exc) from None
            raise TrialFileError(f"cannot write trial file {str(self._path)!r}: {exc}") from None

    def append(self, trials: Sequence[Trial] | Trial) -> None:
        """Append records durably: one write of whole lines, then fsync.

        Args:
            trials: the records (one ``Trial`` alone is accepted too).

        Raises:
            LeaseLost: another driver took the lease; nothing was written.
        """
        batch = as_batch(trials)
        if not batch:
            return
        self._write(b"".join(self._line(trial_to_json(t, self._warned)) for t in batch))

    def set_metadata(self, key: str, value: str) -> None:
        """Record ``key = value`` durably (a ``{"meta": [key, value]}`` line)."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata keys and values are strings, got {key!r}: {value!r}")
        self._write(self._line({"meta": [key, value]}))

    def close(self) -> None:
        """Release the lease (every append was already durable). Idempotent."""
        self._started = False
        self._lease.release()

    def __enter__(self) -> TrialFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
