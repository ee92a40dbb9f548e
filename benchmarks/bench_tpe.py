"""TPE quality and cost: sparktune TPE vs Optuna 5 TPE vs hyperopt 0.3 TPE vs random search.

Protocol (see benchmarks/README.md, "TPE quality and cost"):
- problems: benchmarks/problems.py (11 problems); losses are regrets (0 = optimum) except the
  scikit-learn task (cross-validated MSE);
- each (problem, algorithm, seed) runs 200 evaluations, sequentially (batch 1) and in batches of 8
  (8 configurations proposed, then all 8 evaluated and reported); budget 50 is read from the first
  50 evaluations of the same run (no algorithm here depends on the budget);
- random search proposes independently of the history, so one run serves both modes;
- algorithm options are each library's defaults.

Usage (from the repository root, in a venv with the `bench` extras)::

    python benchmarks/bench_tpe.py --procs 2            # full grid, tables, plots, cost
    python benchmarks/bench_tpe.py --quick              # 3 seeds, budget 60: a smoke run
    python benchmarks/bench_tpe.py --cost-only
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 1-2 worker processes on a shared 2-core box
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import PROBLEMS, Problem, optuna_point, to_hp  # noqa: E402

ALGOS = ("sparktune", "optuna", "hyperopt", "random")
RESULTS = Path(__file__).resolve().parent / "results"


# -- runners: each returns the losses of `budget` evaluations in evaluation order ----------------


def run_sparktune(problem: Problem, seed: int, budget: int, batch: int, algo: str = "tpe", **opts: Any) -> np.ndarray:
    from sparktune import hp, rand, tpe
    from sparktune._space import compile_space
    from sparktune._suggest import History

    space = compile_space(to_hp(problem.spec, hp))
    rng = np.random.default_rng(seed)
    D = space.n_dims
    X = np.empty((budget, D))
    y = np.empty(budget)
    empty = np.empty((0, D))
    propose = tpe.propose if algo == "tpe" else rand.propose
    n = 0
    while n < budget:
        k = min(batch, budget - n)
        rows = propose(space, History(X[:n], y[:n], empty, empty), k, rng, **opts)
        for row in rows:
            X[n] = row
            y[n] = problem.objective(space.evaluate(space.row_to_vals(row)))
            n += 1
    return y


def run_optuna(problem: Problem, seed: int, budget: int, batch: int) -> np.ndarray:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    losses: list[float] = []
    while len(losses) < budget:
        k = min(batch, budget - len(losses))
        trials = [study.ask() for _ in range(k)]  # all k are RUNNING while each samples
        points = [optuna_point(problem.spec, t) for t in trials]
        for t, p in zip(trials, points):
            v = problem.objective(p)
            study.tell(t, v)
            losses.append(v)
    return np.asarray(losses)


def run_hyperopt(problem: Problem, seed: int, budget: int, batch: int) -> np.ndarray:
    import hyperopt
    from hyperopt import JOB_STATE_DONE, STATUS_OK, Trials, tpe
    from hyperopt.base import Domain

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    space = to_hp(problem.spec, hyperopt.hp)
    if batch == 1:
        trials = Trials()
        hyperopt.fmin(
            lambda p: problem.objective(p),
            space,
            algo=tpe.suggest,
            max_evals=budget,
            trials=trials,
            rstate=np.random.default_rng(seed),
            show_progressbar=False,
        )
        return np.asarray(trials.losses(), dtype=float)[:budget]
    # Batches: suggest k trials one at a time (each sees the earlier ones as new, loss = inf),
    # then evaluate all k and record their results, as fmin does with a parallel Trials.
    domain = Domain(lambda p: problem.objective(p), space)
    trials = Trials()
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    while len(losses) < budget:
        k = min(batch, budget - len(losses))
        docs = []
        for _ in range(k):
            new = tpe.suggest(trials.new_trial_ids(1), domain, trials, int(rng.integers(2**31 - 1)))
            trials.insert_trial_docs(new)
            trials.refresh()
            docs.extend(new)
        for doc in trials._dynamic_trials[-k:]:
            vals = {key: v[0] for key, v in doc["misc"]["vals"].items() if v}
            loss = problem.objective(hyperopt.space_eval(space, vals))
            doc["state"] = JOB_STATE_DONE
            doc["result"] = {"loss": loss, "status": STATUS_OK}
            losses.append(loss)
        trials.refresh()
    return np.asarray(losses)


def run_one(task: tuple[str, str, int, int, int]) -> tuple[tuple[str, str, int, int, int], list[float], float]:
    pname, algo, seed, budget, batch = task
    problem = PROBLEMS[pname]
    t0 = time.perf_counter()
    if algo == "sparktune":
        y = run_sparktune(problem, seed, budget, batch)
    elif algo == "random":
        y = run_sparktune(problem, seed, budget, batch, algo="rand")
    elif algo == "optuna":
        y = run_optuna(problem, seed, budget, batch)
    else:
        y = run_hyperopt(problem, seed, budget, batch)
    return task, [float(v) for v in y], time.perf_counter() - t0


# -- analysis ------------------------------------------------------------------------------------


def _ranks(rows: np.ndarray) -> np.ndarray:
    """Ranks (1 = best, ties averaged) of each row's entries."""
    from scipy.stats import rankdata

    return np.apply_along_axis(rankdata, 1, rows)


