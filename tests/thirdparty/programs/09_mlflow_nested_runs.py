# Source: MLflow example "Hyperparameter Tuning" (examples/hyperparam/search_hyperopt.py in
#   github.com/mlflow/mlflow, Apache-2.0): a parent MLflow run, one nested run per evaluation,
#   hp.uniform learning rate and momentum-like parameters, the algorithm picked by name ("tpe" or
#   "rand"), the best run's metrics logged on the parent.
# Changes: the Keras training entry point (mlflow.projects.run) replaced by an in-process
#   scikit-learn SGDRegressor on the bundled diabetes data; tracking to a local sqlite file in
#   the working directory; max_runs 8; no click command line.
import warnings

import mlflow
import numpy as np
from hyperopt import fmin, hp, rand, tpe
from sklearn.datasets import load_diabetes
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
mlflow.set_tracking_uri("sqlite:///mlruns.db")
mlflow.set_experiment("hyperopt-example")
X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)
_inf = np.finfo(np.float64).max


def new_eval(params):
    eta0, alpha = params
    with mlflow.start_run(nested=True):
        mlflow.log_params({"eta0": eta0, "alpha": alpha})
        model = SGDRegressor(eta0=eta0, alpha=alpha, max_iter=50, random_state=0).fit(X_train, y_train)
        rmse = float(np.sqrt(mean_squared_error(y_valid, model.predict(X_valid))))
        if not np.isfinite(rmse):
            rmse = _inf
        mlflow.log_metric("val_rmse", rmse)
    return rmse


space = [hp.loguniform("eta0", np.log(1e-4), np.log(1e-1)), hp.loguniform("alpha", np.log(1e-6), np.log(1e-1))]
algo = "tpe"
with mlflow.start_run() as run:
    best = fmin(
        fn=new_eval,
        space=space,
        algo=tpe.suggest if algo == "tpe" else rand.suggest,
        max_evals=8,
        rstate=np.random.default_rng(0),
    )
    mlflow.set_tag("best_params", str(best))
children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'")
print(best, len(children))
assert len(children) == 8
