"""Both trial-log formats through the ``TrialLog`` interface: the format rule, metadata, labels,
the segment directory's merges and crash leftovers, and the lease between two drivers."""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from sparktune._record import Trial, utcnow
from sparktune.base import JOB_STATE_DONE
from sparktune.storage import (
    LoadedLog,
    SegmentLog,
    StoreInUse,
    TrialFile,
    TrialFileError,
    TrialLog,
    open_trial_log,
    trial_log_format,
)

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("journal", "segments")
LABELS = ("x", "y")


@pytest.fixture
def shm_path():
    """A scratch directory on tmpfs when there is one (fsync there costs nothing)."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=base) as d:
        yield Path(d)


def trial(tid: int, loss: float = 0.0) -> Trial:
    return Trial(
        tid=tid,
        state=JOB_STATE_DONE,
        vals={"x": tid * 0.5, "y": tid},
        result={"status": "ok", "loss": loss},
        book_time=utcnow(),
        refresh_time=utcnow(),
        attempts=1,
    )


def log_path(root: Path, fmt: str) -> Path:
    return root / ("run.jsonl" if fmt == "journal" else "run.segments")


# -- the format rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("/Volumes/main/default/vol/run", "segments"),
        ("/Volumes/main/default/vol/run.jsonl", "segments"),
        ("/dbfs/tmp/run.jsonl", "segments"),
        ("runs/run/", "segments"),
        ("runs/run.segments", "segments"),
        ("runs/run.jsonl", "journal"),
        ("/local_disk0/run.jsonl", "journal"),
        ("/Volumesx/run", "journal"),
    ],
)
def test_format_rule_by_the_paths_form(path, fmt, monkeypatch):
    monkeypatch.delenv("SPARKTUNE_TRIAL_LOG_FORMAT", raising=False)
    assert trial_log_format(path) == fmt
    log = open_trial_log(path)
    assert isinstance(log, SegmentLog if fmt == "segments" else TrialFile)
    assert isinstance(log, TrialLog)


def test_format_rule_existing_paths_and_overrides(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARKTUNE_TRIAL_LOG_FORMAT", raising=False)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    assert trial_log_format(tmp_path / "adir") == "segments"
    assert trial_log_format(tmp_path / "afile") == "journal"
    assert trial_log_format("/Volumes/v/run", format="journal") == "journal"
    monkeypatch.setenv("SPARKTUNE_TRIAL_LOG_FORMAT", "segments")
    assert trial_log_format(tmp_path / "run.jsonl") == "segments"
    assert trial_log_format(tmp_path / "run.jsonl", format="journal") == "journal"
    monkeypatch.setenv("SPARKTUNE_TRIAL_LOG_FORMAT", "sqlite")
    with pytest.raises(ValueError, match="SPARKTUNE_TRIAL_LOG_FORMAT must be one of.*'sqlite'"):
        trial_log_format("x")
    with pytest.raises(ValueError, match="format must be one of.*'csv'"):
        open_trial_log("x", format="csv")


# -- the interface, both formats --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_batches_metadata_and_resume(shm_path, fmt):
    path = log_path(shm_path, fmt)
    log = open_trial_log(path)
    assert not log.exists()
    log.start(LABELS)
    assert log.exists()
    log.append([trial(0), trial(1)])
    log.set_metadata("mlflow_parent_run_id", "abc123")
    log.append([trial(1, loss=9.0), trial(2)])  # a later record for tid 1 replaces the earlier
    log.close()
    log.close()  # idempotent
    loaded = open_trial_log(path).load()
    assert isinstance(loaded, LoadedLog)
    assert loaded.labels == LABELS and [t.tid for t in loaded.trials] == [0, 1, 2]
    assert loaded.trials[1].result["loss"] == 9.0
    assert loaded.metadata == {"mlflow_parent_run_id": "abc123"}
    labels, trials = loaded  # the old TrialFile.load() pair
    assert labels == LABELS and trials == loaded.trials
    again = open_trial_log(path)
    again.start(LABELS)
    again.set_metadata("mlflow_parent_run_id", "def456")
    again.append([trial(3)])
    again.close()
    loaded = open_trial_log(path).load()
    assert [t.tid for t in loaded.trials] == [0, 1, 2, 3] and loaded.metadata["mlflow_parent_run_id"] == "def456"


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_labels_are_refused_naming_path_and_both_lists(shm_path, fmt):
    path = log_path(shm_path, fmt)
    with open_trial_log(path) as log:  # type: ignore[attr-defined]
        log.start(LABELS)
    other = open_trial_log(path)
    with pytest.raises(TrialFileError) as info:
        other.start(["z"])
    msg = str(info.value)
    assert str(path) in msg and "['x', 'y']" in msg and "['z']" in msg
    # the refused start released its lease: the right labels start at once
    open_trial_log(path).start(LABELS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_writes_before_start_are_refused(shm_path, fmt):
    log = open_trial_log(log_path(shm_path, fmt))
    with pytest.raises(TrialFileError, match="not started"):
        log.append([trial(0)])
    with pytest.raises(TypeError, match="append takes Trial records"):
        log.append([{"tid": 0}])  # type: ignore[list-item]


def test_version_1_journal_loads_as_before_and_stays_version_1(shm_path):
    path = shm_path / "old.jsonl"
    path.write_text(
        '{"format": "sparktune-trials", "version": 1, "labels": ["x", "y"]}\n'
        '{"tid": 0, "state": 2, "vals": {"x": 0.5, "y": 1}, "result": {"loss": {"__float__": "inf"}, "status": "ok"}, '
        '"error": null, "traceback": null, "book_time": "2025-01-02T03:04:05.006000", "refresh_time": null, '
        '"attempts": 1}\n'
    )
    log = TrialFile(path)
    loaded = log.load()
    assert loaded.labels == LABELS and loaded.trials[0].result["loss"] == float("inf")
    log.start(LABELS)
    log.append(trial(1))  # one Trial alone is accepted, as before
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and "\t" not in lines[2] and json.loads(lines[2])["tid"] == 1
    assert [t.tid for t in TrialFile(path).load().trials] == [0, 1]


# -- the segment directory --------------------------------------------------------------------


def seg_names(path: Path) -> list[str]:
    return sorted(n for n in os.listdir(path) if n.startswith("seg-"))


def test_segments_stay_few_over_many_appends(shm_path):
    log = SegmentLog(shm_path / "run")
    log.start(LABELS)
    most = 0
    for i in range(1500):
        log.append([trial(i)])
        most = max(most, len(seg_names(log.path)))
    log.close()
    # levels of 16: 1500 = 5*256 + 13*16 + 12 -> 5 + 13 + 12 segments; never more than 3 levels of 16
    assert len(seg_names(log.path)) == 30 and most <= 3 * 16
    assert [t.tid for t in log.load().trials] == list(range(1500))


def test_every_crash_point_of_a_merge_loads_the_same(shm_path):
    path = shm_path / "run"
    log = SegmentLog(path, fanout=1000)
    log.start(LABELS)
    for i in range(4):
        log.append([trial(i), trial(100 + i % 2, loss=float(i))])
    inputs = {n: (path / n).read_bytes() for n in seg_names(path)}
    want = [(t.tid, t.result["loss"]) for t in log.load().trials]
    assert len(inputs) == 4 and dict(want)[100] == 2.0 and dict(want)[101] == 3.0
    log._fanout = 4  # the same writer now merges its 4 segments (the step an append runs)
    log._compact()
    log.close()
    (merged,) = seg_names(path)
    merged_bytes = (path / merged).read_bytes()
    last_two = dict(list(inputs.items())[2:])
    states = {
        "before the merge was written": dict(inputs),
        "merge cut short while written": {**inputs, merged: merged_bytes[: len(merged_bytes) // 2]},
        "merge written, no input deleted": {**inputs, merged: merged_bytes},
        "merge written, two inputs deleted": {**last_two, merged: merged_bytes},
        "merge written, all inputs deleted": {merged: merged_bytes},
    }
    for name, files in states.items():
        with tempfile.TemporaryDirectory(dir=shm_path) as d:
            crashed = Path(d) / "run"
            shutil.copytree(path, crashed)
            (crashed / merged).unlink()
            for n, data in files.items():
                (crashed / n).write_bytes(data)
            got = [(t.tid, t.result["loss"]) for t in SegmentLog(crashed).load().trials]
            assert got == want, name
            resumed = SegmentLog(crashed, fanout=4)
            resumed.start(LABELS)  # deletes what the merge left behind, then goes on
            left = seg_names(crashed)
            assert len(left) == (4 if name in ("before the merge was written", "merge cut short while written") else 1)
            resumed.append([trial(4)])
            resumed.close()
            got = [(t.tid, t.result["loss"]) for t in SegmentLog(crashed).load().trials]
            assert got == [*want[:4], (4, 0.0), *want[4:]], name


def test_torn_segment_is_ignored_then_deleted(shm_path, caplog):
    path = shm_path / "run"
    log = SegmentLog(path)
    log.start(LABELS)
    log.append([trial(0)])
    log.append([trial(1), trial(2)])
    log.close()
    last = path / seg_names(path)[-1]
    last.write_bytes(last.read_bytes()[:-10])  # the crash came in the middle of that write
    with caplog.at_level(logging.WARNING, logger="sparktune.storage"):
        assert [t.tid for t in SegmentLog(path).load().trials] == [0]
    assert "cut short" in caplog.text
    resumed = SegmentLog(path)
    resumed.start(LABELS)
    assert not last.exists()
    resumed.append([trial(1)])
    resumed.close()
    assert [t.tid for t in SegmentLog(path).load().trials] == [0, 1]


def test_torn_segment_followed_by_its_writers_next_is_corruption(shm_path):
    path = shm_path / "run"
    log = SegmentLog(path)
    log.start(LABELS)
    log.append([trial(0)])
    log.append([trial(1)])
    log.close()
    first = path / seg_names(path)[0]
    first.write_bytes(first.read_bytes()[:-3])
    with pytest.raises(TrialFileError, match="writer wrote more segments after it") as info:
        SegmentLog(path).load()
    assert str(first) in str(info.value)


def test_foreign_directory_or_file_is_refused_and_untouched(shm_path):
    foreign = shm_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    log = open_trial_log(foreign)
    assert isinstance(log, SegmentLog)
    with pytest.raises(TrialFileError, match="is not a sparktune trial log directory") as info:
        log.start(LABELS)
    assert str(foreign) in str(info.value) and sorted(os.listdir(foreign)) == ["cat.jpg"]
    with pytest.raises(TrialFileError, match="no header.json"):
        log.load()
    a_file = shm_path / "notes.txt"
    a_file.write_text("hello")
    with pytest.raises(TrialFileError, match="is a file, not a trial log directory"):
        SegmentLog(a_file).start(LABELS)


# -- the lease ---------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from sparktune.storage import open_trial_log, LeaseLost
    from sparktune._record import Trial
    log = open_trial_log({path!r}, lease_seconds={seconds!r})
    log.start(["x", "y"])
    print("started", flush=True)
    i = 0
    while True:
        try:
            log.append([Trial(tid=i, state=2, vals={{"x": 0.0, "y": i}}, result={{"status": "ok", "loss": 1.0}})])
        except LeaseLost as exc:
            print("lost:", exc, flush=True)
            sys.exit(3)
        print("wrote", i, flush=True)
        i += 1
        time.sleep({pause!r})
    """
)


