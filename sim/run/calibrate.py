"""Simulation-based calibration of the classic model's pure delay before the decision (`sim fit`).

Why: the closed-form fit (``sim.app.fit``) takes the observed time from referral to decision, less
the classic pathway's own steps, as a pure delay. A run then adds the wait for case workers' hours
on top, so where the authority is busy its queue is counted twice: once inside the observed time
the delay was fitted to, once by the simulation. Here the fitted scenario runs briefly (a few
replications, its own warm-up and seed, as `sim check` runs it: deterministic), the simulated
median time to decision is compared with the observed one, and the delay's mean is adjusted until
the two agree within the observed median's 95 % interval (at least ``TOLERANCE_WEEKS`` either side).

Both medians come from the same function over a case table (``decision_weeks``): the cases
referred in the observed period, a case still undecided on the export date counted as "at least
this long" (Kaplan-Meier), so the comparison is censoring-aware on both sides alike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.run.fitting import Median, km_median

if TYPE_CHECKING:
    import polars as pl

    from sim.model.scenario import Scenario

__all__ = [
    "REPLICATIONS",
    "TOLERANCE_WEEKS",
    "WARMUP_WEEKS",
    "Search",
    "Trial",
    "decision_weeks",
    "observed_median",
    "search_delay",
    "simulated_median",
]

REPLICATIONS = 10
"""Replications per trial: pooled, a few hundred decisions each; the seed is the scenario's, so
every trial draws the same citizens (common random numbers) and the search is deterministic."""
WARMUP_WEEKS = 156.0
"""Warm-up of a trial: the scenario's own, as `sim check` runs it, at most three years. A shorter
one was tried: the fitted baseline's queue still grows after a year, and a delay calibrated on a
one-year warm-up left `sim check`'s median time to decision a week and more too long."""
TOLERANCE_WEEKS = 0.5
"""The simulated median matches when within the observed median's 95 % interval, widened to at
least this either side (half a week: medians of dates move in whole days, and a few replications
leave some Monte Carlo noise)."""
MAX_TRIALS = 8
"""Simulations at most (the first is the closed-form delay)."""
MIN_DELAY_WEEKS = 0.1
"""A delay shorter than this is no delay (as in the closed-form fit)."""
MIN_RESPONSE = 0.1
"""After three trials, a search stops when the simulated median has moved less than this many
weeks per week of delay: the authority's queue absorbs the delay (it is near or over its capacity,
and citizens are served in referral order), so no delay can match."""


