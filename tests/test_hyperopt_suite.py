"""hyperopt 0.3's own unit tests, run against sparktune with the import renamed.

The tests are not copied into this repository. They are read, as text, from the installed
hyperopt 0.3.0 (the ``test`` extra pins it; its wheel ships ``hyperopt/tests/unit/``; hyperopt is
not imported). When hyperopt 0.3.0 is not installed, the wheel is downloaded from the package index
(``pip download``) and the test is marked ``network``. Each module has the word ``hyperopt``
replaced by ``sparktune`` (the one change a user makes) and runs with pytest in a subprocess; the
number of tests that pass is checked, so a module whose tests are all skipped fails here.

When neither source works the test skips, or fails when the environment variable ``CI`` is set
(a CI run must not pass without checking the compatibility claim).

Modules run (``MODULES``): ``test_fmin``, ``test_randint``, ``test_pchoice``, ``test_webpage``
(the example on hyperopt's home page: a ``choice`` of tuples with ``lognormal`` arithmetic,
``tpe``, ``space_eval``), ``test_plotting`` (``sparktune.plotting``, hyperopt's ``main_plot_*``;
it takes its space from ``test_domains.many_dists``, which needs only ``Domain(fn, expr).expr``)
and ``test_progress`` (``sparktune.progress.tqdm_progress_callback``, hyperopt's progress
context manager).

The other modules of ``hyperopt/tests/unit/`` cannot apply, because they test hyperopt's internals
rather than its public API:

- ``test_domains``, ``test_anneal``, ``test_rand``, ``test_tpe``: their cases are hyperopt
  ``Domain`` objects whose whole objective is a pyll graph, scored through ``Domain`` internals
  (``loss_target``, ``evaluate``), pyll functions sparktune does not define (``scope.cos``...), and
  ``hyperopt.tests.test_base.Suggest_API``; ``test_tpe`` also tests hyperopt's own kernel functions
  (``GMM1``, ``LGMM1``, ``adaptive_parzen_normal_orig``) and ATPE.
- ``test_atpe_basic``: ATPE (``hyperopt.atpe``, built on lightgbm) is not part of sparktune.
- ``test_criteria`` (``hyperopt.criteria``: EI and UCB formulas), ``test_rdists``
  (``hyperopt.rdists``: scipy distribution classes), ``test_utils`` (``hyperopt.utils``: file and
  array helpers), ``test_pyll_utils`` and ``test_vectorize`` (pyll graph internals:
  ``expr_to_config``, ``VectorizeHelper``, ``clone``, ``dfs``): no public counterpart.
- ``test_ipy``: ``IPythonTrials`` (an IPython.parallel cluster) is not part of sparktune (the module
  skips itself when IPython.parallel is absent, under hyperopt too).
- ``hyperopt/tests/test_base.py`` (outside ``unit/``) imports ``bson`` (MongoDB) and tests trial
  document internals (``SONify``, ``Ctrl``, ``miscs_to_idxs_vals``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

VERSION = "0.3.0"
#: module -> number of its tests that must pass
MODULES = {
    "test_fmin": 19,
    "test_randint": 6,
    "test_pchoice": 9,
    "test_webpage": 1,
    "test_plotting": 3,
    "test_progress": 1,
}
#: modules the ones above import (relative imports), copied along
HELPERS = ("test_domains",)
#: every module of hyperopt 0.3.0's tests/unit/: the docstring says why the others cannot apply
NOT_APPLICABLE = (
    "test_anneal",
    "test_atpe_basic",
    "test_criteria",
    "test_domains",
    "test_ipy",
    "test_pyll_utils",
    "test_rand",
    "test_rdists",
    "test_tpe",
    "test_utils",
    "test_vectorize",
)
ROOT = Path(__file__).resolve().parents[1]


def _installed_unit_dir() -> Path | None:
    """``hyperopt/tests/unit`` of an installed hyperopt 0.3.0 (found without importing hyperopt)."""
    try:
        if importlib.metadata.version("hyperopt") != VERSION:
            return None
        spec = importlib.util.find_spec("hyperopt")
    except (importlib.metadata.PackageNotFoundError, ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    unit = Path(next(iter(spec.submodule_search_locations))) / "tests" / "unit"
    return unit if (unit / "test_fmin.py").is_file() else None


INSTALLED = _installed_unit_dir()
# Offline when hyperopt 0.3.0 is installed; otherwise the wheel comes from the package index.
pytestmark = [] if INSTALLED is not None else [pytest.mark.network]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and hyperopt's tests are unavailable: {reason}")
    pytest.skip(reason)


def _sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Module name -> source text of every module in hyperopt 0.3.0's ``tests/unit``."""
    if INSTALLED is not None:
        return {p.stem: p.read_text(encoding="utf-8") for p in INSTALLED.glob("test_*.py")}
    dl = tmp_path_factory.mktemp("wheel")
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"hyperopt=={VERSION}", "-d", str(dl)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    wheels = list(dl.glob("hyperopt-*.whl"))
    if got.returncode != 0 or not wheels:
        _unavailable(
            f"hyperopt {VERSION} is not installed and its wheel could not be downloaded: {got.stderr.strip()[-300:]}"
        )
    prefix = "hyperopt/tests/unit/"
    with zipfile.ZipFile(wheels[0]) as zf:
        return {
            name[len(prefix) : -3]: zf.read(name).decode("utf-8")
            for name in zf.namelist()
            if name.startswith(prefix + "test_") and name.endswith(".py")
        }


@pytest.fixture(scope="module")
def renamed_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package holding hyperopt's test modules with ``hyperopt`` replaced by ``sparktune``."""
    sources = _sources(tmp_path_factory)
    assert set(sources) == set(MODULES) | set(NOT_APPLICABLE), "hyperopt's tests/unit changed"
    root = tmp_path_factory.mktemp("suite")
    package = root / "hyperopt_unit_renamed"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in (*MODULES, *HELPERS):
        (package / f"{name}.py").write_text(sources[name].replace("hyperopt", "sparktune"), encoding="utf-8")
    return package


def _run(package: Path, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(package.parent)]
        + [str(package / f"{module}.py")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=package.parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(package.parent)])},
    )


def _assert_passed(out: subprocess.CompletedProcess[str], expected: int) -> None:
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert re.fullmatch(rf"{expected} passed in .*", summary), summary  # none failed, none skipped


@pytest.mark.parametrize("module", sorted(MODULES))
def test_hyperopt_unit_tests_pass_with_import_renamed(renamed_suite: Path, module: str) -> None:
    _assert_passed(_run(renamed_suite, module), MODULES[module])
