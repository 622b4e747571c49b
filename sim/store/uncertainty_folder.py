"""The files of an uncertainty folder: one file per finished parameter set, then the tables.

Each set is stored as ``sets/<set_id>.json`` (its role, input, values and every model's metrics
per replication, or its error) the moment all its replications are back, written to a temporary
name and renamed, so an interrupted run keeps whole sets only and ``--resume`` runs the rest.
The tables (``design.csv``, ``replications.csv``) are assembled from the set files in set order,
so they are the same, byte for byte, whatever ran the sets and in whatever order they finished.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST",
    "SETS_DIR",
    "TABLES",
    "StoredSet",
    "assemble_tables",
    "open_folder",
    "read_sets",
    "write_set",
]

MANIFEST = "uncertainty.json"
SETS_DIR = "sets"
TABLES = ("design.csv", "replications.csv")
"""The tables ``sim uncertainty`` writes itself (the analysis adds its own, ``sim.store``'s
``uncertainty_tables``)."""


@dataclass(frozen=True)
class StoredSet:
    """A finished set as stored: rows are (replication, model, {metric: value})."""

    set_id: int
    role: str
    input: str
    values: dict[str, float]
    rows: list[tuple[int, str, dict[str, float]]]
    error: str | None


def _set_path(folder: Path, set_id: int) -> Path:
    return folder / SETS_DIR / f"{set_id:05d}.json"


def open_folder(folder: Path) -> None:
    """The folder and its sets folder, without the leftovers of a killed run."""
    from sim.store.results import remove_stale_temporaries

    (folder / SETS_DIR).mkdir(parents=True, exist_ok=True)
    for place in (folder, folder / SETS_DIR):
        remove_stale_temporaries(place)


def write_set(
    folder: Path,
    set_id: int,
    role: str,
    input_: str,
    values: Mapping[str, float],
    rows: Sequence[tuple[int, str, Mapping[str, float]]],
    error: str | None = None,
    seconds: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Store one set atomically (rows sorted by replication, then model order as given);
    ``seconds`` (wall, CPU of the workers) are kept for speed figures, never in a table."""
    from sim.store.results import write_text_atomic

    data = {
        "set_id": set_id,
        "role": role,
        "input": input_,
        "values": dict(values),
        "error": error,
        "worker_seconds": {"wall": seconds[0], "cpu": seconds[1]},
        "rows": [[r, m, dict(v)] for r, m, v in rows],
    }
    write_text_atomic(_set_path(folder, set_id), json.dumps(data, allow_nan=True) + "\n")


def read_sets(folder: Path) -> dict[int, StoredSet]:
    """Every whole set file of the folder (a file that does not parse is left out: it runs
    again)."""
    out: dict[int, StoredSet] = {}
    place = folder / SETS_DIR
    if not place.is_dir():
        return out
    for path in sorted(place.glob("*.json")):
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            s = StoredSet(
                int(d["set_id"]),
                str(d["role"]),
                str(d["input"]),
                {str(k): float(v) for k, v in d["values"].items()},
                [
                    (int(r), str(m), {str(k): float(x) for k, x in v.items()})
                    for r, m, v in d["rows"]
                ],
                d.get("error"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if path.name == _set_path(folder, s.set_id).name:
            out[s.set_id] = s
    return out


def _write_csv(path: Path, columns: dict[str, tuple[Any, list[Any]]]) -> None:
    import polars as pl

    df = pl.DataFrame({k: pl.Series(k, v, dtype=t) for k, (t, v) in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.write_csv(tmp, float_precision=None)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def assemble_tables(
    folder: Path, sets: Mapping[int, StoredSet], inputs: Sequence[str], models: Sequence[str]
) -> None:
    """``design.csv`` and ``replications.csv`` from the sets that ran without error, in set
    order (and replication, then ``models`` order, inside a set)."""
    import polars as pl

    ok = [sets[i] for i in sorted(sets) if sets[i].error is None]
    design: dict[str, tuple[Any, list[Any]]] = {
        "set_id": (pl.Int64, [s.set_id for s in ok]),
        "role": (pl.Utf8, [s.role for s in ok]),
        "input": (pl.Utf8, [s.input for s in ok]),
    }
    for path in inputs:
        design[path] = (pl.Float64, [s.values[path] for s in ok])
    _write_csv(folder / "design.csv", design)
    order = {m: i for i, m in enumerate(models)}
    rows = [(s.set_id, r, m, v) for s in ok for r, m, v in s.rows]
    rows.sort(key=lambda x: (x[0], x[1], order.get(x[2], len(order))))
    metrics = list(rows[0][3]) if rows else []
    reps: dict[str, tuple[Any, list[Any]]] = {
        "set_id": (pl.Int64, [x[0] for x in rows]),
        "model": (pl.Utf8, [x[2] for x in rows]),
        "replication": (pl.Int64, [x[1] for x in rows]),
    }
    for k in metrics:
        reps[k] = (pl.Float64, [x[3].get(k, float("nan")) for x in rows])
    _write_csv(folder / "replications.csv", reps)
