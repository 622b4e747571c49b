"""How much work and memory a run will take, estimated from the scenario before anything runs.

A scenario can be valid and still far too big for the machine: a referral rate of thousands a week
simulated for eleven years creates millions of citizens per replication. The commands estimate the
run first and refuse one beyond the limits (``--force`` runs it anyway), so the user learns it in a
second instead of after the machine starts swapping.

The estimate is a sum of measured costs (``sim run``, Python 3.11, Linux x86-64, RSS from
``/usr/bin/time -v``; ``--jobs 1``, horizon 104 weeks, 2 replications, two models):

- a ``sim`` process with numpy, simpy, pydantic and polars loaded: 110 MB
  (odder.yaml at 3 referrals/week: 110 MB);
- each citizen of the replication a worker is simulating: 1.8 KB (slope of peak RSS against
  referrals: 100/week -> 130 MB, 200/week -> 144 MB, 400/week without abandonment -> 184 MB,
  i.e. 1.6-1.9 KB per referred citizen; the citizens that wait stay in memory until the end);
- with ``--events``, each row of the event log, kept in the parent for every replication and
  model until it is written: 0.32 KB, about 12 rows per citizen and model (large.yaml, 572 weeks,
  2 replications: 1,512,224 rows = 11.6 per citizen and model, peak 598 MB);
- the weekly snapshots kept per replication and model: 8 bytes x 8 series x weeks;
- with ``--jobs N`` (N > 1), each worker process: 80 MB before its citizens, beside the parent
  (summed RSS of the process tree, sampled every 0.2 s: ``sim run --jobs 2`` at 200 referrals a
  week, 242 MB; ``sim sweep --jobs 2`` of sweeps/budget_and_demand.yaml, forkserver included,
  288 MB).

Measured peak RSS / estimate on those runs: 0.92-0.97 without the event log (odder.yaml at 3,
100, 200 and 400 referrals a week), 0.93 and 1.04 with it (large.yaml; odder.yaml, 4
replications); 0.68 and 1.06 for the two runs with two workers. With the event log of an
overloaded queue the estimate is 2-3 times too high (citizens who never leave the waiting list have
fewer rows): it errs on the safe side. It is an estimate, not a bound: treat it as right within a
factor of about 1.5.

Work is counted in **citizen-replications**: citizens per replication x replications x models
(each model simulates the same citizens). At roughly 3,000-5,000 per second per core, the default
limit (``MAX_WORK``, 50 M) is a few hours on one core.

The limits can be changed with the environment variables ``SIM_MAX_MEMORY_MB`` and
``SIM_MAX_WORK`` (citizen-replications), e.g. on a large server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.scenario import Scenario

MB = 1024 * 1024
PROCESS_BYTES = 110 * MB
"""Resident memory of one ``sim`` process with its libraries loaded, before any citizen."""
WORKER_BYTES = 80 * MB
"""Resident memory of a worker process before its citizens (forked or forkserver workers share
part of the parent's libraries)."""
CITIZEN_BYTES = 1800
"""Memory per citizen of the replication being simulated (measured slope, see above)."""
EVENT_ROW_BYTES = 320
"""Memory per event-log row held until the log is written."""
EVENT_ROWS_PER_CITIZEN = 12
"""Event-log rows per citizen and model (measured on odder.yaml; most citizens of a quiet queue)."""
SNAPSHOT_SERIES = 8
"""Weekly series kept per replication and model (an upper bound on TIMESERIES_COLUMNS)."""
MAX_REREFERRAL_FACTOR = 10.0
"""Cap on the expected referrals per citizen when nearly everyone who leaves comes back."""
MAX_WORK = 50_000_000
"""Default limit on citizen-replications: 3-5 hours on one core (``sim run`` simulates 3,000-5,000
citizen-replications a second; large.yaml's default run is 0.65 M, odder.yaml's 0.13 M)."""


@dataclass(frozen=True)
class Estimate:
    """The size of a run: citizens, work and peak memory (bytes, all processes together)."""

    citizens_per_replication: float
    replications: int
    models: int
    workers: int
    work: float
    memory_bytes: float

    def describe(self) -> str:
        """'~1.2 M citizens per replication x 30 replications x 2 models = 72 M ..., ~4.1 GB'."""
        return (
            f"~{_count(self.citizens_per_replication)} citizens per replication x "
            f"{self.replications} replications x {self.models} models = "
            f"{_count(self.work)} citizen-replications, ~{_size(self.memory_bytes)} of memory "
            f"with {self.workers} worker{'s' * (self.workers > 1)}"
        )


@dataclass(frozen=True)
class Limits:
    """What a run may take before it needs ``--force``."""

    memory_bytes: float
    work: float

    def describe(self) -> str:
        return f"{_size(self.memory_bytes)} of memory, {_count(self.work)} citizen-replications"


def _count(x: float) -> str:
    for div, unit in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def _size(nbytes: float) -> str:
    gb = nbytes / 1024**3
    return f"{gb:.3g} GB" if gb >= 1 else f"{nbytes / MB:.0f} MB"


def machine_memory_bytes() -> float:
    """Physical memory of this machine (bytes); 8 GB when the system does not say."""
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not Linux/macOS
        return 8.0 * 1024**3


def default_limits() -> Limits:
    """Half of the machine's memory and ``MAX_WORK``, or the values of ``SIM_MAX_MEMORY_MB`` and
    ``SIM_MAX_WORK`` when set (a larger server, or a test)."""
    memory = _env("SIM_MAX_MEMORY_MB", machine_memory_bytes() / 2 / MB) * MB
    return Limits(memory, _env("SIM_MAX_WORK", float(MAX_WORK)))


def _env(name: str, default: float) -> float:
    """A positive number from the environment, else ``default`` (also for an unreadable value)."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def referrals_per_replication(scenario: Scenario, base_dir: Path | None = None) -> float:
    """Expected new referrals in one replication (the whole horizon, warm-up included)."""
    from sim.model.scenario import CsvArrivals

    exp = scenario.experiment
    arrivals = scenario.arrivals
    if isinstance(arrivals, CsvArrivals):
        horizon_days = exp.horizon_weeks * 7
        days = arrivals.days(base_dir or Path("."))
        return float(sum(1 for d in days if d < horizon_days))
    factors = arrivals.monthly_factors
    mean_factor = sum(factors) / len(factors) if factors else 1.0
    return arrivals.rate_per_week * mean_factor * exp.horizon_weeks


def citizens_per_replication(scenario: Scenario, base_dir: Path | None = None) -> float:
    """Citizens one replication of one model simulates: the initial caseload, the referrals, and
    the referrals again of those who come back (``1 / (1 - p)``, capped)."""
    p = scenario.exits.rereferral_probability
    again = min(1.0 / (1.0 - p), MAX_REREFERRAL_FACTOR) if p < 1 else MAX_REREFERRAL_FACTOR
    start = scenario.initial_caseload.in_support + scenario.initial_caseload.waiting
    return start + referrals_per_replication(scenario, base_dir) * again


def estimate(
    citizens: float,
    *,
    replications: int,
    models: int,
    jobs: int,
    weeks: float,
    events: bool = False,
) -> Estimate:
    """Work and peak memory of ``replications`` x ``models`` runs of ``citizens`` each.

    Pure: linear in citizens (per worker), in replications x models (snapshots, event log) and in
    the number of workers running at once.
    """
    workers = max(1, min(jobs, replications))
    runs = replications * models
    simulating = citizens * CITIZEN_BYTES
    kept = runs * weeks * SNAPSHOT_SERIES * 8
    if events:
        kept += runs * citizens * EVENT_ROWS_PER_CITIZEN * EVENT_ROW_BYTES
    if workers == 1:
        memory = PROCESS_BYTES + simulating + kept
    else:
        memory = PROCESS_BYTES + kept + workers * (WORKER_BYTES + simulating)
    return Estimate(
        citizens_per_replication=citizens,
        replications=replications,
        models=models,
        workers=workers,
        work=citizens * runs,
        memory_bytes=memory,
    )


def estimate_scenario(
    scenario: Scenario,
    *,
    replications: int | None = None,
    models: int | None = None,
    jobs: int = 1,
    events: bool = False,
    base_dir: Path | None = None,
) -> Estimate:
    """``estimate`` for a scenario (its replications and compared models unless given)."""
    return estimate(
        citizens_per_replication(scenario, base_dir),
        replications=replications or scenario.experiment.replications,
        models=models or len(scenario.compare),
        jobs=jobs,
        weeks=scenario.experiment.horizon_weeks,
        events=events,
    )


def combine(parts: list[Estimate]) -> Estimate:
    """Several runs one after another (sweep points, optimiser passes): work adds up, memory is
    the largest of them."""
    if not parts:
        return Estimate(0.0, 0, 0, 1, 0.0, float(PROCESS_BYTES))
    worst = max(parts, key=lambda e: e.memory_bytes)
    return Estimate(
        citizens_per_replication=max(e.citizens_per_replication for e in parts),
        replications=sum(e.replications for e in parts),
        models=max(e.models for e in parts),
        workers=max(e.workers for e in parts),
        work=sum(e.work for e in parts),
        memory_bytes=worst.memory_bytes,
    )


def refusal(est: Estimate, limits: Limits) -> str | None:
    """A one-line reason to refuse the run, or None when it is within the limits."""
    over = []
    if est.memory_bytes > limits.memory_bytes:
        over.append(f"memory above the limit of {_size(limits.memory_bytes)}")
    if est.work > limits.work:
        over.append(f"work above the limit of {_count(limits.work)} citizen-replications")
    if not over:
        return None
    return (
        f"this run is too large: {est.describe()}; {' and '.join(over)}. Reduce the referral "
        "rate, caseload, horizon or replications, or add --force to run it anyway"
    )
