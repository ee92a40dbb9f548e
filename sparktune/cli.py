"""The ``sparktune`` command: run a tuning job described by a TOML file (``conf/``), or the demo.

``sparktune demo`` runs the built-in demo job (the hyperopt guide's MLlib logistic regression on
bundled data, 4 concurrent trials on a local Spark session). ``sparktune run --conf FILE`` runs a
job file; the same file works under ``spark-submit`` (``spark-submit sparktune/cli.py run --conf
FILE``), where the master and Spark settings come from spark-submit.
"""

from __future__ import annotations

if __name__ == "__main__":  # run as a script (spark-submit): this folder must not shadow other modules
    import os as _os
    import sys as _sys

    _here = _os.path.dirname(_os.path.abspath(__file__))
    _sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != _here]

import argparse
import copy
import importlib
import json
import logging
import os
import sys
import time
from typing import Any, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger("sparktune.cli")

#: The demo job; ``conf/demo.toml`` holds the same settings (a test keeps them equal).
DEMO_CONFIG: dict[str, Any] = {
    "study": {
        "objective": "sparktune.demo:make_mllib_objective",
        "objective_is_factory": True,
        "space": "sparktune.demo:SPACE",
        "algo": "tpe",
        "max_evals": 30,
        "seed": 42,
        "timeout": 0,
        "trials_save_file": "",
    },
    "trials": {
        "engine": "spark",
        "run_on": "driver",
        "parallelism": 4,
        "trial_timeout": 0,
        "synchronous": False,
    },
    "spark": {
        "master": "local[2]",
        "app_name": "sparktune-demo",
        "conf": {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.showConsoleProgress": "false",
        },
    },
}

_ALGOS = ("tpe", "rand", "anneal")
_ENGINES = ("spark", "local")


class ConfigError(ValueError):
    """A job file breaks a rule; the message names the key and the value."""


def load_config(path: str) -> dict[str, Any]:
    """Read a job file (TOML)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read job file {path!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"job file {path!r} is not valid TOML: {exc}") from None


def _import(ref: str, key: str) -> Any:
    if not isinstance(ref, str) or ":" not in ref:
        raise ConfigError(f"`{key}` must be 'module:attribute', got {key}={ref!r}")
    module, attr = ref.split(":", 1)
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"`{key}`: cannot import module {module!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"`{key}`: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _number(section: dict[str, Any], key: str, default: Any, *, integer: bool = False, minimum: float = 0) -> Any:
    value = section.get(key, default)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < minimum:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"`{key}` must be {kind} >= {minimum}, got {key}={value!r}")
    return value


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Check a job config before anything starts; returns the normalised settings."""
    study = config.get("study", {})
    trials = config.get("trials", {})
    spark = config.get("spark", {})
    algo = study.get("algo", "tpe")
    if algo not in _ALGOS:
        raise ConfigError(f"`algo` must be one of {list(_ALGOS)}, got algo={algo!r}")
    engine = trials.get("engine", "spark")
    if engine not in _ENGINES:
        raise ConfigError(f"`engine` must be one of {list(_ENGINES)}, got engine={engine!r}")
    run_on = trials.get("run_on", "executors")
    if run_on not in ("driver", "executors"):
        raise ConfigError(f"`run_on` must be 'driver' or 'executors', got run_on={run_on!r}")
    return {
        "objective": study.get("objective"),
        "factory": bool(study.get("objective_is_factory", False)),
        "space": study.get("space"),
        "algo": algo,
        "max_evals": _number(study, "max_evals", 30, integer=True, minimum=1),
        "seed": _number(study, "seed", 0, integer=True),
        "timeout": _number(study, "timeout", 0) or None,
        "trials_save_file": str(study.get("trials_save_file", "")),
        "engine": engine,
        "run_on": run_on,
        "parallelism": _number(trials, "parallelism", 2, integer=True, minimum=1),
        "trial_timeout": _number(trials, "trial_timeout", 0) or None,
        "synchronous": bool(trials.get("synchronous", False)),
        "master": spark.get("master", "local[2]"),
        "app_name": spark.get("app_name", "sparktune"),
        "spark_conf": dict(spark.get("conf", {})),
    }


