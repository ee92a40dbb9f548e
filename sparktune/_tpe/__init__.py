"""Tree-structured Parzen estimators in pure numpy/scipy (no trials, driver or Spark imports)."""

from __future__ import annotations

from sparktune._tpe._parzen import Parzen, bandwidths
from sparktune._tpe._sampler import Options, compile_model, forgetting_weights, n_good, propose_tpe, split_good_bad

__all__ = [
    "Options",
    "Parzen",
    "bandwidths",
    "compile_model",
    "forgetting_weights",
    "n_good",
    "propose_tpe",
    "split_good_bad",
]
