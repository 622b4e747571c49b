"""Terminal output: result tables and progress (a bar on a terminal, plain lines otherwise)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.model import registry
from sim.model.metrics import Interval, unspent_dkk
from sim.present import i18n
from sim.present.i18n import t
from sim.run.experiment import ExperimentResult

TABLE_METRICS: tuple[str, ...] = registry.shown_in("console")
"""The metrics `sim run` prints, in the registry's reading order (labels, units, scale and
decimals come from the registry and the locale files, as in the report)."""


def fmt(iv: Interval, digits: int, lang: str = "en", scale: float = 1.0) -> str:
    """Mean with its 95 % CI, e.g. '12.3 [11.0, 13.6]'; '16,185,000 (no spread)' when every
    replication gave the same value; the mean alone when there is no CI (one replication).
    Numbers in ``lang``'s style, multiplied by ``scale`` (a share is shown in percent)."""
    if math.isnan(iv.mean):
        return t("num.na", lang)

    def num(x: float) -> str:
        return i18n.fmt_num(x * scale, lang, digits)

    if iv.no_spread:
        return f"{num(iv.mean)} ({t('num.no_spread', lang)})"
    if math.isnan(iv.low):
        return num(iv.mean)
    return f"{num(iv.mean)} [{num(iv.low)}{i18n.list_sep(lang)}{num(iv.high)}]"


def row_label(metric: str, lang: str = "en") -> str:
    """A metric's row label: its report label, capitalised."""
    label = i18n.metric_label(metric, lang)
    return label[:1].upper() + label[1:]


def _rows(
    table: Table, cells: dict[str, dict[str, Interval]], lang: str, *, diff: bool = False
) -> None:
    """One row per console metric present: label, shown unit (a difference of shares in
    percentage points), one cell per column."""
    first = next(iter(cells.values()))
    for key in TABLE_METRICS:
        if key not in first:
            continue
        m = registry.METRICS[key]
        shown = m.display_unit
        unit = i18n.unit_label("percentage_points" if diff and shown == "percent" else shown, lang)
        digits = 1 if m.scale != 1 else m.digits
        table.add_row(
            row_label(key, lang),
            unit,
            *(fmt(c[key], digits, lang, m.scale) for c in cells.values()),
        )


def summary_table(result: ExperimentResult, lang: str = "en") -> Table:
    """One column per model, one row per headline metric, each with unit and 95 % CI."""
    summary = result.summary()
    n = len({r.replication for r in result.replications})
    table = Table(
        title=t("console.summary_title", lang, scenario=result.scenario.name, n=n),
        title_justify="left",
    )
    table.add_column(t("col.metric", lang))
    table.add_column(t("col.unit", lang))
    for m in result.models:
        table.add_column(i18n.model_name(m, lang), justify="right")
    _rows(table, {m: summary[m] for m in result.models}, lang)
    table.caption = t("note.helped_sum", lang)
    table.caption_justify = "left"
    return table


def differences_table(result: ExperimentResult, lang: str = "en") -> Table | None:
    """Paired differences (each model minus the baseline) with 95 % CIs."""
    diffs = result.differences()
    if not diffs:
        return None
    table = Table(title=t("console.differences_title", lang), title_justify="left")
    table.add_column(t("col.metric", lang))
    table.add_column(t("col.unit", lang))
    for m, b in diffs:
        name, base = i18n.model_name(m, lang), i18n.model_name(b, lang)
        table.add_column(t("console.difference", lang, model=name, baseline=base), justify="right")
    _rows(table, {f"{m} {b}": d for (m, b), d in diffs.items()}, lang, diff=True)
    return table


def _iv(s: Any) -> Interval:
    """A results table's Stat (mean, low, high, n) as the Interval ``fmt`` prints."""
    return Interval(s.mean, s.low, s.high, math.nan, s.n)


def compare_table(runs: Sequence[Any], lang: str = "en") -> Table:
    """`sim compare` on the terminal: one row per metric of the comparison report, a column per
    run and model (mean [95 % CI]) and per paired difference, in the registry's units."""
    from sim.present.plots import pair_label, run_labels
    from sim.present.report import COMPARE_TABLE_METRICS

    table = Table(title=t("report.key_metrics_by_run", lang), title_justify="left")
    table.add_column(t("col.metric", lang))
    table.add_column(t("col.unit", lang))
    labels = run_labels(runs, lang)
    for label, r in zip(labels, runs, strict=True):
        for m in r.models:
            table.add_column(f"{label}\n{i18n.model_name(m, lang)}", justify="right")
        for m, b in r.comparisons:
            table.add_column(f"{label}\n{pair_label(m, b, lang)}", justify="right")
    for key in COMPARE_TABLE_METRICS:
        m = registry.METRICS[key]
        digits = 1 if m.scale != 1 else m.digits
        cells = []
        for r in runs:
            cells += [fmt(_iv(r.stat(x, key)), digits, lang, m.scale) for x in r.models]
            cells += [fmt(_iv(r.diff(x, key, b)), digits, lang, m.scale) for x, b in r.comparisons]
        table.add_row(row_label(key, lang), i18n.unit_label(m.display_unit, lang), *cells)
    return table


def print_result(
    result: ExperimentResult,
    console: Console,
    lang: str = "en",
    warnings: Sequence[str] | None = None,
) -> None:
    """The tables `sim run` prints, plus the staffing and queue discipline in force, in ``lang``
    (the same labels as the report); then ``warnings`` (the folder's, sim.present.warnings: the
    report's list), or without them the unspent budget and warm-up warnings of the result."""
    sc = result.scenario
    console.print(summary_table(result, lang))
    diff = differences_table(result, lang)
    if diff is not None:
        console.print(diff)
    budget = sc.budget.annual_dkk
    staff = {m: (a, p, sc.staff_cost_dkk((a, p))) for m, (a, p) in result.fte.items()}
    for m, (a, p, cost) in staff.items():
        console.print(
            t(
                "console.staff",
                lang,
                model=i18n.model_name(m, lang),
                authority=i18n.fmt_num(a, lang, 2),
                provider=i18n.fmt_num(p, lang, 2),
                cost=i18n.fmt_num(cost, lang, 0),
                unspent=i18n.fmt_num(unspent_dkk(budget, cost), lang, 0),
            )
        )
    from sim.present.report import unspent_notes  # the report (plotly, polars) only when printing

    for note in unspent_notes(budget, staff, lang) if warnings is None else ():
        console.print(f"[bold]{escape(t('console.note', lang))}[/bold] {escape(note)}")
    queue = sc.support_queue
    console.print(
        t(
            "console.queues",
            lang,
            reviews=t(f"console.reviews.{sc.review_priority}", lang),
            review_hours=t(f"console.review_hours.{sc.review_provider_hours}", lang),
            queue=t(f"value.{queue}", lang) if i18n.has(f"value.{queue}", lang) else queue,
        )
    )
    if warnings is None:
        print_settling(result, console, lang)
        return
    from sim.present.warnings import print_warnings

    print_warnings(warnings, console, lang)


def print_settling(result: ExperimentResult, console: Console, lang: str = "en") -> None:
    """A warning per model whose stage counts still trend after the warm-up (sim.run.settle)."""
    from rich.text import Text

    from sim.present.settling import warnings
    from sim.run import settle

    for w in warnings([v.row() for v in settle.check_result(result)], lang):
        console.print(Text.assemble((t("console.warning", lang) + " ", "bold yellow"), w))


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
