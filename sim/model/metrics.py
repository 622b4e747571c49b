"""What is measured (docs/model.md §7): streaming collectors during a run, pure statistics after.

Collectors keep running sums and time integrals, not every event, so memory stays flat in the
horizon. Only the waits of citizens referred inside the window are kept (one float each), because
medians and percentiles need them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

STAGES: Final = ("intake", "handoff", "support_queue", "support")
"""Stages of the pathway: referral to decision, decision to ready, waiting list, in support."""


class Level:
    """A piecewise-constant quantity and its time integral."""

    __slots__ = ("area", "last", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.area = 0.0
        self.last = 0.0

    def change(self, now: float, delta: float) -> None:
        self.area += self.value * (now - self.last)
        self.last = now
        self.value += delta

    def area_until(self, now: float) -> float:
        return self.area + self.value * (now - self.last)


class StageBook:
    """Occupancy of every stage over time, plus entries and sojourns inside the window.

    Stages are indices into flat lists (see ``STAGES``); a citizen carries the index of its stage
    (-1 when outside) and the time it entered. One call per transition keeps this off the profile.
    """

    __slots__ = ("area", "count", "entries", "last", "sojourn_n", "sojourn_sum", "warmup")

    def __init__(self, warmup: float) -> None:
        n = len(STAGES)
        self.warmup = warmup
        self.count = [0] * n
        self.area = [0.0] * n
        self.last = [0.0] * n
        self.entries = [0] * n
        self.sojourn_sum = [0.0] * n
        self.sojourn_n = [0] * n

    def move(self, old: int, since: float, new: int, now: float) -> None:
        """A citizen moves from stage ``old`` (entered at ``since``; -1 = none) to ``new``, or
        leaves the system when ``new`` is -1. Written out flat: it runs several times per
        citizen."""
        area, count, last = self.area, self.count, self.last
        if old >= 0:
            area[old] += count[old] * (now - last[old])
            last[old] = now
            count[old] -= 1
            if since >= self.warmup:
                self.sojourn_sum[old] += now - since
                self.sojourn_n[old] += 1
        if new >= 0:
            area[new] += count[new] * (now - last[new])
            last[new] = now
            count[new] += 1
            if now >= self.warmup:
                self.entries[new] += 1

    def through(self, stage: int, now: float) -> None:
        """A citizen enters ``stage`` and leaves it at the same instant (a stage that took no
        time): exactly what ``move`` into it and ``move`` out of it at ``now`` do, in one call
        and without changing the citizen's stage. Its zero sojourn adds nothing to the sum."""
        self.area[stage] += self.count[stage] * (now - self.last[stage])
        self.last[stage] = now
        if now >= self.warmup:
            self.entries[stage] += 1
            self.sojourn_n[stage] += 1

    def leave(self, old: int, since: float, now: float) -> None:
        """A citizen leaves the system from stage ``old``."""
        self.move(old, since, -1, now)

    def area_until(self, stage: int, now: float) -> float:
        """Citizen-days spent in ``stage`` from time 0 to ``now``."""
        return self.area[stage] + self.count[stage] * (now - self.last[stage])


# --------------------------------------------------------------------------- statistics


# Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom; beyond, a close
# approximation (Cornish-Fisher) keeps numpy as the only dependency.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


Bounds = tuple[float, float]
"""The range a quantity can take: (lowest, highest)."""

UNBOUNDED: Bounds = (-math.inf, math.inf)

SAME_VALUE_TOLERANCE = 1e-9
"""Replications whose values differ by less than this (relative) are treated as one value: the
difference is floating-point rounding, not spread."""


@dataclass(frozen=True)
class Interval:
    """Mean of replications with a 95 % confidence interval.

    When every replication gave the same value (a deterministic figure such as the staff cost
    under fixed staff) the interval has no spread: ``low == high == mean`` and ``sd == 0``. The
    tables keep those numbers; what shows them writes the value once with "no spread".
    """

    mean: float
    low: float
    high: float
    sd: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def no_spread(self) -> bool:
        """Two or more replications, all with the same value (an interval of width zero)."""
        return self.n >= 2 and self.low == self.high

    def __reduce__(self) -> tuple[type[Interval], tuple[float, float, float, float, int]]:
        """Pickled as its constructor call: compiled (mypyc), a frozen class has no ``__dict__``
        for pickle to fill, and setting its fields one by one is what frozen forbids."""
        return (Interval, (self.mean, self.low, self.high, self.sd, self.n))


