"""Has the simulation settled? The warm-up check run after every `sim run` (issue 9, item 5).

Two questions, asked per model of the weekly stage counts (waiting list and the other stages):

1. **Where does the initial transient end?** MSER-5 (White 1997; White, Cobb and Spratt 2000)
   on each replication's weekly series: cut the series into batch means of 5 weeks and choose the
   truncation point that minimises the marginal standard error of the mean of what is left. Hoad,
   Robinson and Davies (2010) found MSER-5 the most reliable of 42 warm-up methods. A minimum in
   the second half of the run means the series has not settled inside the run at all, so the search
   is limited to the first half and such a replication is flagged.
2. **Is there a trend after the warm-up?** Yearly means of the measured window, a least-squares
   slope per replication, and a 95 % t-interval of the mean slope over the independent replications
   (one slope per replication, so the autocorrelation within a run does not bias the interval).
   A trend counts when the interval excludes zero *and* the drift over the window is material
   (``DRIFT_SHARE`` of the mean level, at least ``DRIFT_MIN_CITIZENS``), so a settled scenario with
   many replications is not flagged for a drift of a fraction of a citizen.

The statistics are pure functions of arrays. ``sim.store.settling`` writes and reads the verdicts
as ``settling.csv``; ``sim.present.settling`` turns them into the sentences the console and the
report show. The check reads series the run already keeps: it costs milliseconds.

References: K. P. White Jr. (1997), An effective truncation heuristic for bias reduction in
simulation output, Simulation 69(6):323-334. K. Hoad, S. Robinson, R. Davies (2010), Automating
warm-up length estimation, J. Operational Research Society 61:1389-1403.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.metrics import t_quantile_975

BATCH = 5
"""MSER-5: batch means of 5 observations (weeks)."""
BLOCK_WEEKS = 52
"""Weeks averaged into one "year" of the trend test (whole weeks, as the series is weekly)."""
WEEKS_PER_YEAR = 365.0 / 7.0
"""Slopes are reported per calendar year, like every other per-year figure."""
DRIFT_SHARE = 0.10
"""A trend is material when it moves the level by this share of its mean over the window..."""
DRIFT_MIN_CITIZENS = 2.0
"""...and by at least this many citizens."""
SERIES: tuple[str, ...] = (
    "support_queue_citizens",
    "intake_citizens",
    "handoff_citizens",
    "support_citizens",
)
"""The weekly series tested, the waiting list first (see sim.model.pathway.TIMESERIES_COLUMNS)."""
COLUMNS = (
    "model",
    "series",
    "mean_citizens",
    "slope_citizens_per_year",
    "slope_ci_low",
    "slope_ci_high",
    "years_tested",
    "trend",
    "warmup_weeks",
    "mser5_weeks_median",
    "mser5_weeks_p90",
    "mser5_beyond_half",
)
"""The columns of ``settling.csv`` (``SeriesVerdict.row``; written by ``sim.store.settling``)."""


# --------------------------------------------------------------------------- pure statistics


def mser(series: Sequence[float], batch: int = BATCH) -> tuple[int, bool]:
    """MSER-``batch`` truncation point of one series, in observations, and whether the minimum
    lay beyond the first half (the series did not settle inside the run; the point returned is then
    the best one in the first half, a lower bound).

    MSER(d) = sum_{j>d} (Z_j - mean_{j>d} Z)^2 / (k - d)^2 over the k batch means Z; the smallest d
    that attains the minimum is chosen (a flat series gives 0).
    """
    x = np.asarray(series, dtype=float)
    k = x.size // batch
    if k < 4:
        return 0, False
    z = x[: k * batch].reshape(k, batch).mean(axis=1)
    z = z - z.mean()  # centred, so the sums of squares below lose no precision
    s1 = np.cumsum(z[::-1])[::-1]
    s2 = np.cumsum((z * z)[::-1])[::-1]
    m = np.arange(k, 0, -1, dtype=float)  # batches left after truncating d = 0..k-1
    stat = np.maximum(s2 - s1 * s1 / m, 0.0) / (m * m)
    stat = stat[: k - 1]  # keep at least two batches
    tol = 1e-12 * max(float(stat.max()), 1e-300)
    best = int(np.flatnonzero(stat <= stat.min() + tol)[0])
    half = k // 2
    if best <= half:
        return best * batch, False
    first = stat[: half + 1]
    return int(np.flatnonzero(first <= first.min() + tol)[0]) * batch, True


def yearly_means(series: Sequence[float], start_week: int, weeks: int = BLOCK_WEEKS) -> np.ndarray:
    """Means of whole years of weekly values from ``start_week`` on (a partial last year is left
    out)."""
    x = np.asarray(series, dtype=float)[start_week:]
    years = x.size // weeks
    means: np.ndarray = x[: years * weeks].reshape(years, weeks).mean(axis=1)
    return means


def slope(values: Sequence[float] | np.ndarray) -> float:
    """Least-squares slope of ``values`` against 0, 1, 2, ... (per step)."""
    y = np.asarray(values, dtype=float)
    t = np.arange(y.size, dtype=float)
    t -= t.mean()
    return float((t * (y - y.mean())).sum() / (t * t).sum())


@dataclass(frozen=True)
class Trend:
    """Mean over replications of the yearly slope, with its 95 % t-interval (per year)."""

    slope: float
    low: float
    high: float
    level: float
    years: int

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def material(self) -> bool:
        drift = abs(self.slope) * self.years
        return drift >= max(DRIFT_SHARE * abs(self.level), DRIFT_MIN_CITIZENS)

    @property
    def trending(self) -> bool:
        return self.significant and self.material


def trend(replications: Sequence[Sequence[float]], start_week: int) -> Trend | None:
    """The trend of the yearly means after ``start_week`` over replications (weekly series, one
    per replication); None when fewer than 2 whole years or 2 replications are left to test."""
    years = [yearly_means(r, start_week) for r in replications]
    n_years = min((y.size for y in years), default=0)
    if n_years < 2 or len(years) < 2:
        return None
    per_year = WEEKS_PER_YEAR / BLOCK_WEEKS  # a block is 52 weeks, a year 52.14
    slopes = np.array([slope(y[:n_years]) for y in years]) * per_year
    level = float(np.mean([y[:n_years].mean() for y in years]))
    mean = float(slopes.mean())
    half = t_quantile_975(slopes.size - 1) * float(slopes.std(ddof=1)) / math.sqrt(slopes.size)
    return Trend(mean, mean - half, mean + half, level, n_years)


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class SeriesVerdict:
    """One model's one series: its trend after the warm-up and its MSER-5 truncation points."""

    model: str
    series: str
    trend: Trend | None
    warmup_weeks: float
    mser_median: float
    mser_p90: float
    beyond_half: int

    @property
    def trending(self) -> bool:
        return self.trend is not None and self.trend.trending

    def row(self) -> dict[str, Any]:
        tr = self.trend
        nan = math.nan
        return {
            "model": self.model,
            "series": self.series,
            "mean_citizens": tr.level if tr else nan,
            "slope_citizens_per_year": tr.slope if tr else nan,
            "slope_ci_low": tr.low if tr else nan,
            "slope_ci_high": tr.high if tr else nan,
            "years_tested": tr.years if tr else 0,
            "trend": self.trending,
            "warmup_weeks": self.warmup_weeks,
            "mser5_weeks_median": self.mser_median,
            "mser5_weeks_p90": self.mser_p90,
            "mser5_beyond_half": self.beyond_half,
        }


def check_series(
    model: str, series: str, replications: Sequence[Sequence[float]], warmup_weeks: float
) -> SeriesVerdict:
    """The verdict on one series of one model (weekly values from time 0, one per replication)."""
    points = [mser(r) for r in replications]
    cuts = np.array([p for p, _ in points], dtype=float)
    return SeriesVerdict(
        model,
        series,
        trend(replications, math.ceil(warmup_weeks)),
        warmup_weeks,
        float(np.quantile(cuts, 0.5, method="higher")) if cuts.size else 0.0,
        float(np.quantile(cuts, 0.9, method="higher")) if cuts.size else 0.0,
        sum(beyond for _, beyond in points),
    )


def check_result(result: Any) -> list[SeriesVerdict]:
    """Every model's verdict on every tested series of an ExperimentResult."""
    from sim.model.pathway import TIMESERIES_COLUMNS

    warmup = result.scenario.experiment.warmup_weeks
    out = []
    for m in result.models:
        runs = [r.timeseries for r in result.replications if r.model == m]
        for name in SERIES:
            j = TIMESERIES_COLUMNS.index(name)
            out.append(check_series(m, name, [r[:, j] for r in runs], warmup))
    return out
