"""hyperopt's pyll graph use over sparktune spaces: dfs, pos_args, clone, rec_eval, stochastic.sample.

The first test is hyperopt's tutorial "Partial-sampling in hyperopt" with the import renamed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sparktune import fmin, hp, pyll, rand, space_eval, tpe
from sparktune.exceptions import InvalidTrial
from sparktune.pyll import scope


@pytest.mark.parametrize("algo", [rand.suggest, tpe.suggest])
def test_partial_sampling_tutorial(algo):
    space = hp.choice("a", [-1, hp.uniform("b", 0, 1)])
    best = fmin(fn=lambda x: x, space=space, algo=rand.suggest, max_evals=100, rstate=np.random.default_rng(0))
    assert best == {"a": 0}

    randint_node_nav = space.pos_args[0].pos_args[1]  # "navigation"
    randint_nodes = [node for node in pyll.dfs(space) if node.name == "randint"]  # "search"
    (randint_node_srch,) = randint_nodes
    assert randint_node_nav == randint_node_srch

    space_with_fixed_a = pyll.clone(space, memo={randint_node_nav: pyll.as_apply(1)})
    seen = []
    best = fmin(
        fn=lambda x: seen.append(x) or x,
        space=space_with_fixed_a,
        algo=algo,  # hyperopt's TPE raises KeyError('asarray') here; sparktune's runs
        max_evals=40,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert all(0 <= x <= 1 for x in seen)  # always the second option: hp.uniform("b", 0, 1)
    assert set(best) == {"b"} and 0 <= best["b"] < 0.2
    assert space.options[0] == -1 and [n.name for n in pyll.dfs(space)][0] == "randint"  # original unchanged


SPACE = {
    "lr": hp.loguniform("lr", math.log(1e-4), math.log(1.0)),
    "layers": scope.int(hp.quniform("layers", 1, 4, 1)),
    "opt": hp.choice("opt", [{"name": "sgd", "momentum": hp.uniform("momentum", 0, 1)}, {"name": "adam"}]),
}


def test_dfs_lists_each_node_once_inputs_first_with_hyperopts_names():
    nodes = pyll.dfs(SPACE)
    assert [n.name for n in nodes] == [
        "loguniform", "hyperopt_param",
        "quniform", "hyperopt_param", "int",
        "randint", "hyperopt_param", "uniform", "hyperopt_param", "switch",
    ]  # fmt: skip
    for i, node in enumerate(nodes):
        for inp in node.inputs():
            if inp in nodes:
                assert nodes.index(inp) < i, (inp, node)
    labels = [n.arg["label"].obj for n in nodes if n.name == "hyperopt_param"]
    assert labels == ["lr", "layers", "opt", "momentum"]
    shared = hp.uniform("s", 0, 1)
    assert [n.name for n in pyll.dfs([shared, shared * 2])] == ["uniform", "hyperopt_param", "mul"]
    assert pyll.toposort(SPACE) == nodes


def test_distribution_nodes_carry_hyperopts_names_and_arguments():
    cases = [
        (hp.uniform("a", 0, 2), "uniform", [0.0, 2.0]),
        (hp.quniform("a", 0, 2, 0.5), "quniform", [0.0, 2.0, 0.5]),
        (hp.loguniform("a", -1, 1), "loguniform", [-1.0, 1.0]),
        (hp.qloguniform("a", -1, 1, 2), "qloguniform", [-1.0, 1.0, 2.0]),
        (hp.normal("a", 0, 2), "normal", [0.0, 2.0]),
        (hp.qlognormal("a", 0, 2, 3), "qlognormal", [0.0, 2.0, 3.0]),
        (hp.randint("a", 5), "randint", [5]),
        (hp.randint("a", 2, 5), "randint", [2, 5]),
        (hp.choice("a", ["x", "y", "z"]), "randint", [3]),
        (hp.pchoice("a", [(0.2, "x"), (0.8, "y")]), "categorical", [[0.2, 0.8]]),
    ]
    for expr, name, args in cases:
        (dist,) = [n for n in pyll.dfs(expr) if n.name not in ("hyperopt_param", "switch")]
        assert dist.name == name
        assert [lit.obj for lit in dist.pos_args] == args, name


def test_rec_eval_with_hyperopt_param_memo_matches_space_eval():
    params = {"lr": 0.01, "layers": 3.0, "opt": 0, "momentum": 0.9}
    memo = {node: params[node.arg["label"].obj] for node in pyll.dfs(SPACE) if node.name == "hyperopt_param"}
    expected = {"lr": 0.01, "layers": 3, "opt": {"name": "sgd", "momentum": 0.9}}
    assert pyll.rec_eval(pyll.as_apply(SPACE), memo=memo) == expected == space_eval(SPACE, params)
    assert pyll.rec_eval(SPACE, memo={"lr": 0.5, "layers": 1.0, "opt": 1}) == {
        "lr": 0.5,
        "layers": 1,
        "opt": {"name": "adam"},
    }
    assert pyll.rec_eval(scope.int(3.7) + 1) == 4  # no hyperparameters: plain evaluation


def test_rec_eval_names_a_missing_value_and_the_replacement():
    with pytest.raises(InvalidTrial, match=r"'lr'.*stochastic\.sample"):
        pyll.rec_eval(SPACE, memo={"layers": 1.0, "opt": 1})
    with pytest.raises(ValueError, match=r"memo=\.\.\."):
        pyll.rec_eval(SPACE, {"lr": 0.5})  # hyperopt's second positional is deepcopy_inputs


def test_clone_replaces_hyperparameters_subtrees_or_choices():
    (momentum,) = [n for n in pyll.dfs(SPACE) if n.name == "hyperopt_param" and n.arg["label"].obj == "momentum"]
    (opt,) = [n for n in pyll.dfs(SPACE) if n.name == "switch"]
    fixed = pyll.clone(SPACE, memo={momentum: 0.5})
    assert pyll.rec_eval(fixed, memo={"lr": 0.1, "layers": 2.0, "opt": 0})["opt"] == {"name": "sgd", "momentum": 0.5}
    fixed = pyll.clone(SPACE, memo={opt: "plain"})  # a choice node keyed as a whole: its value
    assert pyll.rec_eval(fixed, memo={"lr": 0.1, "layers": 2.0}) == {"lr": 0.1, "layers": 2, "opt": "plain"}
    widened = pyll.clone(SPACE, memo={"lr": hp.uniform("lr2", 0, 1)})  # a label, replaced by an expression
    assert [n.arg["label"].obj for n in pyll.dfs(widened) if n.name == "hyperopt_param"][0] == "lr2"
    copy = pyll.clone(SPACE)
    assert copy is not SPACE and copy.keys() == SPACE.keys()
    assert pyll.rec_eval(copy, memo={"lr": 1.0, "layers": 1.0, "opt": 1}) == {
        "lr": 1.0,
        "layers": 1,
        "opt": {"name": "adam"},
    }
    with pytest.raises(ValueError, match=r"\[0, 2\).*5.*'opt'"):
        pyll.clone(SPACE, memo={"opt": 5})
    with pytest.raises(TypeError, match="memo keys"):
        pyll.clone(SPACE, memo={3.5: 1})


def test_stochastic_sample_draws_plain_values_repeatably():
    a = pyll.stochastic.sample(SPACE, rng=np.random.default_rng(4))
    b = pyll.stochastic.sample(SPACE, rng=np.random.default_rng(4))
    assert a == b
    assert type(a["layers"]) is int and 1 <= a["layers"] <= 4 and 1e-4 <= a["lr"] <= 1.0
    assert a["opt"]["name"] in ("sgd", "adam")


def test_scope_define_if_new_and_define_info():
    @scope.define_info(o_len=2)
    def halves(x):
        return x / 2, x / 2

    def halves_again(x):
        return 0

    halves_again.__name__ = "halves"
    assert scope.define_if_new(halves_again) is halves_again
    assert pyll.rec_eval(scope.halves(3.0)) == (1.5, 1.5)  # the first definition stays
    scope.undefine("halves")
