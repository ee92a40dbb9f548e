"""Figures of a tuning run, in the spirit of ``optuna.visualization.matplotlib``.

Each function takes a ``Trials`` (any object with hyperopt's trial documents) and returns a new
``matplotlib.figure.Figure``; nothing touches pyplot's state and nothing is shown. Save a figure
with ``fig.savefig("history.png")``; in a notebook, the returned figure displays itself.

Pass ``space`` (the search space given to ``fmin``) to see a choice's options that are plain
values (``"adam"``, ``0.1``, ``None``) by name and its other options (sub-spaces) as ``#index``,
and log-scaled labels (``hp.loguniform``...) on log axes. Without it, choices show their option
index and every axis is linear.

matplotlib is optional: ``pip install 'sparktune[plots]'``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from sparktune._importance import ped_anova
from sparktune._results import TrialRow, trial_rows

PLOTS_HINT = "pip install 'sparktune[plots]'"
_SCALARS = (str, int, float, bool, type(None))


def figure_class(what: str) -> Any:
    """``matplotlib.figure.Figure``, or ImportError naming the extra to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"{what} needs matplotlib ({exc}); install it with: {PLOTS_HINT}") from None
    return Figure


@dataclass(frozen=True)
class _Param:
    """One label's values over the ok trials, and how to show them."""

    label: str
    values: np.ndarray  # one per ok trial; NaN where inactive
    names: tuple[str, ...] | None  # a choice's option names (index -> name), when the space is known
    log: bool  # a log-scaled label (known from the space)

    @property
    def integer(self) -> bool:
        v = self.values[~np.isnan(self.values)]
        return bool(np.all(v == np.round(v)))


def _option_name(i: int, option: Any) -> str:
    if isinstance(option, float):
        return f"{option:g}"
    return str(option) if isinstance(option, _SCALARS) else f"#{i}"


def _space_info(space: Any) -> dict[str, tuple[tuple[str, ...] | None, bool]]:
    """label -> (a choice's option names, is log-scaled), read from ``space``."""
    if space is None:
        return {}
    from sparktune._distributions import Categorical
    from sparktune._space import SearchSpace, _Compiler

    comp = _Compiler()
    comp.visit(space.root if isinstance(space, SearchSpace) else space, ())
    info = {}
    for label, node in comp.params.items():
        names = None
        if isinstance(node.dist, Categorical):
            names = tuple(_option_name(i, o) for i, o in enumerate(node.options or ()))
        info[label] = (names, bool(getattr(node.dist, "log", False)))
    return info


def _ok_params(trials: Any, params: Sequence[str] | None, space: Any = None) -> tuple[list[TrialRow], list[_Param]]:
    labels, rows = trial_rows(trials)
    ok = [r for r in rows if r.ok]
    if params is None:
        params = [label for label in labels if any(label in r.vals for r in ok)]
    else:
        unknown = [p for p in params if p not in labels]
        if unknown:
            raise ValueError(f"`params` must name labels of the trials {labels}, got unknown {unknown}")
    info = _space_info(space)
    out = []
    for label in params:
        values = np.array([float(r.vals.get(label, math.nan)) for r in ok])
        names, log = info.get(label, (None, False))
        out.append(_Param(label, values, names, log and bool(np.all(values[~np.isnan(values)] > 0))))
    return ok, out


