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
import difflib
import importlib
import importlib.util
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
            "spark.driver.extraJavaOptions": "-Ddev.ludovic.netlib.blas.allowNative=false",
        },
    },
}

_ALGOS = ("tpe", "rand", "anneal")
_ENGINES = ("spark", "local")

#: Value kinds of job-file keys: the Python types TOML gives for them, and how an error names them.
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "bool": ((bool,), "true or false"),
    "int": ((int,), "an integer"),
    "number": ((int, float), "a number"),
    "table": ((dict,), "a table"),
}

#: Every key a job file may hold: section -> key -> value kind. ``spark.conf`` is a table of Spark
#: settings (any key; a string, number or boolean value). A new setting is one more entry here.
SCHEMA: dict[str, dict[str, str]] = {
    "study": {
        "objective": "string",
        "objective_is_factory": "bool",
        "space": "string",
        "algo": "string",
        "max_evals": "int",
        "seed": "int",
        "timeout": "number",
        "trials_save_file": "string",
    },
    "trials": {
        "engine": "string",
        "run_on": "string",
        "parallelism": "int",
        "trial_timeout": "number",
        "synchronous": "bool",
    },
    "spark": {
        "master": "string",
        "app_name": "string",
        "conf": "table",
    },
}


class ConfigError(ValueError):
    """A job file breaks a rule; the message names the file, the key and the value."""


