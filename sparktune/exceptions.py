"""Exceptions, named as in ``hyperopt.exceptions``."""

from __future__ import annotations


class BadSearchSpace(ValueError):
    """The search space breaks a rule (the message names the label, the rule and the value)."""


class DuplicateLabel(BadSearchSpace):
    """Two different expressions in one space share a label."""


class InvalidTrial(ValueError):
    """A trial document or point does not match the search space."""


class InvalidResultStatus(ValueError):
    """The objective returned a status that is not one of ``STATUS_STRINGS``."""


class InvalidLoss(ValueError):
    """The objective returned a loss that is not a real, non-NaN number."""


#: hyperopt's message when there is no best trial; code and tests match on it.
NO_EVALUATION_TASKS = "There are no evaluation tasks, cannot return argmin of task losses."


class AllTrialsFailed(Exception):
    """No trial finished with status 'ok', so there is no best trial. The message starts with
    hyperopt's sentence (``NO_EVALUATION_TASKS``)."""


class InvalidAnnotatedParameter(ValueError):
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
]
