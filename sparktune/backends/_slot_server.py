"""The driver's end of transport "socket": one thread and one selector for every slot worker.

Each slot worker (``spark_worker.serve``, or the simulated slots of
``benchmarks/bench_dispatch.py``) connects, sends the run's token and a hello, then is handed a
trial whenever it is idle and trials are queued, and sends the trial's outcome back. The server
holds no thread per connection and no blocking call: a thousand connections cost a thousand
sockets in one ``selectors`` loop, and the driver's work per trial does not grow with them.

The queue, the attempts and the outcomes belong to the backend (``SlotQueue``); the server only
moves trials to idle connections and results back, under the backend's lock.

Wire format (see ``spark_worker``): frames of a 4-byte big-endian length and a payload. Worker
to driver: the raw token, then pickled ``("hello", slot, pid)`` and ``("outcome", Outcome)``.
Driver to worker: pickled ``("task", attempt, cloudpickled Task)``, ``("cancel", tid)`` and
``("stop",)``. Nothing is unpickled before the token has been checked.
"""

from __future__ import annotations

import collections
import hmac
import logging
import pickle
import selectors
import socket
import threading
import time
from typing import Any, Protocol

import cloudpickle

from sparktune.backends._base import Outcome, Task
from sparktune.backends.spark_worker import pack_frame, take_frame

logger = logging.getLogger(__name__)

# A connection that has not sent its token and hello after this long is dropped.
_HANDSHAKE_S = 30.0
_MAX_FRAME = 1 << 30


class SlotQueue(Protocol):
    """What the server needs from the backend. Every call is made holding ``lock``."""

    lock: threading.Condition

    def take_nowait(self, conn: Conn) -> tuple[Task, int] | None:
        """The next queued trial and its attempt number (now marked running on ``conn``), or None."""

    def closing(self) -> bool:
        """True once no more trials will be handed out (idle workers are told to stop)."""

    def finish(self, conn: Conn, outcome: Outcome) -> None:
        """``conn``'s trial is done."""

    def lost(self, conn: Conn, task: Task) -> None:
        """``conn`` dropped while running ``task`` (the worker died, or was made to exit)."""

    def failed(self, reason: str) -> None:
        """The server cannot go on: fail what is queued and what comes."""

    def connected(self, conn: Conn) -> None: ...

    def disconnected(self, conn: Conn) -> None: ...


