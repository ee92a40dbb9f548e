# Source: hp.pchoice from hyperopt docs ("hp.pchoice(label, p_list) with p_list as a list of
#   (probability, option) pairs", docs/templates/tutorials/01.BasicTutorial.md, BSD-3-Clause),
#   written as users write it: three equally likely options as 0.33 each.
# Changes: a small GradientBoostingRegressor loss choice on bundled diabetes data; 12 evaluations.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.model_selection import cross_val_score

X, y = load_diabetes(return_X_y=True)
space = {
    "loss": hp.pchoice("loss", [(0.33, "squared_error"), (0.33, "absolute_error"), (0.33, "huber")]),
    "learning_rate": hp.uniform("learning_rate", 0.05, 0.3),
}


def objective(p):
    model = GradientBoostingRegressor(n_estimators=20, random_state=0, **p)
    return {"loss": -cross_val_score(model, X, y, cv=3, scoring="r2").mean(), "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=12, trials=trials, rstate=np.random.default_rng(0))
print(space_eval(space, best))
