"""Scenario loading: located errors, the CLI's validate/schema/init, --set overrides, dumping."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import (
    ScenarioError,
    apply_overrides,
    dump_resolved,
    load_scenario,
    load_scenario_text,
)
from tests.conftest import count_parses

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
INVALID = sorted((ROOT / "scenarios" / "invalid").glob("*.yaml"))
STARTER = ROOT / "sim" / "templates" / "starter.yaml"
ODDER = ROOT / "scenarios" / "odder.yaml"
BASE = ROOT / "tests" / "data" / "odder-base.yaml"
"""The tests' frozen Odder-like base: tests of the loader's messages do not move with the
shipped scenario's calibration."""

runner = CliRunner()


def _expectation(path: Path) -> tuple[str, int]:
    """The `# expect:` substring and `# line:` number written at the top of an invalid file."""
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    expect = re.match(r"# expect: (.+)$", head[0])
    line = re.match(r"# line: (\d+)$", head[1])
    assert expect and line, f"{path.name}: first lines must be '# expect: ...' and '# line: N'"
    return expect.group(1), int(line.group(1))


# --------------------------------------------------------------------------- invalid files


def test_there_are_enough_invalid_files() -> None:
    assert len(INVALID) >= 12
    assert (ROOT / "scenarios" / "invalid" / "bad_referrals.csv").is_file()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_is_reported_with_its_line(path: Path) -> None:
    expect, line = _expectation(path)
    result = runner.invoke(app, ["validate", str(path)])
    out = result.output
    assert result.exit_code == 2, out
    assert expect in out
    assert f"{path}:{line}:" in out
    assert "Traceback" not in out
    assert len(out.splitlines()) <= 40
    assert result.stdout == ""  # the error goes to stderr


def test_invalid_file_through_the_real_entry_point() -> None:
    path = ROOT / "scenarios" / "invalid" / "unknown_key.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "did you mean 'share'?" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_validate_many_files_exits_2_if_any_is_invalid() -> None:
    result = runner.invoke(app, ["validate", str(ODDER), str(INVALID[0])])
    assert result.exit_code == 2
    assert f"ok: {ODDER}" in result.stdout
    assert "1 of 2 files invalid" in result.stderr


# --------------------------------------------------------------------------- valid files


@pytest.mark.parametrize("path", [*SCENARIOS, STARTER], ids=lambda p: p.stem)
def test_shipped_scenarios_validate(path: Path) -> None:
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert re.match(rf"ok: {re.escape(str(path))} \(\d+ models: classic, joint", result.stdout)


def test_large_scenario_is_about_15_times_odder() -> None:
    odder, large = load_scenario(ODDER), load_scenario(ROOT / "scenarios" / "large.yaml")
    assert 12 < large.budget.annual_dkk / odder.budget.annual_dkk < 18
    assert 40 <= large.arrivals.rate_per_week <= 50
    assert large.experiment.replications == 10
    assert large.experiment.horizon_weeks == odder.experiment.horizon_weeks
    assert large.experiment.warmup_weeks == odder.experiment.warmup_weeks
    ratio = large.arrivals.rate_per_week / odder.arrivals.rate_per_week
    for key in ("in_support", "waiting"):  # the same steady state, scaled
        mine = getattr(large.initial_caseload, key) / getattr(odder.initial_caseload, key)
        assert mine == pytest.approx(ratio, rel=0.05), key


# --------------------------------------------------------------------------- error format


def _text() -> str:
    return BASE.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    """The 1-based number of the only line of ``text`` that contains ``needle``."""
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


def test_all_errors_of_a_file_are_reported_at_once() -> None:
    text = (
        _text()
        .replace("rate_per_week: 3.0", "rate_per_week: -3")
        .replace("replications: 30", "replications: many")
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "two.yaml", ODDER.parent)
    paths = [p.path for p in info.value.problems]
    assert paths == ["arrivals.rate_per_week", "experiment.replications"]
    report = info.value.format()
    line = _line_of(text, "rate_per_week: -3")
    head = f"two.yaml:{line}:18: arrivals.rate_per_week: Input should be greater than 0 (found -3)"
    assert head in report
    assert "expected a whole number, found the text 'many'" in report
    # each problem: the header, the source line, a caret under the column
    lines = report.splitlines()
    assert lines[1] == "      rate_per_week: -3"
    assert lines[2] == "    " + " " * 17 + "^"


