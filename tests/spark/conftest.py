"""Spark fixtures: a local session, a standalone cluster and a Spark Connect server.

Everything listens on 127.0.0.1 only. The services are started with the launchers shipped in
the pyspark package (``bin/spark-class``, ``bin/spark-submit``) in their own process groups,
and their groups are killed at teardown (also after a failed start).

One classic SparkContext can exist per Python process, so ``spark`` is a single package-scoped
fixture parametrised over the kinds: ``local`` (local[2]); ``standalone`` (master + one 2-core
worker, client-mode driver in this process); ``connect`` (Spark Connect server with a local[2]
master, and a ``sc://127.0.0.1:PORT`` client session). pytest runs all tests of one kind before
it tears that kind down and starts the next; the last one is torn down, and the environment
restored, when this package's tests are done, before the rest of the suite runs. Connect comes
last: creating a Connect session switches pyspark into "remote" mode for the process.

Measured on the 2-core CI machine: local session ~5 s, standalone master ~2 s + worker ~3 s +
session with its executor ~13 s, Connect server ~5 s + client session ~3 s.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

try:
    import pyspark
except ImportError:  # the Spark tests need pip install 'sparktune[test]'; the rest of the suite does not
    pyspark = None
    collect_ignore_glob = ["test_*.py"]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
SPARK_HOME = Path(pyspark.__file__).resolve().parent if pyspark is not None else Path()
KINDS = ["local", "standalone", "connect"]

# Fast cancellation and quiet, loopback-only services, for every kind.
COMMON_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.scheduler.mode": "FAIR",
    "spark.python.task.killTimeout": "1s",
    "spark.sql.shuffle.partitions": "2",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark_kind(*kinds): run only on these kinds of Spark (local, standalone, connect)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (rather than skip) the kinds a test does not run on."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("spark") if callspec is not None else None
        marker = item.get_closest_marker("spark_kind")
        kinds = set(marker.args) if marker is not None else None
        if kinds is None and "local_spark" in getattr(item, "fixturenames", ()):
            kinds = {"local"}
        (drop if kind is not None and kinds is not None and kind not in kinds else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@dataclass
class SparkEnv:
    """What a test gets: the session, its kind, and the log directory of started services.

    ``master_url`` is the standalone master's ``spark://`` URL (standalone only); ``ui_url`` the
    Spark UI of the Connect server (connect only), whose REST API reports the server's jobs.
    """

    kind: str
    session: Any
    log_dir: Path
    master_url: str | None = None
    ui_url: str | None = None

    @property
    def is_connect(self) -> bool:
        return self.kind == "connect"

    def active_job_ids(self) -> list[int]:
        """Ids of the Spark jobs running now: from the status tracker on classic, and on Connect
        (no status tracker in the client) from the REST API of the Connect server's Spark UI."""
        if not self.is_connect:
            return list(self.session.sparkContext.statusTracker().getActiveJobsIds())
        assert self.ui_url is not None
        apps = _get_json(f"{self.ui_url}/api/v1/applications")
        jobs = _get_json(f"{self.ui_url}/api/v1/applications/{apps[0]['id']}/jobs?status=running")
        return sorted(int(job["jobId"]) for job in jobs)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback URL built here
        return json.load(response)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # pyspark sets this in os.environ once a Connect session exists in this process; a child
    # (a Spark service, the kill-and-resume driver) must not inherit it, or its classic
    # SparkSession.builder asks for a Connect URL.
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOCAL_HOSTNAME="localhost",
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        # Executors' Python workers import sparktune from this checkout if it is not installed.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(what: str, ready: Any, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; log:\n{log.read_text()[-4000:]}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout} s; log:\n{log.read_text()[-4000:]}")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class _Services:
    """Processes started by a fixture; ``stop`` kills their process groups (TERM, then KILL)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.log_dir / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc, log

    def stop(self) -> None:
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)


def _classic_session(master: str, extra: dict[str, str] | None = None) -> Any:
    from pyspark.sql import SparkSession

    os.environ.update(
        {
            k: v
            for k, v in _env().items()
            if k in ("SPARK_LOCAL_IP", "SPARK_LOCAL_HOSTNAME", "PYSPARK_PYTHON", "PYTHONPATH", "SPARK_HOME")
        }
    )
    builder = SparkSession.builder.master(master).appName("sparktune-tests")
    for key, value in {**COMMON_CONF, **(extra or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _start_standalone(services: _Services) -> str:
    master_port = _free_port()
    master, master_log = services.start(
        "master",
        [
            str(SPARK_HOME / "bin" / "spark-class"),
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(master_port),
            "--webui-port",
            "0",
        ],
    )
    _wait_for("standalone master", lambda: _port_open(master_port), master, master_log)
    url = f"spark://127.0.0.1:{master_port}"
    worker, worker_log = services.start(
        "worker",
        [
            str(SPARK_HOME / "bin" / "spark-class"),
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--host",
            "127.0.0.1",
            "--webui-port",
            "0",
            # 4 task slots on this 2-core machine: the tests' session takes 2 (spark.cores.max), and
            # an application submitted during the tests (the README's spark-submit line) the others.
            "--cores",
            "4",
            "--memory",
            "2g",
            "--work-dir",
            str(services.log_dir / "work"),
        ],
    )
    _wait_for(
        "standalone worker", lambda: "Successfully registered with master" in worker_log.read_text(), worker, worker_log
    )
    return url


def _start_connect(services: _Services) -> tuple[int, str]:
    """Start a Connect server; returns its gRPC port and the URL of its Spark UI (loopback)."""
    port, ui_port = _free_port(), _free_port()
    # Its UI is on: the tests read the server's running jobs from the UI's REST API.
    conf = {**COMMON_CONF, "spark.ui.enabled": "true", "spark.ui.port": str(ui_port)}
    argv = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[2]",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
    ]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    argv.append("spark-internal")
    server, log = services.start("connect-server", argv)
    _wait_for("Spark Connect server", lambda: _port_open(port) and _port_open(ui_port), server, log)
    return port, f"http://127.0.0.1:{ui_port}"


# Environment variables the fixtures (or pyspark's Connect builder) set; restored at teardown so
# that tests outside tests/spark see the environment they started with.
_ENV_KEYS = (
    "SPARK_LOCAL_IP",
    "SPARK_LOCAL_HOSTNAME",
    "PYSPARK_PYTHON",
    "PYTHONPATH",
    "SPARK_HOME",
    "SPARK_CONNECT_MODE_ENABLED",
    "SPARK_REMOTE",
    "SPARK_LOCAL_REMOTE",
)


@pytest.fixture(scope="package", params=KINDS)
def spark(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkEnv]:
    """A running Spark of each kind in turn (local, standalone, connect); see the module doc."""
    kind = request.param
    if kind == "connect" and not any((SPARK_HOME / "jars").glob("spark-connect_*.jar")):
        pytest.skip(
            f"pyspark {pyspark.__version__}'s wheel has no Spark Connect server (it ships in the wheel from "
            "Spark 4.0; on 3.5 its jar comes from Maven with --packages, which this machine cannot reach)"
        )
    log_dir = tmp_path_factory.mktemp(f"spark-{kind}")
    services = _Services(log_dir)
    session = None
    master_url = ui_url = None
    saved_env = {key: os.environ.get(key) for key in _ENV_KEYS}
    t0 = time.monotonic()
    try:
        if kind == "local":
            session = _classic_session("local[2]")
        elif kind == "standalone":
            url = master_url = _start_standalone(services)
            session = _classic_session(
                url, {"spark.executor.cores": "2", "spark.executor.memory": "1g", "spark.cores.max": "2"}
            )
            session.range(2).count()  # wait for the executor to register
        else:
            port, ui_url = _start_connect(services)
            from pyspark.sql import SparkSession

            session = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
            session.range(1).count()
        logging.getLogger("sparktune.tests").info("%s Spark ready in %.1f s", kind, time.monotonic() - t0)
        yield SparkEnv(kind, session, log_dir, master_url=master_url, ui_url=ui_url)
    finally:
        if session is not None:
            try:
                session.stop()
            except Exception:  # noqa: BLE001 - stopping after a failure must not hide it
                logger.warning("stopping the %s session failed", kind, exc_info=True)
        services.stop()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="package")
def local_spark(spark: SparkEnv) -> SparkEnv:
    """Only the local kind (tests that need a classic session but not each kind)."""
    return spark


def wait_no_active_jobs(env: SparkEnv, timeout: float = 15.0) -> list[int]:
    """Poll until no Spark job is active (classic); returns the ids still active at the end."""
    deadline = time.monotonic() + timeout
    active = env.active_job_ids()
    while active and time.monotonic() < deadline:
        time.sleep(0.1)
        active = env.active_job_ids()
    return active


def longest_overlap(trials: Any) -> float:
    """The longest time, in seconds, that two trials ran at once, from their recorded start and end
    (``book_time``: when the evaluation started; ``refresh_time``: when its outcome was recorded)."""
    spans = sorted(
        (t["book_time"], t["refresh_time"]) for t in trials.all_trials if t["book_time"] and t["refresh_time"]
    )
    longest = 0.0
    for i, (start, end) in enumerate(spans):
        for other_start, other_end in spans[i + 1 :]:
            longest = max(longest, (min(end, other_end) - max(start, other_start)).total_seconds())
    return longest
