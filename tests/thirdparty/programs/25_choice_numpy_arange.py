# Source: the LightGBM space of the kddcup2019-automl project (shuyao95, automl.py), quoted in
#   HsiangHung/Machine_Learning_Note Bayesian_Optimization/README.md:
#   "max_depth": hp.choice("max_depth", np.arange(2, 10, 1, dtype=int)),
#   "num_leaves": hp.choice("num_leaves", np.arange(4, 200, 4, dtype=int)),
#   "feature_fraction": hp.quniform("feature_fraction", 0.2, 0.8, 0.1), then space_eval(space, best).
# Changes: LightGBM -> scikit-learn HistGradientBoostingClassifier (num_leaves -> max_leaf_nodes,
#   feature_fraction -> max_features); synthetic data; 10 evaluations; seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

X, y = make_classification(n_samples=400, n_features=12, random_state=1)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.5, random_state=0)
space = {
    "max_depth": hp.choice("max_depth", np.arange(2, 10, 1, dtype=int)),
    "num_leaves": hp.choice("num_leaves", np.arange(4, 200, 4, dtype=int)),
    "feature_fraction": hp.quniform("feature_fraction", 0.2, 0.8, 0.1),
}


def objective(hyperparams):
    model = HistGradientBoostingClassifier(
        max_iter=30,
        max_depth=int(hyperparams["max_depth"]),
        max_leaf_nodes=int(hyperparams["num_leaves"]),
        max_features=float(hyperparams["feature_fraction"]),
        random_state=0,
    ).fit(X_train, y_train)
    return {"loss": -model.score(X_val, y_val), "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=10, trials=trials, rstate=np.random.default_rng(1))
hyperparams = space_eval(space, best)
print(best, hyperparams)
assert 2 <= hyperparams["max_depth"] < 10
