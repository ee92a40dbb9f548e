"""Exceptions: one base, ``SparktuneError``, for every error the library raises on its own account.

Each also derives from the built-in type that hyperopt code catches (``ValueError`` for a bad
space or trial, ``TypeError`` for a bad objective, ``ImportError`` for a missing dependency), so
``except ValueError`` written for hyperopt keeps working. The names follow
``hyperopt.exceptions``.
"""

from __future__ import annotations


class SparktuneError(Exception):
    """Base of the library's own errors: ``except SparktuneError`` catches every one of them."""


class BadSearchSpace(SparktuneError, ValueError):
    """The search space breaks a rule (the message names the label, the rule and the value)."""


class DuplicateLabel(BadSearchSpace):
    """Two different expressions in one space share a label."""


class InvalidTrial(SparktuneError, ValueError):
    """A trial document or point does not match the search space."""


class InvalidResultStatus(SparktuneError, ValueError):
    """The objective returned a status that is not one of ``STATUS_STRINGS``."""


class InvalidLoss(SparktuneError, ValueError):
    """The objective returned a loss that is not a real, non-NaN number."""


#: hyperopt's message when there is no best trial; code and tests match on it.
NO_EVALUATION_TASKS = "There are no evaluation tasks, cannot return argmin of task losses."


class AllTrialsFailed(SparktuneError):
    """No trial finished with status 'ok', so there is no best trial. The message starts with
    hyperopt's sentence (``NO_EVALUATION_TASKS``)."""


class InvalidAnnotatedParameter(SparktuneError, ValueError):
    """``space="annotated"`` was used but a parameter of the objective has no hp annotation."""


__all__ = [
    "NO_EVALUATION_TASKS",
    "AllTrialsFailed",
    "BadSearchSpace",
    "DuplicateLabel",
    "InvalidAnnotatedParameter",
    "InvalidLoss",
    "InvalidResultStatus",
    "InvalidTrial",
    "SparktuneError",
]
