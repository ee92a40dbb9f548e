"""Simulated slot workers: many executors' worth of slots in a few local processes.

``SimulatedSlots`` is a launcher for ``ExecutorBackend(launcher=...)``: instead of starting Spark
jobs it starts ``processes`` Python processes on this machine, each holding its share of the
slots in one ``selectors`` loop. Every slot speaks the real worker protocol to the real driver
(token, hello, tasks, outcomes, cancels; ``spark_worker``) and evaluates each trial with the real
objective and the real ``spark_worker.evaluate``, then holds the slot for ``trial_seconds`` (the
trial's "run time") before sending the outcome, whose ``start``/``end`` span that time. Only the
executors are simulated: the fmin loop, the suggester, the store and the backend are those of a
real run. ``benchmarks/bench_dispatch.py`` measures dispatch with it at up to 1,000 slots.

A cancelled trial ends its slot's connection, as a real worker that exits does; the slot
connects again ``reconnect_s`` later, as Spark would start the slot job again.
"""

from __future__ import annotations

import dataclasses
import heapq
import os
import pickle
import selectors
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Sequence

from sparktune.backends.spark_worker import SlotConfig, _dump_outcome, _objective, evaluate, pack_frame, take_frame


class SimulatedSlots:
    """Launcher: ``SimulatedSlots(trial_seconds=1.0)(configs)`` starts the slots, returns ``stop``.

    Args:
        trial_seconds: how long each trial holds its slot.
        processes: how many processes share the slots.
        reconnect_s: delay before a slot whose trial was cancelled connects again.
    """

    def __init__(self, trial_seconds: float, processes: int = 2, reconnect_s: float = 0.1) -> None:
        if trial_seconds < 0:
            raise ValueError(f"trial_seconds must be >= 0, got {trial_seconds!r}")
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes!r}")
        self.trial_seconds = float(trial_seconds)
        self.processes = processes
        self.reconnect_s = reconnect_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._writers: list[threading.Thread] = []

    def __call__(self, configs: Sequence[SlotConfig]) -> Callable[[], None]:
        """Start the processes and return at once, as Spark's slot jobs are submitted without
        waiting for their executors: each process reads its slots from stdin once it has started,
        so the writes happen on background threads."""
        n = min(self.processes, max(1, len(configs)))
        for i in range(n):
            proc = subprocess.Popen(
                [sys.executable, "-m", "sparktune.backends.simulated"],
                stdin=subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            payload = pickle.dumps((list(configs[i::n]), self.trial_seconds, self.reconnect_s))
            writer = threading.Thread(target=_write_and_close, args=(proc, payload), daemon=True)
            writer.start()
            self.procs.append(proc)
            self._writers.append(writer)
        return self.stop

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the slot processes (told to stop by the driver) to exit; kill leftovers."""
        deadline = time.monotonic() + timeout
        for writer in self._writers:
            writer.join(max(0.0, deadline - time.monotonic()))
        for proc in self.procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _write_and_close(proc: subprocess.Popen[bytes], payload: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except OSError:  # the process died before reading: stop() reports nothing more to wait for
        pass


class _Slot:
    def __init__(self, config: SlotConfig) -> None:
        self.config = config
        self.sock: socket.socket | None = None
        self.inbuf = bytearray()
        self.tid: int | None = None
        self.done = False


def run_slots(configs: Sequence[SlotConfig], trial_seconds: float, reconnect_s: float) -> None:
    """Serve ``configs``' slots until the driver stops every one of them."""
    sel = selectors.DefaultSelector()
    timers: list[tuple[float, int, int, Any]] = []  # (due, seq, slot index, action)
    seq = 0
    slots = [_Slot(c) for c in configs]

    def connect(i: int) -> None:
        slot = slots[i]
        c = slot.config
        sock = socket.create_connection((c.host, c.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(pack_frame(c.token) + pack_frame(pickle.dumps(("hello", c.slot, os.getpid()))))
        sock.setblocking(False)
        slot.sock, slot.inbuf, slot.tid = sock, bytearray(), None
        sel.register(sock, selectors.EVENT_READ, i)

    def disconnect(i: int) -> None:
        slot = slots[i]
        if slot.sock is not None:
            sel.unregister(slot.sock)
            slot.sock.close()
            slot.sock = None
        slot.tid = None

    def send(i: int, payload: bytes) -> None:
        sock = slots[i].sock
        if sock is None:
            return
        sock.setblocking(True)  # outcomes are small: a blocking send never waits long
        try:
            sock.sendall(pack_frame(payload))
        except OSError:
            disconnect(i)
            return
        finally:
            if slots[i].sock is not None:
                sock.setblocking(False)

    for i in range(len(slots)):
        connect(i)
    while not all(s.done for s in slots):
        now = time.monotonic()
        timeout = None if not timers else max(0.0, timers[0][0] - now)
        for key, _ in sel.select(timeout if timeout is not None else 1.0):
            i = key.data
            slot = slots[i]
            try:
                data = slot.sock.recv(1 << 16) if slot.sock is not None else b""
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # the driver closed the connection
                disconnect(i)
                slot.done = True
                continue
            slot.inbuf += data
            while (payload := take_frame(slot.inbuf)) is not None:
                msg = pickle.loads(payload)
                if msg[0] == "stop":
                    disconnect(i)
                    slot.done = True
                    break
                if msg[0] == "cancel":
                    if slot.tid == msg[1]:  # a real worker exits; Spark starts the slot again
                        disconnect(i)
                        seq += 1
                        heapq.heappush(timers, (time.monotonic() + reconnect_s, seq, i, "connect"))
                        break
                    continue
                _, attempt, task_payload = msg
                task = pickle.loads(task_payload)
                start = time.time()
                fn, call = _objective(slot.config.run_id, slot.config.fn_payload)
                outcome = dataclasses.replace(evaluate(fn, call, task, attempt), start=start, end=start + trial_seconds)
                slot.tid = task.tid
                seq += 1
                heapq.heappush(timers, (time.monotonic() + trial_seconds, seq, i, (task.tid, outcome)))
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, i, action = heapq.heappop(timers)
            slot = slots[i]
            if action == "connect":
                if not slot.done:
                    try:
                        connect(i)
                    except OSError:
                        slot.done = True  # the driver is gone
                continue
            tid, outcome = action
            if slot.tid == tid and slot.sock is not None:
                slot.tid = None
                send(i, _dump_outcome(outcome))
    sel.close()


def _main() -> None:
    configs, trial_seconds, reconnect_s = pickle.loads(sys.stdin.buffer.read())
    run_slots(configs, trial_seconds, reconnect_s)


if __name__ == "__main__":
    _main()
