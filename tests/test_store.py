"""The loop–store contract (``sparktune._store``): a store written from its text alone runs fmin
exactly as the built-in one does; every way a trial enters reaches the trial file; the package's
import graph has no circle."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest

import sparktune
from sparktune import STATUS_FAIL, Trials, fmin, generate_trials_to_calculate, hp, rand, tpe
from sparktune._record import FINAL_STATES, Trial
from sparktune._store import MemoryStore, TrialStore
from sparktune._suggest import History
from sparktune.base import JOB_STATE_CANCEL, JOB_STATE_NEW, JOB_STATE_RUNNING


class ListStore:
    """A store written against the TrialStore text only: a plain list, every query a scan."""

    def __init__(self) -> None:
        self.rows: list[Trial] = []
        self.done_order: list[int] = []
        self.next_tid = 0
        self.metadata: dict[str, str] = {}

    def get(self, tid: int) -> Trial | None:
        return next((t for t in self.rows if t.tid == tid), None)

    def records(self) -> list[Trial]:
        return sorted(self.rows, key=lambda t: t.tid)

    def queued(self) -> list[Trial]:
        return [t for t in self.records() if t.state == JOB_STATE_NEW]

    def count(self, *states: int) -> int:
        return len(self.rows) if not states else sum(t.state in states for t in self.rows)

    def best(self) -> Trial | None:
        ok = [(t.loss, t.tid) for t in self.rows if t.loss is not None and not math.isnan(t.loss)]
        return self.get(min(ok)[1]) if ok else None

    def finished_order(self) -> Sequence[int]:
        return self.done_order

    def history(self, space: Any) -> History:
        done = [t for t in self.records() if t.state in FINAL_STATES and t.state != JOB_STATE_CANCEL]
        # the built-in store appends finished trials in batches sorted by tid: same order here
        order = {tid: i for i, tid in enumerate(self.done_order)}
        done.sort(key=lambda t: order[t.tid])
        ok = [t for t in done if t.loss is not None]
        bad = [t for t in done if t.loss is None]
        pending = [t for t in self.records() if t.state in (JOB_STATE_NEW, JOB_STATE_RUNNING)]

        def rows(ts: list[Trial]) -> np.ndarray:
            return np.array([space.vals_to_row(t.vals) for t in ts]).reshape(len(ts), space.n_dims)

        return History(X=rows(ok), y=np.array([t.loss for t in ok]), X_pending=rows(pending), X_failed=rows(bad))

    def new_tids(self, n: int) -> list[int]:
        start, self.next_tid = self.next_tid, self.next_tid + n
        return list(range(start, start + n))

    def put(self, trial: Trial) -> None:
        prev = self.get(trial.tid)
        self.rows = [t for t in self.rows if t.tid != trial.tid] + [trial]
        self.next_tid = max(self.next_tid, trial.tid + 1)
        if trial.state in FINAL_STATES and (prev is None or prev.state not in FINAL_STATES):
            self.done_order.append(trial.tid)

    def delete(self, tid: int) -> None:
        self.rows = [t for t in self.rows if t.tid != tid]

    def sync(self) -> None:
        pass

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


def objective(p: dict[str, Any]) -> Any:
    if p["c"] == 2:
        return {"status": STATUS_FAIL}
    return (p["x"] - 0.3) ** 2 + p["c"]


SPACE = {"x": hp.uniform("x", 0, 1), "c": hp.choice("c", [0, 1, 2])}


@pytest.mark.parametrize("algo", [rand.suggest, tpe.suggest])
def test_a_store_written_from_the_contract_runs_fmin_like_the_built_in_one(algo):
    assert isinstance(ListStore(), TrialStore) and isinstance(MemoryStore(), TrialStore)
    mine, builtin = Trials(store=ListStore()), Trials()
    best_mine = fmin(objective, SPACE, algo=algo, max_evals=25, trials=mine, rstate=7, show_progressbar=False)
    best_builtin = fmin(objective, SPACE, algo=algo, max_evals=25, trials=builtin, rstate=7, show_progressbar=False)
    assert best_mine == best_builtin
    assert [d["misc"]["vals"] for d in mine.trials] == [d["misc"]["vals"] for d in builtin.trials]
    assert mine.losses() == builtin.losses()
    mine.delete_all()
    assert len(mine) == 0 and mine.store.count() == 0


def test_delete_all_keeps_the_object_usable():
    trials = Trials(exp_key="k")
    fmin(objective, SPACE, algo=rand.suggest, max_evals=5, trials=trials, show_progressbar=False)
    trials.delete_all()
    assert len(trials.all_trials) == 0
    fmin(objective, SPACE, algo=rand.suggest, max_evals=3, trials=trials, show_progressbar=False)
    assert [d["tid"] for d in trials.all_trials] == [0, 1, 2] and trials.trials[0]["exp_key"] == "k"


def test_generated_and_inserted_trials_reach_the_trial_file(tmp_path):
    path = tmp_path / "run.jsonl"
    trials = generate_trials_to_calculate([{"x": 0.5, "c": 0}, {"x": 0.25, "c": 1}])
    # max_evals=0: nothing runs, but the queued points are in the file, so a killed run keeps them
    fmin(
        objective,
        SPACE,
        algo=rand.suggest,
        max_evals=0,
        trials=trials,
        trials_save_file=str(path),
        show_progressbar=False,
        return_argmin=False,
    )
    loaded = Trials.load(path)
    assert [(t["tid"], t["state"], t["misc"]["vals"]["x"]) for t in loaded.all_trials] == [
        (0, JOB_STATE_NEW, [0.5]),
        (1, JOB_STATE_NEW, [0.25]),
    ]
    # the resumed run evaluates them first, and they are in the file once finished
    fmin(objective, SPACE, algo=rand.suggest, max_evals=3, trials_save_file=str(path), show_progressbar=False)
    again = Trials.load(path)
    assert [t["misc"]["vals"]["x"][0] for t in again.all_trials[:2]] == [0.5, 0.25]
    assert again.all_trials[0]["result"]["loss"] == pytest.approx(0.04)
    assert len(again.all_trials) == 3


def test_points_to_evaluate_reach_the_trial_file_before_they_run(tmp_path):
    path = tmp_path / "run.jsonl"
    seen: list[float] = []

    def stop_at_first(p):
        seen.append(p["x"])
        raise KeyboardInterrupt  # the driver dies in the first trial

    with pytest.raises(KeyboardInterrupt):
        fmin(
            stop_at_first,
            SPACE,
            algo=rand.suggest,
            max_evals=5,
            trials_save_file=str(path),
            points_to_evaluate=[{"x": 0.1, "c": 0}, {"x": 0.2, "c": 0}],
            show_progressbar=False,
        )
    assert seen == [0.1]
    queued = [t for t in Trials.load(path).all_trials if t["state"] == JOB_STATE_NEW]
    assert [t["misc"]["vals"]["x"] for t in queued] == [[0.2]]


def test_trials_load_names_a_missing_file(tmp_path):
    from sparktune.storage import TrialFileError

    with pytest.raises(TrialFileError, match="no sparktune trial file at"):
        Trials.load(tmp_path / "absent.jsonl")


#: The one import back into the loop, made inside a function: hyperopt's ``Trials.fmin`` (a store
#: that runs the loop on itself). Every other import, top-level or inside a function, counts.
ALLOWED_LAZY = {("sparktune._trials", "sparktune._driver")}


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """sparktune modules that ``module`` imports, at import time or inside its functions
    (``if TYPE_CHECKING:`` blocks excluded), less ``ALLOWED_LAZY``."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in tree.body if isinstance(node, ast.If) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                pkg = module.rsplit(".", node.level)[0]
                base = f"{pkg}.{node.module}"
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        found.update(t for t in targets if t in modules and (module, t) not in ALLOWED_LAZY)
    return found


def test_the_import_graph_has_no_circle():
    root = Path(sparktune.__file__).parent
    files = {}
    for f in root.rglob("*.py"):
        rel = f.relative_to(root.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        files[name] = f
    modules = set(files)
    graph = {m: _imports(f, m, modules) - {m} for m, f in files.items()}
    # a package's own __init__ is imported before any of its submodules: edges to it are not cycles
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(t) :] + [t]))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