def _spark_session(settings: dict[str, Any]) -> Any:
    from sparktune import _spark_compat as compat

    compat.import_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(settings["app_name"])
    # Under spark-submit (or with SPARK_REMOTE) the master comes from there, not from the file.
    if not (os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_REMOTE")):
        if compat.is_local_master(settings["master"]):
            compat.set_local_python()
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local job binds to loopback only
        builder = builder.master(settings["master"])
    for k, v in settings["spark_conf"].items():
        builder = builder.config(k, str(v))
    return builder.getOrCreate()


def run_job(config: dict[str, Any]) -> dict[str, Any]:
    """Run one tuning job; returns a JSON-able summary."""
    import numpy as np

    from sparktune import anneal, fmin, rand, space_eval, tpe

    s = validate(config)
    space = _import(s["space"], "space")
    objective = _import(s["objective"], "objective")
    algo = {"tpe": tpe.suggest, "rand": rand.suggest, "anneal": anneal.suggest}[s["algo"]]
    spark = None
    if s["engine"] == "spark":
        from sparktune.spark import SparkTrials

        spark = _spark_session(s)
        fn = objective(spark) if s["factory"] else objective
        trials: Any = SparkTrials(
            parallelism=s["parallelism"],
            spark_session=spark,
            run_on=s["run_on"],
            trial_timeout=s["trial_timeout"],
            synchronous=s["synchronous"],
        )
    else:
        from sparktune import Trials

        fn = objective() if s["factory"] else objective
        trials = Trials()
    t0 = time.perf_counter()
    best = fmin(
        fn,
        space,
        algo=algo,
        max_evals=s["max_evals"],
        timeout=s["timeout"],
        trials=trials,
        rstate=np.random.default_rng(s["seed"]),
        trials_save_file=s["trials_save_file"],
        show_progressbar=sys.stderr.isatty(),
    )
    wall = time.perf_counter() - t0
    summary = {
        "best": best,
        "best_point": space_eval(space, best),
        "best_loss": trials.best_trial["result"]["loss"],
        "trials": len(trials),
        "failed": len(trials.all_trials) - len(trials),
        "wall_seconds": round(wall, 2),
        "engine": s["engine"] if spark is None else f"spark ({s['run_on']}, parallelism {s['parallelism']})",
    }
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sparktune", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="tune the bundled demo model (local Spark session)")
    demo.add_argument("--local", action="store_true", help="run without Spark (numpy model, in-process trials)")
    run = sub.add_parser("run", help="run a job file")
    run.add_argument("--conf", required=True, help="path of a TOML job file (see conf/)")
    for p in (demo, run):
        p.add_argument("--max-evals", type=int, help="override study.max_evals")
        p.add_argument("--parallelism", type=int, help="override trials.parallelism")
        p.add_argument("--master", help="override spark.master (ignored under spark-submit)")
        p.add_argument("--trials-save-file", help="override study.trials_save_file (resumable runs)")
        p.add_argument("--output", help="also write the summary as JSON to this path")
        p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)

    try:
        if args.command == "demo":
            config = copy.deepcopy(DEMO_CONFIG)
            if args.local:
                config["study"]["objective"] = "sparktune.demo:make_numpy_objective"
                config["trials"]["engine"] = "local"
        else:
            config = load_config(args.conf)
        if args.max_evals is not None:
            config.setdefault("study", {})["max_evals"] = args.max_evals
        if args.parallelism is not None:
            config.setdefault("trials", {})["parallelism"] = args.parallelism
        if args.master is not None:
            config.setdefault("spark", {})["master"] = args.master
        if args.trials_save_file is not None:
            config.setdefault("study", {})["trials_save_file"] = args.trials_save_file
        summary = run_job(config)
    except ConfigError as exc:
        print(f"sparktune: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":  # spark-submit sparktune/cli.py run --conf FILE
    sys.exit(main())
