"""Every pyspark version and capability check sparktune makes, in one place.

Nothing here imports pyspark at module import time: ``import sparktune`` must work on a machine
without pyspark or Java. Each helper imports pyspark lazily and raises a clear error when it is
missing.

Classic Spark and Spark Connect differ in ways that matter to SparkTrials:

- Connect sessions have no ``sparkContext``: dispatch goes through the DataFrame API
  (``mapInArrow``), and default parallelism is read from configuration or measured with a query.
- Job tags (``SparkSession.addTag``/``interruptTag``) exist on Connect since 3.5 and on classic
  since 4.0. On older classic versions, job groups (``setJobGroup``/``cancelJobGroup``) are used.
- ``pyspark.ml`` on Connect finds its session through the thread-local *active* session, so a
  new thread must make the user's session active before an MLlib ``fit``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import sys
from typing import Any
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "pip install 'sparktune[spark]' (or pip install 'pyspark[connect]>=3.5'); on Databricks "
    "pyspark is preinstalled, do not reinstall it"
)


class SparkUnavailableError(ImportError):
    """pyspark (or Java, for a local session) is missing; the message says how to fix it."""


def import_pyspark() -> Any:
    """Import and return the ``pyspark`` module, or raise ``SparkUnavailableError``."""
    try:
        import pyspark
    except ImportError as exc:
        raise SparkUnavailableError(
            f"SparkTrials needs pyspark, which is not installed ({exc}). Install it with: {INSTALL_HINT}"
        ) from exc
    return pyspark


def pyspark_version() -> tuple[int, int]:
    """``(major, minor)`` of the installed pyspark."""
    pyspark = import_pyspark()
    parts = pyspark.__version__.split(".")
    return int(parts[0]), int(parts[1])


def require_java() -> None:
    """Raise ``SparkUnavailableError`` if no Java runtime can be found for a local JVM."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return
    if shutil.which("java"):
        return
    raise SparkUnavailableError(
        "SparkTrials needs a Java runtime (Java 17 or 21) to start a local Spark session, but "
        "neither JAVA_HOME/bin/java nor `java` on PATH exists. Install a JDK (e.g. "
        "`apt-get install openjdk-17-jre-headless`) and set JAVA_HOME, or pass "
        "spark_session= / set SPARK_REMOTE to use an existing Spark (Connect) server."
    )


def is_connect(session: Any) -> bool:
    """True for a Spark Connect session (``pyspark.sql.connect.session.SparkSession``)."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def spark_object_types() -> tuple[type, ...]:
    """Classes of Spark handles that must never be shipped to an executor inside an objective.

    Only from modules already imported: an object of a class whose module was never imported
    cannot exist, and importing pyspark's Connect client (grpc, protobuf) on a classic session
    only to rule it out cost ~0.35 s of the first ``fmin``.
    """
    found: list[type] = []
    if "pyspark" in sys.modules:
        from pyspark import SparkContext

        found.append(SparkContext)
    if "pyspark.sql" in sys.modules:
        from pyspark.sql import DataFrame, SparkSession

        found += [SparkSession, DataFrame]
    if "pyspark.sql.connect.session" in sys.modules:
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        found.append(ConnectSession)
    if "pyspark.sql.connect.dataframe" in sys.modules:
        from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame

        found.append(ConnectDataFrame)
    return tuple(found)


def master_of(session: Any) -> str:
    """The session's ``spark.master`` ("" when unknown, as for some Connect servers)."""
    try:
        return str(session.conf.get("spark.master", "") or "")
    except Exception:  # noqa: BLE001 - some Connect servers refuse to read static confs
        return ""


def is_local_master(master: str) -> bool:
    """True for ``local``, ``local[N]``, ``local[*]`` and ``local-cluster[...]`` masters."""
    return master.startswith("local")


def set_local_python(session: Any | None = None) -> None:
    """In local mode, make Spark's Python workers use the driver's interpreter.

    Without this, workers run ``python3`` from PATH, which usually lacks the user's packages and
    every trial fails with ``ModuleNotFoundError``. Only acts when ``PYSPARK_PYTHON`` is unset.
    For an already running classic local session, the context's ``pythonExec`` (read by every
    new Python UDF) is updated too.
    """
    if os.environ.get("PYSPARK_PYTHON"):
        return
    if session is not None and not is_local_master(master_of(session)):
        return
    os.environ["PYSPARK_PYTHON"] = sys.executable
    logger.info("PYSPARK_PYTHON was unset in local mode; set it to %s", sys.executable)
    if session is not None and not is_connect(session):
        sc = session.sparkContext
        if getattr(sc, "pythonExec", sys.executable) != sys.executable:
            sc.pythonExec = sys.executable


