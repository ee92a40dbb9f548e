"""Fast loop for the batch gap: sparktune TPE in batches of 8 (and sequentially) against random
search, on any range of seeds, with any TPE options. Used to tune the batch options on seeds
held out from the reported 0-19 (benchmarks/README.md, "How the defaults were chosen").

    python benchmarks/batch_loop.py --first-seed 20 --seeds 40                       # defaults
    python benchmarks/batch_loop.py --first-seed 20 --seeds 40 --opts '{"batch_recombination": 0}'

Metric: the advantage over random search of ``bench_tpe.py`` (share of random search's mean
regret removed, per problem, averaged over problems) at ``--budget`` evaluations, and the share
of the sequential advantage kept. The optimum of ``krr_diabetes`` is unknown: its regret is taken
against the lowest loss of this loop's runs and of the saved full run (``--ref-curves``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tpe import RESULTS, run_sparktune  # noqa: E402
from problems import PROBLEMS  # noqa: E402

OPTS: dict[str, Any] = {}


def _run(task: tuple[str, int, int, int]) -> tuple[tuple[str, int, int, int], float]:
    p, seed, batch, budget = task
    if batch == 0:
        y = run_sparktune(PROBLEMS[p], seed, budget, 1, algo="rand")
    else:
        y = run_sparktune(PROBLEMS[p], seed, budget, batch, **OPTS)
    return task, float(np.min(y))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--no-seq", action="store_true", help="batches only (the sequential runs do not change)")
    ap.add_argument("--opts", default="{}", help="sparktune TPE options as JSON")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--ref-curves", default=str(RESULTS / "tpe_curves.npz"))
    args = ap.parse_args()
    OPTS.update(json.loads(args.opts))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    modes = [args.batch] if args.no_seq else [1, args.batch]
    tasks = [(p, s, m, args.budget) for p in PROBLEMS for s in seeds for m in [0, *modes]]
    tasks.sort(key=lambda t: t[0] != "krr_diabetes")  # the slow one first
    t0 = time.perf_counter()
    import multiprocessing as mp

    with mp.get_context("fork").Pool(args.procs) as pool:
        best = {task: v for task, v in pool.imap_unordered(_run, tasks, chunksize=1)}
    ref: dict[str, float] = {}
    saved = np.load(args.ref_curves) if Path(args.ref_curves).exists() else None
    for p in PROBLEMS:
        opt = PROBLEMS[p].optimum
        if opt is None:
            own = min(v for (q, *_), v in best.items() if q == p)
            stored = (
                min((float(np.min(saved[k])) for k in saved.files if k.startswith(p + "|")), default=own)
                if saved is not None
                else own
            )
            opt = min(own, stored)
        ref[p] = opt
    adv: dict[int, list[float]] = {m: [] for m in modes}
    for p in PROBLEMS:
        rand = np.mean([best[(p, s, 0, args.budget)] - ref[p] for s in seeds])
        for m in modes:
            r = np.mean([best[(p, s, m, args.budget)] - ref[p] for s in seeds])
            adv[m].append((rand - r) / rand)
    names = list(PROBLEMS)
    for m in modes:
        per = " ".join(f"{n}={100 * v:.0f}" for n, v in zip(names, adv[m]))
        print(f"{'sequential' if m == 1 else f'batches of {m}'}: advantage {100 * np.mean(adv[m]):.1f}%  ({per})")
    if not args.no_seq:
        print(f"kept in batches: {100 * np.mean(adv[args.batch]) / np.mean(adv[1]):.1f}%")
    print(
        f"seeds {seeds.start}-{seeds.stop - 1}, budget {args.budget}, options {OPTS}, {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