def _loss_scale(ax: Any, losses: np.ndarray, log_scale: bool) -> None:
    if log_scale:
        if losses.size and losses.min() <= 0:
            raise ValueError(f"log_scale=True needs losses > 0, got a loss of {losses.min():g}")
        ax.set_yscale("log")


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def plot_optimization_history(trials: Any, *, log_scale: bool = False, title: str = "Optimization history") -> Any:
    """Every ok loss by trial id, the best loss so far, and the trials that failed or were cancelled.

    Failed trials (the objective raised, or returned status ``fail`` or no finite loss) are
    marked with a cross at the bottom of the plot, cancelled trials with a grey bar.

    Args:
        trials: a ``Trials`` after ``fmin``.
        log_scale: loss axis in log scale (every ok loss must then be > 0).
        title: the figure's title.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    Figure = figure_class("plot_optimization_history")
    _, rows = trial_rows(trials)
    ok = [r for r in rows if r.ok]
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    tids, losses = np.array([r.tid for r in ok]), np.array([r.loss for r in ok])
    _loss_scale(ax, losses, log_scale)
    if ok:
        ax.scatter(tids, losses, s=16, color="tab:blue", alpha=0.7, label=f"loss ({len(ok)} ok)", zorder=2)
        ax.step(tids, np.minimum.accumulate(losses), where="post", color="tab:red", lw=1.8, label="best so far")
    else:
        _no_data(ax, "no trial finished with status ok")
    bottom = ax.get_xaxis_transform()  # x in data, y in axes fraction
    failed = [r.tid for r in rows if r.failed]
    if failed:
        ax.scatter(failed, [0.03] * len(failed), transform=bottom, marker="x", color="black", s=28, lw=1.2,
                   label=f"failed ({len(failed)})", zorder=3)  # fmt: skip
    cancelled = [r.tid for r in rows if r.state == "cancelled"]
    if cancelled:
        ax.scatter(cancelled, [0.03] * len(cancelled), transform=bottom, marker="|", color="0.5", s=60,
                   label=f"cancelled ({len(cancelled)})", zorder=3)  # fmt: skip
    ax.set_xlabel("trial id")
    ax.set_ylabel("loss (log scale)" if log_scale else "loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ok or failed or cancelled:
        ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    return fig


_INACTIVE = -0.12  # where a line crosses the axis of a label inactive in its trial


def _axis_position(p: _Param) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Values mapped to [0, 1] on a vertical axis (inactive: below it), and (position, text) ticks."""
    inactive = np.isnan(p.values)
    marks = [(_INACTIVE, "(inactive)")] if inactive.any() else []
    if p.names is not None:
        step = 1.0 / max(len(p.names) - 1, 1)
        pos = p.values * step
        ticks = [(i * step, name[:14]) for i, name in enumerate(p.names)]
    else:
        scale = np.log10 if p.log else np.asarray
        t = scale(p.values[~inactive])
        lo, hi = (float(t.min()), float(t.max())) if t.size else (0.0, 0.0)

        def at(x: Any) -> Any:
            return (scale(x) - lo) / (hi - lo) if hi > lo else 0.5

        pos = at(p.values)
        distinct = np.unique(p.values[~inactive])
        if distinct.size <= 1 or (p.integer and distinct.size <= 8):
            ticks = [(at(x), f"{x:g}" if p.integer else f"{x:.3g}") for x in distinct]
        else:
            values = lo + np.linspace(0, 1, 5) * (hi - lo)
            ticks = [(at(v), f"{v:.3g}") for v in (10**values if p.log else values)]
    return np.where(inactive, _INACTIVE, pos), ticks + marks


