"""The README's quick start: exactly two commands, and CI runs the second one verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = section.split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


def test_quick_start_has_a_run_and_a_test_command():
    run, test = quick_start_commands()
    assert run.endswith("sparktune demo") and "pip install" in run
    assert test.endswith("python -m pytest") and "pip install" in test


def test_ci_runs_the_readme_test_command():
    _, test = quick_start_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert test in ci_lines
