"""Executor side of ``run_on="executors"``: what runs inside a Spark Python worker.

Two tasks, each with two entry points: ``rdd_entry(kind, config, rows)`` as the function of
``RDD.mapPartitions`` over a one-element RDD (classic Spark: the worker imports neither pyarrow
nor pandas), and ``slot_main``/``inline_main`` as the function of ``DataFrame.mapInArrow`` over a
one-row DataFrame (Spark Connect, which has no RDDs):

- ``slot_main`` (transport "socket"): a long-lived task. It connects back to the driver's slot
  server (``_slot_server.SlotServer``) on ``config.host:config.port``, authenticates with a
  random token, then pulls trials one at a time and pushes each ``Outcome`` back, until the
  driver says stop. One Spark
  job thus evaluates many trials, which amortises Spark's job start (~100-200 ms).
- ``inline_main`` (transport "jobs"): evaluates the one trial carried in its configuration; one
  Spark job per trial. Used when executors cannot reach the driver (a remote Connect server).

The objective (its bytes, or a Spark broadcast of them when large) is unpickled once per Python
worker process and run (cached by run id, so a reused worker does not unpickle it again).

Wire format: frames of a 4-byte big-endian length and a payload. The first frame from the worker
is the raw token; everything after it is pickled. The driver unpickles nothing before the token
has been checked.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from sparktune._worker import run_trial
from sparktune.backends._base import ERROR, Outcome, Task

logger = logging.getLogger(__name__)

_LEN = struct.Struct(">I")
OUTPUT_SCHEMA = "tid long, outcome binary"

# run id -> (fn, call); a reused Python worker keeps it across Spark jobs of the same run.
_OBJECTIVES: dict[str, tuple[Callable[..., Any], Any]] = {}


@dataclass(frozen=True)
class SlotConfig:
    """What a slot task needs: where the driver listens and the pickled objective."""

    run_id: str
    host: str
    port: int
    token: bytes
    slot: int
    fn_payload: Any  # the pickled objective, or a Spark broadcast of it (large objectives)


@dataclass(frozen=True)
class InlineConfig:
    """One trial carried inside the job itself (transport "jobs")."""

    run_id: str
    fn_payload: Any  # as SlotConfig's
    task_payload: bytes
    attempt: int


def pack_frame(payload: bytes) -> bytes:
    """``payload`` as one length-prefixed frame."""
    return _LEN.pack(len(payload)) + payload


def take_frame(buf: bytearray, limit: int = 1 << 30) -> bytes | None:
    """Remove the first complete frame from ``buf`` (bytes received so far) and return its
    payload; None while it is incomplete.

    Raises:
        ValueError: the frame announces more than ``limit`` bytes.
    """
    if len(buf) < _LEN.size:
        return None
    (size,) = _LEN.unpack_from(buf)
    if size > limit:
        raise ValueError(f"a frame of {size} bytes, more than the {limit} allowed")
    if len(buf) < _LEN.size + size:
        return None
    payload = bytes(buf[_LEN.size : _LEN.size + size])
    del buf[: _LEN.size + size]
    return payload


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Send one length-prefixed frame."""
    sock.sendall(pack_frame(payload))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> bytes | None:
    """Receive one frame; None when the peer closed the connection."""
    head = _recv_exact(sock, _LEN.size)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    return _recv_exact(sock, size) if size else b""


def _objective(run_id: str, fn_payload: Any) -> tuple[Callable[..., Any], Any]:
    cached = _OBJECTIVES.get(run_id)
    if cached is None:
        _OBJECTIVES.clear()  # one run at a time per worker; don't keep old objectives alive
        if not isinstance(fn_payload, bytes):  # a pyspark Broadcast of the bytes
            fn_payload = fn_payload.value
        cached = pickle.loads(fn_payload)
        _OBJECTIVES[run_id] = cached
    return cached


def evaluate(fn: Callable[..., Any], call: Any, task: Task, attempt: int) -> Outcome:
    """``run_trial`` plus a clear message when the objective used Spark on the executor."""
    outcome = run_trial(fn, task, call=call)
    if outcome.state == ERROR and outcome.error is not None:
        from sparktune._spark_compat import is_spark_on_executor_error

        name, message = outcome.error
        if is_spark_on_executor_error(name, message):
            message = (
                "the objective used Spark (SparkSession, SparkContext or a DataFrame) while "
                "running on an executor, where Spark is not available; use "
                f"SparkTrials(run_on='driver') for objectives that use Spark. Original error: {message}"
            )
            outcome = Outcome(
                tid=outcome.tid,
                state=ERROR,
                error=(name, message),
                traceback=outcome.traceback,
                start=outcome.start,
                end=outcome.end,
            )
    if attempt != 1:
        outcome = Outcome(
            tid=outcome.tid,
            state=outcome.state,
            result=outcome.result,
            error=outcome.error,
            traceback=outcome.traceback,
            start=outcome.start,
            end=outcome.end,
            attempts=attempt,
        )
    return outcome


