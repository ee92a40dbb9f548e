"""The in-process backend: trials run one at a time in the calling thread (hyperopt's ``Trials``)."""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Any, Callable, ContextManager, Sequence

from sparktune._worker import run_trial
from sparktune.backends._base import CANCELLED, Outcome, Task


class InProcessBackend:
    """Runs queued tasks sequentially, in submission order, inside ``wait``.

    A trial that is running cannot be interrupted (it runs in this very thread); ``cancel`` drops
    queued tasks, which come back as CANCELLED outcomes that never started.
    """

    parallelism = 1
    # ``wait`` never blocks: an empty answer means nothing is queued (the driver stops draining).
    returns_immediately = True

    def __init__(
        self,
        fn: Callable[..., Any],
        call: Callable[[Callable[..., Any], Task], Any] | None = None,
        trial_context: Callable[[int], ContextManager[Any]] | None = None,
    ) -> None:
        self._fn = fn
        self._call = call
        self._context = trial_context or (lambda tid: contextlib.nullcontext())
        self._queue: deque[Task] = deque()
        self._cancelled: list[Outcome] = []

    def submit(self, tasks: Sequence[Task]) -> None:
        self._queue.extend(tasks)

    def wait(self, timeout: float | None) -> list[Outcome]:
        if self._cancelled:
            out, self._cancelled = self._cancelled, []
            return out
        if not self._queue:
            return []
        task = self._queue.popleft()
        try:
            with self._context(task.tid):
                return [run_trial(self._fn, task, call=self._call, keep_exception=True)]
        except KeyboardInterrupt:
            # Ctrl-C inside the objective: the trial was cut short; report it as cancelled.
            self._cancelled.append(Outcome(tid=task.tid, state=CANCELLED, error=("KeyboardInterrupt", "interrupted")))
            raise

    def cancel(self, tids: Sequence[int]) -> None:
        drop = set(tids)
        kept: deque[Task] = deque()
        for task in self._queue:
            if task.tid in drop:
                self._cancelled.append(
                    Outcome(tid=task.tid, state=CANCELLED, error=("Cancelled", "not started"), attempts=0)
                )
            else:
                kept.append(task)
        self._queue = kept

    def close(self) -> None:
        self._queue.clear()
        self._cancelled.clear()