def summarise(
    curves: dict[tuple[str, str, int, str], np.ndarray], problems: list[str], seeds: list[int], budgets: list[int]
) -> dict[str, Any]:
    """Tables per (mode, budget): per problem mean/median best loss and mean rank of each algorithm,
    and sparktune TPE's advantage over random search.

    The advantage on a problem is the share of random search's mean regret that sparktune TPE
    removes, ``(R_random - R_tpe) / R_random``, with regret = best loss - optimum (the best loss of
    any run when the optimum is unknown); the suite's advantage is its mean over problems. The
    head-to-head win rate is the share of (problem, seed) pairs where TPE's best loss is lower.
    """
    out: dict[str, Any] = {}
    ref = {}
    for p in problems:
        opt = PROBLEMS[p].optimum
        ref[p] = opt if opt is not None else min(float(np.min(y)) for (q, *_), y in curves.items() if q == p)
    for mode in ("seq", "batch8"):
        for b in budgets:
            key = f"{mode}-{b}"
            per_problem = {}
            rank_sum = np.zeros(len(ALGOS))
            adv: list[list[float]] = []
            wins: list[bool] = []
            for p in problems:
                best = np.array([[np.min(curves[(p, a, s, mode)][:b]) for a in ALGOS] for s in seeds])
                r = _ranks(best).mean(axis=0)
                rank_sum += r
                per_problem[p] = {
                    "mean": best.mean(axis=0).tolist(),
                    "median": np.median(best, axis=0).tolist(),
                    "rank": r.tolist(),
                }
                regret = (best - ref[p]).mean(axis=0)
                mr = regret[ALGOS.index("random")]
                adv.append([(mr - regret[i]) / mr if mr > 0 else 0.0 for i in range(len(ALGOS))])
                wins.extend(best[:, ALGOS.index("sparktune")] < best[:, ALGOS.index("random")])
            out[key] = {
                "problems": per_problem,
                "overall_rank": (rank_sum / len(problems)).tolist(),
                "advantage_over_random": float(np.mean(adv, axis=0)[ALGOS.index("sparktune")]),
                "advantage_over_random_by_algo": dict(zip(ALGOS, np.mean(adv, axis=0).tolist())),
                "win_rate_over_random": float(np.mean(wins)),
            }
    return out