def load_config(path: str) -> dict[str, Any]:
    """Read a job file (TOML); raises ``ConfigError`` naming the path when it cannot be read or parsed."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read job file {path!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"job file {path!r} is not valid TOML: {exc}") from None


def _nearest(key: str, section: str | None) -> str:
    """`` (did you mean `s.k`?)`` naming the known key nearest to ``key``, else the known names."""
    dotted = f"{section}.{key}" if section else key
    # The same key in another section is the likeliest slip (`max_evals` under [trials]).
    close = [f"{s}.{key}" for s, keys in SCHEMA.items() if key in keys and f"{s}.{key}" != dotted]
    if not close and section in SCHEMA:
        close = [f"{section}.{k}" for k in difflib.get_close_matches(key, list(SCHEMA[section]), n=1, cutoff=0.6)]
    if not close:
        everywhere = {k: f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys}
        if section is None:
            everywhere.update({s: s for s in SCHEMA})
        close = [everywhere[k] for k in difflib.get_close_matches(key, list(everywhere), n=1, cutoff=0.6)]
    if close:
        return f" (did you mean `{close[0]}`?)"
    names = sorted(SCHEMA[section]) if section in SCHEMA else sorted(SCHEMA)
    return f" (known: {', '.join(names)})"


def check_keys(config: dict[str, Any], where: str = "job file") -> None:
    """Refuse keys and sections that ``SCHEMA`` does not know, and values of the wrong type.

    Args:
        config: the parsed job file.
        where: how messages name the source, e.g. ``"job file 'conf/demo.toml'"``.

    Raises:
        ConfigError: naming ``where``, the dotted key (``study.max_eval``) and the nearest known key.
    """
    for section, body in config.items():
        if section not in SCHEMA:
            kind = "section" if isinstance(body, dict) else "key"
            raise ConfigError(f"{where}: unknown {kind} `{section}`{_nearest(section, None)}")
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: `{section}` must be a table ([{section}]), got {section}={body!r}")
        for key, value in body.items():
            if key not in SCHEMA[section]:
                raise ConfigError(f"{where}: unknown key `{section}.{key}`{_nearest(key, section)}")
            types, name = _KINDS[SCHEMA[section][key]]
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise ConfigError(f"{where}: `{section}.{key}` must be {name}, got {section}.{key}={value!r}")
    for key, value in config.get("spark", {}).get("conf", {}).items():
        if not isinstance(value, (str, int, float, bool)):
            raise ConfigError(f"{where}: `spark.conf.{key}` must be a string, number or boolean, got {value!r}")


def _import(ref: Any, key: str, where: str = "job file") -> Any:
    if not isinstance(ref, str) or ":" not in ref:
        raise ConfigError(f"{where}: `{key}` must be 'module:attribute', got {key}={ref!r}")
    module, attr = ref.split(":", 1)
    try:
        obj: Any = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure to import the user's module is their error to fix
        raise ConfigError(f"{where}: `{key}`: cannot import module {module!r}: {type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{where}: `{key}`: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _number(
    body: dict[str, Any], name: str, default: Any, *, integer: bool = False, minimum: float = 0, where: str
) -> Any:
    """``body[key]`` (``name`` is ``section.key``) checked to be a number ``>= minimum``."""
    value = body.get(name.split(".", 1)[1], default)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < minimum:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}: `{name}` must be {kind} >= {minimum}, got {name}={value!r}")
    return value


def validate(config: dict[str, Any], where: str = "job file") -> dict[str, Any]:
    """Check a job config before anything starts; returns the normalised settings.

    Args:
        config: the parsed job file (sections ``study``, ``trials``, ``spark``; see ``SCHEMA``).
        where: how error messages name the source, e.g. ``"job file 'conf/demo.toml'"``.

    Raises:
        ConfigError: an unknown key or section, a value of the wrong type, or a value out of range;
            the message names ``where``, the key as ``section.key`` and the value.
    """
    check_keys(config, where)
    study = config.get("study", {})
    trials = config.get("trials", {})
    spark = config.get("spark", {})
    algo = study.get("algo", "tpe")
    if algo not in _ALGOS:
        raise ConfigError(f"{where}: `study.algo` must be one of {list(_ALGOS)}, got algo={algo!r}")
    engine = trials.get("engine", "spark")
    if engine not in _ENGINES:
        raise ConfigError(f"{where}: `trials.engine` must be one of {list(_ENGINES)}, got engine={engine!r}")
    run_on = trials.get("run_on", "executors")
    if run_on not in ("driver", "executors"):
        raise ConfigError(f"{where}: `trials.run_on` must be 'driver' or 'executors', got run_on={run_on!r}")
    settings = {
        "objective": study.get("objective"),
        "factory": bool(study.get("objective_is_factory", False)),
        "space": study.get("space"),
        "algo": algo,
        "max_evals": _number(study, "study.max_evals", 30, integer=True, minimum=1, where=where),
        "seed": _number(study, "study.seed", 0, integer=True, where=where),
        "timeout": _number(study, "study.timeout", 0, where=where) or None,
        "trials_save_file": str(study.get("trials_save_file", "")),
        "engine": engine,
        "run_on": run_on,
        "parallelism": _number(trials, "trials.parallelism", 2, integer=True, minimum=1, where=where),
        "trial_timeout": _number(trials, "trials.trial_timeout", 0, where=where) or None,
        "synchronous": bool(trials.get("synchronous", False)),
        "master": spark.get("master", "local[2]"),
        "app_name": spark.get("app_name", "sparktune"),
        "spark_conf": dict(spark.get("conf", {})),
    }
    for key in ("objective", "space"):
        if settings[key] is None:
            raise ConfigError(f"{where}: `study.{key}` is required ('module:attribute')")
    return settings


def _under_spark_submit() -> bool:
    """True when spark-submit (or SPARK_REMOTE) supplies the Spark to use, not the job file."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_REMOTE"))


def _require_spark() -> None:
    """Raise ``SparkUnavailableError`` when pyspark, or the Java a new local JVM needs, is missing."""
    from sparktune import _spark_compat as compat

    compat.import_pyspark()
    if not _under_spark_submit():
        compat.require_java()


def log4j_file() -> str | None:
    """Path of the shipped ``conf/log4j2.properties`` (errors only), or None if it is not a file."""
    from importlib import resources

    path = resources.files("sparktune").joinpath("conf").joinpath("log4j2.properties")
    return str(path) if isinstance(path, os.PathLike) and os.path.isfile(path) else None


