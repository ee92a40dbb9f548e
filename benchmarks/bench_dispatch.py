"""Dispatch at scale: a big cluster's slots simulated on this machine, the real driver in front.

Protocol (see benchmarks/README.md, "Dispatch at scale"):

1. The driver is a real ``fmin`` with a real ``ExecutorBackend`` (its slot server, queue, retries),
   the real suggester (``rand`` or ``tpe``) and the real in-memory store. Only the executors are
   simulated: ``sparktune.backends.simulated.SimulatedSlots`` starts 2 processes holding the
   slots, which connect to the driver on 127.0.0.1, speak the worker protocol, run the real
   objective (a cheap 5-parameter function) and hold their slot ``--seconds`` per trial.
2. Each row is one ``fmin`` in a fresh Python process (so one row's leftovers cannot slow the
   next). Rows: ``--scale``: parallelism 8, 64, 256 and 1,000, ``rand``, 1 s trials, 20 trials
   per slot (ideal 20 s each); ``--history``: 1,000 slots, ``tpe``, 10 s trials, 20,000 trials
   (ideal 200 s).
3. Reported per row: wall time of ``fmin``; ideal = trials * seconds / parallelism; **share of
   slot-time in trials** = trials * seconds / (parallelism * wall), over ``fmin``'s whole call
   (it includes starting the 2 slot processes, ~1 s, which a cluster's running executors would
   not pay, and the last trials' tail); the same share over the span from the first trial's
   start to the last trial's end ("steady"); the driver's CPU per trial (user + system of the
   driver process, all its threads, from ``getrusage``; the slot processes are not in it); time
   from the call to the first trial and from the last trial to the return.
4. ``--history`` also reports, per window of 2,000 finished trials, the driver's CPU per trial
   and the share of slot-time in trials in that window, to show how both grow with history.

hyperopt has no counterpart to run here: its ``SparkTrials`` starts one Spark job per trial and
stops at 128 concurrent trials, so it cannot drive 1,000 simulated slots.

Run:  python benchmarks/bench_dispatch.py [--scale] [--history] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from _meta import REPO, report  # benchmarks/_meta.py

CHILD = r"""
import json, os, resource, sys, threading, time
sys.path.insert(0, {repo!r})
if os.environ.get("BENCH_SWITCH"):
    sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
from sparktune import Trials, fmin, hp, rand, tpe
from sparktune._trials import EngineSettings
from sparktune.backends.simulated import SimulatedSlots
from sparktune.backends.spark_executors import ExecutorBackend, dumps_objective

P, N, SECONDS, ALGO, WINDOW = {parallelism}, {trials}, {seconds}, {algo!r}, {window}


class SimulatedClusterTrials(Trials):
    # A Trials whose trials run on simulated slots through the real executor backend.
    def _engine_settings(self):
        return EngineSettings(record_failures=True)

    def _make_backend(self, fn, call=None, trial_context=None):
        return ExecutorBackend(None, dumps_objective(fn, call), parallelism=P,
                               launcher=SimulatedSlots(SECONDS, processes=2))


def objective(p):
    x = p["x"] - 1.0
    return x * x + p["lr"] + 0.01 * p["layers"] + (0.1 if p["opt"] == "sgd" else 0.0) + abs(p["drop"] - 0.2)


space = {{
    "x": hp.uniform("x", -5, 5),
    "lr": hp.loguniform("lr", -9, 0),
    "layers": hp.quniform("layers", 1, 8, 1),
    "opt": hp.choice("opt", ["adam", "sgd", "rmsprop"]),
    "drop": hp.normal("drop", 0.2, 0.1),
}}


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


trials = SimulatedClusterTrials()
samples = []  # (monotonic, cpu, finished trials)
stop = threading.Event()


def sample():
    while not stop.wait(0.25):
        samples.append((time.monotonic(), cpu(), len(trials.store.finished_order())))


threading.Thread(target=sample, daemon=True).start()
c0, t0, e0 = cpu(), time.monotonic(), time.time()
fmin(objective, space, algo=rand.suggest if ALGO == "rand" else tpe.suggest, max_evals=N,
     trials=trials, show_progressbar=False, rstate=None)
