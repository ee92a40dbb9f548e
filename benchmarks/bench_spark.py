"""Spark engine benchmark: sparktune's SparkTrials against hyperopt 0.3's, in one process.

Protocol (see benchmarks/README.md, "Spark engine"):

1. One classic ``local[N]`` SparkSession (default local[2]) shared by every measurement, UI off,
   ``PYSPARK_PYTHON`` = this interpreter. Each engine first runs a 2-trial warm-up fmin so that
   Python worker start-up is not charged to the first measurement.
2. ``noop``: an objective that returns 0.0; ``fmin`` wall time for ``--noop-evals`` trials at
   parallelism 2 (hyperopt gets fewer trials, ``--hyperopt-noop-evals``, as it runs ~0.4/s).
   Reported as trials per second.
3. ``sleep``: 24 trials of ``time.sleep(0.3)`` at parallelism 2; ideal wall time 3.6 s.
4. ``mllib``: the guide's objective (LogisticRegression accuracy over ``Iterations`` =
   randint(10) and ``Regularization`` = uniform(0, 1)) on a generated data set, 30 evaluations:
   hyperopt's sequential ``Trials`` (hyperopt's SparkTrials cannot run an objective that uses
   Spark) against sparktune ``SparkTrials(run_on="driver", parallelism=4)``, after
   ``--mllib-warmup-fits`` unmeasured fits (JIT warm-up), ``--mllib-reps`` times with the order of
   the two engines alternating; the driver JVM's CPU use is read from /proc to give the
   CPU-bound floor of the ratio.

All runs use ``tpe.suggest`` with a fixed seed. Wall time is measured around ``fmin``.

Run:  python benchmarks/bench_spark.py [--quick] [--only noop,sleep,mllib]
Needs: pip install 'sparktune[bench,spark]' (hyperopt==0.3.0, pyspark).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import Any, Callable

import numpy as np

logger = logging.getLogger("bench_spark")
TRANSPORT = "auto"  # --transport: sparktune's SparkTrials(transport=...)


def _session(master: str, remote: str | None = None) -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
    from pyspark.sql import SparkSession

    if remote:
        return SparkSession.builder.remote(remote).getOrCreate()
    return (
        SparkSession.builder.master(master)
        .appName("sparktune-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.scheduler.mode", "FAIR")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def noop(params: Any) -> float:
    return 0.0


def sleepy(params: Any) -> float:
    time.sleep(0.3)
    return float(params["x"])


def _timed(run: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def _fmin_with(
    lib: Any, fn: Callable[..., Any], space_fn: Callable[[Any], Any], evals: int, trials: Any, seed: int
) -> None:
    """``lib.fmin`` (``lib`` = the hyperopt or the sparktune module) with its own ``hp`` and TPE."""
    lib.fmin(
        fn,
        space_fn(lib.hp),
        algo=lib.tpe.suggest,
        max_evals=evals,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )


def _fmin_pair(
    session: Any,
    fn: Callable[..., Any],
    space_fn: Callable[[Any], Any],
    evals: int,
    hyperopt_evals: int,
    parallelism: int,
) -> dict[str, float]:
    import hyperopt

    import sparktune

    out: dict[str, float] = {}
    if _is_connect(session):  # hyperopt's SparkTrials needs sparkContext: not on Spark Connect
        hyperopt_evals = 0
    h_trials = hyperopt.SparkTrials(parallelism=parallelism, spark_session=session) if hyperopt_evals else None
    out["hyperopt_s"] = (
        float("nan")
        if h_trials is None
        else _timed(lambda: _fmin_with(hyperopt, fn, space_fn, hyperopt_evals, h_trials, 0))
    )
    s_trials = sparktune.SparkTrials(parallelism=parallelism, spark_session=session, transport=TRANSPORT)
    out["sparktune_s"] = _timed(lambda: _fmin_with(sparktune, fn, space_fn, evals, s_trials, 0))
    out["hyperopt_evals"] = hyperopt_evals
    out["sparktune_evals"] = evals
    return out


def _is_connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def bench_noop(session: Any, evals: int, hyperopt_evals: int) -> dict[str, float]:
    r = _fmin_pair(session, noop, lambda hp: {"x": hp.uniform("x", 0, 1)}, evals, hyperopt_evals, 2)
    r["hyperopt_trials_per_s"] = r["hyperopt_evals"] / r["hyperopt_s"]
    r["sparktune_trials_per_s"] = evals / r["sparktune_s"]
    r["speedup"] = r["sparktune_trials_per_s"] / r["hyperopt_trials_per_s"]
    return r


def bench_sleep(session: Any) -> dict[str, float]:
    r = _fmin_pair(session, sleepy, lambda hp: {"x": hp.uniform("x", 0, 1)}, 24, 24, 2)
    r["ideal_s"] = 24 * 0.3 / 2
    r["sparktune_over_ideal"] = r["sparktune_s"] / r["ideal_s"]
    r["hyperopt_over_ideal"] = r["hyperopt_s"] / r["ideal_s"]
    return r


def make_mllib_data(session: Any, rows: int, seed: int = 0) -> Any:
    """A generated binary classification set: 10 Gaussian features, a noisy linear label."""
    from pyspark.ml.feature import VectorAssembler

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 10))
    w = rng.normal(size=10)
    y = (x @ w + rng.normal(scale=1.0, size=rows) > 0).astype(float)
    cols = [f"f{i}" for i in range(10)]
    data = [tuple(map(float, r)) + (float(t),) for r, t in zip(x, y)]
    df = session.createDataFrame(data, ", ".join(f"{c} double" for c in cols) + ", label double")
    df = VectorAssembler(inputCols=cols, outputCol="features").transform(df).select("features", "label")
    return df.cache()


def mllib_objective(df: Any, status_ok: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The guide's objective: -accuracy of LogisticRegression(maxIter, regParam)."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator

    train, test = df.randomSplit([0.7, 0.3], seed=1)
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        lr = LogisticRegression(maxIter=int(params["Iterations"]), regParam=float(params["Regularization"]))
        return {"loss": -evaluator.evaluate(lr.fit(train).transform(test)), "status": status_ok}

    return objective


def _jvm_cpu_s(session: Any) -> float:
    """CPU seconds used so far by the driver JVM (user + system, all threads; Linux, classic
    local mode only: the JVM is the process pyspark started); NaN where unknown."""
    try:
        pid = session.sparkContext._gateway.proc.pid
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:  # noqa: BLE001 - not Linux, Connect, or a JVM pyspark did not start
        return float("nan")


def bench_mllib(session: Any, evals: int, data: str, rows: int, warmup_fits: int, reps: int) -> dict[str, Any]:
    import hyperopt

    import sparktune

    if data == "bundled":
        from sparktune import demo

        make = demo.make_mllib_objective(session)

        def objective_for(status_ok: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
            return make
    else:
        df = make_mllib_data(session, rows)
        df.count()

        def objective_for(status_ok: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
            return mllib_objective(df, status_ok)

    def space(hp: Any) -> dict[str, Any]:
        return {"Iterations": hp.randint("Iterations", 10), "Regularization": hp.uniform("Regularization", 0.0, 1.0)}

    # Warm-up (not measured): a fresh JVM runs these fits up to 3x slower while HotSpot compiles
    # Spark's code, and keeps getting faster for about a hundred fits; without this, whichever
    # engine runs first pays for the compilation and the other one looks faster.
    warm = objective_for(sparktune.STATUS_OK)
    rng = np.random.default_rng(123)
    t0 = time.perf_counter()
    for _ in range(warmup_fits):
        warm({"Iterations": int(rng.integers(10)), "Regularization": float(rng.uniform())})
    out: dict[str, Any] = {
        "evals": evals,
        "data": data,
        "rows": rows if data != "bundled" else 455,
        "warmup_fits": warmup_fits,
        "warmup_s": time.perf_counter() - t0,
        "cores": os.cpu_count(),
        "reps": [],
    }

    def hyperopt_run(rep: int) -> None:
        _fmin_with(hyperopt, objective_for(hyperopt.STATUS_OK), space, evals, hyperopt.Trials(), rep)

    def sparktune_run(rep: int) -> None:
        trials = sparktune.SparkTrials(parallelism=4, spark_session=session, run_on="driver")
        _fmin_with(sparktune, objective_for(sparktune.STATUS_OK), space, evals, trials, rep)

    # The two engines alternate which goes first, so neither is always measured on a warmer JVM.
    for rep in range(reps):
        r: dict[str, float] = {}
        order = (("hyperopt_sequential", hyperopt_run), ("sparktune_driver_p4", sparktune_run))
        for name, run in order if rep % 2 == 0 else order[::-1]:
            c0 = _jvm_cpu_s(session)
            r[f"{name}_s"] = _timed(lambda: run(rep))  # noqa: B023 - called at once
            r[f"{name}_jvm_cores"] = (_jvm_cpu_s(session) - c0) / r[f"{name}_s"]
        r["ratio"] = r["sparktune_driver_p4_s"] / r["hyperopt_sequential_s"]
        # CPU bound: the same fits need the same CPU time (true once the JVM is warm, not while it
        # is still compiling), so on `cores` cores no schedule can take less than
        # (sequential wall x cores used) / cores.
        r["cpu_bound_ratio"] = r["hyperopt_sequential_jvm_cores"] / (os.cpu_count() or 1)
        out["reps"].append(r)
        logger.info("mllib rep %d: %s", rep, json.dumps(r))
    out["ratio_median"] = float(np.median([r["ratio"] for r in out["reps"]]))
    out["cpu_bound_ratio_median"] = float(np.median([r["cpu_bound_ratio"] for r in out["reps"]]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--master", default="local[2]", help="e.g. local[2] or spark://127.0.0.1:7077")
    parser.add_argument(
        "--remote", help="a Spark Connect URL (sc://127.0.0.1:15002); hyperopt's SparkTrials is skipped"
    )
    parser.add_argument("--quick", action="store_true", help="fewer trials (smoke run)")
    parser.add_argument("--only", default="noop,sleep,mllib")
    parser.add_argument("--noop-evals", type=int, default=1000)
    parser.add_argument("--hyperopt-noop-evals", type=int, default=20)
    parser.add_argument("--mllib-evals", type=int, default=30)
    parser.add_argument(
        "--mllib-data",
        choices=("generated", "bundled"),
        default="generated",
        help="generated: --mllib-rows rows of 10 features; bundled: the demo's Breast Cancer data",
    )
    parser.add_argument("--mllib-rows", type=int, default=20000)
    parser.add_argument("--mllib-warmup-fits", type=int, default=60)
    parser.add_argument("--mllib-reps", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--transport",
        default="auto",
        help="sparktune's SparkTrials transport: auto, socket or jobs (one job per trial)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("py4j", "hyperopt", "sparktune", "pyspark"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if args.quick:
        args.noop_evals, args.hyperopt_noop_evals, args.mllib_evals = 200, 6, 8
        args.mllib_warmup_fits, args.mllib_reps = 4, 1

    import hyperopt

    import sparktune

    global TRANSPORT
    TRANSPORT = args.transport
    session = _session(args.master, args.remote)
    if not _is_connect(session):
        session.sparkContext.setLogLevel("ERROR")
    results: dict[str, Any] = {
        "master": args.remote or args.master,
        "transport": args.transport,
        "cores": os.cpu_count(),
        "pyspark": session.version,
        "hyperopt": hyperopt.__version__,
    }
    # Warm-up: start Python workers for both engines (not measured).
    _fmin_pair(session, noop, lambda hp: {"x": hp.uniform("x", 0, 1)}, 2, 2, 2)
    only = set(args.only.split(","))
    if "noop" in only:
        results["noop"] = bench_noop(session, args.noop_evals, args.hyperopt_noop_evals)
        logger.info("noop: %s", json.dumps(results["noop"], indent=1))
    if "sleep" in only:
        results["sleep"] = bench_sleep(session)
        logger.info("sleep: %s", json.dumps(results["sleep"], indent=1))
    if "mllib" in only:
        results["mllib"] = bench_mllib(
            session, args.mllib_evals, args.mllib_data, args.mllib_rows, args.mllib_warmup_fits, args.mllib_reps
        )
        logger.info("mllib: %s", json.dumps(results["mllib"], indent=1))
    results["sparktune_version"] = getattr(sparktune, "__version__", "dev")
    logger.info("%s", json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    session.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
