"""What every benchmark's JSON records about the run: when, where and on which commit."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_meta() -> dict[str, Any]:
    """Date (UTC), Python, machine, ``git describe --dirty`` and the 1-minute load average."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "commit": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def report(rows: list[dict[str, Any]], table: str, json_path: str | None) -> None:
    """Print the run's meta and ``table``; write ``{"meta", "rows"}`` to ``json_path`` if given."""
    meta = run_meta()
    print(json.dumps(meta))
    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
