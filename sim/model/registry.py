"""Every metric the simulation emits, once: its unit, range, scale, decimals and where it is shown.

One table in the spirit of treat-sim's RESULT_FIELDS: the statistics read a metric's bounds here
(a count's interval never goes below zero), the results tables its unit, the console and the
reports its decimals, scale and the places that show it. Nothing infers a unit from a name any
more. Metrics that follow a pattern (``{stage}_mean_citizens``,
``{group}_{category}_hours_per_year``) are generated once by the small functions below.

A new metric is: the line in ``Simulation._metrics`` (pathway.py) that computes it, its entry
here, and one label line per language (``sim/present/locales/*.toml``, section ``[metric]``).
Tests check that the simulation's metrics and this table agree both ways and that every entry
has a label in every language.

The order of the table is the reading order: every place shows its metrics in this order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from sim.model.engine import CATEGORIES
from sim.model.metrics import STAGES, UNBOUNDED, Bounds

GROUPS: tuple[str, ...] = ("authority", "provider")
"""Staff groups, as in the pools of the engine."""

HOUR_CATEGORIES: tuple[str, ...] = (*CATEGORIES, "idle")
"""Categories of staff hours in the metrics: the held categories, then idle."""

# Unit keys (as the results tables write them; each has a label ``unit.<key>`` per language).
CITIZENS_PER_YEAR = "citizens/year"
GOALS_PER_YEAR = "goals/year"
CITIZENS = "citizens"
HOURS_PER_YEAR = "hours/year"
WEEKS = "weeks"
DKK = "DKK"
DKK_PER_YEAR = "DKK/year"
SHARE = "share (0-1)"

NON_NEGATIVE: Bounds = (0.0, math.inf)
SHARE_BOUNDS: Bounds = (0.0, 1.0)

PLACES: frozenset[str] = frozenset(
    {"console", "key_figures", "forest", "compare_table", "compare_figures"}
)
"""Where a metric can be shown: the tables of ``sim run``, the report's key-figure table, its
forest chart of paired differences, and the comparison report's table and figures."""


@dataclass(frozen=True)
class Metric:
    """One metric: how it is measured, bounded, scaled for reading, rounded and where shown."""

    name: str
    unit: str
    """Unit key of the value in the results tables (``citizens/year``, ``share (0-1)`` ...)."""
    bounds: Bounds = NON_NEGATIVE
    """The range a value (and so a mean) can take; counts, hours, weeks and money are >= 0."""
    scale: float = 1.0
    """Factor from the tables' value to the shown value (a share is shown in percent)."""
    shown_unit: str = ""
    """Unit key of the shown value (``percent`` for a share); the table's unit when empty."""
    digits: int = 1
    """Decimals the console shows."""
    shown: frozenset[str] = frozenset()
    """The places that show it (see ``PLACES``)."""

    @property
    def count(self) -> bool:
        """Whether the metric is bounded at zero from below (a count, hours, weeks, money)."""
        return self.bounds[0] == 0.0

    @property
    def display_unit(self) -> str:
        return self.shown_unit or self.unit


def _m(name: str, unit: str, *shown: str) -> Metric:
    """An entry with the defaults of its unit: shares in 0-1 shown in percent to one decimal,
    hours and money to whole numbers, the rest to one decimal."""
    if not set(shown) <= PLACES:
        raise ValueError(f"{name}: unknown places {sorted(set(shown) - PLACES)}")
    if unit == SHARE:
        return Metric(name, unit, SHARE_BOUNDS, 100.0, "percent", 1, frozenset(shown))
    digits = 0 if unit in (HOURS_PER_YEAR, DKK, DKK_PER_YEAR) else 1
    return Metric(name, unit, digits=digits, shown=frozenset(shown))


ALL_RUN = ("console", "key_figures", "forest", "compare_table")
"""The places a headline metric of a run shows in."""


def _rates() -> Iterator[Metric]:
    yield _m("helped_per_year", CITIZENS_PER_YEAR, *ALL_RUN, "compare_figures")
    yield _m("s85_starts_per_year", CITIZENS_PER_YEAR, *ALL_RUN)
    yield _m("short_course_per_year", CITIZENS_PER_YEAR, *ALL_RUN)
    yield _m("completed_per_year", CITIZENS_PER_YEAR, *ALL_RUN)
    yield _m("goals_reached_per_year", GOALS_PER_YEAR, "key_figures")
    for k in ("referred", "rework", "rejected", "dropouts", "abandoned"):
        yield _m(f"{k}_per_year", CITIZENS_PER_YEAR)


