"""sparktune: hyperopt-compatible hyperparameter tuning with a Spark engine.

Code written for hyperopt runs after replacing ``hyperopt`` with ``sparktune`` in its imports::

    from sparktune import fmin, hp, tpe, STATUS_OK, Trials
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

# The constants and exceptions are plain Python (a Spark worker imports them anyway).
from sparktune import exceptions
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

if TYPE_CHECKING:
    from sparktune import anneal, early_stop, hp, mix, pyll, rand, tpe
    from sparktune._domain import Domain, trials_from_docs
    from sparktune._driver import Ctrl
    from sparktune._space import space_eval
    from sparktune._trials import Trial, Trials
    from sparktune.fmin import fmin, fmin_pass_expr_memo_ctrl, generate_trials_to_calculate, partial
    from sparktune.spark import SparkTrials

__version__ = "0.1.0"

# Every other public name is imported on first use. A Spark Python worker imports
# sparktune.backends.spark_worker to run trials, which runs this file first: importing the tuning
# side here (numpy, the space, the loop; ~0.1 s per worker, paid by every one of 32 workers
# starting at once on a small machine) would slow the first trial of every run. Submodules
# (hp, tpe, ...) load on `sparktune.NAME` too; tpe, anneal and mix pull in scipy.
_SUBMODULES = frozenset({"anneal", "early_stop", "hp", "mix", "pyll", "rand", "tpe"})
_HOMES: dict[str, str] = {
    **dict.fromkeys(["fmin", "fmin_pass_expr_memo_ctrl", "generate_trials_to_calculate", "partial"], "sparktune.fmin"),
    **dict.fromkeys(["Domain", "trials_from_docs"], "sparktune._domain"),
    "Ctrl": "sparktune._driver",
    "space_eval": "sparktune._space",
    **dict.fromkeys(["Trial", "Trials"], "sparktune._trials"),
    # SparkTrials needs pyspark only when used: `import sparktune` works without it.
    "SparkTrials": "sparktune.spark",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"sparktune.{name}")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sparktune' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``sparktune.fmin`` the function, as in hyperopt.

    Once a submodule has loaded, the import system binds it to its parent's attribute of the same
    name: ``from sparktune.fmin import partial`` would make ``sparktune.fmin`` the module. Here
    that binding puts the module's function ``fmin`` there instead (the module stays in
    ``sys.modules["sparktune.fmin"]``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "fmin" and isinstance(value, types.ModuleType):
            value = value.fmin
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
