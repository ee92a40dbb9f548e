# Source: the "turn the Trials object into a pandas DataFrame" snippet common in blog posts and
#   answers (e.g. coderzcolumn.com "Hyperopt - Guide to Hyperparameters Optimization"): rows from
#   trials.trials with t['misc']['vals'], t['result']['loss'], t['tid']; trials.vals,
#   trials.idxs_vals, trials.best_trial, trials.argmin, trials.average_best_error().
# Changes: a Lasso on bundled diabetes data; 20 evaluations; seeded.
import numpy as np
import pandas as pd
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.model_selection import cross_val_score

X, y = load_diabetes(return_X_y=True)
space = {
    "alpha": hp.loguniform("alpha", np.log(1e-3), np.log(10)),
    "fit_intercept": hp.choice("fit_intercept", [True, False]),
}


def objective(params):
    mse = -cross_val_score(Lasso(**params), X, y, cv=3, scoring="neg_mean_squared_error").mean()
    return {"loss": mse, "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=20, trials=trials, rstate=np.random.default_rng(0))
rows = []
for t in trials.trials:
    row = {k: v[0] for k, v in t["misc"]["vals"].items()}
    row["loss"] = t["result"]["loss"]
    row["tid"] = t["tid"]
    rows.append(row)
df = pd.DataFrame(rows).sort_values("loss")
print(df.head(3))
print(pd.DataFrame(trials.vals).shape)
idxs, vals = trials.idxs_vals
print(sorted(idxs), len(vals["alpha"]))
print(trials.best_trial["tid"], trials.best_trial["result"]["loss"], trials.argmin)
print(trials.average_best_error())
assert df.iloc[0]["tid"] == trials.best_trial["tid"]
assert trials.argmin == best
