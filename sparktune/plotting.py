"""hyperopt's ``hyperopt.plotting``: ``main_plot_history``, ``main_plot_histogram``, ``main_plot_vars``.

Same names and arguments as hyperopt 0.3, and, as there, each function draws on pyplot's
current figure and calls ``plt.show()`` when ``do_show`` is true. Unlike hyperopt, each returns
that ``matplotlib.figure.Figure``, logs (``logging``) what hyperopt printed, adds a legend, and
accepts a run in which no trial succeeded. For new code, ``sparktune.plot`` has figures that
leave pyplot alone.

matplotlib is optional: ``pip install 'sparktune[plots]'``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping

import numpy as np

from sparktune._results import trial_rows
from sparktune.base import STATUS_FAIL, STATUS_NEW, STATUS_OK, STATUS_RUNNING
from sparktune.plot import PLOTS_HINT

logger = logging.getLogger(__name__)

default_status_colors = {STATUS_NEW: "k", STATUS_RUNNING: "g", STATUS_OK: "b", STATUS_FAIL: "r"}


def _pyplot(what: str) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{what} needs matplotlib ({exc}); install it with: {PLOTS_HINT}") from None
    return plt


def _with_loss(trials: Any) -> list[Any]:
    """Trials whose result has a loss, whatever their status (hyperopt's ``losses()`` not None)."""
    return [r for r in trial_rows(trials)[1] if not math.isnan(r.loss)]


def main_plot_history(
    trials: Any, do_show: bool = True, status_colors: Mapping[str, Any] | None = None, title: str = "Loss History"
) -> Any:
    """Scatter every loss by trial id, coloured by status, with a line at the best ok loss.

    Args:
        trials: a ``Trials`` after ``fmin``.
        do_show: call ``plt.show()`` at the end.
        status_colors: status -> matplotlib colour (default: new black, running green, ok blue,
            fail red); statuses not in it are black.
        title: the axes' title.

    Returns:
        The pyplot figure drawn on.
    """
    plt = _pyplot("main_plot_history")
    colors = default_status_colors if status_colors is None else status_colors
    rows = _with_loss(trials)
    ax = plt.gca()
    for status in dict.fromkeys(r.status for r in rows):
        mine = [r for r in rows if r.status == status]
        ax.scatter([r.tid for r in mine], [r.loss for r in mine], c=colors.get(status, "k"), s=18, label=str(status))
    ok = [r.loss for r in rows if r.ok]
    if ok:
        logger.info("best loss: %s", min(ok))
        ax.axhline(min(ok), c="g", lw=1, label=f"best ({min(ok):.4g})")
    ax.set_xlabel("trial id")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if rows:
        ax.legend(fontsize=8)
    if do_show:
        plt.show()
    return ax.figure


def main_plot_histogram(trials: Any, do_show: bool = True, title: str = "Loss Histogram") -> Any:
    """A histogram of every loss a trial returned (whatever its status).

    Args:
        trials: a ``Trials`` after ``fmin``.
        do_show: call ``plt.show()`` at the end.
        title: the axes' title.

    Returns:
        The pyplot figure drawn on.
    """
    plt = _pyplot("main_plot_histogram")
    losses = np.array([r.loss for r in _with_loss(trials)])
    losses = losses[np.isfinite(losses)]
    logger.info("Showing Histogram of %i jobs", losses.size)
    ax = plt.gca()
    ax.hist(losses, bins="auto" if losses.size else 10, color="tab:blue", edgecolor="white")
    ax.set_xlabel("loss")
    ax.set_ylabel("frequency")
    ax.set_title(title)
    if do_show:
        plt.show()
    return ax.figure


def main_plot_vars(
    trials: Any,
    do_show: bool = True,
    fontsize: int = 10,
    colorize_best: int | None = None,
    columns: int = 5,
    arrange_by_loss: bool = False,
    verbose: bool = True,
) -> Any:
    """One panel per label: its value in each trial, by trial id (or by loss), shaded by loss.

    Points run from black (lowest loss) to light grey (highest); trials without a loss are not
    drawn. Labels whose name contains ``"log"`` get a log-scaled value axis when their values
    are positive (hyperopt's convention). On an empty current figure the figure is resized to
    fit the panels.

    Args:
        trials: a ``Trials`` after ``fmin``.
        do_show: call ``plt.show()`` at the end.
        fontsize: font size of the panel titles.
        colorize_best: if given, the ``colorize_best + 1`` trials with the lowest losses are
            green (hyperopt's rule).
        columns: panels per row (at most the number of labels).
        arrange_by_loss: x axis is the trial's loss instead of its id.
        verbose: log the finite loss range at INFO level (hyperopt printed it).

    Returns:
        The pyplot figure drawn on.
    """
    plt = _pyplot("main_plot_vars")
    from matplotlib.ticker import MaxNLocator

    labels, all_rows = trial_rows(trials)
    rows = [r for r in all_rows if math.isfinite(r.loss)]
    labels = sorted(labels)
    losses = np.array([r.loss for r in rows])
    lo, hi = (losses.min(), losses.max()) if rows else (0.0, 1.0)
    green = set(np.argsort(losses)[: colorize_best + 1]) if colorize_best is not None else set()
    if verbose:
        logger.info("finite loss range %s %s", lo, hi)
    shade = 0.8 * (losses - lo) / ((hi - lo) or 1.0)
    colors = [(0.0, 0.7, 0.0) if i in green else (s, s, s) for i, s in enumerate(shade)]
    C = max(1, min(columns, len(labels)))
    R = max(1, math.ceil(len(labels) / C))
    fig = plt.gcf()
    if not fig.axes:
        fig.set_size_inches(max(4.0, 2.4 * C), 2.1 * R + 0.3)
    for n, label in enumerate(labels):
        ax = plt.subplot(R, C, n + 1)
        idx = [i for i, r in enumerate(rows) if label in r.vals]
        x = [losses[i] if arrange_by_loss else rows[i].tid for i in idx]
        y = np.array([rows[i].vals[label] for i in idx], dtype=float)
        ax.scatter(x, y, c=[colors[i] for i in idx], s=12)
        if "log" in label and y.size and np.all(y > 0):
            ax.set_yscale("log")
        elif y.size and np.all(y == np.round(y)):  # option indices, randint
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label, fontsize=fontsize)
        ax.tick_params(labelsize=max(fontsize - 3, 5))
        if n >= len(labels) - C:
            ax.set_xlabel("loss" if arrange_by_loss else "trial id", fontsize=max(fontsize - 2, 6))
    fig.tight_layout()
    if do_show:
        plt.show()
    return fig


__all__ = ["default_status_colors", "main_plot_histogram", "main_plot_history", "main_plot_vars"]
