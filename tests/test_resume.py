"""Issue 10 item 11: ``sim sweep --resume --out DIR`` completes the sweep with the settings stored
in DIR, and refuses in one line options that contradict them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.app import sweep as sweep_mod
from sim.cli import app
from sim.store.sweep_folder import SWEEP_TABLES

from .test_sweep import write

ZIP = """sweep:
  mode: zip
  parameters:
    budget.annual_dkk: [14000000, 16000000, 18000000, 20000000]
    arrivals.rate_per_week: [2.5, 3.0, 3.5, 4.0]
"""


def sweep_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sweep", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The file says 4 replications; the sweep is run with --reps 2.
    return write(tmp_path_factory.mktemp("g"), ZIP, replications=4)


@pytest.fixture(scope="module")
def uninterrupted(grid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "s"
    code, output = sweep_cli(
        str(grid), "--reps", "2", "--jobs", "1", "--no-report", "--out", str(out)
    )
    assert code == 0, output
    return out


def interrupted(grid: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the sweep with --reps 2 and stop it (as Ctrl-C does) after two points are stored."""
    real = sweep_mod.write_point
    stored: list[str] = []

    def write_point(folder: Path, point: sweep_mod.Point, *args: object) -> None:
        if len(stored) == 2:
            raise KeyboardInterrupt
        real(folder, point, *args)  # type: ignore[arg-type]
        stored.append(point.point_id)

    monkeypatch.setattr(sweep_mod, "write_point", write_point)
    code, output = sweep_cli(
        str(grid), "--reps", "2", "--jobs", "1", "--no-report", "--out", str(out)
    )
    monkeypatch.undo()
    assert code == 130, output
    assert f"complete the sweep with: sim sweep {grid} --resume --out {out}" in output
    return output


def test_resume_without_options_uses_the_stored_ones(
    grid: Path, uninterrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s"
    interrupted(grid, out, monkeypatch)
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "interrupted" and meta["options"]["reps"] == 2
    # Exactly the command it printed:
    code, output = sweep_cli(str(grid), "--resume", "--out", str(out), "--no-report")
    assert code == 0, output
    assert "2 points already done, kept" in output
    for name in SWEEP_TABLES:
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), name
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "complete" and meta["replications"] == [2]


def test_resume_with_contradicting_options_is_refused(
    grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s"
    interrupted(grid, out, monkeypatch)
    before = sorted(p.name for p in (out / "points").iterdir())
    for options in (["--reps", "5"], ["--set", "experiment.seed=3"]):
        code, output = sweep_cli(str(grid), "--resume", "--out", str(out), *options)
        assert code == 2, output
        lines = output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in output
        assert lines[0].startswith(f"error: --resume: {' '.join(options)} contradicts the sweep")
        assert "made with --reps 2" in lines[0]
    assert sorted(p.name for p in (out / "points").iterdir()) == before
    # Repeating the stored options is no contradiction.
    code, output = sweep_cli(str(grid), "--resume", "--out", str(out), "--reps", "2", "--no-report")
    assert code == 0 and "2 points already done" in output


def test_resume_after_the_file_changed_is_refused(
    grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s"
    interrupted(grid, out, monkeypatch)
    changed = grid.parent / "changed.yaml"
    changed.write_text(grid.read_text().replace("seed: 11", "seed: 12"))
    code, output = sweep_cli(str(changed), "--resume", "--out", str(out))
    assert code == 2
    assert "the scenario files or sim version changed" in output and "4 of 4 points" in output
