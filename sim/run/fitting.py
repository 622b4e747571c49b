"""Fitting a scenario's inputs to observed cases: pure statistics over numpy arrays.

``sim fit`` (``sim.app.fit``) reads a case export and calls these. Each result carries what a
comment in the written scenario needs to say where the number comes from: the method, how many
observations, and a goodness of fit.

- Durations (weeks to goal, time to decision) are fitted with right censoring: an open case counts
  as "at least this long". The fit is scipy's maximum likelihood (``scipy.stats.<dist>.fit`` on a
  ``scipy.stats.CensoredData``) for gamma, log-normal and Weibull; the candidates are compared by
  AIC, and the distance to the Kaplan-Meier curve (``scipy.stats.ecdf``) is the goodness of fit.
- The referral rate is the Poisson maximum-likelihood rate (count / exposure) with its exact 95 %
  interval; monthly factors are used only when a G-test (likelihood-ratio chi-square,
  ``scipy.stats.power_divergence``) of the calendar months against a constant rate rejects it at
  5 %, over at least 12 months of data.
- Re-referrals: a case whose citizen had an earlier case that ended on or before its referral
  (found through ``citizen_id``). The share re-referred is counted over the ended cases that
  ended at least the longest observed delay before the export date (so every re-referral they
  would get in that time is seen), with its exact interval; the delay from the end to the new
  referral is fitted from those repeats when there are at least ``MIN_DELAY_CASES``.
- Need segments: a mixture of 1-4 log-normals over the granted hours, fitted by EM, with the number
  of components chosen by BIC (a component must hold at least ``MIN_SEGMENT_CASES`` cases).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FAMILIES",
    "MIN_SEGMENT_CASES",
    "Candidate",
    "DurationFit",
    "GoalCalibration",
    "LifeTable",
    "Median",
    "Mixture",
    "Rate",
    "Rereferrals",
    "ReviewTiming",
    "Seasonality",
    "Share",
    "calibrate_goal",
    "find_rereferrals",
    "fit_duration",
    "fit_goal_life_table",
    "fit_mixture",
    "fit_rereferrals",
    "goal_data",
    "goal_life_table",
    "km_median",
    "need_sd_from_granted",
    "poisson_rate",
    "review_timing",
    "seasonality",
    "share",
    "slowdown_draws",
    "waiting_exposure_days",
]

FAMILIES = ("gamma", "lognormal", "weibull")
"""Candidate families of a duration; the scenario can hold gamma and log-normal, so Weibull is
fitted for comparison only (its AIC is reported; it is not chosen)."""

IN_SCENARIO = ("gamma", "lognormal")

MIN_SEGMENT_CASES = 10
"""A need segment must hold at least this many cases (expected count under the mixture)."""

MIN_DELAY_CASES = 20
"""The delay to a re-referral is fitted from at least this many observed repeats."""

SEASON_ALPHA = 0.05
"""Level of the test for month effects in the referral rate."""


# --------------------------------------------------------------------------- durations


@dataclass(frozen=True)
class Candidate:
    """One family fitted to censored durations: its scipy parameters, mean and sd, AIC, and the
    largest distance between its CDF and the Kaplan-Meier estimate (a KS-type statistic)."""

    family: str
    params: tuple[float, ...]
    mean: float
    sd: float
    aic: float
    ks_km: float


@dataclass(frozen=True)
class DurationFit:
    """Censored fit of a duration: the chosen candidate (best AIC among those a scenario can hold)
    and all candidates, with the numbers of observed and censored durations."""

    best: Candidate
    candidates: tuple[Candidate, ...]
    observed: int
    censored: int
    table: LifeTable | None = None  # when fitted to a life table with delayed entry

    def describe(self) -> str:
        """For a comment: 'gamma by AIC (gamma 812.3, lognormal 820.1, weibull 815.0); 180
        ended, 40 open (right-censored); KS distance to Kaplan-Meier 0.031'."""
        aics = ", ".join(f"{c.family} {c.aic:.1f}" for c in self.candidates)
        if self.table is not None:
            return self.table.describe(self.best, aics)
        fit = (
            f"largest distance to Kaplan-Meier {self.best.ks_km:.3f}"
            if not math.isnan(self.best.ks_km)
            else "no Kaplan-Meier distance (interval-censored data)"
        )
        return (
            f"censored maximum likelihood (scipy.stats CensoredData), {self.best.family} chosen "
            f"by AIC ({aics}; weibull not expressible in a scenario); {self.observed} observed, "
            f"{self.censored} right-censored; {fit}"
        )


def _dist(family: str):  # type: ignore[no-untyped-def]
    import scipy.stats as st

    return {"gamma": st.gamma, "lognormal": st.lognorm, "weibull": st.weibull_min}[family]


