"""The case-data reader: every parsing rule on hand-written messy exports, and bad files reported
with every problem's row and column at once."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from sim.config.cases import json_schema, parse_date, parse_hours, parse_paragraph, read_cases
from sim.config.loader import ScenarioError

DATA = Path(__file__).parent / "data"
MESSY = DATA / "cases-messy.csv"
EVENTS = DATA / "cases-events.csv"
D = dt.date

# What tests/data/cases-messy.csv says, read by hand (one tuple per case, file row first):
# row, case_id, citizen_id, paragraph, referral, decision_date, decision, start, end, hours, segment
MESSY_CASES = [
    (2, "S-001", "B1", "85", D(2023, 1, 3), D(2023, 1, 17), "granted", D(2023, 2, 1),
     D(2023, 6, 30), 7.5, "ældre"),
    (3, "S-002", "B2", "85", D(2023, 1, 10), D(2023, 1, 31), "refused", None, None, None, None),
    (4, "S-003", "B3", "85", D(2023, 2, 15), D(2023, 3, 1), "granted", D(2023, 3, 15), None,
     3.25, None),
    (5, "S-004", None, "82b", D(2023, 3, 1), None, None, None, None, None, None),
    (7, "S-005", "B1", "85", D(2023, 4, 3), D(2023, 4, 20), "granted", D(2023, 5, 1),
     D(2023, 9, 29), 12.0, "yngre"),
    (8, "S-006", "B5", "85", D(2023, 6, 1), D(2023, 6, 14), "granted", None, None, 4.0, None),
    # closed while waiting: an end_date without a start_date
    (9, "S-007", "B6", "85", D(2023, 7, 3), D(2023, 7, 10), "granted", None, D(2023, 8, 15),
     5.0, None),
]  # fmt: skip
COLUMNS = [
    "row", "case_id", "citizen_id", "paragraph", "referral_date", "decision_date", "decision",
    "start_date", "end_date", "hours_per_week", "segment",
]  # fmt: skip


def _tuples(cases) -> list[tuple]:
    return [tuple(r[c] for c in COLUMNS) for r in cases.frame.iter_rows(named=True)]


def _problems(path: Path) -> list[tuple[int | None, int | None, str, str]]:
    with pytest.raises(ScenarioError) as info:
        read_cases(path)
    return [(p.line, p.column, p.path, p.message) for p in info.value.problems]


# --------------------------------------------------------------------------- parsing rules


def test_messy_export_reads_every_rule():
    """BOM, ';' sniffed, Danish and mixed-case headers, an ignored extra column, a quoted field
    holding the separator, dd-mm-yyyy / dd.mm.yyyy / dd/mm/yyyy / d-m-yyyy / ISO / ISO with a
    time, decimal comma and point, § and SEL paragraph forms, Danish decision words in any case,
    open and undecided cases, a case closed before support started, a blank line and Excel's
    trailing empty row."""
    cases = read_cases(MESSY)
    assert _tuples(cases) == MESSY_CASES
    assert cases.layout == "case"
    assert cases.as_of == D(2023, 9, 29)  # the latest date in the file
    assert cases.frame.schema["referral_date"].__class__.__name__ == "Date"


def test_same_export_as_cp1252_with_commas_and_crlf(tmp_path):
    """Excel's plain "CSV" on Danish Windows: Windows-1252, here with ',' and CRLF line ends."""
    rows = list(csv.reader(MESSY.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    path = tmp_path / "cases.csv"
    with path.open("w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, delimiter=",", lineterminator="\r\n").writerows(rows)
    assert b"\xe6ldre" in path.read_bytes()  # 'æ' as one cp1252 byte: not UTF-8
    cases = read_cases(path)
    assert _tuples(cases) == MESSY_CASES
    assert "read as Windows-1252" in cases.notes


def test_same_export_as_excels_unicode_text(tmp_path):
    """Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated."""
    rows = list(csv.reader(MESSY.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    path = tmp_path / "cases.txt"
    with path.open("w", encoding="utf-16", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\r\n").writerows(rows)
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    cases = read_cases(path)
    assert _tuples(cases) == MESSY_CASES
    assert "read as UTF-16" in cases.notes


def test_xlsx_with_date_cells_numbers_and_text(tmp_path):
    """An .xlsx from the case system: real date and datetime cells, numeric hours, text dates."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["CASE_ID", "Henvisningsdato", "decision_date", "Afgørelse", "startdato",
                  "slutdato", "Timer pr uge"])  # fmt: skip
    sheet.append(["X1", dt.datetime(2024, 1, 2), D(2024, 1, 20), "Bevilget", "05.02.2024",
                  None, 7.5])  # fmt: skip
    sheet.append(["X2", "10-01-2024", "2024-02-01", "afslag", None, None, None])
    sheet.append([17, D(2024, 3, 1), None, None, None, None, None])
    sheet.append([None] * 7)
    path = tmp_path / "cases.xlsx"
    book.save(path)
    cases = read_cases(path)
    got = [
        (r["row"], r["case_id"], r["referral_date"], r["decision"], r["start_date"],
         r["hours_per_week"], r["paragraph"])
        for r in cases.frame.iter_rows(named=True)
    ]  # fmt: skip
    assert got == [
        (2, "X1", D(2024, 1, 2), "granted", D(2024, 2, 5), 7.5, "85"),
        (3, "X2", D(2024, 1, 10), "refused", None, None, "85"),
        (4, "17", D(2024, 3, 1), None, None, None, "85"),
    ]


def test_xlsx_problems_name_the_cell(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["case_id", "referral_date", "hours_per_week"])
    book.active.append(["A", "2024-13-01", "lots"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    got = [(line, col, where) for line, col, where, _ in _problems(path)]
    assert got == [(2, 2, "referral_date (cell B2)"), (2, 3, "hours_per_week (cell C2)")]


def test_event_rows_become_cases():
    """One row per event, ',' separated, Danish event words, decimal comma in quotes."""
    cases = read_cases(EVENTS)
    assert cases.layout == "event"
    got = [
        (r["row"], r["case_id"], r["referral_date"], r["decision_date"], r["decision"],
         r["start_date"], r["end_date"], r["hours_per_week"])
        for r in cases.frame.iter_rows(named=True)
    ]  # fmt: skip
    assert got == [
        (2, "E-1", D(2023, 1, 3), D(2023, 1, 20), "granted", D(2023, 2, 6), D(2023, 8, 31), 6.5),
        (6, "E-2", D(2023, 2, 1), D(2023, 2, 20), "refused", None, None, None),
        (8, "E-3", D(2023, 3, 15), D(2023, 4, 1), "granted", None, None, 4.0),
        (10, "E-4", D(2023, 9, 1), None, None, None, None, None),
    ]
    assert cases.as_of == D(2023, 9, 1)


def test_as_of_cuts_the_export_as_if_made_then():
    """Referrals after the date are left out; later decisions, starts and ends not yet seen."""
    cases = read_cases(MESSY, as_of=D(2023, 5, 1))
    by_id = {r["case_id"]: r for r in cases.frame.iter_rows(named=True)}
    assert sorted(by_id) == ["S-001", "S-002", "S-003", "S-004", "S-005"]  # S-006 in June...
    assert by_id["S-005"]["start_date"] == D(2023, 5, 1)  # on the date: seen
    assert by_id["S-005"]["end_date"] is None  # ends in September: still open
    assert by_id["S-001"]["end_date"] is None
    early = {r["case_id"]: r for r in read_cases(MESSY, as_of=D(2023, 2, 20)).frame.iter_rows(
        named=True)}  # fmt: skip
    assert early["S-003"]["decision"] is None and early["S-003"]["hours_per_week"] is None
    assert early["S-001"]["start_date"] == D(2023, 2, 1)
    assert cases.as_of == D(2023, 5, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31-01-2024", D(2024, 1, 31)),
        ("31.01.2024", D(2024, 1, 31)),
        ("31/01/2024", D(2024, 1, 31)),
        ("1-2-2024", D(2024, 2, 1)),
        ("2024-01-31", D(2024, 1, 31)),
        ("2024-01-31 00:00:00", D(2024, 1, 31)),
        ("2024-01-31T13:45", D(2024, 1, 31)),
        (" 29-02-2024 ", D(2024, 2, 29)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("29-02-2023", "no such date"),
        ("31-01-24", "four-digit year"),
        ("01/31/2024", "no such date"),  # month first is not a Danish date
        ("jan 2024", "expected a date"),
    ],
)
def test_bad_dates_say_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "hours"), [("7,5", 7.5), ("7.5", 7.5), ("12", 12.0), ("0", 0.0), (" 3,25 ", 3.25)]
)
def test_hours(text, hours):
    assert parse_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "paragraph"),
    [("85", "85"), ("§ 85", "85"), ("SEL § 85, stk. 1", "85"), ("§ 82 b", "82b"), ("82B", "82b")],
)
def test_paragraphs(text, paragraph):
    assert parse_paragraph(text) == paragraph


# --------------------------------------------------------------------------- bad files


BAD = """\
case_id,referral_date,decision_date,decision,start_date,end_date,hours_per_week
A1,2023-01-05,2023-01-02,granted,2023-02-01,,5
A2,31-02-2023,,maybe,,,
A3,2023-03-01,2023-03-10,refused,,,4 timer
A1,2023-04-01,,,,2023-05-01,
,2023-04-01,,,,,
A6,01-05-23,2023-05-10,granted,2023-05-20,2023-05-19,200
A7,,,,,,
A8,2023-06-01,2023-06-10,granted,2023-06-20,,7,5
A9,2023-06-01,2023-06-10,,2023-06-20,2023-06-19,
"""


def test_bad_file_lists_every_problem_with_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    got = [(line, col, where, msg.split(",")[0].split(";")[0]) for line, col, where, msg in
           _problems(path)]  # fmt: skip
    assert got == [
        (2, 15, "decision_date", "expected a date on or after referral_date (05-01-2023)"),
        (3, 4, "referral_date", "no such date: '31-02-2023' (day 31"),
        (3, 16, "decision", "expected granted or refused (or a Danish word for it)"),
        (4, 36, "hours_per_week", "expected hours a week as a number (7"),
        (5, 1, "case_id", "case id A1 again (first on row 2)"),
        (6, 1, "case_id", "expected a case id"),
        (7, 4, "referral_date", "expected a four-digit year (a date dd-mm-yyyy"),
        (7, 54, "hours_per_week", "expected 0 to 168 hours a week"),
        (8, 4, "referral_date", "expected a date dd-mm-yyyy"),
        (9, 48, "", "expected 7 fields like the header"),
        (10, 26, "decision", "expected granted or refused for a case with a decision_date"),
        (10, 38, "end_date", "expected a date on or after start_date (20-06-2023)"),
    ]
    shown = read_error_text(path)
    assert "bad.csv:3:4: referral_date: no such date" in shown
    assert "    A2,31-02-2023,,maybe,,,\n       ^" in shown  # the caret under the cell


def read_error_text(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        read_cases(path)
    return info.value.format(limit=50)


def test_missing_columns_are_named_with_their_aliases(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id;dato;timer\n1;01-01-2024;3\n", encoding="utf-8")
    got = _problems(path)
    assert [(line, where) for line, _, where, _ in got] == [(1, ""), (1, "")]
    assert "expected a column case_id (or one of: case_id, sag_id" in got[0][3]
    assert "found 'id', 'dato', 'timer'" in got[0][3]
    assert "expected a column referral_date (or one of: referral_date, henvisningsdato" in got[1][3]


def test_event_file_problems(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "case_id;event;date\nK1;henvendelse;01-01-2024\nK1;henvendelse;02-01-2024\n"
        "K2;bevilget;03-01-2024\nK3;visiteret;04-01-2024\nK4;start;\n",
        encoding="utf-8",
    )
    got = [(line, where, msg.split(";")[0]) for line, _, where, msg in _problems(path)]
    assert got == [
        (3, "event", "case K1 has a second referral event (first on row 2)"),
        (4, "event", "case K2 has no referral event"),
        (5, "event", "expected referral, granted, refused, start, end (or a Danish word for it)"
         ", found 'visiteret'"),
        (6, "date", "expected a date dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd, found an empty cell"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.csv", None, "file not found"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "old Excel format"),
        ("empty.csv", b"", "no rows"),
        ("header.csv", b"case_id;referral_date\n", "no cases"),
        ("binary.csv", b"case_id\x00\x01", "not a text file"),
        ("broken.xlsx", b"PK not a zip", "cannot read the workbook"),
    ],
)
def test_unreadable_files(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    got = _problems(path)
    assert len(got) == 1 and words in got[0][3]


# --------------------------------------------------------------------------- the JSON Schema


def test_schema_file_is_generated_from_the_column_definitions():
    committed = json.loads((Path(__file__).parents[1] / "docs" / "cases.schema.json").read_text())
    assert committed == json_schema(), (
        "regenerate: python -m sim.config.cases > docs/cases.schema.json"
    )


def test_schema_accepts_a_good_export_and_refuses_a_bad_one():
    jsonschema = pytest.importorskip("jsonschema")
    good = [
        {"case_id": "1", "referral_date": "03-01-2023", "decision": "bevilget",
         "decision_date": "2023-01-20", "hours_per_week": "7,5", "end_date": ""},
        {"case_id": "2", "referral_date": "10.01.2023", "decision": None},
    ]  # fmt: skip
    events = [{"case_id": "1", "event": "henvendelse", "date": "03-01-2023"}]
    jsonschema.validate(good, json_schema())
    jsonschema.validate(events, json_schema())
    for bad in (
        [{"case_id": "1", "referral_date": "01-05-23"}],
        [{"case_id": "1", "referral_date": "2023-01-01", "decision": "maybe"}],
        [{"referral_date": "2023-01-01"}],
        [{"case_id": "1", "referral_date": "2023-01-01", "hours_per_week": "4 timer"}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, json_schema())