def t_interval(values: Sequence[float], bounds: Bounds = UNBOUNDED) -> Interval:
    """95 % t-interval of the mean of ``values``, cut to ``bounds``; NaNs (metrics undefined in
    a replication) are left out and the count says how many remained.

    Why cut rather than another method: the true mean lies inside the quantity's range, so the
    part of a t-interval outside it (a count below zero, a share above one) can never cover it;
    removing that part leaves the coverage exactly as it was. A percentile bootstrap covers too
    little at the 5-20 replications a run has, and a log or logit scale breaks on the zeros that
    rare events give. Values outside ``bounds`` widen the bounds (a wrong bound never hides data).
    Values that are all the same (up to rounding in the last digits of a float, as a mean of
    equal waits gives) have no spread: the mean is both ends and the sd is 0.
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, math.nan, 1)
    low_x, high_x = float(x.min()), float(x.max())
    if math.isclose(low_x, high_x, rel_tol=SAME_VALUE_TOLERANCE, abs_tol=1e-12):
        return Interval(mean, mean, mean, 0.0, n)
    sd = float(x.std(ddof=1))
    h = t_quantile_975(n - 1) * sd / math.sqrt(n)
    lo, hi = min(bounds[0], low_x), max(bounds[1], high_x)
    return Interval(mean, max(mean - h, lo), min(mean + h, hi), sd, n)


def paired_interval(a: Sequence[float], b: Sequence[float], bounds: Bounds = UNBOUNDED) -> Interval:
    """95 % t-interval of the mean paired difference a - b (same replications, same citizens),
    cut to ``bounds`` (see ``difference_bounds``)."""
    diffs = [x - y for x, y in zip(a, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
    return t_interval(diffs, bounds)


def metric_interval(metric: str, values: Sequence[float]) -> Interval:
    """The 95 % interval of a metric's mean over replications, inside the metric's bounds."""
    return t_interval(values, metric_bounds(metric))


def metric_difference(metric: str, a: Sequence[float], b: Sequence[float]) -> Interval:
    """The 95 % interval of a metric's mean paired difference a - b, inside its bounds."""
    return paired_interval(a, b, difference_bounds(metric))


def wait_summary(waits: Sequence[float]) -> tuple[float, float, float]:
    """Mean, median and 90th percentile of completed waits (NaN when there are none)."""
    if not waits:
        return math.nan, math.nan, math.nan
    x = np.asarray(waits, dtype=float)
    return float(x.mean()), float(np.median(x)), float(np.quantile(x, 0.9))


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), in the time unit of the rates."""
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1:
        return math.inf
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    last = term * a / servers
    p_wait = last / (1 - rho) / (total + last / (1 - rho))
    return p_wait / (servers * service_rate - arrival_rate)


def unit_of(metric: str) -> str:
    """The unit of a metric, from the metric registry ("" for a name the simulation does not
    emit): every reported figure names its unit."""
    from sim.model.registry import unit_of as registry_unit  # the registry imports this module

    return registry_unit(metric)


def metric_bounds(metric: str) -> Bounds:
    """The range a metric's value (and so its mean) can take, from the metric registry: counts,
    hours, weeks and money are never negative; a share lies in 0-1; an unknown name is not
    bounded."""
    from sim.model.registry import bounds_of

    return bounds_of(metric)


def difference_bounds(metric: str) -> Bounds:
    """The range of a paired difference of ``metric``: plus or minus the width of its range (a
    count's difference has no bound at zero; a share's lies in -1 to 1)."""
    lo, hi = metric_bounds(metric)
    return (lo - hi, hi - lo)


UNSPENT_NOTE_SHARE = 0.02
"""Budget left unspent above this share of the budget is said in the headline and the console
(fixed staff in whole or half FTEs rarely costs the budget exactly)."""


def unspent_dkk(budget_dkk: float, staff_cost_dkk: float) -> float:
    """Budget not spent on staff, DKK per year."""
    return budget_dkk - staff_cost_dkk


def unspent_to_mention(budget_dkk: float, staff_cost: dict[str, float]) -> dict[str, float]:
    """Per model, the budget not spent on staff (DKK/year) when it is more than
    ``UNSPENT_NOTE_SHARE`` of the budget; models below that are left out."""
    out = {}
    for model, cost in staff_cost.items():
        left = unspent_dkk(budget_dkk, cost)
        if math.isfinite(left) and left > UNSPENT_NOTE_SHARE * budget_dkk:
            out[model] = left
    return out
