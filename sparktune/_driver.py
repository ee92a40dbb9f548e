"""The fmin loop: free slots -> suggest(n) -> backend.submit -> record outcomes, until a stop rule.

``fmin`` is a short sequence of named steps (check the arguments, compile the space, open the
store, queue the given points, build the backend and the listeners, run the loop, answer). The
loop talks to the trial store only through the ``TrialStore`` contract (``sparktune._store``) and
to the engine only through the hooks a ``Trials`` declares (``_engine_settings``,
``_make_backend``).

Stop rules: ``max_evals`` (counting every trial in ``trials``, earlier runs included),
``timeout``, ``loss_threshold``, ``early_stop_fn``, Ctrl-C. On a stop, running trials are
cancelled through the backend and recorded as cancelled; nothing that finished is lost.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from sparktune import _validate
from sparktune._events import Listeners, RunEnd, RunStart
from sparktune._progress import progress_bar, verbosity
from sparktune._record import FINAL_STATES, Trial, from_epoch, utcnow
from sparktune._space import SearchSpace, as_generator, compile_space, space_eval
from sparktune._store import TrialStore
from sparktune._suggest import resolve_algo
from sparktune._trials import Trials
from sparktune.backends._base import CANCELLED, ERROR, OK, Backend, Outcome, Task
from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    STATUS_FAIL,
)
from sparktune.exceptions import NO_EVALUATION_TASKS, AllTrialsFailed, InvalidAnnotatedParameter

logger = logging.getLogger("sparktune")


def validate_timeout(timeout: Any) -> None:
    """hyperopt's ``fmin.validate_timeout``."""
    _validate.timeout(timeout)


def validate_loss_threshold(loss_threshold: Any) -> None:
    """hyperopt's ``fmin.validate_loss_threshold``."""
    _validate.loss_threshold(loss_threshold)


@dataclass
class Ctrl:
    """What ``pass_expr_memo_ctrl`` objectives get as ``ctrl``: the store and the current trial."""

    trials: Trials
    current_trial: dict[str, Any]

    @property
    def attachments(self) -> dict[str, Any]:
        return self.trials.trial_attachments(self.current_trial)


def _annotated_space(fn: Callable[..., Any]) -> tuple[dict[str, Any], Callable[..., Any]]:
    from sparktune._expr import Expr

    params = inspect.signature(fn).parameters
    try:  # string annotations (``from __future__ import annotations``) are evaluated in fn's globals
        annotations = inspect.get_annotations(fn, eval_str=True)
    except Exception:  # noqa: BLE001 - fall back to the raw annotations; the check below names the bad one
        annotations = dict(getattr(fn, "__annotations__", {}))
    space: dict[str, Any] = {}
    for name in params:
        ann = annotations.get(name)
        if not isinstance(ann, Expr):
            raise InvalidAnnotatedParameter(
                f'space="annotated" needs every parameter of the objective annotated with an hp '
                f"expression; parameter {name!r} has annotation {ann!r}"
            )
        space[name] = ann

    def wrapped(kwargs: dict[str, Any]) -> Any:
        return fn(**kwargs)

    return space, wrapped


def generate_trials_to_calculate(points: Sequence[Mapping[str, Any]]) -> Trials:
    """A ``Trials`` holding ``points`` (label -> value, option index for choices) to evaluate first."""
    trials = Trials()
    _add_points(trials.store, points, space=None)
    return trials


def _add_points(store: TrialStore, points: Any, space: SearchSpace | None) -> int:
    """Queue ``points`` as NEW trials, skipping those the store already holds (a resume)."""
    if not isinstance(points, (list, tuple)):
        raise TypeError(f"`points_to_evaluate` must be a list of dicts (label -> value), got {type(points).__name__}")
    existing = [dict(t.vals) for t in store.records()]
    added = 0
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise TypeError(f"points_to_evaluate[{i}] must be a dict (label -> value), got {point!r}")
        if space is not None:
            vals = space.row_to_vals(space.vals_to_row(point, what=f"points_to_evaluate[{i}]"))
        else:
            vals = {k: (v[0] if isinstance(v, (list, tuple)) else v) for k, v in point.items()}
        if vals in existing:
            continue  # already evaluated or queued (e.g. a resumed run): do not run it twice
        existing.append(vals)
        (tid,) = store.new_tids(1)
        store.put(Trial(tid=tid, state=JOB_STATE_NEW, vals=vals))
        added += 1
    store.sync()
    return added


