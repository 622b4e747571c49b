"""Issue 10 item 10: every table's checksum is in the manifest; a damaged results folder is refused
in one line naming the file (exit 2), never reported from what is left of it."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

from .conftest import SCENARIOS

FAST = ["--reps", "2", "--set", "experiment.horizon_weeks=104",
        "--set", "experiment.warmup_weeks=26", "--jobs", "1"]  # fmt: skip
ODDER = str(SCENARIOS / "odder.yaml")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    code, output = cli("run", ODDER, *FAST, "--no-report", "--out", str(out))
    assert code == 0, output
    return out


def test_manifest_holds_a_checksum_of_every_table(run_folder: Path) -> None:
    sums = json.loads((run_folder / "manifest.json").read_text())["checksums"]
    tables = sorted(p.name for p in run_folder.iterdir() if p.suffix in (".csv", ".yaml"))
    assert sorted(sums) == tables
    assert len(tables) == 6  # five tables (settling.csv among them) and the resolved scenario
    for name, value in sums.items():
        assert value == sha(run_folder / name), name


def truncate(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = bytes(range(200, 216))
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "corrupted": corrupt,
    "deleted": delete,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize(
    "name",
    ["summary.csv", "differences.csv", "replications.csv", "timeseries.csv", "scenario.yaml"],
)
def test_a_damaged_table_is_refused_naming_it(
    run_folder: Path, tmp_path: Path, name: str, damage: str
) -> None:
    folder = Path(shutil.copytree(run_folder, tmp_path / "copy"))
    DAMAGE[damage](folder / name)
    for command in (["report", str(folder)], ["compare", str(folder), str(run_folder)]):
        code, output = cli(
            *command, *(["--out", str(tmp_path / "c.html")] * (command[0] == "compare"))
        )
        assert code == 2, output
        assert "Traceback" not in output
        lines = output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), output
        assert str(folder / name) in lines[0]
        assert ("missing" if damage == "deleted" else "damaged") in lines[0]
    assert not (folder / "report.en.html").exists() and not (tmp_path / "c.html").exists()


@pytest.mark.parametrize("damage", ["deleted", "truncated", "binary"])
def test_a_damaged_manifest_is_refused(run_folder: Path, tmp_path: Path, damage: str) -> None:
    folder = Path(shutil.copytree(run_folder, tmp_path / "copy"))
    path = folder / "manifest.json"
    if damage == "deleted":
        path.unlink()
    elif damage == "truncated":
        path.write_text(path.read_text()[:200])
    else:
        path.write_bytes(bytes(range(256)))
    code, output = cli("report", str(folder))
    assert code == 2 and "Traceback" not in output
    assert output.startswith(f"error: {path} is ") and len(output.strip().splitlines()) == 1


def test_an_older_folder_without_checksums_is_read_with_a_note(
    run_folder: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(run_folder, tmp_path / "old"))
    meta = json.loads((folder / "manifest.json").read_text())
    del meta["checksums"]
    (folder / "manifest.json").write_text(json.dumps(meta))
    code, output = cli("report", str(folder))
    assert code == 0, output
    assert "has no checksums" in output and (folder / "report.en.html").is_file()
    # ... but a binary table in it is still refused in one line.
    (folder / "summary.csv").write_bytes(bytes(range(128, 256)) * 4)
    code, output = cli("report", str(folder))
    assert code == 2 and f"{folder / 'summary.csv'} is damaged: not UTF-8" in output


def test_other_folders_record_checksums(tmp_path: Path) -> None:
    """explain, optimise and sweep folders: each table's sha256 in the manifest."""
    from .test_optimise import _write, two_stage

    grid = str(SCENARIOS / "sweeps" / "budget_and_demand.yaml")
    short = ["--set", "experiment.horizon_weeks=60", "--set", "experiment.warmup_weeks=10"]
    small = ["--set", "initial_caseload.in_support=20", "--set", "initial_caseload.waiting=5"]
    data = two_stage(rate=15, authority_hours=4, horizon=60)
    data["experiment"]["warmup_weeks"] = 10
    opt = str(_write(tmp_path, data))
    commands = {
        "explain": ["explain", ODDER, "--reps", "2", "--jobs", "1", *short, *small],
        "optimise": ["optimise", opt, "--reps", "2", "--confirm-reps", "2", "--jobs", "1"],
        "sweep": ["sweep", grid, "--reps", "2", "--jobs", "1", "--no-report", *short],
    }
    for kind, args in commands.items():
        out = tmp_path / kind
        code, output = cli(*args, "--out", str(out))
        assert code == 0, (kind, output)
        sums = json.loads((out / "manifest.json").read_text())["checksums"]
        tables = sorted(p.name for p in out.iterdir() if p.suffix == ".csv")
        assert tables and set(tables) <= set(sums), kind
        for name, value in sums.items():
            assert value == sha(out / name), (kind, name)
