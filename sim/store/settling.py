"""The warm-up check's table, ``settling.csv``: one row per model and tested series (the columns
of ``sim.run.settle.COLUMNS``), written after every `sim run` and read back by the report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.run.settle import COLUMNS, SeriesVerdict

TABLE = "settling.csv"


def write_table(folder: Path, verdicts: Sequence[SeriesVerdict]) -> None:
    """``settling.csv``: one row per model and series."""
    import polars as pl

    rows = [v.row() for v in verdicts]
    df = pl.DataFrame(rows, schema=list(COLUMNS), orient="row") if rows else pl.DataFrame()
    df.write_csv(folder / TABLE, float_precision=None)


def read_table(folder: Path) -> list[dict[str, Any]]:
    """The rows of a results folder's ``settling.csv`` ([] for a folder written before it)."""
    import polars as pl

    path = Path(folder) / TABLE
    if not path.is_file():
        return []
    return pl.read_csv(path).to_dicts()
