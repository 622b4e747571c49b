"""The figures `sim check` compares, computed from a case table (interface (C)) alone.

Pure functions over polars tables. The observed figures come from the municipality's export and
the simulated ones from each replication's case table (``casegen.cases_from_events``), through the
same functions: nothing here looks at the simulator's own counters, so an error in the engine's
bookkeeping cannot hide in both columns at once.

The bands are 95 % prediction intervals over replications (mean ± t · sd · √(1 + 1/n), inside the
figure's bounds): where one more realisation of the model, like the municipality's years, would
fall. A percentile band over few replications would be far too narrow for that.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import polars as pl

FIGURES = (
    "referrals",
    "decisions",
    "starts",
    "in_support_mean",
    "decision_weeks_median",
    "decision_weeks_p90",
    "start_weeks_median",
    "start_weeks_p90",
    "waiting_end",
    "in_support_end",
)
"""Figure keys, in the order of the check table; their units are in ``UNITS``."""
UNITS = {
    "referrals": "cases",
    "decisions": "cases",
    "starts": "cases",
    "in_support_mean": "citizens",
    "decision_weeks_median": "weeks",
    "decision_weeks_p90": "weeks",
    "start_weeks_median": "weeks",
    "start_weeks_p90": "weeks",
    "waiting_end": "citizens",
    "in_support_end": "citizens",
}


@dataclass(frozen=True)
class Span:
    """One stretch of the observed period (a year from its start; the last may be shorter)."""

    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def _next_year(day: dt.date) -> dt.date:
    """The same day a calendar year later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return dt.date(day.year + 1, 3, 1)


def spans(start: dt.date, as_of: dt.date) -> list[Span]:
    """Calendar years from ``start`` (to the day before its anniversary), the last cut at
    ``as_of`` (both days included): a period from 1 January gives the calendar years."""
    out, first = [], start
    while first <= as_of:
        last = min(_next_year(first) - dt.timedelta(days=1), as_of)
        out.append(Span(first, last))
        first = last + dt.timedelta(days=1)
    return out


def closed_on() -> pl.Expr:
    """The day a case closed: its end, or the decision of a refused case that has no end."""
    import polars as pl

    refused = pl.when(pl.col("decision") == "refused").then(pl.col("decision_date"))
    return pl.coalesce(pl.col("end_date"), refused)


def inferred_start(cases: pl.DataFrame) -> dt.date | None:
    """The start of the period an export covers, when not given: the first day a case in it
    closed. An export of every case open at some time in a period holds no case that closed
    before the period, while cases close every few days; so this is the period's start to within
    days (None: nothing closed)."""
    return cases.select(closed_on().min()).item()


def select_period(cases: pl.DataFrame, start: dt.date) -> pl.DataFrame:
    """The cases open at some time from ``start`` on: referred since, or referred before and not
    closed before it. Applied to the observed and the simulated tables alike."""
    import polars as pl

    closed = closed_on()
    return cases.filter(
        (pl.col("referral_date") >= pl.lit(start)) | closed.is_null() | (closed >= pl.lit(start))
    )


def _between(col: str, first: dt.date, last: dt.date) -> pl.Expr:
    import polars as pl

    return pl.col(col).is_between(pl.lit(first), pl.lit(last), closed="both")


def _weeks(cases: pl.DataFrame, col: str, start: dt.date, as_of: dt.date) -> np.ndarray:
    """Weeks from referral to ``col`` of the cases referred in the period that got there (those
    still waiting are left out, as the engine's own median is; both sides alike)."""
    import polars as pl

    got = cases.filter(_between("referral_date", start, as_of) & pl.col(col).is_not_null())
    days = (got[col] - got["referral_date"]).dt.total_days()
    return days.to_numpy().astype(float) / 7.0


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if values.size else math.nan


def in_support_on(cases: pl.DataFrame, days: Sequence[dt.date]) -> np.ndarray:
    """Citizens in support (§ 85 or a short course) at the start of each day in ``days``."""
    starts = cases["start_date"].drop_nulls()
    ends = cases.filter(cases["start_date"].is_not_null())["end_date"]
    s = np.sort(starts.to_numpy().astype("datetime64[D]"))
    e = np.sort(ends.drop_nulls().to_numpy().astype("datetime64[D]"))
    d = np.asarray(days, dtype="datetime64[D]")
    return np.searchsorted(s, d, side="right") - np.searchsorted(e, d, side="right")


