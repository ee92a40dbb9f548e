"""Fast loop for the batch gap: sparktune TPE in batches of 8 (and sequentially) against random
search, on any range of seeds, with any TPE options. Used to tune the batch options on seeds
held out from the reported 0-19 (benchmarks/README.md, "How the defaults were chosen").

    python benchmarks/batch_loop.py --first-seed 20 --seeds 40                       # defaults
    python benchmarks/batch_loop.py --first-seed 20 --seeds 40 --opts '{"batch_recombination": 0}'
    python benchmarks/batch_loop.py --first-seed 620 --seeds 200 --save a.json    # keep every run's best
    python benchmarks/batch_loop.py --combine a.json b.json --summary s.json      # pool seed ranges

Metric: the advantage over random search of ``bench_tpe.py`` (share of random search's mean
regret removed, per problem, averaged over problems) at ``--budget`` evaluations, and the share
of the sequential advantage kept, with its 95% bootstrap interval over seeds. The optimum of
``krr_diabetes`` is unknown: its regret is taken against the lowest loss of this loop's runs
(all pooled files with ``--combine``) and of the saved full run (``--ref-curves``).
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
from bench_tpe import RESULTS, advantage_resampled, run_sparktune  # noqa: E402
from problems import PROBLEMS  # noqa: E402

OPTS: dict[str, Any] = {}


def _run(task: tuple[str, int, int, int]) -> tuple[tuple[str, int, int, int], float]:
    p, seed, batch, budget = task
    if batch == 0:
        y = run_sparktune(PROBLEMS[p], seed, budget, 1, algo="rand")
    else:
        y = run_sparktune(PROBLEMS[p], seed, budget, batch, **OPTS)
    return task, float(np.min(y))


def kept_share(
    best: dict[tuple[str, int, int, int], float],
    ref: dict[str, float],
    seeds: list[int],
    modes: list[int],
    budget: int,
    n_boot: int = 2000,
) -> tuple[dict[int, list[float]], tuple[float, float] | None]:
    """Per mode, the advantage over random search per problem; and, with a sequential mode, the 95%
    bootstrap interval of the share kept in batches (seeds resampled with replacement, the same
    resample for every problem and mode, as ``bench_tpe.kept_in_batches``)."""
    idx = np.random.default_rng(0).integers(0, len(seeds), size=(n_boot, len(seeds)))
    adv: dict[int, list[float]] = {m: [] for m in modes}
    boot: dict[int, list[np.ndarray]] = {m: [] for m in modes}
    for p in PROBLEMS:
        rand = np.array([best[(p, s, 0, budget)] - ref[p] for s in seeds])
        for m in modes:
            r = np.array([best[(p, s, m, budget)] - ref[p] for s in seeds])
            a = advantage_resampled(rand, r, idx)
            adv[m].append(float(a[0]))
            boot[m].append(a[1:])
    if 1 not in modes or len(modes) < 2:
        return adv, None
    batch = max(modes)
    kept = np.mean(boot[batch], axis=0) / np.mean(boot[1], axis=0)
    lo, hi = np.percentile(kept, [2.5, 97.5])
    return adv, (float(lo), float(hi))


def reference(best: dict[tuple[str, int, int, int], float], ref_curves: str) -> dict[str, float]:
    """The optimum of each problem; for ``krr_diabetes`` (unknown), the lowest loss of these runs and
    of the saved full run."""
    ref: dict[str, float] = {}
    saved = np.load(ref_curves) if Path(ref_curves).exists() else None
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
    return ref


def report(
    best: dict[tuple[str, int, int, int], float], seeds: list[int], modes: list[int], budget: int, ref_curves: str
) -> dict[str, Any]:
    """Print the advantages and the share kept; return them (fractions) for ``--summary``."""
    adv, ci = kept_share(best, reference(best, ref_curves), seeds, modes, budget)
    names = list(PROBLEMS)
    out: dict[str, Any] = {"seeds": [seeds[0], seeds[-1]], "n_seeds": len(seeds), "budget": budget}
    for m in modes:
        per = " ".join(f"{n}={100 * v:.0f}" for n, v in zip(names, adv[m]))
        print(f"{'sequential' if m == 1 else f'batches of {m}'}: advantage {100 * np.mean(adv[m]):.1f}%  ({per})")
        out["sequential" if m == 1 else f"batch{m}"] = {"mean": float(np.mean(adv[m])), **dict(zip(names, adv[m]))}
    if ci is not None:
        kept = np.mean(adv[max(modes)]) / np.mean(adv[1])
        print(
            f"kept in batches: {100 * kept:.1f}% "
            f"(95% bootstrap interval over seeds {100 * ci[0]:.1f}-{100 * ci[1]:.1f}%)"
        )
        out["kept"] = {"share": float(kept), "ci95": list(ci)}
    return out


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
    ap.add_argument("--save", help="write every run's best loss to this JSON file")
    ap.add_argument("--combine", nargs="+", metavar="JSON", help="pool files written by --save (no runs)")
    ap.add_argument("--summary", help="write the printed results (and the options) to this JSON file")
    args = ap.parse_args()
    if args.combine:
        best: dict[tuple[str, int, int, int], float] = {}
        meta: set[tuple[Any, ...]] = set()
        for path in args.combine:
            saved = json.loads(Path(path).read_text())
            meta.add(
                (saved["budget"], saved["batch"], json.dumps(saved["opts"], sort_keys=True), tuple(saved["modes"]))
            )
            for key, v in saved["best"].items():
                p, s, m, b = key.split("|")
                best[(p, int(s), int(m), int(b))] = v
        if len(meta) != 1:
            raise SystemExit(f"--combine: the files differ in budget, batch, options or modes: {sorted(meta)}")
        budget, batch, opts, modes = meta.pop()
        seeds = sorted({s for (_, s, _, _) in best})
        summary = report(best, seeds, list(modes), budget, args.ref_curves)
        if args.summary:
            Path(args.summary).write_text(json.dumps({**summary, "batch": batch, "opts": json.loads(opts)}, indent=1))
        print(f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), budget {budget}, batches of {batch}, options {opts}")
        return
    OPTS.update(json.loads(args.opts))
    run_seeds = range(args.first_seed, args.first_seed + args.seeds)
    modes = [args.batch] if args.no_seq else [1, args.batch]
    tasks = [(p, s, m, args.budget) for p in PROBLEMS for s in run_seeds for m in [0, *modes]]
    tasks.sort(key=lambda t: t[0] != "krr_diabetes")  # the slow one first
    t0 = time.perf_counter()
    import multiprocessing as mp

    with mp.get_context("fork").Pool(args.procs) as pool:
        best = {task: v for task, v in pool.imap_unordered(_run, tasks, chunksize=1)}
    if args.save:
        Path(args.save).write_text(
            json.dumps(
                {
                    "budget": args.budget,
                    "batch": args.batch,
                    "opts": OPTS,
                    "modes": modes,
                    "best": {f"{p}|{s}|{m}|{b}": v for (p, s, m, b), v in sorted(best.items())},
                }
            )
        )
    summary = report(best, list(run_seeds), modes, args.budget, args.ref_curves)
    if args.summary:
        Path(args.summary).write_text(json.dumps({**summary, "batch": args.batch, "opts": OPTS}, indent=1))
    span = f"seeds {run_seeds.start}-{run_seeds.stop - 1}"
    print(f"{span}, budget {args.budget}, options {OPTS}, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
