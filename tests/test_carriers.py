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
CADENCE_VALUE = 52.0  # the classic preset's review cadence, also the high end of its range


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
    # the base and three ends: the cadence's high end (52 weeks) is the preset's own value, so on
    # the same citizens it is the base and is not re-simulated (its change is exactly 0)
    assert chosen[[p.path for p in chosen].index(CADENCE)].uncertain.high == CADENCE_VALUE
    assert by[CADENCE].high_change == 0.0
    assert screen.runs == 4 and screen.reps == 2


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
    """A run whose screen is forced with ``--screen`` while the cap (0 times the run) would
    leave it out: ``--screen`` runs it whatever it costs."""
    from sim.run import screen

    tmp = tmp_path_factory.mktemp("carriers")
    out = tmp / "run"
    args = ["run", str(_scenario_file(tmp)), "--out", str(out), "--jobs", "1", "--screen"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(screen, "SCREEN_COST_MULTIPLE", 0.0)
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
    assert data["origin"] == "screen"  # forced past the cap
    wall = json.loads((out / "manifest.json").read_text())["wall_seconds"]
    digits = 0 if wall >= 10 else 1 if wall >= 1 else 2
    assert f"The run itself took {wall:,.{digits}f} s." in console


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


# --------------------------------------------------------------------------- s4-screen: the cap


def _screen_work(sc, reps: int = 2) -> tuple[int, int]:
    """(simulated runs, model-replication-weeks) of the screen of ``sc``, counted here from the
    scenario's ranges: the base (both models), then each end that differs from the scenario's
    value, with both models unless the input is one model's setting."""
    runs, models = 1, 2
    for p in uncertain_inputs(sc):
        r = p.uncertain
        if r.low == r.high:
            continue
        for end in (r.low, r.high):
            if end != p.value:
                runs += 1
                models += 1 if p.path.startswith(("models.classic.", "models.joint.")) else 2
    weeks = min(sc.experiment.horizon_weeks, sc.experiment.warmup_weeks + 104)
    return runs, models * reps * weeks


def test_the_cap_weighs_the_screens_work_against_the_runs():
    from sim.run.screen import SCREEN_WEEK_COST, plan_screen, too_costly

    sc = make_scenario(replications=30, horizon_weeks=676, warmup_weeks=156)
    plan = plan_screen(sc, uncertain_inputs(sc), model="joint", baseline="classic")
    runs, work = _screen_work(sc)
    assert plan.runs == runs and plan.model_weeks() == work
    run_work = 2 * 30 * 676
    ratio = work * SCREEN_WEEK_COST / run_work
    assert ratio < 1.5  # the frozen Odder base has fewer ranges than scenarios/odder.yaml
    assert too_costly(plan, ratio * 0.99) and not too_costly(plan, ratio * 1.01)
    few = make_scenario(replications=5, horizon_weeks=676, warmup_weeks=156)
    assert too_costly(plan_screen(few, uncertain_inputs(few), model="joint", baseline="classic"))


def test_auto_screen_is_left_out_when_it_costs_more_than_the_run_and_says_so(tmp_path, monkeypatch):
    """2 replications of 130 weeks: the screen would be ~30 times the run. It is not run (a run
    of it would fail here), and the headline and the console say why, what it would have moved
    and what to do instead."""
    from sim.present.report import headline
    from sim.present.uncertainty_report import input_label
    from sim.run import screen

    def must_not_run(*args, **kwargs):
        raise AssertionError("the screen ran although the cap should have left it out")

    monkeypatch.setattr(screen, "start_screen", must_not_run)
    scenario = _scenario_file(tmp_path)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "carriers.json").read_text())
    assert data["origin"] == "skipped" and data["carriers"] == []
    from sim.config.loader import load_scenario
    from sim.present.report import SKIPPED_NAMED

    sc = load_scenario(scenario)
    runs, work = _screen_work(sc)
    wall = json.loads((out / "manifest.json").read_text())["wall_seconds"]
    assert data["runs"] == runs and data["run_seconds"] == wall
    ratio = work * screen.SCREEN_WEEK_COST / (2 * 2 * 130)
    assert data["estimate_seconds"] == pytest.approx(wall * ratio, rel=1e-9)
    assumed = [p.path for p in uncertain_inputs(sc) if p.source is None]
    assert data["assumed"] == assumed and len(assumed) > SKIPPED_NAMED
    text = headline(out, "en")
    assert "What carries the difference was not screened" in text
    digits = 0 if wall >= 10 else 1 if wall >= 1 else 2
    assert f"more than 1.5 times the run ({wall:,.{digits}f} s)" in text
    assert f"It would have moved {len(assumed)} inputs whose values are assumptions" in text
    for path in assumed[:SKIPPED_NAMED]:
        assert input_label(path, "en") in text
    assert f"and {len(assumed) - SKIPPED_NAMED} more" in text
    todo = f"`sim uncertainty {scenario}`, then `sim run {scenario} --uncertainty DIR`"
    assert todo in text
    assert "force the screen with `--screen`" in text
    assert text in _headline(out) and "Monte Carlo only" in text
    flat = " ".join(res.output.split())
    assert "What carries the difference was not screened" in flat
    assert f"sim uncertainty {scenario}" in flat.replace("\n", "")
    da = headline(out, "da")
    assert "ikke screenet" in da and f"viser `sim uncertainty {scenario}` efterfulgt af" in da
    assert "gennemtving screeningen med `--screen`" in da
    rebuilt = CliRunner().invoke(app, ["report", str(out), "--lang", "da"])
    assert rebuilt.exit_code == 0, rebuilt.output
    page = html.unescape((out / "report.da.html").read_text(encoding="utf-8"))
    assert da in page  # `sim report` rebuilds the same sentence from carriers.json


