"""The names hyperopt 0.3 exports at top level exist in sparktune with the same meaning."""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest

import sparktune
from sparktune import (
    JOB_STATES,
    STATUS_NEW,
    STATUS_OK,
    Ctrl,
    Domain,
    Trials,
    fmin,
    fmin_pass_expr_memo_ctrl,
    hp,
    partial,
    rand,
    tpe,
    trials_from_docs,
)
from sparktune.exceptions import InvalidLoss, InvalidResultStatus

# hyperopt 0.3.0's hyperopt/__init__.py, its public names (submodules it imports only for itself,
# such as `progress` or `utils`, left out). Not provided: FMinIter (hyperopt's loop object) and
# atpe (needs lightgbm); see the README.
HYPEROPT_TOP_LEVEL = [
    "anneal", "exceptions", "hp", "mix", "rand", "tpe",
    "JOB_STATE_DONE", "JOB_STATE_ERROR", "JOB_STATE_NEW", "JOB_STATE_RUNNING", "JOB_STATES",
    "STATUS_FAIL", "STATUS_NEW", "STATUS_OK", "STATUS_RUNNING", "STATUS_STRINGS", "STATUS_SUSPENDED",
    "Ctrl", "Domain", "Trials", "trials_from_docs",
    "fmin", "fmin_pass_expr_memo_ctrl", "partial", "space_eval",
    "SparkTrials", "__version__",
]  # fmt: skip


@pytest.mark.parametrize("name", HYPEROPT_TOP_LEVEL)
def test_hyperopt_top_level_name_exists(name):
    assert getattr(sparktune, name) is not None
    if not name.startswith("_") and name != "SparkTrials":
        assert name in sparktune.__all__


def test_constants_have_hyperopt_values():
    assert JOB_STATES == [0, 1, 2, 3, 4]
    assert sparktune.STATUS_STRINGS == ("new", "running", "suspended", "ok", "fail")
    assert (sparktune.JOB_STATE_NEW, sparktune.JOB_STATE_RUNNING, sparktune.JOB_STATE_DONE) == (0, 1, 2)
    assert sparktune.JOB_STATE_ERROR == 3


def test_domain_is_the_base_domain_and_evaluates_as_fmin_would():
    assert Domain is sparktune.base.Domain
    domain = Domain(lambda p: p["x"] * 2, {"x": hp.uniform("x", 0, 1), "c": hp.choice("c", [1, 2])})
    assert sorted(domain.params) == ["c", "x"]
    assert domain.params["x"].name == "uniform" and domain.params["c"].name == "randint"
    assert domain.evaluate({"x": 0.25, "c": 1}, None) == {"loss": 0.5, "status": STATUS_OK}
    assert domain.evaluate({"x": [0.25], "c": [0]}, None) == {"loss": 0.5, "status": STATUS_OK}  # misc["vals"]
    assert domain.new_result() == {"status": STATUS_NEW}
    assert domain.loss({"loss": 1.5, "status": "ok"}) == 1.5
    assert domain.true_loss({"loss": 1.5, "true_loss": 2.0, "status": "ok"}) == 2.0
    assert domain.status({"status": "fail"}) == "fail"


def test_domain_evaluate_applies_hyperopts_result_rules_and_moves_attachments_to_ctrl():
    trials = Trials()
    ctrl = Ctrl(trials, {"tid": 5})
    domain = Domain(lambda p: {"loss": p, "status": "ok", "attachments": {"model": b"abc"}}, hp.uniform("x", 0, 1))
    assert domain.evaluate({"x": 0.5}, ctrl) == {"loss": 0.5, "status": "ok"}
    assert ctrl.attachments == {"model": b"abc"}
    with pytest.raises(InvalidResultStatus, match="'done'"):
        Domain(lambda p: {"loss": 1, "status": "done"}, hp.uniform("x", 0, 1)).evaluate({"x": 0.5}, None)
    with pytest.raises(InvalidLoss, match="nan"):
        Domain(lambda p: float("nan"), hp.uniform("x", 0, 1)).evaluate({"x": 0.5}, None)


def test_domain_with_pass_expr_memo_ctrl_objective():
    @fmin_pass_expr_memo_ctrl
    def objective(expr, memo, ctrl):
        return memo["x"] + (0 if ctrl is None else 1)

    domain = Domain(objective, hp.uniform("x", 0, 1))
    assert domain.pass_expr_memo_ctrl
    assert domain.evaluate({"x": 0.25}, None) == {"loss": 0.25, "status": "ok"}


def test_bad_space_fails_when_the_domain_is_made():
    with pytest.raises(sparktune.DuplicateLabel, match="'x'"):
        Domain(lambda p: 0, [hp.uniform("x", 0, 1), hp.normal("x", 0, 1)])


