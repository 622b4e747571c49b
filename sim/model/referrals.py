"""Referral dates from a CSV file: where the file may be, and reading what Excel writes.

A scenario names its CSV relative to its own folder. The file must stay inside that folder unless
the user says otherwise (``--allow-outside-paths``), so a scenario from elsewhere cannot make
``sim`` read, and quote in an error, a file it has no business with. Excel saves "CSV UTF-8" with a
byte-order mark, uses ``;`` as the separator in Danish settings and Windows-1252 in the plain "CSV"
format; all of these are read. Errors are PydanticCustomError so the loader places them on the
scenario's ``path:`` line, and they quote file content only from inside the scenario's folder.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from pathlib import Path

from pydantic_core import PydanticCustomError

__all__ = ["MAX_CSV_BYTES", "locate", "read_referral_days"]

MAX_CSV_BYTES = 20 * 2**20
"""Largest referral file read: 20 MB is about a million referral dates."""

_SEPARATORS = (",", ";", "\t")
_DAY_FIRST = re.compile(r"\d{1,2}[-./]\d{1,2}[-./]\d{4}")


def _error(message: str) -> PydanticCustomError:
    # The message may hold braces from the user's file: pass it as a value, not a template.
    return PydanticCustomError("referral_csv", "{message}", {"message": message})


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def locate(base_dir: Path, value: str, allow_outside: bool = False) -> tuple[Path, bool]:
    """The referral file ``value`` names (relative to ``base_dir``), and whether it is inside.

    Refuses a file outside ``base_dir`` unless ``allow_outside``, before reading anything.
    """
    path = Path(base_dir) / value
    inside = _inside(path, Path(base_dir))
    if not inside and not allow_outside:
        raise _error(
            f"referral file {path} is outside the scenario's folder ({base_dir}); move it into "
            "that folder, or pass --allow-outside-paths"
        )
    if path.is_dir():
        raise _error(f"referral file {path} is a folder, expected a CSV file")
    if not path.exists():
        raise _error(f"referral file {path} not found")
    return path, inside


def decode_text(raw: bytes) -> tuple[str, str]:
    """The text and, for a message, the encoding it was read in. Excel's exports are all tried:
    "Unicode text" (UTF-16 with a byte-order mark), "CSV UTF-8" (BOM or not), plain "CSV" on Danish
    Windows (Windows-1252); Latin-1 reads any byte, so nothing is refused for its encoding."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "Latin-1"


def _separator(header: str, column: str) -> str:
    """The separator that makes ``column`` one of the header's fields, else the most used one."""
    for sep in _SEPARATORS:
        if column in (f.strip() for f in next(csv.reader([header], delimiter=sep))):
            return sep
    return max(_SEPARATORS, key=header.count) if any(s in header for s in _SEPARATORS) else ","


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    try:  # Excel may add a time of day: 2024-01-03 00:00:00
        return dt.datetime.fromisoformat(raw).date()
    except ValueError:
        return None


def _read_text(path: Path) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise _error(
                f"referral file {path} is {size / 2**20:.1f} MB; referral files are limited to "
                f"{MAX_CSV_BYTES // 2**20} MB"
            )
        with path.open("rb") as fh:
            raw = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise _error(f"cannot read referral file {path}: {exc.strerror or exc}") from None
    text, encoding = decode_text(raw)
    if "\x00" in text:
        raise _error(f"referral file {path} is not a text file; expected a CSV file of dates")
    return text, encoding


def read_referral_days(path: Path, column: str, show_content: bool = True) -> list[float]:
    """Days from the first referral date, read from ``path``; errors name the file and line.

    ``show_content`` False keeps the file's content out of messages (a file outside the folder).
    """
    text, encoding = _read_text(path)
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    sep = _separator(header, column)
    read_as = [f"read as {encoding}"] if encoding != "UTF-8" else []
    if sep != ",":
        read_as.append(f"{'tab' if sep == chr(9) else repr(sep)}-separated")
    note = f" ({', '.join(read_as)})" if read_as else ""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    fields = [f.strip() for f in next((row for row in reader if any(row)), [])]
    if column not in fields:
        found = (
            f", found {fields}"
            if show_content
            else " (the header is not shown: the file is outside the scenario's folder)"
        )
        raise _error(
            f"{path}:{reader.line_num}: expected a header with a column '{column}'{found}{note}; "
            "name the column, or set date_column"
        )
    index = fields.index(column)
    dates: list[dt.date] = []
    for row in reader:
        if not any(f.strip() for f in row):
            continue  # a blank line, or the empty rows Excel leaves at the end
        raw = row[index].strip() if index < len(row) else ""
        date = _date(raw)
        if date is None:
            shown = f", found '{raw[:40]}'" if show_content else ""
            hint = (
                "; this looks like day-month-year: format the column as yyyy-mm-dd before saving"
                if _DAY_FIRST.fullmatch(raw)
                else ""
            )
            raise _error(f"{path}:{reader.line_num}: expected a date YYYY-MM-DD{shown}{hint}{note}")
        dates.append(date)
    if not dates:
        raise _error(f"{path}: expected at least one referral date{note}")
    dates.sort()
    return [float((d - dates[0]).days) for d in dates]
