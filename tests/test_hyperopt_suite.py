"""hyperopt 0.3's own unit tests for fmin, randint and pchoice, run against sparktune.

The tests are not copied into this repository: this test downloads the hyperopt wheel from PyPI
(pip's normal index), takes those three test modules, replaces the word ``hyperopt`` with
``sparktune`` (the one change a user makes) and runs them with pytest in a subprocess. It is
skipped when the wheel cannot be downloaded (no package index reachable).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MODULES = ("test_fmin", "test_randint", "test_pchoice")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def renamed_suite(tmp_path_factory):
    dl = tmp_path_factory.mktemp("wheel")
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "hyperopt==0.3.0", "-d", str(dl)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    wheels = list(dl.glob("hyperopt-*.whl"))
    if got.returncode != 0 or not wheels:
        pytest.skip(f"could not download the hyperopt wheel: {got.stderr.strip()[-300:]}")
    suite = tmp_path_factory.mktemp("suite")
    with zipfile.ZipFile(wheels[0]) as zf:
        for name in MODULES:
            text = zf.read(f"hyperopt/tests/unit/{name}.py").decode("utf-8")
            (suite / f"{name}_renamed.py").write_text(text.replace("hyperopt", "sparktune"))
    return suite


def test_hyperopt_unit_tests_pass_with_import_renamed(renamed_suite):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(renamed_suite),
            str(renamed_suite),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=renamed_suite,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and "failed" not in out.stdout.splitlines()[-1]
