"""A lease file: which driver may write a trial log, renewed while that driver lives.

The lease is a small JSON file (``{"format": "sparktune-lease", "owner", "host", "pid",
"since", "renewed", "seconds", ...}``) rewritten whole by a daemon heartbeat thread every
``seconds / 4``; it never needs append or rename, so it works on object-storage mounts.

A lease found on ``acquire`` blocks the new driver (``StoreInUse``) unless its holder is gone:

- it was released (``close``), or
- it was not renewed for ``seconds`` (its driver died or hangs; hosts' clocks must agree to well
  within ``seconds``), or
- its holder runs on this host and its process no longer exists (pid gone, or reused by a process
  that started at another time), or
- its holder is this process and the log object that took it was closed or garbage-collected, or
- the file stays unreadable (empty or cut short) for about two seconds: its writer was killed
  between creating or truncating the file and writing it (a SIGKILL at the wrong instant).

After writing its claim the new driver waits ``settle`` seconds and reads the file back: when two
drivers claim at once, the one whose claim was overwritten gets ``StoreInUse``. Before every write
of the log the holder reads the lease again (``check``): if another driver's claim is there, it
raises ``LeaseLost`` and writes nothing more. What remains unguarded is a write already past that
check when the lease changes hands (a holder paused for longer than ``seconds`` exactly then).
"""

from __future__ import annotations

import datetime as _dt
import gc
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparktune.storage._base import LeaseLost, StoreInUse, TrialFileError

logger = logging.getLogger("sparktune.storage")

LEASE_FORMAT = "sparktune-lease"
DEFAULT_SECONDS = 60.0
# How long a new claim waits before reading the lease back (two drivers claiming at once).
SETTLE_SECONDS = 0.05

# owner id -> Lease, for leases held by this process (to tell a live holder in this process from
# a log object that was dropped without close()).
_LIVE: dict[str, Lease] = {}
_LIVE_LOCK = threading.Lock()


