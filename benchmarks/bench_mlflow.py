"""MLflow tracking benchmark: sparktune with tracking on and off, and MLflow 3's MlflowSparkStudy.

Protocol (see benchmarks/README.md, "MLflow tracking"):

1. One classic ``local[2]`` SparkSession shared by every measurement (UI off, ``PYSPARK_PYTHON``
   = this interpreter). sparktune runs ``SparkTrials(parallelism=2)`` (executors); the study runs
   ``MlflowSparkStudy.optimize(n_jobs=2)``. Both use TPE with a fixed seed over one float
   ``x`` in [-10, 10].
2. Every measurement gets its own SQLite tracking store (``sqlite:///...``), a copy of one file
   whose MLflow tables were created before timing (creating them takes seconds), and its own
   experiment. Tracking for sparktune: ``sparktune.mlflow.autolog(flush_timeout=3600)``, so the
   wall time includes every trial reaching MLflow (fmin waits for its logging queue).
3. Before the measurements, each engine runs a 2-trial warm-up (Python workers started,
   imports done) against a throwaway store.
4. ``noop``: an objective returning ``x ** 2``; wall time around ``fmin`` / ``optimize`` for
   ``--noop-trials`` trials (sparktune) and ``--study-noop-trials`` (the study, which runs at
   well under 1 trial/s). Reported: trials/s.
5. ``sleep``: 24 trials of ``time.sleep(0.3)``; ideal wall time 24 * 0.3 / 2 = 3.6 s.
6. ``scale``: sparktune with tracking on, no-op objective, at each of ``--scale`` trial counts
   (default 100 and 10,000): wall time / trials = cost per trial.
7. After each tracked run the store is read back: one parent run and one child run per trial
   (sparktune), or the study's runs, are counted, so a fast number cannot hide lost logging.

Wall time is ``time.perf_counter`` around the call. One run per row; the machine's 1-minute load
average is recorded with each row, since the machine is shared.

Run:  python benchmarks/bench_mlflow.py [--quick] [--only noop,sleep,scale] [--json out.json]
Needs: pip install 'sparktune[spark,mlflow,bench]' (mlflow 3 for MlflowSparkStudy, optuna).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger("bench_mlflow")


def _session() -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("sparktune-bench-mlflow")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.scheduler.mode", "FAIR")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


class Stores:
    """Fresh SQLite tracking stores, copies of one migrated file."""

    def __init__(self) -> None:
        from mlflow import MlflowClient

        self.dir = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
        self.template = self.dir / "template.db"
        MlflowClient(tracking_uri=f"sqlite:///{self.template}").search_experiments()  # creates the tables
        self.n = 0

    def new(self) -> tuple[str, str]:
        """(tracking URI, experiment id) of a new store with one experiment."""
        from mlflow import MlflowClient

        self.n += 1
        db = self.dir / f"store{self.n}.db"
        shutil.copyfile(self.template, db)
        uri = f"sqlite:///{db}"
        name = f"bench-{uuid.uuid4().hex[:8]}"
        eid = MlflowClient(tracking_uri=uri).create_experiment(
            name, artifact_location=(self.dir / f"artifacts{self.n}").as_uri()
        )
        return uri, eid

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _count(uri: str, eid: str) -> dict[str, int]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs([eid], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    children = sum(1 for r in runs if "sparktune.tid" in r.data.tags)
    return {"runs": len(runs), "children": children, "parents": len(runs) - children}


def _noop(p: Any) -> float:
    return float(p["x"]) ** 2


def _sleep(p: Any) -> float:
    time.sleep(0.3)
    return float(p["x"]) ** 2


def run_sparktune(
    session: Any, stores: Stores, fn: Callable[..., float], n: int, tracking: bool, threads: int | None = None
) -> dict[str, Any]:
    import mlflow

    import sparktune.mlflow as sm
    from sparktune import fmin, hp, tpe
    from sparktune.spark import SparkTrials

    uri, eid = stores.new()
    mlflow.set_tracking_uri(uri)
    if tracking:
        sm.autolog(experiment_name=mlflow.MlflowClient().get_experiment(eid).name, flush_timeout=3600, threads=threads)
    else:
        sm.autolog(disable=True)
    trials = SparkTrials(parallelism=2, spark_session=session)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    fmin(
        fn,
        {"x": hp.uniform("x", -10, 10)},
        algo=tpe.suggest,
        max_evals=n,
        trials=trials,
        rstate=0,
        show_progressbar=False,
    )
    wall = time.perf_counter() - t0
    sm.autolog(disable=True)
    row: dict[str, Any] = {
        "engine": f"sparktune tracking {'on' if tracking else 'off'}",
        "trials": n,
        "wall_s": wall,
        "trials_per_s": n / wall,
        "ms_per_trial": 1000 * wall / n,
        "load1": load,
    }
    if tracking:
        row.update(_count(uri, eid))
    return row


def run_study(session: Any, stores: Stores, fn: Callable[..., float], n: int) -> dict[str, Any]:
    import optuna
    from mlflow.optuna.storage import MlflowStorage
    from mlflow.pyspark.optuna.study import MlflowSparkStudy

    uri, eid = stores.new()
    import mlflow

    mlflow.set_tracking_uri(uri)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        return fn({"x": trial.suggest_float("x", -10, 10)})

    storage = MlflowStorage(experiment_id=eid)
    study = MlflowSparkStudy(
        f"study-{uuid.uuid4().hex[:6]}", storage, sampler=optuna.samplers.TPESampler(seed=0), mlflow_tracking_uri=uri
    )
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n, n_jobs=2)
    wall = time.perf_counter() - t0
    row = {
        "engine": "MlflowSparkStudy",
        "trials": n,
        "wall_s": wall,
        "trials_per_s": n / wall,
        "ms_per_trial": 1000 * wall / n,
        "load1": load,
    }
    row.update({"completed": len(study.trials)}, **_count(uri, eid))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--noop-trials", type=int, default=100)
    parser.add_argument("--study-noop-trials", type=int, default=100)
    parser.add_argument("--scale", default="100,10000", help="trial counts for the cost-per-trial rows")
    parser.add_argument("--only", default="noop,sleep,scale")
    parser.add_argument("--threads", type=int, default=None, help="sparktune's logging threads (default: its own)")
    parser.add_argument("--no-study", action="store_true", help="skip MlflowSparkStudy")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run, not a measurement")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("sparktune").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if args.quick:
        args.noop_trials, args.study_noop_trials, args.scale = 20, 4, "20,200"
    only = set(args.only.split(","))

    import mlflow
    import pyspark

    session = _session()
    stores = Stores()
    rows: list[dict[str, Any]] = []
    try:
        run_sparktune(session, stores, _noop, 2, tracking=True)  # warm-ups
        if not args.no_study:
            run_study(session, stores, _noop, 2)

        def add(case: str, row: dict[str, Any]) -> None:
            row["case"] = case
            rows.append(row)
            logger.info("%s", json.dumps(row))

        if "noop" in only:
            add("noop", run_sparktune(session, stores, _noop, args.noop_trials, tracking=False))
            add("noop", run_sparktune(session, stores, _noop, args.noop_trials, tracking=True, threads=args.threads))
            if not args.no_study:
                add("noop", run_study(session, stores, _noop, args.study_noop_trials))
        if "sleep" in only:
            add("sleep", run_sparktune(session, stores, _sleep, 24, tracking=False))
            add("sleep", run_sparktune(session, stores, _sleep, 24, tracking=True, threads=args.threads))
            if not args.no_study:
                add("sleep", run_study(session, stores, _sleep, 24))
        if "scale" in only:
            for n in (int(v) for v in args.scale.split(",")):
                add("scale", run_sparktune(session, stores, _noop, n, tracking=True, threads=args.threads))
    finally:
        stores.close()
        session.stop()
    result = {
        "rows": rows,
        "mlflow": mlflow.__version__,
        "pyspark": pyspark.__version__,
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
