"""Real MLflow stores for the tracking tests: SQLite files and ``mlflow server`` processes.

Creating MLflow's tables in a new SQLite file takes seconds (its migrations), so one file is
migrated once per test process and copied for every store a test needs. Servers listen on
127.0.0.1 only, run in their own process group and are killed on exit from ``mlflow_server``,
also when the test fails or the server does not come up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

_template: Path | None = None

# No telemetry calls from the client or the server during tests.
QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def migrated_db(dest: Path) -> Path:
    """A new SQLite tracking database at ``dest`` (a copy of one migrated once per process)."""
    global _template
    if _template is None or not _template.exists():
        from mlflow import MlflowClient

        tmpdir = Path(tempfile.mkdtemp(prefix="sparktune-mlflow-template-"))
        path = tmpdir / "template.db"
        MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()  # creates the tables
        _template = path
    shutil.copyfile(_template, dest)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


class Server:
    """A running ``mlflow server``; ``url`` is its tracking URI."""

    def __init__(self, db: Path, artifacts: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        env = {**os.environ, **QUIET_ENV}
        argv = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            str(artifacts),
            "--workers",
            "1",
        ]
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if _healthy(self.url):
                return
            time.sleep(0.2)
        raise RuntimeError(f"mlflow server not ready within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@contextlib.contextmanager
def mlflow_server(workdir: Path, port: int | None = None, wait: bool = True) -> Iterator[Server]:
    """Start ``mlflow server`` on 127.0.0.1 over a fresh SQLite store in ``workdir``; always stopped."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = migrated_db(workdir / "server.db")
    artifacts = workdir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    server = Server(db, artifacts, port or free_port(), workdir / "server.log")
    try:
        if wait:
            server.wait_ready()
        yield server
    finally:
        server.stop()


def runs_of(uri: str, experiment_name: str) -> dict[str, Any]:
    """The experiment's runs: ``{"parents": [...], "children": {parent_id: [...]}}`` (all pages)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment_name)
    assert exp is not None, f"no experiment {experiment_name!r} at {uri}"
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs([exp.experiment_id], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    by_id = {r.info.run_id: r for r in runs}
    parents = [r for r in runs if r.data.tags.get("sparktune.tid") is None]
    children: dict[str, list[Any]] = {}
    for r in runs:
        if r.data.tags.get("sparktune.tid") is not None:
            children.setdefault(r.data.tags.get("mlflow.parentRunId", ""), []).append(r)
    return {"parents": parents, "children": children, "by_id": by_id, "client": client}


class PortForward:
    """A TCP forwarder 127.0.0.1:``port`` -> ``target_port``, to take a server off the network
    and bring it back without restarting it: before ``start`` (and after ``stop``) nothing listens
    on ``port``, so clients get "connection refused" as from a server that is down."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port, self.target_port = port, target_port
        self.url = f"http://127.0.0.1:{port}"
        self._sock: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._sock = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True, name="port-forward").start()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.close()
            self._conns.clear()