class Conn:
    """One slot worker's connection, as the server and the backend see it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.slot = -1
        self.pid = 0
        self.task: Task | None = None
        self.state = "token"  # token -> hello -> ready
        self.since = time.monotonic()
        self._inbuf = bytearray()
        self._outbuf = bytearray()

    @property
    def tid(self) -> int | None:
        return None if self.task is None else self.task.tid


class SlotServer:
    """Listens on ``(host, 0)``; ``start()`` runs the loop on a daemon thread until ``stop()``."""

    def __init__(self, host: str, token: bytes, queue: SlotQueue) -> None:
        self._listener = socket.create_server((host, 0), backlog=1024)
        self._listener.setblocking(False)
        self.address: tuple[str, int] = (host, int(self._listener.getsockname()[1]))
        self._token = token
        self._queue = queue
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._posted: collections.deque[tuple[Conn, Any]] = collections.deque()
        self._woken = False
        self._stopping = False
        self._conns: set[Conn] = set()
        self._handshaking: set[Conn] = set()
        self._idle: collections.deque[Conn] = collections.deque()
        self._thread = threading.Thread(target=self._serve, name="sparktune-slot-server", daemon=True)

    def start(self) -> None:
        self._sel.register(self._listener, selectors.EVENT_READ, "accept")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread.start()

    # -- called from any thread ------------------------------------------------------------

    def wake(self) -> None:
        """Look at the queue again (trials were queued, or the run is closing)."""
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"\0")
            except (BlockingIOError, OSError):
                pass

    def post(self, conn: Conn, msg: Any) -> None:
        """Send ``msg`` to ``conn`` from the loop's thread (used for cancels)."""
        self._posted.append((conn, msg))
        self.wake()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every connection; wait for the loop to end."""
        self._stopping = True
        self.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def close_listener(self) -> None:
        """Refuse new connections from now on (tests: executors that cannot reach the driver)."""
        try:
            self._sel.unregister(self._listener)
        except (KeyError, ValueError):
            pass
        self._listener.close()

    # -- the loop ------------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while not self._stopping:
                events = self._sel.select(timeout=1.0)
                for key, mask in events:
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        conn: Conn = key.data
                        if mask & selectors.EVENT_WRITE:
                            self._flush(conn)
                        if mask & selectors.EVENT_READ and conn in self._conns:
                            try:
                                self._read(conn)
                            except Exception:  # noqa: BLE001 - one bad peer must not stop the others
                                logger.exception(
                                    "slot connection (slot %d, pid %d) sent what cannot be read", conn.slot, conn.pid
                                )
                                self._drop(conn)
                self._deliver_posted()
                self._hand_out()
                if self._handshaking:
                    self._drop_slow_handshakes()
        except Exception as exc:  # noqa: BLE001 - never die silently: the backend would hang
            logger.exception("the slot server's loop failed")
            with self._queue.lock:
                self._queue.failed(f"sparktune's slot server failed: {type(exc).__name__}: {exc}")
        finally:
            for conn in list(self._conns):
                self._drop(conn)
            for s in (self._listener, self._wake_r, self._wake_w):
                try:
                    s.close()
                except OSError:
                    pass
            self._sel.close()

    def _drain_wake(self) -> None:
        # Clear the flag only after draining: a wake() whose byte the drain swallowed must not
        # leave the flag set with no byte pending. Whatever a skipped wake() announced was queued
        # before it looked at the flag, so this iteration's hand-out sees it.
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        self._woken = False

    def _accept(self) -> None:
        for _ in range(256):  # a burst of slots connecting at once
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, OSError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock)
            self._conns.add(conn)
            self._handshaking.add(conn)
            self._sel.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn._inbuf += data
        while True:
            try:
                payload = take_frame(conn._inbuf, 1024 if conn.state == "token" else _MAX_FRAME)
            except ValueError as exc:
                logger.warning("slot connection sent %s: dropped", exc)
                self._drop(conn)
                return
            if payload is None or not self._on_frame(conn, payload):
                return

    def _on_frame(self, conn: Conn, payload: bytes) -> bool:
        """Handle one frame; False when the connection was dropped."""
        if conn.state == "token":
            if not hmac.compare_digest(payload, self._token):
                logger.warning("refused a connection with a bad token")
                self._drop(conn)
                return False
            conn.state = "hello"
            return True
        msg = pickle.loads(payload)
        if conn.state == "hello":
            _, conn.slot, conn.pid = msg
            conn.state = "ready"
            self._handshaking.discard(conn)
            with self._queue.lock:
                self._queue.connected(conn)
            self._idle.append(conn)
            return True
        if msg[0] == "outcome" and conn.task is not None:
            outcome: Outcome = msg[1]
            with self._queue.lock:
                conn.task = None
                self._queue.finish(conn, outcome)
            self._idle.append(conn)
        return True

    def _hand_out(self) -> None:
        """Give queued trials to idle connections; tell idle ones to stop once the run closes."""
        if not self._idle:
            return
        sends: list[tuple[Conn, Any]] = []
        with self._queue.lock:
            closing = self._queue.closing()
            while self._idle:
                conn = self._idle[0]
                if conn not in self._conns or conn.task is not None:
                    self._idle.popleft()
                    continue
                if closing:
                    self._idle.popleft()
                    sends.append((conn, ("stop",)))
                    continue
                taken = self._queue.take_nowait(conn)
                if taken is None:
                    break
                self._idle.popleft()
                task, attempt = taken
                conn.task = task
                sends.append((conn, ("task", attempt, task)))
        for conn, msg in sends:
            if msg[0] == "task":
                msg = ("task", msg[1], cloudpickle.dumps(msg[2]))
            self._send(conn, msg)

    def _deliver_posted(self) -> None:
        while self._posted:
            conn, msg = self._posted.popleft()
            if conn in self._conns:
                self._send(conn, msg)

    def _send(self, conn: Conn, msg: Any) -> None:
        conn._outbuf += pack_frame(pickle.dumps(msg))
        self._flush(conn)

    def _flush(self, conn: Conn) -> None:
        try:
            sent = conn.sock.send(conn._outbuf)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(conn)
            return
        del conn._outbuf[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn._outbuf else 0)
        try:
            self._sel.modify(conn.sock, events, conn)
        except (KeyError, ValueError):
            pass

    def _drop_slow_handshakes(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self._handshaking if now - c.since > _HANDSHAKE_S]:
            logger.warning("a slot connection did not identify itself within %.0f s: dropped", _HANDSHAKE_S)
            self._drop(conn)

    def _drop(self, conn: Conn) -> None:
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        self._handshaking.discard(conn)
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        try:
            conn.sock.close()
        except OSError:
            pass
        if conn.state == "ready":
            with self._queue.lock:
                task, conn.task = conn.task, None
                if task is not None:
                    self._queue.lost(conn, task)
                self._queue.disconnected(conn)


__all__ = ["Conn", "SlotQueue", "SlotServer"]
