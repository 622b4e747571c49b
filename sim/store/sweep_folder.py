"""The sweep folder: point folders written as each point finishes, the final tables, the manifest.

Results go to ``<folder>/points/<point id>/`` point by point, each written atomically as it
completes, so an interrupted sweep leaves a consistent folder that ``resume`` completes. The
final tables (``points.csv``, ``replications.csv``, ``summary.csv``, ``differences.csv``) are
then assembled from the point folders in point order: byte-identical however the points ran.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__

if TYPE_CHECKING:
    from sim.config.sweep_spec import Point, SweepPlan
    from sim.model.scenario import Scenario

__all__ = [
    "MANIFEST",
    "POINTS_DIR",
    "SWEEP_TABLES",
    "assemble_tables",
    "atomic_text",
    "choose_folder",
    "is_sweep_folder",
    "latest_sweep_folder",
    "point_status",
    "sweep_manifest",
    "write_point",
]

SWEEP_TABLES: tuple[str, ...] = (
    "points.csv",
    "replications.csv",
    "summary.csv",
    "differences.csv",
)
"""The final tables of a sweep folder, assembled from its point folders."""

POINTS_DIR = "points"
MANIFEST = "manifest.json"


def atomic_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name and rename it: a reader never sees half a file."""
    from sim.store.results import write_text_atomic

    write_text_atomic(path, text)