wall, e1, c1 = time.monotonic() - t0, time.time(), cpu()
stop.set()
samples.append((time.monotonic(), c1, len(trials.store.finished_order())))
recs = [t for t in trials.store.records()]
ok = sum(1 for t in recs if t.state == 2)
first = min(t.book_time.timestamp() for t in recs)
last = max(t.refresh_time.timestamp() for t in recs)
row = dict(parallelism=P, trials=N, seconds=SECONDS, algo=ALGO, ok=ok, wall_s=round(wall, 3),
           ideal_s=round(N * SECONDS / P, 3), share=round(N * SECONDS / (P * wall), 4),
           steady_share=round(N * SECONDS / (P * (last - first)), 4),
           first_trial_s=round(first - e0, 3), last_to_return_s=round(e1 - last, 3),
           driver_cpu_ms_per_trial=round(1000 * (c1 - c0) / N, 3))
if WINDOW:
    windows, k = [], 0
    for edge in range(WINDOW, N + 1, WINDOW):
        while k < len(samples) and samples[k][2] < edge - WINDOW:
            k += 1
        a = samples[k] if k < len(samples) else None
        b = next((s for s in samples[k:] if s[2] >= edge), None)
        if a is None or b is None or b[2] == a[2]:
            continue
        n = b[2] - a[2]
        windows.append(dict(finished=f"{{a[2]}}-{{b[2]}}", driver_cpu_ms_per_trial=round(1000 * (b[1] - a[1]) / n, 3),
                            share=round(n * SECONDS / (P * (b[0] - a[0])), 4)))
    row["windows"] = windows
print("ROW " + json.dumps(row), flush=True)
"""


def run_row(parallelism: int, trials: int, seconds: float, algo: str, window: int = 0) -> dict[str, Any]:
    code = CHILD.format(
        repo=str(REPO), parallelism=parallelism, trials=trials, seconds=seconds, algo=algo, window=window
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    rows = [ln[4:] for ln in out.stdout.splitlines() if ln.startswith("ROW ")]
    if out.returncode != 0 or not rows:
        raise SystemExit(f"row P={parallelism} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(rows[0])


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| slots | algo | trials x s | wall | ideal | share (whole call) | share (first start to last end) "
        "| driver CPU / trial | call to first trial | last trial to return |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['parallelism']} | {r['algo']} | {r['trials']} x {r['seconds']:g} | {r['wall_s']:.1f} s "
            f"| {r['ideal_s']:.1f} s | {100 * r['share']:.1f}% | {100 * r['steady_share']:.1f}% "
            f"| {r['driver_cpu_ms_per_trial']:.2f} ms | {r['first_trial_s']:.2f} s | {r['last_to_return_s']:.2f} s |"
        )
    for r in rows:
        if r.get("windows"):
            lines += ["", f"By history ({r['parallelism']} slots, {r['algo']}):", ""]
            lines += ["| finished trials | driver CPU / trial | share |", "|---|---|---|"]
            lines += [
                f"| {w['finished']} | {w['driver_cpu_ms_per_trial']:.2f} ms | {100 * w['share']:.1f}% |"
                for w in r["windows"]
            ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", action="store_true", help="rand, 1 s trials, parallelism 8/64/256/1000")
    parser.add_argument("--history", action="store_true", help="tpe, 10 s trials, 1,000 slots, 20,000 trials")
    parser.add_argument("--slots", default="8,64,256,1000", help="parallelisms for --scale")
    parser.add_argument("--per-slot", type=int, default=20, help="trials per slot for --scale")
    parser.add_argument("--history-trials", type=int, default=20000)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if not (args.scale or args.history):
        args.scale = args.history = True
    rows = []
    if args.scale:
        for p in [int(s) for s in args.slots.split(",")]:
            rows.append(run_row(p, p * args.per_slot, 1.0, "rand"))
            print(json.dumps(rows[-1]), flush=True)
    if args.history:
        rows.append(run_row(1000, args.history_trials, 10.0, "tpe", window=2000))
        print(json.dumps(rows[-1]), flush=True)
    report(rows, table(rows), args.json)


if __name__ == "__main__":
    main()
