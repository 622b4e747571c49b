"""Simulated citizens: referral times and the attributes that belong to each citizen.

Every attribute (segment, true need, weeks to goal, goals, and the uniforms and normals that decide
eligibility, assessment error, routing, rework, drop-out and re-referral) is drawn once per citizen,
in arrival order, from its own named stream. A model that changes a threshold therefore changes
outcomes monotonically, and every model in a replication sees exactly the same citizens.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

import numpy as np

from sim.scenario import CsvArrivals, PoissonArrivals, Scenario
from sim.streams import CHUNK, Buffered, generator

DAYS_PER_WEEK = 7.0
WEEKS_PER_YEAR = 365.0 / 7.0
_MONTH_ENDS = list(accumulate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)))


class Citizen:
    """One referral and its fixed attributes, plus the times the pathway stamps on it."""

    __slots__ = (
        "decided_at",
        "dropout_weeks",
        "eligible",
        "goals",
        "id",
        "need",
        "progress",
        "referred_at",
        "segment",
        "stage",
        "stage_since",
        "started_at",
        "u_reref",
        "u_rework",
        "u_route",
        "weeks_to_goal",
        "z_error",
    )

    def __init__(self, cid: int, referred_at: float) -> None:
        self.id = cid
        self.referred_at = referred_at
        self.decided_at: float | None = None
        self.started_at: float | None = None
        self.stage = ""
        self.stage_since = referred_at
        self.progress = 0.0


class CitizenFactory:
    """Makes citizens from named streams under a prefix (arrivals, initial, re-referrals)."""

    def __init__(self, scenario: Scenario, seed: int, key: tuple[int, ...], prefix: str) -> None:
        def stream(name: str, draw) -> Buffered:  # type: ignore[no-untyped-def]
            return Buffered(generator(seed, key, f"{prefix}/{name}"), draw)

        def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
            return rng.random(n)

        segs = scenario.segments
        self._names = [s.name for s in segs]
        self._cum = list(accumulate(s.share for s in segs))
        self._cum[-1] = 1.0
        self._eligible = [s.eligible_probability for s in segs]
        self._segment = stream("segment", uniform)
        self._need = [stream(f"need/{s.name}", s.need_hours_per_week.sample) for s in segs]
        self._weeks = [stream(f"weeks/{s.name}", s.weeks_to_goal.sample) for s in segs]
        self._goals = [stream(f"goals/{s.name}", s.goals.sample) for s in segs]
        self._eligible_u = stream("eligible", uniform)
        self._error = stream("error", lambda rng, n: rng.standard_normal(n))
        self._route = stream("route", uniform)
        self._rework = stream("rework", uniform)
        self._reref = stream("rereferral", uniform)
        self._dropout = stream("dropout", lambda rng, n: rng.standard_exponential(n))
        rate = scenario.exits.dropout_per_year / WEEKS_PER_YEAR
        self._dropout_rate_per_week = rate

    def make(self, cid: int, referred_at: float) -> Citizen:
        """A new citizen with all its attributes drawn."""
        c = Citizen(cid, referred_at)
        seg = bisect.bisect_right(self._cum, self._segment.next())
        seg = min(seg, len(self._cum) - 1)
        c.segment = seg
        c.need = max(self._need[seg].next(), 0.05)
        c.weeks_to_goal = max(self._weeks[seg].next(), 0.01)
        c.goals = max(round(self._goals[seg].next()), 1)
        c.eligible = self._eligible_u.next() < self._eligible[seg]
        c.z_error = self._error.next()
        c.u_route = self._route.next()
        c.u_rework = self._rework.next()
        c.u_reref = self._reref.next()
        e = self._dropout.next()
        c.dropout_weeks = (
            e / self._dropout_rate_per_week if self._dropout_rate_per_week else math.inf
        )
        return c

    def segment_name(self, index: int) -> str:
        return self._names[index]


def _month(day: float) -> int:
    """Month index (0-11) of a day counted from 1 January."""
    return min(bisect.bisect_right(_MONTH_ENDS, day % 365.0), 11)


def referral_times(
    scenario: Scenario, seed: int, key: tuple[int, ...], base_dir: Path | None
) -> Iterator[float]:
    """Referral times in days, increasing, up to the horizon (Poisson, seasonal or replayed)."""
    horizon = scenario.experiment.horizon_weeks * DAYS_PER_WEEK
    arrivals = scenario.arrivals
    if isinstance(arrivals, CsvArrivals):
        for t in arrivals.days(base_dir or Path(".")):
            if t >= horizon:
                return
            yield t
        return
    assert isinstance(arrivals, PoissonArrivals)
    rng = generator(seed, key, "arrivals")
    factors = arrivals.monthly_factors
    peak = max(factors) if factors else 1.0
    if peak <= 0:
        return
    rate = arrivals.rate_per_week * peak / DAYS_PER_WEEK
    t = 0.0
    while True:
        gaps = rng.exponential(1.0 / rate, CHUNK)
        accept = rng.random(CHUNK)
        for gap, u in zip(gaps.tolist(), accept.tolist(), strict=True):
            t += gap
            if t >= horizon:
                return
            if factors is None or u * peak < factors[_month(t)]:
                yield t
