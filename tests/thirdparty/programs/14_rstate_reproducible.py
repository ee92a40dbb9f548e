# Source: hyperopt docs hint "pass an object of type np.random.Generator into fmin using rstate"
#   (docs/templates/getting-started/minimizing_functions.md, BSD-3-Clause) and the frequent
#   Stack Overflow answer to "how do I make hyperopt results reproducible": the same seeded
#   Generator gives the same trials.
# Changes: a small SVC on bundled breast-cancer data; 15 evaluations run twice.
import numpy as np
from hyperopt import Trials, fmin, hp, tpe
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

X, y = load_breast_cancer(return_X_y=True)
space = {"C": hp.loguniform("C", -3, 3), "gamma": hp.loguniform("gamma", -6, 0)}


def objective(p):
    return 1 - cross_val_score(make_pipeline(StandardScaler(), SVC(C=p["C"], gamma=p["gamma"])), X, y, cv=3).mean()


runs = []
for _ in range(2):
    trials = Trials()
    best = fmin(objective, space, tpe.suggest, 15, trials=trials, rstate=np.random.default_rng(42))
    runs.append((best, trials.losses()))
print(runs[0][0])
assert runs[0] == runs[1]
