"""Property tests of both trial-log formats: every record the loop can produce round-trips, and
a damaged log either loads exactly what was fully written before the damage or is refused with an
error naming it; never a silently different set of trials."""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from sparktune._record import Trial
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_NEW, JOB_STATE_RUNNING
from sparktune.storage import SegmentLog, TrialFile, TrialFileError, TrialLog, open_trial_log

LABELS = ("a", "b", "c", "lr", "n_layers")
FORMATS = ("journal", "segments")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# fsync costs ~8 ms on this disk and nothing on a tmpfs; the logs' behaviour is the same on both
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def scratch() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(dir=SCRATCH)


@pytest.fixture(autouse=True)
def _no_settle(monkeypatch):
    # one process claims each lease here: no need to wait before reading the claim back
    monkeypatch.setattr("sparktune.storage._lease.SETTLE_SECONDS", 0.0)


def floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=True, allow_infinity=True)


def _numpy_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
        st.floats(width=32, allow_nan=True, allow_infinity=True).map(np.float32),
        st.integers(-(2**63), 2**63 - 1).map(np.int64),
        st.booleans().map(np.bool_),
    )


KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["__float__", "__datetime__", "__dict__", "__repr__", "loss"]))
DATETIMES = st.datetimes(min_value=_dt.datetime(1970, 1, 2), max_value=_dt.datetime(2200, 1, 1))
TIMES = st.one_of(st.none(), DATETIMES)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    floats(),
    st.text(),
    _numpy_scalars(),
    DATETIMES,
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=6,
)


@st.composite
def trials(draw: st.DrawFn, tid: int | None = None) -> Trial:
    state = draw(st.sampled_from([JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL]))
    labels = draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=len(LABELS)))
    vals = {k: draw(st.one_of(st.integers(-(2**70), 2**70), floats())) for k in labels}
    result: dict[str, Any] = {"status": draw(st.sampled_from(["ok", "fail", "new", "running"]))}
    if draw(st.booleans()):
        result["loss"] = draw(st.one_of(floats(), _numpy_scalars()))
    extra_keys = KEYS.map(lambda k: "x" + k if k in ("status", "loss") else k)
    result.update(draw(st.dictionaries(extra_keys, VALUES, max_size=3)))
    error = draw(st.one_of(st.none(), st.tuples(st.text(max_size=20), st.text(max_size=40))))
    return Trial(
        tid=draw(st.integers(0, 10**9)) if tid is None else tid,
        state=state,
        vals=vals,
        result=result,
        error=error,
        traceback=draw(st.one_of(st.none(), st.text())),
        book_time=draw(TIMES),
        refresh_time=draw(TIMES),
        attempts=draw(st.integers(0, 5)),
    )


@st.composite
def batches(draw: st.DrawFn) -> list[list[Trial]]:
    """1-4 batches of records whose tids repeat sometimes (a later record replaces an earlier)."""
    n = draw(st.integers(1, 4))
    tids = st.integers(0, 12)
    return [
        draw(st.lists(trials().flatmap(lambda t: tids.map(lambda i: _with_tid(t, i))), min_size=1, max_size=3))
        for _ in range(n)
    ]


def _with_tid(t: Trial, tid: int) -> Trial:
    return Trial(tid, t.state, t.vals, t.result, t.error, t.traceback, t.book_time, t.refresh_time, t.attempts)