@dataclass(frozen=True)
class _Limits:
    """fmin's stop rules and queue size, checked once."""

    max_evals: int
    timeout: float | None
    loss_threshold: float | None
    queue_len: int
    early_stop_fn: Callable[..., Any] | None


def _check_arguments(
    fn: Any, max_evals: Any, timeout: Any, loss_threshold: Any, max_queue_len: Any, early_stop_fn: Any
) -> _Limits:
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {fn!r}")
    return _Limits(
        max_evals=sys.maxsize if max_evals is None else _validate.count("max_evals", max_evals, minimum=0),
        timeout=_validate.timeout(timeout),
        loss_threshold=_validate.loss_threshold(loss_threshold),
        queue_len=_validate.count("max_queue_len", max_queue_len, minimum=1),
        early_stop_fn=_validate.optional_callable("early_stop_fn", early_stop_fn),
    )


def _objective_and_space(fn: Callable[..., Any], space: Any) -> tuple[Callable[..., Any], Any]:
    if isinstance(space, str):
        if space != "annotated":
            raise ValueError(f'`space` must be a search space or "annotated", got {space!r}')
        space, fn = _annotated_space(fn)
    return fn, space


def _algorithm(algo: Any) -> tuple[Callable[..., np.ndarray], dict[str, Any]]:
    if algo is None:
        from sparktune import tpe

        algo = tpe.suggest
        logger.warning("TPE is being used as the default algorithm.")
    return resolve_algo(algo)


def _open_store(trials: Trials, space: SearchSpace, trials_save_file: Any) -> str | None:
    """Back ``trials``' store with the trial file (loading it: a resume) and make the queued trials
    ready: trials left running by an interrupted run are queued again, and every queued point must
    fit the space before anything runs. Returns the trial file's path, or None."""
    store = trials.store
    trials._set_labels(space.labels)
    path = None
    if trials_save_file:
        from sparktune.storage import open_trial_log

        if not hasattr(store, "attach"):
            raise TypeError(f"trials_save_file needs a store that can attach a log; {type(store).__name__} cannot")
        log = open_trial_log(trials_save_file)
        n = store.attach(log, space.labels)  # type: ignore[attr-defined]
        path = str(log.path)
        if n:
            logger.info("resumed %d trial(s) from %s", n, path)
    for t in store.records():
        if t.state == JOB_STATE_RUNNING:  # left running by an interrupted earlier run: run it again
            store.put(Trial(tid=t.tid, state=JOB_STATE_NEW, vals=t.vals))
    for t in store.queued():
        space.vals_to_row(t.vals, what=f"trial {t.tid}")
    store.sync()
    return path


def _close_store(trials: Trials, path: str | None) -> None:
    if path is not None:
        trials.store.detach()  # type: ignore[attr-defined]


def _seed(rstate: Any) -> int:
    if rstate is None:
        env_seed = os.environ.get("SPARKTUNE_FMIN_SEED") or os.environ.get("HYPEROPT_FMIN_SEED")
        rstate = int(env_seed) if env_seed else None
    return int(as_generator(rstate).integers(2**31 - 1))


def _ctrl_call(
    fn: Callable[..., Any], pass_expr_memo_ctrl: bool | None, space: SearchSpace, trials: Trials
) -> Callable[[Callable[..., Any], Task], Any] | None:
    """hyperopt's ``pass_expr_memo_ctrl``: how to call such an objective, or None."""
    if pass_expr_memo_ctrl is None:
        pass_expr_memo_ctrl = bool(getattr(fn, "fmin_pass_expr_memo_ctrl", False))
    if not pass_expr_memo_ctrl:
        return None
    root = space.root

    def call(f: Callable[..., Any], task: Task) -> Any:
        return f(expr=root, memo=dict(task.vals), ctrl=Ctrl(trials, trials._doc(task.tid)))

    return call


def _settings(
    trials: Trials, propose: Callable[..., Any], options: Mapping[str, Any], limits: _Limits, seed: int
) -> dict[str, Any]:
    """The run's settings as plain values, for listeners (tracking, display)."""
    settings: dict[str, Any] = {
        "algo": getattr(propose, "__module__", "?").rsplit(".", 1)[-1].lstrip("_"),
        "max_evals": None if limits.max_evals == sys.maxsize else limits.max_evals,
        "timeout": limits.timeout,
        "loss_threshold": limits.loss_threshold,
        "seed": seed,
        "trials": type(trials).__name__,
    }
    settings.update({f"algo.{k}": v for k, v in options.items() if isinstance(v, (int, float, str, bool))})
    settings.update(trials._engine_description())
    return settings