def _dump_outcome(outcome: Outcome) -> bytes:
    """Pickle ``("outcome", outcome)``; an unpicklable result becomes an ERROR outcome."""
    try:
        return pickle.dumps(("outcome", outcome))
    except Exception as exc:  # noqa: BLE001 - the user's result dict may hold anything
        bad = Outcome(
            tid=outcome.tid,
            state=ERROR,
            error=(
                type(exc).__name__,
                f"trial {outcome.tid}: the objective's result cannot be pickled to send it back to the driver: {exc}",
            ),
            start=outcome.start,
            end=outcome.end,
            attempts=outcome.attempts,
        )
        return pickle.dumps(("outcome", bad))


def _batch(tids: list[int], payloads: list[bytes]) -> Any:
    import pyarrow as pa

    return pa.RecordBatch.from_pydict({"tid": pa.array(tids, pa.int64()), "outcome": pa.array(payloads, pa.binary())})


def serve(config: SlotConfig) -> int:
    """Connect to the driver and evaluate trials until told to stop; returns how many ran."""
    fn, call = _objective(config.run_id, config.fn_payload)
    sock = socket.create_connection((config.host, config.port), timeout=10)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send_frame(sock, config.token)
    send_frame(sock, pickle.dumps(("hello", config.slot, os.getpid())))

    inbox: queue.Queue[Any] = queue.Queue()
    current: list[int | None] = [None]
    lock = threading.Lock()

    def reader() -> None:
        # The only reader of the socket. A cancel for the running trial (or the driver closing
        # the connection mid-trial) ends this process at once: the objective may be stuck in
        # native code, and Spark replaces the worker.
        while True:
            try:
                frame = recv_frame(sock)
            except OSError:
                frame = None
            msg = None if frame is None else pickle.loads(frame)
            if msg is None or msg[0] == "cancel":
                with lock:
                    running = current[0]
                if running is not None and (msg is None or msg[1] == running):
                    os._exit(0)
                if msg is None:
                    inbox.put(None)
                    return
                continue
            inbox.put(msg)

    threading.Thread(target=reader, name="sparktune-reader", daemon=True).start()
    done = 0
    while True:
        msg = inbox.get()
        if msg is None or msg[0] == "stop":
            break
        _, attempt, task_payload = msg
        task = pickle.loads(task_payload)
        with lock:
            current[0] = task.tid
        outcome = evaluate(fn, call, task, attempt)
        with lock:
            current[0] = None
        try:
            send_frame(sock, _dump_outcome(outcome))
        except OSError:
            break
        done += 1
    try:
        sock.close()
    except OSError:
        pass
    return done


def _slot_rows(config: SlotConfig) -> list[tuple[int, bytes]]:
    done = serve(config)
    return [(-1, str(done).encode())]


def _inline_rows(config: InlineConfig) -> list[tuple[int, bytes]]:
    fn, call = _objective(config.run_id, config.fn_payload)
    task = pickle.loads(config.task_payload)
    outcome = evaluate(fn, call, task, config.attempt)
    return [(task.tid, _dump_outcome(outcome))]


_ROWS: dict[str, Callable[[Any], list[tuple[int, bytes]]]] = {"slot": _slot_rows, "inline": _inline_rows}


def slot_main(config: SlotConfig, batches: Iterator[Any]) -> Iterator[Any]:
    """``mapInArrow`` function of a slot task (transport "socket")."""
    for _ in batches:  # the one input row only starts the task
        pass
    rows = _slot_rows(config)
    yield _batch([r[0] for r in rows], [r[1] for r in rows])


def inline_main(config: InlineConfig, batches: Iterator[Any]) -> Iterator[Any]:
    """``mapInArrow`` function of a one-trial job (transport "jobs")."""
    for _ in batches:
        pass
    rows = _inline_rows(config)
    yield _batch([r[0] for r in rows], [r[1] for r in rows])


def rdd_entry(kind: str, config: Any, rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """The same task as ``slot_main`` (``kind`` "slot") or ``inline_main`` ("inline"), as an RDD
    ``mapPartitions`` function yielding ``{"tid", "outcome"}`` dicts. A Python worker running it
    does not import pyarrow (``mapInArrow``'s worker does)."""
    for _ in rows:
        pass
    for tid, outcome in _ROWS[kind](config):
        yield {"tid": tid, "outcome": outcome}


__all__ = [
    "InlineConfig",
    "OUTPUT_SCHEMA",
    "rdd_entry",
    "SlotConfig",
    "inline_main",
    "recv_frame",
    "send_frame",
    "serve",
    "take_frame",
    "pack_frame",
    "slot_main",
]
