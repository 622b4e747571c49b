"""An Excel workbook of labelled tables, written with XlsxWriter: the file for people.

The CSVs of a results folder stay the machine-readable record; ``tables.xlsx`` holds the same
numbers for a reader who opens them in Excel: numbers stored as numbers (never as text), each
cell with a number format (thousands separator, decimals, percent), headers that name the unit,
a frozen header row and column widths that fit the text. Excel shows the decimal mark and the
thousands separator of the reader's own locale, so the formats here are locale-free codes.

This module knows nothing of labels or languages: ``sim.present.workbook`` builds the sheets
(headers in the report's language) and hands them here. The file is written under a temporary
name and renamed, so a failed write leaves no half workbook.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKBOOK_NAME = "tables.xlsx"

INTEGER = "#,##0"
ONE_DECIMAL = "#,##0.0"
TWO_DECIMALS = "#,##0.00"
PERCENT = "0.0%"
"""Excel number-format codes; Excel renders them in the reader's locale (1.234,5 in Danish)."""

MAX_WIDTH = 60
"""Widest column, in characters; longer text wraps in the cell rather than widening the sheet."""


@dataclass(frozen=True)
class Column:
    """One column: its header (with the unit), its cells and the number format of its numbers.

    ``formats`` (optional) gives a format per cell, for a long table whose rows hold metrics of
    different units; otherwise every number of the column takes ``num_format``."""

    header: str
    values: Sequence[Any]
    num_format: str = ONE_DECIMAL
    formats: Sequence[str] | None = None


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a name (at most 31 characters, Excel's limit) and its columns."""

    name: str
    columns: Sequence[Column]
    note: str = ""
    """A line above the header (what the sheet holds); empty for none."""


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _width(col: Column) -> float:
    """Characters the column needs: its longest header line or cell, within MAX_WIDTH."""
    texts = [*col.header.split("\n")]
    for v in col.values:
        if v is None:
            continue
        texts.append(f"{v:,.2f}" if _is_number(v) else str(v))
    return min(MAX_WIDTH, max(8, *(len(s) for s in texts)) + 2)


def _write_sheet(book: Any, sheet: Sheet, styles: dict[str, Any]) -> None:
    ws = book.add_worksheet(sheet.name[:31])
    top = 0
    if sheet.note:
        ws.write_string(0, 0, sheet.note, styles["note"])
        top = 1
    for c, col in enumerate(sheet.columns):
        ws.write_string(top, c, col.header, styles["header"])
        ws.set_column(c, c, _width(col))
        for r, v in enumerate(col.values, start=top + 1):
            if _is_number(v):
                if math.isfinite(v):
                    fmt = col.formats[r - top - 1] if col.formats else col.num_format
                    ws.write_number(r, c, v, styles[fmt])
                # NaN and infinity stay empty cells: Excel has no number for them
            elif v is not None and v != "":
                ws.write_string(r, c, str(v))
    ws.freeze_panes(top + 1, 0)


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to the workbook ``path`` (atomically: a temporary file, then renamed)."""
    import xlsxwriter

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": False})
    styles: dict[str, Any] = {
        "header": book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "note": book.add_format({"italic": True}),
    }
    for fmt in {f for s in sheets for col in s.columns for f in (col.formats or [col.num_format])}:
        styles[fmt] = book.add_format({"num_format": fmt})
    try:
        for sheet in sheets:
            _write_sheet(book, sheet, styles)
        book.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
