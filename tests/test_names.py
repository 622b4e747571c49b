"""Issue 10 item 8: model and segment names reach the charts, whose library renders some HTML
(links among it), so a name with markup is refused at load, at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import load_scenario

from .conftest import SCENARIOS, make_scenario, odder_data

LINK = '<a href="https://evil.example">x</a>'


def scenario_with(tmp_path: Path, segment: str, model: str) -> Path:
    text = (SCENARIOS / "odder.yaml").read_text(encoding="utf-8")
    text = text.replace("  - name: low", f"  - name: '{segment}'")
    text = text.replace("  joint_meeting_only:", f"  '{model}':")
    text = text.replace("compare: [classic, joint]", f"compare: [classic, '{model}']")
    path = tmp_path / "names.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, x in enumerate(path.read_text().splitlines(), 1) if needle in x)


def test_markup_in_names_is_refused_at_its_position(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, f"low {LINK}", f"m{LINK}")
    result = CliRunner().invoke(
        app, ["run", str(path), "--reps", "2", "--out", str(tmp_path / "r"), "--no-report"]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()
    seg = f"{path}:{line_of(path, '- name:')}:11: segments.0.name: expected a name of letters"
    assert seg in result.output
    model_line = line_of(path, f"'m{LINK}':")
    assert f"{path}:{model_line}:3: models.m{LINK}: expected a name of letters" in result.output
    assert "found '<'" in result.output


@pytest.mark.parametrize("name", ["x<b>bold</b>", "x&#60;a", "x\nname", " leading", "a" * 81, ""])
def test_unsafe_names(name: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected a name"):
        make_scenario({"models": {name: {"extends": "joint"}}})
    segments = odder_data()["segments"]
    segments[0]["name"] = name
    with pytest.raises(ValidationError, match="expected a name"):
        make_scenario({"segments": segments})


def test_plain_names_in_any_language_load(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, "unge 18-25 år (ny)", "fælles_møde-2.0")
    sc = load_scenario(path)
    assert sc.segments[0].name == "unge 18-25 år (ny)"
    assert "fælles_møde-2.0" in sc.models