def test_auto_screen_runs_when_the_cap_allows_it(tmp_path, monkeypatch):
    """The same run with a cap above its cost screens, and says what it cost against the run."""
    from sim.run import screen

    monkeypatch.setattr(screen, "SCREEN_COST_MULTIPLE", 1e9)
    seen = []
    real = screen.start_screen

    def counting(plan, *args, **kw):
        seen.append(plan.runs)
        return real(plan, *args, **kw)

    monkeypatch.setattr(screen, "start_screen", counting)
    small = [p for p in uncertain_inputs(make_scenario()) if p.path == SHORT_COURSE]
    monkeypatch.setattr("sim.model.provenance.uncertain_inputs", lambda sc: small)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(_scenario_file(tmp_path)), "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "carriers.json").read_text())
    assert seen == [3] and data["origin"] == "screen" and data["runs"] == 3
    assert [c["path"] for c in data["carriers"]] == [SHORT_COURSE]
    assert "One-way screen: 3 extra runs of 2 replications" in res.output


def test_no_screen_says_nothing_of_a_screen_even_when_it_would_be_cheap(tmp_path, monkeypatch):
    from sim.run import screen

    monkeypatch.setattr(screen, "SCREEN_COST_MULTIPLE", 1e9)
    out = tmp_path / "run"
    args = ["run", str(_scenario_file(tmp_path)), "--out", str(out), "--no-screen"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert not (out / "carriers.json").exists() and "screen" not in _headline(out)


def test_run_and_its_screen_share_one_pool_and_the_screen_is_unchanged(tmp_path, monkeypatch):
    """o1-overhead: `sim run --jobs 2` starts its workers once, for the replications and the
    screen (queued behind the replications, before any table is written); the screen's figures
    are those of the same screen run on its own, serially."""
    from sim.config.loader import load_scenario
    from sim.run import screen
    from sim.run.workers import WorkerPool

    starts = []
    real_start = WorkerPool._start

    def counting(self):
        starts.append(self.jobs)
        return real_start(self)

    monkeypatch.setattr(WorkerPool, "_start", counting)
    queued = []
    real_queue = screen.start_screen

    def queueing(plan, *args, **kw):  # the run's tables are not written yet
        queued.append(sorted(p.name for p in tmp_path.rglob("*.csv")))
        return real_queue(plan, *args, **kw)

    monkeypatch.setattr(screen, "start_screen", queueing)
    small = [p for p in uncertain_inputs(make_scenario()) if p.path == SHORT_COURSE]
    monkeypatch.setattr("sim.model.provenance.uncertain_inputs", lambda sc: small)
    path, out = _scenario_file(tmp_path), tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--jobs", "2", "--screen"])
    assert res.exit_code == 0, res.output
    assert starts == [2] and queued == [[]]
    data = json.loads((out / "carriers.json").read_text())
    sc = load_scenario(path)
    alone = screen.run_screen(
        screen.plan_screen(sc, small, model="joint", baseline="classic"),
        jobs=1, base_dir=path.parent,
    )  # fmt: skip
    assert data["base_difference"] == alone.base_difference and data["runs"] == alone.runs == 3
    assert [(c["path"], c["low_change"], c["high_change"]) for c in data["carriers"]] == [
        (c.path, c.low_change, c.high_change) for c in alone.carriers
    ]
