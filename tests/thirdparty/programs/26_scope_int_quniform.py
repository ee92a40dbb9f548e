# Source: the scope.int(hp.quniform(...)) idiom of the Databricks/MLflow hyperopt notebooks
#   (e.g. Databricks docs "Hyperopt: best practices", `from hyperopt.pyll import scope`,
#   `scope.int(hp.quniform('max_depth', 2, 8, 1))`) together with hp.qloguniform and
#   hp.uniformint; the best point is mapped back with space_eval.
# Changes: a RandomForestRegressor on bundled diabetes data; 10 evaluations; seeded.
import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe
from hyperopt.pyll import scope
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_val_score

X, y = load_diabetes(return_X_y=True)
space = {
    "max_depth": scope.int(hp.quniform("max_depth", 2, 8, 1)),
    "n_estimators": scope.int(hp.qloguniform("n_estimators", np.log(5), np.log(40), 5)),
    "min_samples_leaf": hp.uniformint("min_samples_leaf", 1, 10),
    "max_features": hp.uniform("max_features", 0.3, 1.0),
}


def objective(params):
    params["min_samples_leaf"] = int(params["min_samples_leaf"])  # uniformint gives 3.0 in hyperopt
    model = RandomForestRegressor(random_state=0, **params)
    return {"loss": -cross_val_score(model, X, y, cv=3).mean(), "status": STATUS_OK}


trials = Trials()
best = fmin(objective, space, algo=tpe.suggest, max_evals=10, trials=trials, rstate=np.random.default_rng(0))
best_params = space_eval(space, best)
print(best, best_params)
best_params["min_samples_leaf"] = int(best_params["min_samples_leaf"])
final = RandomForestRegressor(random_state=0, **best_params).fit(X, y)
assert isinstance(best_params["max_depth"], int)