def fit_duration(
    values: np.ndarray, ended: np.ndarray, intervals: np.ndarray | None = None
) -> DurationFit:
    """Fit ``values`` (> 0, weeks) where ``ended`` is False for a right-censored value, plus
    optional interval-censored values (rows of low, high: known to lie in (low, high]).

    Needs at least 3 exactly observed or interval values. Raises ValueError otherwise.
    """
    import scipy.stats as st

    values = np.asarray(values, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    box = np.empty((0, 2)) if intervals is None else np.asarray(intervals, dtype=float)
    if ended.sum() + len(box) < 3:
        raise ValueError(f"needs at least 3 ended cases, found {int(ended.sum()) + len(box)}")
    data = st.CensoredData(uncensored=values[ended], right=values[~ended], interval=box)
    km = st.ecdf(data).sf if len(box) == 0 else None
    candidates = tuple(_candidate(f, data, values, ended, box, km) for f in FAMILIES)
    best = min((c for c in candidates if c.family in IN_SCENARIO), key=lambda c: c.aic)
    return DurationFit(best, candidates, int(ended.sum()) + len(box), int((~ended).sum()))


def _candidate(family: str, data, values, ended, box, km) -> Candidate:  # type: ignore[no-untyped-def]
    dist = _dist(family)
    with np.errstate(divide="ignore", invalid="ignore"):  # trial points outside the support
        params = tuple(float(p) for p in dist.fit(data, floc=0))
    frozen = dist(*params)
    # The log-likelihood at scipy's estimate: density of the exact values, survival of the
    # right-censored, probability of its interval for each interval-censored value.
    loglik = float(frozen.logpdf(values[ended]).sum() + frozen.logsf(values[~ended]).sum())
    if len(box):
        loglik += float(np.log(frozen.cdf(box[:, 1]) - frozen.cdf(box[:, 0])).sum())
    aic = 2 * 2 - 2 * loglik  # two free parameters (shape, scale; location fixed at 0)
    ks = math.nan
    if km is not None:
        times = km.quantiles
        ks = float(np.max(np.abs((1 - km.probabilities) - frozen.cdf(times)))) if len(times) else 0
    return Candidate(family, params, float(frozen.mean()), float(frozen.std()), aic, ks)


@dataclass(frozen=True)
class ReviewTiming:
    """Support that ends at reviews: every ``cadence`` weeks, ``lag`` weeks after a multiple of
    it (start-up and review work), for ``at_review`` of ``ended`` ended episodes."""

    cadence: float
    lag: float
    at_review: int
    ended: int


REVIEW_TOLERANCE_WEEKS = 2.0
"""An episode ends "at a review" when its length is within this of lag + k x cadence."""

LATE_REVIEW_SHARE = 0.25
"""In the life table (``goal_life_table``) an end up to this share of the cadence after
lag + k x cadence is review k's: the model judges the goals when the review is due and ends
support after the review's meetings and casework, which wait for staff hours (in the shipped
example a second cluster of ends comes 1-2 months late). A drop-out in that window is taken for
a review's end."""


def review_timing(durations: np.ndarray, cadence: float) -> ReviewTiming | None:
    """Whether ended support episodes end at reviews: the lag is the most common length modulo
    the cadence (1-week bins); None unless at least half end within REVIEW_TOLERANCE_WEEKS of
    lag + k x cadence (k >= 1)."""
    d = np.asarray(durations, dtype=float)
    if cadence <= 0 or len(d) < 10:
        return None
    rest = np.mod(d, cadence)
    counts = np.bincount(np.floor(rest).astype(int), minlength=math.ceil(cadence))
    top = int(np.argmax(counts))
    near = np.abs(rest - top - 0.5) <= 1.0
    lag = float(np.mean(rest[near]))
    at = _at_review(d, cadence, lag)
    if at.sum() < len(d) / 2:
        return None
    return ReviewTiming(cadence, lag, int(at.sum()), len(d))


def _at_review(d: np.ndarray, cadence: float, lag: float) -> np.ndarray:
    k = np.round((d - lag) / cadence)
    return (k >= 1) & (np.abs(d - lag - k * cadence) <= REVIEW_TOLERANCE_WEEKS)


def goal_data(
    durations: np.ndarray, ended: np.ndarray, timing: ReviewTiming
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weeks to the goals as censored data when support ends at reviews: an episode ended at
    review k reached its goals in ((k - 1) x cadence, k x cadence] (interval-censored); one
    ended between reviews (a drop-out) or still open had not reached them by its last review
    (right-censored there; a drop-out before its first review says nothing: support does not end
    when the goals are reached, only at a review, so its length minus the lag would claim too
    much and bias the weeks up). Returns (values, exact, intervals): no value is exact."""
    d = np.asarray(durations, dtype=float)
    c, lag = timing.cadence, timing.lag
    at = ended & _at_review(d, c, lag)
    k = np.round((d[at] - lag) / c)
    intervals = np.column_stack([(k - 1) * c, k * c])
    intervals[:, 0] = np.maximum(intervals[:, 0], 0.0)
    reviews = np.floor(np.maximum(d - lag, 0) / c)
    right = reviews * c
    keep = ~at & (right > 0)
    return right[keep], np.zeros(keep.sum(), dtype=bool), intervals


# f3-goal: weeks to the goals from a life table with delayed entry (episodes started before the
# period that were still in support at its start)


@dataclass(frozen=True)
class LifeTable:
    """Support that ends at reviews, as a life table over the reviews k = 1..K: how many episodes
    were in support and observed at review k (``at_risk``), how many ended there (``ended``), and
    the survival S_k = prod(1 - ended_j / at_risk_j) (the Kaplan-Meier estimate on the review
    grid, with delayed entry: an episode in support on the period's start enters at the first
    review after it). ``entered_late`` episodes started before the period."""

    cadence: float
    at_risk: tuple[int, ...]
    ended: tuple[int, ...]
    survival: tuple[float, ...]
    episodes: int
    entered_late: int
    scale: int

    def describe(self, best: Candidate, aics: str) -> str:
        """For a comment: the table, the fit to it and its distance to it."""
        reviews = "; ".join(
            f"review {k + 1}: {e} of {n} ended"
            for k, (n, e) in enumerate(zip(self.at_risk, self.ended, strict=True))
        )
        return (
            f"life table over the reviews with delayed entry ({self.episodes} episodes, "
            f"{self.entered_late} of them started before the period and in support at its start, "
            f"entering at their first review after it; {reviews}); scipy.stats censored maximum "
            f"likelihood (CensoredData) fitted to the table's interval shares between reviews "
            f"(a sample of {self.scale} in those shares, the survival past review "
            f"{len(self.at_risk)} right-censored), {best.family} chosen by AIC ({aics}; weibull "
            f"not expressible in a scenario); largest distance to the life table's survival at "
            f"the reviews {best.ks_km:.3f}. An end from {REVIEW_TOLERANCE_WEEKS:g} weeks before "
            f"a review's usual end to {LATE_REVIEW_SHARE * self.cadence:g} after it (a quarter "
            "of the cadence: the review's work waits for staff hours) is the review's"
            + self.caveat()
        )

    def caveat(self) -> str:
        """With ends at two reviews at most, the shares fix any two-parameter family: the
        spread is then the family's shape, not the data's; empty otherwise."""
        if len(self.at_risk) > 2 and self.at_risk[2] >= MIN_TAIL_AT_RISK:
            return ""
        seen = self.at_risk[2] if len(self.at_risk) > 2 else 0
        return (
            f". ASSUMPTION: {seen} episode(s) in support at a third review (fewer than "
            f"{MIN_TAIL_AT_RISK}): the ends at the first two fix two shares, and the spread "
            "within them is the family's shape, not the data's (the families' AICs tie)"
        )


def goal_life_table(
    durations: np.ndarray,
    ended: np.ndarray,
    entry: np.ndarray,
    follow: np.ndarray,
    timing: ReviewTiming,
) -> LifeTable:
    """The life table of the weeks to the goals when support ends at reviews.

    ``durations`` are weeks from start to end (to the export date when open), ``entry`` the weeks
    in support on the period's start (0 for an episode that started in the period), ``follow``
    the weeks from start to the export date. A review counts only when its whole window (see
    below) lies before the export date, ended or not: counting the ends in a window the export
    cuts, but not the episodes still open in it, would take too many for ends. As in
    ``goal_data``: an episode that ended at review k reached its goals between reviews k - 1 and
    k; one that ended between reviews, or is open, had not reached them by its last review. An
    episode that started before the period is in the export only because it was still in support
    on its start, so it counts only from the first review after it (delayed entry): counting its
    earlier reviews would take it for a survivor that could have ended there unseen. Those
    episodes are what tells the spread beyond the reviews a period's own starts can reach."""
    d = np.asarray(durations, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    c, lag, tol = timing.cadence, timing.lag, REVIEW_TOLERANCE_WEEKS
    late = LATE_REVIEW_SHARE * c
    # Review k's window: from tol before its usual end (lag + k c) to ``late`` after it.
    k_end = np.floor((d - lag + tol) / c)
    seen = np.floor(np.maximum(np.asarray(follow, float) - lag - late, 0) / c)
    at = ended & (k_end >= 1) & (d - lag - k_end * c <= late) & (k_end <= seen)
    # Not ended at a review: past review k only once its whole window has passed.
    last = np.where(at, k_end, np.floor(np.maximum(d - lag - late, 0) / c))
    last = np.minimum(last, seen)
    # Reviews whose window opened before the period's start: one that ended the episode then
    # kept it out of the export, so the episode is counted only from the next review.
    first = np.floor(np.maximum(np.asarray(entry, float) - lag + tol, 0) / c)
    first = np.where(np.asarray(entry, float) > 0, first, 0)
    first = np.minimum(first, last)
    k_max = int(last.max()) if len(last) else 0
    ks = np.arange(1, k_max + 1)
    at_risk = ((first[None, :] < ks[:, None]) & (last[None, :] >= ks[:, None])).sum(axis=1)
    ends = np.array([int((at & (last == k) & (first < k)).sum()) for k in ks], dtype=int)
    keep = np.flatnonzero(at_risk > 0)
    k_top = int(keep[-1]) + 1 if keep.size else 0
    at_risk, ends = at_risk[:k_top], ends[:k_top]
    survival = np.cumprod(1 - ends / np.maximum(at_risk, 1))
    used = first < last
    return LifeTable(
        c,
        tuple(int(n) for n in at_risk),
        tuple(int(e) for e in ends),
        tuple(float(s) for s in survival),
        int(used.sum()),
        int((used & (np.asarray(entry) > 0)).sum()),
        int(used.sum()),
    )


MIN_TAIL_AT_RISK = 10
"""Fewer episodes than this at a third review leave the spread to the family's shape."""


def fit_goal_life_table(table: LifeTable) -> DurationFit:
    """Fit the families to a life table (``goal_life_table``) with scipy's censored maximum
    likelihood: a sample of ``table.scale`` values whose shares between reviews k - 1 and k are
    the table's S_(k-1) - S_k (interval-censored), the rest right-censored at the last review.
    That is the fit to the Kaplan-Meier estimate, which has already taken the delayed entry into
    account (scipy's fits have no left truncation). Raises ValueError with fewer than 3 ends."""
    if sum(table.ended) < 3:
        raise ValueError(f"needs at least 3 ended cases, found {sum(table.ended)}")
    c, n = table.cadence, table.scale
    surv = np.array((1.0, *table.survival))
    counts = np.round(n * -np.diff(surv)).astype(int)
    box = np.array(
        [[k * c, (k + 1) * c] for k, m in enumerate(counts) for _ in range(m)], dtype=float
    ).reshape(-1, 2)
    tail = round(float(n * surv[-1]))
    right = np.full(tail, len(table.survival) * c)
    fit = fit_duration(right, np.zeros(tail, dtype=bool), box)
    points = c * np.arange(1, len(table.survival) + 1)
    candidates = tuple(
        Candidate(
            x.family,
            x.params,
            x.mean,
            x.sd,
            x.aic,
            float(np.max(np.abs(_dist(x.family)(*x.params).sf(points) - surv[1:]))),
        )
        for x in fit.candidates
    )
    best = min((x for x in candidates if x.family in IN_SCENARIO), key=lambda x: x.aic)
    return DurationFit(best, candidates, sum(table.ended), table.scale - sum(table.ended), table)


# f1-calib: the median of a censored duration, for the simulation-based calibration


@dataclass(frozen=True)
class Median:
    """The Kaplan-Meier median of a right-censored duration with its 95 % interval (from the
    pointwise interval of the survival curve: where its bands cross one half; inf when a band
    never does), and how many values were observed and censored."""

    value: float
    low: float
    high: float
    observed: int
    censored: int


def _crossing(times: np.ndarray, survival: np.ndarray) -> float:
    """The first time at which the step function ``survival`` is at or below one half."""
    below = np.flatnonzero(survival <= 0.5)
    return float(times[below[0]]) if below.size else math.inf


def km_median(values: np.ndarray, ended: np.ndarray) -> Median:
    """Median of ``values`` (weeks) where ``ended`` is False for a right-censored value: the
    Kaplan-Meier estimate (``scipy.stats.ecdf``), so open cases count as "at least this long"
    rather than being left out (which would shorten the median when many are open). Its interval
    is where the 95 % pointwise band of the survival curve (Greenwood) crosses one half. Needs at
    least one observed value; raises ValueError otherwise."""
    import scipy.stats as st

    values = np.asarray(values, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    if not ended.any():
        raise ValueError("needs at least one ended case")
    sf = st.ecdf(st.CensoredData(uncensored=values[ended], right=values[~ended])).sf
    with warnings.catch_warnings():  # undefined past the last event: nan there, never crossing
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(0.95)
    times = sf.quantiles
    return Median(
        _crossing(times, sf.probabilities),
        _crossing(times, band.low.probabilities),
        _crossing(times, band.high.probabilities),
        int(ended.sum()),
        int((~ended).sum()),
    )


# f2-giveup: the time granted cases spend on the waiting list inside the observed period


def waiting_exposure_days(
    decided: list[dt.date], until: list[dt.date], start: dt.date, handoff_weeks: float
) -> np.ndarray:
    """Days each granted case spent on the waiting list within the period from ``start``: from
    its decision plus ``handoff_weeks`` (the pathway's steps before the list) or ``start``,
    whichever is later, to ``until`` (its start, close or the export date); 0 when that is
    earlier. Time before ``start`` is left out: a case decided earlier is in an export of the
    period only because it was still open then, and its earlier waiting has no give-ups beside
    it (those closed their cases before the period)."""
    lag = handoff_weeks * 7
    days = [  # days after ``start``: the list is joined at max(decision + lag, start)
        max(0.0, (u - start).days - max((d - start).days + lag, 0.0))
        for d, u in zip(decided, until, strict=True)
    ]
    return np.asarray(days, dtype=float)


# --------------------------------------------------------------------------- referrals


@dataclass(frozen=True)
class Rate:
    """Events per week: the Poisson estimate and its exact 95 % interval."""

    per_week: float
    low: float
    high: float
    count: int
    weeks: float


def poisson_rate(count: int, weeks: float) -> Rate:
    """Maximum-likelihood rate of a Poisson process, with the exact (Garwood) 95 % interval."""
    from scipy.stats import chi2

    low = chi2.ppf(0.025, 2 * count) / 2 / weeks if count > 0 else 0.0
    high = chi2.ppf(0.975, 2 * count + 2) / 2 / weeks
    return Rate(count / weeks, float(low), float(high), count, weeks)


@dataclass(frozen=True)
class Seasonality:
    """The test of month effects: None factors when not seasonal (or not testable, ``reason``)."""

    factors: tuple[float, ...] | None
    statistic: float | None
    df: int | None
    p_value: float | None
    reason: str

    @property
    def seasonal(self) -> bool:
        return self.factors is not None


def _exposure_days(start: dt.date, end: dt.date) -> np.ndarray:
    """Days of each calendar month (January first) in [start, end]."""
    days = np.zeros(12)
    day = start
    while day <= end:
        last = dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        stop = min(last, end)
        days[day.month - 1] += (stop - day).days + 1
        day = stop + dt.timedelta(days=1)
    return days


def seasonality(dates: list[dt.date], start: dt.date, end: dt.date) -> Seasonality:
    """Test whether referrals per calendar month differ from a constant rate (G-test at 5 %).

    Expected counts follow each month's days in [start, end]. Needs every month covered for at
    least 28 days and 5 expected referrals per month. When seasonal, the factors are each month's
    rate over the mean rate, scaled so that a year of them averages 1 (by days).
    """
    from scipy.stats import power_divergence

    days = _exposure_days(start, end)
    counts = np.bincount([d.month - 1 for d in dates], minlength=12).astype(float)
    total = counts.sum()
    if days.min() < 28:
        return Seasonality(None, None, None, None, "not tested: fewer than 12 months observed")
    expected = total * days / days.sum()
    if expected.min() < 5:
        return Seasonality(
            None, None, None, None, "not tested: fewer than 5 expected referrals in a month"
        )
    result = power_divergence(counts, expected, lambda_="log-likelihood")
    statistic, p = float(result.statistic), float(result.pvalue)
    if p >= SEASON_ALPHA:
        return Seasonality(None, statistic, 11, p, "no month effect at the 5 % level")
    rates = counts / days
    month_days = np.array([calendar.monthrange(2001, m)[1] for m in range(1, 13)])
    factors = rates / (rates @ month_days / month_days.sum())
    return Seasonality(tuple(float(f) for f in factors), statistic, 11, p, "month effect")


@dataclass(frozen=True)
class Share:
    """A share (successes / trials) with its exact (Clopper-Pearson) 95 % interval."""

    value: float
    low: float
    high: float
    successes: int
    trials: int


def share(successes: int, trials: int) -> Share:
    from scipy.stats import binomtest

    ci = binomtest(successes, trials).proportion_ci(0.95)
    return Share(successes / trials, float(ci.low), float(ci.high), successes, trials)


@dataclass(frozen=True)
class Rereferrals:
    """Re-referrals found through the citizen ids of an export.

    ``repeat`` marks, per case, a referral of a citizen whose earlier case had ended (not a first
    referral); ``follow_days``, per case, the days from its end to its citizen's next referral
    (nan: none seen). ``share`` is None when the export does not identify re-referrals (no
    citizen referred again after an ended case, or no ended case old enough to count)."""

    repeat: np.ndarray
    follow_days: np.ndarray
    window_days: int = 0
    share: Share | None = None
    delay: DurationFit | None = None

    @property
    def identified(self) -> bool:
        return self.share is not None


def find_rereferrals(
    citizens: list[str | None], referrals: list[dt.date], ends: list[dt.date | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Per case (in the given order): whether it re-refers its citizen, and the days from its end
    to the citizen's next referral. An ended case is followed by at most one re-referral, the
    citizen's first referral on or after its end; a referral while an earlier case is still open
    (or after a refusal, which has no end) is not a re-referral: the simulator re-refers only
    citizens who left."""
    n = len(referrals)
    repeat, follow = np.zeros(n, dtype=bool), np.full(n, np.nan)
    known = [i for i in range(n) if citizens[i] is not None]
    order = sorted(known, key=lambda i: (citizens[i], referrals[i], i))
    who: str | None = None
    pending: int | None = None  # the citizen's latest ended case not yet followed
    for i in order:
        if citizens[i] != who:
            who, pending = citizens[i], None
        if pending is not None and ends[pending] <= referrals[i]:  # type: ignore[operator]
            repeat[i] = True
            follow[pending] = (referrals[i] - ends[pending]).days  # type: ignore[operator]
            pending = None
        end = ends[i]
        if end is not None and (pending is None or end >= ends[pending]):  # type: ignore[operator]
            pending = i
    return repeat, follow


def fit_rereferrals(
    repeat: np.ndarray, follow: np.ndarray, ends: list[dt.date | None], as_of: dt.date
) -> Rereferrals:
    """The share of ended cases re-referred and the delay (weeks), from ``find_rereferrals``.

    Only cases that ended at least the longest observed delay before ``as_of`` count: a case that
    ended last month may yet be re-referred, and counting it as not re-referred would bias the
    share down. The delays of their repeats are complete up to that window."""
    seen = follow[~np.isnan(follow)]
    if not repeat.any() or seen.size == 0:
        return Rereferrals(repeat, follow)
    window = math.ceil(seen.max())
    exposed = np.array([e is not None and (as_of - e).days >= window for e in ends], dtype=bool)
    if not exposed.any():
        return Rereferrals(repeat, follow, window)
    back = exposed & ~np.isnan(follow)
    result = share(int(back.sum()), int(exposed.sum()))
    delay = None
    if back.sum() >= MIN_DELAY_CASES:
        weeks = follow[back] / 7 + 0.5 / 7  # whole days: half a day keeps a 0 inside the support
        delay = fit_duration(weeks, np.ones(weeks.size, dtype=bool))
    return Rereferrals(repeat, follow, window, result, delay)


# --------------------------------------------------------------------------- need segments


@dataclass(frozen=True)
class Mixture:
    """Log-normal mixture of hours: weights, mu and sigma of log-hours per component (by mean),
    BIC per number of components tried, and the KS statistic of the chosen mixture."""

    weights: tuple[float, ...]
    mu: tuple[float, ...]
    sigma: tuple[float, ...]
    bic: dict[int, float]
    ks: float
    n: int

    @property
    def k(self) -> int:
        return len(self.weights)

    def means(self) -> list[float]:
        return [math.exp(m + s * s / 2) for m, s in zip(self.mu, self.sigma, strict=True)]

    def sds(self) -> list[float]:
        return [
            mean * math.sqrt(math.expm1(s * s))
            for mean, s in zip(self.means(), self.sigma, strict=True)
        ]

    def component_of(self, hours: np.ndarray) -> np.ndarray:
        """The most probable component of each value (for sorting cases into segments)."""
        return np.argmax(_log_resp(np.log(hours), self), axis=1)

    def cdf(self, hours: np.ndarray) -> np.ndarray:
        from scipy.stats import norm

        x = np.log(np.asarray(hours, dtype=float))[:, None]
        parts = norm.cdf(x, loc=np.array(self.mu), scale=np.array(self.sigma))
        return parts @ np.array(self.weights)


MIN_SIGMA = 0.05
"""Floor on a component's sigma of log-hours: rounded hours (2, 3, 7.5) would otherwise collapse
a component onto one value with an endless likelihood."""


def _log_resp(x: np.ndarray, m: Mixture | tuple) -> np.ndarray:  # type: ignore[type-arg]
    from scipy.stats import norm

    weights, mu, sigma = (m.weights, m.mu, m.sigma) if isinstance(m, Mixture) else m
    return np.log(np.array(weights)) + norm.logpdf(
        x[:, None], loc=np.array(mu), scale=np.array(sigma)
    )


def _em(x: np.ndarray, k: int, iterations: int = 500) -> tuple[tuple, float]:  # type: ignore[type-arg]
    """EM for a k-component normal mixture of ``x``, started at its quantiles; (params, loglik)."""
    from scipy.special import logsumexp

    qs = np.quantile(x, (np.arange(k) + 0.5) / k)
    params = (np.full(k, 1 / k), qs, np.full(k, max(x.std() / k, MIN_SIGMA)))
    previous = -np.inf
    for _ in range(iterations):
        log_r = _log_resp(x, params)
        total = logsumexp(log_r, axis=1)
        loglik = float(total.sum())
        r = np.exp(log_r - total[:, None])
        nk = r.sum(axis=0) + 1e-12
        mu = (r * x[:, None]).sum(axis=0) / nk
        var = (r * (x[:, None] - mu) ** 2).sum(axis=0) / nk
        params = (nk / len(x), mu, np.maximum(np.sqrt(var), MIN_SIGMA))
        if loglik - previous < 1e-9:
            break
        previous = loglik
    log_r = _log_resp(x, params)
    return params, float(logsumexp(log_r, axis=1).sum())


def fit_mixture(hours: np.ndarray, max_k: int = 4) -> Mixture:
    """Log-normal mixture of ``hours`` (> 0) with 1-``max_k`` components, the count chosen by BIC.

    A count is not considered when a component of its fit would hold fewer than
    ``MIN_SEGMENT_CASES`` cases. The log-likelihood is of the hours (log-normal densities), so
    BIC = -2 log L + (3k - 1) log n is comparable across k.
    """
    from scipy.stats import kstest

    hours = np.asarray(hours, dtype=float)
    x = np.log(hours)
    n = len(x)
    fits: dict[int, tuple] = {}  # type: ignore[type-arg]
    bic: dict[int, float] = {}
    for k in range(1, max_k + 1):
        if n < MIN_SEGMENT_CASES * k:
            break
        params, loglik = _em(x, k)
        if min(params[0]) * n < MIN_SEGMENT_CASES:
            continue
        loglik -= float(x.sum())  # from log-hours to hours: the Jacobian 1/h of each value
        bic[k] = -2 * loglik + (3 * k - 1) * math.log(n)
        fits[k] = params
    if not bic:
        raise ValueError(f"needs at least {MIN_SEGMENT_CASES} granted hours, found {n}")
    k = min(bic, key=lambda j: bic[j])
    weights, mu, sigma = fits[k]
    order = np.argsort(mu)
    chosen = Mixture(
        tuple(float(w) for w in weights[order]),
        tuple(float(m) for m in mu[order]),
        tuple(float(s) for s in sigma[order]),
        bic,
        0.0,
        n,
    )
    ks = float(kstest(hours, chosen.cdf).statistic)
    return Mixture(chosen.weights, chosen.mu, chosen.sigma, bic, ks, n)


def need_sd_from_granted(mean: float, sd: float, error_sd: float) -> float:
    """The sd of the true need behind granted hours with the given mean and sd.

    The model grants need x (1 + e), e ~ Normal(0, error_sd), independent of the need, so the
    mean is the same and E[granted^2] = E[need^2] (1 + error_sd^2). Solved for the need's sd;
    at least 5 % of the mean (when the error explains all the spread).
    """
    second = (sd * sd + mean * mean) / (1 + error_sd * error_sd)
    return math.sqrt(max(second - mean * mean, (0.05 * mean) ** 2))


# --------------------------------------------------------------------------- slower progress


def slowdown_moments(
    error_sd: float,
    min_granted: float,
    need_mean: float,
    need_sd: float,
    rng: np.random.Generator,
    n: int = 200_000,
) -> tuple[float, float]:
    """E[S] and E[S^2] of the slowdown S = 1 / min(1, granted / need) of the model's support.

    The model grants max(min_granted, need x (1 + error_sd x z)), z standard normal, need
    log-normal (``need_mean``, ``need_sd``), and a citizen granted less than the need progresses
    at granted / need: the goals take weeks_to_goal x S weeks. Monte Carlo over ``n`` draws of
    ``rng`` (no closed form with the floor)."""
    s2 = math.log1p((need_sd / need_mean) ** 2)
    need = rng.lognormal(math.log(need_mean) - s2 / 2, math.sqrt(s2), n)
    granted = np.maximum(min_granted, need * (1 + error_sd * rng.standard_normal(n)))
    slow = 1 / np.minimum(1.0, granted / need)
    return float(slow.mean()), float((slow * slow).mean())


MIN_CV = 0.1
"""Floor on the coefficient of variation of weeks to goal after the slowdown is taken out."""


def remove_slowdown(mean: float, sd: float, m1: float, m2: float) -> tuple[float, float]:
    """Mean and sd of the weeks to goal W behind observed times T = W x S (S independent of W,
    with moments ``m1``, ``m2`` from ``slowdown_moments``): E[W] = E[T] / E[S] and
    E[W^2] = E[T^2] / E[S^2]. The sd is floored at ``MIN_CV`` of the mean (the slowdown may
    explain all the observed spread)."""
    w_mean = mean / m1
    second = (sd * sd + mean * mean) / m2
    return w_mean, math.sqrt(max(second - w_mean * w_mean, (MIN_CV * w_mean) ** 2))


# f3-goal: weeks to goal behind the time in support, by Monte Carlo of the model's progress rule


@dataclass(frozen=True)
class GoalCalibration:
    """Gamma weeks to goal W whose time in support T = W x S (S the slowdown of under-granted
    citizens) leaves the life table's shares in support after the first two reviews: the targets
    (with 95 % Greenwood intervals), the values matched, and whether the search found them."""

    mean: float
    sd: float
    target: tuple[float, float]
    low: tuple[float, float]
    high: tuple[float, float]
    matched_at: tuple[float, float]
    matched: bool
    draws: int
    solutions: int = 1  # (mean, cv) pairs that match both shares; review 3 chose among them


GOAL_DRAWS = 40_000
"""Monte Carlo draws of the slowdown (need, granted hours); the same draws for every trial (common
random numbers), and W's tail is exact given them, so the search is smooth and deterministic."""
GOAL_CV = (0.05, 2.0)
"""Coefficients of variation of the weeks to goal searched."""
GOAL_GRID = 16
"""Points of the cv grid on which the roots are bracketed: when S alone makes the tail, a
narrow and a wide W can both give the two shares (the third review's share chooses)."""


def calibrate_goal(
    table: LifeTable, slowdown: np.ndarray, rng: np.random.Generator, draws: int = GOAL_DRAWS
) -> GoalCalibration:
    """Gamma weeks to goal (mean, sd) for which the share of T = W x S past the first review's
    and the second review's goals (T > c, T > 2c, ``slowdown`` S drawn from the model's rule by
    ``slowdown_draws``) equal the life table's survival after reviews 1 and 2.

    Why not the moments of a fit of T: when S is broad (cv ~0.8 in the shipped example), W's
    variance is E[T^2] / E[S^2] - E[W]^2, a small difference of large numbers, and a T fitted
    from two or three review shares swings it from the floor to twice the truth. Two shares fix
    two parameters; the mean is solved for each cv (the share past review 1 falls as the mean
    falls), and the cv so that the share past review 2 matches (roots bracketed on a grid of
    cvs, then ``scipy.optimize.brentq``). When several cvs match, the share past review 3 (few
    episodes) chooses among them."""
    from scipy.optimize import brentq
    from scipy.stats import gamma

    c = table.cadence
    s1, s2 = table.survival[0], table.survival[1] if len(table.survival) > 1 else 0.0
    slow = rng.choice(slowdown, size=draws)

    def past(mean: float, cv: float, k: int) -> float:
        """P(W x S > k c) = E[P(W > k c / S)], averaged over the draws of S."""
        shape = 1 / (cv * cv)
        return float(np.mean(gamma.sf(k * c / slow, shape, scale=mean / shape)))

    def mean_for(cv: float) -> float:
        lo, hi = 0.01 * c, 20 * c
        f = lambda m: past(m, cv, 1) - s1  # noqa: E731
        if f(lo) > 0 or f(hi) < 0:
            return lo if f(lo) > 0 else hi
        return float(brentq(f, lo, hi, xtol=1e-3))

    def gap(cv: float) -> float:
        return past(mean_for(cv), cv, 2) - s2

    grid = np.geomspace(*GOAL_CV, GOAL_GRID)
    gaps = np.array([gap(cv) for cv in grid])
    flips = np.flatnonzero(np.sign(gaps[:-1]) != np.sign(gaps[1:]))
    roots = [float(brentq(gap, grid[i], grid[i + 1], xtol=1e-3)) for i in flips]
    # No root: the cv searched nearest the target. Several: the one nearest review 3's share.
    s3 = table.survival[2] if len(table.survival) > 2 else None
    if not roots:
        roots = [float(grid[np.argmin(np.abs(gaps))])]
    elif s3 is not None:
        roots.sort(key=lambda cv: abs(past(mean_for(cv), cv, 3) - s3))
    cv = roots[0]
    mean = mean_for(cv)
    low, high = _greenwood(table)
    got = (past(mean, cv, 1), past(mean, cv, 2))
    ok = all(lo - 0.005 <= g <= hi + 0.005 for g, lo, hi in zip(got, low, high, strict=True))
    return GoalCalibration(mean, mean * cv, (s1, s2), low, high, got, ok, draws, len(roots))


def _greenwood(table: LifeTable) -> tuple[tuple[float, float], tuple[float, float]]:
    """95 % intervals of the survival after reviews 1 and 2 (Greenwood's variance, clipped to
    [0, 1])."""
    lows, highs, acc = [], [], 0.0
    for k in range(2):
        if k >= len(table.survival):
            lows.append(0.0)
            highs.append(0.0)
            continue
        n, d, s = table.at_risk[k], table.ended[k], table.survival[k]
        acc += d / (n * (n - d)) if n > d else 0.0
        half = 1.96 * s * math.sqrt(acc)
        lows.append(max(0.0, s - half))
        highs.append(min(1.0, s + half))
    return (lows[0], lows[1]), (highs[0], highs[1])


def slowdown_draws(
    error_sd: float,
    min_granted: float,
    need_mean: float,
    need_sd: float,
    rng: np.random.Generator,
    n: int = GOAL_DRAWS,
) -> np.ndarray:
    """Draws of the slowdown S = 1 / min(1, granted / need) under the model's rule (see
    ``slowdown_moments``)."""
    s2 = math.log1p((need_sd / need_mean) ** 2)
    need = rng.lognormal(math.log(need_mean) - s2 / 2, math.sqrt(s2), n)
    granted = np.maximum(min_granted, need * (1 + error_sd * rng.standard_normal(n)))
    return 1 / np.minimum(1.0, granted / need)