def _warn_parallelism(backend: Backend, store: TrialStore, max_evals: int) -> None:
    to_run = max_evals - (store.count() - store.count(JOB_STATE_NEW))
    if backend.parallelism > 1 and 0 < to_run < backend.parallelism:
        logger.warning(
            "parallelism=%d is more than the %d trial(s) left to run (max_evals=%d): only %d will run at once",
            backend.parallelism,
            to_run,
            max_evals,
            to_run,
        )


def _answer(trials: Trials, space: SearchSpace, return_argmin: bool) -> Any:
    if return_argmin:
        # Not len(trials.trials): that would build and keep a hyperopt document for every trial.
        if not trials.store.count():
            raise AllTrialsFailed(NO_EVALUATION_TASKS)
        return space.row_to_vals(space.vals_to_row(trials.argmin, what="the best trial"))
    try:
        best = trials.argmin
    except AllTrialsFailed:
        logger.warning("no trial finished with status 'ok'; returning None")
        return None
    return space_eval(space, best)


def fmin(
    fn: Callable[..., Any],
    space: Any,
    algo: Any = None,
    max_evals: int | None = None,
    timeout: float | None = None,
    loss_threshold: float | None = None,
    trials: Trials | None = None,
    rstate: Any = None,
    allow_trials_fmin: bool = True,
    pass_expr_memo_ctrl: bool | None = None,
    catch_eval_exceptions: bool = False,
    verbose: bool | int = True,
    return_argmin: bool = True,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    max_queue_len: int = 1,
    show_progressbar: bool | Callable[..., Any] = True,
    early_stop_fn: Callable[..., Any] | None = None,
    trials_save_file: str | os.PathLike[str] = "",
) -> Any:
    """Minimise ``fn`` over ``space``; hyperopt's ``fmin`` with the same arguments and results.

    Args:
        fn: the objective; called with one sample of ``space``; returns a loss or a dict with
            ``loss`` and ``status``.
        space: the search space, or ``"annotated"`` to read it from ``fn``'s annotations.
        algo: ``tpe.suggest`` (default), ``rand.suggest``, ``anneal.suggest``, ``mix.suggest`` or
            a ``functools.partial`` of one.
        max_evals: the most trials ``trials`` may hold when fmin returns, counting earlier ones
            (so a larger value on the same ``Trials`` resumes). None: no limit.
        timeout: seconds for the whole call; running trials are cancelled where the backend can.
        loss_threshold: stop once a trial reaches a loss at or below this.
        trials: the store (``Trials()`` by default, ``SparkTrials(...)`` for Spark).
        rstate: ``numpy.random.Generator`` (or seed); the same seed gives the same trials.
        allow_trials_fmin: accepted and ignored: every store goes through this same loop.
        pass_expr_memo_ctrl: call ``fn(expr=, memo=, ctrl=)`` as hyperopt does (None: read
            ``fn.fmin_pass_expr_memo_ctrl``).
        catch_eval_exceptions: record a raising objective and go on; when False the exception
            is re-raised (after the trial is recorded). Spark backends always go on.
        verbose: ``False``/``0``: no progress display and warnings only from sparktune's
            logger; ``True``/``1``: progress and INFO lines (see ``sparktune._progress.verbosity``);
            ``2``: DEBUG too.
        return_argmin: return the best values (option index for choices); when False, return
            the best point of ``space`` (``space_eval``).
        points_to_evaluate: points (label -> value) to evaluate before suggesting; honoured
            also when ``trials`` is given, and not evaluated twice on resume.
        max_queue_len: how many configurations to suggest at once for in-process trials.
        show_progressbar: ``True`` (live progress where a person watches), ``False``, or a
            hyperopt progress callback.
        early_stop_fn: ``fn(trials, *args) -> (stop, args)``, called after results arrive.
        trials_save_file: path of a durable trial log: a JSON Lines file, or a directory of
            segment files for object-storage mounts (``/Volumes/...``, ``/dbfs/...``); written
            as trials finish and reloaded at the start, so a killed run resumes (see
            ``sparktune.storage``).

    Returns:
        The best values (``return_argmin=True``) as plain ``int``/``float``, or the best point.

    Raises:
        AllTrialsFailed: ``return_argmin=True`` and no trial finished with status ok.
    """
    limits = _check_arguments(fn, max_evals, timeout, loss_threshold, max_queue_len, early_stop_fn)
    fn, space = _objective_and_space(fn, space)
    propose, options = _algorithm(algo)
    cspace = compile_space(space)
    trials = Trials() if trials is None else trials
    engine = trials._engine_settings()
    limits = _Limits(
        max_evals=limits.max_evals,
        timeout=limits.timeout if limits.timeout is not None else engine.timeout,
        loss_threshold=limits.loss_threshold if limits.loss_threshold is not None else engine.loss_threshold,
        queue_len=limits.queue_len,
        early_stop_fn=limits.early_stop_fn,
    )
    seed = _seed(rstate)
    call = _ctrl_call(fn, pass_expr_memo_ctrl, cspace, trials)

    path = _open_store(trials, cspace, trials_save_file)
    try:
        if points_to_evaluate is not None:
            _add_points(trials.store, points_to_evaluate, cspace)
        start = RunStart(
            space=cspace,
            settings=_settings(trials, propose, options, limits, seed),
            existing=tuple(t for t in trials.store.records() if t.state in FINAL_STATES),
            metadata=trials.store.metadata,
            store_path=path,
        )
        listeners = Listeners.for_run(start)
        backend = trials._make_backend(fn, call=call, trial_context=listeners.trial_context if listeners else None)
        _warn_parallelism(backend, trials.store, limits.max_evals)
        loop = _Loop(
            trials=trials,
            space=cspace,
            backend=backend,
            propose=propose,
            options=options,
            seed=seed,
            limits=limits,
            engine=engine,
            catch=catch_eval_exceptions,
            show_progressbar=show_progressbar if verbose else False,
            listeners=listeners,
        )
        listeners.run_started(start)
        with verbosity(verbose):
            try:
                loop.run()
            except BaseException as exc:
                listeners.run_finished(loop.run_end(error=exc))
                raise
            listeners.run_finished(loop.run_end())
            counts = trials._outcome_counts()
            logger.info(
                "Total Trials: %d: %d succeeded, %d failed, %d cancelled.",
                counts["total"],
                counts["ok"],
                counts["fail"] + counts["error"],
                counts["cancelled"],
            )
    finally:
        _close_store(trials, path)
    return _answer(trials, cspace, return_argmin)


