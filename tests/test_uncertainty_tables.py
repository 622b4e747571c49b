"""The analysis tables of an uncertainty folder, recomputed independently from the synthetic
folder's formula (tests/uncertainty_data.py)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from sim.store.uncertainty_tables import write_analysis
from tests import uncertainty_data as ud


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = ud.make_folder(tmp_path_factory.mktemp("unc") / "u")
    write_analysis(f)
    return f


def _sample_means(folder) -> np.ndarray:
    """Per sample set: mean over replications of joint - classic, from the raw files."""
    design = pl.read_csv(folder / "design.csv")
    reps = pl.read_csv(folder / "replications.csv")
    ids = design.filter(pl.col("role") == "sample")["set_id"].to_list()
    out = []
    for s in ids:
        r = reps.filter(pl.col("set_id") == s).sort("replication")
        j = r.filter(pl.col("model") == "joint")["helped_per_year"].to_numpy()
        c = r.filter(pl.col("model") == "classic")["helped_per_year"].to_numpy()
        out.append((j - c).mean())
    return np.array(out)


def test_probability_table_is_the_share_of_sets_above_each_threshold(folder):
    means = _sample_means(folder)
    t = pl.read_csv(folder / "probability.csv")
    assert t["threshold"].to_list() == [0.0, 2.0]
    for row in t.iter_rows(named=True):
        assert row["probability"] == pytest.approx(np.mean(means > row["threshold"]))
        assert row["probability_low"] <= row["probability"] <= row["probability_high"]
        assert (row["sets"], row["replications"], row["unit"]) == (40, 6, "citizens/year")
        assert row["mean_difference"] == pytest.approx(means.mean())
        lo, hi = np.quantile(means, [0.025, 0.975])
        assert (row["range_low"], row["range_high"]) == pytest.approx((lo, hi))
    # the truth: demand uniform on [2, 4], difference 10 (demand - 2.6) > 0 iff demand > 2.6
    assert t["probability"][0] == pytest.approx(0.7, abs=0.05)


def test_tornado_table_orders_demand_first_and_gives_the_idle_inputs_exact_zeros(folder):
    t = pl.read_csv(folder / "tornado.csv").sort("rank")
    assert t["input"][0] == ud.DEMAND
    demand = t.row(0, named=True)
    assert demand["low_change"] == pytest.approx(ud.SLOPE * (2.0 - 3.0), abs=0.5)
    assert demand["high_change"] == pytest.approx(ud.SLOPE * (4.0 - 3.0), abs=0.5)
    assert demand["low_change_low"] <= demand["low_change"] <= demand["low_change_high"]
    assert (demand["base_value"], demand["low_value"], demand["high_value"]) == (3.0, 2.0, 4.0)
    assert demand["base_difference"] == pytest.approx(ud.SLOPE * (3.0 - ud.X0))
    for row in t.slice(1).iter_rows(named=True):
        for col in ("low_change", "low_change_low", "low_change_high", "high_change"):
            assert row[col] == 0.0


def test_sensitivity_table_names_the_method_and_finds_demand(folder):
    t = pl.read_csv(folder / "sensitivity.csv")
    assert set(t["method"]) == {"prcc"} and set(t["sets"]) == {40}
    by = {r["input"]: r["value"] for r in t.iter_rows(named=True)}
    assert by[ud.DEMAND] > 0.9
    assert abs(by[ud.CADENCE]) < 0.4 and abs(by[ud.COURSE]) < 0.4


def test_thresholds_table_finds_the_crossing_with_an_interval(folder):
    t = pl.read_csv(folder / "thresholds.csv")
    row = t.row(0, named=True)
    assert (row["input"], row["status"], row["evaluations"]) == (ud.DEMAND, "found", 6)
    assert row["value"] == pytest.approx(ud.X0, abs=0.1)
    assert row["low"] <= ud.X0 <= row["high"]
    assert row["base_value"] == 3.0


def test_tables_are_byte_identical_when_written_again(folder, tmp_path):
    again = ud.make_folder(tmp_path / "again")
    write_analysis(again)
    for name in ("probability.csv", "tornado.csv", "sensitivity.csv", "thresholds.csv"):
        assert (again / name).read_bytes() == (folder / name).read_bytes()


def test_no_sample_sets_gives_empty_probability_and_sensitivity(tmp_path):
    f = ud.make_folder(tmp_path / "u", n=0)
    write_analysis(f)
    assert pl.read_csv(f / "probability.csv").height == 0
    assert pl.read_csv(f / "tornado.csv").height == 3
    assert not math.isnan(pl.read_csv(f / "thresholds.csv")["value"][0])


def test_top_inputs_get_a_threshold_row_without_search_sets(tmp_path):
    """Both ends alone bracket the crossing; the line through them (the difference is linear in
    demand) puts it at X0."""
    f = ud.make_folder(tmp_path / "u", search=())
    write_analysis(f)
    t = pl.read_csv(f / "thresholds.csv")
    assert t["input"].to_list() == [ud.DEMAND]  # the idle inputs have no swing
    row = t.row(0, named=True)
    assert (row["status"], row["evaluations"]) == ("found", 2)
    assert row["value"] == pytest.approx(ud.X0, abs=0.15)
