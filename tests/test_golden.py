"""Golden tables: moving code must not change a number.

Records the sha256 of every CSV that `sim run`, a small `sim sweep` and `sim explain` write for
fixed inputs. A refactor keeps them byte-identical; a change that is meant to move numbers updates
them on purpose (``SIM_UPDATE_GOLDEN=1 pytest tests/test_golden.py``) and says why in its commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
HASHES = GOLDEN / "hashes.json"
SHORT = ["--set", "experiment.horizon_weeks=364", "--set", "experiment.warmup_weeks=156"]
COMMANDS = {
    "run": ["run", str(ROOT / "scenarios" / "odder.yaml"), "--reps", "4", "--no-report"],
    "sweep": ["sweep", str(GOLDEN / "sweep.yaml"), "--reps", "2", "--no-report", *SHORT],
    "explain": [
        "explain",
        str(ROOT / "scenarios" / "odder.yaml"),
        "--sequential",
        "--reps",
        "3",
        *SHORT,
    ],
}


def _tables(folder: Path) -> dict[str, str]:
    """sha256 of every CSV below ``folder``, by path relative to it; the checkout's own path
    (a sweep's points.csv names its source file) is replaced by ``<root>``, so the hashes hold in
    any clone."""
    root = str(ROOT).encode()
    return {
        str(p.relative_to(folder)): hashlib.sha256(
            p.read_bytes().replace(root, b"<root>")
        ).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_tables_match_the_golden_hashes(command: str, tmp_path: Path) -> None:
    out = tmp_path / command
    args = [*COMMANDS[command], "--jobs", "2", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    got = _tables(out)
    assert got, f"{command} wrote no CSV"
    stored = json.loads(HASHES.read_text()) if HASHES.exists() else {}
    if os.environ.get("SIM_UPDATE_GOLDEN") == "1":
        stored[command] = got
        HASHES.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        pytest.skip("golden hashes updated")
    assert got == stored.get(command), f"{command}: tables differ from tests/golden/hashes.json"
