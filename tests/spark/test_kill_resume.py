"""The driver SIGKILLed at random points of a SparkTrials run, then resumed, again and again.

For each mode (executors, driver threads), one run of ``MAX_EVALS[mode]`` trials is started in a child
process with a trial file; a seeded random delay after the child reports its Spark session up,
the driver is SIGKILLed (then its process group, so no JVM or Python worker outlives the test);
the same command resumes it. After ``KILLS`` kills the run is left to finish. Checked:

- every trial that a load of the file showed finished after any kill is in the final file, once,
  with the same values and result (nothing finished is lost, nothing is duplicated);
- the final file holds exactly ``MAX_EVALS[mode]`` finished trials (the run reaches ``max_evals``);
- no point was evaluated more than twice (the evaluation log the objective writes);
- every file seen along the way loads (a kill mid-write leaves at most a torn last record).
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sparktune import Trials
from sparktune._record import FINAL_STATES

from .conftest import REPO, _env

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Per mode, enough trials that the run outlasts KILLS kill points (each 0-2.5 s after the Spark
# session is up): an executor-mode start spends most of that time starting Python workers, while
# driver threads run ~20 trials/s, so 40 trials there ended after two kills.
MAX_EVALS = {"executors": 40, "driver": 400}
KILLS = 10  # per mode: 20 kill points in all


def _start(mode: str, trial_file: Path, eval_log: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.spark._kill_child", mode, str(trial_file), str(eval_log)]
            + [str(MAX_EVALS[mode])],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGKILL,):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
    proc.wait(30)


def _finished(path: Path) -> dict[int, tuple]:
    if not path.exists():
        return {}
    out = {}
    for doc in Trials.load(path).all_trials:
        if doc["state"] in FINAL_STATES:
            out[doc["tid"]] = (doc["misc"]["vals"]["x"][0], doc["state"], doc["result"].get("loss"))
    return out


@pytest.mark.parametrize("mode", ["executors", "driver"])
def test_sigkilled_driver_resumes_with_nothing_lost(mode: str, tmp_path: Path) -> None:
    rng = random.Random(f"kill-{mode}")
    trial_file, eval_log, log = tmp_path / "run.jsonl", tmp_path / "evals.txt", tmp_path / "child.log"
    seen: dict[int, tuple] = {}
    killed_at: list[float] = []
    for _ in range(KILLS):
        proc = _start(mode, trial_file, eval_log, log)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # STARTED: the Spark session is up
            assert line.strip() == b"STARTED", f"child did not start; log:\n{log.read_text()[-3000:]}"
            delay = rng.uniform(0.0, 2.5)
            time.sleep(delay)
            if proc.poll() is not None:  # it finished before the kill point
                break
            os.kill(proc.pid, signal.SIGKILL)  # the driver dies: no cleanup runs in it
            killed_at.append(delay)
        finally:
            _kill_group(proc)
        now = _finished(trial_file)
        for tid, rec in seen.items():
            assert now.get(tid) == rec, f"trial {tid} finished as {rec} before a kill, now {now.get(tid)}"
        seen.update(now)

    proc = _start(mode, trial_file, eval_log, log)
    try:
        out, _ = proc.communicate(timeout=240)
    finally:
        _kill_group(proc)
    assert b"DONE" in out, f"the final resume did not finish; log:\n{log.read_text()[-3000:]}"
    final = _finished(trial_file)
    assert len(killed_at) >= KILLS - 2, f"only {len(killed_at)} kills landed mid-run"
    assert len(final) == MAX_EVALS[mode]
    for tid, rec in seen.items():
        assert final[tid] == rec
    xs = [rec[0] for rec in final.values()]
    assert len(set(xs)) == len(xs), "a finished trial was recorded twice"
    evaluations = collections.Counter(float(v) for v in eval_log.read_text().split())
    assert max(evaluations.values()) <= 2, evaluations.most_common(3)
    assert all(evaluations[x] >= 1 for x in xs)
