"""Operational validation: does the scenario's baseline reproduce the municipality's own years?

The baseline model (the first the scenario compares) runs over the observed period, after the
scenario's warm-up, once per replication; each replication's event log becomes a case table
exactly as a case system would export it (``casegen.cases_from_events``), and the observed and
every simulated table go through the same figures (``casefigures``). See docs/model.md and the
README section "Does the baseline reproduce your last years?".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.run import casefigures as cf
from sim.run import casegen

if TYPE_CHECKING:
    import polars as pl

    from sim.model.scenario import Scenario

MIN_REPS_NOTE = 10
"""Below this many replications the bands rest on a poor estimate of the spread: warn."""


@dataclass
class CheckResult:
    """The check of one scenario against one export: rows, weekly series, and what to read with
    care (``warnings`` are keys of the locale's ``check_warn`` section with their values)."""

    scenario: str
    model: str
    timeline: casegen.Timeline
    start_inferred: bool
    replications: int
    observed_cases: int
    rows: list[cf.CheckRow]
    series: dict[str, list[Any]]
    warnings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def judged(self) -> list[cf.CheckRow]:
        return [r for r in self.rows if r.inside is not None]

    @property
    def outside(self) -> int:
        return sum(1 for r in self.judged if not r.inside)

    @property
    def allowed(self) -> int:
        return cf.allowed_outside(len(self.judged))

    @property
    def passes(self) -> bool:
        """No more figures outside their bands than chance alone would put there."""
        return self.outside <= self.allowed


def period(cases: pl.DataFrame, as_of: dt.date, start: dt.date | None) -> tuple[dt.date, bool]:
    """The observed period's start (given, or inferred from the export) and whether inferred."""
    if start is not None:
        return start, False
    inferred = cf.inferred_start(cases)
    if inferred is None:
        first = cases["referral_date"].min()
        return (first if isinstance(first, dt.date) else as_of), True
    return inferred, True


def run_check(
    scenario: Scenario,
    cases: pl.DataFrame,
    as_of: dt.date,
    *,
    start: dt.date | None = None,
    replications: int,
    jobs: int = 1,
    base_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Simulate the baseline over the export's period and put both sides side by side."""
    first, inferred = period(cases, as_of, start)
    tl = casegen.timeline(scenario, first, as_of)
    observed = cf.select_period(cases, first)
    simulated = [
        cf.select_period(s, first)
        for s in casegen.simulate_cases(
            scenario, tl, replications=replications, jobs=jobs, base_dir=base_dir,
            progress=progress,
        )
    ]  # fmt: skip
    res = CheckResult(
        scenario.name,
        scenario.compare[0],
        tl,
        inferred,
        replications,
        observed.height,
        cf.check_rows(observed, simulated, first, as_of),
        cf.caseload_series(observed, simulated, first, as_of),
    )
    res.warnings = check_warnings(res, cases.height - observed.height)
    return res


def check_warnings(res: CheckResult, dropped: int) -> list[tuple[str, dict[str, Any]]]:
    """What a reader must know before trusting the verdict."""
    out: list[tuple[str, dict[str, Any]]] = []
    tl = res.timeline
    if res.start_inferred:
        out.append(("start_inferred", {"start": tl.start.isoformat()}))
    if dropped:
        out.append(("dropped", {"n": dropped, "start": tl.start.isoformat()}))
    if (tl.as_of - tl.start).days < 365:
        out.append(("short_period", {"days": (tl.as_of - tl.start).days + 1}))
    if res.replications < MIN_REPS_NOTE:
        out.append(("few_reps", {"n": res.replications, "min": MIN_REPS_NOTE}))
    missing = [r for r in res.rows if r.inside is None]
    if missing:
        out.append(("not_judged", {"n": len(missing)}))
    if not res.passes:
        out.append(("outside", {"n": res.outside, "k": len(res.judged), "allowed": res.allowed}))
    return out
