"""The fmin loop: free slots -> suggest(n) -> backend.submit -> record outcomes, until a stop rule.

Stop rules: ``max_evals`` (counting every trial in ``trials``, earlier runs included),
``timeout``, ``loss_threshold``, ``early_stop_fn``, Ctrl-C. On a stop, running trials are
cancelled through the backend and recorded as cancelled; nothing that finished is lost.
"""

from __future__ import annotations

import inspect
import logging
import numbers
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from sparktune._events import Listeners, RunEnd, RunStart
from sparktune._progress import progress_bar, verbosity
from sparktune._space import SearchSpace, as_generator, compile_space, space_eval
from sparktune._suggest import resolve_algo
from sparktune._trials import FINAL_STATES, Trial, Trials, from_epoch, utcnow
from sparktune.backends._base import CANCELLED, ERROR, OK, Backend, Outcome, Task
from sparktune.backends.local import InProcessBackend
from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    STATUS_FAIL,
)
from sparktune.exceptions import NO_EVALUATION_TASKS, AllTrialsFailed, InvalidAnnotatedParameter
from sparktune.storage import TrialFile, TrialFileError

logger = logging.getLogger("sparktune")


def validate_timeout(timeout: Any) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, numbers.Number) or not timeout > 0  # type: ignore[operator]
    ):
        raise ValueError(f"The timeout argument should be None or a positive value. Given value: {timeout}")


def validate_loss_threshold(loss_threshold: Any) -> None:
    if loss_threshold is not None and (
        isinstance(loss_threshold, bool) or not isinstance(loss_threshold, numbers.Number)
    ):
        raise ValueError(
            f"The loss_threshold argument should be None or a numeric value. Given value: {loss_threshold}"
        )


def _validate_count(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Number) or not float(value).is_integer():  # type: ignore[arg-type]
        raise TypeError(f"`{name}` must be an integer, got {name}={value!r}")
    if int(value) < minimum:  # type: ignore[call-overload]
        raise ValueError(f"`{name} >= {minimum}` must hold, got {name}={value!r}")
    return int(value)  # type: ignore[call-overload]


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
    _add_points(trials, points, space=None)
    return trials


def _add_points(trials: Trials, points: Any, space: SearchSpace | None) -> int:
    if not isinstance(points, (list, tuple)):
        raise TypeError(f"`points_to_evaluate` must be a list of dicts (label -> value), got {type(points).__name__}")
    existing = [dict(t.vals) for t in trials._records.values()]
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
        (tid,) = trials.new_trial_ids(1)
        trials._put(Trial(tid=tid, state=JOB_STATE_NEW, vals=vals))
        added += 1
    return added


def _load_trial_file(trials: Trials, tf: TrialFile, space: SearchSpace) -> set[int]:
    """Add the file's trials to ``trials`` (those not there yet); returns the tids in the file."""
    labels, records = tf.load()
    if labels != space.labels:
        raise TrialFileError(
            f"trial file {str(tf.path)!r} was written for labels {list(labels)}, but the search space has "
            f"{list(space.labels)}; use another trials_save_file for a different space"
        )
    n = 0
    for trial in records:
        if trial.tid not in trials._records:
            trials._put(trial)
            n += 1
    if n:
        logger.info("resumed %d trial(s) from %s", n, tf.path)
    return {t.tid for t in records}