def start_holder(path: Path, *, seconds: float = 60.0, pause: float = 0.05) -> subprocess.Popen[str]:
    code = HOLDER.format(root=str(ROOT), path=str(path), seconds=seconds, pause=pause)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "started\n", line
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("fmt", FORMATS)
def test_second_driver_is_refused_naming_the_holder_and_a_dead_one_does_not_block(tmp_path, fmt):
    path = log_path(tmp_path, fmt)
    proc = start_holder(path)
    try:
        with pytest.raises(StoreInUse) as info:
            open_trial_log(path).start(LABELS)
        msg = str(info.value)
        assert str(path) in msg and f"pid {proc.pid}" in msg and socket.gethostname() in msg
        assert "since 20" in msg and "UTC" in msg and "use another path" in msg
        assert isinstance(info.value, TrialFileError)
    finally:
        stop(proc)
    log = open_trial_log(path)  # the holder died (SIGKILL): its pid is gone, the resume proceeds
    log.start(LABELS)
    n = len(log.load().trials)
    log.append([trial(n)])
    log.close()
    assert [t.tid for t in open_trial_log(path).load().trials] == list(range(n + 1))


def _foreign_lease(path: Path, fmt: str, *, renewed_ago: float) -> Path:
    lease = path.with_name(path.name + ".lease") if fmt == "journal" else path / "lease.json"
    now = time.time()
    content = {
        "format": "sparktune-lease",
        "owner": "f" * 32,
        "host": "another-driver.example",
        "pid": 4242,
        "since": now - 3600,
        "renewed": now - renewed_ago,
        "seconds": 60.0,
    }
    lease.write_text(json.dumps(content))
    return lease


