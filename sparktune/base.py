"""hyperopt's status strings and job-state constants (``hyperopt.base``)."""

from __future__ import annotations

from typing import Any

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


class Domain:
    """hyperopt's ``Domain(fn, expr)``: an objective and its space, for calling an algorithm's
    ``suggest(new_ids, domain, trials, seed)`` directly."""

    def __init__(self, fn: Any, expr: Any, **_: Any) -> None:
        self.fn = fn
        self.expr = expr


__all__ = [name for name in dir() if name.isupper()] + ["Domain"]
