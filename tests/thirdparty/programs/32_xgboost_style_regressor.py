# Source: the widespread "XGBoost + hyperopt" Kaggle/blog recipe (e.g. "Hyperparameter tuning using
#   Hyperopt" kernels): hp.quniform for max_depth/min_child_weight cast with int() in the
#   objective, hp.uniform for subsample/colsample, 'eta' via hp.quniform with q=0.025, the
#   objective printing each score, and trials.best_trial['result'] read at the end.
# Changes: xgboost -> scikit-learn GradientBoostingRegressor (min_child_weight -> min_samples_leaf);
#   bundled diabetes data; 12 evaluations; seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

X, y = load_diabetes(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)


def score(params):
    print("Training with params:", params)
    model = GradientBoostingRegressor(
        n_estimators=int(params["n_estimators"]),
        learning_rate=params["eta"],
        max_depth=int(params["max_depth"]),
        min_samples_leaf=int(params["min_child_weight"]),
        subsample=params["subsample"],
        max_features=params["colsample_bytree"],
        random_state=0,
    ).fit(X_train, y_train)
    rmse = mean_squared_error(y_valid, model.predict(X_valid)) ** 0.5
    print(f"\tScore {rmse}\n\n")
    return {"loss": rmse, "status": STATUS_OK, "model_params": params}


space = {
    "n_estimators": hp.quniform("n_estimators", 10, 60, 10),
    "eta": hp.quniform("eta", 0.025, 0.5, 0.025),
    "max_depth": hp.quniform("max_depth", 1, 8, 1),
    "min_child_weight": hp.quniform("min_child_weight", 1, 6, 1),
    "subsample": hp.uniform("subsample", 0.5, 1),
    "colsample_bytree": hp.uniform("colsample_bytree", 0.5, 1),
}
trials = Trials()
best = fmin(score, space, algo=tpe.suggest, trials=trials, max_evals=12, rstate=np.random.default_rng(0))
print(best)
print(trials.best_trial["result"]["loss"], trials.best_trial["result"]["model_params"])
