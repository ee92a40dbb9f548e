"""Run listeners (the hook tracking builds on), progress display and ``verbose``."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

import pytest

from sparktune import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, rand
from sparktune._events import add_listener_factory, remove_listener_factory
from sparktune.base import JOB_STATE_DONE, JOB_STATE_ERROR


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.context_threads: list[tuple[int, str]] = []
        self.inside: int | None = None

    def run_started(self, start):
        self.events.append(("start", start))

    def trials_finished(self, trials):
        self.events.append(("finished", [t.tid for t in trials]))
        self.records = getattr(self, "records", []) + list(trials)

    @contextlib.contextmanager
    def trial_context(self, tid):
        self.context_threads.append((tid, threading.current_thread().name))
        self.inside = tid
        try:
            yield
        finally:
            self.inside = None

    def run_finished(self, end):
        self.events.append(("end", end))


@pytest.fixture
def recorder():
    rec = Recorder()
    add_listener_factory("test-recorder", lambda start: rec)
    yield rec
    remove_listener_factory("test-recorder")


def objective(x):
    if x["x"] < 0.3:
        raise ValueError("low")
    if x["x"] < 0.5:
        return {"status": STATUS_FAIL}
    return {"loss": x["x"], "status": STATUS_OK}


def test_listener_sees_every_trial_once_in_order(recorder):
    seen_inside: list[int | None] = []

    def fn(x):
        seen_inside.append(recorder.inside)
        return objective(x)

    trials = Trials()
    fmin(
        fn,
        {"x": hp.uniform("x", 0, 1)},
        algo=rand.suggest,
        max_evals=12,
        trials=trials,
        rstate=3,
        catch_eval_exceptions=True,
        show_progressbar=False,
    )
    kinds = [k for k, _ in recorder.events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("start") == kinds.count("end") == 1
    tids = [tid for k, v in recorder.events if k == "finished" for tid in v]  # type: ignore[union-attr]
    assert sorted(tids) == list(range(12)) and len(set(tids)) == 12
    # the objective ran inside its own trial's context, in this thread
    assert seen_inside == list(range(12))
    states = {t.tid: t.state for t in recorder.records}
    assert JOB_STATE_ERROR in states.values() and JOB_STATE_DONE in states.values()
    end = recorder.events[-1][1]
    counts = end.counts
    assert counts["total"] == 12 and counts["ok"] + counts["fail"] + counts["error"] == 12
    assert counts["error"] == sum(1 for t in recorder.records if t.state == JOB_STATE_ERROR)
    assert end.best is not None and end.best.loss == min(t.loss for t in recorder.records if t.loss is not None)


def test_second_fmin_on_same_trials_reports_existing_and_keeps_metadata(recorder):
    trials = Trials()
    space = {"x": hp.uniform("x", 0, 1)}
    fmin(
        objective,
        space,
        algo=rand.suggest,
        max_evals=4,
        trials=trials,
        rstate=1,
        catch_eval_exceptions=True,
        show_progressbar=False,
    )
    first = recorder.events[0][1]
    assert first.existing == ()
    first.metadata["parent"] = "abc"
    recorder.events.clear()
    fmin(
        objective,
        space,
        algo=rand.suggest,
        max_evals=6,
        trials=trials,
        rstate=1,
        catch_eval_exceptions=True,
        show_progressbar=False,
    )
    second = recorder.events[0][1]
    assert [t.tid for t in second.existing] == [0, 1, 2, 3]
    assert second.metadata["parent"] == "abc"
    assert sorted(t for k, v in recorder.events if k == "finished" for t in v) == [4, 5]  # type: ignore[union-attr]


def test_a_raising_listener_warns_and_never_stops_the_run(caplog):
    class Broken:
        def trials_finished(self, trials):
            raise RuntimeError("tracking server down")

    add_listener_factory("test-broken", lambda start: Broken())
    try:
        trials = Trials()
        fmin(
            lambda p: p["x"],
            {"x": hp.uniform("x", 0, 1)},
            algo=rand.suggest,
            max_evals=5,
            trials=trials,
            show_progressbar=False,
        )
    finally:
        remove_listener_factory("test-broken")
    assert len(trials) == 5
    assert "listener Broken failed in trials_finished (RuntimeError: tracking server down)" in caplog.text


def test_run_finished_gets_the_error_when_fmin_raises(recorder):
    class Boom(Exception):
        pass

    def fn(p):
        raise Boom("x")

    with pytest.raises(Boom):
        fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=3, show_progressbar=False)
    end = recorder.events[-1][1]
    assert isinstance(end.error, Boom)
    assert [t for k, v in recorder.events if k == "finished" for t in v] == [0]  # type: ignore[union-attr]


def test_hyperopt_progress_callback_protocol():
    updates: list[int] = []
    opened: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def callback(initial, total):
        opened.append((initial, total))

        class Ctx:
            postfix = ""

            def update(self, n):
                updates.append(n)

        yield Ctx()

    fmin(lambda p: p["x"], {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=7, show_progressbar=callback)
    assert opened == [(0, 7)] and sum(updates) == 7


def test_hyperopt_tqdm_callback_prints_above_the_bar_and_restores_streams(capsys):
    from sparktune.progress import no_progress_callback, tqdm_progress_callback

    real = sys.stdout, sys.stderr

    def fn(p):
        print("inside the objective")
        return p["x"]

    fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=4, show_progressbar=tqdm_progress_callback)
    assert (sys.stdout, sys.stderr) == real
    out, err = capsys.readouterr()
    assert out.count("inside the objective\n") == 4  # whole lines, on stdout
    assert "4/4" in err and "best loss" in err  # the bar, on stderr
    fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=2, show_progressbar=no_progress_callback)
    out, err = capsys.readouterr()
    assert out.count("inside the objective") == 2 and "2/2" not in err


def test_progress_bar_shows_counts_when_forced(monkeypatch, capsys):
    monkeypatch.setenv("SPARKTUNE_PROGRESS", "1")
    fmin(objective, {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=10, rstate=3, catch_eval_exceptions=True)
    err = capsys.readouterr().err
    assert "10/10" in err and "best loss=" in err and "failed=" in err


def test_progress_bar_off_when_nobody_watches(monkeypatch, capsys):
    monkeypatch.delenv("SPARKTUNE_PROGRESS", raising=False)
    fmin(lambda p: p["x"], {"x": hp.uniform("x", 0, 1)}, algo=rand.suggest, max_evals=5)
    assert "trial/s" not in capsys.readouterr().err  # pytest's captured stderr is not a terminal


def test_verbose_false_hides_info_and_true_shows_the_summary(caplog):
    caplog.set_level(logging.NOTSET)
    logging.getLogger("sparktune").setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    space = {"x": hp.uniform("x", 0, 1)}
    fmin(lambda p: p["x"], space, algo=rand.suggest, max_evals=3, verbose=False)
    assert "Total Trials" not in caplog.text
    fmin(lambda p: p["x"], space, algo=rand.suggest, max_evals=3, verbose=True)
    assert "Total Trials: 3: 3 succeeded, 0 failed, 0 cancelled." in caplog.text
