"""Weeks to the goals when support ends at reviews (f3-goal): the life table with delayed entry,
and the gamma weeks to goal calibrated to it.

Episodes started inside an export's period can end only at its first reviews, so their ends fix
two shares and leave the spread of any two-parameter family free; the episodes that started
before the period and were still in support on its start show the reviews beyond. These tests
draw a known truth, cut it as an export is cut, and check the table by hand and the fits against
the truth at several parameter values.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.run.fitting import ReviewTiming, calibrate_goal, fit_goal_life_table, goal_life_table

CADENCE, LAG = 52.0, 4.0
TIMING = ReviewTiming(CADENCE, LAG, 1, 1)


def _export(rng, mean, sd, slow=None, years_before=10.0, period=156.0, per_week=4.0):
    """Episodes starting at ``per_week`` over ``years_before`` years before a period of
    ``period`` weeks and during it; gamma weeks to goal W, times the slowdown ``slow`` (a
    function of the generator and a count; none: 1), and support ends at the first review at
    which W x S is reached (lag + k x cadence). Kept as an export of the period keeps them:
    started in it, or still in support on its first day. Returns (weeks in support to the end
    or the export date, ended, weeks in support on the period's first day, weeks from start to
    the export date)."""
    first = -52.0 * years_before
    n = rng.poisson(per_week * (period - first))
    start = rng.uniform(first, period, n)
    goals = rng.gamma((mean / sd) ** 2, sd * sd / mean, n)
    if slow is not None:
        goals = goals * slow(rng, n)
    end = start + LAG + CADENCE * np.ceil(goals / CADENCE)
    keep = (start >= 0) | (end >= 0)
    start, end = start[keep], end[keep]
    ended = end <= period
    return np.minimum(end, period) - start, ended, np.maximum(-start, 0.0), period - start


def test_the_life_table_by_hand():
    """Cadence 52, lag 4: review k's window runs from 2 weeks before 4 + 52k weeks in support to
    13 after (a quarter of the cadence). Six episodes, the export date 200 weeks after d's start:
    a: started in the period, ended at review 1 (56 weeks), seen to 150;
    b: started in the period, ended at review 2 (108), seen to 150: in support at review 1;
    c: 70 weeks in support on the period's start (review 1 passed unseen), ended at review 2;
    d: 120 weeks in on the start (reviews 1-2 passed), still open at 200 weeks (past review 3);
    e: 30 weeks in on the start, open at 40 weeks: no review seen, not in the table;
    f: started in the period, ended at review 1 (58 weeks), but the export date is 62 weeks
       after its start: the window of review 1 runs to 69, so it is cut, and f is left out as
       an episode open in it would be.
    Review 1: a, b at risk, a ended; review 2: b, c at risk, both ended; review 3: d, none
    ended. S = 1/2, 0, 0."""
    d = np.array([56.0, 108.0, 108.0, 200.0, 40.0, 58.0])
    ended = np.array([True, True, True, False, False, True])
    entry = np.array([0.0, 0.0, 70.0, 120.0, 30.0, 0.0])
    follow = np.array([150.0, 150.0, 150.0, 200.0, 40.0, 62.0])
    table = goal_life_table(d, ended, entry, follow, TIMING)
    assert table.at_risk == (2, 2, 1)
    assert table.ended == (1, 2, 0)
    assert table.survival == (0.5, 0.0, 0.0)
    assert table.episodes == 4 and table.entered_late == 2


def test_an_early_start_counts_only_from_the_first_review_after_the_period_start():
    """Without delayed entry c (in support 70 weeks on the start) would count as a survivor of
    review 1 it was never seen at, and the share ending at review 1 would fall from 1/2 to 1/3."""
    d = np.array([56.0, 108.0, 108.0])
    ended = np.ones(3, dtype=bool)
    follow = np.full(3, 150.0)
    late = goal_life_table(d, ended, np.array([0.0, 0.0, 70.0]), follow, TIMING)
    assert late.at_risk[0] == 2 and late.ended[0] == 1
    naive = goal_life_table(d, ended, np.zeros(3), follow, TIMING)
    assert naive.at_risk[0] == 3


def test_a_review_cut_by_the_export_date_is_not_counted():
    """Two episodes 60 weeks into support on the export date, inside review 1's window: the
    one that ended there is left out like the one still open (counting it would make every
    end in a cut window an end and every survivor nothing)."""
    d = np.array([57.0, 60.0, 56.0, 120.0])
    ended = np.array([True, False, True, False])
    follow = np.array([60.0, 60.0, 150.0, 150.0])
    table = goal_life_table(d, ended, np.zeros(4), follow, TIMING)
    assert table.at_risk[0] == 2 and table.ended[0] == 1


@pytest.mark.parametrize(("mean", "sd"), [(60.0, 20.0), (45.0, 40.0), (50.0, 25.0)])
def test_the_fit_recovers_a_known_spread_from_an_export(mean, sd):
    """Gamma weeks to goal whose tail reaches a third review, ends at reviews, an export of a
    3-year period: scipy's fit to the life table recovers the mean and the sd (the family chosen
    may be log-normal, so the tolerance allows for the shape)."""
    rng = np.random.default_rng(int(mean * 10 + sd))
    fit = fit_goal_life_table(goal_life_table(*_export(rng, mean, sd), TIMING))
    assert fit.best.mean == pytest.approx(mean, rel=0.15)
    assert fit.best.sd == pytest.approx(sd, rel=0.3)
    assert fit.table is not None and fit.table.entered_late > 0
    assert "delayed entry" in fit.describe()


def test_a_tail_no_one_reaches_is_said_to_be_the_familys_shape():
    """Narrow goals all reached by the second review: the table cannot tell the spread, and
    the comment says so."""
    rng = np.random.default_rng(3)
    fit = fit_goal_life_table(goal_life_table(*_export(rng, 30.0, 8.0), TIMING))
    assert "ASSUMPTION" in fit.describe() and "family's shape" in fit.describe()


def _slowdown(need_mean, need_sd, error_sd):
    """S = 1 / min(1, granted / need): log-normal need, granted = need x (1 + error_sd z),
    at least 0.5 hours (the model's rule, written out here independently)."""

    def draw(rng, n):
        s2 = math.log1p((need_sd / need_mean) ** 2)
        need = rng.lognormal(math.log(need_mean) - s2 / 2, math.sqrt(s2), n)
        granted = np.maximum(0.5, need * (1 + error_sd * rng.standard_normal(n)))
        return 1 / np.minimum(1.0, granted / need)

    return draw


@pytest.mark.parametrize(
    ("mean", "sd", "need", "error_sd"),
    [(35.0, 17.0, (4.7, 3.0), 0.35), (26.0, 12.0, (5.0, 2.0), 0.35), (52.0, 20.0, (5.0, 2.0), 0.2)],
)
def test_the_calibration_recovers_gamma_weeks_to_goal_behind_slowed_support(
    mean, sd, need, error_sd
):
    """Support slowed by under-granted hours (T = W x S): the calibration to the life table's
    shares after reviews 1 and 2 recovers W's mean and sd, given draws of S from the same rule."""
    slow = _slowdown(*need, error_sd)
    rng = np.random.default_rng(int(mean + sd))
    table = goal_life_table(*_export(rng, mean, sd, slow), TIMING)
    got = calibrate_goal(table, slow(np.random.default_rng(9), 40_000), np.random.default_rng(0))
    assert got.matched
    assert got.mean == pytest.approx(mean, rel=0.15)
    assert got.sd == pytest.approx(sd, rel=0.3)


def test_sim_fit_recovers_the_spread_of_the_shipped_example(tmp_path):
    """The shipped example was simulated from the Odder scenario: three segments with gamma
    weeks to goal (26, 12), (39, 15), (52, 20) in shares 0.45, 0.40, 0.15, pooled mean 35.1 and
    sd 17.3 weeks (computed here). `sim fit` finds one segment; its weeks to goal must be near
    the pooled truth (before the life table, the family's guess beyond two reviews gave sd 37.6,
    and the fitted baseline's waiting list was half again the export's)."""
    from sim.app.fit import Request, fit
    from sim.config.loader import load_scenario

    shares, means, sds = (
        np.array([0.45, 0.40, 0.15]),
        np.array([26, 39, 52]),
        np.array([12, 15, 20]),
    )
    pooled_mean = float(shares @ means)
    pooled_sd = math.sqrt(float(shares @ (sds**2 + means**2)) - pooled_mean**2)
    example = Path(__file__).parents[1] / "docs" / "cases-example.csv"
    out = tmp_path / "fitted.yaml"
    result = fit(Request(example, out, calibrate=False))
    (segment,) = load_scenario(out, allow_outside_paths=True).segments
    assert segment.weeks_to_goal.mean() == pytest.approx(pooled_mean, rel=0.15)
    assert segment.weeks_to_goal.sd == pytest.approx(pooled_sd, rel=1 / 3)
    text = out.read_text(encoding="utf-8")
    assert "delayed entry" in text and "Calibrated by Monte Carlo" in text
    # The console says the same, with the figures written.
    (line,) = result.goal_lines
    assert "calibrated by Monte Carlo" in line
    assert f"sd {segment.weeks_to_goal.sd:.2f} weeks" in line
