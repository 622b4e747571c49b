"""Sources and ranges of scenario numbers: the `provenance:` section, its checks and Range.ppf."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML
from scipy import stats

from sim.config.loader import ScenarioError, load_scenario, load_scenario_text
from sim.model.provenance import (
    PRESET_PROVENANCE,
    Range,
    provenance_of,
    uncertain_inputs,
    value_at,
    with_values,
)
from sim.model.scenario import Scenario, json_schema, preset_settings

ROOT = Path(__file__).resolve().parents[1]
ODDER = ROOT / "scenarios" / "odder.yaml"
RATE = float(YAML(typ="safe").load(ODDER.read_text(encoding="utf-8"))["arrivals"]["rate_per_week"])
"""Odder's referral rate (the lead may recalibrate it): ranges in the tests are set around it."""


@functools.cache
def _odder_text() -> str:
    """Odder's text without any provenance section of its own (the shipped file may have one)."""
    yaml = YAML()
    data = yaml.load(ODDER.read_text(encoding="utf-8"))
    data.pop("provenance", None)
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _odder_with(block: str) -> str:
    """Odder's text with ``block`` as its provenance section."""
    return _odder_text() + "\nprovenance:\n" + block


def _load(block: str, overrides: tuple[str, ...] = ()) -> Scenario:
    return load_scenario_text(_odder_with(block), "x.yaml", ODDER.parent, overrides)


