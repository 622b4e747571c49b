"""`--set models.<preset>.<key>=...` changes that preset, never classic (issue 9, item 1).

A user model that carries a preset's name starts from that preset, so setting a value to what it
already is changes nothing: checked on the resolved settings (every leaf of both presets) and on
the tables of every command (run, explain, sweep, optimise), byte for byte.

The rules are checked on the tests' frozen base (which sets no preset value); the shipped Odder,
which sets some of the presets' step hours itself, is checked against its own values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import load_scenario
from sim.model.scenario import PRESETS, VisitationModel, preset_settings

from .conftest import SCENARIOS, TEST_BASE, odder_data

ODDER = SCENARIOS / "odder.yaml"
SHORT = ["--set", "experiment.horizon_weeks=78", "--set", "experiment.warmup_weeks=13"]
NO_OP = "models.joint.review.cadence_weeks=13"  # the joint preset's own value
SMALL_CASELOAD = ["--set", "initial_caseload.in_support=20", "--set", "initial_caseload.waiting=5"]
"""Explain runs every hybrid of the eight mechanisms; a small starting caseload keeps that quick,
and a no-op override must leave the tables the same whatever the caseload."""


def _leaves(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """(dotted path, value) of every setting; a distribution (a mapping with a kind) is a leaf."""
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict) and "kind" not in value:
            out.extend(_leaves(value, path))
        else:
            out.append((".".join(path), value))
    return out


def _preset_leaves() -> list[tuple[str, str, Any]]:
    out = []
    for preset in PRESETS:
        settings = {k: v for k, v in preset_settings(preset).items() if k != "description"}
        out.extend((preset, path, value) for path, value in _leaves(settings))
    return out


@pytest.mark.parametrize(("preset", "path", "value"), _preset_leaves())
def test_setting_a_preset_value_to_itself_changes_nothing(
    preset: str, path: str, value: Any
) -> None:
    arg = f"models.{preset}.{path}={json.dumps(value)}"
    changed = load_scenario(TEST_BASE, [arg])
    plain = load_scenario(TEST_BASE)
    assert plain.model(preset) == VisitationModel.model_validate(preset_settings(preset))
    assert changed.model(preset) == plain.model(preset), arg


def _value_at(model: VisitationModel, path: str) -> Any:
    """The plain value of ``model`` at the dotted ``path`` (a distribution as its mapping)."""
    value: Any = model
    for key in path.split("."):
        value = getattr(value, key)
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


@pytest.mark.parametrize(("preset", "path"), [(p, path) for p, path, _ in _preset_leaves()])
def test_setting_a_shipped_odder_model_value_to_its_own_value_changes_nothing(
    preset: str, path: str
) -> None:
    """The shipped Odder sets some step hours of its classic and joint models itself: setting any
    value to the file's own resolved value leaves the model as it was."""
    plain = load_scenario(ODDER)
    arg = f"models.{preset}.{path}={json.dumps(_value_at(plain.model(preset), path))}"
    assert load_scenario(ODDER, [arg]).model(preset) == plain.model(preset), arg


def test_setting_a_preset_value_changes_that_value_only() -> None:
    sc = load_scenario(TEST_BASE, ["models.joint.review.cadence_weeks=52"])
    expected = preset_settings("joint")
    expected["review"]["cadence_weeks"] = 52
    assert sc.model("joint") == VisitationModel.model_validate(expected)
    assert sc.model("joint").first_contact.joint  # still the joint model, not classic
    assert sc.model("classic") == load_scenario(TEST_BASE).model("classic")


def test_a_preset_named_model_may_still_extend_another_model() -> None:
    sc = load_scenario(TEST_BASE, ["models.joint={extends: classic, review: {cadence_weeks: 13}}"])
    assert not sc.model("joint").first_contact.joint
    assert sc.model("joint").review.cadence_weeks == 13
    # A model extending the changed preset sees the change on top of the preset.
    sc = load_scenario(
        TEST_BASE,
        ["models.joint.accuracy.error_sd=0.2", "models.x={extends: joint}", "compare=[x]"],
    )
    assert sc.model("x").accuracy.error_sd == 0.2 and sc.model("x").first_contact.joint


# --------------------------------------------------------------------------- every command