def test_trials_from_docs_rebuilds_a_store():
    trials = Trials()
    fmin(
        lambda p: p["x"] ** 2,
        {"x": hp.uniform("x", -1, 1)},
        algo=rand.suggest,
        max_evals=6,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    copy = trials_from_docs(trials.trials)
    assert isinstance(copy, Trials)
    assert copy.losses() == trials.losses()
    assert copy.vals == trials.vals
    assert copy.argmin == trials.argmin


def test_partial_keeps_the_pass_expr_memo_ctrl_mark_and_works_as_algo():
    @fmin_pass_expr_memo_ctrl
    def objective(expr, memo, ctrl, offset):
        return memo["x"] + offset

    bound = partial(objective, offset=1.0)
    assert isinstance(bound, functools.partial) and bound.fmin_pass_expr_memo_ctrl is True
    best = fmin(
        bound,
        hp.uniform("x", 0, 1),
        algo=partial(tpe.suggest, n_startup_jobs=3),
        max_evals=5,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert 0 <= best["x"] <= 1


def test_hyperopt_base_names_resolve_to_the_same_objects():
    import sparktune.base as base

    assert base.Trials is Trials and base.Ctrl is Ctrl and base.Domain is Domain
    assert base.trials_from_docs is trials_from_docs
    assert base.DuplicateLabel is sparktune.DuplicateLabel and base.InvalidLoss is sparktune.InvalidLoss
    assert base.spec_from_misc({"tid": 0, "vals": {"a": [3], "b": []}}) == {"a": 3}
    with pytest.raises(ValueError, match=r"'a' has 2 values"):
        base.spec_from_misc({"vals": {"a": [1, 2]}})
    with pytest.raises(AttributeError, match="no attribute 'FMinIter'"):
        base.FMinIter  # noqa: B018


def _run_python(code: str) -> None:
    """Run ``code`` in a fresh interpreter (imports start from nothing); it must succeed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_import_sparktune_leaves_scipy_for_the_algorithms_that_need_it():
    """tpe, anneal and mix (scipy) load on first use, and still resolve as attributes and in
    `from sparktune import ...`."""
    code = (
        "import sys, sparktune\n"
        "from sparktune import fmin, hp, Trials\n"
        "assert 'scipy' not in sys.modules, 'scipy imported by import sparktune'\n"
        "from sparktune import mix, anneal\n"
        "assert sparktune.tpe.suggest is sys.modules['sparktune.tpe'].suggest\n"
        "assert mix is sys.modules['sparktune.mix'] and anneal is sys.modules['sparktune.anneal']\n"
        "assert callable(sparktune.fmin)\n"
    )
    _run_python(code)


def test_the_spark_worker_module_imports_neither_numpy_nor_the_tuning_side():
    """A Spark Python worker imports sparktune.backends.spark_worker to run trials (32 workers
    start at once at parallelism 32): it loads what a trial needs, not numpy, the space or the
    loop, and still turns an objective's numpy loss into a float once the objective imports it."""
    code = (
        "import sys\n"
        "import sparktune.backends.spark_worker as w\n"
        "heavy = sorted(m for m in ('numpy', 'scipy', 'sparktune.fmin', 'sparktune._driver', "
        "'sparktune.hp', 'sparktune._space') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "from sparktune.backends._base import Task\n"
        "out = w.evaluate(lambda p: {'loss': 0.5, 'status': 'ok', 'n': 3}, None, Task(tid=1, params={}), 1)\n"
        "assert out.result == {'loss': 0.5, 'status': 'ok', 'n': 3}, out\n"
        "assert 'numpy' not in sys.modules\n"
        "import numpy as np\n"
        "out = w.evaluate(lambda p: {'loss': np.float32(0.25), 'status': 'ok', 'n': np.int64(3)}, None, "
        "Task(tid=2, params={}), 1)\n"
        "assert out.result == {'loss': 0.25, 'status': 'ok', 'n': 3}, out\n"
        "assert type(out.result['loss']) is float and type(out.result['n']) is int, out\n"
        "assert w.evaluate(lambda p: np.float64(1.5), None, Task(tid=3, params={}), 1).result['loss'] == 1.5\n"
    )
    _run_python(code)


def test_sparktune_fmin_stays_the_function_whichever_import_comes_first():
    """Names load on first use; importing the submodule sparktune.fmin first must not leave the
    module where hyperopt code expects the function (`sparktune.fmin(...)`)."""
    code = (
        "import sys\n"
        "from sparktune.fmin import generate_trials_to_calculate, partial\n"
        "import sparktune\n"
        "assert sparktune.fmin is sys.modules['sparktune.fmin'].fmin, sparktune.fmin\n"
        "import sparktune.fmin as f\n"
        "assert f is sparktune.fmin\n"
        "from sparktune import *\n"
        "best = fmin(lambda x: x ** 2, hp.uniform('x', -1, 1), algo=rand.suggest, max_evals=5, "
        "show_progressbar=False, rstate=np_rng)\n"
    ).replace("np_rng", "__import__('numpy').random.default_rng(0)")
    code += "assert set(best) == {'x'}, best\nassert 'fmin' in dir(sparktune) and 'SparkTrials' in dir(sparktune)\n"
    _run_python(code)
    with pytest.raises(AttributeError, match="no attribute 'FMinIter'"):
        sparktune.FMinIter  # noqa: B018


def test_checking_an_objective_for_spark_handles_does_not_import_the_connect_client():
    """The check looks for classes of modules already imported: on a classic session it must
    not pay for importing pyspark's Connect client (grpc, protobuf; ~0.35 s)."""
    pytest.importorskip("pyspark")
    code = (
        "import sys\n"
        "import pyspark.sql\n"
        "from sparktune._spark_compat import spark_object_types\n"
        "names = {t.__name__ for t in spark_object_types()}\n"
        "assert names == {'SparkContext', 'SparkSession', 'DataFrame'}, names\n"
        "assert 'pyspark.sql.connect.session' not in sys.modules, 'the Connect client was imported'\n"
    )
    _run_python(code)
