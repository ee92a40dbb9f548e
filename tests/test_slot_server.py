"""The executor backend's slot server, driven by simulated slot workers (no JVM).

The slots are ``sparktune.backends.simulated.SimulatedSlots``: separate processes that speak the
worker protocol over 127.0.0.1, as Spark's Python workers do, and hold each trial for a set time.
"""

from __future__ import annotations

import pickle
import socket
import struct
import time
from typing import Any

import pytest

from sparktune import AllTrialsFailed, Trials, fmin, hp, rand, tpe
from sparktune._trials import EngineSettings
from sparktune.backends.simulated import SimulatedSlots
from sparktune.backends.spark_executors import ExecutorBackend, dumps_objective
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE


class SimulatedTrials(Trials):
    """Trials evaluated by the real executor backend on simulated slots."""

    def __init__(
        self, parallelism: int, trial_seconds: float, trial_timeout: float | None = None, launcher: Any = None
    ) -> None:
        super().__init__()
        self.parallelism = parallelism
        self.slots = SimulatedSlots(trial_seconds, processes=2)
        self.launcher = launcher or self.slots
        self.trial_timeout = trial_timeout
        self.backends: list[ExecutorBackend] = []

    def _engine_settings(self) -> EngineSettings:
        return EngineSettings(trial_timeout=self.trial_timeout, record_failures=True)

    def _make_backend(self, fn: Any, call: Any = None, trial_context: Any = None) -> ExecutorBackend:
        backend = ExecutorBackend(None, dumps_objective(fn, call), parallelism=self.parallelism, launcher=self.launcher)
        self.backends.append(backend)
        return backend


def objective(p: dict[str, Any]) -> float:
    return (p["x"] - 1.0) ** 2 + p["y"]


SPACE = {"x": hp.uniform("x", -5, 5), "y": hp.quniform("y", 0, 4, 1)}


def _max_overlap(trials: Trials) -> int:
    events = []
    for t in trials.store.records():
        events += [(t.book_time.timestamp(), 1), (t.refresh_time.timestamp(), -1)]
    depth = best = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        depth += step
        best = max(best, depth)
    return best


@pytest.mark.parametrize("algo", [rand.suggest, tpe.suggest], ids=["rand", "tpe"])
def test_a_hundred_simulated_slots_run_every_trial_once_in_parallel(algo: Any) -> None:
    trials = SimulatedTrials(parallelism=100, trial_seconds=0.2)
    t0 = time.monotonic()
    best = fmin(objective, SPACE, algo=algo, max_evals=600, trials=trials, show_progressbar=False)
    wall = time.monotonic() - t0
    records = trials.store.records()
    assert [t.tid for t in records] == list(range(600))
    assert all(t.state == JOB_STATE_DONE and t.attempts == 1 for t in records)
    assert objective(best) == pytest.approx(min(t.result["loss"] for t in records))
    # 600 trials of 0.2 s on 100 slots: 1.2 s of work per slot; one at a time would take 120 s.
    assert 50 < _max_overlap(trials) <= 100
    assert wall < 30
    assert all(p.returncode == 0 for p in trials.slots.procs)  # every slot was told to stop


def test_trial_timeout_cancels_a_running_trial_and_its_slot_comes_back() -> None:
    trials = SimulatedTrials(parallelism=4, trial_seconds=30.0, trial_timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(AllTrialsFailed):  # hyperopt's answer when no trial finished
        fmin(objective, SPACE, algo=rand.suggest, max_evals=8, trials=trials, show_progressbar=False)
    assert time.monotonic() - t0 < 20  # 8 trials of 30 s were not awaited
    records = trials.store.records()
    assert len(records) == 8 and all(t.state == JOB_STATE_CANCEL for t in records)
    # Each cancel ended its slot's connection; trials 4-7 ran on slots that connected again.
    assert all(t.attempts == 1 for t in records)


def test_a_connection_with_a_wrong_token_is_refused_and_the_run_goes_on() -> None:
    intruders: list[bytes] = []

    def launch(configs: Any) -> Any:
        sock = socket.create_connection((configs[0].host, configs[0].port), timeout=5)
        wrong = b"x" * len(configs[0].token)
        hello = pickle.dumps(("hello", 99, 1))
        sock.sendall(struct.pack(">I", len(wrong)) + wrong + struct.pack(">I", len(hello)) + hello)
        intruders.append(sock.recv(1024))  # b"": the server closed the connection, sent nothing
        sock.close()
        return trials.slots(configs)

    trials = SimulatedTrials(parallelism=2, trial_seconds=0.3, launcher=launch)
    fmin(objective, SPACE, algo=rand.suggest, max_evals=4, trials=trials, show_progressbar=False)
    assert intruders == [b""]
    assert len(trials.store.records()) == 4
    assert all(t.state == JOB_STATE_DONE for t in trials.store.records())


def test_a_worker_that_sends_garbage_is_dropped_and_the_others_go_on() -> None:
    answers: list[bytes] = []

    def launch(configs: Any) -> Any:
        c = configs[0]
        sock = socket.create_connection((c.host, c.port), timeout=5)
        hello = pickle.dumps(("hello", c.slot, 1))
        garbage = b"not a pickle"
        frames = [c.token, hello, garbage]
        sock.sendall(b"".join(struct.pack(">I", len(f)) + f for f in frames))
        sock.settimeout(5)
        try:
            while chunk := sock.recv(1 << 16):  # it may be handed a trial before the garbage is read
                answers.append(chunk)
        except OSError:
            pass
        answers.append(b"closed")
        sock.close()
        return trials.slots(configs)

    trials = SimulatedTrials(parallelism=2, trial_seconds=0.2, launcher=launch)
    fmin(objective, SPACE, algo=rand.suggest, max_evals=6, trials=trials, show_progressbar=False)
    assert answers[-1] == b"closed"  # the server closed the connection
    records = trials.store.records()
    assert len(records) == 6 and all(t.state == JOB_STATE_DONE for t in records)
