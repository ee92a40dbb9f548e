"""Benchmark problems for the TPE comparison, each defined once in a neutral spec.

A problem is a search space built from the spec nodes below and an objective over the *point*
(the nested structure the objective receives from ``space_eval``: dicts, with a choice replaced
by the chosen option). ``to_hp`` turns a spec into ``hp`` expressions for sparktune or hyperopt
(same signatures); ``optuna_point`` samples the same point through an Optuna trial
(define-by-run). Every objective returns a *regret*-like loss: the known optimum is subtracted,
so 0 is the best possible value (the scikit-learn task reports its cross-validated error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# -- spec nodes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class U:
    """Float uniform in [low, high]."""

    name: str
    low: float
    high: float


@dataclass(frozen=True)
class LU:
    """Float log-uniform in [low, high] (natural-space bounds; hp gets log(low), log(high))."""

    name: str
    low: float
    high: float


@dataclass(frozen=True)
class I:  # noqa: E742 - short spec name
    """Integer uniform in [low, high] inclusive (hp.uniformint / Optuna suggest_int)."""

    name: str
    low: int
    high: int


@dataclass(frozen=True)
class C:
    """Choice among options (constants or nested specs); the point gets the chosen option."""

    name: str
    options: tuple[Any, ...]


def to_hp(spec: Any, hp: Any) -> Any:
    """``hp`` expressions (sparktune.hp or hyperopt.hp) for ``spec``."""
    if isinstance(spec, U):
        return hp.uniform(spec.name, spec.low, spec.high)
    if isinstance(spec, LU):
        return hp.loguniform(spec.name, math.log(spec.low), math.log(spec.high))
    if isinstance(spec, I):
        return hp.uniformint(spec.name, spec.low, spec.high)
    if isinstance(spec, C):
        return hp.choice(spec.name, [to_hp(o, hp) for o in spec.options])
    if isinstance(spec, dict):
        return {k: to_hp(v, hp) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [to_hp(v, hp) for v in spec]
    return spec


def optuna_point(spec: Any, trial: Any) -> Any:
    """The point for ``spec`` sampled through an Optuna trial (define-by-run)."""
    if isinstance(spec, U):
        return trial.suggest_float(spec.name, spec.low, spec.high)
    if isinstance(spec, LU):
        return trial.suggest_float(spec.name, spec.low, spec.high, log=True)
    if isinstance(spec, I):
        return trial.suggest_int(spec.name, spec.low, spec.high)
    if isinstance(spec, C):
        i = trial.suggest_categorical(spec.name, list(range(len(spec.options))))
        return optuna_point(spec.options[i], trial)
    if isinstance(spec, dict):
        return {k: optuna_point(v, trial) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [optuna_point(v, trial) for v in spec]
    return spec


@dataclass(frozen=True)
class Problem:
    name: str
    spec: Any
    objective: Callable[[Any], float]
    note: str
    #: the best possible loss, or None when unknown (then the best loss any run found stands in)
    optimum: float | None = 0.0


# -- classic functions (vector x from a list of U) ----------------------------------------------


def _box(prefix: str, d: int, low: float, high: float) -> list[U]:
    return [U(f"{prefix}{i}", low, high) for i in range(d)]


def branin(p: list[float]) -> float:
    x1, x2 = p
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s - 0.39788735772973816


_H_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: list[float]) -> float:
    x = np.asarray(p)
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1))) + 3.32236801141551)


def rosenbrock(p: list[float]) -> float:
    x = np.asarray(p)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def styblinski_tang(p: list[float]) -> float:
    x = np.asarray(p)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x) + 39.16616570377142 * len(x))


def ackley(p: list[float]) -> float:
    x = np.asarray(p)
    d = len(x)
    return float(
        -20 * math.exp(-0.2 * math.sqrt(np.sum(x**2) / d)) - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e
    )


def levy(p: list[float]) -> float:
    x = np.asarray(p)
    w = 1 + (x - 1) / 4
    return float(
        math.sin(math.pi * w[0]) ** 2
        + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    )


# -- mixed and conditional synthetic spaces -----------------------------------------------------

MIXED_SPEC = {
    "lr": LU("lr", 1e-5, 1.0),
    "units": I("units", 8, 512),
    "layers": I("layers", 1, 6),
    "activation": C("activation", ("relu", "tanh", "sigmoid", "elu")),
    "optimizer": C("optimizer", ("sgd", "adam", "rmsprop")),
    "dropout": U("dropout", 0.0, 0.8),
}
_ACT = {"relu": 0.0, "tanh": 0.15, "sigmoid": 0.5, "elu": 0.05}
_OPT = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1}


def mixed(p: dict[str, Any]) -> float:
    """A smooth stand-in for a neural-network tuning surface; optimum 0 at lr=3e-3 (adam), 128
    units, 3 layers, relu, dropout 0.25. The best learning rate depends on the optimizer."""
    lr_opt = {"sgd": 3e-2, "adam": 3e-3, "rmsprop": 1e-3}[p["optimizer"]]
    return float(
        0.25 * (math.log10(p["lr"]) - math.log10(lr_opt)) ** 2
        + 0.05 * (math.log2(p["units"]) - 7) ** 2
        + 0.04 * (p["layers"] - 3) ** 2
        + _ACT[p["activation"]]
        + _OPT[p["optimizer"]]
        + 0.5 * (p["dropout"] - 0.25) ** 2
    )


COND_SPEC = {
    "model": C(
        "model",
        (
            {
                "type": "svm",
                "C": LU("svm_C", 1e-3, 1e3),
                "kernel": C(
                    "svm_kernel",
                    (
                        {"type": "rbf", "gamma": LU("rbf_gamma", 1e-4, 10.0)},
                        {"type": "poly", "degree": I("poly_degree", 2, 5), "coef0": U("poly_coef0", 0.0, 1.0)},
                    ),
                ),
            },
            {
                "type": "forest",
                "n_trees": I("rf_n_trees", 10, 500),
                "depth": I("rf_depth", 2, 20),
                "max_features": U("rf_max_features", 0.1, 1.0),
            },
            {"type": "linear", "alpha": LU("lin_alpha", 1e-6, 1.0), "l1_ratio": U("lin_l1_ratio", 0.0, 1.0)},
        ),
    ),
    "scale": C("scale", (False, True)),
}


def conditional(p: dict[str, Any]) -> float:
    """Nested choices with a different floor per branch: rbf SVM reaches 0, the forest 0.05,
    polynomial SVM 0.08, the linear model 0.2; unscaled inputs cost 0.1 except for the forest."""
    m = p["model"]
    scale_pen = 0.0 if (p["scale"] or m["type"] == "forest") else 0.1
    if m["type"] == "svm":
        c = 0.02 * (math.log10(m["C"]) - 1.5) ** 2
        k = m["kernel"]
        if k["type"] == "rbf":
            return c + 0.05 * (math.log10(k["gamma"]) + 2.0) ** 2 + scale_pen
        return 0.08 + c + 0.03 * (k["degree"] - 3) ** 2 + 0.2 * (k["coef0"] - 0.6) ** 2 + scale_pen
    if m["type"] == "forest":
        return (
            0.05
            + 0.1 * (math.log(m["n_trees"]) - math.log(300)) ** 2
            + 0.002 * (m["depth"] - 12) ** 2
            + 0.3 * (m["max_features"] - 0.4) ** 2
        )
    return 0.2 + 0.02 * (math.log10(m["alpha"]) + 3) ** 2 + 0.1 * (m["l1_ratio"] - 0.5) ** 2 + scale_pen


# -- a real model: kernel ridge regression on scikit-learn's bundled diabetes dataset -------------

KRR_SPEC = {
    "alpha": LU("alpha", 1e-4, 10.0),
    "gamma": LU("gamma", 1e-4, 1.0),
    "kernel": C("kernel", ("rbf", "laplacian")),
    "scaler": C("scaler", ("standard", "quantile")),
}
_DIABETES: Any = None


def _diabetes_folds() -> Any:
    """Per scaler, the 3 (train X, train y, test X, test y) folds; scalers fitted on each train fold."""
    global _DIABETES
    if _DIABETES is None:
        from sklearn.datasets import load_diabetes
        from sklearn.model_selection import KFold
        from sklearn.preprocessing import QuantileTransformer, StandardScaler

        X, y = load_diabetes(return_X_y=True)
        y = (y - y.mean()) / y.std()
        folds: dict[str, list[Any]] = {"standard": [], "quantile": []}
        for tr, te in KFold(3, shuffle=True, random_state=0).split(X):
            for name, scaler in (("standard", StandardScaler()), ("quantile", QuantileTransformer(n_quantiles=100))):
                s = scaler.fit(X[tr])
                folds[name].append((s.transform(X[tr]), y[tr], s.transform(X[te]), y[te]))
        _DIABETES = folds
    return _DIABETES


def krr_diabetes(p: dict[str, Any]) -> float:
    """3-fold cross-validated mean squared error (in units of the target variance) of
    scikit-learn's ``KernelRidge`` on its bundled diabetes data (442 x 10, target standardised),
    features standardised or rank-transformed (``scaler``, fitted on each training fold)."""
    from sklearn.kernel_ridge import KernelRidge

    errs = []
    for Xtr, ytr, Xte, yte in _diabetes_folds()[p["scaler"]]:
        model = KernelRidge(alpha=p["alpha"], kernel=p["kernel"], gamma=p["gamma"]).fit(Xtr, ytr)
        errs.append(float(np.mean((model.predict(Xte) - yte) ** 2)))
    return float(np.mean(errs))


def _vec(f: Callable[[list[float]], float]) -> Callable[[Any], float]:
    return lambda p: f(list(p))


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in [
        Problem("branin", [U("x0", -5, 10), U("x1", 0, 15)], _vec(branin), "2-D, 3 minima"),
        Problem("hartmann6", _box("x", 6, 0, 1), _vec(hartmann6), "6-D on [0, 1]"),
        Problem("rosenbrock5", _box("x", 5, -5, 10), _vec(rosenbrock), "5-D on [-5, 10]"),
        Problem("rosenbrock10", _box("x", 10, -5, 10), _vec(rosenbrock), "10-D on [-5, 10]"),
        Problem("styblinski_tang5", _box("x", 5, -5, 5), _vec(styblinski_tang), "5-D on [-5, 5]"),
        Problem("styblinski_tang10", _box("x", 10, -5, 5), _vec(styblinski_tang), "10-D on [-5, 5]"),
        Problem("ackley5", _box("x", 5, -32.768, 32.768), _vec(ackley), "5-D on [-32.768, 32.768]"),
        Problem("levy5", _box("x", 5, -10, 10), _vec(levy), "5-D on [-10, 10]"),
        Problem("mixed", MIXED_SPEC, mixed, "log-uniform, 2 integers, 2 categoricals, 1 uniform"),
        Problem("conditional", COND_SPEC, conditional, "nested choices, 3 branches, 10 conditional params"),
        Problem(
            "krr_diabetes", KRR_SPEC, krr_diabetes, "scikit-learn KernelRidge, 3-fold CV MSE on load_diabetes", None
        ),
    ]
}
