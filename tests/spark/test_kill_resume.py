"""The driver SIGKILLed at random points of a SparkTrials run, then resumed, again and again.

For each mode (executors, driver threads), one run of ``MAX_EVALS[mode]`` trials is started in a child
process with a trial file; a seeded random delay after the child reports its Spark session up,
the driver is SIGKILLed (then its process group, so no JVM or Python worker outlives the test);
the same command resumes it. After ``KILLS`` kills the run is left to finish. Checked:

- every trial that a load of the file showed finished after any kill is in the final file, once,
  with the same values and result (nothing finished is lost, nothing is duplicated);
- the final file holds exactly ``MAX_EVALS[mode]`` finished trials (the run reaches ``max_evals``);
- no start of the run evaluated a point twice, and no start evaluated a point that a load of the
  file after an earlier kill showed finished (the evaluation log the objective writes, each line
  tagged with the start that wrote it). A trial still running at a kill is evaluated again after
  it, as often as kills land on it: that is how nothing is lost;
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


def _start(mode: str, trial_file: Path, eval_log: Path, log: Path, run: int) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.spark._kill_child", mode, str(trial_file), str(eval_log)]
            + [str(MAX_EVALS[mode]), str(run)],
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
    finished_by: dict[float, int] = {}  # point -> the start after whose kill a load showed it finished
    killed_at: list[float] = []
    for run in range(KILLS):
        proc = _start(mode, trial_file, eval_log, log, run)
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
        for rec in now.values():
            finished_by.setdefault(rec[0], run)

    proc = _start(mode, trial_file, eval_log, log, KILLS)
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
    lines = [line.split() for line in eval_log.read_text().splitlines()]
    evaluations = collections.Counter((int(run_), float(x)) for run_, x in lines)
    twice = [(key, n) for key, n in evaluations.items() if n > 1]
    assert not twice, f"(start, point) evaluated more than once in one start: {twice}"
    again = [(x, run_) for run_, x in evaluations if x in finished_by and run_ > finished_by[x]]
    assert not again, f"(point, start) evaluated again after a load showed it finished: {again}"
    evaluated = {x for _, x in evaluations}
    assert all(x in evaluated for x in xs)