def decision_weeks(
    cases: pl.DataFrame, start: dt.date, as_of: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Weeks from referral to decision of the cases referred in [start, as_of], and which were
    decided: an undecided case counts to the export date (right-censored)."""
    import polars as pl

    got = cases.filter(pl.col("referral_date").is_between(pl.lit(start), pl.lit(as_of)))
    end = pl.coalesce(pl.col("decision_date"), pl.lit(as_of))
    days = got.select((end - pl.col("referral_date")).dt.total_days()).to_series()
    return days.to_numpy().astype(float) / 7.0, got["decision_date"].is_not_null().to_numpy()


def observed_median(cases: pl.DataFrame, start: dt.date, as_of: dt.date) -> Median:
    """The export's median time to decision (Kaplan-Meier, with its 95 % interval)."""
    return km_median(*decision_weeks(cases, start, as_of))


def simulated_median(
    scenario: Scenario,
    start: dt.date,
    as_of: dt.date,
    *,
    replications: int = REPLICATIONS,
    base_dir: Path | None = None,
) -> float:
    """The baseline's median time to decision over [start, as_of], its replications pooled, from
    the case tables a case system would export (``casegen``), counted as ``observed_median``."""
    import polars as pl

    from sim.run import casegen

    warm = min(scenario.experiment.warmup_weeks, WARMUP_WEEKS)
    exp = scenario.experiment.model_copy(update={"warmup_weeks": warm})
    short = scenario.model_copy(update={"experiment": exp})
    tl = casegen.timeline(short, start, as_of)
    tables = casegen.simulate_cases(short, tl, replications=replications, base_dir=base_dir)
    weeks, ended = decision_weeks(pl.concat(tables), start, as_of)
    return km_median(weeks, ended).value if ended.any() else math.inf


@dataclass(frozen=True)
class Trial:
    """One simulation: the delay's mean (weeks) and the simulated median time to decision."""

    delay_mean: float
    simulated: float


@dataclass(frozen=True)
class Search:
    """The trials in order, the one chosen (the match, else the closest), whether it matched, and
    whether no delay at all still gave too long a time (the queue alone exceeds the observed)."""

    trials: tuple[Trial, ...]
    chosen: Trial
    matched: bool
    queue_exceeds: bool
    low: float
    high: float

    @property
    def response(self) -> float:
        """Weeks of simulated median per week of delay, from the shortest to the longest delay
        tried (nan with one delay)."""
        first = min(self.trials, key=lambda t: t.delay_mean)
        last = max(self.trials, key=lambda t: t.delay_mean)
        if last.delay_mean == first.delay_mean:
            return math.nan
        return (last.simulated - first.simulated) / (last.delay_mean - first.delay_mean)

    @property
    def insensitive(self) -> bool:
        """Not matched because the time to decision hardly depends on the delay."""
        return not self.matched and self.response < MIN_RESPONSE


def target_band(observed: Median, tolerance: float = TOLERANCE_WEEKS) -> tuple[float, float]:
    """The simulated medians that match: the observed median's 95 % interval, at least
    ``tolerance`` weeks either side of it."""
    return min(observed.low, observed.value - tolerance), max(
        observed.high, observed.value + tolerance
    )


def search_delay(
    simulate: Callable[[float], float],
    observed: Median,
    start: float,
    *,
    tolerance: float = TOLERANCE_WEEKS,
    max_trials: int = MAX_TRIALS,
) -> Search:
    """Adjust the delay's mean until ``simulate(mean)`` (the simulated median) lies in the target
    band (``target_band``), starting from ``start`` and bounded at 0.

    Each step moves the delay by the gap between the observed and simulated medians (the queue's
    part of the time hardly depends on a pure delay, which takes no one's hours); once both a too
    short and a too long delay are known, a step outside them bisects instead. Stops at a match,
    at a delay of 0 that is still too long, when three trials show the median hardly moves with
    the delay (``MIN_RESPONSE``), or after ``max_trials`` simulations."""
    low, high = target_band(observed, tolerance)
    trials: list[Trial] = []
    short: float | None = None  # the longest delay known to give too short a time
    long: float | None = None  # the shortest delay known to give too long a time
    delay = _delay(start)
    while len(trials) < max_trials:
        trial = Trial(delay, simulate(delay))
        trials.append(trial)
        if low <= trial.simulated <= high:
            return Search(tuple(trials), trial, True, False, low, high)
        if trial.simulated > high:
            if delay == 0:
                return Search(tuple(trials), trial, False, True, low, high)
            long = delay if long is None else min(long, delay)
        else:
            short = delay if short is None else max(short, delay)
        delay = _next(delay, trial.simulated - observed.value, short, long)
        if any(t.delay_mean == delay for t in trials):
            break  # the bracket has closed to a trial already run
        if len(trials) >= 3 and Search(tuple(trials), trial, False, False, low, high).insensitive:
            break
    best = min(trials, key=lambda t: abs(t.simulated - observed.value))
    return Search(tuple(trials), best, False, False, low, high)


def _delay(mean: float) -> float:
    """The delay's mean as the scenario will hold it: two decimals, 0 when negligible."""
    mean = round(max(0.0, mean), 2)
    return 0.0 if mean < MIN_DELAY_WEEKS else mean


def _next(delay: float, gap: float, short: float | None, long: float | None) -> float:
    """The next delay: the gap taken off, or the middle of the bracket when that leaves it."""
    step = _delay(delay - gap)
    if short is not None and long is not None and not short < step < long:
        return _delay((short + long) / 2)
    return step
