# Source: hyperopt docs, "Defining a Search Space", the conditional classifier space (naive_bayes,
#   svm with a nested kernel choice, dtree with a nested max_depth choice)
#   https://github.com/hyperopt/hyperopt/blob/master/docs/templates/getting-started/search_spaces.md
#   (hyperopt project, BSD-3-Clause).
# Changes: the docs stop at the space; here an objective trains the chosen scikit-learn model on the
#   bundled iris data (3-fold CV), rand.suggest with 25 evaluations, seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, rand, space_eval
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

space = hp.choice(
    "classifier_type",
    [
        {"type": "naive_bayes"},
        {
            "type": "svm",
            "C": hp.lognormal("svm_C", 0, 1),
            "kernel": hp.choice(
                "svm_kernel",
                [{"ktype": "linear"}, {"ktype": "RBF", "width": hp.lognormal("svm_rbf_width", 0, 1)}],
            ),
        },
        {
            "type": "dtree",
            "criterion": hp.choice("dtree_criterion", ["gini", "entropy"]),
            "max_depth": hp.choice("dtree_max_depth", [None, hp.qlognormal("dtree_max_depth_int", 3, 1, 1)]),
            "min_samples_split": hp.qlognormal("dtree_min_samples_split", 2, 1, 1),
        },
    ],
)
X, y = load_iris(return_X_y=True)


def objective(args):
    if args["type"] == "naive_bayes":
        clf = GaussianNB()
    elif args["type"] == "svm":
        k = args["kernel"]
        if k["ktype"] == "linear":
            clf = SVC(C=args["C"], kernel="linear")
        else:
            clf = SVC(C=args["C"], kernel="rbf", gamma=1.0 / k["width"])
    else:
        depth = args["max_depth"]
        clf = DecisionTreeClassifier(
            criterion=args["criterion"],
            max_depth=None if depth is None else max(1, int(depth)),
            min_samples_split=max(2, int(args["min_samples_split"])),
        )
    return {"loss": -cross_val_score(clf, X, y, cv=3).mean(), "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=rand.suggest, max_evals=25, trials=trials, rstate=np.random.default_rng(0))
print(best)
print(space_eval(space, best), min(trials.losses()))
