"""Early-stopping rules for ``fmin(..., early_stop_fn=...)`` (``hyperopt.early_stop``)."""

from __future__ import annotations

from typing import Any, Callable

from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR


def no_progress_loss(iteration_stop_count: int = 20, percent_increase: float = 0.0) -> Callable[..., Any]:
    """Stop after ``iteration_stop_count`` finished trials without a new best loss.

    A trial improves when its loss is below ``best - |best| * percent_increase / 100``. As in
    hyperopt, the first finished trial counts as one trial without progress. Unlike hyperopt's,
    this rule only reads trials that have finished (in the order they finished), so it works
    while other trials are still running (parallel backends); trials that failed, raised or were
    cancelled count as trials without progress.
    """

    def stop_fn(
        trials: Any, best_loss: float | None = None, iteration_no_progress: int = 0, seen: int = 0
    ) -> tuple[bool, list[Any]]:
        store = trials.store
        finished = store.finished_order()
        for tid in finished[seen:]:
            trial = store.get(tid)
            if trial is None or trial.state not in (JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL):
                continue
            new_loss = trial.loss
            if best_loss is None:
                best_loss = new_loss
                iteration_no_progress += 1
                continue
            threshold = best_loss - abs(best_loss * (percent_increase / 100.0))
            if new_loss is not None and new_loss < threshold:
                best_loss = new_loss
                iteration_no_progress = 0
            else:
                iteration_no_progress += 1
        return iteration_no_progress >= iteration_stop_count, [best_loss, iteration_no_progress, len(finished)]

    return stop_fn


__all__ = ["no_progress_loss"]
