"""``hyperopt.pyll.base`` names."""

from sparktune.pyll import (
    Apply,
    DistributionNode,
    Expr,
    HyperoptParamNode,
    Literal,
    Param,
    as_apply,
    clone,
    clone_merge,
    dfs,
    rec_eval,
    scope,
    toposort,
)

__all__ = [
    "Apply",
    "DistributionNode",
    "Expr",
    "HyperoptParamNode",
    "Literal",
    "Param",
    "as_apply",
    "clone",
    "clone_merge",
    "dfs",
    "rec_eval",
    "scope",
    "toposort",
]
