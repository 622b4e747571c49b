"""The per-citizen event log: one definition of its columns, their types and meanings.

The engine (``model.pathway``) appends one raw row per activity when it starts and fills in the end
when it finishes; ``raw_frame`` types one replication's rows and ``frame`` turns those of every
replication into the written table. Every
column has an explicit type here, because a table whose types are guessed from its first rows
cuts times to whole days when those rows happen to be at day 0 (a scenario with an initial
caseload). Times are kept twice: as the engine's own day counts (``start_day``, ``end_day``, exact
to the last bit in both CSV and Parquet) and as timestamps from a stated start date, since
process-mining tools such as pm4py want datetimes.

One row per activity, not one per resource: a joint activity is one event with the resource
``authority+provider``. Process-mining tools build traces and variants from rows, so a row per
resource would show every joint meeting twice in the citizen's trace and double its count.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

START_DATE = dt.date(2026, 1, 1)
"""Default calendar date of simulated day 0 for the log's timestamps (``--events-start``)."""

REFERRAL = "referral"
INITIAL = "in caseload at start"
GRANT_ADJUSTED = "grant adjusted"
SUPPORT = "support"
SHORT_COURSE = "short course"
WAITING_LIST = "support waiting list"
EXIT = {
    "completed": "exit: completed",
    "dropout": "exit: dropped out",
    "abandoned": "exit: gave up waiting",
    "rejected": "exit: rejected",
}
"""The exit activity for each of the engine's exit reasons."""

OPEN, COMPLETE = "open", "complete"

RAW_FIELDS = (
    "citizen",
    "activity",
    "start_day",
    "end_day",
    "resource",
    "granted_hours_per_week",
    "model",
    "replication",
)
"""The layout of a raw row as the engine appends it (a list; ``end_day`` is None while open)."""
START, END = RAW_FIELDS.index("start_day"), RAW_FIELDS.index("end_day")

_MICROSECONDS_PER_DAY = 86_400_000_000


class Column(NamedTuple):
    name: str
    dtype: str
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "String", "one citizen's case: model/replication/citizen, unique in the log"),
    Column("activity", "String", "what happened (referral, meetings, waits, support, exit: ...)"),
    Column("start_time", "Datetime", "when it started: the start date plus start_day"),
    Column("end_time", "Datetime", "when it finished; empty while open"),
    Column("lifecycle", "String", "complete, or open: started but unfinished at the run's end"),
    Column("resource", "String", "authority, provider or authority+provider; empty for delays"),
    Column(
        "granted_hours_per_week",
        "Float64",
        "support and short course: hours/week granted; grant adjusted: the new grant",
    ),
    Column("start_day", "Float64", "start in simulated days from day 0 (the engine's own time)"),
    Column("end_day", "Float64", "end in simulated days; empty while open"),
    Column("model", "String", "visitation model"),
    Column("replication", "Int64", "replication number"),
    Column("citizen", "Int64", "citizen number inside the replication and model"),
)
"""The written columns, in order, with their types and meanings (the README repeats them)."""


def _dtype(name: str) -> Any:
    import polars as pl

    return pl.Datetime("us") if name == "Datetime" else getattr(pl, name)


def schema() -> dict[str, Any]:
    """The written table's polars schema."""
    return {c.name: _dtype(c.dtype) for c in COLUMNS}


def _raw_schema() -> dict[str, Any]:
    types = {c.name: c.dtype for c in COLUMNS}
    return {f: _dtype(types[f]) for f in RAW_FIELDS}


def raw_frame(rows: list[list[Any]]) -> Any:
    """One replication's raw rows as a typed table (``RAW_FIELDS``). Built in the worker that ran
    the replication: a compact table crosses to the parent far faster than a million small lists,
    and the parent never holds them as Python objects."""
    import polars as pl

    return pl.DataFrame(rows, schema=_raw_schema(), orient="row")


def frame(parts: list[Any], start_date: dt.date = START_DATE) -> Any:
    """The event log table from the replications' raw tables: typed, one case's rows together
    in the order the activities started (the engine appends them so; ties keep that order)."""
    import polars as pl

    raw = pl.concat(parts) if parts else pl.DataFrame(schema=_raw_schema())
    raw = raw.sort(["model", "replication", "citizen", "start_day"], maintain_order=True)
    day0 = pl.lit(dt.datetime.combine(start_date, dt.time()), dtype=pl.Datetime("us"))

    def stamp(col: str) -> pl.Expr:
        micros = (pl.col(col) * _MICROSECONDS_PER_DAY).round().cast(pl.Int64)
        return day0 + micros.cast(pl.Duration("us"))

    df = raw.with_columns(
        case_id=pl.format("{}/{}/{}", "model", "replication", "citizen"),
        start_time=stamp("start_day"),
        end_time=stamp("end_day"),
        lifecycle=pl.when(pl.col("end_day").is_null())
        .then(pl.lit(OPEN))
        .otherwise(pl.lit(COMPLETE)),
    )
    # schema() is typed loosely (polars is imported lazily), the mapping is of polars types.
    return df.select([c.name for c in COLUMNS]).cast(schema())  # type: ignore[arg-type]


def write(df: Any, folder: Path, fmt: str) -> Path:
    """Write the table as ``events.csv`` (floats at full precision) or ``events.parquet``."""
    if fmt == "parquet":
        path = folder / "events.parquet"
        df.write_parquet(path)
    else:
        path = folder / "events.csv"
        df.write_csv(path, float_precision=None, datetime_format="%Y-%m-%dT%H:%M:%S%.6f")
    return path


def read(path: Path) -> Any:
    """Read a written log back with its declared types (nothing is guessed)."""
    import polars as pl

    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, schema=schema())
