"""The backend interface: how the fmin loop hands trials out and gets outcomes back.

A backend evaluates trials; it never suggests, never records and never decides when to stop.
The driver (``sparktune._driver``) calls ``submit`` with ready-to-run tasks whenever it has free
slots, ``wait`` to collect finished outcomes, ``cancel`` to stop trials (timeouts, early stop,
Ctrl-C) and ``close`` once at the end (always, also after an error).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from threading import Condition
from typing import Any, Callable, Mapping, Protocol, Sequence

# Outcome states, from the backend's point of view.
OK = "ok"  # the objective returned (result["status"] may still be "fail")
ERROR = "error"  # the objective raised, or its result was invalid, or the worker died for good
CANCELLED = "cancelled"  # cancelled by the driver (timeout, early stop, interrupt)


@dataclass(frozen=True)
class Task:
    """One trial to evaluate: its id and the params the objective receives."""

    tid: int
    params: Any  # the evaluated space: what the user's objective is called with
    vals: dict[str, Any] = field(default_factory=dict)  # label -> value (for pass_expr_memo_ctrl)


@dataclass(frozen=True)
class Outcome:
    """What came back for one trial. Plain data: it crosses the driver/executor boundary.

    Attributes:
        tid: the trial id.
        state: OK, ERROR or CANCELLED.
        result: for OK, the normalised result dict (``loss`` float or absent, ``status``, and the
            objective's extra keys).
        error: for ERROR/CANCELLED, ``(exception type name, message)``.
        traceback: traceback text for ERROR, else None.
        start, end: wall-clock times (seconds since the epoch) of the evaluation.
        attempts: how many times the trial was started (retries after worker deaths).
        exception: in-process backends only: the exception object itself, so that fmin can
            re-raise it when ``catch_eval_exceptions=False``. Never pickled across processes.
    """

    tid: int
    state: str
    result: dict[str, Any] | None = None
    error: tuple[str, str] | None = None
    traceback: str | None = None
    start: float | None = None
    end: float | None = None
    attempts: int = 1
    exception: BaseException | None = field(default=None, compare=False, repr=False)


class Backend(Protocol):
    """Evaluates trials.

    Attributes:
        parallelism: the most tasks it runs at once.
        returns_immediately: True when ``wait`` never blocks and an empty answer means nothing
            is left to report (in-process evaluation); False when an empty answer only means
            the timeout passed.
    """

    parallelism: int
    returns_immediately: bool

    def submit(self, tasks: Sequence[Task]) -> None:
        """Start evaluating ``tasks`` (never more than the free slots the driver computed)."""

    def wait(self, timeout: float | None) -> list[Outcome]:
        """Block until at least one outcome is ready or ``timeout`` seconds pass; return all ready."""

    def cancel(self, tids: Sequence[int]) -> None:
        """Cancel these running trials; their outcomes come back from ``wait`` as CANCELLED."""

    def close(self) -> None:
        """Cancel whatever still runs and free resources. Called exactly once."""


def take_outcomes(lock: Condition, results: deque[Outcome], timeout: float | None) -> list[Outcome]:
    """``Backend.wait`` for threaded backends: block on ``lock`` until ``results`` has an outcome
    or ``timeout`` seconds pass, then take every outcome out. Producers append and ``notify_all``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with lock:
        while not results:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return []
            lock.wait(remaining)
        out = list(results)
        results.clear()
        return out


def mark_cancelled(
    tids: Sequence[int],
    *,
    pending: deque[Task],
    running: Mapping[int, Any],
    cancelled: set[int],
    results: deque[Outcome],
    attempts: Callable[[int], int] = lambda tid: 0,
) -> list[int]:
    """``Backend.cancel`` bookkeeping for threaded backends; call it holding the backend's lock.

    Queued tasks are dropped and running ones marked; each is reported CANCELLED once, with
    ``attempts(tid)`` starts (0 for a task that never started: the driver then forgets it, at
    least 1 for a running one). Returns the running tids whose work the backend must stop.
    """
    now = time.time()
    to_stop = []
    for tid in tids:
        queued = next((t for t in pending if t.tid == tid), None)
        if queued is not None:
            pending.remove(queued)
            n = attempts(tid)
        elif tid in running and tid not in cancelled:
            to_stop.append(tid)
            n = max(1, attempts(tid))
        else:
            continue
        cancelled.add(tid)
        results.append(
            Outcome(tid=tid, state=CANCELLED, end=now, attempts=n, error=("Cancelled", f"trial {tid} was cancelled"))
        )
    return to_stop
