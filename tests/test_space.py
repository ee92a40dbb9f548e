"""Compiled spaces: conditional labels, space_eval, values <-> rows."""

from __future__ import annotations

import numpy as np
import pytest

from sparktune import Trials, fmin, hp, rand, space_eval
from sparktune._space import compile_space
from sparktune.exceptions import InvalidTrial


def nested_space():
    return hp.choice(
        "model",
        [
            {
                "kind": "svm",
                "C": hp.loguniform("C", -3, 3),
                "kernel": hp.choice("kernel", ["rbf", {"poly": hp.randint("degree", 2, 5)}]),
            },
            {"kind": "tree", "depth": hp.uniformint("depth", 1, 10)},
        ],
    )


def test_conditions_and_active_mask():
    space = compile_space(nested_space())
    assert space.labels == ("C", "degree", "depth", "kernel", "model")
    X = np.array(
        [
            [0.5, 3, np.nan, 1, 0],  # svm + poly: C, degree, kernel, model
            [0.5, np.nan, np.nan, 0, 0],  # svm + rbf
            [np.nan, np.nan, 4, np.nan, 1],  # tree
        ]
    )
    mask = space.active_mask(X)
    assert mask.tolist() == [
        [True, True, False, True, True],
        [True, False, False, True, True],
        [False, False, True, False, True],
    ]


def test_prior_samples_leave_inactive_labels_nan():
    space = compile_space(nested_space())
    X = space.sample(np.random.default_rng(0), 500)
    mask = space.active_mask(X)
    assert np.array_equal(mask, ~np.isnan(X))
    assert mask[:, space.index["depth"]].any() and mask[:, space.index["degree"]].any()


def test_fmin_conditional_labels_absent_from_params_and_empty_in_vals():
    seen = []

    def objective(p):
        seen.append(p)
        return p["C"] if p["kind"] == "svm" else float(p["depth"])

    trials = Trials()
    fmin(
        objective,
        nested_space(),
        algo=rand.suggest,
        max_evals=40,
        trials=trials,
        rstate=np.random.default_rng(1),
        show_progressbar=False,
    )
    for p, doc in zip(seen, trials.trials):
        vals = doc["misc"]["vals"]
        assert set(vals) == {"C", "degree", "depth", "kernel", "model"}
        if p["kind"] == "tree":
            assert vals["C"] == [] and vals["kernel"] == [] and vals["degree"] == []
            assert vals["depth"] == [p["depth"]] and "C" not in p
        else:
            assert vals["depth"] == [] and "depth" not in p
            assert vals["C"] == [p["C"]]
            assert doc["misc"]["idxs"]["C"] == [doc["tid"]]
    assert any(p["kind"] == "tree" for p in seen) and any(p["kind"] == "svm" for p in seen)


def test_space_eval_maps_indices_back():
    space = hp.choice("a", [("case 1", 1 + hp.lognormal("c1", 0, 1)), ("case 2", hp.uniform("c2", -10, 10))])
    assert space_eval(space, {"a": 0, "c1": 1.0}) == ("case 1", 2.0)
    assert space_eval(space, {"a": 1, "c2": 3.5}) == ("case 2", 3.5)
    assert space_eval(space, {"a": [1], "c2": [3.5], "c1": []}) == ("case 2", 3.5)


def test_space_eval_missing_active_label():
    with pytest.raises(InvalidTrial, match="'c2'"):
        space_eval(hp.choice("a", [1, hp.uniform("c2", 0, 1)]), {"a": 1})


@pytest.mark.parametrize(
    "point, words",
    [
        ({"model": 5}, ["option index", "[0, 2)", "5"]),
        ({"model": 1}, ["no value", "depth"]),
        ({"model": 1, "depth": 3, "nope": 1}, ["'nope'", "not in the search space"]),
        ({"model": "tree"}, ["must be a number", "option index"]),
    ],
)
def test_bad_points_are_named(point, words):
    space = compile_space(nested_space())
    with pytest.raises(InvalidTrial) as info:
        space.vals_to_row(point)
    for w in words:
        assert w in str(info.value)


def test_row_to_vals_gives_plain_python_numbers():
    space = compile_space({"a": hp.randint("a", 3), "b": hp.uniform("b", 0, 1), "c": hp.uniformint("c", 0, 4)})
    vals = space.row_to_vals(np.array([2.0, 0.5, 3.0]))
    assert vals == {"a": 2, "b": 0.5, "c": 3}
    assert [type(vals[k]) for k in "abc"] == [int, float, int]
