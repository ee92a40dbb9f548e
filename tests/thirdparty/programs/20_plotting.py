# Source: hyperopt.plotting as used in tutorials (main_plot_history, main_plot_histogram,
#   main_plot_vars), e.g. Kris Wright's District Data Labs post and hyperopt's own
#   tests/test_plotting.py (BSD-3-Clause).
# Changes: figures drawn with the Agg backend and saved to files instead of shown; 30 evaluations.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from hyperopt import Trials, fmin, hp, plotting, tpe  # noqa: E402

space = {"x": hp.uniform("x", -3, 3), "kind": hp.choice("kind", ["a", "b"])}
trials = Trials()
fmin(
    lambda p: p["x"] ** 2 + (0.5 if p["kind"] == "a" else 0.0),
    space,
    algo=tpe.suggest,
    max_evals=30,
    trials=trials,
    rstate=np.random.default_rng(0),
)
plotting.main_plot_history(trials, do_show=False)
plt.savefig("history.png")
plotting.main_plot_histogram(trials, do_show=False)
plt.savefig("histogram.png")
plotting.main_plot_vars(trials, do_show=False)
plt.savefig("vars.png")
print("plots saved")