def get_or_create_session(spark_session: Any | None) -> Any:
    """The given session, else the active one, else a new one.

    A new session is a Spark Connect session when ``SPARK_REMOTE`` is set; otherwise classic, with
    the master given to ``spark-submit``, else ``SPARK_MASTER``, else ``local[*]``.
    """
    import_pyspark()
    if spark_session is not None:
        return spark_session
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get("SPARK_REMOTE"):
        return SparkSession.builder.getOrCreate()
    require_java()
    builder = SparkSession.builder.appName("sparktune")
    # Under spark-submit (the JVM started this process) the master comes from its --master.
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):
        master = os.environ.get("SPARK_MASTER") or "local[*]"
        if is_local_master(master):
            set_local_python(None)
        builder = builder.master(master)
    logger.info("no active SparkSession: starting one")
    # A FAIR scheduler lets concurrent run_on="driver" trials share the cluster.
    return builder.config("spark.scheduler.mode", "FAIR").getOrCreate()


def default_parallelism(session: Any) -> int:
    """Spark's default parallelism (≈ the cluster's task slots) for classic and Connect."""
    if not is_connect(session):
        return int(session.sparkContext.defaultParallelism)
    try:
        conf = session.conf.get("spark.default.parallelism", None)
    except Exception:  # noqa: BLE001
        conf = None
    if conf:
        return int(conf)
    # spark.range without numPartitions is split into defaultParallelism partitions.
    from pyspark.sql import functions as F

    row = session.range(0, 1 << 20).select(F.spark_partition_id().alias("p")).agg(F.max("p")).first()
    return int(row[0]) + 1


def connect_host(session: Any) -> str | None:
    """Host part of a Connect session's ``sc://`` URL, or None when it cannot be read."""
    host = getattr(getattr(session, "client", None), "host", None)  # pyspark >= 3.5
    if host:
        return str(host).strip("[]")
    url = os.environ.get("SPARK_REMOTE")
    if not url:
        return None
    return urlparse(str(url).replace("sc://", "http://", 1)).hostname


