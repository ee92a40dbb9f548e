"""Tree-structured Parzen Estimator (``algo=tpe.suggest``).

``tpe.suggest`` accepts hyperopt's options through ``functools.partial``::

    fmin(fn, space, algo=functools.partial(tpe.suggest, n_startup_jobs=10, gamma=0.25), ...)

and sparktune's own (``multivariate``, ``constant_liar``, ``split``, ...). The algorithm and its
equations are documented in ``sparktune._tpe._sampler``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from sparktune._space import SearchSpace
from sparktune._suggest import History, make_suggest
from sparktune._tpe import Options, propose_tpe

logger = logging.getLogger("sparktune.tpe")

#: Default options. The hyperopt names keep hyperopt's meaning except where noted.
DEFAULTS: dict[str, Any] = {
    # Trials drawn from the prior before TPE models: the first n_startup_jobs started trials
    # (running ones count, as in hyperopt) and any proposed before a trial has finished
    # (hyperopt: 20; Optuna: 10).
    "n_startup_jobs": 10,
    # Fraction of the finished trials in the good set: n_good = min(ceil(gamma * N), 25) with the
    # default split="linear"; with split="sqrt" it is hyperopt's min(ceil(gamma * sqrt(N)), 25).
    "gamma": 0.1,
    # Candidates drawn from l(x) per proposal; the best l(x)/g(x) wins (hyperopt and Optuna: 24).
    "n_EI_candidates": 24,
    # Weight of the prior kernel relative to an observation's (and the categorical smoothing).
    "prior_weight": 1.0,
    # Prior weight of the joint model of a choice that activates other parameters (nested
    # spaces only): a branch is first judged by losses seen while its own parameters were barely
    # tuned, so the choice keeps exploring branches longer.
    "gating_prior_weight": 3.0,
    # The newest `linear_forgetting` observations of each set weigh 1, older ones ramp down
    # linearly to 1/N (hyperopt's and Optuna's default); None for uniform weights.
    "linear_forgetting": 25,
    # Accepted for hyperopt compatibility; progress goes to the "sparktune.tpe" logger.
    "verbose": False,
    # Joint kernels over the parameters active together (one model per conditional group);
    # False models every parameter independently, as hyperopt does.
    "multivariate": True,
    # Running trials and earlier members of a batch count as bad observations.
    "constant_liar": True,
    # "linear" (Watanabe 2023 / Optuna) or "sqrt" (hyperopt) size of the good set.
    "split": "linear",
    # Scott's-rule factor of the kernel bandwidth: b = factor * range * N^(-1/(d+4)).
    "bandwidth_factor": 0.05,
    # Minimum bandwidth as a fraction of the range; None = "magic clip" range / min(100, N + 1).
    "min_bandwidth_factor": 0.01,
    # Bandwidth of the good density's kernels: "neighbour" (per kernel and column, the larger
    # distance to its neighbours) or "scott" (shared, Scott's rule); the bad density always uses
    # Scott's rule ("neighbour-both" uses the neighbour rule for both, at O(N log N) per call).
    "bandwidth": "scott",
    # Factor on the good density's kernel bandwidths for a proposal made while other trials are
    # in flight (running, or earlier in the same batch): such a proposal cannot see their
    # results, so the batch takes longer steps from the incumbent. 1 keeps the sequential
    # bandwidth. Chosen on the benchmark in batches of 8 (benchmarks/README.md).
    "batch_bandwidth_factor": 2.0,
    # gamma (T1) of a proposal made while trials are in flight; None uses `gamma`. A larger good
    # set gives the recombination below more members to average (chosen with it on held-out
    # seeds; benchmarks/README.md).
    "batch_gamma": 0.15,
    # Also treat the first member of a batch (n > 1, nothing in flight) as in flight
    # (batch_bandwidth_factor and batch_gamma apply to it).
    "batch_widen_first": False,
    # n_EI_candidates of a proposal made while trials are in flight; None uses `n_EI_candidates`.
    # Fewer candidates make such a proposal closer to a plain draw from l(x). 8 gained on
    # held-out seeds and lost on the reported ones (benchmarks/README.md), so it is off by default.
    "batch_n_EI_candidates": None,
    # Share of the candidates (T5) of a proposal made while trials are in flight that are drawn
    # around the good set's weighted mean instead of around one good observation (intermediate
    # recombination, as in an evolution strategy; T6 in sparktune._tpe._sampler). 0 draws them
    # all from l(x) itself. The mean weighs the good set by rank (CMA-ES's weights). Chosen on
    # held-out seeds and checked on fresh ones (benchmarks/README.md); sequential proposals are
    # unchanged.
    "batch_recombination": 1.0,
}


def propose(space: SearchSpace, history: History, n: int, rng: np.random.Generator, **options: Any) -> np.ndarray:
    """``n`` configurations proposed by TPE from ``history``.

    Args:
        space: the compiled search space.
        history: finished (ok), running and failed trials as rows of values.
        n: how many configurations to return (a batch; proposed one after another, each seeing the
            earlier ones as running trials when ``constant_liar`` is on).
        rng: the only source of randomness: the same generator state gives the same rows.
        **options: see ``DEFAULTS``; unknown names raise ``TypeError``.

    Returns:
        An (n, D) array of values (option index for choices, NaN for inactive labels).
    """
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"tpe: unknown option(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"`n` must be an integer >= 0, got n={n!r}")
    opts = Options.from_kwargs(**{k: v for k, v in {**DEFAULTS, **options}.items() if k != "verbose"})
    X = np.asarray(history.X, dtype=np.float64).reshape(-1, space.n_dims)
    y = np.asarray(history.y, dtype=np.float64).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"history.X and history.y must have the same length, got {len(X)} and {len(y)}")
    pending = np.asarray(history.X_pending, dtype=np.float64).reshape(-1, space.n_dims)
    failed = np.asarray(history.X_failed, dtype=np.float64).reshape(-1, space.n_dims)
    return propose_tpe(space, X, y, pending, failed, int(n), rng, opts)


suggest = make_suggest(
    propose,
    DEFAULTS,
    "Tree-structured Parzen Estimator (``algo=tpe.suggest``; options via ``functools.partial``).",
)

__all__ = ["DEFAULTS", "propose", "suggest"]