def plot_parallel_coordinate(
    trials: Any,
    params: Sequence[str] | None = None,
    *,
    space: Any = None,
    log_scale: bool = False,
    cmap: str = "viridis",
) -> Any:
    """One line per ok trial through its loss and each label's value, coloured by loss.

    Each vertical axis spans its label's observed range (log10 for log-scaled labels when
    ``space`` is given); where a label is inactive in a trial, its line crosses that axis at the
    "(inactive)" mark below it. Better trials are drawn on top.

    Args:
        trials: a ``Trials`` after ``fmin``.
        params: the labels to show, in this order (default: every label active in an ok trial).
        space: the search space, for choice option names and log-scaled labels.
        log_scale: loss axis in log scale (every ok loss must then be > 0).
        cmap: matplotlib colormap name for the loss (the default: dark = low loss).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    Figure = figure_class("plot_parallel_coordinate")
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm, Normalize

    ok, ps = _ok_params(trials, params, space)
    losses = np.array([r.loss for r in ok])
    fig = Figure(figsize=(min(16.0, max(6.0, 1.4 * len(ps) + 3.0)), 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("Parallel coordinates")
    if not ok:
        _no_data(ax, "no trial finished with status ok")
        return fig
    if log_scale and losses.min() <= 0:
        raise ValueError(f"log_scale=True needs losses > 0, got a loss of {losses.min():g}")
    columns = [_axis_position(p) for p in [_Param("loss", losses, None, log_scale), *ps]]
    Y = np.column_stack([pos for pos, _ in columns])
    order = np.argsort(-losses)  # worst first, best on top
    segments = [np.column_stack([np.arange(Y.shape[1]), Y[i]]) for i in order]
    norm = (LogNorm if log_scale else Normalize)(vmin=losses.min(), vmax=losses.max())
    lines = LineCollection(segments, cmap=cmap, norm=norm, lw=1.2, alpha=0.75)
    lines.set_array(losses[order])
    ax.add_collection(lines)
    for j, (_, ticks) in enumerate(columns):
        ax.plot([j, j], [0, 1], color="0.3", lw=0.8)
        for f, text in ticks:
            ax.text(j + 0.04, f, text, fontsize=7.5, va="center", color="0.15",
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})  # fmt: skip
    ax.set_xlim(-0.1, Y.shape[1] - 0.6)
    ax.set_ylim(min(-0.05, float(Y.min()) - 0.05), 1.05)
    names = [f"loss{' (log)' if log_scale else ''}", *(f"{p.label}{' (log)' if p.log else ''}" for p in ps)]
    ax.set_xticks(range(Y.shape[1]), names, rotation=20 if len(ps) > 5 else 0)
    ax.set_yticks([])
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="loss", pad=0.01)
    return fig


def plot_slice(trials: Any, params: Sequence[str] | None = None, *, space: Any = None, log_scale: bool = False) -> Any:
    """Loss against each label's value, one panel per label, points coloured by trial id.

    Choices and integer labels with few values are drawn slightly spread around their value so
    that equal values stay visible; with ``space``, a choice's axis names its options.

    Args:
        trials: a ``Trials`` after ``fmin``.
        params: the labels to show (default: every label active in an ok trial).
        space: the search space, for choice option names and log axes of log-scaled labels.
        log_scale: loss axis in log scale (every ok loss must then be > 0).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    Figure = figure_class("plot_slice")
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.ticker import MaxNLocator

    ok, ps = _ok_params(trials, params, space)
    losses, tids = np.array([r.loss for r in ok]), np.array([r.tid for r in ok])
    ncols = min(4, math.ceil(math.sqrt(max(len(ps), 1))))
    nrows = math.ceil(max(len(ps), 1) / ncols)
    fig = Figure(figsize=(2.9 * ncols + 1.0, 2.7 * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    fig.suptitle("Slice plot")
    norm = Normalize(vmin=tids.min(), vmax=tids.max()) if ok else Normalize(0, 1)
    cmap = ListedColormap(colormaps["Blues"](np.linspace(0.2, 1.0, 256)))  # early trials pale, not white
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, size=len(ok))
    for k, ax in enumerate(axes.flat):
        if k >= len(ps):
            ax.axis("off")
            if k == 0:
                _no_data(ax, "no trial finished with status ok" if not ok else "no parameter to show")
            continue
        p = ps[k]
        active = ~np.isnan(p.values)
        discrete = p.names is not None or (p.integer and np.unique(p.values[active]).size <= 12)
        x = p.values + (jitter if discrete else 0)
        ax.scatter(x[active], losses[active], c=tids[active], cmap=cmap, norm=norm, s=14, edgecolors="0.3", lw=0.3)
        if p.names is not None:
            ax.set_xticks(range(len(p.names)), [n[:10] for n in p.names], rotation=30 if len(p.names) > 3 else 0)
        elif p.log:
            ax.set_xscale("log")
        else:  # few ticks: neighbouring panels' end labels must not collide
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=discrete))
        ax.set_xlabel(f"{p.label} (log scale)" if p.log else p.label)
        ax.grid(alpha=0.3)
        if k % ncols == 0:
            ax.set_ylabel("loss (log scale)" if log_scale else "loss")
            _loss_scale(ax, losses, log_scale)
    if ok and ps:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, label="trial id", shrink=0.9 if nrows <= 2 else 0.5)
    return fig


