"""The trial logs on a real FUSE mount that refuses append and rename, as Databricks Volumes and
DBFS do (``tests/fusefs/volumefs.py``, mounted here in a subprocess over a temporary directory).

Needs ``/dev/fuse``, ``fusermount3`` (Debian ``fuse3``), the ``mfusepy`` package and the right to
mount (root, or a user allowed to use FUSE). Without them the tests skip, saying which is
missing; under CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sparktune._record import Trial
from sparktune.storage import SegmentLog, StoreInUse, TrialFile, TrialFileError, open_trial_log

ROOT = Path(__file__).resolve().parents[1]
VOLUMEFS = Path(__file__).resolve().parent / "fusefs" / "volumefs.py"
LABELS = ("x", "y")


def _unavailable() -> str | None:
    if not Path("/dev/fuse").exists():
        return "/dev/fuse does not exist"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed (Debian package fuse3)"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: libfuse itself is missing
        return f"mfusepy cannot be imported: {exc}"
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"FUSE mount test cannot run under CI: {reason}")
    pytest.skip(reason)


def _unmount(mnt: Path) -> None:
    for args in (["fusermount3", "-u", str(mnt)], ["fusermount3", "-u", "-z", str(mnt)]):
        if not os.path.ismount(mnt):
            return
        subprocess.run(args, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    """A mounted directory that behaves like a Databricks Volume; unmounted even on failure."""
    reason = _unavailable()
    if reason:
        _skip_or_fail(reason)
    base = tmp_path_factory.mktemp("fuse")
    backing, mnt = base / "backing", base / "mnt"
    backing.mkdir()
    mnt.mkdir()
    log = open(base / "volumefs.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-W", "ignore::DeprecationWarning", str(VOLUMEFS), str(backing), str(mnt)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not os.path.ismount(mnt):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (base / "volumefs.log").read_text(errors="replace").strip()
                _skip_or_fail(f"mounting FUSE failed (exit {proc.poll()}): {output[-500:]}")
            time.sleep(0.05)
        yield mnt, backing
    finally:
        _unmount(mnt)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def trial(tid: int) -> Trial:
    return Trial(tid=tid, state=2, vals={"x": tid / 10, "y": tid}, result={"status": "ok", "loss": float(tid)})


def test_the_mount_refuses_append_and_rename_like_a_volume(volume):
    mnt, backing = volume
    f = mnt / "probe.txt"
    f.write_bytes(b"whole file\n")
    assert (backing / "probe.txt").read_bytes() == b"whole file\n"
    with pytest.raises(OSError) as info:
        open(f, "ab")
    assert info.value.errno == errno.ESPIPE  # "Illegal seek"
    with pytest.raises(OSError) as info:
        os.rename(f, mnt / "renamed.txt")
    assert info.value.errno == errno.ENOSYS  # "Function not implemented"
    f.write_bytes(b"rewritten\n")  # a whole-file rewrite works
    assert f.read_bytes() == b"rewritten\n"
    f.unlink()


def test_a_file_still_open_can_be_deleted(volume):
    # The kernel sends a closed handle's release asynchronously, so a delete right after a close
    # can reach the mount while the file still counts as open; it must not need a rename.
    mnt, backing = volume
    f = mnt / "open.txt"
    f.write_bytes(b"x\n")
    with open(f, "rb") as handle:
        f.unlink()
        assert handle.read() == b"x\n"
    assert not (backing / "open.txt").exists()


def test_the_journal_fails_there_with_a_clear_error(volume, tmp_path):
    mnt, backing = volume
    new = TrialFile(mnt / "new.jsonl")
    with pytest.raises(TrialFileError) as info:
        new.start(LABELS)
    msg = str(info.value)
    assert str(mnt / "new.jsonl") in msg and "refuses to rename" in msg and "segment-directory format" in msg
    # a journal written elsewhere loads there, but cannot be resumed there
    local = TrialFile(tmp_path / "old.jsonl")
    local.start(LABELS)
    local.append([trial(0), trial(1)])
    local.close()
    shutil.copy(local.path, backing / "old.jsonl")
    there = TrialFile(mnt / "old.jsonl")
    assert [t.tid for t in there.load().trials] == [0, 1]
    with pytest.raises(TrialFileError, match="refuses to open files for append"):
        there.start(LABELS)


def test_a_segment_log_writes_merges_and_resumes_there(volume):
    mnt, backing = volume
    path = mnt / "run"
    log = open_trial_log(str(path) + "/")
    assert isinstance(log, SegmentLog)
    log.start(LABELS)
    for i in range(40):  # 40 appends: merges of 16 run on the mount too
        log.append([trial(i)])
    log.set_metadata("mlflow_parent_run_id", "r1")
    with pytest.raises(StoreInUse, match="is in use by this very process"):
        open_trial_log(path).start(LABELS)
    log.close()
    assert len([n for n in os.listdir(backing / "run") if n.startswith("seg-")]) < 16
    resumed = open_trial_log(path)
    resumed.start(LABELS)
    resumed.append([trial(40), trial(3)])
    resumed.close()
    loaded = open_trial_log(path).load()
    assert [t.tid for t in loaded.trials] == list(range(41)) and loaded.metadata == {"mlflow_parent_run_id": "r1"}


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from sparktune.storage import open_trial_log
    from sparktune._record import Trial
    log = open_trial_log({path!r})
    log.start(["x", "y"])
    done = [t.tid for t in log.load().trials]
    i = max(done, default=-1) + 1
    while True:
        log.append([Trial(tid=i, state=2, vals={{"x": 0.5, "y": i}}, result={{"status": "ok", "loss": 1.0}})])
        print(i, flush=True)  # reported finished only once append returned
        i += 1
    """
)


