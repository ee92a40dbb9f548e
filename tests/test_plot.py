"""Figures of a run (sparktune.plot), hyperopt's plotting functions (sparktune.plotting), and
PED-ANOVA importances on functions whose importances are known. Every figure is rendered to PNG
and read back."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from sparktune import STATUS_FAIL, Trials, fmin, hp, plot, rand, tpe

plt.switch_backend("Agg")  # the hyperopt-style functions draw through pyplot; never open a window
ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "x": hp.uniform("x", -2, 2),
    "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
    "optimizer": hp.choice("optimizer", ["adam", "sgd", "rmsprop"]),
    "model": hp.choice("model", ["linear", {"depth": hp.randint("depth", 1, 8)}]),
}


def objective(p):
    if p["x"] > 1.6:
        raise ValueError(f"x too large: {p['x']:.2f}")
    if p["x"] < -1.6:
        return {"status": STATUS_FAIL}
    loss = (p["x"] - 0.5) ** 2 + 0.3 * abs(math.log10(p["lr"]) + 2)
    return loss + ["adam", "sgd", "rmsprop"].index(p["optimizer"]) * 0.5 + 0.05


@pytest.fixture(scope="module")
def trials():
    t = Trials()
    fmin(objective, SPACE, algo=tpe.suggest, max_evals=60, trials=t, catch_eval_exceptions=True,
         rstate=np.random.default_rng(1), show_progressbar=False)  # fmt: skip
    return t


def n_failed(trials):
    return sum(d["state"] == 3 or d["result"].get("status") == "fail" for d in trials.all_trials)


def ink(path):
    """Share of non-white pixels, and share of coloured (not grey) pixels, of a PNG."""
    img = matplotlib.image.imread(path)[..., :3]
    return np.mean(img.min(axis=2) < 0.9), np.mean(np.ptp(img, axis=2) > 0.1)


def assert_drawn(fig, path, colour=True):
    """The figure renders to a PNG whose ink comes from the data, not only from frames and text.

    Frames, ticks and text are grey; the data of every figure but ``main_plot_vars`` is coloured.
    For a grey figure, a copy without its data artists must render with clearly less ink.
    """
    assert isinstance(fig, Figure)
    fig.savefig(path, dpi=60)
    share, coloured = ink(path)
    assert share > 0.02, f"{path.name}: {share:.1%} non-white pixels"
    if colour:
        assert coloured > 0.005, f"{path.name}: {coloured:.2%} coloured pixels"
    else:
        bare = pickle.loads(pickle.dumps(fig))
        for ax in bare.axes:
            for artist in [*ax.collections, *ax.lines, *ax.patches]:
                artist.remove()
        bare.savefig(path.with_name("bare-" + path.name), dpi=60)
        assert ink(path.with_name("bare-" + path.name))[0] < share - 0.005
    return fig


def texts(fig):
    out = []
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts + ax.get_xticklabels() + ax.get_yticklabels()]
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        if ax.get_legend():
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def test_optimization_history_marks_failed_trials(trials, tmp_path):
    fig = assert_drawn(plot.plot_optimization_history(trials), tmp_path / "history.png")
    failed = n_failed(trials)
    assert failed > 0
    assert f"failed ({failed})" in texts(fig)
    assert f"loss ({60 - failed} ok)" in texts(fig)
    ax = fig.axes[0]
    best_line = [line for line in ax.get_lines() if line.get_label() == "best so far"][0]
    ok_losses = [d["result"]["loss"] for d in trials.all_trials if d["result"].get("status") == "ok"]
    assert best_line.get_ydata()[-1] == min(ok_losses)
    assert ax.get_yscale() == "linear"


def test_optimization_history_log_scale(trials, tmp_path):
    fig = assert_drawn(plot.plot_optimization_history(trials, log_scale=True), tmp_path / "history_log.png")
    assert fig.axes[0].get_yscale() == "log"
    t = Trials()
    fmin(lambda x: x, hp.uniform("x", -1, 1), algo=rand.suggest, max_evals=5, trials=t, show_progressbar=False)
    with pytest.raises(ValueError, match="log_scale=True needs losses > 0"):
        plot.plot_optimization_history(t, log_scale=True)


def test_parallel_coordinate_with_and_without_space(trials, tmp_path):
    fig = assert_drawn(plot.plot_parallel_coordinate(trials, space=SPACE), tmp_path / "parallel.png")
    labels = texts(fig)
    assert {"adam", "sgd", "rmsprop", "(inactive)", "lr (log)"} <= set(labels)
    fig = assert_drawn(plot.plot_parallel_coordinate(trials, ["x", "optimizer"], log_scale=True), tmp_path / "p2.png")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["loss (log)", "x", "optimizer"]
    assert "adam" not in texts(fig)  # without the space a choice shows its option index


def test_slice_shows_option_names_and_log_axes_from_the_space(trials, tmp_path):
    fig = assert_drawn(plot.plot_slice(trials, space=SPACE), tmp_path / "slice.png")
    by_label = {ax.get_xlabel(): ax for ax in fig.axes if ax.get_xlabel()}
    assert set(by_label) == {"depth", "lr (log scale)", "model", "optimizer", "x"}
    assert [t.get_text() for t in by_label["optimizer"].get_xticklabels()] == ["adam", "sgd", "rmsprop"]
    assert [t.get_text() for t in by_label["model"].get_xticklabels()] == ["linear", "#1"]  # #index: a sub-space
    assert by_label["lr (log scale)"].get_xscale() == "log"
    fig = assert_drawn(plot.plot_slice(trials, ["lr"], log_scale=True), tmp_path / "slice_lr.png")
    assert fig.axes[0].get_xscale() == "linear" and fig.axes[0].get_yscale() == "log"


def test_unknown_params_are_refused(trials):
    with pytest.raises(ValueError, match=r"`params` must name labels of the trials .* got unknown \['nope'\]"):
        plot.plot_slice(trials, ["x", "nope"])


def test_plots_of_a_run_where_every_trial_failed(tmp_path):
    def fail(p):
        raise RuntimeError("broken")

    t = Trials()
    fmin(fail, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=4, trials=t, catch_eval_exceptions=True,
         return_argmin=False, show_progressbar=False)  # fmt: skip
    fig = plot.plot_optimization_history(t)
    assert "failed (4)" in texts(fig) and "no trial finished with status ok" in texts(fig)
    assert "no trial finished with status ok" in texts(plot.plot_parallel_coordinate(t))
    assert "no trial finished with status ok" in texts(plot.plot_slice(t))
    with pytest.raises(ValueError, match="at least 2 trials with status ok"):
        plot.param_importances(t)


def test_importances_plot(trials, tmp_path):
    fig = assert_drawn(plot.plot_param_importances(trials), tmp_path / "importances.png")
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(names) == ["depth", "lr", "model", "optimizer", "x"]
    imp = plot.param_importances(trials)
    assert names[::-1] == list(imp)  # most important at the top


def run_rand(objective, space, n, seed):
    t = Trials()
    fmin(objective, space, algo=rand.suggest, max_evals=n, trials=t, rstate=np.random.default_rng(seed),
         show_progressbar=False)  # fmt: skip
    return t


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importance_of_a_linear_function(seed):
    space = {k: hp.uniform(k, 0, 1) for k in "xyz"}
    imp = plot.param_importances(run_rand(lambda p: 10 * p["x"] + 0.1 * p["y"] + 0 * p["z"], space, 200, seed))
    assert math.isclose(sum(imp.values()), 1.0)
    assert list(imp)[0] == "x" and imp["x"] > 0.9
    assert imp["z"] < 0.05
    assert all(isinstance(v, float) and v >= 0 for v in imp.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importance_of_a_choice(seed):
    space = {"c": hp.choice("c", ["a", "b", "c", "d"]), "d": hp.choice("d", [0, 1]), "w": hp.uniform("w", 0, 1)}
    imp = plot.param_importances(run_rand(lambda p: 10 * "abcd".index(p["c"]), space, 200, seed))
    assert imp["c"] > 0.9 and imp["d"] < 0.05 and imp["w"] < 0.05


def test_importance_of_a_conditional_label():
    # `depth` exists only in the tree branch and decides the loss there; `w` never matters.
    space = {"m": hp.choice("m", [{"kind": 0}, {"kind": 1, "depth": hp.uniform("depth", 0, 1)}]),
             "w": hp.uniform("w", 0, 1)}  # fmt: skip

    def f(p):
        return 1.0 if p["m"]["kind"] == 0 else 2 * p["m"]["depth"]

    imp = plot.param_importances(run_rand(f, space, 300, 0))
    assert imp["depth"] > imp["m"] > imp["w"]
    assert imp["w"] < 0.05


def test_ped_anova_matches_optunas_evaluator():
    # Reference: optuna 5.0.0, get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
    # on these 200 trials (x, y, z: FloatDistribution(0, 1); w: FloatDistribution(e**-7, 1, log=True)).
    from sparktune._importance import ped_anova

    rng = np.random.default_rng(0)
    x, y, z = rng.uniform(size=(3, 200))
    w = np.exp(rng.uniform(-7, 0, 200))
    raw = ped_anova({"x": x, "y": y, "z": z, "w": w}, 10 * x + 0.1 * y + 3 * np.log(w) / 7, 0.1)
    optuna = {"x": 0.934830, "w": 0.056384, "y": 0.005492, "z": 0.003294}
    for label, share in optuna.items():
        assert abs(raw[label] / sum(raw.values()) - share) < 0.002, label


def test_ranks_share_ties():
    from sparktune._importance import _ranks

    assert _ranks(np.array([3.0, 1, 3, 2, 1, 1])).tolist() == [5.5, 2, 5.5, 4, 2, 2]


def test_importance_arguments_are_checked(trials):
    with pytest.raises(ValueError, match=r"`0 < target_quantile < 1` must hold, got target_quantile=1.5"):
        plot.param_importances(trials, target_quantile=1.5)
    assert set(plot.param_importances(trials, ["x", "lr"])) == {"x", "lr"}


# -- hyperopt's plotting functions, imported as hyperopt code does after the rename -------------


def test_hyperopt_plotting_without_show(trials, tmp_path):
    from sparktune.plotting import main_plot_histogram, main_plot_history, main_plot_vars

    plt.close("all")
    fig = main_plot_history(trials, do_show=False)
    assert fig is plt.gcf()
    assert_drawn(fig, tmp_path / "h_history.png")
    assert fig.axes[0].get_title() == "Loss History"
    plt.close("all")
    fig = main_plot_histogram(trials, do_show=False, title="losses")
    assert_drawn(fig, tmp_path / "h_histogram.png")
    assert fig.axes[0].get_title() == "losses"
    plt.close("all")
    fig = main_plot_vars(trials, do_show=False, colorize_best=3, columns=3)
    assert_drawn(fig, tmp_path / "h_vars.png", colour=False)
    assert sorted(ax.get_title() for ax in fig.axes) == ["depth", "lr", "model", "optimizer", "x"]
    plt.close("all")
    fig = main_plot_vars(trials, False, 8, None, 5, True, verbose=False)  # hyperopt 0.3's positional order
    assert {ax.get_xlabel() for ax in fig.axes} == {"loss"}
    plt.close("all")


def test_hyperopt_plotting_with_show_under_agg(trials):
    from sparktune.plotting import main_plot_histogram, main_plot_history, main_plot_vars

    for fn in (main_plot_history, main_plot_histogram, main_plot_vars):
        plt.close("all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Agg: "FigureCanvasAgg is non-interactive"
            fig = fn(trials, do_show=True)
        assert fig is plt.gcf() and fig.axes and all(ax.collections or ax.patches for ax in fig.axes)
    plt.close("all")


def test_missing_matplotlib_names_the_extra():
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib" or name.startswith("matplotlib."):
                    raise ImportError("matplotlib is blocked for this test")
        sys.meta_path.insert(0, Block())
        from sparktune import Trials, fmin, hp, rand
        import sparktune.plot, sparktune.plotting
        from sparktune.plotting import main_plot_history
        t = Trials()
        fmin(lambda p: p["x"] + p["y"], {{"x": hp.uniform("x", 0, 1), "y": hp.uniform("y", 0, 1)}},
             algo=rand.suggest, max_evals=10, trials=t, show_progressbar=False)
        print(sorted(sparktune.plot.param_importances(t)))
        for fn in (main_plot_history, sparktune.plot.plot_slice, sparktune.plot.plot_param_importances):
            try:
                fn(t)
            except ImportError as exc:
                print(exc)
        assert "matplotlib" not in sys.modules
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "['x', 'y']"  # importances need no matplotlib
    assert [line.split(" needs")[0] for line in lines[1:]] == [
        "main_plot_history",
        "plot_slice",
        "plot_param_importances",
    ]
    assert all(line.endswith("install it with: pip install 'sparktune[plots]'") for line in lines[1:])
