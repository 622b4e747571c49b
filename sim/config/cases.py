"""Case data exported from a municipality's case system: the format, the reader, its JSON Schema.

A planner exports referrals, decisions and support grants from the case system (one row per case,
or one row per event) as CSV or Excel, and ``sim fit`` turns them into a scenario. The reader takes
what such exports really look like: Danish dates (``31-01-2024``, ``31.01.2024``, ``31/01/2024``)
or ISO dates, ``;`` or ``,`` as separator (sniffed from the header), UTF-8 with or without a BOM
and the Windows-1252 of Excel's plain "CSV", Danish decimal commas (``7,5`` hours), column names in
any case with Danish aliases (``henvisningsdato``, ``timer_pr_uge``...), extra columns (ignored)
and open cases with no end date.

A file with problems is refused whole, with every problem at once (row, column, what was
expected), as a ``ScenarioError`` of located ``Problem`` s like a bad scenario: row numbers are
the line numbers of the CSV file (the header is row 1) or the Excel row numbers.

The columns are defined once (``CASE_COLUMNS``, ``EVENT_COLUMNS``); the aliases, the README table
and the JSON Schema (``docs/cases.schema.json``, ``json_schema()``) all come from that definition.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.loader import Problem, ScenarioError
from sim.model.referrals import decode_text

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "CASE_COLUMNS",
    "DECISIONS",
    "EVENTS",
    "EVENT_COLUMNS",
    "MAX_CASE_BYTES",
    "Cases",
    "Column",
    "json_schema",
    "read_cases",
    "row_ranges",
]

MAX_CASE_BYTES = 50 * 2**20
"""Largest case file read: 50 MB is several hundred thousand cases, more than any municipality."""

MAX_HOURS_PER_WEEK = 168.0
"""Granted hours a week above the hours of a week are a typing error."""


@dataclass(frozen=True)
class Column:
    """One column of the case format: its name, type, Danish aliases and meaning."""

    name: str
    kind: str  # "text", "date", "decision", "hours", "event"
    required: bool
    description: str
    aliases: tuple[str, ...] = ()


CASE_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "text", True, "The case's id in the case system (unique per row).",
           ("sag_id", "sagsnummer", "sagsnr", "sag")),
    Column("citizen_id", "text", False, "A pseudonymous citizen id (not a CPR number; only "
           "used to count citizens referred again).", ("borger_id", "borger")),
    Column("paragraph", "paragraph", False, 'Paragraph of Serviceloven, e.g. "85" or "82b" ("§ 85" '
           "and \"SEL § 85\" are read as 85); empty or no column: 85.", ("paragraf", "lov")),
    Column("referral_date", "date", True, "Date the referral (henvendelse) was received.",
           ("henvisningsdato", "henvendelsesdato", "modtaget", "modtagelsesdato")),
    Column("decision_date", "date", False, "Date of the decision; empty while undecided.",
           ("afgoerelsesdato", "afgørelsesdato", "visitationsdato")),
    Column("decision", "decision", False, "granted or refused (bevilget/afslag, ja/nej); "
           "empty while undecided.", ("afgoerelse", "afgørelse", "resultat")),
    Column("start_date", "date", False, "Date support started; empty if not (yet) started.",
           ("startdato", "bevilling_start", "ydelse_start", "opstart")),
    Column("end_date", "date", False, "Date the case closed: support ended, or (with no "
           "start_date) the citizen left before support started; empty while open.",
           ("slutdato", "ophoersdato", "ophørsdato", "afslutningsdato")),
    Column("hours_per_week", "hours", False, "Granted hours of support a week (decimal comma "
           "or point); empty if none.", ("timer_pr_uge", "timer_per_uge", "bevilgede_timer",
                                         "timer")),
    Column("segment", "text", False, "Optional target group or need segment, kept as given.",
           ("maalgruppe", "målgruppe", "gruppe")),
)  # fmt: skip
"""One row per case (interface C of the project): the format ``sim fit`` and ``sim check`` read."""

EVENT_COLUMNS: tuple[Column, ...] = (
    CASE_COLUMNS[0],
    CASE_COLUMNS[1],
    CASE_COLUMNS[2],
    Column("event", "event", True, "What happened: referral, granted, refused, start or end "
           "(henvendelse, bevilget, afslag, opstart, ophoer).", ("haendelse",
           "hændelse", "event_type")),
    Column("date", "date", True, "Date of the event.", ("dato", "event_date")),
    Column("hours_per_week", "hours", False, "Granted hours a week, on the granted (or start) "
           "event.", CASE_COLUMNS[8].aliases),
    CASE_COLUMNS[9],
)  # fmt: skip
"""One row per event: each case's rows are joined into one row of ``CASE_COLUMNS``."""

