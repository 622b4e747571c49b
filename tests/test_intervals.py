"""Figures a council can rely on (issue 9 items 14 and 15): intervals inside a metric's bounds,
deterministic figures shown once with "no spread", and unspent budget said out loud.

Expected intervals are rebuilt from replications.csv with Student's t from a printed table, not
from the code's own interval function.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from rich.console import Console
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.model.metrics import metric_difference, metric_interval, unspent_to_mention
from sim.present.console import TABLE_METRICS, fmt, row_label, summary_table
from sim.present.report import headline, write_report
from sim.run.experiment import ExperimentResult, run_experiment
from sim.store.results import manifest, write_results

from .conftest import TEST_BASE, make_scenario

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}
"""Student's t, 97.5 % quantiles by degrees of freedom (any printed table)."""

NON_NEGATIVE = {"citizens/year", "goals/year", "citizens", "hours/year", "weeks", "DKK", "DKK/year"}

# Odder at 18 M DKK with 2.5 + 30 FTE: a short waiting list that now and then makes a citizen
# give up (a rare event: most replications see none) and a staff cost fixed by the file.
RARE = {
    "budget": {"annual_dkk": 18_000_000},
    "staffing": {"mode": "fixed", "authority_fte": 2.5, "provider_fte": 30},
}
RARE_STAFF_COST = 2.5 * 650_000 + 30 * 520_000  # fte_cost_dkk_per_year in odder.yaml


@pytest.fixture(scope="module")
def rare(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExperimentResult]:
    """A results folder of 5 replications with rare gave-up events and a fixed staff cost."""
    sc = make_scenario(RARE, replications=5, horizon_weeks=104, warmup_weeks=26)
    result = run_experiment(sc, jobs=1)
    buf = io.StringIO()
    YAML().dump(sc.model_dump(mode="json", by_alias=True, exclude_none=True), buf)
    out = tmp_path_factory.mktemp("rare") / "run"
    meta = manifest(result, run_id="run", command=["sim", "run"], wall_seconds=0.0, jobs=1)
    return write_results(out, result, buf.getvalue(), meta), result


def _replications(folder: Path) -> dict[tuple[str, str], list[float]]:
    df = pl.read_csv(folder / "replications.csv", schema_overrides={"value": pl.Float64})
    out: dict[tuple[str, str], list[float]] = {}
    for r in df.sort("replication").iter_rows(named=True):
        v = r["value"]
        if v is not None and not math.isnan(v):
            out.setdefault((r["model"], r["metric"]), []).append(v)
    return out


def _plain_t(values: list[float]) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    h = T975[n - 1] * sd / math.sqrt(n)
    return mean, mean - h, mean + h


def _bounds(unit: str) -> tuple[float, float]:
    if unit == "share (0-1)":
        return 0.0, 1.0
    return (0.0, math.inf) if unit in NON_NEGATIVE else (-math.inf, math.inf)


# --------------------------------------------------------------------------- item 14: bounds


def test_count_intervals_stay_at_or_above_zero_with_rare_events(rare: tuple[Path, Any]) -> None:
    folder, _ = rare
    reps = _replications(folder)
    summary = pl.read_csv(folder / "summary.csv", schema_overrides={"ci_low": pl.Float64})
    below_zero_before = []
    for r in summary.iter_rows(named=True):
        values = reps.get((r["model"], r["metric"]), [])
        if len(values) < 2 or max(values) == min(values):
            continue
        lo_b, hi_b = _bounds(r["unit"])
        mean, lo, hi = _plain_t(values)
        if lo < lo_b:
            below_zero_before.append((r["model"], r["metric"]))
        assert r["ci_low"] >= lo_b, r
        assert r["ci_high"] <= hi_b, r
        # The interval is the t-interval with the impossible part removed, nothing else.
        assert r["mean"] == pytest.approx(mean, rel=1e-9, abs=1e-9)
        assert r["ci_low"] == pytest.approx(max(lo, lo_b), rel=1e-6, abs=1e-9), r
        assert r["ci_high"] == pytest.approx(min(hi, hi_b), rel=1e-6, abs=1e-9), r
    # The case is a real one: some count's plain t-interval reaches below zero (typically the
    # gave-up count, abandoned_per_year, which most replications of the classic model lack).
    assert below_zero_before


