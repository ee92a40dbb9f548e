"""Which members of a batch of 8 improve the run, read from a saved run's curves.

For the batches that start after 16 evaluations and end by the 50th, per position in the batch
(0 = the member proposed with nothing in flight): the share of batches in which that member has
the batch's lowest loss, and the share in which it beats every loss seen before the batch.

    python benchmarks/batch_members.py [benchmarks/results/tpe_curves.npz]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def member_shares(
    path: Path, algo: str, batch: int = 8, start: int = 16, budget: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    best, improves, count = np.zeros(batch), np.zeros(batch), 0
    for key in data.files:
        _, a, _, mode = key.split("|")
        if a != algo or mode != f"batch{batch}":
            continue
        y = data[key]
        for b0 in range(start, budget - batch + 1, batch):
            members = y[b0 : b0 + batch]
            best[np.argmin(members)] += 1
            improves += members < y[:b0].min()
            count += 1
    return best / count, improves / count


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "tpe_curves.npz"
    for algo in ("sparktune", "optuna"):
        best, improves = member_shares(path, algo)
        print(f"{algo:10s} batch's best:        " + " ".join(f"{v:.3f}" for v in best))
        print(f"{algo:10s} improves incumbent: " + " ".join(f"{v:.3f}" for v in improves))


if __name__ == "__main__":
    main()
