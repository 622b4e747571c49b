"""Checksums of a results folder's tables, and the check that a folder is whole before it is read.

Every command that writes a results folder (``run``, ``sweep``, ``explain``, ``optimise``) records a
sha256 of each table in ``manifest.json`` under ``checksums``. Reading a folder (``sim report``,
``sim compare``, the report written at the end of a run) verifies them first, so a truncated,
edited or corrupted table is refused in one line naming the file, instead of producing a report
from two rows or a traceback.

A folder written before checksums existed has none: it is still read, after a structural check
(the manifest is a JSON object, each table is UTF-8 CSV with a header), with a note that its
tables cannot be verified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHECKSUMS = "checksums"
"""The manifest key that maps each table's file name to ``sha256:<hex>``."""
MANIFEST = "manifest.json"
TABLE_SUFFIXES = (".csv", ".parquet", ".yaml", ".json")
"""What counts as a table: the CSV and Parquet files, the resolved scenario and the results kept as
JSON (``explain.json``, ``optimise.json``, see ``sim.store.snapshot``)."""
UNCHECKED = ("manifest.json", "report.html")
"""Files rebuilt from the others (the report) or holding the checksums (the manifest)."""


class DamagedFolder(Exception):
    """A results folder that cannot be trusted; the message is one line naming the file."""


def sha256_of(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def table_files(folder: Path) -> list[Path]:
    """The tables directly in ``folder`` (not its subfolders), sorted by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix in TABLE_SUFFIXES
        and p.name not in UNCHECKED
        and not p.name.startswith(".")
    )


def table_checksums(folder: Path, names: Iterable[str] | None = None) -> dict[str, str]:
    """{file name: checksum} of the tables in ``folder`` (or of ``names`` only)."""
    paths = [folder / n for n in names] if names is not None else table_files(folder)
    return {p.name: sha256_of(p) for p in paths if p.is_file()}


def with_checksums(meta: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``meta`` with the checksums of the tables now in ``folder``."""
    return {**meta, CHECKSUMS: table_checksums(folder)}


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest as a dict; DamagedFolder when it is missing or not a JSON object."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise DamagedFolder(f"{folder} is not a folder")
    if not path.is_file():
        raise DamagedFolder(f"{path} is missing: {folder} is not a complete results folder")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DamagedFolder(f"{path} is damaged: not valid JSON ({_first_line(exc)})") from None
    except OSError as exc:
        raise DamagedFolder(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not isinstance(meta, dict):
        raise DamagedFolder(f"{path} is damaged: expected a JSON object")
    return meta


def verify_folder(folder: Path, required: Iterable[str] = ()) -> tuple[dict[str, Any], str | None]:
    """Check a results folder before reading it; return (manifest, note or None).

    ``required`` names the tables the reader needs. Raises DamagedFolder, with a one-line message
    naming the file, for a missing manifest or table, a checksum that does not match, or (in a
    folder without checksums) a table that is not UTF-8 CSV text.
    """
    folder = Path(folder)
    meta = read_manifest(folder)
    for name in required:
        if not (folder / name).is_file():
            raise DamagedFolder(f"{folder / name} is missing: the folder is incomplete")
    sums = meta.get(CHECKSUMS)
    if not isinstance(sums, dict):
        for name in required:
            _check_text(folder / name)
        return meta, f"note: {folder} has no checksums (written by an older sim); not verified"
    for name, expected in sums.items():
        path = folder / str(name)
        if not path.is_file():
            raise DamagedFolder(f"{path} is missing (listed in {MANIFEST})")
        if sha256_of(path) != expected:
            raise DamagedFolder(
                f"{path} is damaged: its checksum does not match {MANIFEST} "
                "(truncated or changed after the run); rerun to rebuild it"
            )
    return meta, None


def _check_text(path: Path) -> None:
    """A table of a folder without checksums: UTF-8 text with a header line."""
    if path.suffix != ".csv":
        return
    try:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
            fh.read(1 << 20)
    except UnicodeDecodeError:
        raise DamagedFolder(f"{path} is damaged: not UTF-8 CSV text") from None
    if not header.strip() or "\x00" in header:
        raise DamagedFolder(f"{path} is damaged: no header line")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