def param_importances(
    trials: Any, params: Sequence[str] | None = None, *, target_quantile: float = 0.1
) -> dict[str, float]:
    """How much each label matters for reaching the best ``target_quantile`` of losses (PED-ANOVA).

    PED-ANOVA (Watanabe, Bansal and Hutter, IJCAI 2023, https://arxiv.org/abs/2304.10255; the
    method of Optuna's ``PedAnovaImportanceEvaluator``): a label's importance is the Pearson
    divergence between the distribution of its values among the top ``target_quantile`` of the
    ok trials and among all ok trials. A label that the best trials share (a narrow range, one
    option) is important; a label whose values among the best trials look like all its values
    is not. Labels active in only some trials are weighted by how often they are active. The
    importances are measured over the trials that were run, so with TPE they describe the
    region TPE explored. See ``sparktune._importance`` for the estimator.

    Args:
        trials: a ``Trials`` after ``fmin``; trials that did not finish with status ok and a
            finite loss are left out.
        params: the labels to assess (default: every label active in an ok trial).
        target_quantile: the share of best trials, in (0, 1); 0.1 = the best 10%. Use at least
            enough trials that this share holds several (with 0.1, 50 or more).

    Returns:
        label -> importance, each >= 0, summing to 1, most important first. If no label
        separates the best trials (every divergence is 0), each gets the same share.

    Raises:
        ValueError: ``target_quantile`` is not in (0, 1), fewer than 2 trials are ok, or
            ``params`` names a label the trials do not have.
    """
    if not 0 < target_quantile < 1:
        raise ValueError(f"`0 < target_quantile < 1` must hold, got target_quantile={target_quantile!r}")
    ok, ps = _ok_params(trials, params)
    if len(ok) < 2:
        raise ValueError(f"param_importances needs at least 2 trials with status ok and a finite loss, got {len(ok)}")
    raw = ped_anova({p.label: p.values for p in ps}, np.array([r.loss for r in ok]), target_quantile)
    total = sum(raw.values())
    shares = {k: float(v / total if total > 0 else 1.0 / len(raw)) for k, v in raw.items()}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def plot_param_importances(trials: Any, params: Sequence[str] | None = None, *, target_quantile: float = 0.1) -> Any:
    """A bar per label of ``param_importances`` (PED-ANOVA), most important at the top.

    Args:
        trials: a ``Trials`` after ``fmin``.
        params: the labels to assess (default: every label active in an ok trial).
        target_quantile: the share of best trials the importance is about (see ``param_importances``).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    Figure = figure_class("plot_param_importances")
    importances = param_importances(trials, params, target_quantile=target_quantile)
    labels, values = list(importances)[::-1], list(importances.values())[::-1]
    fig = Figure(figsize=(6.5, 1.2 + 0.4 * len(labels)), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.barh(labels, values, color="tab:blue", height=0.6)
    ax.bar_label(bars, [f"{v:.2f}" for v in values], padding=3, fontsize=9)
    ax.set_xlim(0, max(values, default=1.0) * 1.15 or 1.0)
    ax.set_xlabel(f"importance (PED-ANOVA: best {target_quantile:.0%} of ok trials against all)")
    ax.set_title("Hyperparameter importances")
    ax.grid(axis="x", alpha=0.3)
    return fig


__all__ = [
    "param_importances",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_slice",
]
