"""Simulated citizens: referral times and the attributes that belong to each citizen.

Every attribute (segment, true need, weeks to goal, goals, and the uniforms and normals that decide
eligibility, assessment error, routing, rework, drop-out and re-referral) is drawn once per citizen,
in arrival order, from its own named stream. A model that changes a threshold therefore changes
outcomes monotonically, and every model in a replication sees exactly the same citizens.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

import numpy as np

from sim.model.scenario import (
    MIN_NEED_HOURS_PER_WEEK,
    MIN_WEEKS_TO_GOAL,
    CsvArrivals,
    PoissonArrivals,
    Scenario,
)
from sim.model.streams import CHUNK, generator

DAYS_PER_WEEK: Final = 7.0
WEEKS_PER_YEAR: Final = 365.0 / 7.0
_MONTH_ENDS = list(accumulate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)))


class Drawn:
    """The attributes a citizen gets at referral, each drawn from its own named stream (see
    ``CitizenFactory._draw``, which fills them by name). A new per-citizen draw is a field here,
    its name in ``DRAWN`` and its line in ``_draw``."""

    __slots__ = ()
    segment: int  # index into the scenario's segments
    need: float  # true need, hours per week
    weeks_to_goal: float  # weeks of support at the full need to reach the goals
    goals: int  # goals in the plan (at least 1)
    eligible: bool  # whether the citizen qualifies for § 85 support
    z_error: float  # standard normal: the assessment error
    u_route: float  # uniform: routing (short course or § 85)
    u_rework: float  # uniform: whether a handoff needs rework
    u_reref: float  # uniform: whether the citizen is referred again after exit
    dropout_weeks: float  # weeks in support before dropping out (inf: never)
    patience_weeks: float  # weeks on the waiting list before giving up (inf: never)


DRAWN: Final = (
    "segment",
    "need",
    "weeks_to_goal",
    "goals",
    "eligible",
    "z_error",
    "u_route",
    "u_rework",
    "u_reref",
    "dropout_weeks",
    "patience_weeks",
)
"""The drawn attributes' names, in ``Drawn``'s order. Written out: compiled (mypyc), a class keeps
no ``__annotations__`` to read them from (tests/test_model_record.py checks they are the same;
``CitizenFactory._refill`` checks that ``_draw`` fills exactly these)."""


class Citizen(Drawn):
    """One referral, its drawn attributes (``Drawn``), and the times the pathway stamps on it."""

    __slots__ = (
        "decided_at",
        "goal_at",
        "granted",
        "id",
        "progress",
        "referred_at",
        "stage",
        "stage_since",
        "started_at",
        "stretch_from",
        *DRAWN,
    )
    granted: float
    stretch_from: float

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


def _filler(names: tuple[str, ...]) -> Callable[[Citizen, tuple[Any, ...]], None]:
    """``fill(citizen, row)``: one row of a chunk into the slots ``names``, by a single tuple
    unpacking generated once (as ``dataclasses`` generates ``__init__``). The hot path then runs
    the same bytecode as a hand-written unpacking, without a lock-step list to keep by hand; a
    loop of setattr calls costs four times as much per citizen."""
    if not all(n.isidentifier() for n in names):
        raise ValueError(f"not attribute names: {names}")
    namespace: dict[str, Any] = {}
    exec(f"def fill(c, row):\n    ({', '.join(f'c.{n}' for n in names)},) = row\n", namespace)
    fill: Callable[[Citizen, tuple[Any, ...]], None] = namespace["fill"]
    return fill


_fill = _filler(DRAWN)


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
        self._cols: dict[str, np.ndarray] = {}  # the current chunk, one array per field
        self._rows: list[tuple[Any, ...]] = []  # the same as rows, made when ``make`` needs them
        self._i = CHUNK  # rows of the current chunk used: none drawn yet

    def _draw(self, n: int) -> dict[str, np.ndarray]:
        """The next ``n`` citizens' attributes, one array per ``Drawn`` field, by name. Each comes
        from its own stream (one call per chunk), so the order of the lines does not matter."""
        r = self._rng
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
        return {
            "segment": seg,
            "need": np.maximum(need, MIN_NEED_HOURS_PER_WEEK),
            "weeks_to_goal": np.maximum(weeks, MIN_WEEKS_TO_GOAL),
            "goals": np.maximum(np.rint(goals), 1).astype(int),
            "eligible": r["eligible"].random(n) < self._eligible_p[seg],
            "z_error": r["error"].standard_normal(n),
            "u_route": r["route"].random(n),
            "u_rework": r["rework"].random(n),
            "u_reref": r["rereferral"].random(n),
            "dropout_weeks": _scaled(r["dropout"].standard_exponential(n), self._dropout_scale),
            "patience_weeks": _scaled(r["abandon"].standard_exponential(n), self._abandon_scale),
        }

    def _refill(self) -> None:
        cols = self._draw(CHUNK)
        if cols.keys() != set(DRAWN):
            raise AssertionError(f"_draw fills {sorted(cols)}, Drawn declares {sorted(DRAWN)}")
        self._cols = cols
        self._rows = []
        self._i = 0

    def make(self, cid: int, referred_at: float) -> Citizen:
        """A new citizen with all its attributes drawn."""
        if self._i >= CHUNK:
            self._refill()
        rows = self._rows
        if not rows:
            rows = self._rows = as_rows(self._cols)
        c = Citizen(cid, referred_at)
        _fill(c, rows[self._i])
        self._i += 1
        return c

    def columns(self, n: int) -> dict[str, np.ndarray]:
        """The next ``n`` citizens' drawn attributes, one array per ``DRAWN`` field, without
        making the citizens: the draws ``n`` calls of ``make`` would take (``citizen`` makes one
        from a row of them, ``as_rows``)."""
        parts: list[dict[str, np.ndarray]] = []
        left = n
        while left > 0:
            if self._i >= CHUNK:
                self._refill()
            take = min(left, CHUNK - self._i)
            parts.append({k: v[self._i : self._i + take] for k, v in self._cols.items()})
            self._i += take
            left -= take
        if not parts:
            return {k: np.empty(0) for k in DRAWN}
        return {k: np.concatenate([p[k] for p in parts]) for k in DRAWN}

    @staticmethod
    def citizen(cid: int, referred_at: float, row: tuple[Any, ...]) -> Citizen:
        """A citizen with the drawn attributes of ``row`` (from ``rows``)."""
        c = Citizen(cid, referred_at)
        _fill(c, row)
        return c

    def segment_name(self, index: int) -> str:
        return self._names[index]


def as_rows(cols: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
    """Columns of drawn attributes as rows in ``DRAWN`` order, of Python numbers."""
    return list(zip(*(cols[name].tolist() for name in DRAWN), strict=True))


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
