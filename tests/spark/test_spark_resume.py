"""SparkTrials with a trial file and pickling: a killed Spark job resumes with nothing lost."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from sparktune import fmin, hp, tpe
from sparktune.spark import SparkTrials
from sparktune.storage import TrialFile

from .conftest import SparkEnv

pytestmark = pytest.mark.spark


def _square(p: dict) -> float:
    if p["x"] > 0.9:
        raise ValueError("too far right")
    return p["x"] ** 2


SPACE = {"x": hp.uniform("x", -1, 1)}


def test_trials_file_resumes_a_spark_run_and_keeps_errors(local_spark: SparkEnv, tmp_path) -> None:
    path = tmp_path / "spark-run.jsonl"

    def run(max_evals: int, seed: int) -> SparkTrials:
        trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
        fmin(
            _square,
            SPACE,
            algo=tpe.suggest,
            max_evals=max_evals,
            trials=trials,
            trials_save_file=str(path),
            rstate=np.random.default_rng(seed),
            show_progressbar=False,
        )
        return trials

    first = run(12, 0)
    saved = TrialFile(path).load().trials
    assert len(saved) == len(first.all_trials) == 12
    second = run(20, 1)
    assert len(second.all_trials) == 20
    assert [d["misc"]["vals"] for d in second.all_trials[:12]] == [d["misc"]["vals"] for d in first.all_trials]
    assert len(TrialFile(path).load().trials) == 20


def test_spark_trials_pickle_and_continue(local_spark: SparkEnv) -> None:
    trials = SparkTrials(parallelism=2, spark_session=local_spark.session)
    fmin(lambda p: p["x"] ** 2, SPACE, algo=tpe.suggest, max_evals=6, trials=trials, show_progressbar=False)
    again = pickle.loads(pickle.dumps(trials))
    assert again.trials == trials.trials and again.parallelism == 2
    fmin(lambda p: p["x"] ** 2, SPACE, algo=tpe.suggest, max_evals=9, trials=again, show_progressbar=False)
    assert len(again) == 9