def test_a_long_report_is_capped_to_one_screen() -> None:
    data = YAML(typ="rt").load(_text())
    for i in range(30):
        data[f"extra_{i}"] = i
    buf = __import__("io").StringIO()
    YAML(typ="rt").dump(data, buf)
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(buf.getvalue(), "many.yaml", ODDER.parent)
    assert len(info.value.problems) == 30
    report = info.value.format()
    assert len(report.splitlines()) <= 40
    assert "... and 18 more problems" in report


def test_union_tags_are_not_shown_and_bare_numbers_point_at_the_value() -> None:
    text = _text().replace(
        "need_hours_per_week: {kind: lognormal, mean: 2.5, sd: 1.2}", "need_hours_per_week: -2"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "x.yaml", ODDER.parent)
    (problem,) = info.value.problems
    assert problem.path == "segments.0.need_hours_per_week"
    assert (problem.line, problem.column) == (_line_of(text, "need_hours_per_week: -2"), 26)
    assert "(found -2)" in problem.message


def test_an_inherited_setting_error_points_at_the_model() -> None:
    text = _text().replace("      cadence_weeks: 52\n", "      cadence_weeks: -1\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "x.yaml", ODDER.parent)
    (problem,) = info.value.problems
    assert problem.path == "models.joint_meeting_only.review.cadence_weeks"
    assert problem.source_line is not None and "cadence_weeks: -1" in problem.source_line


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("", "empty document"),
        ("# only a comment\n", "empty document"),
        ("- a\n- b\n", "expected a mapping of scenario settings at the top level, found a list"),
        ("just text\n", "found the text 'just text'"),
    ],
)
def test_whole_document_problems_are_one_line(text: str, expect: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "doc.yaml", ".")
    report = info.value.format()
    assert report.startswith("doc.yaml:1:1: ")
    assert expect in report
    assert len(report.splitlines()) == 1


def test_missing_file_and_folder_are_one_line(tmp_path: Path) -> None:
    for path, expect in [(tmp_path / "nope.yaml", "file not found"), (tmp_path, "is a folder")]:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert info.value.format() == f"{path}: {expect}" or expect in info.value.format()
        assert len(info.value.format().splitlines()) == 1
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}: file not found"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\ndescription: K\xf8ge\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.format().startswith(f"{path}:2:1: expected UTF-8 text, found byte 0xf8")


# --------------------------------------------------------------------------- overrides


def test_set_overrides_values_lists_and_indices() -> None:
    scenario = load_scenario(
        ODDER,
        overrides=[
            "experiment.replications=5",
            "arrivals.monthly_factors=[1,1,1,1,1,1,1,1,1,1,1,1]",
            "segments.0.share=0.5",
            "segments.1.share=0.35",
            "models.hybrid={extends: joint, review: {cadence_weeks: 26}}",
            "compare=[classic, hybrid]",
        ],
    )
    assert scenario.experiment.replications == 5
    assert scenario.arrivals.monthly_factors == [1.0] * 12
    assert [s.share for s in scenario.segments] == [0.5, 0.35, 0.15]
    assert scenario.models["hybrid"].review.cadence_weeks == 26
    assert scenario.models["hybrid"].first_contact.joint is True
    assert scenario.compare == ["classic", "hybrid"]


def test_set_error_names_the_argument() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ODDER, overrides=["experiment.replications=-1"])
    assert info.value.format() == (
        "--set experiment.replications=-1: experiment.replications: "
        "Input should be greater than or equal to 2 (found -1)"
    )


@pytest.mark.parametrize(
    ("arg", "expect"),
    [
        ("experiment.replicatons=5", "unknown key 'replicatons' (did you mean 'replications'?)"),
        ("segments.9.share=0.5", "'segments' has 3 items; index 9 is out of range"),
        ("budget.annual_dkk.x=1", "'budget.annual_dkk' is 16500000, not a mapping or list"),
        ("replications", "expected KEY.PATH=VALUE"),
        ("arrivals.monthly_factors=[1, 2", "invalid YAML value"),
        ("arrivals.monthly_factors=[1, -2]", "arrivals.monthly_factors.1: Input should be"),
    ],
)
def test_set_errors(arg: str, expect: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, overrides=[arg])
    report = info.value.format()
    assert report.startswith(f"--set {arg}: ")
    assert expect in report


def test_set_that_breaks_a_rule_elsewhere_is_mentioned() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, overrides=["segments.0.share=0.9"])
    report = info.value.format()
    line = _line_of(_text(), "segments:")
    assert f"{BASE}:{line}:1: segments: segment shares must sum to 1" in report
    assert "(after --set segments.0.share=0.9)" in report


