"""`sim uncertainty`, the run side: the design, common random numbers, resume, executors, CLI.

The statistics over the folder (probability, tornado, Sobol, thresholds) are tested by u2-analysis
in tests/test_uncertainty_stats.py; here the numbers are checked from the folder's own CSVs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.app.uncertainty import UncertaintyPlan, plan_uncertainty, run_uncertainty
from sim.model.provenance import Provenance, Range
from sim.model.scenario import Scenario
from sim.run.experiment import run_experiment
from sim.run.sweep import LocalExecutor
from sim.run.uncertainty import design_sets, design_unit
from sim.store.uncertainty_tables import write_analysis
from tests.conftest import make_scenario, odder_data

EFFECT = "models.joint.first_contact.meeting.authority_hours"
"""An input the joint model's result depends on: at 60 hours a first meeting the authority's
~70 hours a week cannot see 3 referrals a week, so the joint model falls behind classic."""
NO_EFFECT = "models.joint_meeting_only.review.cadence_weeks"
"""An input of a model that is not compared: it changes no number of the run."""
TABLES = (
    "design.csv",
    "replications.csv",
    "probability.csv",
    "tornado.csv",
    "sensitivity.csv",
    "thresholds.csv",
)


def _small() -> Scenario:
    return make_scenario(horizon_weeks=60, warmup_weeks=8, replications=2)


def _inputs(scenario: Scenario) -> list[Provenance]:
    return [
        Provenance(EFFECT, 2.0, None, "test", Range("uniform", 1.0, None, 60.0, 2.0)),
        Provenance(NO_EFFECT, 52.0, None, "test", Range("triangular", 13.0, 52.0, 52.0, 52.0)),
    ]


def _plan(n: int = 3) -> UncertaintyPlan:
    scenario = _small()
    return plan_uncertainty(scenario, n=n, reps=2, inputs=_inputs(scenario))


def _run(folder: Path, jobs: int = 1, **kw: Any) -> None:
    """A run and its analysis tables (as the command writes them)."""
    run_uncertainty(_plan(), folder, LocalExecutor(jobs), **kw)
    write_analysis(folder)


# --------------------------------------------------------------------------- the design


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_design_is_reproducible_for_a_seed(method: str) -> None:
    a, b = design_unit(3, 8, method, 11), design_unit(3, 8, method, 11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, design_unit(3, 8, method, 12))
    assert a.shape == (8, 3) and (a >= 0).all() and (a < 1).all()


@pytest.mark.parametrize("n", [5, 16, 64])
def test_latin_hypercube_has_one_point_in_each_stratum(n: int) -> None:
    u = design_unit(4, n, "lhs", 3)
    for j in range(4):
        assert sorted(np.floor(u[:, j] * n).astype(int)) == list(range(n))


def test_design_sets_are_base_samples_then_low_and_high_of_each_input() -> None:
    inputs = _inputs(_small())
    sets = design_sets(inputs, 4, "lhs", 5)
    assert [s.role for s in sets] == ["base"] + ["sample"] * 4 + ["low", "high"] * 2
    assert [s.set_id for s in sets] == list(range(len(sets)))
    assert sets[0].values == {EFFECT: 2.0, NO_EFFECT: 52.0}
    low_effect = sets[5]
    assert (low_effect.input, low_effect.values) == (EFFECT, {EFFECT: 1.0, NO_EFFECT: 52.0})
    high_none = sets[8]
    assert (high_none.input, high_none.values) == (NO_EFFECT, {EFFECT: 2.0, NO_EFFECT: 52.0})
    samples = np.array([[s.values[EFFECT], s.values[NO_EFFECT]] for s in sets[1:5]])
    assert ((samples[:, 0] >= 1) & (samples[:, 0] <= 60)).all()
    assert ((samples[:, 1] >= 13) & (samples[:, 1] <= 52)).all()
    # the same seed gives the same sets; the samples are the ranges' quantiles of the design
    assert design_sets(inputs, 4, "lhs", 5) == sets
    unit = design_unit(2, 4, "lhs", 5)
    np.testing.assert_allclose(samples[:, 0], 1 + 59 * unit[:, 0])


# --------------------------------------------------------------------------- a run


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unc") / "serial"
    _run(folder)
    return folder


def _reps(folder: Path) -> pl.DataFrame:
    return pl.read_csv(folder / "replications.csv")


def _diffs(folder: Path, set_id: int, metric: str = "helped_per_year") -> np.ndarray:
    """joint - classic per replication of one set, rebuilt from replications.csv."""
    r = _reps(folder).filter(pl.col("set_id") == set_id).sort("replication")
    joint = r.filter(pl.col("model") == "joint")[metric].to_numpy()
    classic = r.filter(pl.col("model") == "classic")[metric].to_numpy()
    return np.asarray(joint - classic)


def _set_id(folder: Path, role: str, input_: str) -> int:
    d = pl.read_csv(folder / "design.csv").with_columns(pl.col("input").fill_null(""))
    row = d.filter((pl.col("role") == role) & (pl.col("input") == input_))
    return int(row["set_id"][0])


def test_an_input_with_no_effect_gives_exactly_the_same_numbers(serial: Path) -> None:
    reps = _reps(serial)
    metrics = [c for c in reps.columns if c not in ("set_id", "model", "replication")]
    base = reps.filter(pl.col("set_id") == 0).drop("set_id")
    for role in ("low", "high"):
        other = reps.filter(pl.col("set_id") == _set_id(serial, role, NO_EFFECT)).drop("set_id")
        assert other.equals(base), role  # every metric, bit for bit: the same citizens
    low = _diffs(serial, _set_id(serial, "low", NO_EFFECT))
    high = _diffs(serial, _set_id(serial, "high", NO_EFFECT))
    assert np.array_equal(high - low, np.zeros_like(low))
    assert metrics  # the comparison above covered the metric columns


def test_the_input_with_an_effect_moves_the_difference(serial: Path) -> None:
    low = _diffs(serial, _set_id(serial, "low", EFFECT))
    high = _diffs(serial, _set_id(serial, "high", EFFECT))
    assert abs(high.mean() - low.mean()) > 1.0  # citizens/year
    tornado = pl.read_csv(serial / "tornado.csv")
    order = tornado.filter(pl.col("model") == "joint")["input"].to_list()
    assert order[0] == EFFECT  # the tornado puts it first


def test_the_threshold_lies_where_the_difference_changes_sign(serial: Path) -> None:
    low = _diffs(serial, _set_id(serial, "low", EFFECT)).mean()
    high = _diffs(serial, _set_id(serial, "high", EFFECT)).mean()
    assert low > 0 > high  # citizens/year: the answer flips inside the range
    design = pl.read_csv(serial / "design.csv")
    searched = design.filter(pl.col("role") == "threshold")
    assert searched.height >= 1 and set(searched["input"]) == {EFFECT}
    [row] = pl.read_csv(serial / "thresholds.csv").iter_rows(named=True)
    assert row["input"] == EFFECT and row["status"] == "found"
    assert 1.0 < row["value"] < 60.0
    # the crossing is between the last evaluated point above zero and the first below
    points = design.filter(
        pl.col("role").is_in(["low", "high", "threshold"]) & (pl.col("input") == EFFECT)
    ).sort(EFFECT)
    means = [_diffs(serial, int(i)).mean() for i in points["set_id"]]
    xs = points[EFFECT].to_list()
    k = next(i for i in range(len(means) - 1) if means[i] > 0 >= means[i + 1])
    assert xs[k] <= row["value"] <= xs[k + 1]


def test_the_base_set_is_the_run_of_the_scenario(serial: Path) -> None:
    # Common random numbers with `sim run`: same seed, same stream prefix, same citizens.
    result = run_experiment(_small())
    reps = _reps(serial).filter(pl.col("set_id") == 0)
    for model in ("classic", "joint"):
        got = reps.filter(pl.col("model") == model).sort("replication")["helped_per_year"]
        assert got.to_list() == result.values(model, "helped_per_year")


def test_the_manifest_names_inputs_design_and_models(serial: Path) -> None:
    meta = json.loads((serial / "uncertainty.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "uncertainty" and meta["status"] == "complete"
    assert [i["path"] for i in meta["inputs"]] == [EFFECT, NO_EFFECT]
    assert meta["inputs"][0]["range"] == {"kind": "uniform", "low": 1.0, "mode": None, "high": 60.0}
    assert (meta["method"], meta["n"], meta["replications"]) == ("lhs", 3, 2)
    assert meta["baseline"] == "classic" and meta["models"] == ["classic", "joint"]
    assert meta["threshold_inputs"] == [EFFECT]  # NO_EFFECT: no swing, no search


@pytest.mark.parametrize("stop", [3, 9])  # in the design's sets; after the threshold set
def test_interrupted_then_resumed_gives_the_same_bytes(
    serial: Path, tmp_path: Path, stop: int
) -> None:
    folder = tmp_path / "resumed"

    def interrupt(done: int, total: int) -> None:
        if done == stop:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(folder, progress=interrupt)
    meta = json.loads((folder / "uncertainty.json").read_text(encoding="utf-8"))
    assert meta["status"] == "interrupted"
    assert len(list((folder / "sets").glob("*.json"))) == stop
    assert not (folder / "design.csv").exists()
    outcome = run_uncertainty(_plan(), folder, LocalExecutor(1))
    write_analysis(folder)
    assert outcome.ran == 9 - stop  # only the missing sets ran
    for name in TABLES:
        assert (folder / name).read_bytes() == (serial / name).read_bytes(), name


def test_two_processes_give_the_same_bytes(serial: Path, tmp_path: Path) -> None:
    folder = tmp_path / "parallel"
    _run(folder, jobs=2, batch=1)
    for name in TABLES:
        assert (folder / name).read_bytes() == (serial / name).read_bytes(), name


def test_a_local_dask_cluster_gives_the_same_bytes(serial: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from sim.run.sweep import DaskExecutor

    folder = tmp_path / "dask"
    run_uncertainty(_plan(), folder, DaskExecutor(workers=2), batch=1)
    write_analysis(folder)
    for name in TABLES:
        assert (folder / name).read_bytes() == (serial / name).read_bytes(), name


# --------------------------------------------------------------------------- the command


def _write(tmp_path: Path, over: dict[str, Any] | None = None) -> Path:
    data = odder_data()
    data["experiment"] = {"seed": 7, "replications": 2, "horizon_weeks": 60, "warmup_weeks": 8}
    data.update(over or {})
    path = tmp_path / "s.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(data, fh)
    return path


def test_bad_options_and_bad_provenance_exit_2_with_positions(tmp_path: Path) -> None:
    from sim.cli import app

    runner = CliRunner()
    path = _write(tmp_path)
    result = runner.invoke(app, ["uncertainty", str(path), "--method", "grid"])
    assert result.exit_code == 2 and "--method must be one of lhs, sobol" in result.output
    bad = _write(tmp_path, {"provenance": {"arrivals.rate_per_wek": {"source": "x"}}})
    result = runner.invoke(app, ["uncertainty", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    line = bad.read_text(encoding="utf-8").splitlines().index("  arrivals.rate_per_wek:") + 1
    assert f"{bad}:{line}:3: provenance.arrivals.rate_per_wek" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_resume_of_another_design_is_refused(serial: Path) -> None:
    from sim.cli import app

    before = {p.name: p.read_bytes() for p in serial.iterdir() if p.is_file()}
    result = CliRunner().invoke(
        app, ["uncertainty", str(_write(serial.parent)), "--n", "5", "--resume", str(serial)]
    )
    assert result.exit_code == 2
    assert "was made with another scenario, design or options" in result.output
    assert {p.name: p.read_bytes() for p in serial.iterdir() if p.is_file()} == before


def test_sigterm_keeps_finished_sets_and_leaves_no_process(tmp_path: Path) -> None:
    """SIGTERM is handled like Ctrl-C (the sweep's machinery): exit 143, the finished sets kept
    whole, the manifest 'interrupted', how to resume on the last line, no process left."""
    import signal

    from tests.test_faults import Sim, leftovers, messages, no_session_left, scenario_file
    from tests.test_faults import wait_until as until

    out = tmp_path / "unc"
    path = scenario_file(tmp_path, reps=2)
    args = ["uncertainty", str(path), "--n", "4", "--reps", "2", "--jobs", "2", "--no-report"]
    sim = Sim([*args, "--out", str(out)], tmp_path)
    try:
        until(lambda: list((out / "sets").glob("*.json")), "a finished set")
        sim.signal(signal.SIGTERM)
        code = sim.wait()
        no_session_left(sim)
    finally:
        sim.kill_all()
    assert code == 143, sim.output()
    assert "Traceback" not in sim.output()
    assert f"--resume {out}" in messages(sim.output())[-1]
    meta = json.loads((out / "uncertainty.json").read_text(encoding="utf-8"))
    assert meta["status"] == "interrupted"
    assert not leftovers(out) and not (out / "design.csv").exists()
    for f in (out / "sets").glob("*.json"):
        assert json.loads(f.read_text(encoding="utf-8"))["rows"]  # whole sets only
