"""MLflow tracking for fmin: one parent run per fmin, one nested child run per trial.

Turn it on once per process, before ``fmin``::

    import sparktune.mlflow
    sparktune.mlflow.autolog()                 # every fmin from now on is logged
    fmin(objective, space, max_evals=100, trials=SparkTrials(parallelism=4))
    sparktune.mlflow.autolog(disable=True)     # and off again

Needs ``pip install 'sparktune[mlflow]'`` (MLflow 2.x or 3.x). Runs go to MLflow's current tracking
URI (``mlflow.set_tracking_uri`` / ``MLFLOW_TRACKING_URI``) as it is when ``fmin`` starts.

What is logged
--------------
The **parent run** (one per fmin; named ``run_name``, default ``sparktune``):

- params ``space.<label>``: the label's distribution, e.g. ``Uniform(label='x', low=0.0, high=1.0,
  ...)``, or ``choice(['a', 'b'])`` for a choice of plain options;
  and the run's settings (``algo``, ``max_evals``, ``timeout``, ``parallelism``, ``run_on``...),
  written when the parent run is created. A resumed run whose settings changed (a larger
  ``max_evals``) keeps the first values as params and records the new ones as tags
  ``sparktune.setting.<key>``, because MLflow params cannot change.
- metric ``best_loss``; tags ``best.<label>`` (the best trial's values, shown as the children's
  params are), ``sparktune.best_tid`` and ``sparktune.best_run_id``. They are tags and metrics,
  not params, because a resumed run may find a better trial and MLflow params cannot change.
- metrics ``trials_total``, ``trials_ok``, ``trials_failed`` (status fail or raised),
  ``trials_cancelled``; tags ``sparktune.stop_reason`` and ``sparktune.error`` when set.
- tag ``sparktune.trial_file``: the absolute path of ``trials_save_file``, if any.
- run status FINISHED, or FAILED when fmin raised (KILLED for Ctrl-C).

Each **child run** (one per trial that reached a final state, failed and cancelled ones
included; named ``trial-<tid>``):

- params: the trial's values by label, for the labels active in it. For ``hp.choice`` /
  ``hp.pchoice`` the param is the chosen option itself when every option of that choice is a
  plain scalar (str, int, float, bool or None), and the option's index otherwise (options that
  are sub-spaces, lists, objects). Numbers are written with ``str`` (full float precision).
- metric ``loss`` (trials with status ok), ``duration_s`` (refresh time minus book time) and
  every other finite number at the top level of the objective's result dict (``true_loss``,
  ``accuracy``...). This is how an objective running on Spark executors reports extra metrics.
- tags ``mlflow.parentRunId``, ``sparktune.tid``, ``sparktune.state`` (``done``, ``error``,
  ``cancelled``), ``sparktune.status`` (``ok``, ``fail``), ``sparktune.attempts``, and for trials
  that raised or were cancelled ``sparktune.error_type``, ``sparktune.error_message`` and
  ``sparktune.traceback`` (truncated to MLflow's length limits, keeping the traceback's end).
- start and end time: the trial's book and refresh times; status FINISHED (ok), FAILED (status
  fail or raised) or KILLED (cancelled).

Names that MLflow does not accept as keys (characters other than letters, digits, ``_ - . /``
and space, or more than 250 characters) are written with those characters replaced by ``_``.

Nesting under an active run
---------------------------
When an MLflow run is active in the thread that calls ``fmin`` (``with mlflow.start_run():``),
the parent run is created as a child of it, so the trials appear under the user's run, one
level further down. hyperopt on Databricks (and MLlib's tuning) instead logged into the active
run itself and mangled clashing param names with UUIDs when fmin was called twice in one run;
a parent per fmin keeps each call's space, settings and best values apart under stable names,
and the user's run is never modified or ended by sparktune.

Logging off the loop's path
---------------------------
The loop hands finished trials over in a queue; background threads on the driver (one for a
database or file store, four for an HTTP tracking server) create and fill the runs with
``MlflowClient.create_run`` (with the trial's start time), ``log_batch`` and ``set_terminated``
(with its end time). Executors never talk to MLflow and need no credentials for this.

A tracking server that is down or too slow gives one warning; tuning goes on and nothing is
dropped: the threads retry with backoff. At the end ``fmin`` waits up to ``flush_timeout``
seconds for what is left, then warns with the number of trials that could not be logged.
MLflow's HTTP client itself retries each request for about four minutes before it reports a
failure (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, default 7; ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``,
default 2): lower those to see a dead server sooner. No error of MLflow ever reaches ``fmin``.

Objectives that log to MLflow themselves
----------------------------------------
With in-process ``Trials`` and ``SparkTrials(run_on="driver")`` the trial's child run is created
before the objective is called and is the active run in the thread that calls it, so
``mlflow.log_metric(...)``, ``mlflow.sklearn.autolog()`` and the like land in the trial's run.
This needs MLflow 2.18 or later for ``run_on="driver"`` (earlier versions keep one active run
for the whole process, not one per thread; there only in-process trials get it).

With ``SparkTrials(run_on="executors")`` (the default) the objective runs in a Python worker on
an executor, where no run of sparktune is active: whatever it logs goes wherever MLflow is
configured in that executor process (``mlflow.log_metric`` there starts a new run of its own; with
no tracking URI set, in ``./mlruns`` on the executor's disk), not to the trial's child run.
Return the numbers in the result dict instead (``{"loss": l, "status": "ok", "accuracy": a}``):
they are logged to the child run on the driver.

Resuming
--------
The parent run's id is kept in the store's durable metadata (``sparktune.mlflow.parent_run_id``),
which is written with ``trials_save_file`` (set on the loop's thread with the first batch of
finished trials after the parent run exists): a run resumed from its trial file, or a second
``fmin`` on the same ``Trials``, continues the same parent. If the metadata has no id but the
run resumes trials, the parent is looked up by its ``sparktune.trial_file`` tag. Before logging,
the parent's existing child runs are listed (paged, no limit of 1,000) so no trial is logged
twice; finished trials of the store that have no child run yet are logged then.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import re
import threading
import time
import uuid
from typing import Any, Iterator, Mapping, Sequence

from sparktune._events import RunEnd, RunStart, add_listener_factory, remove_listener_factory
from sparktune._record import Trial
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR, STATUS_OK

logger = logging.getLogger("sparktune")

FACTORY_NAME = "mlflow"
META_PARENT = "sparktune.mlflow.parent_run_id"
TAG_TID = "sparktune.tid"
TAG_TRIAL_FILE = "sparktune.trial_file"
TAG_RUN_KEY = "sparktune.run_key"  # finds a run whose creation timed out but happened
TAG_PARENT = "mlflow.parentRunId"
TAG_RUN_NAME = "mlflow.runName"

# MLflow 2.0's limits (later versions accept more): values longer than these are truncated.
MAX_KEY = 250
MAX_PARAM_VALUE = 500
MAX_TAG_VALUE = 5000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
SEARCH_PAGE = 1000

_STATE_NAMES = {JOB_STATE_DONE: "done", JOB_STATE_ERROR: "error", JOB_STATE_CANCEL: "cancelled"}
_KEY_BAD = re.compile(r"[^\w.\- /]")


def _import_mlflow() -> Any:
    try:
        import mlflow
    except ImportError as exc:
        raise ImportError(
            f"MLflow tracking needs the mlflow package ({exc}); install it with: pip install 'sparktune[mlflow]'"
        ) from None
    return mlflow


def autolog(
    disable: bool = False,
    *,
    experiment_name: str | None = None,
    run_name: str = "sparktune",
    log_every_trial: bool = True,
    activate_trial_runs: bool = True,
    flush_timeout: float = 60.0,
    start_timeout: float = 30.0,
    threads: int | None = None,
) -> None:
    """Log every following ``fmin`` call to MLflow (see the module docstring for what is logged).

    Args:
        disable: turn the logging off again (for fmin calls that start from now on).
        experiment_name: the MLflow experiment of the parent runs, created if missing. None: the
            experiment of the active run if there is one, else MLflow's current experiment
            (``mlflow.set_experiment``, ``MLFLOW_EXPERIMENT_NAME``/``_ID``, or Default).
        run_name: the parent run's name.
        log_every_trial: one child run per trial. When False, only the parent run is written,
            with the ok trials' losses as its metric ``loss`` (step = trial id).
        activate_trial_runs: make the trial's child run the active MLflow run around the
            objective where it runs in this process (in-process ``Trials``,
            ``run_on="driver"``); this creates the child run before the objective is called.
        flush_timeout: seconds ``fmin`` waits at its end for logging still queued or retried.
        start_timeout: seconds an objective's thread waits for the parent run to exist before
            it runs without an active child run (a tracking server that does not answer).
        threads: background logging threads; None: 4 for an HTTP(S) or Databricks tracking
            URI, 1 for a database or file store (which write one transaction at a time).

    Raises:
        ImportError: mlflow is not installed (names the extra to install).
        ValueError: a timeout is not a positive number, or ``threads`` is not a positive int.
    """
    if disable:
        remove_listener_factory(FACTORY_NAME)
        return
    _import_mlflow()
    for name, value in (("flush_timeout", flush_timeout), ("start_timeout", start_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"`{name} > 0` must hold, got {name}={value!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"`threads` must be None or an int >= 1, got threads={threads!r}")
    if experiment_name is not None and (not isinstance(experiment_name, str) or not experiment_name):
        raise ValueError(f"`experiment_name` must be a non-empty str or None, got {experiment_name!r}")
    options = dict(
        experiment_name=experiment_name,
        run_name=str(run_name),
        log_every_trial=bool(log_every_trial),
        activate_trial_runs=bool(activate_trial_runs),
        flush_timeout=float(flush_timeout),
        start_timeout=float(start_timeout),
        threads=threads,
    )

    def factory(start: RunStart) -> MlflowListener:
        return MlflowListener(**options)  # type: ignore[arg-type]

    add_listener_factory(FACTORY_NAME, factory)


def is_enabled() -> bool:
    """Whether ``autolog()`` is on (a factory named ``mlflow`` is registered)."""
    from sparktune._events import listener_factories

    return any(name == FACTORY_NAME for name, _ in listener_factories())


# -- values as MLflow writes them ---------------------------------------------------------------


def _key(name: str) -> str:
    """An MLflow-valid key: bad characters -> ``_``, no path tricks, at most 250 characters."""
    key = _KEY_BAD.sub("_", str(name)).strip() or "_"
    key = re.sub(r"/+", "/", key).strip("/") or "_"
    if key in (".", "..") or key.startswith(".."):
        key = "_" + key
    return key[:MAX_KEY]


def _cut(value: Any, limit: int, keep_end: bool = False) -> str:
    text = str(value)
    if len(text) <= limit:
        return text
    return ("..." + text[-(limit - 3) :]) if keep_end else (text[: limit - 3] + "...")


def _is_plain(option: Any) -> bool:
    return option is None or isinstance(option, (str, bool, int, float))


def _choice_options(space: Any) -> dict[str, tuple[Any, ...]]:
    """label -> options of each choice whose options are all plain scalars."""
    from sparktune._space import _Compiler

    comp = _Compiler()
    try:
        comp.visit(getattr(space, "root", None), ())
    except Exception:  # noqa: BLE001 - display only: fall back to option indices
        return {}
    return {
        label: tuple(p.options)
        for label, p in comp.params.items()
        if p.options is not None and all(_is_plain(o) for o in p.options)
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, (np.integer, np.floating)) and not isinstance(value, np.bool_):
                value = float(value)
            else:
                return None
        except ImportError:  # pragma: no cover - numpy is a core dependency
            return None
    v = float(value)
    return v if math.isfinite(v) else None


def _ms(t: Any) -> int | None:
    """Milliseconds since the epoch of a naive-UTC datetime (the Trial's clock)."""
    if t is None:
        return None
    import datetime as _dt

    return int(t.replace(tzinfo=_dt.timezone.utc).timestamp() * 1000)


# -- the listener -------------------------------------------------------------------------------


class MlflowListener:
    """The run listener ``autolog()`` registers; one per fmin call (see ``sparktune._events``)."""

    def __init__(
        self,
        *,
        experiment_name: str | None = None,
        run_name: str = "sparktune",
        log_every_trial: bool = True,
        activate_trial_runs: bool = True,
        flush_timeout: float = 60.0,
        start_timeout: float = 30.0,
        threads: int | None = None,
    ) -> None:
        self.mlflow = _import_mlflow()
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.log_every_trial = log_every_trial
        self.activate = activate_trial_runs
        self.flush_timeout = flush_timeout
        self.start_timeout = start_timeout
        self.n_threads = threads
        self.parent_id: str | None = None
        self.experiment_id: str | None = None
        self.ready = threading.Event()  # the parent run exists and its children are listed
        self.children: dict[int, str] = {}  # tid -> child run id
        self.logged: set[int] = set()  # tids whose child run is complete
        self.pending_children: dict[int, Any] = {}  # tid -> Future of a child created for trial_context
        self.lock = threading.Lock()
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.unfinished = 0  # jobs queued or running
        self.done_cond = threading.Condition(self.lock)
        self.stop = threading.Event()  # give up (flush_timeout passed)
        self.warned = False
        self.healthy = True
        self.workers: list[threading.Thread] = []
        self.running_jobs: dict[int, Any] = {}  # worker thread id -> its job
        self.seen: set[int] = set()  # tids handed to this listener (finished now or before)
        self.parent_summary_done = False
        self.client: Any = None
        self.run_key = uuid.uuid4().hex
        self.create_failed: set[int | None] = set()  # tids (None: the parent) whose create_run raised

    # -- the listener protocol --------------------------------------------------------------

    def run_started(self, start: RunStart) -> None:
        mlflow = self.mlflow
        self.start = start
        self.uri = mlflow.get_tracking_uri()
        active = mlflow.active_run()  # thread-local: read in the thread that called fmin
        self.active_parent = (active.info.run_id, active.info.experiment_id) if active is not None else None
        self.start_thread = threading.get_ident()
        self.thread_local_runs = _thread_local_runs(mlflow)
        self.plain_choices = _choice_options(start.space)
        self.started_ms = int(time.time() * 1000)
        self.metadata = start.metadata
        n = self.n_threads or (4 if self.uri.split(":", 1)[0] in ("http", "https", "databricks") else 1)
        for i in range(n):
            w = threading.Thread(target=self._work, name=f"sparktune-mlflow-{i}", daemon=True)
            w.start()
            self.workers.append(w)
        self._submit(("setup", None))

    def trials_finished(self, trials: Sequence[Trial]) -> None:
        self._record_parent()
        for trial in trials:
            self.seen.add(trial.tid)
            self._submit(("trial", trial))

    @contextlib.contextmanager
    def trial_context(self, tid: int) -> Iterator[None]:
        run = None
        if self.activate and self.log_every_trial and (self.thread_local_runs or self._in_start_thread()):
            run = self._context_run(tid)
        if run is None:
            yield
            return
        pushed = _push_active_run(self.mlflow, run)
        try:
            yield
        finally:
            if pushed:
                _pop_active_run(self.mlflow, run.info.run_id)

    def run_finished(self, end: RunEnd) -> None:
        self._record_parent()
        self._submit(("finish", end))
        deadline = time.monotonic() + self.flush_timeout
        with self.lock:
            while self.unfinished > 0 and time.monotonic() < deadline:
                self.done_cond.wait(max(0.0, min(1.0, deadline - time.monotonic())))
            left = self.unfinished
        self._record_parent()
        self.stop.set()
        for _ in self.workers:
            self.jobs.put(None)
        if left:
            with self.lock:
                left_trials = len(self.seen - self.logged)
            logger.warning(
                "MLflow (%s): %d trial(s)%s could not be logged within flush_timeout=%.0f s; they are in the "
                "trial store (and trials_save_file) but not in MLflow",
                self.uri,
                left_trials,
                " and the parent run's summary" if not self.parent_summary_done else "",
                self.flush_timeout,
            )
        elif self.warned:
            logger.warning("MLflow (%s) answered again: every trial was logged", self.uri)

    # -- helpers ------------------------------------------------------------------------------

    def _record_parent(self) -> None:
        """Put the parent run id into the store's durable metadata, on the loop's thread (the
        store writes it to the trial file; its writes are not made from other threads)."""
        pid = self.parent_id
        if pid is None or self.metadata is None or self.metadata.get(META_PARENT) == pid:
            return
        try:
            self.metadata[META_PARENT] = pid
        except Exception:  # noqa: BLE001 - a map that refuses: resume finds the parent by its tag
            logger.debug("could not record the MLflow parent run id in the store's metadata", exc_info=True)

    def _in_start_thread(self) -> bool:
        return threading.get_ident() == self.start_thread

    def _submit(self, job: Any) -> None:
        with self.lock:
            self.unfinished += 1
        self.jobs.put(job)

    def _warn_once(self, what: str, exc: BaseException | None = None) -> None:
        self.healthy = False
        if self.warned:
            logger.debug("MLflow: %s (%s)", what, exc)
            return
        self.warned = True
        detail = f" ({type(exc).__name__}: {_cut(exc, 300)})" if exc is not None else ""
        logger.warning(
            "MLflow tracking at %s %s%s; tuning goes on, logging is retried in the background and at the end",
            self.uri,
            what,
            detail,
        )

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            job = self.jobs.get()
            if job is None:
                return
            with self.lock:
                self.running_jobs[me] = job
            try:
                self._run_job(job)
            finally:
                with self.lock:
                    self.running_jobs.pop(me, None)
                    self.unfinished -= 1
                    self.done_cond.notify_all()

    def _run_job(self, job: tuple[str, Any]) -> None:
        kind, arg = job
        attempt = 0
        while not self.stop.is_set():
            if kind != "setup" and not self.ready.is_set():
                self.ready.wait(0.5)
                continue
            t0 = time.monotonic()
            try:
                if kind == "setup":
                    self._setup()
                    self.ready.set()
                elif kind == "trial":
                    self._log_trial(arg)
                else:
                    self._log_end(arg)
                if time.monotonic() - t0 > 10.0:
                    self._warn_once(f"took {time.monotonic() - t0:.0f} s for one trial")
                self.healthy = True
                return
            except Exception as exc:  # noqa: BLE001 - MLflow errors never reach the loop
                attempt += 1
                self._warn_once("is not answering" if attempt == 1 else "still fails", exc)
                self.stop.wait(min(0.25 * 2**attempt, 5.0))

    # -- MLflow calls (background threads) -----------------------------------------------------

    def _setup(self) -> None:
        """Find or create the parent run; list its children; backfill the store's finished trials."""
        if self.client is None:
            from mlflow import MlflowClient

            self.client = MlflowClient(tracking_uri=self.uri)
        client, start = self.client, self.start
        parent = None
        pid = self.metadata.get(META_PARENT) if self.metadata is not None else None
        if pid:
            parent = self._live_run(pid)
            if parent is None:
                logger.warning("MLflow parent run %s of this trial store is gone: starting a new parent run", pid)
        if parent is None and start.existing and start.store_path:
            parent = self._find_parent_by_file(os.path.abspath(start.store_path))
        settings = {_key(k): _cut(v, MAX_PARAM_VALUE) for k, v in sorted(start.settings.items()) if v is not None and k}
        space = {
            _key(f"space.{label}"): _cut(self._space_text(label, dist), MAX_PARAM_VALUE)
            for label, dist in zip(start.space.labels, start.space.dists)
        }
        if parent is None and None in self.create_failed:
            parent = self._find_run(f"tags.`{TAG_RUN_KEY}` = '{self.run_key}'")
        if parent is None:
            exp = self._experiment_id()
            tags = {"sparktune.version": _version(), TAG_RUN_KEY: self.run_key}
            if self.active_parent is not None and self.active_parent[1] == exp:
                tags[TAG_PARENT] = self.active_parent[0]
            if start.store_path:
                tags[TAG_TRIAL_FILE] = os.path.abspath(start.store_path)
            try:
                run = client.create_run(exp, start_time=self.started_ms, tags=tags, run_name=self.run_name)
            except Exception:
                self.create_failed.add(None)
                raise
            self.parent_id, self.experiment_id = run.info.run_id, run.info.experiment_id
            self._batch(self.parent_id, params={**space, **settings})
        else:
            self.parent_id, self.experiment_id = parent.info.run_id, parent.info.experiment_id
            old = dict(parent.data.params)
            new = {k: v for k, v in {**space, **settings}.items() if k not in old}
            changed = {f"sparktune.setting.{k}": v for k, v in settings.items() if k in old and old[k] != v}
            self._batch(self.parent_id, params=new, tags=changed)
            if parent.info.status != "RUNNING":
                client.update_run(self.parent_id, status="RUNNING")
            self.children, finished = self._list_children()
            self.logged = set(finished)
        for trial in start.existing:  # trials of the store that MLflow does not hold yet
            self.seen.add(trial.tid)
            if trial.tid not in self.logged:
                self._submit(("trial", trial))

    def _live_run(self, run_id: str) -> Any:
        try:
            run = self.client.get_run(run_id)
        except Exception as exc:  # noqa: BLE001
            if "RESOURCE_DOES_NOT_EXIST" in str(getattr(exc, "error_code", "")) or "not found" in str(exc).lower():
                return None
            raise
        return None if run.info.lifecycle_stage == "deleted" else run

    def _find_parent_by_file(self, path: str) -> Any:
        esc = path.replace("'", "\\'")
        return self._find_run(f"tags.`{TAG_TRIAL_FILE}` = '{esc}'")

    def _find_run(self, filter_string: str) -> Any:
        """The latest run of the experiment matching ``filter_string``, or None."""
        runs = self.client.search_runs(
            [self._experiment_id()], filter_string=filter_string, max_results=1, order_by=["start_time DESC"]
        )
        return runs[0] if runs else None

    def _terminate(self, run_id: str, status: str, end_ms: int) -> None:
        """``set_terminated`` without its extra ``get_run`` and the two lines it prints per run
        for an HTTP tracking URI (MLflow 3): the store's ``update_run_info`` where reachable."""
        store = getattr(getattr(self.client, "_tracking_client", None), "store", None)
        if store is not None and callable(getattr(store, "update_run_info", None)):
            from mlflow.entities import RunStatus

            store.update_run_info(run_id, RunStatus.from_string(status), end_ms, None)
        else:
            self.client.set_terminated(run_id, status, end_time=end_ms)

    def _create_child(self, tid: int, start_ms: int, tags: Mapping[str, str]) -> Any:
        """``create_run`` for trial ``tid``; after a failed attempt, first looks for the run (a
        timed-out request may have created it) so a trial never gets two runs."""
        if tid in self.create_failed:
            found = self._find_run(f"tags.`{TAG_PARENT}` = '{self.parent_id}' and tags.`{TAG_TID}` = '{tid}'")
            if found is not None:
                return found
        try:
            return self.client.create_run(
                self.experiment_id, start_time=start_ms, tags=dict(tags), run_name=f"trial-{tid}"
            )
        except Exception:
            with self.lock:
                self.create_failed.add(tid)
            raise

    def _list_children(self) -> tuple[dict[int, str], set[int]]:
        """tid -> run id of every child run of the parent (all pages), and the tids whose run
        is finished (a RUNNING one was left by an interrupted run: it is reused and completed)."""
        out: dict[int, str] = {}
        finished: set[int] = set()
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`{TAG_PARENT}` = '{self.parent_id}'",
                max_results=SEARCH_PAGE,
                page_token=token,
            )
            for run in page:
                tid = run.data.tags.get(TAG_TID)
                if tid is not None and tid.isdigit():
                    out[int(tid)] = run.info.run_id
                    if run.info.status != "RUNNING":
                        finished.add(int(tid))
            token = page.token
            if not token:
                return out, finished

    def _experiment_id(self) -> str:
        if self.experiment_id is not None:
            return self.experiment_id
        client = self.client
        if self.experiment_name is not None:
            exp = client.get_experiment_by_name(self.experiment_name)
            eid = exp.experiment_id if exp is not None else client.create_experiment(self.experiment_name)
        elif self.active_parent is not None:
            eid = self.active_parent[1]
        else:
            try:
                from mlflow.tracking.fluent import _get_experiment_id

                eid = _get_experiment_id()
            except ImportError:  # pragma: no cover - moved in some future MLflow
                eid = None
            if eid is None:
                eid = os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"
        self.experiment_id = str(eid)
        return self.experiment_id

    def _batch(
        self,
        run_id: str,
        params: Mapping[str, str] | None = None,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """``log_batch`` in chunks within MLflow's limits (100 params/tags, 1000 metrics)."""
        from mlflow.entities import Metric, Param, RunTag

        ps = [Param(k, str(v)) for k, v in (params or {}).items()]
        ts = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        ms = [Metric(k, v, ts_, step) for k, v, ts_, step in metrics]
        while ps or ts or ms:
            p, ps = ps[:MAX_PARAMS_TAGS_PER_BATCH], ps[MAX_PARAMS_TAGS_PER_BATCH:]
            t, ts = ts[:MAX_PARAMS_TAGS_PER_BATCH], ts[MAX_PARAMS_TAGS_PER_BATCH:]
            room = MAX_METRICS_PER_BATCH - len(p) - len(t)
            m, ms = ms[:room], ms[room:]
            self.client.log_batch(run_id, metrics=m, params=p, tags=t)

    def _space_text(self, label: str, dist: Any) -> str:
        """``repr`` of the distribution; a choice of plain options shows them: ``choice(['a', 'b'])``."""
        options = self.plain_choices.get(label)
        if options is None:
            return repr(dist)
        probs = tuple(getattr(dist, "probs", ()))
        uniform = all(abs(p - 1.0 / len(probs)) < 1e-12 for p in probs) if probs else True
        return f"choice({list(options)!r})" if uniform else f"pchoice({list(zip(probs, options))!r})"

    def _param_value(self, label: str, value: Any) -> str:
        options = self.plain_choices.get(label)
        if options is not None:
            try:
                return _cut(options[int(value)], MAX_PARAM_VALUE)
            except (IndexError, TypeError, ValueError):
                pass
        return _cut(value, MAX_PARAM_VALUE)

    def _trial_tags(self, trial: Trial) -> dict[str, str]:
        tags = {
            TAG_PARENT: self.parent_id or "",
            TAG_TID: str(trial.tid),
            "sparktune.state": _STATE_NAMES.get(trial.state, str(trial.state)),
            "sparktune.status": str(trial.result.get("status", "")),
            "sparktune.attempts": str(trial.attempts),
        }
        if trial.error is not None:
            tags["sparktune.error_type"] = _cut(trial.error[0], MAX_TAG_VALUE)
            tags["sparktune.error_message"] = _cut(trial.error[1], MAX_TAG_VALUE)
        if trial.traceback:
            tags["sparktune.traceback"] = _cut(trial.traceback, MAX_TAG_VALUE, keep_end=True)
        return tags

    def _log_trial(self, trial: Trial) -> None:
        if trial.tid in self.logged:
            return
        end_ms = _ms(trial.refresh_time) or int(time.time() * 1000)
        loss = trial.loss
        if not self.log_every_trial:
            if loss is not None and math.isfinite(loss):
                self._batch(self.parent_id or "", metrics=[("loss", loss, end_ms, trial.tid)])
            self.logged.add(trial.tid)
            return
        created_here = trial.tid not in self.children and trial.tid not in self.pending_children
        run_id = self._child_for(trial.tid, trial)
        metrics = []
        if loss is not None and math.isfinite(loss):
            metrics.append(("loss", loss, end_ms, 0))
        if trial.book_time is not None and trial.refresh_time is not None:
            metrics.append(("duration_s", (trial.refresh_time - trial.book_time).total_seconds(), end_ms, 0))
        for k, v in trial.result.items():
            num = _number(v)
            if num is not None and k not in ("loss", "duration_s"):
                metrics.append((_key(k), num, end_ms, 0))
        params = {_key(label): self._param_value(label, v) for label, v in trial.vals.items()}
        # a run created just now already has the trial's tags (create_run took them)
        self._batch(run_id, params=params, metrics=metrics, tags=None if created_here else self._trial_tags(trial))
        status = "FINISHED"
        if trial.state == JOB_STATE_CANCEL:
            status = "KILLED"
        elif trial.state == JOB_STATE_ERROR or trial.result.get("status") != STATUS_OK:
            status = "FAILED"
        self._terminate(run_id, status, end_ms)
        with self.lock:
            self.logged.add(trial.tid)

    def _child_for(self, tid: int, trial: Trial | None) -> str:
        """The child run of ``tid``: one made for trial_context (waited for), or a new one."""
        fut = self.pending_children.get(tid)
        if fut is not None:
            try:
                run = fut.result()
            except Exception:  # noqa: BLE001 - its creation failed: create it here
                self.pending_children.pop(tid, None)
            else:
                self.children[tid] = run.info.run_id
        run_id = self.children.get(tid)
        if run_id is not None:
            return run_id
        start_ms = _ms(trial.book_time) if trial is not None else int(time.time() * 1000)
        tags = {TAG_PARENT: self.parent_id or "", TAG_TID: str(tid)}
        if trial is not None:
            tags.update(self._trial_tags(trial))
        run = self._create_child(tid, start_ms or int(time.time() * 1000), tags)
        self.children[tid] = run.info.run_id
        return str(run.info.run_id)

    def _context_run(self, tid: int) -> Any:
        """Create the child run of ``tid`` before its objective runs (bounded wait); None if not now."""
        if not self.ready.wait(self.start_timeout if self.healthy else 0.0):
            self._warn_once(f"did not create the parent run within start_timeout={self.start_timeout:.0f} s")
            return None
        if not self.healthy:
            return None
        from concurrent.futures import Future

        fut: Future[Any] = Future()
        self.pending_children[tid] = fut
        try:
            run = self._create_child(
                tid,
                int(time.time() * 1000),
                {TAG_PARENT: self.parent_id or "", TAG_TID: str(tid), "sparktune.state": "running"},
            )
        except Exception as exc:  # noqa: BLE001
            fut.set_exception(exc)
            self._warn_once("failed to create a trial's run", exc)
            return None
        fut.set_result(run)
        return run

    def _log_end(self, end: RunEnd) -> None:
        if self.parent_id is None:
            raise RuntimeError("no parent run")
        now = int(time.time() * 1000)
        counts = end.counts
        metrics = [
            ("trials_total", float(counts.get("total", 0)), now, 0),
            ("trials_ok", float(counts.get("ok", 0)), now, 0),
            ("trials_failed", float(counts.get("fail", 0) + counts.get("error", 0)), now, 0),
            ("trials_cancelled", float(counts.get("cancelled", 0)), now, 0),
        ]
        tags: dict[str, str] = {}
        best = end.best
        if best is not None and best.loss is not None:
            metrics.append(("best_loss", best.loss, now, 0))
            tags.update({_key(f"best.{k}"): self._param_value(k, v) for k, v in best.vals.items()})
            tags["sparktune.best_tid"] = str(best.tid)
            if best.tid in self.children:
                tags["sparktune.best_run_id"] = self.children[best.tid]
        if end.stop_reason:
            tags["sparktune.stop_reason"] = _cut(end.stop_reason, MAX_TAG_VALUE)
        if end.error is not None:
            tags["sparktune.error"] = _cut(f"{type(end.error).__name__}: {end.error}", MAX_TAG_VALUE)
        self._batch(self.parent_id, metrics=metrics, tags=tags)
        status = "FINISHED"
        if isinstance(end.error, KeyboardInterrupt):
            status = "KILLED"
        elif end.error is not None:
            status = "FAILED"
        self.client.set_terminated(self.parent_id, status, end_time=now)
        self.parent_summary_done = True


# -- the active run in a thread -----------------------------------------------------------------


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("sparktune")
    except Exception:  # noqa: BLE001
        return "unknown"


def _run_stack(mlflow: Any) -> tuple[list[Any] | None, bool]:
    """MLflow's stack of active runs for this thread, and whether it is per thread.

    MLflow keeps it in ``mlflow.tracking.fluent._active_run_stack``: a ``ThreadLocalVariable``
    since 2.18 (one stack per thread), a plain list (one for the process) before.
    """
    from mlflow.tracking import fluent

    stack = getattr(fluent, "_active_run_stack", None)
    if isinstance(stack, list):
        return stack, False
    get = getattr(stack, "get", None)
    if callable(get):
        value = get()
        if isinstance(value, list):
            return value, True
    return None, False


def _thread_local_runs(mlflow: Any) -> bool:
    try:
        return _run_stack(mlflow)[1]
    except Exception:  # noqa: BLE001
        return False


def _push_active_run(mlflow: Any, run: Any) -> bool:
    """Make ``run`` the active run of this thread without a call to the tracking store.

    ``mlflow.start_run(run_id=...)`` would do the same with three store calls, set the run's
    status to RUNNING, refuse a run of another experiment than the active one, and its
    ``end_run`` would mark the run FINISHED; pushing onto MLflow's stack avoids all of that.
    Falls back to ``start_run`` where the stack is not what it was in MLflow 2.0-3.x.
    """
    try:
        stack, _ = _run_stack(mlflow)
    except Exception:  # noqa: BLE001
        stack = None
    if stack is not None:
        stack.append(mlflow.ActiveRun(run))
        return True
    try:
        mlflow.start_run(run_id=run.info.run_id, nested=True)
        return True
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not make trial run %s active: %s: %s", run.info.run_id, type(exc).__name__, exc)
        return False


def _pop_active_run(mlflow: Any, run_id: str) -> None:
    """Undo ``_push_active_run`` if the objective left our run on top (it may have ended it)."""
    try:
        stack, _ = _run_stack(mlflow)
    except Exception:  # noqa: BLE001
        stack = None
    if stack is not None:
        if stack and stack[-1].info.run_id == run_id:
            stack.pop()
        return
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        mlflow.end_run()


__all__ = ["MlflowListener", "autolog", "is_enabled"]
