# Source: the "look at your priors before searching" snippet of hyperopt tutorials (e.g.
#   coderzcolumn.com "Hyperopt - Guide to Hyperparameters Optimization", the Kaggle notebook by
#   Will Koehrsen): draw many values with hyperopt.pyll.stochastic.sample and plot histograms of
#   hp.normal, hp.qnormal, hp.lognormal, hp.qlognormal, hp.loguniform and hp.quniform.
# Changes: 500 draws per expression with a seeded Generator (rng=...), histograms saved (Agg),
#   range checks added.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from hyperopt import hp  # noqa: E402
from hyperopt.pyll.stochastic import sample  # noqa: E402

space = {
    "normal": hp.normal("normal", 0, 1),
    "qnormal": hp.qnormal("qnormal", 10, 3, 1),
    "lognormal": hp.lognormal("lognormal", 0, 0.5),
    "qlognormal": hp.qlognormal("qlognormal", 2, 0.5, 1),
    "loguniform": hp.loguniform("learning_rate", np.log(0.005), np.log(0.2)),
    "quniform": hp.quniform("num_leaves", 30, 150, 1),
}
rng = np.random.default_rng(0)
draws = [sample(space, rng=rng) for _ in range(500)]
fig, axes = plt.subplots(2, 3, figsize=(9, 5))
for ax, name in zip(axes.ravel(), space):
    ax.hist([d[name] for d in draws], bins=30)
    ax.set_title(name)
fig.savefig("priors.png")
lr = np.array([d["loguniform"] for d in draws])
leaves = np.array([d["quniform"] for d in draws])
print(lr.min(), lr.max(), leaves.min(), leaves.max())
assert 0.005 <= lr.min() and lr.max() <= 0.2
assert 30 <= leaves.min() and leaves.max() <= 150 and np.all(leaves == np.round(leaves))
assert all(d["lognormal"] > 0 for d in draws)
