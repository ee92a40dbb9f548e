"""``SparkTrials``: run ``fmin``'s trials in parallel on Spark (classic, clusters, Spark Connect).

Usage (hyperopt-compatible)::

    from sparktune import SparkTrials, fmin, hp, tpe
    best = fmin(objective, space, algo=tpe.suggest, max_evals=100, trials=SparkTrials(parallelism=4))

Two ways to run a trial:

- ``run_on="executors"`` (default): each trial runs in a Spark Python worker. The objective is
  pickled once per run. Long-lived slot tasks pull trials from this process, so a new trial
  starts as soon as one finishes and Spark's job start is paid once per slot, not per trial.
  The objective must not use Spark itself.
- ``run_on="driver"``: trials run in up to ``parallelism`` threads of this process, for
  objectives that use Spark (MLlib, DataFrames). Their Spark jobs are tagged per trial (so they
  can be cancelled) and run in the FAIR scheduler pool ``sparktune``.

The fmin loop owns timeouts, ``loss_threshold``, early stopping and Ctrl-C; it cancels trials
through the backend, which interrupts their Spark jobs.
"""

from __future__ import annotations

import logging
import numbers
from typing import Any, Callable, ContextManager

from sparktune import _spark_compat as compat
from sparktune import _validate
from sparktune._trials import EngineSettings, Trials
from sparktune.backends._base import Backend, Task

logger = logging.getLogger(__name__)

#: Upper bound for the default parallelism (hyperopt's SparkTrials uses the same cap).
MAX_DEFAULT_PARALLELISM = 128
#: Hard upper bound for ``parallelism`` (one driver thread or slot job per running trial).
MAX_PARALLELISM = 1024

_RUN_ON = ("executors", "driver")
_TRANSPORTS = ("auto", "socket", "jobs")