# Most trials proposed and submitted per suggester call while further slots wait (see _Loop).
_SUBMIT_CHUNK = 32


class _Loop:
    """One run of the loop over a store and a backend (built by ``fmin``)."""

    def __init__(
        self,
        *,
        trials: Trials,
        space: SearchSpace,
        backend: Backend,
        propose: Callable[..., np.ndarray],
        options: dict[str, Any],
        seed: int,
        limits: _Limits,
        engine: Any,
        catch: bool,
        show_progressbar: bool | Callable[..., Any],
        listeners: Listeners | None = None,
    ) -> None:
        self.trials = trials
        self.store: TrialStore = trials.store
        self.space = space
        self.backend = backend
        self.propose = propose
        self.options = options
        self.seed = seed
        self.max_evals = limits.max_evals
        self.timeout = limits.timeout
        self.loss_threshold = limits.loss_threshold
        self.early_stop_fn = limits.early_stop_fn
        self.early_stop_args: list[Any] = []
        self.catch = catch or engine.record_failures
        self.parallelism = max(int(backend.parallelism), 1)
        self.slots = self.parallelism if self.parallelism > 1 else limits.queue_len
        # Many free slots at once (a wave of trials ending on a big cluster): suggest and submit
        # in chunks, so the first slots start while the rest of the batch is being proposed,
        # instead of every slot waiting for the whole batch (TPE proposes one member at a time).
        self.chunk = self.slots if backend.returns_immediately or engine.synchronous else _SUBMIT_CHUNK
        self.synchronous = engine.synchronous
        self.trial_timeout: float | None = engine.trial_timeout
        self.running: dict[int, float] = {}  # tid -> monotonic submit time
        self.stop_reason: str | None = None
        self.show_progressbar = show_progressbar
        self.listeners = listeners if listeners is not None else Listeners()
        self.finished: list[Trial] = []  # final records not yet passed to the listeners
        self.n_failed = 0
        self.started_at = time.monotonic()

    # -- helpers --------------------------------------------------------------------------

    def n_counted(self) -> int:
        """Trials that count towards max_evals: all recorded except queued points not yet run."""
        return self.store.count() - self.store.count(JOB_STATE_NEW)

    def best_loss(self) -> float | None:
        best = self.store.best()
        return None if best is None else best.loss

    def new_tasks(self, n: int) -> list[Task]:
        store, space = self.store, self.space
        records = store.queued()[:n]
        k = n - len(records)
        if k > 0:
            history = store.history(space)
            tids = store.new_tids(k)
            rng = np.random.default_rng([self.seed, tids[0]])
            rows = np.asarray(self.propose(space, history, k, rng, **self.options), dtype=float)
            if rows.shape != (k, space.n_dims):
                raise RuntimeError(f"the suggester returned shape {rows.shape}, expected {(k, space.n_dims)}")
            for tid, row in zip(tids, rows):
                records.append(Trial(tid=tid, state=JOB_STATE_NEW, vals=space.row_to_vals(row)))
        tasks = []
        now = utcnow()
        for rec in records:
            store.put(
                Trial(
                    tid=rec.tid,
                    state=JOB_STATE_RUNNING,
                    vals=rec.vals,
                    result={"status": "running"},
                    book_time=now,
                    refresh_time=now,
                )
            )
            try:
                params = space.evaluate(rec.vals)
            except Exception as exc:  # noqa: BLE001 - a user's scope function raised: a failed trial
                import traceback

                self.record(
                    Outcome(
                        tid=rec.tid,
                        state=ERROR,
                        error=(type(exc).__name__, str(exc)),
                        traceback=traceback.format_exc(),
                        exception=exc,
                    )
                )
                continue
            tasks.append(Task(tid=rec.tid, params=params, vals=dict(rec.vals)))
        return tasks

    def record(self, out: Outcome) -> None:
        store = self.store
        self.running.pop(out.tid, None)
        prev = store.get(out.tid)
        if prev is None:
            return
        if out.state == CANCELLED and out.attempts == 0:
            # never started (queued in-process): forget it, it will be suggested again if needed
            store.delete(out.tid)
            return
        now = utcnow()
        book = prev.book_time
        if out.start is not None:
            book = from_epoch(out.start)
        if out.state == OK:
            result = dict(out.result or {})
            attachments = result.pop("attachments", None)
            if isinstance(attachments, dict):  # hyperopt keeps these apart from the result
                self.trials.attachments.setdefault(f"ATTACH::{out.tid}", {}).update(attachments)
            trial = Trial(
                tid=out.tid,
                state=JOB_STATE_DONE,
                vals=prev.vals,
                result=result,
                book_time=book,
                refresh_time=now,
                attempts=out.attempts,
            )
        elif out.state == ERROR:
            trial = Trial(
                tid=out.tid,
                state=JOB_STATE_ERROR,
                vals=prev.vals,
                result={"status": STATUS_FAIL},
                error=out.error or ("Exception", ""),
                traceback=out.traceback,
                book_time=book,
                refresh_time=now,
                attempts=out.attempts,
            )
            logger.warning("trial %d failed: %s: %s", out.tid, *(out.error or ("Exception", "")))
        else:
            trial = Trial(
                tid=out.tid,
                state=JOB_STATE_CANCEL,
                vals=prev.vals,
                result={"status": STATUS_FAIL},
                error=out.error or ("Cancelled", self.stop_reason or "cancelled"),
                book_time=book,
                refresh_time=now,
                attempts=out.attempts,
            )
        store.put(trial)
        self.finished.append(trial)
        if trial.state == JOB_STATE_ERROR or trial.result.get("status") == STATUS_FAIL:
            self.n_failed += 1
        if out.state == ERROR and out.exception is not None and not self.catch:
            raise _Reraise(out.exception)

    def check_stop(self, start: float) -> None:
        if self.stop_reason is not None:
            return
        if self.timeout is not None and time.monotonic() - start >= self.timeout:
            self.stop_reason = f"timeout of {self.timeout} s reached"
        elif self.loss_threshold is not None:
            best = self.best_loss()
            if best is not None and best <= self.loss_threshold:
                self.stop_reason = f"loss threshold {self.loss_threshold} reached"

    def run_early_stop(self) -> None:
        if self.early_stop_fn is None or self.stop_reason is not None:
            return
        stop, args = self.early_stop_fn(self.trials, *self.early_stop_args)
        self.early_stop_args = list(args) if args is not None else []
        if stop:
            self.stop_reason = "early_stop_fn asked to stop"

    def cancel_running(self) -> None:
        if self.running:
            self.backend.cancel(sorted(self.running))

    def wait_timeout(self, start: float) -> float | None:
        deadlines = []
        if self.timeout is not None and self.stop_reason is None:
            deadlines.append(start + self.timeout)
        if self.trial_timeout is not None and self.running:
            deadlines.append(min(self.running.values()) + self.trial_timeout)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    # -- the loop -------------------------------------------------------------------------

    def show(self, bar: Any) -> None:
        bar.show(self.n_counted(), running=len(self.running), failed=self.n_failed, best=self.best_loss())

    def flush(self) -> None:
        """Make the records durable, then pass the trials that reached a final state since the
        last call to the listeners (so nobody hears of a trial a crash could still lose)."""
        self.store.sync()
        if self.finished:
            batch, self.finished = self.finished, []
            self.listeners.trials_finished(batch)

    def run_end(self, error: BaseException | None = None) -> RunEnd:
        self.flush()
        return RunEnd(
            best=self.store.best(),
            counts=self.trials._outcome_counts(),
            stop_reason=self.stop_reason,
            error=error,
            elapsed=time.monotonic() - self.started_at,
        )

    def run(self) -> None:
        start = self.started_at = time.monotonic()
        bar = progress_bar(
            self.show_progressbar,
            total=None if self.max_evals == sys.maxsize else self.max_evals,
            initial=self.n_counted(),
        )
        try:
            try:
                self._run(start, bar)
            except KeyboardInterrupt:
                self.stop_reason = "interrupted"
                logger.warning("interrupted: cancelling %d running trial(s)", len(self.running))
                self.cancel_running()
                self.drain(grace=30.0)
                if self.best_loss() is None:
                    raise
        except _Reraise as r:
            self.cancel_running()
            self.drain(grace=5.0, reraise=False)
            raise r.exc from None
        finally:
            try:
                self.backend.close()
            finally:
                bar.show(self.n_counted(), running=0, failed=self.n_failed, best=self.best_loss())
                bar.close()
                self.flush()
        if self.stop_reason:
            logger.info("fmin stopped: %s", self.stop_reason)

    def drain(self, grace: float, reraise: bool = True) -> None:
        deadline = time.monotonic() + grace
        while self.running and time.monotonic() < deadline:
            outs = self.backend.wait(max(0.0, deadline - time.monotonic()))
            if not outs and self.backend.returns_immediately:
                break
            for out in outs:
                try:
                    self.record(out)
                except _Reraise:
                    if reraise:
                        raise
        for tid in list(self.running):  # the backend did not report them: record them as cancelled
            self.record(Outcome(tid=tid, state=CANCELLED, error=("Cancelled", self.stop_reason or "cancelled")))

    def _run(self, start: float, bar: Any) -> None:
        while True:
            self.check_stop(start)
            more_to_submit = False
            if self.stop_reason is None:
                free = self.slots - len(self.running)
                if self.synchronous and self.running:
                    free = 0
                room = self.max_evals - self.n_counted()
                n = min(free, room, self.chunk)
                more_to_submit = 0 < n < min(free, room)
                if n > 0:
                    tasks = self.new_tasks(n)
                    now = time.monotonic()
                    for task in tasks:
                        self.running[task.tid] = now
                    if tasks:
                        self.backend.submit(tasks)
                        bar.show(
                            self.n_counted(), running=len(self.running), failed=self.n_failed, best=self.best_loss()
                        )
            elif self.running:
                self.cancel_running()
                self.drain(grace=60.0)
            if not self.running:
                if self.stop_reason is not None or self.max_evals - self.n_counted() <= 0:
                    return
                continue
            outcomes = self.backend.wait(0.0 if more_to_submit else self.wait_timeout(start))
            try:
                for out in outcomes:
                    self.record(out)
            finally:
                if outcomes:
                    self.show(bar)
                self.flush()
            if self.trial_timeout is not None:
                now = time.monotonic()
                late = [tid for tid, t0 in self.running.items() if now - t0 >= self.trial_timeout]
                if late:
                    logger.warning("trial(s) %s exceeded trial_timeout=%s s: cancelling", late, self.trial_timeout)
                    self.backend.cancel(late)
            if outcomes:
                self.check_stop(start)
                self.run_early_stop()


class _Reraise(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


__all__ = ["fmin", "generate_trials_to_calculate", "space_eval"]
