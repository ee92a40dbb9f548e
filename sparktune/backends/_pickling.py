"""Pickling the objective for Spark executors, once per run, with errors that name the culprit.

``dumps_objective`` is cloudpickle with two checks: it refuses Spark handles (a SparkSession,
SparkContext or DataFrame is useless on an executor), and when pickling fails it names the
closure variable, global, default or bound instance that could not be pickled. The objective's
own module is shipped by value when executors cannot be expected to import it.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
import types
from typing import Any, Callable

import cloudpickle

from sparktune import _spark_compat as compat
from sparktune.exceptions import SparktuneError


class ObjectiveNotPicklable(SparktuneError, TypeError):
    """The objective (or something it references) cannot be pickled to ship it to executors."""


class SparkObjectInObjective(SparktuneError, TypeError):
    """The objective references a SparkSession/SparkContext/DataFrame but runs on executors."""


class _CheckingPickler(cloudpickle.Pickler):
    """cloudpickle, refusing Spark handles (they are useless, or worse, on an executor)."""

    _spark_types: tuple[type, ...] = ()

    def reducer_override(self, obj: Any) -> Any:
        if self._spark_types and isinstance(obj, self._spark_types):
            raise SparkObjectInObjective(
                f"the objective references a {type(obj).__module__}.{type(obj).__name__}, which "
                "cannot be used on a Spark executor. Objectives that use Spark (DataFrames, "
                "MLlib) must run with SparkTrials(run_on='driver'); for run_on='executors' pass "
                "plain data (e.g. df.toPandas() computed before fmin) instead"
            )
        return super().reducer_override(obj)


def _referenced(fn: Any) -> list[tuple[str, Any]]:
    """(description, object) pairs an objective drags along when pickled, for error messages."""
    found: list[tuple[str, Any]] = []
    if isinstance(fn, functools.partial):
        found += [(f"partial argument {i}", a) for i, a in enumerate(fn.args)]
        found += [(f"partial keyword {k!r}", v) for k, v in fn.keywords.items()]
        fn = fn.func
    if isinstance(fn, types.MethodType):
        found.append(("bound instance (self)", fn.__self__))
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None:
        return found + [("object", fn)]
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            found.append((f"closure variable {name!r}", cell.cell_contents))
        except ValueError:
            pass
    names: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    glb = getattr(fn, "__globals__", {})
    found += [(f"global {n!r}", glb[n]) for n in sorted(names) if n in glb]
    found += [(f"default argument {i}", d) for i, d in enumerate(getattr(fn, "__defaults__", None) or ())]
    return found


def dumps_objective(fn: Callable[..., Any], call: Any = None) -> bytes:
    """Pickle ``(fn, call)`` once for the run, with errors that name the offending object.

    Raises:
        SparkObjectInObjective: the objective holds a Spark session, context or DataFrame.
        ObjectiveNotPicklable: something it references cannot be pickled.
    """

    def dump(obj: Any) -> bytes:
        buf = io.BytesIO()
        pickler = _CheckingPickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
        pickler._spark_types = compat.spark_object_types()
        pickler.dump(obj)
        return buf.getvalue()

    by_value = _modules_to_ship(fn)
    for module in by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        return dump((fn, call))
    except SparkObjectInObjective:
        raise
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        culprit = ""
        for desc, obj in _referenced(fn):
            try:
                dump(obj)
            except SparkObjectInObjective as inner:
                raise SparkObjectInObjective(f"{desc} of the objective: {inner}") from exc
            except Exception:  # noqa: BLE001
                culprit = f" (the culprit is {desc}, a {type(obj).__module__}.{type(obj).__name__})"
                break
        name = getattr(fn, "__qualname__", type(fn).__name__)
        raise ObjectiveNotPicklable(
            f"the objective {name!r} cannot be pickled to send it to Spark executors{culprit}: "
            f"{type(exc).__name__}: {exc}. Create such objects inside the objective, or use "
            "SparkTrials(run_on='driver')"
        ) from exc
    finally:
        for module in by_value:
            cloudpickle.unregister_pickle_by_value(module)


def _modules_to_ship(fn: Any) -> list[types.ModuleType]:
    """The objective's own module, when executors cannot be expected to import it.

    cloudpickle pickles module-level functions by reference (module + name). That fails on
    executors for a module of the user's project that is not installed there (a script's
    helper module, a test module). Modules installed in site-packages, and sparktune itself,
    stay by reference.
    """
    target = fn.func if isinstance(fn, functools.partial) else fn
    target = getattr(target, "__func__", target)
    name = getattr(target, "__module__", None)
    if not name or name == "__main__" or name.split(".")[0] in ("sparktune", "pyspark"):
        return []
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None) or ""
    if module is None or not path or any(p in path for p in ("site-packages", "dist-packages")):
        return []
    return [module]


__all__ = ["ObjectiveNotPicklable", "SparkObjectInObjective", "dumps_objective"]