class SparkTrials(Trials):
    """A ``Trials`` whose trials ``fmin`` evaluates in parallel on Spark.

    Args:
        parallelism: the most trials running at once. None: Spark's default parallelism (about
            the cluster's task slots), capped at ``MAX_DEFAULT_PARALLELISM`` (128). A value above
            the cluster's task slots is allowed (useful for ``run_on="driver"``) with a warning.
        timeout: seconds for the whole ``fmin`` call (None: no limit); running trials are
            cancelled when it fires. ``fmin(timeout=...)`` takes precedence.
        loss_threshold: stop once a trial's loss is at or below this (None: never).
            ``fmin(loss_threshold=...)`` takes precedence.
        spark_session: the session to use (classic or Connect). None: the active session, else
            a new one (Spark Connect if ``SPARK_REMOTE`` is set, else ``local[*]``).
        run_on: ``"executors"`` (trials in Spark Python workers) or ``"driver"`` (trials in
            driver threads; for objectives that use Spark themselves).
        trial_timeout: seconds a single trial may run before it is cancelled (None: no limit).
        synchronous: when True, ``fmin`` proposes ``parallelism`` configurations at a time and
            waits for the whole batch, so a run with a given ``rstate`` gives the same trials on
            any cluster. When False (default) a new trial starts as soon as one finishes.
        max_retries: how many times a trial is re-run when the Spark Python worker running it
            dies (crash, ``os._exit``, lost executor) before it is recorded as an error
            (``WorkerLost``). Default 1. Exceptions raised by the objective are never retried.
        resource_profile: a ``pyspark.resource.ResourceProfile`` for the trial tasks
            (stage-level scheduling, e.g. one GPU per trial). ``run_on="executors"`` only; needs a
            cluster manager that supports it (standalone, YARN, Kubernetes with dynamic
            allocation as Spark documents). On pyspark 3.5 the trial tasks then run as an RDD
            job (``RDD.withResources``), since ``mapInArrow`` takes a profile only from 4.0; on
            pyspark 3.5 with Spark Connect a profile is refused with ``ValueError``.
        transport: how executors get trials. ``"socket"``: slot tasks connect back to a server
            in this process (needs executors that can reach it); ``"jobs"``: one Spark job per
            trial (works everywhere, ~0.15 s more per trial); ``"auto"`` (default): socket when a
            reachable address is known (classic Spark; Spark Connect on this machine;
            ``SPARKTUNE_CALLBACK_HOST``), else jobs.

    Raises:
        ValueError, TypeError: an argument breaks a rule (the message names it and the value).
        sparktune._spark_compat.SparkUnavailableError: pyspark or Java is missing.
    """

    asynchronous = True
    _error_with_traceback = True
    _spark: Any
    run_on: str
    parallelism: int
    timeout: float | None
    loss_threshold: float | None
    trial_timeout: float | None
    synchronous: bool
    max_retries: int
    resource_profile: Any
    transport: str

    def __init__(
        self,
        parallelism: int | None = None,
        timeout: float | None = None,
        loss_threshold: float | None = None,
        spark_session: Any = None,
        run_on: str = "executors",
        *,
        trial_timeout: float | None = None,
        synchronous: bool = False,
        max_retries: int = 1,
        resource_profile: Any = None,
        transport: str = "auto",
    ) -> None:
        if parallelism is not None and (isinstance(parallelism, bool) or not isinstance(parallelism, numbers.Integral)):
            raise TypeError(f"`parallelism` must be None or an int, got parallelism={parallelism!r}")
        if parallelism is not None and not 1 <= parallelism <= MAX_PARALLELISM:
            raise ValueError(f"`parallelism` must be between 1 and {MAX_PARALLELISM}, got parallelism={parallelism}")
        timeout = _validate.timeout(timeout)
        loss_threshold = _validate.loss_threshold(loss_threshold)
        _validate.one_of("run_on", run_on, _RUN_ON)
        trial_timeout = _validate.timeout(trial_timeout, "trial_timeout")
        _validate.flag("synchronous", synchronous)
        if isinstance(max_retries, bool) or not isinstance(max_retries, numbers.Integral):
            raise TypeError(f"`max_retries` must be an int, got max_retries={max_retries!r}")
        max_retries = _validate.count("max_retries", max_retries, minimum=0)
        _validate.one_of("transport", transport, _TRANSPORTS)
        if resource_profile is not None and run_on != "executors":
            raise ValueError(
                "`resource_profile` applies to trial tasks on executors: it needs run_on='executors', "
                f"got run_on={run_on!r}"
            )
        if resource_profile is not None:
            compat.import_pyspark()
            from pyspark.resource import ResourceProfile

            if not isinstance(resource_profile, ResourceProfile):
                raise TypeError(
                    "`resource_profile` must be a pyspark.resource.ResourceProfile, got "
                    f"{type(resource_profile).__name__}"
                )

        Trials.__init__(self)
        self._spark = compat.get_or_create_session(spark_session)
        compat.check_resource_profile(self._spark, resource_profile)
        compat.set_local_python(self._spark)
        self.run_on = run_on
        self.timeout = timeout
        self.loss_threshold = loss_threshold
        self.trial_timeout = trial_timeout
        self.synchronous = synchronous
        self.max_retries = int(max_retries)
        self.resource_profile = resource_profile
        self.transport = transport

        slots = compat.default_parallelism(self._spark)
        if parallelism is None:
            parallelism = min(slots, MAX_DEFAULT_PARALLELISM)
            logger.info(
                "parallelism=None: using Spark's default parallelism %d (capped at %d)",
                parallelism,
                MAX_DEFAULT_PARALLELISM,
            )
        elif parallelism > slots and run_on == "executors":
            logger.warning(
                "parallelism=%d exceeds the cluster's %d task slots (Spark default parallelism): "
                "at most %d trials will run at once until the cluster grows",
                parallelism,
                slots,
                slots,
            )
        self.parallelism = int(parallelism)

    def _engine_settings(self) -> EngineSettings:
        """The declared engine hook: this store's run settings for the fmin loop."""
        return EngineSettings(
            timeout=self.timeout,
            loss_threshold=self.loss_threshold,
            trial_timeout=self.trial_timeout,
            synchronous=self.synchronous,
            record_failures=True,  # hyperopt's SparkTrials records raising objectives and goes on
        )

    def _engine_description(self) -> dict[str, Any]:
        return {
            "engine": "spark",
            "parallelism": self.parallelism,
            "run_on": self.run_on,
            "trial_timeout": self.trial_timeout,
            "synchronous": self.synchronous,
            "max_retries": self.max_retries,
            "transport": self.transport,
        }

    def delete_all(self) -> None:
        """Forget every trial; the settings and the Spark session stay."""
        Trials.delete_all(self)

    # -- hyperopt SparkTrials' counters ---------------------------------------------------------

    def count_successful_trials(self) -> int:
        """Trials whose objective returned with status "ok"."""
        return self._outcome_counts()["ok"]

    def count_failed_trials(self) -> int:
        """Trials whose objective raised, returned status "fail", or whose worker died for good."""
        counts = self._outcome_counts()
        return counts["fail"] + counts["error"]

    def count_cancelled_trials(self) -> int:
        """Trials cancelled by a timeout, early stop or interrupt."""
        return self._outcome_counts()["cancelled"]

    def count_total_trials(self) -> int:
        """All trials, whatever their state."""
        return self.store.count()

    @property
    def spark(self) -> Any:
        """The SparkSession the trials run on (the active one again after unpickling)."""
        if self._spark is None:
            self._spark = compat.get_or_create_session(None)
        return self._spark

    def __getstate__(self) -> dict[str, Any]:
        # A SparkSession cannot be pickled: a pickled SparkTrials keeps its trials and settings.
        state = super().__getstate__()
        state["_spark"] = None
        return state

    def _make_backend(
        self,
        fn: Callable[..., Any],
        call: Callable[[Callable[..., Any], Task], Any] | None = None,
        trial_context: Callable[[int], ContextManager[Any]] | None = None,
    ) -> Backend:
        """The backend ``fmin`` drives (called once per ``fmin`` call). ``trial_context`` is used
        by driver threads only: executors run the objective in another process."""
        if self.run_on == "driver":
            from sparktune.backends.spark_driver import DriverThreadBackend

            return DriverThreadBackend(self.spark, fn, call, parallelism=self.parallelism, trial_context=trial_context)
        from sparktune.backends.spark_executors import ExecutorBackend, dumps_objective

        if call is not None:
            # The ctrl object reads and writes this Trials, which lives in the driver process.
            raise ValueError(
                "pass_expr_memo_ctrl=True needs the trials store in the objective's process: use "
                "SparkTrials(run_on='driver') for such objectives, got run_on='executors'"
            )

        payload = dumps_objective(fn, call)  # before any trial: names what cannot be pickled
        return ExecutorBackend(
            self.spark,
            payload,
            parallelism=self.parallelism,
            max_retries=self.max_retries,
            transport=self.transport,
            resource_profile=self.resource_profile,
        )


__all__ = ["MAX_DEFAULT_PARALLELISM", "MAX_PARALLELISM", "SparkTrials"]