def test_a_killed_writer_resumes_there_with_nothing_lost(volume):
    """SIGKILL a writer at 5 points of its run on the mount; every append that returned is kept,
    a second driver is refused while it lives, and each resume proceeds once it is dead."""
    mnt, _ = volume
    path = str(mnt / "killed") + "/"
    code = WRITER.format(root=str(ROOT), path=path)
    reported: list[int] = []
    for kill_after in (1, 7, 16, 17, 33):  # around the merges of 16
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert proc.stdout is not None
        try:
            for _ in range(kill_after):
                reported.append(int(proc.stdout.readline()))
            if kill_after == 1:  # a second driver on the mount is refused while the writer lives
                with pytest.raises(StoreInUse, match=f"in use by another driver .*pid {proc.pid}"):
                    open_trial_log(path).start(LABELS)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        tids = [t.tid for t in open_trial_log(path).load().trials]
        assert set(reported) <= set(tids) and tids == list(range(len(tids)))
    assert len(reported) == 1 + 7 + 16 + 17 + 33


def _square(p):
    return {"loss": (p["x"] - 0.3) ** 2, "status": "ok"}


def test_fmin_on_the_mount_resumes_with_nothing_lost(volume):
    """fmin's trials_save_file on the mount: a directory path gets the segment format."""
    from sparktune import Trials, fmin, hp, rand

    mnt, _ = volume
    space = {"x": hp.uniform("x", -1, 1)}
    path = str(mnt / "fmin-run") + "/"
    first = Trials()
    fmin(_square, space, algo=rand.suggest, max_evals=5, trials=first, trials_save_file=path, show_progressbar=False)
    resumed = Trials()
    fmin(_square, space, algo=rand.suggest, max_evals=9, trials=resumed, trials_save_file=path, show_progressbar=False)
    assert len(resumed) == 9
    assert [d["misc"]["vals"] for d in resumed.trials[:5]] == [d["misc"]["vals"] for d in first.trials]
    assert [t.tid for t in open_trial_log(path).load().trials] == list(range(9))
    with pytest.raises(TrialFileError, match="refuses to rename"):
        journal = str(mnt / "j.jsonl")
        fmin(_square, space, algo=rand.suggest, max_evals=2, trials_save_file=journal, show_progressbar=False)