def test_apply_overrides_changes_plain_data() -> None:
    data = {"experiment": {"replications": 30}, "segments": [{"share": 1.0}]}
    out = apply_overrides(data, ["experiment.replications=5", "segments.0.share=.5", "a.b=x"])
    assert out is data
    assert data == {
        "experiment": {"replications": 5},
        "segments": [{"share": 0.5}],
        "a": {"b": "x"},
    }


# --------------------------------------------------------------------------- dump_resolved


@pytest.mark.parametrize("path", [*SCENARIOS, STARTER], ids=lambda p: p.stem)
def test_dump_resolved_round_trips(path: Path) -> None:
    scenario = load_scenario(path)
    text = dump_resolved(scenario)
    again = load_scenario_text(text, "resolved.yaml", path.parent)
    assert again == scenario
    assert dump_resolved(again) == text
    # every default is written out, and user models are complete
    data = YAML(typ="safe").load(text)
    assert "experiment" in data and "seed" in data["experiment"]
    for model in data.get("models", {}).values():
        assert {"first_contact", "decision", "handoff", "review"} <= set(model)


# --------------------------------------------------------------------------- sim schema


def _schema() -> dict:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_schema_is_valid_json_schema_and_accepts_shipped_scenarios() -> None:
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in [*SCENARIOS, STARTER]:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_schema_accepts_bare_numbers_and_partial_models() -> None:
    schema = _schema()
    text = (
        _text()
        .replace("goals: {kind: empirical, values: [1, 2, 3]}", "goals: 2")
        .replace(
            "  joint_meeting_only:\n",
            "  slow_committee:\n    decision:\n"
            "      committee_cadence_weeks: 4\n  joint_meeting_only:\n",
        )
    )
    load_scenario_text(text, "x.yaml", ODDER.parent)  # pydantic accepts it ...
    data = YAML(typ="rt").load(text)
    jsonschema.validate(
        data, schema, cls=jsonschema.Draft202012Validator
    )  # ... and so does the schema


@pytest.mark.parametrize("name", ["unknown_key", "negative_budget", "unknown_kind", "missing_key"])
def test_schema_rejects_what_the_loader_rejects(name: str) -> None:
    data = YAML(typ="rt").load((ROOT / "scenarios" / "invalid" / f"{name}.yaml").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _schema(), cls=jsonschema.Draft202012Validator)


def test_schema_out_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "scenario.schema.json"
    result = runner.invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["title"] == "sim scenario"


# --------------------------------------------------------------------------- sim init, --version


def test_init_writes_a_valid_scenario_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    load_scenario(path)
    assert path.read_text().startswith("#")  # commented

    path.write_text("edited: true\n")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert path.read_text() == "edited: true\n"

    result = runner.invoke(app, ["init", str(path), "--force"])
    assert result.exit_code == 0
    load_scenario(path)


def test_init_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0
    assert (tmp_path / "scenario.yaml").is_file()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("sim ")


def test_cli_and_loader_import_no_heavy_modules() -> None:
    code = (
        "import sys, sim.cli, sim.config.loader; "
        "heavy = [m for m in ('numpy', 'simpy', 'plotly', 'polars') if m in sys.modules]; "
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_readme_scenario_example_validates() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Scenario files") :]
    example = section[
        section.index("```yaml\n") + 8 : section.index("\n```", section.index("```yaml"))
    ]
    scenario = load_scenario_text(example, "README.md", ROOT)
    assert scenario.compare == ["classic", "joint", "joint_meeting_only"]


# o2-load: a scenario file's text is parsed once (the screen sees the loader's own events).


def test_a_scenario_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    started = count_parses(monkeypatch)
    load_scenario(BASE)
    assert started == ["stream"]


def test_a_refused_tag_deep_in_a_file_is_located_after_one_parse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = BASE.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("  annual_dkk:"))
    text[row] = text[row].replace("annual_dkk: ", "annual_dkk: !!float ")
    path = tmp_path / "tagged.yaml"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    started = count_parses(monkeypatch)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert started == ["stream"]
    problem = caught.value.problems[0]
    column = text[row].index("!!float") + 1
    assert (problem.file, problem.line, problem.column) == (str(path), row + 1, column)
    assert "YAML tags are not allowed, found '!!float'" in problem.message
