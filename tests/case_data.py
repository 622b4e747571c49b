"""Synthetic case exports with known parameters, drawn with numpy, for the tests of ``sim fit``.

Not the project's generator (that one writes an export from a simulation's event log); this one
draws each case straight from stated distributions, so a fit can be checked against them.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Truth:
    rate_per_week: float = 3.0
    weeks: float = 156.0  # observed period
    decision_mean: float = 6.0  # weeks, gamma
    decision_sd: float = 3.0
    granted: float = 0.85
    hours: tuple[tuple[float, float, float], ...] = ((0.6, 2.5, 0.8), (0.4, 8.0, 2.5))
    # (share, mean, sd) of the true need per segment, log-normal
    error_sd: float = 0.35  # granted = need x (1 + e), e ~ Normal(0, error_sd), at least 0.5
    support_mean: float = 30.0  # weeks from start to end, gamma
    support_sd: float = 12.0
    wait_weeks: float = 2.0  # decision to start, exponential mean
    monthly: tuple[float, ...] | None = None
    abandon_per_year: float = 0.0  # hazard of leaving while waiting for support to start
    handoff_weeks: float = 0.0  # decision to the waiting list (no give-ups): the model's handoff
    rereferral: float = 0.0  # probability that a citizen whose case ended is referred again ...
    rereferral_weeks: tuple[float, float] = (13.0, 52.0)  # ... this long after (uniform)


START = dt.date(2022, 1, 3)


def _gamma(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    return rng.gamma((mean / sd) ** 2, sd * sd / mean, n)


def _lognormal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    s2 = np.log1p((sd / mean) ** 2)
    return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n)


def _referral_days(rng: np.random.Generator, t: Truth) -> np.ndarray:
    """Poisson referral days over the period, thinned by month when ``t.monthly`` is set."""
    top = max(t.monthly) if t.monthly else 1.0
    n = rng.poisson(t.rate_per_week * top * t.weeks)
    days = np.sort(rng.uniform(0, t.weeks * 7, n))
    if t.monthly:
        months = np.array([(START + dt.timedelta(days=float(d))).month - 1 for d in days])
        keep = rng.uniform(0, top, n) < np.array(t.monthly)[months]
        days = days[keep]
    return days


def synthetic_cases(rng: np.random.Generator, t: Truth = Truth()) -> list[dict[str, str]]:
    """One row per case as a case system would export it on the last day of the period. With
    ``t.rereferral``, a citizen whose case ended is referred again (a new case, the same
    ``citizen_id``) with that probability, after a uniform delay; the first referrals alone are
    the Poisson process of ``t.rate_per_week``."""
    days = _referral_days(rng, t)
    citizens = np.arange(len(days))
    rows: list[dict[str, str]] = []
    while len(days):
        more, ended = _cases(rng, t, days)
        if t.rereferral > 0:
            for row, c in zip(more, citizens, strict=True):
                row["citizen_id"] = f"P{c:05d}"
        rows += more
        if t.rereferral <= 0:
            break
        again = np.isfinite(ended) & (rng.uniform(size=len(days)) < t.rereferral)
        low, high = t.rereferral_weeks
        days = ended[again] + rng.uniform(low, high, int(again.sum())) * 7
        citizens = citizens[again]
        inside = days <= t.weeks * 7
        days, citizens = days[inside], citizens[inside]
    for i, row in enumerate(rows):
        row["case_id"] = f"C{i + 1:05d}"
    return rows


def _cases(
    rng: np.random.Generator, t: Truth, days: np.ndarray
) -> tuple[list[dict[str, str]], np.ndarray]:
    """The cases referred on ``days``, and the day each ended (inf: not ended by the export)."""
    n = len(days)
    as_of = t.weeks * 7
    decided = days + _gamma(rng, t.decision_mean, t.decision_sd, n) * 7
    granted = rng.uniform(size=n) < t.granted
    shares = np.array([h[0] for h in t.hours])
    seg = rng.choice(len(shares), n, p=shares / shares.sum())
    hours = np.empty(n)
    for i, (_, mean, sd) in enumerate(t.hours):
        hours[seg == i] = _lognormal(rng, mean, sd, int((seg == i).sum()))
    hours = np.maximum(hours * (1 + rng.normal(0, t.error_sd, n)), 0.5)
    listed = decided + t.handoff_weeks * 7  # as in the model: give-ups only on the waiting list
    start = listed + rng.exponential(t.wait_weeks * 7, n)
    gives_up = np.full(n, np.inf)
    if t.abandon_per_year > 0:
        gives_up = listed + rng.exponential(365.25 / t.abandon_per_year, n)
    end = start + _gamma(rng, t.support_mean, t.support_sd, n) * 7
    rows, ended = [], np.full(n, np.inf)
    for i in range(n):
        day = lambda x: (START + dt.timedelta(days=int(x))).isoformat()  # noqa: E731
        row = {"case_id": "", "referral_date": day(days[i]), "decision_date": "",
               "decision": "", "start_date": "", "end_date": "", "hours_per_week": ""}  # fmt: skip
        if decided[i] <= as_of:
            row["decision_date"] = day(decided[i])
            row["decision"] = "granted" if granted[i] else "refused"
            if granted[i]:
                row["hours_per_week"] = f"{hours[i]:.2f}".replace(".", ",")
                if gives_up[i] < start[i] and gives_up[i] <= as_of:
                    row["end_date"] = day(gives_up[i])  # left the waiting list
                    ended[i] = int(gives_up[i])
                elif gives_up[i] < start[i]:
                    pass  # still waiting on the export date
                elif start[i] <= as_of:
                    row["start_date"] = day(start[i])
                    if end[i] <= as_of:
                        row["end_date"] = day(end[i])
                        ended[i] = int(end[i])
        rows.append(row)
    return rows, ended


def write_cases(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_of(t: Truth = Truth()) -> dt.date:
    return START + dt.timedelta(days=int(t.weeks * 7))