def write_frame(path: Path, columns: dict[str, tuple[Any, list[Any]]]) -> None:
    """A CSV from {column: (polars dtype, values)}, written to a temporary name and renamed."""
    import polars as pl

    df = pl.DataFrame({k: pl.Series(k, v, dtype=dt_) for k, (dt_, v) in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.write_csv(tmp, float_precision=None)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _point_dir(folder: Path, point_id: str) -> Path:
    return folder / POINTS_DIR / point_id


def point_status(folder: Path, point_id: str) -> str | None:
    """'ok' or 'failed' for a stored point, None when it has not been stored."""
    meta = _point_dir(folder, point_id) / "point.json"
    if not meta.is_file():
        return None
    try:
        status = json.loads(meta.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None
    if status == "ok" and not _point_intact(folder, point_id):
        return None  # lost or damaged: run it again
    return status if status in ("ok", "failed") else None


def _point_intact(folder: Path, point_id: str) -> bool:
    """Whether a stored point's replications.csv is there and matches its checksum (if any)."""
    from sim.store.integrity import sha256_of

    path = _point_dir(folder, point_id) / "replications.csv"
    if not path.is_file():
        return False
    try:
        meta = json.loads((path.parent / "point.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = (meta.get("checksums") or {}).get("replications.csv")
    return expected is None or sha256_of(path) == expected


def write_point(
    folder: Path,
    point: Point,
    rows: list[tuple[int, str, dict[str, float]]],
    error: str | None,
    detail: str | None,
    seconds: float,
) -> None:
    """Store one point atomically: resolved scenario, replication rows or error, point.json."""
    import polars as pl

    from sim.config.loader import dump_resolved
    from sim.model.metrics import unit_of
    from sim.store.results import atomic_dir

    final = _point_dir(folder, point.point_id)
    if final.exists():  # a failed point being retried
        shutil.rmtree(final)
    with atomic_dir(final) as tmp:
        (tmp / "scenario.yaml").write_text(dump_resolved(_rerunnable(point)), encoding="utf-8")
        if error is None:
            order = {m: i for i, m in enumerate(point.models)}
            rows = sorted(rows, key=lambda r: (r[0], order[r[1]]))
            flat = [(r, m, k, v, unit_of(k)) for r, m, metrics in rows for k, v in metrics.items()]
            pl.DataFrame(
                {
                    "replication": pl.Series([x[0] for x in flat], dtype=pl.Int64),
                    "model": pl.Series([x[1] for x in flat], dtype=pl.String),
                    "metric": pl.Series([x[2] for x in flat], dtype=pl.String),
                    "value": pl.Series([x[3] for x in flat], dtype=pl.Float64),
                    "unit": pl.Series([x[4] for x in flat], dtype=pl.String),
                }
            ).write_csv(tmp / "replications.csv", float_precision=None)
        else:
            (tmp / "error.txt").write_text((detail or error) + "\n", encoding="utf-8")
        from sim.store.integrity import table_checksums

        meta = {
            "checksums": table_checksums(tmp, ["replications.csv"]),
            "point_id": point.point_id,
            "source": point.source,
            "parameters": point.params,
            "models": list(point.models),
            "replications": point.replications,
            "stream_key": point.stream_key,
            "sim_version": __version__,
            "status": "ok" if error is None else "failed",
            "error": error,
            "compute_seconds": round(seconds, 3),
            "rerun": "sim run scenario.yaml (same settings; see the sweep section of the README "
            "on stream keys)",
        }
        (tmp / "point.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def _rerunnable(point: Point) -> Scenario:
    """The point's scenario with its stream key spelled out and a referral CSV path made
    absolute, so `sim run` on it reproduces the point's numbers exactly, from anywhere."""
    from sim.model.scenario import CsvArrivals

    sc = point.scenario
    exp = sc.experiment.model_copy(update={"stream_key": point.stream_key})
    sc = sc.model_copy(update={"experiment": exp})
    arrivals = sc.arrivals
    if not isinstance(arrivals, CsvArrivals):
        return sc
    path = str((Path(point.base_dir) / arrivals.path).resolve())
    return sc.model_copy(update={"arrivals": arrivals.model_copy(update={"path": path})})


def _param_column(values: list[Any]) -> tuple[Any, list[Any]]:
    """(polars dtype, values) of a parameter column: ints, floats, or text (JSON for lists)."""
    import polars as pl

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pl.Int64, values
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pl.Float64, [None if v is None else float(v) for v in values]
    return pl.String, [
        None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for v in values
    ]


def assemble_tables(folder: Path, plan: SweepPlan) -> dict[str, int]:
    """Write the four final tables from the point folders, in point order; return counts.

    Statistics are always computed from the stored replication rows (never from values held in
    memory), so a resumed sweep and a fresh one give the same bytes.
    """
    tables = _SweepTables(list(plan.parameters))
    cache: dict[str, Any] = {}  # point id -> its replications.csv (identical points: read once)
    counts = {"ok": 0, "failed": 0, "missing": 0}
    for p in plan.points:
        status = point_status(folder, p.point_id)
        error = _stored_error(folder, p.point_id) if status == "failed" else None
        counts[status or "missing"] += 1
        tables.add_point(p, status or "missing", error)
        if status != "ok":
            continue
        if p.point_id not in cache:
            cache[p.point_id] = _read_point(folder, p.point_id)
        tables.add_results(p, cache[p.point_id])
    tables.write(folder)
    return counts


def _stored_error(folder: Path, point_id: str) -> str | None:
    """The error recorded in a failed point's point.json."""
    meta = json.loads((_point_dir(folder, point_id) / "point.json").read_text("utf-8"))
    return meta.get("error")


def _read_point(folder: Path, point_id: str) -> Any:
    """A stored point's replication rows (polars DataFrame)."""
    import polars as pl

    return pl.read_csv(
        _point_dir(folder, point_id) / "replications.csv",
        schema_overrides={"value": pl.Float64, "replication": pl.Int64},
    )


class _SweepTables:
    """The final tables of a sweep as columns, filled point by point in point order, then
    written with fixed column types (so the bytes do not depend on the values seen)."""

    STATS = ("unit", "mean", "ci_low", "ci_high", "sd", "n")

    def __init__(self, params: list[str]) -> None:
        self.params = params
        self.points: dict[str, list[Any]] = {
            c: [] for c in ("point", "point_id", "source", "replications", "status", "error")
        }
        self.pvals: dict[str, list[Any]] = {k: [] for k in params}
        self.reps: dict[str, list[Any]] = {
            c: [] for c in ("point", "replication", "model", "metric", "value", "unit")
        }
        self.summ: dict[str, list[Any]] = {
            c: [] for c in ("point", *params, "model", "metric", *self.STATS)
        }
        self.diff: dict[str, list[Any]] = {
            c: [] for c in ("point", *params, "comparison", "model", "baseline", "metric",
                            *self.STATS)
        }  # fmt: skip

    def add_point(self, p: Point, status: str, error: str | None) -> None:
        """The point's row of points.csv."""
        _append(self.points, point=p.index, point_id=p.point_id, source=p.source,
                replications=p.replications, status=status, error=error)  # fmt: skip
        for k in self.params:
            self.pvals[k].append(p.params.get(k))

    def add_results(self, p: Point, df: Any) -> None:
        """The point's replication rows, and its summary and difference rows computed from them."""
        from sim.run.experiment import paired_differences, summarise
        from sim.store.results import difference_rows, summary_rows

        for col in ("replication", "model", "metric", "value", "unit"):
            self.reps[col].extend(df[col].to_list())
        self.reps["point"].extend([p.index] * df.height)
        values: dict[tuple[str, str], list[float]] = {}  # rows are in replication order
        for m, k, v in zip(df["model"], df["metric"], df["value"], strict=True):
            values.setdefault((m, k), []).append(math.nan if v is None else float(v))
        metrics = list(dict.fromkeys(df["metric"].to_list()))
        at = {"point": p.index, **{q: p.params.get(q) for q in self.params}}
        pairs = [(m, p.models[0]) for m in p.models[1:]]
        values_of = _lookup(values)
        for row in summary_rows(summarise(p.models, metrics, values_of)):
            _append(self.summ, **at, **row)
        for row in difference_rows(paired_differences(pairs, metrics, values_of)):
            _append(self.diff, **at, **row)

    def write(self, folder: Path) -> None:
        """points.csv, replications.csv, summary.csv and differences.csv, each atomically."""
        import polars as pl

        s, i, f = pl.String, pl.Int64, pl.Float64
        pts = self.points
        write_frame(
            folder / "points.csv",
            {
                "point": (i, pts["point"]),
                "point_id": (s, pts["point_id"]),
                "source": (s, pts["source"]),
                **{k: _param_column(self.pvals[k]) for k in self.params},
                "replications": (i, pts["replications"]),
                "status": (s, pts["status"]),
                "error": (s, pts["error"]),
            },
        )
        types = {"point": i, "replication": i, "model": s, "metric": s, "value": f, "unit": s}
        write_frame(folder / "replications.csv", {c: (types[c], self.reps[c]) for c in types})
        for name, table, text_cols in (
            ("summary.csv", self.summ, ("model", "metric", "unit")),
            ("differences.csv", self.diff, ("comparison", "model", "baseline", "metric", "unit")),
        ):
            self._write_stats(folder / name, table, text_cols)

    def _write_stats(
        self, path: Path, table: dict[str, list[Any]], text_cols: tuple[str, ...]
    ) -> None:
        import polars as pl

        cols: dict[str, tuple[Any, list[Any]]] = {"point": (pl.Int64, table["point"])}
        for k in self.params:
            cols[k] = _param_column(table[k])
        for c in text_cols:
            cols[c] = (pl.String, table[c])
        stat_types = {"mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                      "sd": pl.Float64, "n": pl.Int64}  # fmt: skip
        for c, dtype in stat_types.items():
            cols[c] = (dtype, table[c])
        write_frame(path, cols)


def _lookup(values: dict[tuple[str, str], list[float]]) -> Callable[[str, str], list[float]]:
    """``values_of(model, metric)`` over the rows of one point (no rows: an empty list)."""
    return lambda m, k: values.get((m, k), [])


def _append(table: dict[str, list[Any]], **row: Any) -> None:
    for k, v in row.items():
        table[k].append(v)


def sweep_manifest(
    plan: SweepPlan,
    folder: Path,
    *,
    status: str,
    executor: str,
    command: Sequence[str],
    started: str,
    wall: float,
    counts: dict[str, int] | None = None,
    batch: int | None = None,
    checksums: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest of a sweep folder: the common fields (``sim.store.manifest``) plus what was
    swept, how, and with what result."""
    from sim.store.manifest import build_manifest

    first = plan.points[0].scenario
    extra = {
        "sweep": plan.name,
        "status": status,
        "target": plan.target,
        "sources": list(plan.sources),
        "modes": plan.modes,
        "options": plan.options,
        "point_ids": [p.point_id for p in plan.points],
        "parameters": list(plan.parameters),
        "points": len(plan.points),
        "unique_points": len(plan.unique_points()),
        "counts": counts or {},
        "scenario_of": "point 0; each point's own values: points.csv, points/<id>/scenario.yaml",
        "replications": sorted({p.replications for p in plan.points}),
        "seeds": sorted({p.scenario.experiment.seed for p in plan.points}),
        "horizon_weeks": sorted({p.scenario.experiment.horizon_weeks for p in plan.points}),
        "warmup_weeks": sorted({p.scenario.experiment.warmup_weeks for p in plan.points}),
        "stream_key": "(point stream key, replication); see points/<id>/point.json",
        "executor": executor,
        "replications_per_task": batch,
        **({"checksums": checksums} if checksums is not None else {}),
    }
    return build_manifest(
        "sweep",
        first,
        run_id=folder.name,
        command=command,
        wall_seconds=wall,
        jobs=None,
        created=started,
        extra=extra,
    )


def latest_sweep_folder(root: Path, name: str) -> Path | None:
    """The newest sweep folder under ``root/name`` (by run id), or None."""
    base = root / name
    if not base.is_dir():
        return None
    found = []
    for p in base.iterdir():
        meta = p / MANIFEST
        if p.is_dir() and meta.is_file():
            try:
                if json.loads(meta.read_text(encoding="utf-8")).get("kind") == "sweep":
                    found.append(p)
            except (OSError, ValueError):
                continue
    return sorted(found, key=lambda p: p.name)[-1] if found else None


def is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep (its manifest says so)."""
    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("kind") == "sweep"


def choose_folder(
    plan: SweepPlan, *, out: Path | None, resume: bool, root: Path = Path("results")
) -> Path:
    """The folder to write: ``out``, or with ``resume`` the newest sweep folder of this sweep,
    else a new ``root/<sweep>/<run-id>``. Raises FileExistsError for a folder that cannot be used.
    """
    from sim.store.results import new_run_dir

    if out is not None:
        if out.exists() and any(out.iterdir()):
            if not resume:
                raise FileExistsError(
                    f"{out} already exists; add --resume to complete it, or choose another --out"
                )
            if not is_sweep_folder(out):
                raise FileExistsError(f"{out} is not a sweep folder; choose another --out")
        return out
    if resume:
        latest = latest_sweep_folder(root, plan.name)
        if latest is not None:
            return latest
    return new_run_dir(root, plan.name)
