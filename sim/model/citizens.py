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
from typing import Any

import numpy as np

from sim.model.scenario import (
    MIN_NEED_HOURS_PER_WEEK,
    MIN_WEEKS_TO_GOAL,
    CsvArrivals,
    PoissonArrivals,
    Scenario,
)
from sim.model.streams import CHUNK, generator

DAYS_PER_WEEK = 7.0
WEEKS_PER_YEAR = 365.0 / 7.0
_MONTH_ENDS = list(accumulate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)))


class Citizen:
    """One referral and its fixed attributes, plus the times the pathway stamps on it."""

    __slots__ = (
        "decided_at",
        "dropout_weeks",
        "eligible",
        "goal_at",
        "goals",
        "granted",
        "id",
        "need",
        "patience_weeks",
        "progress",
        "referred_at",
        "segment",
        "stage",
        "stage_since",
        "started_at",
        "stretch_from",
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
        self.stage = -1
        self.stage_since = referred_at
        self.progress = 0.0
        # Reviewed § 85 support only: when the goals are (or will be, at the current rate)
        # reached; ``granted`` (hours per week) and ``stretch_from`` (since when they have run
        # unchanged) are set beside it.
        self.goal_at: float | None = None


class CitizenFactory:
    """Makes citizens from named streams under a prefix (arrivals, initial, re-referrals).

    Attributes are drawn a chunk of citizens at a time, vectorised, one stream per attribute (and
    per segment for the segment's distributions); a citizen then only reads its row.
    """

    def __init__(self, scenario: Scenario, seed: int, key: tuple[int, ...], prefix: str) -> None:
        def rng(name: str) -> np.random.Generator:
            return generator(seed, key, f"{prefix}/{name}")

        segs = scenario.segments
        self._segs = segs
        self._names = [s.name for s in segs]
        cum = np.cumsum([s.share for s in segs])
        cum[-1] = 1.0
        self._cum = cum
        self._eligible_p = np.asarray([s.eligible_probability for s in segs])
        self._rng = {
            name: rng(name)
            for name in (
                "segment",
                "eligible",
                "error",
                "route",
                "rework",
                "rereferral",
                "dropout",
                "abandon",
            )
        }
        self._seg_rng = [
            (rng(f"need/{s.name}"), rng(f"weeks/{s.name}"), rng(f"goals/{s.name}")) for s in segs
        ]
        rate = scenario.exits.dropout_per_year / WEEKS_PER_YEAR
        self._dropout_scale = 1.0 / rate if rate > 0 else math.inf
        rate = scenario.exits.abandon_waiting_per_year / WEEKS_PER_YEAR
        self._abandon_scale = 1.0 / rate if rate > 0 else math.inf
        self._rows: list[tuple[Any, ...]] = []
        self._i = 0

    def _refill(self) -> None:
        n, r = CHUNK, self._rng
        seg = np.minimum(
            np.searchsorted(self._cum, r["segment"].random(n), side="right"), len(self._segs) - 1
        )
        need = np.empty(n)
        weeks = np.empty(n)
        goals = np.empty(n)
        for k, (s, (rn, rw, rg)) in enumerate(zip(self._segs, self._seg_rng, strict=True)):
            mask = seg == k
            need = np.where(mask, s.need_hours_per_week.sample(rn, n), need)
            weeks = np.where(mask, s.weeks_to_goal.sample(rw, n), weeks)
            goals = np.where(mask, s.goals.sample(rg, n), goals)
        eligible = r["eligible"].random(n) < self._eligible_p[seg]
        dropout = _scaled(r["dropout"].standard_exponential(n), self._dropout_scale)
        patience = _scaled(r["abandon"].standard_exponential(n), self._abandon_scale)
        self._rows = list(
            zip(
                seg.tolist(),
                np.maximum(need, MIN_NEED_HOURS_PER_WEEK).tolist(),
                np.maximum(weeks, MIN_WEEKS_TO_GOAL).tolist(),
                np.maximum(np.rint(goals), 1).astype(int).tolist(),
                eligible.tolist(),
                r["error"].standard_normal(n).tolist(),
                r["route"].random(n).tolist(),
                r["rework"].random(n).tolist(),
                r["rereferral"].random(n).tolist(),
                dropout.tolist(),
                patience.tolist(),
                strict=True,
            )
        )
        self._i = 0

    def make(self, cid: int, referred_at: float) -> Citizen:
        """A new citizen with all its attributes drawn."""
        if self._i >= len(self._rows):
            self._refill()
        c = Citizen(cid, referred_at)
        (
            c.segment,
            c.need,
            c.weeks_to_goal,
            c.goals,
            c.eligible,
            c.z_error,
            c.u_route,
            c.u_rework,
            c.u_reref,
            c.dropout_weeks,
            c.patience_weeks,
        ) = self._rows[self._i]
        self._i += 1
        return c

    def segment_name(self, index: int) -> str:
        return self._names[index]


def _scaled(e: np.ndarray, scale: float) -> np.ndarray:
    """Standard exponential draws as times with mean ``scale`` (infinite when the rate is 0)."""
    return e * scale if scale < math.inf else np.full_like(e, math.inf)


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
