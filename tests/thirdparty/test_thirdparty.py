"""Third-party hyperopt programs run under hyperopt and, renamed, under sparktune.

Each program in ``programs/`` must end the same way under both libraries (exit status 0), except
the documented differences in the table of ``README.md`` beside this file: a row there names the
program, the outcome expected under each library (``ok`` or ``fails: <text in stderr>``) and the
section of the project README that documents the difference. A row whose program now behaves
otherwise fails too, so the table cannot go stale.

The tests skip when hyperopt is not installed, except under CI (the environment variable ``CI``
set), where a missing hyperopt is a failure: ``pip install -e '.[test]'`` installs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

from . import runner

README = runner.HERE / "README.md"
PROJECT_README = runner.ROOT / "README.md"
ROW = re.compile(r"^\|\s*`?(\d\d_\w+\.py)`?\s*\|(.*)\|\s*$")


def expected_outcomes() -> dict[str, tuple[str, str, str]]:
    """The documented-differences table: program -> (hyperopt outcome, sparktune outcome, where documented)."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            cells = [c.strip() for c in m.group(2).split("|")]
            rows[m.group(1)] = (cells[0], cells[1], cells[-1])
    return rows


def _require_hyperopt() -> None:
    if importlib.util.find_spec("hyperopt") is None:
        msg = "hyperopt is not installed (pip install -e '.[test]' installs hyperopt==0.3.0)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _check(outcome: runner.Outcome, expected: str, program: str) -> str | None:
    """None when ``outcome`` is what ``expected`` (``ok`` / ``fails: TEXT``) says, else why not."""
    if expected == "ok":
        if outcome.ok:
            return None
        return f"{program} under {outcome.library}: {outcome.summary}\n{outcome.stderr_tail}"
    want = expected.removeprefix("fails:").strip().strip("`")
    if outcome.ok:
        return (
            f"{program} ran under {outcome.library}, but README.md expects it to fail with {want!r}: update the table"
        )
    if want not in outcome.stderr_tail:
        return f"{program} under {outcome.library} failed without {want!r}:\n{outcome.stderr_tail}"
    return None


def _params() -> list:
    params = []
    for path in runner.programs():
        marks = [pytest.mark.slow] + ([pytest.mark.spark] if runner.needs_spark(path) else [])
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("program", _params())
def test_program_ends_alike_under_hyperopt_and_sparktune(program: Path) -> None:
    _require_hyperopt()
    got = runner.run_both(program)
    hyperopt_expected, sparktune_expected, _ = expected_outcomes().get(program.name, ("ok", "ok", ""))
    problems = [
        _check(got["hyperopt"], hyperopt_expected, program.name),
        _check(got["sparktune"], sparktune_expected, program.name),
    ]
    problems = [p for p in problems if p]
    assert not problems, "\n\n".join(problems)


def test_the_corpus_has_at_least_25_programs_each_naming_its_source() -> None:
    paths = runner.programs()
    assert len(paths) >= 25, [p.name for p in paths]
    unsourced = [p.name for p in paths if not p.read_text(encoding="utf-8").startswith("# Source:")]
    assert not unsourced, f"programs without a '# Source:' header: {unsourced}"


def test_difference_table_names_real_programs_and_project_readme_sections() -> None:
    rows = expected_outcomes()
    names = {p.name for p in runner.programs()}
    headings = {
        line.lstrip("#").strip()
        for line in PROJECT_README.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    for program, (hyperopt_expected, sparktune_expected, where) in rows.items():
        assert program in names, f"README.md row for a missing program: {program}"
        for expected in (hyperopt_expected, sparktune_expected):
            assert expected == "ok" or expected.startswith("fails:"), f"{program}: bad outcome {expected!r}"
        section = where.split("§", 1)[-1].strip().strip('"')
        assert section in headings, f"{program}: no section {section!r} in the project README"