@pytest.mark.parametrize("fmt", FORMATS)
def test_lease_from_another_host_blocks_until_it_expires(shm_path, fmt, caplog):
    path = log_path(shm_path, fmt)
    with open_trial_log(path) as log:  # type: ignore[attr-defined]
        log.start(LABELS)
    _foreign_lease(path, fmt, renewed_ago=5)
    with pytest.raises(StoreInUse, match="host 'another-driver.example', pid 4242") as info:
        open_trial_log(path).start(LABELS)
    assert "expires in 55 s" in str(info.value)
    _foreign_lease(path, fmt, renewed_ago=61)
    log = open_trial_log(path)
    with caplog.at_level(logging.WARNING, logger="sparktune.storage"):
        log.start(LABELS)
    assert "taking over the lease of host 'another-driver.example'" in caplog.text
    log.close()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("debris", [b"", b'{"format": "sparktune-lease", "owner": "ab'], ids=["empty", "torn"])
def test_a_lease_whose_write_was_cut_short_does_not_block_a_resume(shm_path, fmt, debris, caplog):
    """A driver SIGKILLed between creating (or truncating) its lease and writing it leaves an empty
    or torn file, fresh by its mtime: the next driver takes the lease over with a warning."""
    path = log_path(shm_path, fmt)
    with open_trial_log(path) as log:  # type: ignore[attr-defined]
        log.start(LABELS)
        log.append([trial(0)])
    lease = path.with_name(path.name + ".lease") if fmt == "journal" else path / "lease.json"
    lease.write_bytes(debris)
    log = open_trial_log(path)
    with caplog.at_level(logging.WARNING, logger="sparktune.storage"):
        log.start(LABELS)
    assert f"the lease {lease} is unreadable" in caplog.text and "taking it over" in caplog.text
    log.append([trial(1)])
    log.close()
    assert [t.tid for t in open_trial_log(path).load().trials] == [0, 1]
    assert json.loads(lease.read_text())["released"] is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_writer_that_lost_its_lease_stops(tmp_path, fmt):
    """A driver paused past its lease (SIGSTOP) finds another driver's claim and writes no more."""
    path = log_path(tmp_path, fmt)
    proc = start_holder(path, seconds=1.0, pause=0.02)
    assert proc.stdout is not None
    try:
        for _ in range(3):
            proc.stdout.readline()
        os.kill(proc.pid, signal.SIGSTOP)
        time.sleep(1.5)  # its lease expires while it is stopped
        taker = open_trial_log(path, lease_seconds=60)
        taker.start(LABELS)
        at_takeover = {t.tid for t in taker.load().trials}
        os.kill(proc.pid, signal.SIGCONT)
        out = proc.communicate(timeout=30)[0]
        assert proc.returncode == 3, out
        assert "this driver's lease was taken by host" in out and str(path) in out
        taker.append([trial(10_000)])
        taker.close()
    finally:
        stop(proc)
    # nothing the stopped driver tried after the takeover reached the log
    assert {t.tid for t in open_trial_log(path).load().trials} == at_takeover | {10_000}


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_process_open_twice_is_refused_closed_or_dropped_is_free(shm_path, fmt):
    path = log_path(shm_path, fmt)
    first = open_trial_log(path)
    first.start(LABELS)
    with pytest.raises(StoreInUse, match=f"in use by this very process \\(pid {os.getpid()}"):
        open_trial_log(path).start(LABELS)
    first.close()
    second = open_trial_log(path)
    second.start(LABELS)
    del second  # dropped without close(): collected, its lease released
    gc.collect()
    third = open_trial_log(path)
    third.start(LABELS)
    third.close()
