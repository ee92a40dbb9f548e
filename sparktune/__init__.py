"""sparktune: hyperopt-compatible hyperparameter tuning with a Spark engine.

Code written for hyperopt runs after replacing ``hyperopt`` with ``sparktune`` in its imports::

    from sparktune import fmin, hp, tpe, STATUS_OK, Trials
"""

from __future__ import annotations

import importlib
from typing import Any

# tpe, anneal and mix (which pull in scipy, ~0.6 s) are imported on first use, so that a Spark
# Python worker, which imports sparktune to run a trial, and the command line start faster.
from sparktune import early_stop, exceptions, hp, pyll, rand

# Import the module sparktune.fmin first, then bind the function to the name (as hyperopt does), so
# that `from sparktune.fmin import ...` later cannot replace the function with the module.
from sparktune.fmin import fmin, fmin_pass_expr_memo_ctrl, generate_trials_to_calculate, partial  # isort: skip
from sparktune._domain import Domain, trials_from_docs
from sparktune._driver import Ctrl
from sparktune._space import space_eval
from sparktune._trials import Trial, Trials
from sparktune.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    JOB_STATES,
    STATUS_FAIL,
    STATUS_NEW,
    STATUS_OK,
    STATUS_RUNNING,
    STATUS_STRINGS,
    STATUS_SUSPENDED,
)
from sparktune.exceptions import AllTrialsFailed, DuplicateLabel, InvalidLoss

__version__ = "0.1.0"

_LAZY_MODULES = frozenset({"anneal", "mix", "tpe"})


def __getattr__(name: str) -> Any:
    # SparkTrials needs pyspark only when used: `import sparktune` works without it.
    if name == "SparkTrials":
        from sparktune.spark import SparkTrials

        return SparkTrials
    if name in _LAZY_MODULES:
        return importlib.import_module(f"sparktune.{name}")
    raise AttributeError(f"module 'sparktune' has no attribute {name!r}")


__all__ = [
    "AllTrialsFailed",
    "Ctrl",
    "Domain",
    "DuplicateLabel",
    "InvalidLoss",
    "JOB_STATE_CANCEL",
    "JOB_STATE_DONE",
    "JOB_STATE_ERROR",
    "JOB_STATE_NEW",
    "JOB_STATE_RUNNING",
    "JOB_STATES",
    "STATUS_FAIL",
    "STATUS_NEW",
    "STATUS_OK",
    "STATUS_RUNNING",
    "STATUS_STRINGS",
    "STATUS_SUSPENDED",
    "SparkTrials",
    "Trial",
    "Trials",
    "anneal",
    "early_stop",
    "exceptions",
    "fmin",
    "fmin_pass_expr_memo_ctrl",
    "generate_trials_to_calculate",
    "hp",
    "mix",
    "partial",
    "pyll",
    "rand",
    "space_eval",
    "tpe",
    "trials_from_docs",
    "__version__",
]