def quiet_spark_conf(conf: dict[str, Any]) -> dict[str, Any]:
    """``conf`` with the driver JVM started on ``conf/log4j2.properties``, so that Spark's startup
    notices and WARN lines stay out of the terminal.

    Left as is when ``spark.driver.extraJavaOptions`` already names a ``log4j2.configurationFile``.
    Takes effect only for a driver JVM started by this process (not under spark-submit).
    """
    opts = str(conf.get("spark.driver.extraJavaOptions", ""))
    path = log4j_file()
    if path is None or "log4j2.configurationFile" in opts:
        return conf
    option = f"-Dlog4j2.configurationFile=file:{path}"
    if any(c.isspace() for c in path):
        option = f'"{option}"'  # Spark splits the options on spaces outside quotes
    return {**conf, "spark.driver.extraJavaOptions": f"{opts} {option}".strip()}


def _spark_session(settings: dict[str, Any], *, quiet: bool = True) -> Any:
    from sparktune import _spark_compat as compat

    _require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(settings["app_name"])
    # Under spark-submit (or with SPARK_REMOTE) the master comes from there, not from the file.
    if not _under_spark_submit():
        if compat.is_local_master(settings["master"]):
            compat.set_local_python()
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local job binds to loopback only
        builder = builder.master(settings["master"])
    conf = quiet_spark_conf(settings["spark_conf"]) if quiet else settings["spark_conf"]
    for k, v in conf.items():
        builder = builder.config(k, str(v).lower() if isinstance(v, bool) else str(v))
    return builder.getOrCreate()