def advantage_resampled(rand: np.ndarray, regret: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The advantage over random search (share of its mean regret removed) of per-seed regrets
    ``regret`` against random search's ``rand``: on all seeds first, then on each bootstrap resample
    of seed indices (rows of ``idx``)."""
    full = (rand.mean() - regret.mean()) / rand.mean()
    boot = (rand[idx].mean(1) - regret[idx].mean(1)) / rand[idx].mean(1)
    return np.concatenate([[full], boot])


def kept_in_batches(
    curves: dict[tuple[str, str, int, str], np.ndarray],
    problems: list[str],
    seeds: list[int],
    budgets: list[int],
    n_boot: int = 2000,
) -> dict[str, dict[str, float]]:
    """Share of the sequential advantage over random search kept in batches of 8, per algorithm
    and budget, with a 95% bootstrap interval over seeds.

    The advantage is the one of ``summarise``. A bootstrap sample draws ``len(seeds)`` seeds with
    replacement and recomputes both advantages on them (the same seeds for every problem, mode and
    algorithm, so the pairing by seed is kept); the interval is the 2.5-97.5 percentile range.
    """
    ref = {}
    for p in problems:
        opt = PROBLEMS[p].optimum
        ref[p] = opt if opt is not None else min(float(np.min(y)) for (q, *_), y in curves.items() if q == p)
    idx = np.random.default_rng(0).integers(0, len(seeds), size=(n_boot, len(seeds)))
    out: dict[str, dict[str, float]] = {}
    for b in budgets:

        def regret(p: str, a: str, mode: str) -> np.ndarray:
            return np.array([np.min(curves[(p, a, s, mode)][:b]) for s in seeds]) - ref[p]  # noqa: B023

        rand = {p: regret(p, "random", "seq") for p in problems}
        for a in ALGOS[:-1]:
            adv = {}
            for mode in ("seq", "batch8"):
                per_p = []
                for p in problems:
                    per_p.append(advantage_resampled(rand[p], regret(p, a, mode), idx))
                adv[mode] = np.mean(per_p, axis=0)
            kept = adv["batch8"] / adv["seq"]
            lo, hi = np.percentile(kept[1:], [2.5, 97.5])
            out[f"{a}-{b}"] = {
                "seq": float(adv["seq"][0]),
                "batch8": float(adv["batch8"][0]),
                "kept": float(kept[0]),
                "kept_lo95": float(lo),
                "kept_hi95": float(hi),
            }
    return out


def kept_markdown(kept: dict[str, dict[str, float]], budgets: list[int]) -> str:
    lines = [
        "### Sequential advantage kept in batches of 8\n",
        "Advantage over random search sequentially and in batches of 8, the share kept, and its 95% "
        "bootstrap interval over seeds.\n",
        "| algorithm | budget | sequential | batches of 8 | kept | 95% interval |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for a in ALGOS[:-1]:
        for b in budgets:
            k = kept[f"{a}-{b}"]
            lines.append(
                f"| {a} | {b} | {100 * k['seq']:.1f}% | {100 * k['batch8']:.1f}% | {100 * k['kept']:.1f}% | "
                f"{100 * k['kept_lo95']:.0f}–{100 * k['kept_hi95']:.0f}% |"
            )
    return "\n".join(lines) + "\n"


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000 or a < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def tables_markdown(summary: dict[str, Any], problems: list[str], budgets: list[int]) -> str:
    lines: list[str] = []
    for mode, title in (("seq", "sequential"), ("batch8", "batches of 8")):
        for b in budgets:
            s = summary[f"{mode}-{b}"]
            lines.append(f"### Budget {b}, {title}\n")
            lines.append("| problem | " + " | ".join(f"{a} mean / median (rank)" for a in ALGOS) + " |")
            lines.append("|---|" + "---|" * len(ALGOS))
            for p in problems:
                d = s["problems"][p]
                best_rank = min(d["rank"])
                cells = []
                for i in range(len(ALGOS)):
                    c = f"{_fmt(d['mean'][i])} / {_fmt(d['median'][i])} ({d['rank'][i]:.2f})"
                    cells.append(f"**{c}**" if d["rank"][i] == best_rank else c)
                lines.append(f"| {p} | " + " | ".join(cells) + " |")
            ranks = s["overall_rank"]
            lines.append(
                "| **mean rank** | "
                + " | ".join(f"**{r:.2f}**" if r == min(ranks) else f"{r:.2f}" for r in ranks)
                + " |"
            )
            lines.append("")
            by = s["advantage_over_random_by_algo"]
            lines.append(
                "Advantage over random search (share of its mean regret removed, mean over problems): "
                f"sparktune {100 * by['sparktune']:.1f}%, Optuna {100 * by['optuna']:.1f}%, "
                f"hyperopt {100 * by['hyperopt']:.1f}%. sparktune TPE beats random search on "
                f"{100 * s['win_rate_over_random']:.0f}% of (problem, seed) pairs.\n"
            )
    return "\n".join(lines)


def plot(
    curves: dict[tuple[str, str, int, str], np.ndarray], problems: list[str], seeds: list[int], budget: int
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"sparktune": "C3", "optuna": "C0", "hyperopt": "C2", "random": "C7"}
    for p in problems:
        fig, ax = plt.subplots(figsize=(4.2, 3.0), dpi=80)
        for a in ALGOS:
            for mode, style in (("seq", "-"), ("batch8", "--")):
                if a == "random" and mode == "batch8":
                    continue
                runs = np.array([np.minimum.accumulate(curves[(p, a, s, mode)][:budget]) for s in seeds])
                label = f"{a}{' (batch 8)' if mode == 'batch8' else ''}"
                ax.plot(np.arange(1, budget + 1), np.median(runs, axis=0), style, color=colors[a], lw=1.2, label=label)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("median best loss")
        ax.set_title(p, fontsize=10)
        ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(RESULTS / f"convergence_{p}.png")
        plt.close(fig)


# -- suggestion cost -----------------------------------------------------------------------------


def _hyperopt_trials(names: list[str], X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """A hyperopt ``Domain`` over ``names`` (uniform on [-5, 5]) and a ``Trials`` holding the rows
    of ``X`` as finished trials with losses ``y``, built as hyperopt's own documents."""
    import hyperopt
    from hyperopt import JOB_STATE_DONE, STATUS_OK

    domain = hyperopt.base.Domain(lambda p: 0.0, {k: hyperopt.hp.uniform(k, -5, 5) for k in names})
    trials = hyperopt.Trials()
    docs = hyperopt.rand.suggest(trials.new_trial_ids(len(X)), domain, trials, 0)
    for doc, r, v in zip(docs, X, y):
        for i, k in enumerate(names):
            doc["misc"]["vals"][k] = [float(r[i])]
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": float(v), "status": STATUS_OK}
    trials.insert_trial_docs(docs)
    trials.refresh()
    return domain, trials


def cost_table(sizes: tuple[int, ...] = (100, 1000, 10000)) -> str:
    """Milliseconds per suggestion with n finished trials, 5 continuous parameters, all three TPEs."""
    import optuna
    from hyperopt import tpe as htpe

    from sparktune import hp, tpe
    from sparktune._space import compile_space
    from sparktune._suggest import History

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    d = 5
    names = [f"x{i}" for i in range(d)]
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        X = rng.uniform(-5, 5, size=(n, d))
        y = (X**2).sum(axis=1)
        reps = {100: 50, 1000: 20, 10000: 5}.get(n, 5)

        # sparktune: propose one configuration from a History of n finished trials.
        space = compile_space({k: hp.uniform(k, -5, 5) for k in names})
        hist = History(X, y, np.empty((0, d)), np.empty((0, d)))
        tpe.propose(space, hist, 1, rng)
        t0 = time.perf_counter()
        for _ in range(reps * 4):
            tpe.propose(space, hist, 1, rng)
        t_sp = (time.perf_counter() - t0) / (reps * 4) * 1e3

        # Optuna: ask + the 5 suggest calls (relative sampling happens there) with n finished trials.
        dists: dict[str, Any] = {k: optuna.distributions.FloatDistribution(-5, 5) for k in names}
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        study.add_trials(
            [optuna.trial.create_trial(params=dict(zip(names, r)), distributions=dists, value=v) for r, v in zip(X, y)]
        )
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            tr = study.ask()
            for k in names:
                tr.suggest_float(k, -5, 5)
            times.append(time.perf_counter() - t0)
            study.tell(tr, state=optuna.trial.TrialState.FAIL)  # failed trials are ignored by TPE
        t_op = float(np.mean(times)) * 1e3

        # hyperopt: tpe.suggest for one new id with n finished trials.
        domain, trials = _hyperopt_trials(names, X, y)
        htpe.suggest(trials.new_trial_ids(1), domain, trials, 1)
        t0 = time.perf_counter()
        for i in range(reps):
            htpe.suggest(trials.new_trial_ids(1), domain, trials, i)
        t_hy = (time.perf_counter() - t0) / reps * 1e3
        rows.append((n, t_sp, t_op, t_hy))
        print(f"cost n={n}: sparktune {t_sp:.2f} ms, optuna {t_op:.1f} ms, hyperopt {t_hy:.1f} ms", flush=True)
    lines = [
        "| finished trials | sparktune TPE (ms) | Optuna 5 TPE (ms) | hyperopt 0.3 TPE (ms) "
        "| Optuna / sparktune | hyperopt / sparktune |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, a, b, c in rows:
        lines.append(f"| {n:,} | {a:.2f} | {b:.1f} | {c:.1f} | {b / a:.0f}x | {c / a:.0f}x |")
    return "\n".join(lines)


def growing_cost_table(sizes: tuple[int, ...] = (1000, 10000), steps: int = 10) -> str:
    """Milliseconds per suggestion while the history grows by one trial per proposal, as in a run.

    For each ``n``: a history of ``n`` finished trials (5 continuous parameters), one untimed
    proposal (as the run's previous one), then ``steps`` timed proposals, each after the previous
    proposal was added as a finished trial (loss: sum of squares), so they see ``n + 1`` to
    ``n + steps`` trials. The mean of those ``steps`` times is reported. sparktune proposes from
    its ``Trials`` store's history (the arrays a run's ``fmin`` hands to ``propose``; building them
    is not timed), Optuna asks and suggests then tells the value (not timed), hyperopt's
    ``tpe.suggest`` is timed and its document is then inserted as done (not timed).
    """
    import optuna
    from hyperopt import JOB_STATE_DONE as H_DONE
    from hyperopt import STATUS_OK as H_OK
    from hyperopt import tpe as htpe

    from sparktune import Trials, hp, tpe
    from sparktune._record import Trial
    from sparktune._space import compile_space
    from sparktune.base import JOB_STATE_DONE, STATUS_OK

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    d = 5
    names = [f"x{i}" for i in range(d)]
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        X = rng.uniform(-5, 5, size=(n, d))
        y = (X**2).sum(axis=1)

        # sparktune
        space = compile_space({k: hp.uniform(k, -5, 5) for k in names})
        trials = Trials()
        for i, (r, v) in enumerate(zip(X, y)):
            trials._store.put(
                Trial(
                    tid=i,
                    state=JOB_STATE_DONE,
                    vals=space.row_to_vals(r),
                    result={"loss": float(v), "status": STATUS_OK},
                )
            )
        row = tpe.propose(space, trials._history(space), 1, rng)[0]
        times = []
        for k in range(steps + 1):
            if k > 0:
                trials._store.put(
                    Trial(
                        tid=n + k - 1,
                        state=JOB_STATE_DONE,
                        vals=space.row_to_vals(row),
                        result={"loss": float((row**2).sum()), "status": STATUS_OK},
                    )
                )
                hist = trials._history(space)
                t0 = time.perf_counter()
                row = tpe.propose(space, hist, 1, rng)[0]
                times.append(time.perf_counter() - t0)
        t_sp = float(np.mean(times)) * 1e3

        # Optuna
        dists: dict[str, Any] = {k: optuna.distributions.FloatDistribution(-5, 5) for k in names}
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        study.add_trials(
            [optuna.trial.create_trial(params=dict(zip(names, r)), distributions=dists, value=v) for r, v in zip(X, y)]
        )
        times = []
        for k in range(steps + 1):
            t0 = time.perf_counter()
            tr = study.ask()
            vals = [tr.suggest_float(name, -5, 5) for name in names]
            elapsed = time.perf_counter() - t0
            study.tell(tr, float(sum(v * v for v in vals)))
            if k > 0:
                times.append(elapsed)
        t_op = float(np.mean(times)) * 1e3

        # hyperopt
        domain, htrials = _hyperopt_trials(names, X, y)
        times = []
        for k in range(steps + 1):
            ids = htrials.new_trial_ids(1)
            t0 = time.perf_counter()
            docs = htpe.suggest(ids, domain, htrials, k)
            elapsed = time.perf_counter() - t0
            for doc in docs:
                doc["state"] = H_DONE
                doc["result"] = {"loss": float(sum(v[0] ** 2 for v in doc["misc"]["vals"].values())), "status": H_OK}
            htrials.insert_trial_docs(docs)
            htrials.refresh()
            if k > 0:
                times.append(elapsed)
        t_hy = float(np.mean(times)) * 1e3
        rows.append((n, t_sp, t_op, t_hy))
        print(
            f"growing cost n={n}+1..{n + steps}: sparktune {t_sp:.2f} ms, optuna {t_op:.1f} ms, hyperopt {t_hy:.1f} ms",
            flush=True,
        )
    lines = [
        "| finished trials (growing) | sparktune TPE (ms) | Optuna 5 TPE (ms) | hyperopt 0.3 TPE (ms) "
        "| Optuna / sparktune | hyperopt / sparktune |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, a, b, c in rows:
        lines.append(f"| {n + 1:,} to {n + steps:,} | {a:.2f} | {b:.1f} | {c:.1f} | {b / a:.0f}x | {c / a:.0f}x |")
    return "\n".join(lines)


def _traced_bytes(build: Any) -> tuple[Any, int]:
    """What ``build()`` returns and the bytes it still holds (tracemalloc), after a collection."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        return kept, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def memory_table(sizes: tuple[int, int] = (1000, 10000)) -> str:
    """Bytes held per finished trial (5 continuous parameters), from the growth between
    ``sizes[0]`` and ``sizes[1]`` trials, so fixed costs cancel: sparktune's TPE state (the
    history arrays and the cached kernel terms), sparktune's ``Trials`` records, hyperopt's
    ``Trials`` documents and an Optuna study in memory (its default storage)."""
    import optuna

    from sparktune import Trials, fmin, hp, rand, tpe
    from sparktune._space import compile_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = [f"x{i}" for i in range(5)]
    sp_space = {k: hp.uniform(k, -5, 5) for k in names}
    held: dict[str, list[int]] = {"state": [], "trials": [], "hyperopt": [], "optuna": []}
    for n in sizes:
        rng = np.random.default_rng(n)
        X = rng.uniform(-5, 5, size=(n, len(names)))
        y = (X**2).sum(axis=1)

        def sp_trials(n: int = n) -> Any:
            trials = Trials()
            fmin(
                lambda p: sum(v * v for v in p.values()),
                sp_space,
                algo=rand.suggest,
                max_evals=n,
                trials=trials,
                show_progressbar=False,
                rstate=np.random.default_rng(0),
            )
            return trials

        trials, b = _traced_bytes(sp_trials)
        held["trials"].append(b)

        def sp_state(trials: Any = trials) -> Any:
            space = compile_space(sp_space)  # a new space: its TPE model starts empty
            tpe.propose(space, trials._history(space), 1, np.random.default_rng(1))
            return space

        _, b = _traced_bytes(sp_state)
        held["state"].append(b)
        del trials

        _, b = _traced_bytes(lambda X=X, y=y: _hyperopt_trials(names, X, y))
        held["hyperopt"].append(b)

        def op_study(X: np.ndarray = X, y: np.ndarray = y) -> Any:
            dists: dict[str, Any] = {k: optuna.distributions.FloatDistribution(-5, 5) for k in names}
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
            study.add_trials(
                [
                    optuna.trial.create_trial(params=dict(zip(names, r)), distributions=dists, value=v)
                    for r, v in zip(X, y)
                ]
            )
            return study

        _, b = _traced_bytes(op_study)
        held["optuna"].append(b)
    per = {k: (v[1] - v[0]) / (sizes[1] - sizes[0]) for k, v in held.items()}
    print("memory per trial (bytes): " + ", ".join(f"{k} {v:.0f}" for k, v in per.items()), flush=True)
    return "\n".join(
        [
            "| bytes per finished trial | sparktune TPE state | sparktune `Trials` | hyperopt 0.3 `Trials` "
            "| Optuna 5 study |",
            "|---|---:|---:|---:|---:|",
            f"| growth from {sizes[0]:,} to {sizes[1]:,} trials | {per['state']:.0f} | {per['trials']:.0f} "
            f"| {per['hyperopt']:.0f} | {per['optuna']:.0f} |",
        ]
    )


def report(
    curves: dict[tuple[str, str, int, str], np.ndarray],
    problems: list[str],
    seeds: list[int],
    budgets: list[int],
    header: str,
    run_line: str,
) -> None:
    """Write tpe_summary.json, tpe_quality.md and the convergence plots from the curves."""
    summary = summarise(curves, problems, seeds, budgets)
    kept = kept_in_batches(curves, problems, seeds, budgets)
    (RESULTS / "tpe_summary.json").write_text(json.dumps({**summary, "kept_in_batches": kept}, indent=1))
    tables = tables_markdown(summary, problems, budgets) + "\n" + kept_markdown(kept, budgets)
    text = (
        f"# TPE quality\n\n{header}\n{len(seeds)} seeds per cell; best loss after the budget (regret: 0 is the "
        "optimum; cross-validated MSE for krr_diabetes). Rank 1 = best of the four on a seed, averaged over "
        f"seeds; bold = best.\n{run_line}\n\n{tables}"
    )
    (RESULTS / "tpe_quality.md").write_text(text)
    print(text)
    plot(curves, problems, seeds, max(budgets))


# -- main ----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import hyperopt
    import optuna

    return (
        f"{cpu}, {os.cpu_count()} logical CPUs (shared with other jobs), Linux {platform.release()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, optuna {optuna.__version__}, "
        f"hyperopt {hyperopt.__version__}"
    )


def write_cost(header: str) -> None:
    """tpe_cost.md: the suggestion-cost table, then the memory table."""
    table = cost_table()
    growing = growing_cost_table()
    mem = memory_table()
    text = (
        f"# TPE suggestion cost\n\n{header}\nFixed history (repeated proposals from one unchanged history):\n\n"
        f"{table}\n\nGrowing history (one trial added after each proposal, as in a run; mean of 10 proposals):\n\n"
        f"{growing}\n\n## Memory\n\nMeasured with tracemalloc (Python and numpy "
        f"allocations still held); the sparktune TPE state is its history arrays and cached kernel terms.\n\n{mem}\n"
    )
    (RESULTS / "tpe_cost.md").write_text(text)
    print(text)


def main() -> None:
    global RESULTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--budgets", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--algos", nargs="+", default=list(ALGOS))
    ap.add_argument("--quick", action="store_true", help="3 seeds, budget 60 (budgets 30 and 60)")
    ap.add_argument("--cost-only", action="store_true", help="only the suggestion-cost and memory tables")
    ap.add_argument("--no-cost", action="store_true")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--from-curves", help="rebuild tables and plots from a saved tpe_curves.npz (no runs)")
    args = ap.parse_args()
    RESULTS = Path(args.out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.seeds, args.budget, args.budgets = 3, 60, [30, 60]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = f"Run {stamp} on {machine()}.\n"
    if args.cost_only:
        write_cost(header)
        return

    if args.from_curves:
        data = np.load(args.from_curves)
        curves: dict[tuple[str, str, int, str], np.ndarray] = {}
        for k in data.files:
            p, a, sd, m = k.split("|")
            curves[(p, a, int(sd), m)] = data[k]
        meta_path = Path(args.from_curves).with_name("tpe_run.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"header": header, "run": ""}
        problems = [p for p in PROBLEMS if any(k[0] == p for k in curves)]
        seeds = sorted({k[2] for k in curves})
        budget = min(len(y) for y in curves.values())
        report(curves, problems, seeds, [b for b in args.budgets if b <= budget], meta["header"], meta["run"])
        return

    seeds = list(range(args.seeds))
    tasks = []
    for p in args.problems:
        for a in args.algos:
            for s in seeds:
                for batch in (1, 8):
                    if a == "random" and batch == 8:
                        continue
                    tasks.append((p, a, s, args.budget, batch))
    # Slowest first so the two processes finish together.
    weight = {"optuna": 4, "hyperopt": 2, "sparktune": 1, "random": 0}
    tasks.sort(key=lambda t: (-(weight[t[1]] + (3 if t[0] == "krr_diabetes" else 0)), t))
    curves = {}
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if args.procs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.procs, maxtasksperchild=50) as pool:
            results = pool.imap_unordered(run_one, tasks, chunksize=1)
            for i, (task, y, sec) in enumerate(results):
                curves[(task[0], task[1], task[2], "seq" if task[4] == 1 else "batch8")] = np.asarray(y)
                seconds[task[1]] = seconds.get(task[1], 0.0) + sec
                if (i + 1) % 50 == 0:
                    print(f"{i + 1}/{len(tasks)} runs, {time.perf_counter() - t0:.0f} s", flush=True)
    else:
        for task in tasks:
            task, y, sec = run_one(task)
            curves[(task[0], task[1], task[2], "seq" if task[4] == 1 else "batch8")] = np.asarray(y)
            seconds[task[1]] = seconds.get(task[1], 0.0) + sec
    wall = time.perf_counter() - t0
    # random search ignores the history: its sequential run stands for batches too.
    for (p, a, s, _), curve in list(curves.items()):
        if a == "random":
            curves[(p, a, s, "batch8")] = curve
    arrays = {f"{p}|{a}|{s}|{m}": curve for (p, a, s, m), curve in curves.items()}
    np.savez_compressed(RESULTS / "tpe_curves.npz", **arrays)  # type: ignore[arg-type]
    timing = ", ".join(f"{a} {sec:.0f} s" for a, sec in sorted(seconds.items()))
    run_line = (
        f"Wall time {wall:.0f} s with {args.procs} processes (CPU seconds per algorithm, objective included: {timing})."
    )
    (RESULTS / "tpe_run.json").write_text(json.dumps({"header": header, "run": run_line}))
    report(curves, args.problems, seeds, [b for b in args.budgets if b <= args.budget], header, run_line)
    if not args.no_cost:
        write_cost(header)


if __name__ == "__main__":
    main()
