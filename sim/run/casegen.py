"""Case exports from simulated event logs: synthetic test data, and the simulated side of a check.

A municipality's case system exports one row per case (interface (C), ``sim.config.cases``):
referral, decision, support start and end, granted hours. ``cases_from_events`` builds that table
from the event log of a run (``sim.model.eventlog``), cut at an export date the way a real export
is: what has not happened by then is empty. `sim check` applies the very same function to every
simulated replication, so the observed and simulated figures come through one definition.

``write_export`` writes such a table as a CSV, tidy or as messy as real exports are (Danish dates,
``;``, decimal commas, a BOM, shuffled columns, stray spaces). Every id starts with ``SYN-`` so a
synthetic export can never be mistaken for real citizens' data.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import eventlog
from sim.model.engine import DAYS_PER_WEEK

if TYPE_CHECKING:
    import polars as pl

    from sim.model.scenario import Scenario

CASE_COLUMNS = (
    "case_id",
    "citizen_id",
    "paragraph",
    "referral_date",
    "decision_date",
    "decision",
    "start_date",
    "end_date",
    "hours_per_week",
)
"""The columns of a case export, in the order of interface (C)."""

DATE_COLUMNS = ("referral_date", "decision_date", "start_date", "end_date")

INTAKE_ORDER = (
    "coordinating the first meeting",
    "assessment meeting",
    "joint meeting",
    "assessment",
    "first contact documentation",
    "hearing and statements",
    "waiting for committee",
    "decision",
    "decision delay",
)
"""The activities from referral to decision in pathway order (``Simulation._build_plans``). A
model's decision is the end of the last of them that it has: the decision is made when its whole
intake is done (a row only appears once its hours are taken, so "the next row's start" would be
late)."""

STARTS = (eventlog.SUPPORT, eventlog.SHORT_COURSE)
ENDS = (eventlog.EXIT["completed"], eventlog.EXIT["dropout"], eventlog.EXIT["abandoned"])


@dataclass(frozen=True)
class Timeline:
    """How a run's simulated days map onto the calendar of an export.

    ``day0`` is simulated day 0, always a 1 January so monthly referral factors fall on the right
    months; the observed period runs from ``start`` (simulated day ``warmup_days``, at least the
    scenario's warm-up) to ``as_of`` (the export date, its whole day included)."""

    day0: dt.date
    start: dt.date
    as_of: dt.date

    @property
    def warmup_days(self) -> float:
        return float((self.start - self.day0).days)

    @property
    def horizon_days(self) -> float:
        return float((self.as_of - self.day0).days + 1)


def timeline(scenario: Scenario, start: dt.date, as_of: dt.date) -> Timeline:
    """Day 0 on the 1 January that leaves at least the scenario's warm-up before ``start``."""
    if as_of < start:
        raise ValueError(f"the export date {as_of} is before the period's start {start}")
    warm = math.ceil(scenario.experiment.warmup_weeks * DAYS_PER_WEEK)
    earliest = start - dt.timedelta(days=warm)
    return Timeline(dt.date(earliest.year, 1, 1), start, as_of)


def for_timeline(scenario: Scenario, tl: Timeline) -> Scenario:
    """The scenario with its horizon and warm-up set to cover ``tl``."""
    exp = scenario.experiment.model_copy(
        update={
            "horizon_weeks": tl.horizon_days / DAYS_PER_WEEK,
            "warmup_weeks": tl.warmup_days / DAYS_PER_WEEK,
        }
    )
    return scenario.model_copy(update={"experiment": exp})


def _first(df: pl.DataFrame, activities: tuple[str, ...], col: str, name: str) -> pl.DataFrame:
    """Per citizen: ``col`` of its first row whose activity is one of ``activities``."""
    import polars as pl

    return (
        df.filter(pl.col("activity").is_in(activities))
        .group_by("citizen")
        .agg(pl.col(col).sort_by("start_day").first().alias(name))
    )


def _decision_activity(df: pl.DataFrame) -> str | None:
    """The last intake activity this model's log has (None: a model with no intake at all)."""
    present = set(df["activity"].unique().to_list())
    names = [a for a in INTAKE_ORDER if a in present]
    return names[-1] if names else None


def _days(df: pl.DataFrame) -> pl.DataFrame:
    """Per citizen of one replication's log: referral, decision, start and end in simulated days,
    rejected or not, short course or not, and the granted hours."""
    import polars as pl

    cit = df.select("citizen").unique()
    ref = _first(df, (eventlog.REFERRAL,), "start_day", "ref")
    init = _first(df, (eventlog.INITIAL,), "start_day", "init")
    last = _decision_activity(df)
    no_intake = last is None
    dec = ref.rename({"ref": "dec"}) if no_intake else _first(df, (last,), "end_day", "dec")
    rej = _first(df, (eventlog.EXIT["rejected"],), "start_day", "rej")
    start = _first(df, STARTS, "start_day", "start")
    short = _first(df, (eventlog.SHORT_COURSE,), "start_day", "short")
    hours = _first(df, STARTS, "granted_hours_per_week", "hours")
    end = _first(df, ENDS, "start_day", "end")
    out = cit
    for part in (ref, init, dec, rej, start, short, hours, end):
        out = out.join(part, on="citizen", how="left")
    return out.with_columns(
        dec=pl.coalesce("rej", "dec", pl.when(pl.col("init").is_not_null()).then(pl.col("init"))),
        refused=pl.col("rej").is_not_null(),
        is_short=pl.col("short").is_not_null(),
    )


def cases_from_events(
    events: pl.DataFrame, tl: Timeline, *, open_at_start: bool = True, prefix: str = "SYN"
) -> pl.DataFrame:
    """One replication's event log (``eventlog.frame`` of one model and replication) as a case
    export cut at ``tl.as_of``: interface (C)'s columns, dates as ``pl.Date``.

    Kept: the cases referred in the period ``tl.start``-``tl.as_of`` and, with ``open_at_start``
    (the default: what a case system's "active cases in a period" gives), those referred earlier
    and still open on ``tl.start`` (a citizen of the scenario's initial caseload then carries day
    0 as its referral date: the run knows no earlier one). A date after the export date is empty,
    as in a real export: a case decided later is undecided, a support that ends later is open. A
    refused case has no end date (its decision closes it); a granted case whose citizen gave up
    waiting ends that day without a start. Granted hours are known once support starts (the log
    records them there).
    """
    import polars as pl

    d = _days(events)
    start_day, as_of_day = tl.warmup_days, tl.horizon_days
    d = d.with_columns(ref=pl.coalesce("ref", "init"))
    in_period = (pl.col("ref") >= start_day) & (pl.col("ref") < as_of_day)
    keep = in_period
    if open_at_start:
        closed = pl.coalesce("end", "rej")
        open_then = (pl.col("ref") < start_day) & (closed.is_null() | (closed >= start_day))
        keep = keep | open_then
    d = d.filter(keep).sort("ref", "citizen")

    def cut(col: str) -> pl.Expr:
        return pl.when(pl.col(col) < as_of_day).then(pl.col(col))

    d = d.with_columns(*(cut(c).alias(c) for c in ("dec", "start", "end")))
    day0 = pl.lit(tl.day0, dtype=pl.Date)

    def date(col: str) -> pl.Expr:
        return day0 + pl.duration(days=pl.col(col).floor().cast(pl.Int64))

    n = pl.int_range(1, pl.len() + 1)
    return d.select(
        case_id=pl.format(f"{prefix}-{{}}", n.cast(pl.String).str.zfill(6)),
        citizen_id=pl.format(f"{prefix}-P{{}}", pl.col("citizen").cast(pl.String).str.zfill(6)),
        paragraph=pl.when(pl.col("is_short") & pl.col("start").is_not_null())
        .then(pl.lit("82b"))
        .otherwise(pl.lit("85")),
        referral_date=date("ref"),
        decision_date=date("dec"),
        decision=pl.when(pl.col("dec").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("refused"))
        .then(pl.lit("refused"))
        .otherwise(pl.lit("granted")),
        start_date=date("start"),
        end_date=date("end"),
        hours_per_week=pl.when(pl.col("start").is_not_null()).then(pl.col("hours").round(2)),
    )


def simulate_cases(
    scenario: Scenario,
    tl: Timeline,
    *,
    replications: int,
    jobs: int = 1,
    base_dir: Path | None = None,
    open_at_start: bool = True,
    progress: Any = None,
) -> list[pl.DataFrame]:
    """The baseline model (the first compared) over ``tl``: one case export per replication."""
    from sim.run.experiment import run_experiment

    sc = for_timeline(scenario, tl)
    result = run_experiment(
        sc,
        models=[sc.compare[0]],
        replications=replications,
        jobs=jobs,
        base_dir=base_dir,
        record_events=True,
        progress=progress,
    )
    return [
        cases_from_events(eventlog.frame([part], tl.day0), tl, open_at_start=open_at_start)
        for part in result.events
    ]


# ----------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ExportStyle:
    """How messy the written export is. The default is tidy: ISO dates, ``,``, decimal points."""

    separator: str = ","
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    bom: bool = False
    shuffle_columns: bool = False
    stray_spaces: bool = False
    seed: int = 0


MESSY = ExportStyle(";", "%d-%m-%Y", True, True, True, True)
"""The way a Danish case system's export typically arrives."""


def _cell(value: Any, style: ExportStyle, rng: np.random.Generator) -> str:
    if value is None:
        text = ""
    elif isinstance(value, dt.date):
        text = value.strftime(style.date_format)
    elif isinstance(value, float):
        text = f"{value:g}"
        if style.decimal_comma:
            text = text.replace(".", ",")
    else:
        text = str(value)
    if style.stray_spaces and text and rng.random() < 0.1:
        text = " " * int(rng.integers(1, 3)) + text + " " * int(rng.integers(0, 2))
    return text


def write_export(cases: pl.DataFrame, path: Path, style: ExportStyle = ExportStyle()) -> Path:
    """Write ``cases`` as a CSV in ``style`` (whole or not at all: written beside, then moved)."""
    rng = np.random.default_rng(style.seed)
    columns = list(cases.columns)
    if style.shuffle_columns:
        columns = [columns[i] for i in rng.permutation(len(columns))]
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8-sig" if style.bom else "utf-8", newline="") as f:
        out = csv.writer(f, delimiter=style.separator, lineterminator="\r\n")
        out.writerow(columns)
        for row in cases.select(columns).iter_rows():
            out.writerow([_cell(v, style, rng) for v in row])
    tmp.replace(path)
    return path


def synthetic_export(
    scenario: Scenario,
    start: dt.date,
    as_of: dt.date,
    *,
    seed: int | None = None,
    base_dir: Path | None = None,
) -> pl.DataFrame:
    """One simulated case export of the scenario's baseline over ``start``-``as_of``.

    ``seed`` defaults to the scenario's seed + 1: `sim check` of the scenario against this export
    then compares with replications that never saw these citizens (with the scenario's own seed
    the export would be one of its replications, and the check too easy)."""
    exp = scenario.experiment
    use = exp.seed + 1 if seed is None else seed
    sc = scenario.model_copy(update={"experiment": exp.model_copy(update={"seed": use})})
    tl = timeline(sc, start, as_of)
    return simulate_cases(sc, tl, replications=2, base_dir=base_dir)[0]
