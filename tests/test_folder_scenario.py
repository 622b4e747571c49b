"""A results folder's scenario.yaml is parsed once per process for its workbook and its report
(o2-load), and a changed file is read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config.loader import dump_resolved, load_scenario
from sim.present.report import load_scenario as report_scenario
from sim.present.workbook import scenario_sheet
from tests.conftest import count_parses

BASE = Path(__file__).resolve().parent / "data" / "odder-base.yaml"


def _folder(tmp_path: Path, description: str) -> Path:
    scenario = load_scenario(BASE).model_copy(update={"description": description})
    (tmp_path / "scenario.yaml").write_text(dump_resolved(scenario), encoding="utf-8")
    return tmp_path


def _sheet_value(folder: Path, key: str) -> object:
    sheet = scenario_sheet(folder, "en")
    assert sheet is not None
    keys, values = sheet.columns[1].values, sheet.columns[2].values
    return values[list(keys).index(key)]


def test_the_workbook_and_the_report_parse_the_folders_scenario_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, "parsed once")  # a text no other test has loaded
    started = count_parses(monkeypatch)
    assert _sheet_value(folder, "budget.annual_dkk") == 16_500_000
    assert report_scenario(folder).budget.annual_dkk == 16_500_000
    assert started == ["stream"]


def test_a_changed_scenario_file_is_read_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "changed")
    assert report_scenario(folder).description == "changed"
    path = folder / "scenario.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("annual_dkk: 16500000", "annual_dkk: 17000000"),
        encoding="utf-8",
    )
    assert _sheet_value(folder, "budget.annual_dkk") == 17_000_000
    assert report_scenario(folder).budget.annual_dkk == 17_000_000