def lease_seconds_default() -> float:
    """``SPARKTUNE_LEASE_SECONDS`` when set (a positive number), else 60."""
    raw = os.environ.get("SPARKTUNE_LEASE_SECONDS")
    if raw is None or raw == "":
        return DEFAULT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"SPARKTUNE_LEASE_SECONDS must be a positive number of seconds, got {raw!r}")
    return value


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _pid_alive(pid: int, ticks: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if ticks is not None:
        now = _start_ticks(pid)
        if now is not None and now != ticks:
            return False
    return True


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Holder:
    """A lease file's content."""

    owner: str
    host: str
    pid: int
    since: float
    renewed: float
    seconds: float
    ticks: int | None
    released: bool

    @classmethod
    def parse(cls, raw: bytes) -> Holder:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != LEASE_FORMAT:
            raise ValueError("not a sparktune lease")
        return cls(
            owner=str(data["owner"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            since=float(data["since"]),
            renewed=float(data["renewed"]),
            seconds=float(data["seconds"]),
            ticks=None if data.get("ticks") is None else int(data["ticks"]),
            released=bool(data.get("released", False)),
        )

    def describe(self) -> str:
        return f"host {self.host!r}, pid {self.pid}, since {_iso(self.since)}"

    def gone_because(self, now: float) -> str | None:
        """Why this holder no longer blocks a new one, or None while it is live."""
        if self.released:
            return "it was released"
        if now - self.renewed > self.seconds:
            return f"it was last renewed {now - self.renewed:.0f} s ago (it expires after {self.seconds:g} s)"
        if self.host == socket.gethostname():
            if self.pid == os.getpid():
                with _LIVE_LOCK:
                    live = self.owner in _LIVE
                if live:
                    gc.collect()  # a log dropped without close() in a reference cycle releases here
                    with _LIVE_LOCK:
                        live = self.owner in _LIVE
                if not live:
                    return "its holder in this process was closed"
            elif not _pid_alive(self.pid, self.ticks):
                return f"process {self.pid} on this host no longer exists"
        return None


class Lease:
    """The right to write one trial log.

    Args:
        path: the lease file.
        store: the trial log's path, for messages.
        seconds: a lease not renewed for this long is expired; renewed every ``seconds / 4``.
        settle: how long to wait before reading a fresh claim back (default ``SETTLE_SECONDS``).
    """

    def __init__(self, path: Path, store: Path, *, seconds: float | None = None, settle: float | None = None) -> None:
        seconds = lease_seconds_default() if seconds is None else float(seconds)
        if not seconds > 0:
            raise ValueError(f"lease seconds must be > 0, got {seconds!r}")
        self.path = path
        self.store = store
        self.seconds = seconds
        self.settle = SETTLE_SECONDS if settle is None else settle
        self.owner = uuid.uuid4().hex
        self._since = 0.0
        self._renewed_at = 0.0  # time.monotonic() of the last successful write of our claim
        self._lost: str | None = None
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # release() may run from a finalizer inside renew()

    @property
    def held(self) -> bool:
        return self._held

    def _content(self, *, released: bool = False) -> bytes:
        now = time.time()
        data: dict[str, Any] = {
            "format": LEASE_FORMAT,
            "owner": self.owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "ticks": _start_ticks(os.getpid()),
            "since": self._since,
            "renewed": now,
            "seconds": self.seconds,
            "store": str(self.store),
        }
        if released:
            data["released"] = True
        return json.dumps(data).encode("utf-8") + b"\n"

    def _write(self, content: bytes, *, exclusive: bool = False) -> None:
        # One open/write/close of the whole file: no append, no rename. One write() call, so the
        # window in which a killed driver leaves the file empty is as short as it can be.
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        fd = os.open(self.path, flags, 0o644)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def _read_state(self) -> tuple[bool, Holder | None, str | None]:
        """``(exists, holder, problem)``: whether the file exists, its holder when readable, and
        why it is not (after reading it again for about two seconds: a rewrite takes microseconds).
        """
        last: Exception | None = None
        for attempt in range(20):
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return False, None, None
            except OSError as exc:
                raise TrialFileError(f"cannot read the lease {str(self.path)!r}: {exc}") from None
            try:
                return True, Holder.parse(raw), None
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                last = exc
                time.sleep(0.01 * (attempt + 1))
        if raw == b"":
            return True, None, "it is empty"
        return True, None, str(last)

    def read(self) -> Holder | None:
        """The lease file's holder; None when there is no lease file.

        A file caught mid-rewrite is read again for about two seconds.

        Raises:
            TrialFileError: the file stays unreadable (and was written to within ``seconds``).
        """
        exists, holder, problem = self._read_state()
        if problem is None:
            return holder
        try:
            age = time.time() - self.path.stat().st_mtime
        except OSError:
            return None
        if age > self.seconds:
            logger.warning("lease %s is unreadable and %.0f s old; it is ignored", self.path, age)
            return None
        raise TrialFileError(
            f"the lease {str(self.path)!r} of trial log {str(self.store)!r} is unreadable ({problem}); another "
            f"driver may be writing it. If no other driver uses this log, delete that file"
        )

    def acquire(self) -> None:
        """Take the lease and start renewing it.

        Raises:
            StoreInUse: a live driver holds it; the message names the store and the holder.
        """
        if self._held:
            return
        exists, holder, problem = self._read_state()
        if holder is not None:
            why = holder.gone_because(time.time())
            if why is None:
                raise self._in_use(holder)
            if not holder.released:
                logger.warning("trial log %s: taking over the lease of %s: %s", self.store, holder.describe(), why)
        elif problem is not None:
            # A claim that stays unreadable is a write cut short: a driver killed between creating
            # (or truncating) the file and writing it. A live holder rewrites it whole within
            # microseconds; should one still be there, the read-back below or its next check()
            # settles who holds the lease, and the loser writes nothing more.
            logger.warning(
                "trial log %s: the lease %s is unreadable (%s): a driver died while writing it; taking it over",
                self.store,
                self.path,
                problem,
            )
        self._since = time.time()
        try:
            self._write(self._content(), exclusive=not exists)
        except FileExistsError:
            self.acquire_race()
            return
        except OSError as exc:
            if exists:
                raise TrialFileError(f"cannot write the lease {str(self.path)!r}: {exc}") from None
            self._write(self._content())  # O_EXCL unsupported on this mount: the read-back decides
        self._confirm()

    def acquire_race(self) -> None:
        """Another driver created the lease file between our read and our create."""
        holder = self.read()
        if holder is not None and holder.owner != self.owner:
            raise self._in_use(holder)
        self._confirm()

    def _confirm(self) -> None:
        time.sleep(self.settle)
        holder = self.read()
        if holder is None or holder.owner != self.owner:
            if holder is None:
                raise StoreInUse(f"trial log {str(self.store)!r}: its lease {str(self.path)!r} vanished while taken")
            raise self._in_use(holder)
        self._renewed_at = time.monotonic()
        self._held = True
        self._lost = None
        with _LIVE_LOCK:
            _LIVE[self.owner] = self
        self._stop.clear()
        self._thread = threading.Thread(target=self._heartbeat, name=f"sparktune-lease-{self.owner[:8]}", daemon=True)
        self._thread.start()

    def _in_use(self, holder: Holder) -> StoreInUse:
        left = holder.seconds - (time.time() - holder.renewed)
        if holder.host == socket.gethostname() and holder.pid == os.getpid():
            return StoreInUse(
                f"trial log {str(self.store)!r} is in use by this very process (pid {holder.pid}, since "
                f"{_iso(holder.since)}): a log opened earlier for it is still open. Close that one first "
                f"(lease file: {str(self.path)!r})"
            )
        return StoreInUse(
            f"trial log {str(self.store)!r} is in use by another driver ({holder.describe()}, lease "
            f"renewed {time.time() - holder.renewed:.0f} s ago). Wait for that run to finish or stop it, or "
            f"use another path. If that driver is dead, its lease expires in {max(left, 0):.0f} s and a "
            f"resume then proceeds (lease file: {str(self.path)!r})"
        )

    def _heartbeat(self) -> None:
        interval = self.seconds / 4
        while not self._stop.wait(interval):
            try:
                self.renew()
            except LeaseLost:
                return
            except Exception as exc:  # a failed renewal is retried; check() stops writes if it lasts
                logger.warning("trial log %s: cannot renew the lease: %s", self.store, exc)

    def renew(self) -> None:
        """Rewrite our claim with a fresh time, unless another driver's claim is there.

        Raises:
            LeaseLost: another driver holds the lease now.
        """
        with self._lock:
            if not self._held:
                return
            if self._lost is not None:
                raise LeaseLost(self._lost)
            holder = self.read()
            if holder is None or holder.owner != self.owner:
                who = "nobody (the lease file was deleted)" if holder is None else holder.describe()
                self._lost = (
                    f"trial log {str(self.store)!r}: this driver's lease was taken by {who}; this driver "
                    f"stops writing so that the log is never mixed from two runs"
                )
                self._stop.set()
                logger.error("%s", self._lost)
                raise LeaseLost(self._lost)
            self._write(self._content())
            self._renewed_at = time.monotonic()

    def check(self) -> None:
        """Before a write: the lease must still be ours (renewed now when it is getting old).

        Raises:
            LeaseLost: another driver holds it; nothing may be written.
            TrialFileError: the lease was never taken (``start`` was not called).
        """
        if not self._held:
            raise TrialFileError(f"trial log {str(self.store)!r} is not started (or is closed): call start() first")
        if self._lost is not None:
            raise LeaseLost(self._lost)
        if time.monotonic() - self._renewed_at > self.seconds / 2:
            self.renew()
            return
        holder = self.read()
        if holder is None or holder.owner != self.owner:
            self.renew()  # records the loss and raises LeaseLost

    def release(self) -> None:
        """Stop renewing and mark the lease released (if it is still ours). Idempotent."""
        with self._lock:
            if not self._held:
                return
            self._held = False
            self._stop.set()
            with _LIVE_LOCK:
                _LIVE.pop(self.owner, None)
            if self._lost is None:
                try:
                    holder = self.read()
                    if holder is not None and holder.owner == self.owner:
                        self._write(self._content(released=True))
                except (OSError, TrialFileError) as exc:
                    logger.warning("trial log %s: cannot release the lease: %s", self.store, exc)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