def test_differences_of_counts_are_not_clipped_at_zero(rare: tuple[Path, Any]) -> None:
    folder, _ = rare
    df = pl.read_csv(folder / "replications.csv", schema_overrides={"value": pl.Float64})
    value = {
        (r["model"], r["metric"], r["replication"]): r["value"] for r in df.iter_rows(named=True)
    }
    diffs = pl.read_csv(folder / "differences.csv", schema_overrides={"ci_low": pl.Float64})
    straddle = []
    for row in diffs.iter_rows(named=True):
        pairs = [
            (value[("joint", row["metric"], i)], value[("classic", row["metric"], i)])
            for i in range(5)
        ]
        d = [x - y for x, y in pairs if not (math.isnan(x) or math.isnan(y))]
        if row["unit"] not in NON_NEGATIVE or len(d) < 2 or max(d) == min(d):
            continue
        _, lo, hi = _plain_t(d)
        straddle += [row["metric"]] if lo < 0 < hi else []
        assert row["ci_low"] == pytest.approx(lo, rel=1e-6), row
        assert row["ci_high"] == pytest.approx(hi, rel=1e-6), row
    assert straddle  # differences that straddle zero: a clip at zero would show there


@pytest.mark.parametrize("n", [3, 5, 6])
def test_a_share_interval_stays_inside_0_to_1_and_its_difference_inside_plus_minus_1(
    n: int,
) -> None:
    near_one = [1.0] * (n - 1) + [0.8]
    iv = metric_interval("core_task_share", near_one)
    _, lo, hi = _plain_t(near_one)
    assert hi > 1  # the plain interval would claim a share above 1
    assert iv.high == 1.0 and iv.low == pytest.approx(lo, rel=1e-6)
    d = metric_difference("core_task_share", [0.0] * (n - 1) + [0.3], [1.0] * n)
    _, lo, hi = _plain_t([-1.0] * (n - 1) + [-0.7])
    assert lo < -1 and d.low == -1.0 and d.high == pytest.approx(hi, rel=1e-6)


def test_values_outside_a_declared_bound_are_never_cut_off() -> None:
    """A bound that the data break (a tiny negative unspent budget from rounding) widens."""
    iv = metric_interval("unspent_dkk_per_year", [-5.0, 10.0, 20.0])
    *_, hi = _plain_t([-5.0, 10.0, 20.0])
    assert iv.low == pytest.approx(-5.0) and iv.high == pytest.approx(hi, rel=1e-6)
    assert iv.low <= iv.mean <= iv.high


# --------------------------------------------------------------------------- item 14: no spread


def test_deterministic_figure_is_written_once_with_no_spread(rare: tuple[Path, Any]) -> None:
    folder, result = rare
    summary = pl.read_csv(folder / "summary.csv")
    cost = summary.filter(pl.col("metric") == "staff_cost_dkk_per_year")
    assert cost.height == 2
    for r in cost.iter_rows(named=True):
        # The CSV keeps numbers: mean = ci_low = ci_high, sd = 0.
        assert r["mean"] == r["ci_low"] == r["ci_high"] == pytest.approx(RARE_STAFF_COST)
        assert r["sd"] == 0 and r["n"] == 5
    for lang, number, words in (("en", "17,225,000", "no spread"), ("da", "17.225.000", "ingen")):
        text = write_report(folder, lang=lang).read_text(encoding="utf-8")
        kpi = text[text.index('id="kpis"') : text.index('id="figures"')]
        cells = re.findall(rf"<td class=\"num\">[^<]*{re.escape(number)}[^/]*</span></td>", kpi)
        assert len(cells) == 2, cells  # one per model: the value, then "(no spread)"
        for cell in cells:
            assert cell.count(number) == 1 and words in cell
    # The console: every table row whose replications all agree shows the value once.
    reps = _replications(folder)
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(summary_table(result))
    lines = console.export_text().splitlines()
    same = [
        (row_label(key), m)
        for key in TABLE_METRICS
        for m in result.models
        if len(set(reps.get((m, key), []))) == 1
    ]
    assert same, "the case should have a deterministic row"
    for label, _ in same:
        line = next(x for x in lines if label in x)
        assert "(no spread)" in line