def _invoke(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _tables(folder: Path) -> dict[str, bytes]:
    tables = {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}
    assert tables, f"no tables in {folder}"
    return tables


def test_run_no_op_override_gives_the_same_tables(tmp_path: Path) -> None:
    base = ["run", str(ODDER), "--reps", "2", "--jobs", "1", "--no-report", *SHORT]
    _invoke([*base, "--out", str(tmp_path / "a")])
    _invoke([*base, "--set", NO_OP, "--out", str(tmp_path / "b")])
    assert _tables(tmp_path / "a") == _tables(tmp_path / "b")


def test_run_changing_a_preset_value_keeps_the_models_apart(tmp_path: Path) -> None:
    """The report in the issue: with 52-week joint reviews both models gave the same results."""
    args = ["run", str(ODDER), "--reps", "2", "--jobs", "1", "--no-report", *SHORT]
    _invoke([*args, "--set", "models.joint.review.cadence_weeks=52", "--out", str(tmp_path / "a")])
    reps = pl.read_csv(tmp_path / "a" / "replications.csv")
    wait = reps.filter(pl.col("metric") == "time_to_decision_mean_weeks")
    by_model = {
        m: wait.filter(pl.col("model") == m)["value"].to_list() for m in ("classic", "joint")
    }
    assert len(by_model["joint"]) == 2
    # The joint first meeting has no committee and no assessment delay: decisions come sooner.
    assert max(by_model["joint"]) < min(by_model["classic"])


def test_explain_no_op_override_gives_the_same_tables(tmp_path: Path) -> None:
    base = ["explain", str(ODDER), "--reps", "2", "--jobs", "1", *SHORT, *SMALL_CASELOAD]
    _invoke([*base, "--out", str(tmp_path / "a")])
    _invoke([*base, "--set", NO_OP, "--out", str(tmp_path / "b")])
    assert _tables(tmp_path / "a") == _tables(tmp_path / "b")


def _small_sweep(tmp_path: Path) -> Path:
    data = odder_data()
    data["experiment"] = {"seed": 3, "replications": 2, "horizon_weeks": 78, "warmup_weeks": 13}
    data["sweep"] = {"parameters": {"budget.annual_dkk": [15000000, 17000000]}}
    data["staffing"] = {"mode": "share", "authority_share": 0.1}
    path = tmp_path / "sweep.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML(typ="safe").dump(data, fh)
    return path


def test_sweep_no_op_override_gives_the_same_tables(tmp_path: Path) -> None:
    path = _small_sweep(tmp_path)
    base = ["sweep", str(path), "--jobs", "1", "--no-report"]
    _invoke([*base, "--out", str(tmp_path / "a")])
    _invoke([*base, "--set", NO_OP, "--out", str(tmp_path / "b")])
    assert _tables(tmp_path / "a") == _tables(tmp_path / "b")


def test_optimise_no_op_override_gives_the_same_tables(tmp_path: Path) -> None:
    staffing = (
        "staffing={mode: optimise, min_authority_share: 0.08, max_authority_share: 0.16, "
        "coarse_step: 0.08, fine_step: 0.04, top_k: 1, confirm_replications: 2}"
    )
    base = ["optimise", str(ODDER), "--models", "joint", "--reps", "2", "--jobs", "1"]
    base += [*SHORT, "--set", staffing]
    _invoke([*base, "--out", str(tmp_path / "a")])
    _invoke([*base, "--set", NO_OP, "--out", str(tmp_path / "b")])
    assert _tables(tmp_path / "a") == _tables(tmp_path / "b")


def test_a_set_of_a_whole_model_moves_its_ranged_values_like_a_set_of_one_value() -> None:
    """The shipped Odder has uncertainty ranges for the joint model's hours; a --set may move a
    value out of its range on purpose, whether it names the value or a mapping above it."""
    one = load_scenario(ODDER, ["models.joint.review.meeting.provider_hours=0"])
    assert one.model("joint").review.meeting.provider_hours == 0
    review = "models.joint.review={meeting: {authority_hours: 1, provider_hours: 0}}"
    assert load_scenario(ODDER, [review]).model("joint").review.meeting.provider_hours == 0
    whole = load_scenario(ODDER, ["models.joint={extends: classic, review: {cadence_weeks: 13}}"])
    assert not whole.model("joint").first_contact.joint
    assert whole.model("joint").first_contact.meeting.provider_hours == 0