def _settings(
    trials: Trials,
    propose: Callable[..., Any],
    options: Mapping[str, Any],
    max_evals: Any,
    timeout: Any,
    loss_threshold: Any,
    seed: int,
) -> dict[str, Any]:
    """The run's settings as plain values, for listeners (tracking, display)."""
    settings: dict[str, Any] = {
        "algo": getattr(propose, "__module__", "?").rsplit(".", 1)[-1].lstrip("_"),
        "max_evals": max_evals,
        "timeout": timeout,
        "loss_threshold": loss_threshold,
        "seed": seed,
        "trials": type(trials).__name__,
    }
    settings.update({f"algo.{k}": v for k, v in options.items() if isinstance(v, (int, float, str, bool))})
    for name in ("parallelism", "run_on", "trial_timeout", "synchronous", "max_retries", "transport"):
        if hasattr(trials, name):
            settings[name] = getattr(trials, name)
    return settings


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
    verbose: bool = True,
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
        algo: ``tpe.suggest`` (default), ``rand.suggest``, ``anneal.suggest`` or a
            ``functools.partial`` of one.
        max_evals: the most trials ``trials`` may hold when fmin returns, counting earlier ones
            (so a larger value on the same ``Trials`` resumes). None: no limit.
        timeout: seconds for the whole call; running trials are cancelled where the backend can.
        loss_threshold: stop once a trial reaches a loss at or below this.
        trials: the store (``Trials()`` by default, ``SparkTrials(...)`` for Spark).
        rstate: ``numpy.random.Generator`` (or seed); the same seed gives the same trials.
        catch_eval_exceptions: record a raising objective and go on; when False the exception
            is re-raised (after the trial is recorded). Spark backends always go on.
        return_argmin: return the best values (option index for choices); when False, return
            the best point of ``space`` (``space_eval``).
        points_to_evaluate: points (label -> value) to evaluate before suggesting; honoured
            also when ``trials`` is given, and not evaluated twice on resume.
        max_queue_len: how many configurations to suggest at once for in-process trials.
        early_stop_fn: ``fn(trials, *args) -> (stop, args)``, called after results arrive.
        trials_save_file: path of a durable trial file; written after every finished trial and
            reloaded at the start, so a killed run resumes.

    Returns:
        The best values (``return_argmin=True``) as plain ``int``/``float``, or the best point.

    Raises:
        AllTrialsFailed: ``return_argmin=True`` and no trial finished with status ok.
    """
    validate_timeout(timeout)
    validate_loss_threshold(loss_threshold)
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {fn!r}")
    if isinstance(space, str):
        if space != "annotated":
            raise ValueError(f'`space` must be a search space or "annotated", got {space!r}')
        space, fn = _annotated_space(fn)
    max_evals_n = sys.maxsize if max_evals is None else _validate_count("max_evals", max_evals, minimum=0)
    queue_len = _validate_count("max_queue_len", max_queue_len, minimum=1)
    if early_stop_fn is not None and not callable(early_stop_fn):
        raise TypeError(f"`early_stop_fn` must be callable or None, got {early_stop_fn!r}")
    if algo is None:
        from sparktune import tpe

        algo = tpe.suggest
        logger.warning("TPE is being used as the default algorithm.")
    propose, options = resolve_algo(algo)
    cspace = compile_space(space)

    tf: TrialFile | None = None
    if trials_save_file:
        tf = TrialFile(trials_save_file)
    if trials is None:
        trials = Trials()
    trials._set_labels(cspace.labels)
    in_file: set[int] = set()
    if tf is not None and tf.exists():
        in_file = _load_trial_file(trials, tf, cspace)
    for t in list(trials._records.values()):
        if t.state == JOB_STATE_RUNNING:  # left running by an interrupted earlier run: run it again
            trials._put(Trial(tid=t.tid, state=JOB_STATE_NEW, vals=t.vals))
    for t in trials._records.values():  # every queued point must fit the space before anything runs
        if t.state == JOB_STATE_NEW:
            cspace.vals_to_row(t.vals, what=f"trial {t.tid}")
    if points_to_evaluate is not None:
        _add_points(trials, points_to_evaluate, cspace)
    if tf is not None:
        tf.start(cspace.labels)
        for t in trials._records.values():  # a Trials passed in with results: make the file complete
            if t.state in FINAL_STATES and t.tid not in in_file:
                tf.append(t)

    timeout = timeout if timeout is not None else getattr(trials, "timeout", None)
    loss_threshold = loss_threshold if loss_threshold is not None else getattr(trials, "loss_threshold", None)
    validate_timeout(timeout)
    validate_loss_threshold(loss_threshold)

    if rstate is None:
        env_seed = os.environ.get("SPARKTUNE_FMIN_SEED") or os.environ.get("HYPEROPT_FMIN_SEED")
        rstate = int(env_seed) if env_seed else None
    rng = as_generator(rstate)
    seed = int(rng.integers(2**31 - 1))

    if pass_expr_memo_ctrl is None:
        pass_expr_memo_ctrl = bool(getattr(fn, "fmin_pass_expr_memo_ctrl", False))
    call = None
    if pass_expr_memo_ctrl:
        root, store = cspace.root, trials

        def call(f: Callable[..., Any], task: Task) -> Any:
            return f(expr=root, memo=dict(task.vals), ctrl=Ctrl(store, store._doc(task.tid)))

    start_info = RunStart(
        space=cspace,
        settings=_settings(trials, propose, options, max_evals, timeout, loss_threshold, seed),
        existing=tuple(t for t in trials._records_in_order() if t.state in FINAL_STATES),
        metadata=trials._metadata,
        store_path=None if tf is None else str(tf.path),
    )
    listeners = Listeners.for_run(start_info)
    trial_context = listeners.trial_context if listeners else None
    make_backend = getattr(trials, "_make_backend", None)
    backend: Backend = (
        make_backend(fn, call=call, trial_context=trial_context)
        if make_backend is not None
        else InProcessBackend(fn, call, trial_context)
    )
    to_run = max_evals_n - (len(trials._records) - trials._count(JOB_STATE_NEW))
    if backend.parallelism > 1 and 0 < to_run < backend.parallelism:
        logger.warning(
            "parallelism=%d is more than the %d trial(s) left to run (max_evals=%d): only %d will run at once",
            backend.parallelism,
            to_run,
            max_evals_n,
            to_run,
        )

    loop = _Loop(
        trials=trials,
        space=cspace,
        backend=backend,
        propose=propose,
        options=options,
        seed=seed,
        max_evals=max_evals_n,
        timeout=timeout,
        loss_threshold=loss_threshold,
        early_stop_fn=early_stop_fn,
        catch=catch_eval_exceptions,
        queue_len=queue_len,
        trial_file=tf,
        show_progressbar=show_progressbar if verbose else False,
        listeners=listeners,
    )
    listeners.run_started(start_info)
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

    if return_argmin:
        # Not len(trials.trials): that would build and keep a hyperopt document for every trial.
        if not trials._records:
            raise AllTrialsFailed(NO_EVALUATION_TASKS)
        return cspace.row_to_vals(cspace.vals_to_row(trials.argmin, what="the best trial"))
    try:
        best = trials.argmin
    except AllTrialsFailed:
        logger.warning("no trial finished with status 'ok'; returning None")
        return None
    return space_eval(cspace, best)


class _Loop:
    def __init__(
        self,
        *,
        trials: Trials,
        space: SearchSpace,
        backend: Backend,
        propose: Callable[..., np.ndarray],
        options: dict[str, Any],
        seed: int,
        max_evals: int,
        timeout: float | None,
        loss_threshold: float | None,
        early_stop_fn: Callable[..., Any] | None,
        catch: bool,
        queue_len: int,
        trial_file: TrialFile | None,
        show_progressbar: bool | Callable[..., Any],
        listeners: Listeners | None = None,
    ) -> None:
        self.trials = trials
        self.space = space
        self.backend = backend
        self.propose = propose
        self.options = options
        self.seed = seed
        self.max_evals = max_evals
        self.timeout = timeout
        self.loss_threshold = loss_threshold
        self.early_stop_fn = early_stop_fn
        self.early_stop_args: list[Any] = []
        # hyperopt's SparkTrials records raising objectives and goes on, whatever catch_eval_exceptions says
        self.catch = catch or bool(getattr(trials, "asynchronous", False))
        self.trial_file = trial_file
        self.parallelism = max(int(backend.parallelism), 1)
        self.slots = self.parallelism if self.parallelism > 1 else queue_len
        self.synchronous = bool(getattr(trials, "synchronous", False))
        self.trial_timeout: float | None = getattr(trials, "trial_timeout", None)
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
        return len(self.trials._records) - self.trials._count(JOB_STATE_NEW)

    def best_loss(self) -> float | None:
        return self.trials._best_loss()

    def new_tasks(self, n: int) -> list[Task]:
        trials, space = self.trials, self.space
        queued = sorted(t for t in trials._pending if trials._records[t].state == JOB_STATE_NEW)[:n]
        records = [trials._records[tid] for tid in queued]
        k = n - len(records)
        if k > 0:
            history = trials._history(space)
            tids = trials.new_trial_ids(k)
            rng = np.random.default_rng([self.seed, tids[0]])
            rows = np.asarray(self.propose(space, history, k, rng, **self.options), dtype=float)
            if rows.shape != (k, space.n_dims):
                raise RuntimeError(f"the suggester returned shape {rows.shape}, expected {(k, space.n_dims)}")
            for tid, row in zip(tids, rows):
                records.append(Trial(tid=tid, state=JOB_STATE_NEW, vals=space.row_to_vals(row)))
        tasks = []
        now = utcnow()
        for rec in records:
            trials._put(
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
        trials = self.trials
        self.running.pop(out.tid, None)
        prev = trials._records.get(out.tid)
        if prev is None:
            return
        if out.state == CANCELLED and out.attempts == 0:
            # never started (queued in-process): forget it, it will be suggested again if needed
            trials._delete(out.tid)
            return
        now = utcnow()
        book = prev.book_time
        if out.start is not None:
            book = from_epoch(out.start)
        if out.state == OK:
            result = dict(out.result or {})
            attachments = result.pop("attachments", None)
            if isinstance(attachments, dict):  # hyperopt keeps these apart from the result
                trials.attachments.setdefault(f"ATTACH::{out.tid}", {}).update(attachments)
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
        trials._put(trial)
        if self.trial_file is not None:
            self.trial_file.append(trial)
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
        """Pass the trials that reached a final state since the last call to the listeners."""
        if self.finished:
            batch, self.finished = self.finished, []
            self.listeners.trials_finished(batch)

    def run_end(self, error: BaseException | None = None) -> RunEnd:
        self.flush()
        best = self.trials._best_trial()
        return RunEnd(
            best=best,
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
            if not outs and getattr(self.backend, "returns_immediately", False):
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
            if self.stop_reason is None:
                free = self.slots - len(self.running)
                if self.synchronous and self.running:
                    free = 0
                room = self.max_evals - self.n_counted()
                n = min(free, room)
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
            outcomes = self.backend.wait(self.wait_timeout(start))
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
