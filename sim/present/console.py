"""Terminal output: result tables and progress (a bar on a terminal, plain lines otherwise)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.model.metrics import Interval, unit_of, unspent_dkk
from sim.present.i18n import t
from sim.present.report import unspent_notes
from sim.run.experiment import ExperimentResult

TABLE_METRICS: tuple[tuple[str, str, int], ...] = (
    ("helped_per_year", "Helped (started support)", 1),
    ("s85_starts_per_year", t("console.s85_starts", "en"), 1),
    ("short_course_per_year", t("console.short_course", "en"), 1),
    ("completed_per_year", "Completed (goals reached)", 1),
    ("time_to_decision_mean_weeks", "Time to decision, mean", 1),
    ("time_to_decision_median_weeks", "Time to decision, median", 1),
    ("time_to_decision_p90_weeks", "Time to decision, p90", 1),
    ("time_to_decision_censored", "  censored: no decision yet at the end", 1),
    ("time_to_start_mean_weeks", "Time to support start, mean", 1),
    ("time_to_start_median_weeks", "Time to support start, median", 1),
    ("time_to_start_p90_weeks", "Time to support start, p90", 1),
    ("time_to_start_censored", "  censored: not started yet at the end", 1),
    ("support_queue_mean_citizens", "Waiting list for support (time-average)", 1),
    ("support_queue_end_citizens", "Waiting list for support at the end", 1),
    ("core_task_share", "Core-task share (citizen-facing / productive)", 3),
    ("over_provided_hours_per_year", "Support hours over-provided", 0),
    ("under_provided_hours_per_year", "Support hours under-provided", 0),
    ("post_goal_hours_per_year", t("console.post_goal_hours", "en"), 0),
    ("post_goal_weeks_per_episode", t("console.post_goal_weeks", "en"), 1),
    ("cost_per_helped_dkk", "Cost per citizen helped", 0),
)
"""The metrics `sim run` prints, with labels and decimals."""


def fmt(iv: Interval, digits: int) -> str:
    """Mean with its 95 % CI, e.g. '12.3 [11.0, 13.6]'; '16,185,000 (no spread)' when every
    replication gave the same value; the mean alone when there is no CI (one replication)."""
    if math.isnan(iv.mean):
        return "n/a"

    def num(x: float) -> str:
        text = f"{x:,.{digits}f}"
        return (
            text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text
        )

    if iv.no_spread:
        return f"{num(iv.mean)} ({t('num.no_spread', 'en')})"
    if math.isnan(iv.low):
        return num(iv.mean)
    return f"{num(iv.mean)} [{num(iv.low)}, {num(iv.high)}]"


def summary_table(result: ExperimentResult) -> Table:
    """One column per model, one row per headline metric, each with unit and 95 % CI."""
    summary = result.summary()
    n = len({r.replication for r in result.replications})
    table = Table(
        title=f"{result.scenario.name}: mean [95 % CI] over {n} replications",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("unit")
    for m in result.models:
        table.add_column(m, justify="right")
    for key, label, digits in TABLE_METRICS:
        if key not in summary[result.models[0]]:
            continue
        table.add_row(label, unit_of(key), *(fmt(summary[m][key], digits) for m in result.models))
    table.caption = t("note.helped_sum", "en")
    table.caption_justify = "left"
    return table


def differences_table(result: ExperimentResult) -> Table | None:
    """Paired differences (each model minus the baseline) with 95 % CIs."""
    diffs = result.differences()
    if not diffs:
        return None
    table = Table(
        title="Paired differences on the same citizens: mean [95 % CI]", title_justify="left"
    )
    table.add_column("metric")
    table.add_column("unit")
    for m, b in diffs:
        table.add_column(f"{m} - {b}", justify="right")
    for key, label, digits in TABLE_METRICS:
        if key not in next(iter(diffs.values())):
            continue
        table.add_row(label, unit_of(key), *(fmt(d[key], digits) for d in diffs.values()))
    return table


def print_result(result: ExperimentResult, console: Console) -> None:
    """The tables `sim run` prints, plus the staffing and queue discipline in force."""
    sc = result.scenario
    console.print(summary_table(result))
    diff = differences_table(result)
    if diff is not None:
        console.print(diff)
    budget = sc.budget.annual_dkk
    staff = {m: (a, p, sc.staff_cost_dkk((a, p))) for m, (a, p) in result.fte.items()}
    for m, (a, p, cost) in staff.items():
        console.print(
            f"{m}: authority {a:.2f} FTE, provider {p:.2f} FTE; staff cost {cost:,.0f} DKK/year, "
            f"unspent {unspent_dkk(budget, cost):,.0f} DKK/year"
        )
    for note in unspent_notes(budget, staff, "en"):
        console.print(f"[bold]Note:[/bold] {escape(note)}")
    reviews = "before new intake" if sc.review_priority == "reviews_first" else "in arrival order"
    review_hours = (
        "from the provider's free hours"
        if sc.review_provider_hours == "free"
        else "inside the citizen's support hours"
    )
    console.print(
        f"Queues: intake first-fit in arrival order, before support starts; reviews {reviews}, "
        f"provider's review hours {review_hours}; support waiting list {sc.support_queue}."
    )
    print_settling(result, console)


def print_settling(result: ExperimentResult, console: Console) -> None:
    """A warning per model whose stage counts still trend after the warm-up (sim.run.settle)."""
    from rich.text import Text

    from sim.present.settling import warnings
    from sim.run import settle

    for w in warnings([v.row() for v in settle.check_result(result)], "en"):
        console.print(Text.assemble(("Warning: ", "bold yellow"), w))


class Progress:
    """Counts finished tasks: a rich bar on a terminal, a plain line every few percent otherwise
    (so CI logs show the run is alive)."""

    def __init__(self, label: str, stream: TextIO | None = None, every_pct: float = 10.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every_pct
        self._next = every_pct
        self._start = time.monotonic()
        self._bar = None
        self._task = None
        if self.stream.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )

    def __enter__(self) -> Callable[[int, int], None]:
        if self._bar is not None:
            self._bar.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task(self.label, total=total)
            self._bar.update(self._task, completed=done)
            return
        pct = 100.0 * done / total if total else 100.0
        if pct + 1e-9 >= self._next or done == total:
            elapsed = time.monotonic() - self._start
            left = elapsed / done * (total - done) if done else math.nan
            print(
                f"[{self.label}] {done}/{total} done, {elapsed:.1f} s elapsed, ~{left:.0f} s left",
                file=self.stream,
                flush=True,
            )
            while self._next <= pct:
                self._next += self.every
