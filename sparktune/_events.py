"""Run listeners: how tracking (MLflow), progress displays and other observers follow an fmin run.

The fmin loop tells every listener what happened, on the loop's own thread, in this order::

    run_started(start)                  once, after the store is loaded and before any trial runs
    trials_finished([trial, ...])       after each batch of outcomes: every trial that reached a
                                        final state (done, error, cancelled), each exactly once
    run_finished(end)                   once, also when fmin raises (``end.error`` is then set)

and, for backends that run the objective in this process (in-process ``Trials`` and
``SparkTrials(run_on="driver")``), ``trial_context(tid)`` is entered around the objective call in
the thread that runs it, so that a listener can make per-trial state current there (MLflow's
active run). Executor backends never call it: executors need nothing from a listener.

Rules for listeners:
- The loop waits for a listener's method to return: do slow work (network, disk) elsewhere, for
  example on a background thread fed by a queue, and finish it in ``run_finished``.
- A listener that raises does not stop the run: the loop logs a warning naming the listener and
  goes on without calling that listener again (``run_finished`` is still attempted).
- ``RunStart.metadata`` is a durable string map owned by the store: a value set there during
  ``run_started`` is written with the trial file (when there is one) and comes back in the
  ``RunStart`` of a resumed run, so a listener can continue what it began (the same MLflow parent
  run, for example).

Listeners are added for every run with ``add_listener_factory`` (``sparktune.mlflow.autolog()``
does this); a factory is called once per fmin with the ``RunStart`` and returns a listener or
None.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, MutableMapping, Protocol, Sequence, runtime_checkable

from sparktune._record import Trial

logger = logging.getLogger("sparktune")


@dataclass(frozen=True)
class RunStart:
    """What a listener learns when a run starts.

    Attributes:
        space: the compiled search space (``sparktune._space.SearchSpace``: ``labels``,
            ``dists`` (one distribution per label, with a readable ``repr``), ``root`` (the
            space as the user wrote it)).
        settings: the run's settings as plain values (algo, max_evals, timeout, loss_threshold,
            parallelism, backend, run_on, seed...), for display and logging.
        existing: the trials already in a final state in the store when the run starts (from
            an earlier fmin on the same store, or a resumed trial file), in tid order.
        metadata: the store's durable string map (see the module docstring).
        store_path: the trial file (``trials_save_file``) or None.
    """

    space: Any
    settings: dict[str, Any]
    existing: tuple[Trial, ...] = ()
    metadata: MutableMapping[str, str] = field(default_factory=dict)
    store_path: str | None = None


@dataclass(frozen=True)
class RunEnd:
    """What a listener learns when a run ends.

    Attributes:
        best: the finished trial with status ok and the lowest loss, or None.
        counts: number of trials by outcome: ``{"ok", "fail", "error", "cancelled", "total"}``
            (``fail``: the objective returned status fail; ``error``: it raised).
        stop_reason: why the loop stopped early (timeout, loss threshold, early stop, interrupt),
            or None when it ran to ``max_evals``.
        error: the exception fmin is about to raise, or None.
        elapsed: seconds from the start of the loop to its end.
    """

    best: Trial | None
    counts: dict[str, int]
    stop_reason: str | None = None
    error: BaseException | None = None
    elapsed: float = 0.0


@runtime_checkable
class RunListener(Protocol):
    """Follows one fmin run. Every method is optional in spirit: implement the ones you need and
    make the others no-ops."""

    def run_started(self, start: RunStart) -> None: ...

    def trials_finished(self, trials: Sequence[Trial]) -> None: ...

    def trial_context(self, tid: int) -> ContextManager[Any]: ...

    def run_finished(self, end: RunEnd) -> None: ...


ListenerFactory = Callable[[RunStart], "RunListener | None"]

_factories: dict[str, ListenerFactory] = {}
_factories_lock = threading.Lock()


def add_listener_factory(name: str, factory: ListenerFactory) -> None:
    """Call ``factory(start)`` at the start of every fmin run from now on; ``name`` replaces an
    earlier factory of the same name (so turning a feature on twice adds it once)."""
    with _factories_lock:
        _factories[name] = factory


def remove_listener_factory(name: str) -> None:
    """Stop adding the listener registered under ``name`` (no error when there is none)."""
    with _factories_lock:
        _factories.pop(name, None)


def listener_factories() -> list[tuple[str, ListenerFactory]]:
    with _factories_lock:
        return list(_factories.items())


class Listeners:
    """The loop's side: calls every listener, and drops (with a warning) one that raises."""

    def __init__(self, listeners: Sequence[Any] = ()) -> None:
        self._listeners: list[Any] = list(listeners)

    @classmethod
    def for_run(cls, start: RunStart, extra: Sequence[Any] = ()) -> Listeners:
        found: list[Any] = list(extra)
        for name, factory in listener_factories():
            try:
                listener = factory(start)
            except Exception as exc:  # noqa: BLE001 - a broken integration must not stop tuning
                logger.warning(
                    "listener %r could not start: %s: %s; the run goes on without it", name, type(exc).__name__, exc
                )
                continue
            if listener is not None:
                found.append(listener)
        return cls(found)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def _each(self, method: str, *args: Any, drop: bool = True) -> None:
        for listener in list(self._listeners):
            fn = getattr(listener, method, None)
            if fn is None:
                continue
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - see the module docstring
                logger.warning(
                    "listener %s failed in %s (%s: %s); the run goes on without it",
                    type(listener).__name__,
                    method,
                    type(exc).__name__,
                    exc,
                )
                if drop and listener in self._listeners:
                    self._listeners.remove(listener)

    def run_started(self, start: RunStart) -> None:
        self._each("run_started", start)

    def trials_finished(self, trials: Sequence[Trial]) -> None:
        if trials:
            self._each("trials_finished", list(trials))

    def run_finished(self, end: RunEnd) -> None:
        self._each("run_finished", end, drop=False)

    @contextlib.contextmanager
    def trial_context(self, tid: int) -> Any:
        """Enter every listener's ``trial_context(tid)``; a listener whose context fails to enter
        is skipped for this trial (with a warning), never failing the trial."""
        with contextlib.ExitStack() as stack:
            for listener in list(self._listeners):
                fn = getattr(listener, "trial_context", None)
                if fn is None:
                    continue
                try:
                    stack.enter_context(fn(tid))
                except Exception as exc:  # noqa: BLE001
                    logger.warning(
                        "listener %s: trial_context(%d) failed (%s: %s)",
                        type(listener).__name__,
                        tid,
                        type(exc).__name__,
                        exc,
                    )
            yield


__all__ = [
    "ListenerFactory",
    "Listeners",
    "RunEnd",
    "RunListener",
    "RunStart",
    "add_listener_factory",
    "remove_listener_factory",
]