def normal(value: Any) -> Any:
    """What a value reads back as: numpy -> Python, tuples -> lists, keys -> str."""
    if isinstance(value, np.generic):
        return normal(value.item())
    if isinstance(value, dict):
        return {str(k): normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normal(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Equality where nan equals nan and types must agree (1 is not 1.0, True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def same_trial(read: Trial, written: Trial) -> bool:
    return (
        read.tid == written.tid
        and read.state == written.state
        and same(dict(read.vals), normal(dict(written.vals)))
        and same(dict(read.result), normal(dict(written.result)))
        and read.error == written.error
        and read.traceback == written.traceback
        and read.book_time == written.book_time
        and read.refresh_time == written.refresh_time
        and read.attempts == written.attempts
    )


def expected(written: list[Trial]) -> list[Trial]:
    last: dict[int, Trial] = {}
    for t in written:
        last[t.tid] = t
    return [last[k] for k in sorted(last)]


def assert_loads(log: TrialLog, written: list[Trial]) -> None:
    want = expected(written)
    got = log.load().trials
    assert [t.tid for t in got] == [t.tid for t in want]
    for r, w in zip(got, want):
        assert same_trial(r, w), (r, w)


def make_log(fmt: str, root: str) -> TrialLog:
    if fmt == "segments":
        return SegmentLog(Path(root) / "log", fanout=2)  # merges after every other append
    return open_trial_log(Path(root) / "log.jsonl", format=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(data=batches(), meta=st.dictionaries(st.text(max_size=6), st.text(max_size=10), max_size=3))
def test_any_record_round_trips(fmt, data, meta):
    with scratch() as root:
        log = make_log(fmt, root)
        log.start(LABELS)
        for k, v in meta.items():
            log.set_metadata(k, v)
        for batch in data:
            log.append(batch)
        log.close()
        written = [t for b in data for t in b]
        assert_loads(log, written)
        again = make_log(fmt, root)  # a resume reads the same
        assert again.load().labels == LABELS and again.load().metadata == meta
        assert_loads(again, written)


def _data_files(log: TrialLog) -> list[Path]:
    """The files the log's records live in, in the order they were written."""
    if isinstance(log, TrialFile):
        return [log.path]
    names = sorted(n for n in os.listdir(log.path) if n.startswith("seg-"))
    return [log.path / "header.json"] + [log.path / n for n in names]


def _records_in(log: TrialLog, files: list[Path], upto: tuple[int, int]) -> list[Trial] | None:
    """The records fully written before byte ``upto[1]`` of file ``upto[0]`` (None: not a prefix)."""
    index, offset = upto
    if isinstance(log, TrialFile):
        raw = files[0].read_bytes()
        whole = raw[: raw.rfind(b"\n", 0, offset) + 1] if b"\n" in raw[:offset] else b""
        if whole.count(b"\n") < 1:
            return None  # the header itself is damaged: only an error is right
        tmp = files[0].with_name("prefix.jsonl")
        tmp.write_bytes(whole)
        return TrialFile(tmp).load().trials
    if index == 0:
        return None  # header.json damaged: only an error is right
    return _segments_before(log, files, index)


def _segments_before(log: TrialLog, files: list[Path], index: int) -> list[Trial]:
    with tempfile.TemporaryDirectory() as other:
        prefix = Path(other) / "log"
        prefix.mkdir()
        for f in files[:index]:
            (prefix / f.name).write_bytes(f.read_bytes())
        return SegmentLog(prefix).load().trials


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(
    data=batches(),
    where=st.floats(0, 1, exclude_max=True),
    kind=st.sampled_from(["flip", "truncate"]),
    byte=st.integers(0, 255),
    pick=st.integers(0, 10**6),
)
def test_damage_is_refused_or_loads_exactly_what_came_before(fmt, data, where, kind, byte, pick):
    with scratch() as root:
        log = make_log(fmt, root)
        log.start(LABELS)
        for batch in data:
            log.append(batch)
        log.close()
        files = _data_files(log)
        index = pick % len(files)
        target = files[index]
        raw = target.read_bytes()
        offset = int(where * len(raw))
        if kind == "flip":
            assume(raw[offset] != byte)
            target.write_bytes(raw[:offset] + bytes([byte]) + raw[offset + 1 :])
        else:
            target.write_bytes(raw[:offset])
        before = _records_in(log, files, (index, offset))
        try:
            got = make_log(fmt, root).load().trials
        except TrialFileError as exc:
            assert str(target) in str(exc) or str(log.path) in str(exc)
            event("refused with an error naming the file")
            return
        event("loaded the records written before the damage")
        # loaded: it must be exactly the records written whole before the damage
        assert before is not None, f"damaged {target.name} at {offset} ({kind}) loaded without an error"
        assert [t.tid for t in got] == [t.tid for t in before]
        for r, w in zip(got, before):
            assert same_trial(r, w)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=300))
def test_foreign_bytes_are_refused_naming_the_path(fmt, content):
    with scratch() as root:
        if fmt == "journal":
            path = Path(root) / "foreign.jsonl"
            path.write_bytes(content)
            named = path
        else:
            path = Path(root) / "foreign"
            path.mkdir()
            named = path / "header.json"
            named.write_bytes(content)
        with pytest.raises(TrialFileError) as info:
            open_trial_log(path, format=fmt).load()
        assert str(path) in str(info.value)
