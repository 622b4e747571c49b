"""Issue 12 point 3: the run headline names what carries the difference, says which of those
values are assumptions, and labels its CI as Monte Carlo only.

The screen's numbers are checked against runs made here independently (``run_experiment`` at
the input's low and high value with both models, on the scenario's own stream keys)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.model.provenance import uncertain_inputs, with_values
from sim.run.experiment import run_experiment
from sim.run.screen import one_way_screen, short_settings
from sim.store.uncertainty_tables import write_analysis
from tests import uncertainty_data as ud
from tests.conftest import SCENARIOS, make_scenario

CADENCE = "models.classic.review.cadence_weeks"  # sourced in the classic preset
SHORT_COURSE = "models.joint.routing.short_course_share"  # an assumption in the joint preset


def _helped_diff(sc, reps: int) -> np.ndarray:
    res = run_experiment(sc, models=("classic", "joint"), replications=reps)
    j = np.array(res.values("joint", "helped_per_year"))
    return j - np.array(res.values("classic", "helped_per_year"))


def test_screen_changes_equal_independent_paired_runs():
    sc = make_scenario(replications=2, horizon_weeks=130, warmup_weeks=26)
    chosen = [p for p in uncertain_inputs(sc) if p.path in (CADENCE, SHORT_COURSE)]
    assert len(chosen) == 2
    screen = one_way_screen(sc, chosen, model="joint", baseline="classic", reps=2)
    short = short_settings(sc, 2)
    base = _helped_diff(short, 2)
    assert screen.base_difference == pytest.approx(base.mean(), abs=1e-12)
    by = {c.path: c for c in screen.carriers}
    for p in chosen:
        lo = _helped_diff(with_values(short, {p.path: p.uncertain.low}), 2)
        hi = _helped_diff(with_values(short, {p.path: p.uncertain.high}), 2)
        assert by[p.path].low_change == pytest.approx((lo - base).mean(), abs=1e-9)
        assert by[p.path].high_change == pytest.approx((hi - base).mean(), abs=1e-9)
        assert by[p.path].assumption == (p.source is None)
    assert by[CADENCE].assumption is False and by[SHORT_COURSE].assumption is True
    order = sorted(by.values(), key=lambda c: -c.swing)
    assert [c.path for c in screen.carriers] == [c.path for c in order]
    assert screen.runs == 5 and screen.reps == 2


# --------------------------------------------------------------------------- through `sim run`


def _scenario_file(tmp: Path) -> Path:
    yaml = YAML(typ="rt")
    data = yaml.load((SCENARIOS / "odder.yaml").read_text(encoding="utf-8"))
    data["experiment"] = {"seed": 3, "replications": 2, "horizon_weeks": 130, "warmup_weeks": 26}
    path = tmp / "odder_short.yaml"
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    return path


def _headline(folder: Path, lang: str = "en") -> str:
    page = (folder / "report.html").read_text(encoding="utf-8")
    m = re.search(r'<p class="headline">(.*?)</p>', page, re.S)
    assert m
    return html.unescape(m.group(1))


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("carriers")
    out = tmp / "run"
    args = ["run", str(_scenario_file(tmp)), "--out", str(out), "--jobs", "1"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return out, res.output


def test_run_headline_names_the_top_carriers_of_the_screen(screened):
    out, console = screened
    data = json.loads((out / "carriers.json").read_text())
    top = [c for c in data["carriers"] if max(abs(c["low_change"]), abs(c["high_change"])) > 0][:3]
    headline = _headline(out)
    from sim.present.uncertainty_report import input_label

    positions = [headline.index(input_label(c["path"], "en")) for c in top]
    assert positions == sorted(positions)  # named in order of effect
    assert headline.index("What carries the difference") > headline.index("Monte Carlo only")
    assumed = [input_label(c["path"], "en") for c in top if c["assumption"]]
    assert assumed  # the joint preset's course share and accuracy are assumptions
    joined = assumed[0] if len(assumed) == 1 else f"{', '.join(assumed[:-1])} and {assumed[-1]}"
    assert f"The scenario's values for {joined} are assumptions, not sourced figures." in headline
    for c in top:
        kind = "an assumption" if c["assumption"] else "sourced"
        assert re.search(
            re.escape(input_label(c["path"], "en")) + r" \([^)]*, " + kind + r"\)", headline
        )
    assert f"{data['runs']} extra runs of 2 replications" in headline
    assert "What carries the difference" in console and "One-way screen" in console


def test_headline_ci_is_labelled_monte_carlo_only_in_both_languages(screened):
    out, _ = screened
    from sim.present.report import headline

    assert "95 % CI, Monte Carlo only" in headline(out, "en")
    assert "95 %-KI, kun Monte Carlo-støj" in headline(out, "da")
    assert "Det, der bærer forskellen" in headline(out, "da")


def test_no_screen_writes_no_carriers(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(
        app, ["run", str(_scenario_file(tmp_path)), "--out", str(out), "--no-screen"]
    )
    assert res.exit_code == 0, res.output
    assert not (out / "carriers.json").exists()
    assert "What carries" not in _headline(out)


def test_carriers_from_a_stored_uncertainty_run(tmp_path):
    unc = ud.make_folder(tmp_path / "unc")
    write_analysis(unc)
    out = tmp_path / "run"
    args = ["run", str(_scenario_file(tmp_path)), "--out", str(out), "--uncertainty", str(unc)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "carriers.json").read_text())
    assert data["origin"] == "uncertainty" and data["runs"] == 0
    headline = _headline(out)
    from sim.present.uncertainty_report import input_label

    assert input_label(ud.DEMAND, "en") in headline
    assert "From the uncertainty run unc." in headline
    # the demand moves the difference by SLOPE per referral a week: 2 -> 4 around base 3
    assert data["carriers"][0]["low_change"] == pytest.approx(-ud.SLOPE, abs=0.5)


def test_uncertainty_option_must_name_an_uncertainty_folder(tmp_path):
    out = tmp_path / "run"
    args = ["run", str(_scenario_file(tmp_path)), "--out", str(out), "--uncertainty", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "expected a folder written by `sim uncertainty`" in res.output
    assert not out.exists()


def test_sim_report_refuses_a_damaged_carriers_file(screened, tmp_path):
    import shutil

    folder = Path(shutil.copytree(screened[0], tmp_path / "copy"))
    path = folder / "carriers.json"
    path.write_bytes(path.read_bytes()[:-20])
    res = CliRunner().invoke(app, ["report", str(folder), "--lang", "da"])
    assert res.exit_code == 2
    assert "carriers.json is damaged" in res.output
    assert not (folder / "report.da.html").exists()


def test_sim_report_rebuilds_the_same_headline_from_the_folder(screened, tmp_path):
    import shutil

    folder = Path(shutil.copytree(screened[0], tmp_path / "again"))
    res = CliRunner().invoke(app, ["report", str(folder), "--lang", "en"])
    assert res.exit_code == 0, res.output
    rebuilt = (folder / "report.en.html").read_text(encoding="utf-8")
    m = re.search(r'<p class="headline">(.*?)</p>', rebuilt, re.S)
    assert m and html.unescape(m.group(1)) == _headline(screened[0])