def _waits() -> Iterator[Metric]:
    """Mean, median, p90 of the waits to decision and to support start, and the censored."""
    shown = {
        "time_to_decision_median_weeks": ("console", "key_figures", "forest"),
        "time_to_start_median_weeks": (*ALL_RUN, "compare_figures"),
        "time_to_start_p90_weeks": ("console", "key_figures", "compare_table"),
        "time_to_start_censored": (*ALL_RUN, "compare_figures"),
    }
    for label in ("decision", "start"):
        for stat in ("mean", "median", "p90"):
            name = f"time_to_{label}_{stat}_weeks"
            yield _m(name, WEEKS, *shown.get(name, ("console",)))
        name = f"time_to_{label}_censored"
        yield _m(name, CITIZENS, *shown.get(name, ("console",)))


def _stages() -> Iterator[Metric]:
    """Time-average and end count of citizens in each stage of the pathway."""
    for s in STAGES:
        queue = s == "support_queue"
        yield _m(f"{s}_mean_citizens", CITIZENS, *(ALL_RUN if queue else ()))
        yield _m(f"{s}_end_citizens", CITIZENS, *(("console", "key_figures") if queue else ()))


def _staff() -> Iterator[Metric]:
    """Core-task shares and hours per group and category."""
    yield _m("core_task_share", SHARE, *ALL_RUN)
    for g in GROUPS:
        yield _m(f"{g}_core_task_share", SHARE, "key_figures")
        for c in HOUR_CATEGORIES:
            yield _m(f"{g}_{c}_hours_per_year", HOURS_PER_YEAR)


def _support_and_money() -> Iterator[Metric]:
    yield _m("support_hours_delivered_per_year", HOURS_PER_YEAR)
    yield _m("over_provided_hours_per_year", HOURS_PER_YEAR, "console", "key_figures")
    yield _m("under_provided_hours_per_year", HOURS_PER_YEAR, "console", "key_figures")
    yield _m("post_goal_hours_per_year", HOURS_PER_YEAR, "console", "key_figures")
    yield _m("post_goal_weeks_per_episode", WEEKS, "console", "key_figures")
    yield _m("cost_per_helped_dkk", DKK, *ALL_RUN, "compare_figures")
    yield _m("cost_per_goal_dkk", DKK, "key_figures")
    # Fixed staff rarely costs the budget exactly; the unspent part is >= 0 by construction of
    # the staffing modes (a value outside widens the bound, see metrics.t_interval).
    yield _m("staff_cost_dkk_per_year", DKK_PER_YEAR, "key_figures", "compare_table")
    yield _m("unspent_dkk_per_year", DKK_PER_YEAR, "key_figures", "compare_table")


METRICS: dict[str, Metric] = {
    m.name: m for family in (_rates, _waits, _stages, _staff, _support_and_money) for m in family()
}
"""Every metric ``Simulation._metrics`` emits, in reading order."""


@dataclass(frozen=True)
class Derived:
    """A figure computed from a metric and the budget after the run: ``of`` per ``per_dkk`` of
    the annual budget (helped per million DKK)."""

    name: str
    of: str
    per_dkk: float
    unit: str

    def value(self, x: float, budget_dkk: float) -> float:
        """The derived value of ``x`` (a value of ``of``) under ``budget_dkk``; NaN without a
        budget."""
        per = budget_dkk / self.per_dkk
        return x / per if per and math.isfinite(per) else math.nan


DERIVED: dict[str, Derived] = {
    "helped_per_million": Derived("helped_per_million", "helped_per_year", 1e6, "per_million_dkk"),
}
"""Figures derived from a metric and the budget (the sweep report draws helped per million)."""


def lookup(name: str) -> Metric | None:
    """The registry entry of ``name``; None for a name the simulation does not emit."""
    return METRICS.get(name)


def shown_in(place: str) -> tuple[str, ...]:
    """The metrics ``place`` shows, in reading order."""
    if place not in PLACES:
        raise ValueError(f"unknown place {place!r}; expected one of: {', '.join(sorted(PLACES))}")
    return tuple(name for name, m in METRICS.items() if place in m.shown)


def unit_of(name: str) -> str:
    """The unit key of a metric ("" for a name the simulation does not emit)."""
    m = METRICS.get(name)
    return m.unit if m else ""


def bounds_of(name: str) -> Bounds:
    """The range of a metric's value; unbounded for a name the simulation does not emit."""
    m = METRICS.get(name)
    return m.bounds if m else UNBOUNDED
