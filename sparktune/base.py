"""hyperopt's status strings and job-state constants (``hyperopt.base``)."""

from __future__ import annotations

from typing import Any

from sparktune.exceptions import AllTrialsFailed, DuplicateLabel, InvalidLoss, InvalidResultStatus, InvalidTrial

STATUS_NEW = "new"
STATUS_RUNNING = "running"
STATUS_SUSPENDED = "suspended"
STATUS_OK = "ok"
STATUS_FAIL = "fail"
STATUS_STRINGS = (
    "new",  # computations have not started
    "running",  # computations are in prog
    "suspended",  # computations have been suspended, job is not finished
    "ok",  # computations are finished, terminated normally
    "fail",  # computations are finished, terminated with error
)

# -- trial doc states
JOB_STATE_NEW = 0
JOB_STATE_RUNNING = 1
JOB_STATE_DONE = 2
JOB_STATE_ERROR = 3
JOB_STATE_CANCEL = 4
JOB_STATES = [JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL]
JOB_VALID_STATES = {JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE}

TRIAL_KEYS = [
    "tid",
    "spec",
    "result",
    "misc",
    "state",
    "owner",
    "book_time",
    "refresh_time",
    "exp_key",
]
TRIAL_MISC_KEYS = ["tid", "cmd", "idxs", "vals"]


#: Names of ``hyperopt.base`` that live above this module (in ``sparktune._domain``).
_UPPER = ("Ctrl", "Domain", "Trials", "spec_from_misc", "trials_from_docs")


def __getattr__(name: str) -> Any:
    # hyperopt's `from hyperopt.base import Domain, Trials, ...`. They live above the trial store;
    # this module stays the bottom layer (constants), so they are resolved on first use instead of
    # imported here.
    if name in _UPPER:
        from sparktune import _domain

        return getattr(_domain, name)
    raise AttributeError(f"module 'sparktune.base' has no attribute {name!r}")


__all__ = [  # noqa: F822 - the _UPPER names are resolved by __getattr__
    *(name for name in dir() if name.isupper()),
    "AllTrialsFailed",
    "DuplicateLabel",
    "InvalidLoss",
    "InvalidResultStatus",
    "InvalidTrial",
    *_UPPER,
]