def _load_parts(s: dict[str, Any], where: str) -> tuple[Any, Any]:
    """The objective (or its factory) and the space a validated job names, imported and checked."""
    from sparktune._space import compile_space
    from sparktune.exceptions import BadSearchSpace

    space = _import(s["space"], "study.space", where)
    objective = _import(s["objective"], "study.objective", where)
    if not callable(objective):
        raise ConfigError(
            f"{where}: `study.objective` must name a callable, got {s['objective']!r}, a {type(objective).__name__}"
        )
    try:
        compile_space(space)
    except (BadSearchSpace, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: `study.space` = {s['space']!r} is not a search space: {exc}") from None
    return objective, space


def check_job(config: dict[str, Any], where: str = "job file") -> list[str]:
    """Validate a job without running it: no Spark session is started and no trial runs.

    Checks the keys and values, imports the objective and the space (the objective is not called,
    a factory is not called either), compiles the space, and, for the Spark engine, checks that
    pyspark and Java are present.

    Returns:
        Lines that say what ``sparktune run`` would do with this job.

    Raises:
        ConfigError: the job file breaks a rule (the message names the file and the key).
        SparkUnavailableError: the Spark engine is chosen but pyspark or Java is missing.
    """
    from sparktune._space import compile_space

    s = validate(config, where)
    _, space = _load_parts(s, where)
    labels = compile_space(space).labels
    if s["engine"] == "spark":
        _require_spark()
        where_spark = "the Spark of spark-submit / SPARK_REMOTE" if _under_spark_submit() else f"master {s['master']}"
        engine = (
            f"spark on {where_spark}, run_on={s['run_on']}, parallelism={s['parallelism']}, "
            f"trial_timeout={s['trial_timeout'] or 'none'}, synchronous={str(s['synchronous']).lower()}"
        )
    else:
        engine = "local (in-process Trials, no Spark)"
    factory = " (a factory: called with the SparkSession)" if s["factory"] and s["engine"] == "spark" else ""
    if s["factory"] and s["engine"] != "spark":
        factory = " (a factory: called with no argument)"
    return [
        f"{where} is valid; `sparktune run` would run:",
        f"  objective  {s['objective']}{factory}",
        f"  space      {s['space']} ({', '.join(labels) or 'no labels: a constant'})",
        f"  search     {s['algo']}, max_evals={s['max_evals']}, seed={s['seed']}, timeout={s['timeout'] or 'none'}",
        f"  trials     {engine}",
        f"  save file  {s['trials_save_file'] or 'none (not resumable)'}",
    ]


def run_job(config: dict[str, Any], where: str = "job file") -> dict[str, Any]:
    """Run one tuning job; returns a JSON-able summary (see ``_run``)."""
    return _run(config, where)[0]


def _run(config: dict[str, Any], where: str, *, quiet: bool = True) -> tuple[dict[str, Any], Any]:
    """Run one tuning job; returns its summary and its ``Trials``.

    The summary holds ``best`` (label -> value, index for choices), ``best_point`` (the objective's
    argument), ``best_loss``, ``trials`` (trials whose objective returned), ``failed`` (the others:
    raised or cancelled), ``wall_seconds`` and ``engine``.
    """
    import numpy as np

    from sparktune import anneal, fmin, rand, space_eval, tpe

    s = validate(config, where)
    objective, space = _load_parts(s, where)
    algo = {"tpe": tpe.suggest, "rand": rand.suggest, "anneal": anneal.suggest}[s["algo"]]
    spark = None
    if s["engine"] == "spark":
        from sparktune.spark import SparkTrials

        spark = _spark_session(s, quiet=quiet)
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
        catch_eval_exceptions=True,  # a raising objective is a recorded (failed) trial, as on Spark
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
    return summary, trials


class CommandError(Exception):
    """A user error the command reports in one line and exit status 2 (e.g. a missing dependency)."""


PANDAS_HINT = "pip install pandas (or pip install 'sparktune[spark]', which includes it)"


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def trials_frame(trials: Any) -> Any:
    """The trial table as a pandas DataFrame: ``trials.to_pandas()`` when the store has it."""
    to_pandas = getattr(trials, "to_pandas", None)
    if callable(to_pandas):
        return to_pandas()
    try:
        from sparktune._results import trials_to_frame  # type: ignore[import-not-found]
    except ImportError:  # until sparktune._results lands: the same table, built here
        trials_to_frame = _trials_to_frame
    return trials_to_frame(trials)


def _trials_to_frame(trials: Any) -> Any:
    """One row per trial (failed and cancelled included): tid, state, status, loss, start, end,
    duration (seconds), error, then one column per label (``misc["vals"]``; empty when inactive)."""
    import pandas as pd

    rows = []
    for t in trials.all_trials:
        misc, result = t["misc"], t.get("result") or {}
        error = misc.get("error")
        rows.append(
            {
                "tid": t["tid"],
                "state": _STATE_NAMES.get(t["state"], str(t["state"])),
                "status": result.get("status"),
                "loss": result.get("loss"),
                "start": t.get("book_time"),
                "end": t.get("refresh_time"),
                "duration": _duration(t),
                "error": f"{error[0]}: {error[1]}" if error else None,
                **{label: (v[0] if v else None) for label, v in misc["vals"].items()},
            }
        )
    return pd.DataFrame(rows)


_STATE_NAMES = {0: "new", 1: "running", 2: "done", 3: "error", 4: "cancelled"}


def _duration(trial: dict[str, Any]) -> float | None:
    """Seconds from ``book_time`` to ``refresh_time`` (None when either is missing)."""
    start, end = trial.get("book_time"), trial.get("refresh_time")
    return None if start is None or end is None else (end - start).total_seconds()


def outcome_counts(trials: Any) -> dict[str, int]:
    """``ok`` (returned status ok), ``cancelled``, and ``failed`` (raised, or returned status fail)."""
    from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, STATUS_OK

    counts = {"ok": 0, "failed": 0, "cancelled": 0}
    for t in trials.all_trials:
        if t["state"] == JOB_STATE_CANCEL:
            counts["cancelled"] += 1
        elif t["state"] == JOB_STATE_DONE and (t.get("result") or {}).get("status") == STATUS_OK:
            counts["ok"] += 1
        else:
            counts["failed"] += 1
    return counts


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def report(title: str, summary: dict[str, Any], trials: Any, saved: Sequence[str], top: int = 5) -> str:
    """What a person reads at the end of a run: the ``top`` best trials and where the results went.

    The table lists, best first, each trial's id, loss, duration (``book_time`` to
    ``refresh_time``) and its values by label (``misc["vals"]``: option index for choices).
    """
    from sparktune.base import STATUS_OK

    done = [t for t in trials.trials if t["result"].get("status") == STATUS_OK]
    best = sorted(done, key=lambda t: float(t["result"]["loss"]))[:top]
    counts = outcome_counts(trials)
    lines = [
        f"{title}: {len(trials.all_trials)} trials in {summary['wall_seconds']:.1f} s on {summary['engine']}",
        f"ok {counts['ok']}, failed {counts['failed']}, cancelled {counts['cancelled']}; "
        f"best loss {summary['best_loss']:.6g}",
        "",
        f"{'tid':>5}  {'loss':>10}  {'duration':>9}  params",
    ]
    for t in best:
        params = "  ".join(f"{k}={_value(v[0])}" for k, v in sorted(t["misc"]["vals"].items()) if v)
        d = _duration(t)
        lines.append(
            f"{t['tid']:>5}  {float(t['result']['loss']):>10.6g}  {'' if d is None else f'{d:.2f} s':>9}  {params}"
        )
    lines.append("")
    lines.append(f"full results: {', '.join(saved)}" if saved else "full results: not saved (use --output DIR)")
    return "\n".join(lines)


def write_outputs(out_dir: str, summary: dict[str, Any], trials: Any) -> list[str]:
    """Write ``summary.json`` and, when pandas is installed, ``trials.csv`` (one row per trial).

    Returns:
        The paths written, the trial table first; a missing pandas is noted instead of its path.
    """
    os.makedirs(out_dir, exist_ok=True)
    written = []
    if _has_pandas():
        csv_path = os.path.join(out_dir, "trials.csv")
        trials_frame(trials).to_csv(csv_path, index=False)
        written.append(f"{csv_path} (one row per trial)")
    else:
        written.append(f"no trials.csv (it needs pandas: {PANDAS_HINT})")
    json_path = os.path.join(out_dir, "summary.json")
    with open(json_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(summary, indent=2, default=str) + "\n")
    written.append(json_path)
    return written


#: Where ``sparktune demo`` writes its results when ``--output`` is not given (in the current folder).
DEMO_OUTPUT = "sparktune-demo"


def _add_output_options(p: argparse.ArgumentParser, *, default_dir: str | None) -> None:
    """Options for what a run leaves behind. ``--plots`` and ``--mlflow`` belong here too:
    ``_outputs_wanted`` checks their dependencies before the run, ``write_outputs`` writes them."""
    where = f" (default: ./{default_dir})" if default_dir else ""
    p.add_argument(
        "--output",
        metavar="DIR",
        default=default_dir,
        help=f"write the trial table (trials.csv, needs pandas) and summary.json to this folder{where}",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of the table")
    p.add_argument(
        "--plots",
        action="store_true",
        help="also write history.png, importances.png, parallel.png and slices.png to the output folder "
        "(needs matplotlib: pip install 'sparktune[plots]')",
    )
    p.add_argument(
        "--mlflow",
        action="store_true",
        help="log the run to MLflow (tracking URI from MLFLOW_TRACKING_URI; pip install 'sparktune[mlflow]')",
    )


def _outputs_wanted(args: argparse.Namespace, default_dir: str | None) -> None:
    """Refuse, before anything runs, an output the user asked for that cannot be written."""
    if args.output is not None and args.output != default_dir and not _has_pandas():
        raise CommandError(f"--output writes trials.csv with pandas, which is not installed: {PANDAS_HINT}")
    if args.plots:
        if args.output is None:
            raise CommandError("--plots writes into the output folder: give --output DIR")
        if importlib.util.find_spec("matplotlib") is None:
            raise CommandError("--plots needs matplotlib, which is not installed: pip install 'sparktune[plots]'")
    if args.mlflow:
        if importlib.util.find_spec("mlflow") is None:
            raise CommandError("--mlflow needs mlflow, which is not installed: pip install 'sparktune[mlflow]'")
        import sparktune.mlflow

        sparktune.mlflow.autolog()


def write_plots(out_dir: str, trials: Any) -> list[str]:
    """The run's figures as PNG files in ``out_dir`` (a figure that cannot be drawn is noted)."""
    from sparktune import plot

    written = []
    for name, draw in (
        ("history.png", plot.plot_optimization_history),
        ("importances.png", plot.plot_param_importances),
        ("parallel.png", plot.plot_parallel_coordinate),
        ("slices.png", plot.plot_slice),
    ):
        path = os.path.join(out_dir, name)
        try:
            draw(trials).savefig(path, dpi=100)
        except ValueError as exc:  # e.g. too few ok trials for importances
            written.append(f"no {name} ({_one_line(exc)})")
            continue
        written.append(path)
    return written


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """The ``sparktune`` command; returns the exit status.

    0: the job ran (or ``--check`` found it valid). 1: the job ran and no trial succeeded.
    2: a user error found before or while starting (bad arguments or job file, objective not
    importable, pyspark or Java missing); one line on stderr, no traceback.
    """
    parser = argparse.ArgumentParser(prog="sparktune", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="tune the bundled demo model (local Spark session)")
    demo.add_argument("--local", action="store_true", help="run without Spark (numpy model, in-process trials)")
    run = sub.add_parser("run", help="run a job file")
    run.add_argument("--conf", required=True, help="path of a TOML job file (see conf/)")
    run.add_argument(
        "--check", action="store_true", help="validate the job file and say what would run, without running it"
    )
    for p in (demo, run):
        p.add_argument("--max-evals", type=int, help="override study.max_evals")
        p.add_argument("--parallelism", type=int, help="override trials.parallelism")
        p.add_argument("--master", help="override spark.master (ignored under spark-submit)")
        p.add_argument("--trials-save-file", help="override study.trials_save_file (resumable runs)")
        _add_output_options(p, default_dir=DEMO_OUTPUT if p is demo else None)
        p.add_argument(
            "-v", "--verbose", action="store_true", help="log at INFO level and keep Spark's own log at WARN"
        )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)

    from sparktune._spark_compat import SparkUnavailableError
    from sparktune.exceptions import AllTrialsFailed

    default_dir = DEMO_OUTPUT if args.command == "demo" else None
    try:
        _outputs_wanted(args, default_dir)
        if args.command == "demo":
            config = copy.deepcopy(DEMO_CONFIG)
            where = "demo settings"
            if args.local:
                config["study"]["objective"] = "sparktune.demo:make_numpy_objective"
                config["trials"]["engine"] = "local"
        else:
            config = load_config(args.conf)
            where = f"job file {args.conf!r}"
            check_keys(config, where)  # before the overrides below add sections
        if args.max_evals is not None:
            config.setdefault("study", {})["max_evals"] = args.max_evals
        if args.parallelism is not None:
            config.setdefault("trials", {})["parallelism"] = args.parallelism
        if args.master is not None:
            config.setdefault("spark", {})["master"] = args.master
        if args.trials_save_file is not None:
            config.setdefault("study", {})["trials_save_file"] = args.trials_save_file
        if getattr(args, "check", False):
            print("\n".join(check_job(config, where)))
            return 0
        summary, trials = _run(config, where, quiet=not args.verbose)
    except (ConfigError, SparkUnavailableError, CommandError) as exc:
        print(f"sparktune: {_one_line(exc)}", file=sys.stderr)
        return 2
    except AllTrialsFailed as exc:
        print(f"sparktune: {_one_line(exc)}", file=sys.stderr)
        return 1
    saved = write_outputs(args.output, summary, trials) if args.output else []
    if args.plots and args.output:
        saved += write_plots(args.output, trials)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        title = "sparktune demo" if args.command == "demo" else f"sparktune run {args.conf}"
        print(report(title, summary, trials, saved))
    return 0


if __name__ == "__main__":  # spark-submit sparktune/cli.py run --conf FILE
    sys.exit(main())