DECISIONS: dict[str, str] = {
    "granted": "granted", "bevilget": "granted", "bevilling": "granted", "bevilges": "granted",
    "ja": "granted", "yes": "granted", "refused": "refused", "afslag": "refused",
    "afslået": "refused", "afslaaet": "refused", "afvist": "refused", "nej": "refused",
    "no": "refused",
}  # fmt: skip
"""Values of ``decision`` (lower case) and what they mean."""

EVENTS: dict[str, str] = {
    "referral": "referral", "henvendelse": "referral", "henvisning": "referral",
    "granted": "granted", "bevilget": "granted", "bevilling": "granted",
    "refused": "refused", "afslag": "refused",
    "start": "start", "opstart": "start", "startet": "start",
    "end": "end", "ophoer": "end", "ophør": "end", "afsluttet": "end", "slut": "end",
}  # fmt: skip
"""Values of ``event`` (lower case) and what they mean."""

_EVENT_FIELD = {
    "referral": "referral_date",
    "granted": "decision_date",
    "refused": "decision_date",
    "start": "start_date",
    "end": "end_date",
}
_DATE_ORDER = ("referral_date", "decision_date", "start_date", "end_date")
_DAY_FIRST = re.compile(r"(\d{1,2})[-./](\d{1,2})[-./](\d{2,4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_PARAGRAPH = re.compile(r"(?:sel\s*)?§?\s*(\d+)\s*([a-z]?)(?:\s*,?\s*stk\.?\s*\d+)?")
_DATE_FORMATS = "a date dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd"
_WHAT = {"text": "a case id", "date": _DATE_FORMATS, "event": "an event"}


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Cases:
    """The cases of one export, typed, and the date the export describes.

    ``frame`` has one row per case: the columns of ``CASE_COLUMNS`` (dates as ``pl.Date``,
    ``hours_per_week`` as Float64, the rest as text, empty as null) plus ``row``, the file row the
    case starts on (for "rows used" in ``sim fit``'s comments). ``as_of`` is the export date: the
    one given, or the latest date in the file; events after it are not seen.
    """

    frame: pl.DataFrame
    as_of: dt.date
    source: str
    layout: str  # "case" or "event"
    notes: tuple[str, ...] = ()

    @property
    def first_date(self) -> dt.date:
        """The earliest referral date: where the observed period starts."""
        return self.frame["referral_date"].min()  # type: ignore[return-value]

    def rows(self, mask: pl.Series | None = None) -> str:
        """The file rows of the cases ``mask`` selects, as "rows 2-9, 12" for a comment."""
        rows = self.frame["row"] if mask is None else self.frame.filter(mask)["row"]
        return row_ranges(sorted(rows.to_list()))


def row_ranges(rows: Sequence[int], limit: int = 4) -> str:
    """File rows as "rows 2-9, 12", or "140 rows in 2-470" when that takes more than ``limit``
    ranges (a comment names the rows used without listing hundreds)."""
    if not rows:
        return "no rows"
    parts: list[str] = []
    start = prev = rows[0]
    for r in [*rows[1:], None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    if len(parts) > limit:
        return f"{len(rows)} rows in {rows[0]}-{rows[-1]}"
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(parts)


# --------------------------------------------------------------------------- raw cells


@dataclass
class _Cell:
    """One value as read, and where it was: the row, the 1-based column (a character offset in a
    CSV line, for the caret; the column number in a sheet) and the line to show under it."""

    text: str | None
    row: int
    column: int
    source: str | None
    label: str  # the column's name in the file, for messages
    value: Any = None  # the parsed value (date, float, text), or None
    bad: bool = False  # the text could not be parsed (a problem says why)


@dataclass
class _Table:
    """The rows of a file as cells, keyed by canonical column name."""

    file: str
    layout: str
    header_row: int
    header_source: str | None
    rows: list[dict[str, _Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Problems:
    """Collects problems; raises them all at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def at(self, cell: _Cell, column: str, message: str) -> None:
        where = (
            column
            if cell.source is not None
            else f"{column} (cell {_letter(cell.column)}{cell.row})"
        )
        self.items.append(Problem(self.file, cell.row, cell.column, where, message, cell.source))

    def row(self, row: int, message: str, source: str | None = None) -> None:
        self.items.append(Problem(self.file, row, 1 if source else None, "", message, source))

    def raise_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda p: (p.line or 0, p.column or 0))
            raise ScenarioError(self.items)


def _letter(column: int) -> str:
    """Excel's name of a 1-based column number: 1 -> A, 27 -> AA."""
    name = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _file_error(file: str, message: str, row: int | None = None) -> ScenarioError:
    return ScenarioError([Problem(file, row, None, "", message)])


# --------------------------------------------------------------------------- reading files


def read_cases(path: str | Path, as_of: dt.date | None = None) -> Cases:
    """Read a case export (CSV or .xlsx; per case or per event) into typed cases.

    ``as_of`` cuts the data at that date, as if exported then: cases referred later are left out
    and decisions, starts and ends after it are not seen (a case ended later is open). Without
    it, the latest date in the file is the export date. Raises ScenarioError with every problem.
    """
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise _file_error(name, "is a folder, expected a case export (.csv or .xlsx)")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _file_error(name, "file not found") from None
    except OSError as exc:
        raise _file_error(name, f"cannot read the file: {exc.strerror or exc}") from None
    if size > MAX_CASE_BYTES:
        raise _file_error(name, f"file is {size / 2**20:.1f} MB; case exports are limited to 50 MB")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        grid = _xlsx_grid(path, name)
    elif path.suffix.lower() == ".xls":
        raise _file_error(name, "old Excel format (.xls); save it as .xlsx or CSV")
    else:
        grid = _csv_grid(path, name)
    problems = _Problems(name)
    table = _table(grid, name, problems)
    records = _parse(table, problems)
    if table.layout == "event":
        records = _join_events(records, problems)
    elif "decision" not in table.rows[0]:
        _infer_decisions(records)
        table.notes.append("no decision column: granted where hours or a start are given")
    _check_cases(records, problems)
    problems.raise_any()
    return _build(records, table, as_of, problems)


@dataclass
class _Grid:
    """Rows of text cells with their positions, before any column is interpreted."""

    rows: list[tuple[int, list[tuple[str | None, int]], str | None]]  # row, [(text, col)], line
    notes: list[str]


def _sniff(header: str) -> str:
    """The separator that makes the most known column names of the header, else the most used."""
    known = {_key(a) for c in (*CASE_COLUMNS, *EVENT_COLUMNS) for a in (c.name, *c.aliases)}

    def score(sep: str) -> tuple[int, int]:
        fields = next(csv.reader([header], delimiter=sep), [])
        return sum(_key(f) in known for f in fields), header.count(sep)

    return max((";", ",", "\t"), key=score)


def _field_starts(line: str, sep: str) -> list[int]:
    """1-based character column where each field of a one-line CSV record starts."""
    starts, quoted = [1], False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            starts.append(i + 2)
    return starts


def _csv_grid(path: Path, name: str) -> _Grid:
    raw = path.read_bytes()
    text, encoding = decode_text(raw)
    if "\x00" in text:
        raise _file_error(name, "not a text file; expected a CSV file or an .xlsx workbook")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    sep = _sniff(header)
    notes = [] if encoding == "UTF-8" else [f"read as {encoding}"]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows = []
    start = 1
    try:
        for record in reader:
            line = lines[start - 1] if start <= len(lines) else ""
            one_line = reader.line_num == start
            cols = _field_starts(line, sep) if one_line else []
            cells = [(f, cols[i] if i < len(cols) else 1) for i, f in enumerate(record)]
            rows.append((start, cells, line))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _file_error(name, f"cannot read the CSV: {exc}", start) from None
    return _Grid(rows, notes)


def _xlsx_grid(path: Path, name: str) -> _Grid:
    """The first sheet's cells as text (dates as ISO, numbers as written by Python)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _file_error(name, f"cannot read the workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for r, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [(_xlsx_text(v), c) for c, v in enumerate(values, start=1)]
            rows.append((r, cells, None))
    finally:
        book.close()
    notes = [f"sheet '{sheet.title}'"] if len(book.sheetnames) > 1 else []
    return _Grid(rows, notes)


def _xlsx_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key(label: str) -> str:
    """A column name compared ignoring case and spacing: 'Timer pr. uge' ~ timer_pr_uge."""
    return re.sub(r"[\s_\-./]+", "_", label.strip().strip('"').lower()).strip("_")


def _columns_by_alias(columns: Iterable[Column]) -> dict[str, str]:
    return {_key(a): c.name for c in columns for a in (c.name, *c.aliases)}


def _table(grid: _Grid, file: str, problems: _Problems) -> _Table:
    """The header found and mapped onto the format's columns; the layout chosen from it."""
    filled = [(r, cells, line) for r, cells, line in grid.rows if _any_text(cells)]
    if not filled:
        raise _file_error(file, "no rows; expected a header row and one row per case or event")
    row, header, line = filled[0]
    labels = [(t or "").strip() for t, _ in header]
    keys = {_key(label) for label in labels}
    layout = "event" if keys & set(_columns_by_alias(EVENT_COLUMNS[3:4])) else "case"
    columns = CASE_COLUMNS if layout == "case" else EVENT_COLUMNS
    by_alias = _columns_by_alias(columns)
    index: dict[str, int] = {}
    for i, label in enumerate(labels):
        name = by_alias.get(_key(label))
        if name is None:
            continue  # a column the format does not use: ignored
        if name in index:
            cell = _Cell(label, row, header[i][1], line, label)
            first = labels[index[name]]
            problems.at(
                cell,
                name,
                f"column '{label}' means {name}, like '{first}' before it; keep one of them",
            )
            continue
        index[name] = i
    for col in columns:
        if col.required and col.name not in index:
            names = ", ".join((col.name, *col.aliases))
            problems.row(
                row,
                f"expected a column {col.name} (or one of: {names}); found "
                f"{', '.join(repr(x) for x in labels if x) or 'no names'}",
                line,
            )
    problems.raise_any()
    table = _Table(file, layout, row, line, notes=list(grid.notes))
    for r, cells, src in filled[1:]:
        _extra_fields(cells, labels, r, src, problems)
        table.rows.append(
            {
                name: _Cell(
                    cells[i][0] if i < len(cells) else None,
                    r,
                    cells[i][1] if i < len(cells) else (cells[-1][1] if cells else 1),
                    src,
                    labels[i],
                )
                for name, i in index.items()
            }
        )
    if not table.rows:
        raise _file_error(file, "no cases: the file has a header and no rows below it", row)
    return table


def _extra_fields(
    cells: list[tuple[str | None, int]],
    labels: list[str],
    row: int,
    src: str | None,
    problems: _Problems,
) -> None:
    """A row with more filled fields than the header has names: often a decimal comma (7,5) in a
    comma-separated file, which splits the number in two."""
    extra = [c for c in cells[len(labels) :] if c[0] is not None and c[0].strip()]
    if extra:
        cell = _Cell(extra[0][0], row, extra[0][1], src, "")
        problems.at(
            cell,
            "",
            f"expected {len(labels)} fields like the header, found "
            f"{len(labels) + len(cells[len(labels) :])}; a decimal comma in a "
            'comma-separated file splits a number: quote it ("7,5") or '
            "use ';' as separator",
        )


def _any_text(cells: list[tuple[str | None, int]]) -> bool:
    return any(t is not None and t.strip() for t, _ in cells)


# --------------------------------------------------------------------------- parsing values


def parse_date(text: str) -> dt.date:
    """A date written dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy or ISO yyyy-mm-dd (a time is ignored).

    Raises ValueError with what is wrong, for the message.
    """
    t = text.strip()
    iso = _ISO.fullmatch(t)
    if iso:
        y, m, d = (int(x) for x in iso.groups())
    else:
        dmy = _DAY_FIRST.fullmatch(t)
        if not dmy:
            raise ValueError(f"expected {_DATE_FORMATS}, found '{t[:40]}'")
        d, m, y = (int(x) for x in dmy.groups())
        if len(dmy.group(3)) != 4:
            raise ValueError(f"expected a four-digit year ({_DATE_FORMATS}), found '{t}'")
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ValueError(f"no such date: '{t}' (day {d}, month {m}, year {y})") from None


def parse_hours(text: str) -> float:
    """Hours a week with a decimal comma or point (``7,5``, ``7.5``; ``1.234,5`` too)."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".")
    elif "," in t:
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        raise ValueError(
            f"expected hours a week as a number (7,5 or 7.5), found '{text.strip()[:40]}'"
        ) from None
    if not 0 <= value <= MAX_HOURS_PER_WEEK:
        raise ValueError(f"expected 0 to {MAX_HOURS_PER_WEEK:g} hours a week, found {value:g}")
    return value


def parse_paragraph(text: str) -> str:
    """'§ 85', 'SEL § 85, stk. 1', '85' -> '85'; '§ 82 b' -> '82b'."""
    found = _PARAGRAPH.fullmatch(text.strip().lower())
    if not found:
        raise ValueError(f"expected a paragraph such as 85 or 82b, found '{text.strip()[:40]}'")
    return found.group(1) + found.group(2)


def _parse_one(cell: _Cell, kind: str) -> Any:
    t = (cell.text or "").strip()
    if not t:
        return None
    if kind == "date":
        return parse_date(t)
    if kind == "hours":
        return parse_hours(t)
    if kind in ("decision", "event"):
        table = DECISIONS if kind == "decision" else EVENTS
        value = table.get(t.lower())
        if value is None:
            expected = "granted or refused" if kind == "decision" else ", ".join(_EVENT_FIELD)
            raise ValueError(f"expected {expected} (or a Danish word for it), found '{t[:40]}'")
        return value
    return parse_paragraph(t) if kind == "paragraph" else t


def _parse(table: _Table, problems: _Problems) -> list[dict[str, _Cell]]:
    """Every cell parsed in place (``cell.value``); each bad one a problem."""
    columns = {c.name: c for c in (CASE_COLUMNS if table.layout == "case" else EVENT_COLUMNS)}
    for row in table.rows:
        for name, cell in row.items():
            try:
                cell.value = _parse_one(cell, columns[name].kind)
            except ValueError as exc:
                cell.bad = True
                problems.at(cell, name, str(exc))
        for name, col in columns.items():
            cell = row.get(name)
            if col.required and cell is not None and cell.value is None and not cell.bad:
                problems.at(cell, name, f"expected {_WHAT[col.kind]}, found an empty cell")
    return table.rows


# --------------------------------------------------------------------------- events to cases


def _join_events(rows: list[dict[str, _Cell]], problems: _Problems) -> list[dict[str, _Cell]]:
    """One record per case from its event rows: the event's date goes to its date column."""
    cases: dict[str, dict[str, _Cell]] = {}
    for row in rows:
        case_id, event, date = row["case_id"], row["event"], row["date"]
        if any(cell.bad for cell in row.values()):
            continue
        if case_id.value is None or event.value is None or date.value is None:
            continue
        record = cases.setdefault(case_id.value, {"case_id": case_id})
        target = _EVENT_FIELD[event.value]
        if target in record:
            first = record[target].row
            problems.at(
                event,
                "event",
                f"case {case_id.value} has a second {event.value} event (first on row {first})",
            )
            continue
        record[target] = date
        if event.value in ("granted", "refused"):
            record["decision"] = _Cell(
                event.text, event.row, event.column, event.source, event.label, event.value
            )
        for name in ("citizen_id", "paragraph", "segment", "hours_per_week"):
            cell = row.get(name)
            if cell is not None and cell.value is not None:
                record.setdefault(name, cell)
    for case_id, record in cases.items():
        if "referral_date" not in record:
            problems.at(
                record["case_id"],
                "event",
                f"case {case_id} has no referral event; expected one per case",
            )
    return list(cases.values())


# --------------------------------------------------------------------------- consistency


def _check_cases(records: list[dict[str, _Cell]], problems: _Problems) -> None:
    """What one case must satisfy: a unique id, dates in order, decision and dates that agree."""
    seen: dict[str, int] = {}
    for rec in records:
        case_id = rec["case_id"]
        if case_id.value is not None and case_id.value in seen:
            problems.at(
                case_id,
                "case_id",
                f"case id {case_id.value} again (first on row "
                f"{seen[case_id.value]}); expected one row per case",
            )
        seen.setdefault(case_id.value, case_id.row)
        if any(cell.bad for cell in rec.values()):
            continue  # its other rules wait until the cell is right
        _check_order(rec, problems)
        _check_decision(rec, problems)


def _infer_decisions(records: list[dict[str, _Cell]]) -> None:
    """Without a decision column, a decided case is granted if it has hours or a start."""
    for rec in records:
        decided = rec.get("decision_date")
        if decided is not None and decided.value is not None:
            granted = _value(rec, "hours_per_week") is not None or _value(rec, "start_date")
            value = "granted" if granted else "refused"
            rec["decision"] = _Cell(value, decided.row, decided.column, decided.source, "", value)


def _value(rec: dict[str, _Cell], name: str) -> Any:
    cell = rec.get(name)
    return None if cell is None else cell.value


def _check_order(rec: dict[str, _Cell], problems: _Problems) -> None:
    earlier: tuple[str, dt.date] | None = None
    for name in _DATE_ORDER:
        value = _value(rec, name)
        if value is None:
            continue
        if earlier is not None and value < earlier[1]:
            problems.at(
                rec[name],
                name,
                f"expected a date on or after {earlier[0]} "
                f"({earlier[1]:%d-%m-%Y}), found {value:%d-%m-%Y}",
            )
        else:
            earlier = (name, value)


def _check_decision(rec: dict[str, _Cell], problems: _Problems) -> None:
    decision, decided = _value(rec, "decision"), _value(rec, "decision_date")
    if decided is not None and decision is None and "decision" in rec:
        problems.at(
            rec["decision"],
            "decision",
            "expected granted or refused for a case with a decision_date, found an empty cell",
        )
    if decision is not None and decided is None:
        cell = rec.get("decision_date") or rec["decision"]
        problems.at(
            cell,
            "decision_date",
            f"expected the date of the decision ({decision}), found an empty cell",
        )
    unexplained = decision is None and decided is not None  # reported above
    if _value(rec, "start_date") is not None and decision != "granted" and not unexplained:
        problems.at(
            rec["start_date"],
            "start_date",
            f"expected a granted decision before support starts, found {decision or 'none'}",
        )
    if decision == "refused":
        hours = rec.get("hours_per_week")
        if hours is not None and hours.value is not None:
            problems.at(
                hours,
                "hours_per_week",
                f"expected an empty cell for a refused case, found '{hours.text}'",
            )


# --------------------------------------------------------------------------- the frame


def _build(
    records: list[dict[str, _Cell]], table: _Table, as_of: dt.date | None, problems: _Problems
) -> Cases:
    import polars as pl

    latest = max(
        (v for rec in records for n in _DATE_ORDER if (v := _value(rec, n)) is not None),
    )
    cut = as_of if as_of is not None else latest
    out: dict[str, list[Any]] = {c.name: [] for c in CASE_COLUMNS}
    out["row"] = []
    for rec in records:
        if _value(rec, "referral_date") > cut:
            continue
        for col in CASE_COLUMNS:
            value = _value(rec, col.name)
            out[col.name].append(value)
        out["row"].append(rec["case_id"].row)
        _cut_at(out, cut)
    if not out["row"]:
        raise _file_error(table.file, f"no case was referred on or before {cut:%d-%m-%Y} (--as-of)")
    if out["paragraph"] and all(p is None for p in out["paragraph"]):
        out["paragraph"] = ["85"] * len(out["row"])
    else:
        out["paragraph"] = [p or "85" for p in out["paragraph"]]
    schema = {c.name: _polars_type(c.kind) for c in CASE_COLUMNS} | {"row": pl.Int64}
    frame = pl.DataFrame(out, schema=schema).sort("referral_date", "row")
    return Cases(frame, cut, table.file, table.layout, tuple(table.notes))


def _cut_at(out: dict[str, list[Any]], cut: dt.date) -> None:
    """The last case as seen on ``cut``: later decisions, starts and ends not yet happened."""
    if out["end_date"][-1] is not None and out["end_date"][-1] > cut:
        out["end_date"][-1] = None
    if out["start_date"][-1] is not None and out["start_date"][-1] > cut:
        out["start_date"][-1] = None
    if out["decision_date"][-1] is not None and out["decision_date"][-1] > cut:
        out["decision_date"][-1] = None
        out["decision"][-1] = None
        out["hours_per_week"][-1] = None
        out["start_date"][-1] = None


def _polars_type(kind: str) -> Any:
    import polars as pl

    return {"date": pl.Date, "hours": pl.Float64}.get(kind, pl.String)


# --------------------------------------------------------------------------- JSON Schema


def _schema_of(col: Column) -> dict[str, Any]:
    date = r"^(\d{4}-\d{1,2}-\d{1,2}([ T].*)?|\d{1,2}[-./]\d{1,2}[-./]\d{4})$"
    kinds: dict[str, dict[str, Any]] = {
        "text": {"type": "string"},
        "paragraph": {"type": "string", "pattern": r"^\s*(SEL\s*)?§?\s*\d+\s*[a-zA-Z]?.*$"},
        "date": {"type": "string", "pattern": date},
        "hours": {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_HOURS_PER_WEEK},
                {"type": "string", "pattern": r"^\s*\d+([.,]\d+)?\s*$"},
            ]
        },
        "decision": {"type": "string", "enum": sorted(DECISIONS)},
        "event": {"type": "string", "enum": sorted(EVENTS)},
    }
    out = dict(kinds[col.kind])
    if not col.required and col.kind != "event":
        out = {"anyOf": [out, {"type": "null"}, {"const": ""}]}
    out["description"] = col.description
    out["x-aliases"] = list(col.aliases)
    return out


def _row_schema(columns: Sequence[Column], title: str) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "properties": {c.name: _schema_of(c) for c in columns},
        "required": [c.name for c in columns if c.required],
        "additionalProperties": True,
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a case export: an array of rows, per case or per event.

    A row is an object keyed by column name (as a CSV reader gives it); column names are matched
    case-insensitively and through the aliases listed under ``x-aliases``; other columns are
    ignored. ``docs/cases.schema.json`` is this, written by ``python -m sim.config.cases``.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sim case export",
        "description": "Referrals, decisions and support of adult social support cases "
        "(Serviceloven § 85), one row per case or one row per event, as read by `sim fit` "
        "and `sim check`. Dates dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy or yyyy-mm-dd; hours with "
        "a decimal comma or point; empty cells for what has not happened yet.",
        "$defs": {
            "case_row": _row_schema(CASE_COLUMNS, "One row per case"),
            "event_row": _row_schema(EVENT_COLUMNS, "One row per event"),
        },
        "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/case_row"}},
            {"type": "array", "items": {"$ref": "#/$defs/event_row"}},
        ],
    }


if __name__ == "__main__":  # python -m sim.config.cases > docs/cases.schema.json
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
