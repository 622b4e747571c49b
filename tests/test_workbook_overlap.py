"""o2-load: tables.xlsx written by an idle worker while this process writes the report, with the
same cells as when written here, its failures raised here, and nothing still writing into a folder
that a failure removes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from sim.app.run import overlapped_workbook
from sim.cli import app
from sim.present.workbook import write_workbook
from sim.run.workers import WorkerPool

BASE = Path(__file__).resolve().parent / "data" / "odder-base.yaml"
SHORT = ["--set", "experiment.horizon_weeks=104", "--set", "experiment.warmup_weeks=26"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run's folder without its workbook."""
    out = tmp_path_factory.mktemp("overlap") / "run"
    args = ["run", str(BASE), "--reps", "2", *SHORT, "--no-report", "--jobs", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    (out / "tables.xlsx").unlink()
    return out


def _copy(folder: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(folder, tmp_path / name))


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _pids(seen: list[int]) -> Callable[[Path], None]:
    """A writer (standing for the report's) that records the process it ran in."""

    def write(folder: Path) -> None:
        seen.append(os.getpid())

    return write


def test_an_idle_workers_workbook_has_the_same_cells(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = _copy(folder, tmp_path, "here"), _copy(folder, tmp_path, "there")
    write_workbook(here, "da")

    def not_here(*_: object) -> None:
        raise AssertionError("the workbook was written in this process")

    monkeypatch.setattr("sim.present.workbook.write_workbook", not_here)  # not in the worker
    ran: list[int] = []
    with WorkerPool(2) as pool:
        overlapped_workbook("da", pool, True, lambda: False, [_pids(ran)])(there)
    assert ran == [os.getpid()]  # the report's writers still run in this process
    assert _cells(there / "tables.xlsx") == _cells(here / "tables.xlsx")
    assert sorted(p.name for p in there.iterdir()) == sorted(p.name for p in here.iterdir())


def test_with_a_screen_queued_the_workbook_is_written_here_first(
    folder: Path, tmp_path: Path
) -> None:
    there = _copy(folder, tmp_path, "busy")
    present: list[bool] = []
    with WorkerPool(2) as pool:
        overlapped_workbook(
            "en",
            pool,
            True,
            lambda: True,
            [lambda f: present.append((f / "tables.xlsx").is_file())],
        )(there)
    assert present == [True]


def test_a_workers_failure_is_raised_here_after_the_report(folder: Path, tmp_path: Path) -> None:
    there = _copy(folder, tmp_path, "broken")
    (there / "summary.csv").unlink()  # the workbook cannot be built
    ran: list[int] = []
    with WorkerPool(2) as pool, pytest.raises(FileNotFoundError, match=r"summary\.csv"):
        overlapped_workbook("en", pool, True, lambda: False, [_pids(ran)])(there)
    assert ran == [os.getpid()]
    assert not any(p.name.endswith(".tmp") for p in there.iterdir())


def test_a_failure_here_waits_for_the_worker_before_it_is_raised(
    folder: Path, tmp_path: Path
) -> None:
    there = _copy(folder, tmp_path, "failing")

    def fail(_: Path) -> None:
        raise RuntimeError("the report failed")

    with WorkerPool(2) as pool:
        with pytest.raises(RuntimeError, match="the report failed"):
            overlapped_workbook("en", pool, True, lambda: False, [fail])(there)
        # raised only once the worker is done: nothing writes into the folder any more
        before = {p.name: p.stat().st_size for p in there.iterdir()}
    assert "tables.xlsx" in before and ".tables.xlsx.tmp" not in before
    assert {p.name: p.stat().st_size for p in there.iterdir()} == before
