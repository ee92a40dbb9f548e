# Source: Kris Wright, "Parameter Tuning with Hyperopt", District Data Labs blog
#   https://www.districtdatalabs.com/parameter-tuning-with-hyperopt (no licence stated).
#   KNN on iris with hp.choice over range(...) and 0/1 switches for scaling and normalising, the
#   trials plotted from trials.trials[i]['misc']['vals'], then a model-selection space.
# Changes: Python 3; max_evals 100/1500 -> 20/25; seeded rstate; the plot saved to a file (Agg);
#   MultinomialNB's alpha lower bound 0 -> 0.01 (newer scikit-learn refuses 0); 3-fold CV.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.naive_bayes import MultinomialNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.preprocessing import normalize, scale  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

iris = datasets.load_iris()
X = iris.data
y = iris.target


def hyperopt_train_test(params):
    X_ = X[:]
    if "normalize" in params:
        if params["normalize"] == 1:
            X_ = normalize(X_)
        del params["normalize"]
    if "scale" in params:
        if params["scale"] == 1:
            X_ = scale(X_)
        del params["scale"]
    t = params["type"]
    del params["type"]
    if t == "naive_bayes":
        clf = MultinomialNB(**params)
        X_ = np.abs(X_)
    elif t == "svm":
        clf = SVC(**params)
    elif t == "randomforest":
        clf = RandomForestClassifier(**params)
    else:
        clf = KNeighborsClassifier(**params)
    return cross_val_score(clf, X_, y, cv=3).mean()


space4knn = {
    "type": "knn",
    "n_neighbors": hp.choice("n_neighbors", range(1, 50)),
    "scale": hp.choice("scale", [0, 1]),
    "normalize": hp.choice("normalize", [0, 1]),
}


def f(params):
    acc = hyperopt_train_test(params)
    return {"loss": -acc, "status": STATUS_OK}


trials = Trials()
best = fmin(f, space4knn, algo=tpe.suggest, max_evals=20, trials=trials, rstate=np.random.default_rng(0))
print("best:", best)

fig, ax = plt.subplots(1)
xs = [t["misc"]["vals"]["n_neighbors"] for t in trials.trials]
ys = [-t["result"]["loss"] for t in trials.trials]
ax.scatter(xs, ys, s=20, linewidth=0.01, alpha=0.75)
ax.set_xlabel("n_neighbors")
fig.savefig("knn.png")

space = hp.choice(
    "classifier_type",
    [
        {"type": "naive_bayes", "alpha": hp.uniform("alpha", 0.01, 2.0)},
        {
            "type": "svm",
            "C": hp.uniform("C", 0.01, 10.0),
            "kernel": hp.choice("kernel", ["linear", "rbf"]),
            "gamma": hp.uniform("gamma", 0.01, 20.0),
        },
        {
            "type": "randomforest",
            "max_depth": hp.choice("max_depth", range(1, 20)),
            "max_features": hp.choice("max_features", range(1, 5)),
            "n_estimators": hp.choice("n_estimators", range(1, 20)),
            "criterion": hp.choice("criterion", ["gini", "entropy"]),
            "scale": hp.choice("rf_scale", [0, 1]),
            "normalize": hp.choice("rf_normalize", [0, 1]),
        },
        {"type": "knn", "n_neighbors": hp.choice("knn_n_neighbors", range(1, 50))},
    ],
)
count = 0
best_acc = 0


def f2(params):
    global best_acc, count
    count += 1
    acc = hyperopt_train_test(params.copy())
    if acc > best_acc:
        print("new best:", acc, "using", params["type"])
        best_acc = acc
    return {"loss": -acc, "status": STATUS_OK}


trials = Trials()
best = fmin(f2, space, algo=tpe.suggest, max_evals=25, trials=trials, rstate=np.random.default_rng(1))
print("best:", best)