def waiting_on(cases: pl.DataFrame, day: dt.date) -> int:
    """Citizens granted support but not started nor gone at the end of ``day``."""
    import polars as pl

    after = pl.col("start_date").is_null() | (pl.col("start_date") > pl.lit(day))
    alive = pl.col("end_date").is_null() | (pl.col("end_date") > pl.lit(day))
    granted = (pl.col("decision") == "granted") & (pl.col("decision_date") <= pl.lit(day))
    return cases.filter(granted & after & alive).height


def weekly_days(start: dt.date, as_of: dt.date) -> list[dt.date]:
    """Every 7th day of the period, from its start: the points of the caseload series."""
    n = (as_of - start).days // 7 + 1
    return [start + dt.timedelta(days=7 * i) for i in range(n)]


def case_figures(
    cases: pl.DataFrame, start: dt.date, as_of: dt.date
) -> dict[tuple[str, str], float]:
    """Every figure of the check, keyed by (figure, span label or 'period'/'end')."""
    out: dict[tuple[str, str], float] = {}
    for sp in spans(start, as_of):
        for key, col in (("referrals", "referral_date"), ("decisions", "decision_date"),
                         ("starts", "start_date")):  # fmt: skip
            out[(key, sp.label)] = float(cases.filter(_between(col, sp.first, sp.last)).height)
        out[("in_support_mean", sp.label)] = float(
            in_support_on(cases, weekly_days(sp.first, sp.last)).mean()
        )
    for key, col in (("decision", "decision_date"), ("start", "start_date")):
        w = _weeks(cases, col, start, as_of)
        out[(f"{key}_weeks_median", "period")] = _quantile(w, 0.5)
        out[(f"{key}_weeks_p90", "period")] = _quantile(w, 0.9)
    out[("waiting_end", "end")] = float(waiting_on(cases, as_of))
    out[("in_support_end", "end")] = float(in_support_on(cases, [as_of])[0])
    return out


def prediction_band(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a ``level`` prediction interval for one more draw, floored at 0 (every figure of
    the check is a count or a duration). NaN when fewer than two finite values."""
    from scipy import stats

    x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if x.size < 2:
        return (float(x.mean()) if x.size else math.nan, math.nan, math.nan)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * sd * math.sqrt(1 + 1 / x.size)
    return mean, max(0.0, mean - half), mean + half


def allowed_outside(k: int, level: float = 0.95, confidence: float = 0.95) -> int:
    """How many of ``k`` figures may fall outside their bands by chance alone: the
    ``confidence`` quantile of Binomial(k, 1 - level) (rows treated as independent)."""
    from scipy import stats

    return int(stats.binom.ppf(confidence, k, 1 - level)) if k else 0


@dataclass(frozen=True)
class CheckRow:
    """One figure, observed beside the simulated mean and 95 % band, and whether it lies inside."""

    figure: str
    span: str
    unit: str
    observed: float
    simulated_mean: float
    band_low: float
    band_high: float

    @property
    def inside(self) -> bool | None:
        """None when either side has no value (e.g. nobody started support in the period)."""
        if not all(math.isfinite(v) for v in (self.observed, self.band_low, self.band_high)):
            return None
        return self.band_low <= self.observed <= self.band_high


def check_rows(
    observed: pl.DataFrame, simulated: Sequence[pl.DataFrame], start: dt.date, as_of: dt.date
) -> list[CheckRow]:
    """Observed and simulated figures side by side, in ``FIGURES`` order, then by span."""
    obs = case_figures(observed, start, as_of)
    sims = [case_figures(s, start, as_of) for s in simulated]
    rows = []
    for fig in FIGURES:
        for key in [k for k in obs if k[0] == fig]:
            mean, low, high = prediction_band([s[key] for s in sims])
            rows.append(CheckRow(fig, key[1], UNITS[fig], obs[key], mean, low, high))
    return rows


def caseload_series(
    observed: pl.DataFrame, simulated: Sequence[pl.DataFrame], start: dt.date, as_of: dt.date
) -> dict[str, list]:
    """Weekly citizens in support and on the waiting list, observed and simulated (mean, band)."""
    days = weekly_days(start, as_of)
    out: dict[str, list] = {"date": days}
    for name, fn in (("in_support", in_support_on), ("waiting", _waiting_series)):
        sims = np.stack([fn(s, days) for s in simulated]).astype(float)
        bands = [prediction_band(sims[:, i]) for i in range(len(days))]
        out[f"{name}_observed"] = [float(v) for v in fn(observed, days)]
        out[f"{name}_mean"] = [b[0] for b in bands]
        out[f"{name}_low"] = [b[1] for b in bands]
        out[f"{name}_high"] = [b[2] for b in bands]
    return out


def _waiting_series(cases: pl.DataFrame, days: Sequence[dt.date]) -> np.ndarray:
    return np.array([waiting_on(cases, d) for d in days])