def test_console_format_of_an_interval() -> None:
    assert fmt(metric_interval("staff_cost_dkk_per_year", [16_185_000.0] * 4), 0) == (
        "16,185,000 (no spread)"
    )
    assert fmt(metric_interval("abandoned_per_year", [0.0, 0.0, 0.0, 2.0]), 1) == ("0.5 [0.0, 2.1]")
    assert fmt(metric_interval("abandoned_per_year", [2.0]), 1) == "2.0"  # one replication


def test_sweep_cells_with_no_spread_say_so() -> None:
    """The sweep report and the sweep console table read ci_low = ci_high back from the CSV."""
    from sim.model.metrics import Interval
    from sim.present import i18n

    assert i18n.fmt_ci(5.0, 5.0, 5.0, "en", 1) == "5.0 (no spread)"
    assert i18n.fmt_ci(5.0, 5.0, 5.0, "da", 1) == "5,0 (ingen spredning)"
    assert i18n.fmt_ci(5.0, math.nan, math.nan, "en", 1) == "5.0"  # one replication: no CI
    assert fmt(Interval(5.0, 5.0, 5.0, math.nan, 4), 1) == "5.0 (no spread)"


# --------------------------------------------------------------------------- item 15: unspent


def test_the_unspent_threshold_is_two_percent() -> None:
    assert unspent_to_mention(100.0, {"a": 98.1, "b": 97.9}) == {"b": pytest.approx(2.1)}
    assert unspent_to_mention(100.0, {"a": 100.0}) == {}


@pytest.mark.parametrize(("budget", "said"), [(16_500_000, False), (18_000_000, True)])
def test_unspent_budget_is_said_on_the_console_and_in_the_headline(
    tmp_path: Path, budget: int, said: bool
) -> None:
    staff_cost = 2.5 * 650_000 + 28 * 520_000  # the FTEs and costs of the tests' base
    share = (budget - staff_cost) / budget  # 1.9 % at 16.5 M, 10.1 % at 18 M
    assert (share > 0.02) is said
    out = tmp_path / "r"
    args = [str(TEST_BASE), "--out", str(out), "--jobs", "1", "--reps", "2"]
    args += ["--set", "experiment.horizon_weeks=80", "--set", "experiment.warmup_weeks=26"]
    res = CliRunner().invoke(app, ["run", *args, "--set", f"budget.annual_dkk={budget}"])
    assert res.exit_code == 0, res.output
    console = " ".join(res.output.split())
    html = (out / "report.html").read_text(encoding="utf-8")
    if not said:
        assert "not spent on staff" not in console and "not spent on staff" not in html
        assert "not spent on staff" not in headline(out, "en")
        return
    millions = f"{(budget - staff_cost) / 1e6:.1f} M DKK"
    assert f"{millions} a year ({100 * share:.1f} % of the budget) is not spent on staff" in console
    assert "staffing: {mode: share" in console
    assert f"of which {millions} a year is not spent on staff" in headline(out, "en")
    assert f"of which {millions} a year is not spent on staff" in html
    da = headline(out, "da")
    assert "hvoraf 1,8 mio. kr. om året ikke bruges på personale" in da