def is_loopback(host: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 addresses."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def callback_host(session: Any) -> str | None:
    """Address on which executors can reach a server in this (driver) process, or None.

    ``SPARKTUNE_CALLBACK_HOST`` overrides. Classic: ``spark.driver.host`` (executors already talk
    to the driver there). Connect: only when the Connect server runs on this machine (loopback
    URL); a remote Connect server's executors cannot reach the client.
    """
    override = os.environ.get("SPARKTUNE_CALLBACK_HOST")
    if override:
        return override
    if is_connect(session):
        host = connect_host(session)
        return "127.0.0.1" if is_loopback(host) else None
    if is_local_master(master_of(session)):
        return "127.0.0.1"
    try:
        return str(session.conf.get("spark.driver.host"))
    except Exception:  # noqa: BLE001
        return None


def has_job_tags(session: Any) -> bool:
    """Whether ``addTag``/``interruptTag`` work for this session (Connect >= 3.5, classic >= 4.0)."""
    if is_connect(session):
        return hasattr(session, "addTag")
    return pyspark_version() >= (4, 0) and hasattr(session, "addTag")


def _context_job_tags(session: Any) -> bool:
    # Classic Spark: SparkContext-level job tags (3.5+). The session-level ``SparkSession.addTag``
    # of classic pyspark 4.3 breaks MLlib: ``evaluator.evaluate`` then fails with "Task not
    # serializable: SparkSession$$anon$1" (seen here), so classic sessions use the context's tags.
    return not is_connect(session) and hasattr(getattr(session, "sparkContext", None), "addJobTag")


def map_in_arrow_takes_profile() -> bool:
    """``DataFrame.mapInArrow(..., profile=)`` exists (pyspark 4.0 and later)."""
    return pyspark_version() >= (4, 0)


def check_resource_profile(session: Any, profile: Any) -> None:
    """Refuse a resource profile this session cannot apply, before any job starts.

    On pyspark 4.0+ the trial tasks' ``mapInArrow`` takes the profile. On 3.5 classic Spark the
    tasks run as an RDD job with ``RDD.withResources`` instead; on 3.5 Spark Connect there is no
    RDD and no ``profile=``, so there is no way to apply it.
    """
    if profile is None or map_in_arrow_takes_profile() or not is_connect(session):
        return
    import pyspark

    raise ValueError(
        f"`resource_profile` needs pyspark 4.0 or later on Spark Connect (DataFrame.mapInArrow(profile=) "
        f"arrived in Spark 4.0; Connect has no RDD.withResources), and this is pyspark {pyspark.__version__}. "
        "Upgrade pyspark (Databricks Runtime 17.x: Spark 4.0), use a classic session, or drop resource_profile"
    )


def add_tag(session: Any, tag: str) -> None:
    """Tag the current thread's Spark jobs with ``tag`` (job group where tags are missing)."""
    if _context_job_tags(session):
        session.sparkContext.addJobTag(tag)
    elif has_job_tags(session):
        session.addTag(tag)
    else:
        session.sparkContext.setJobGroup(tag, "sparktune", interruptOnCancel=True)


def remove_tag(session: Any, tag: str) -> None:
    """Undo ``add_tag`` for the current thread."""
    try:
        if _context_job_tags(session):
            session.sparkContext.removeJobTag(tag)
        elif has_job_tags(session):
            session.removeTag(tag)
        else:
            session.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    except Exception:  # noqa: BLE001 - the session may be stopping
        logger.debug("could not remove tag %s", tag, exc_info=True)


def interrupt_tag(session: Any, tag: str) -> None:
    """Cancel every running Spark job carrying ``tag`` (or job group ``tag``)."""
    try:
        if _context_job_tags(session):
            session.sparkContext.cancelJobsWithTag(tag)
        elif has_job_tags(session):
            session.interruptTag(tag)
        else:
            session.sparkContext.cancelJobGroup(tag)
    except Exception:  # noqa: BLE001 - a stopped session has nothing left to cancel
        logger.debug("could not interrupt tag %s", tag, exc_info=True)


def set_scheduler_pool(session: Any, pool: str) -> None:
    """Run the current thread's jobs in the FAIR scheduler pool ``pool`` (classic only)."""
    if is_connect(session):
        return  # Connect clients cannot set thread-local properties; the server's pool applies.
    try:
        session.sparkContext.setLocalProperty("spark.scheduler.pool", pool)
    except Exception:  # noqa: BLE001
        logger.debug("could not set scheduler pool", exc_info=True)


def activate_session(session: Any) -> None:
    """Make ``session`` the current thread's active session.

    On Connect, ``pyspark.ml`` looks the session up through a thread-local; in a new thread it
    is unset, and ``fit`` fails with a bare ``AssertionError``.
    """
    cls = type(session)
    if is_connect(session):
        local = getattr(cls, "_active_session", None)
        if local is not None:
            local.session = session
        return
    jss = getattr(session, "_jsparkSession", None)
    jvm = getattr(session, "_jvm", None)
    if jss is not None and jvm is not None:
        try:
            jvm.SparkSession.setActiveSession(jss)
        except Exception:  # noqa: BLE001
            logger.debug("could not set the active session", exc_info=True)
    active = getattr(cls, "_activeSession", None)
    if active is None:
        cls._activeSession = session


def is_spark_on_executor_error(type_name: str, message: str) -> bool:
    """True when an executor-side error says the objective used Spark there."""
    return "CONTEXT_ONLY_VALID_ON_DRIVER" in message or (
        "SparkContext" in message and "only" in message and "driver" in message
    )


__all__ = [
    "INSTALL_HINT",
    "SparkUnavailableError",
    "activate_session",
    "add_tag",
    "callback_host",
    "default_parallelism",
    "get_or_create_session",
    "has_job_tags",
    "import_pyspark",
    "interrupt_tag",
    "is_connect",
    "is_local_master",
    "is_spark_on_executor_error",
    "master_of",
    "pyspark_version",
    "remove_tag",
    "require_java",
    "set_local_python",
    "set_scheduler_pool",
    "spark_object_types",
]