def _problems(block: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(ScenarioError) as info:
        _load(block)
    return [(p.line or 0, p.column or 0, p.path, p.message) for p in info.value.problems]


def _line_of(block: str, needle: str) -> int:
    """The 1-based line of ``needle`` in Odder + block (computed from the text, not the code)."""
    lines = _odder_with(block).splitlines()
    return next(i + 1 for i, line in enumerate(lines) if needle in line)


# --------------------------------------------------------------------------- the schema


def test_schema_lists_the_provenance_section() -> None:
    schema = json_schema()
    assert "provenance" in schema["properties"]
    entry = schema["$defs"]["ProvenanceEntry"]["properties"]
    assert {"source", "assumption", "uncertain"} <= set(entry)


def test_a_valid_section_loads_and_overrides_the_preset_entry() -> None:
    block = (
        "  arrivals.rate_per_week:\n"
        "    source: 'KL Momentum 2016'\n"
        f"    uncertain: {{kind: uniform, low: {RATE - 0.5}, high: {RATE + 0.5}}}\n"
        "  models.joint.review.cadence_weeks:\n"
        "    source: 'Odder minutes (made up for the test)'\n"
    )
    scenario = _load(block)
    by_path = {p.path: p for p in provenance_of(scenario)}
    assert by_path["arrivals.rate_per_week"].uncertain == Range(
        "uniform", RATE - 0.5, None, RATE + 0.5, RATE
    )
    joint = by_path["models.joint.review.cadence_weeks"]
    assert joint.origin == "scenario" and joint.uncertain is None  # the file's entry wins
    assert joint.source and joint.assumption is None
    classic = by_path["models.classic.review.cadence_weeks"]
    assert classic.origin == "preset" and classic.value == 52.0
    paths = [p.path for p in uncertain_inputs(scenario)]
    assert "models.joint.review.cadence_weeks" not in paths
    assert "arrivals.rate_per_week" in paths


def test_every_preset_assumption_has_a_range_inside_the_preset_value() -> None:
    for preset, table in PRESET_PROVENANCE.items():
        data = preset_settings(preset)
        for rel, entry in table.items():
            assert ("source" in entry) != ("assumption" in entry), (preset, rel)
            if "assumption" in entry:
                assert "uncertain" in entry, (preset, rel)
            value = data
            for part in rel.split("."):
                value = value[part]
            if "uncertain" in entry:
                r = entry["uncertain"]
                assert r["low"] <= value <= r["high"], (preset, rel, value)


def test_a_preset_value_the_scenario_changes_loses_the_preset_entry() -> None:
    text = _odder_text()
    scenario = load_scenario_text(
        text, "x.yaml", ODDER.parent, ["models.joint.review.cadence_weeks=8"]
    )
    paths = {p.path for p in provenance_of(scenario)}
    assert "models.joint.review.cadence_weeks" not in paths
    assert "models.joint.accuracy.error_sd" in paths


# --------------------------------------------------------------------------- positioned errors


def test_neither_or_both_of_source_and_assumption_is_an_error_at_the_entry() -> None:
    block = "  budget.annual_dkk:\n    source: a\n    assumption: b\n"
    [(line, col, path, message)] = _problems(block)
    assert line == _line_of(block, "  budget.annual_dkk:") and col == 3
    assert path == "provenance.budget.annual_dkk"
    assert "exactly one of 'source' or 'assumption'" in message


def test_a_path_that_names_no_number_is_reported_with_a_suggestion() -> None:
    block = (
        "  exits.abandon_waiting_per_yeer:\n    assumption: x\n  staff.authority:\n    source: y\n"
    )
    problems = _problems(block)
    assert [(p[0], p[1]) for p in problems] == [
        (_line_of(block, "abandon_waiting_per_yeer"), 3),
        (_line_of(block, "  staff.authority:"), 3),
    ]
    assert "did you mean 'exits.abandon_waiting_per_year'" in problems[0][3]
    assert "names no number" in problems[1][3]  # a mapping, not a number


def test_a_range_without_the_value_is_reported_at_its_low_or_high() -> None:
    block = (
        "  models.joint.review.cadence_weeks:\n"
        "    assumption: x\n"
        "    uncertain: {kind: triangular, low: 14, mode: 15, high: 26}\n"
    )
    [(line, col, path, message)] = _problems(block)
    source = _odder_with(block).splitlines()[line - 1]
    assert source[col - 1 :].startswith("14")
    assert path.endswith("uncertain.low")
    assert "13" in message and "expected low <=" in message


def test_a_range_outside_the_fields_bounds_is_reported_like_a_set() -> None:
    block = (
        "  models.classic.accuracy.error_sd:\n"
        "    assumption: x\n"
        "    uncertain: {kind: uniform, low: -0.1, high: 0.5}\n"
        "  staffing.authority_fte:\n"
        "    source: y\n"
        "    uncertain: {kind: triangular, low: 2, mode: 2.5, high: 40}\n"
    )
    problems = _problems(block)
    assert len(problems) == 2
    lines = _odder_with(block).splitlines()
    (l1, c1, p1, m1), (l2, c2, p2, m2) = problems
    assert lines[l1 - 1][c1 - 1 :].startswith("-0.1") and p1.endswith("uncertain.low")
    assert "greater than or equal to 0" in m1
    assert lines[l2 - 1][c2 - 1 :].startswith("40") and p2.endswith("uncertain.high")
    assert "exceeds the budget" in m2  # a cross-field rule: the whole scenario was validated


def test_an_unordered_range_is_an_error_at_the_range() -> None:
    block = (
        "  staffing.authority_fte:\n"
        "    source: y\n"
        "    uncertain: {kind: triangular, low: 3, mode: 2, high: 4}\n"
    )
    [(line, _, path, message)] = _problems(block)
    assert line == _line_of(block, "mode: 2, high: 4")
    assert path == "provenance.staffing.authority_fte.uncertain"
    assert "low <= mode <= high" in message


def test_a_set_that_moves_the_value_out_of_its_range_is_allowed() -> None:
    block = (
        "  arrivals.rate_per_week:\n    source: a\n"
        f"    uncertain: {{kind: uniform, low: {RATE - 0.5}, high: {RATE + 0.5}}}\n"
    )
    scenario = _load(block, (f"arrivals.rate_per_week={RATE + 2}",))
    [p] = [p for p in uncertain_inputs(scenario) if p.path == "arrivals.rate_per_week"]
    assert p.value == RATE + 2 and p.uncertain is not None and p.uncertain.base == RATE + 2


def test_validate_exits_2_with_the_position(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(_odder_with("  arrivals.rate_per_wek:\n    source: a\n"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:{_line_of('  arrivals.rate_per_wek:', 'rate_per_wek:')}:3:" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- values and ranges


@pytest.mark.parametrize(
    ("low", "mode", "high"), [(0.0, 0.0, 1.0), (2.0, 3.0, 7.0), (13.0, 52.0, 52.0), (-1, 0.2, 5)]
)
def test_triangular_ppf_matches_scipy(low: float, mode: float, high: float) -> None:
    u = np.linspace(0.0, 1.0, 101)
    r = Range("triangular", low, mode, high, mode)
    expected = stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low).ppf(u)
    np.testing.assert_allclose(r.ppf(u), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (2.5, 3.5), (-4.0, 10.0)])
def test_uniform_ppf_matches_scipy(low: float, high: float) -> None:
    u = np.linspace(0.0, 1.0, 37)
    expected = stats.uniform(loc=low, scale=high - low).ppf(u)
    np.testing.assert_allclose(Range("uniform", low, None, high, low).ppf(u), expected, atol=1e-12)


def test_with_values_sets_paths_like_set_and_rounds_counts() -> None:
    scenario = load_scenario(ODDER)
    changed = with_values(
        scenario,
        {
            "arrivals.rate_per_week": 2.25,
            "models.joint.review.cadence_weeks": 20.0,
            "initial_caseload.waiting": 12.6,
        },
    )
    assert value_at(changed, "arrivals.rate_per_week") == 2.25
    assert changed.model("joint").review.cadence_weeks == 20.0
    assert changed.model("joint").accuracy.error_sd == 0.15  # the rest of the preset kept
    assert changed.model("classic").review.cadence_weeks == 52.0
    assert changed.initial_caseload.waiting == 13
    same = with_values(scenario, {"models.joint.review.cadence_weeks": 13.0})
    assert same.models == scenario.models  # a preset set to its own value is the preset


def test_a_set_of_a_triangular_mode_changes_only_the_mode() -> None:
    # `mode` is also staffing's discriminator: a number under it must merge, not replace.
    text = _odder_text()
    path = "models.joint.first_contact.coordination_weeks.mode"
    scenario = load_scenario_text(text, "x.yaml", ODDER.parent, [f"{path}=2"])
    d = scenario.model("joint").first_contact.coordination_weeks
    assert (d.kind, d.low, d.mode, d.high) == ("triangular", 0.0, 2.0, 3.0)  # type: ignore[union-attr]
    changed = with_values(load_scenario(ODDER), {path: 1.25})
    assert value_at(changed, path) == 1.25
    assert value_at(changed, "models.joint.first_contact.coordination_weeks.high") == 3.0


def test_every_preset_range_end_is_a_valid_value() -> None:
    scenario = load_scenario(ODDER)
    for p in uncertain_inputs(scenario):
        assert p.uncertain is not None
        for x in (p.uncertain.low, p.uncertain.high):
            assert value_at(with_values(scenario, {p.path: x}), p.path) == pytest.approx(x)
