"""The results folder: written whole into a temporary folder, then renamed into place.

Every folder holds the resolved scenario, the seed, package versions and the git revision
(``manifest.json``), the per-replication table, the summary, the paired differences and the weekly
time series. Tables are written from values in replication order with fixed formatting, so the same
scenario and seed give byte-identical tables whatever ran them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.model.metrics import Interval, unit_of
from sim.run import settle
from sim.run.experiment import ExperimentResult, iter_timeseries_rows
from sim.store import settling
from sim.store.integrity import with_checksums
from sim.store.manifest import build_manifest, git_revision, package_versions  # noqa: F401


def new_run_dir(root: Path, scenario_name: str) -> Path:
    """A fresh ``root/<scenario>/<timestamp>`` path that does not exist yet."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / scenario_name / stamp
    path, i = base, 2
    while path.exists():
        path = base.with_name(f"{stamp}-{i}")
        i += 1
    return path


STALE_TEMP_SECONDS = 30 * 60
"""A temporary folder of a dead process is removed only when it is older than this: a pid that
looks dead may belong to a live writer on another machine or in another container sharing the
folder, and no write phase takes this long."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or not a pid at all): leave it alone
    return True


def remove_stale_temporaries(folder: Path, min_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove what killed runs left in ``folder``: ``.tmp-<name>-<pid>`` folders (``atomic_dir``)
    and ``.<name>.tmp-<pid>`` files, when that process is gone and the leftover is older than
    ``min_age`` seconds. Never a live process's. Returns what was removed."""
    import time

    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        name = path.name
        if not name.startswith(".") or ".tmp-" not in name:
            continue
        pid = name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        try:
            if time.time() - path.lstat().st_mtime < min_age:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` only if all went well.

    Leftovers of killed runs beside it (dead process, old enough) are removed first."""
    if final.exists():
        raise FileExistsError(f"{final} already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final.parent)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def final_name(folder: Path) -> str:
    """The name ``folder`` has once written: ``atomic_dir`` writes into ``.tmp-<name>-<pid>``, and
    what is written there (the report's footer) must name the folder the reader will see."""
    name = Path(folder).name
    if name.startswith(".tmp-"):
        stem, _, pid = name.removeprefix(".tmp-").rpartition("-")
        if stem and pid.isdigit():
            return stem
    return name


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary name beside ``path``, then rename it: a reader never sees half
    a file, and a failed write leaves none."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    import polars as pl

    df = pl.DataFrame(rows, schema=columns, orient="row") if rows else pl.DataFrame(schema=columns)
    df.write_csv(path, float_precision=None)


def replication_rows(result: ExperimentResult) -> list[dict[str, Any]]:
    return [
        {
            "replication": r.replication,
            "model": r.model,
            "metric": k,
            "value": v,
            "unit": unit_of(k),
        }
        for r in sorted(
            result.replications, key=lambda r: (r.replication, result.models.index(r.model))
        )
        for k, v in r.metrics.items()
    ]


def interval_columns(metric: str, iv: Interval) -> dict[str, Any]:
    """A metric's unit and its interval as table columns (mean, ci_low, ci_high, sd, n)."""
    return {
        "metric": metric,
        "unit": unit_of(metric),
        "mean": iv.mean,
        "ci_low": iv.low,
        "ci_high": iv.high,
        "sd": iv.sd,
        "n": iv.n,
    }


def summary_rows(summary: Mapping[str, Mapping[str, Interval]]) -> list[dict[str, Any]]:
    """summary.csv: per model and metric, the mean over replications with its 95 % CI."""
    return [
        {"model": m, **interval_columns(k, iv)}
        for m, metrics in summary.items()
        for k, iv in metrics.items()
    ]


def difference_rows(
    differences: Mapping[tuple[str, str], Mapping[str, Interval]],
) -> list[dict[str, Any]]:
    """differences.csv: per pair and metric, the paired difference with its 95 % CI."""
    return [
        {"comparison": f"{m} - {b}", "model": m, "baseline": b, **interval_columns(k, iv)}
        for (m, b), metrics in differences.items()
        for k, iv in metrics.items()
    ]


def write_tables(folder: Path, result: ExperimentResult) -> None:
    """The four result tables (CSV), and the warm-up check (settling.csv, see sim.run.settle)."""
    rep_cols = ["replication", "model", "metric", "value", "unit"]
    sum_cols = ["model", "metric", "unit", "mean", "ci_low", "ci_high", "sd", "n"]
    diff_cols = ["comparison", "model", "baseline", "metric", "unit", "mean", "ci_low",
                 "ci_high", "sd", "n"]  # fmt: skip
    ts_cols = ["model", "week", "series", "mean", "p05", "p95"]
    _write_csv(folder / "replications.csv", replication_rows(result), rep_cols)
    _write_csv(folder / "summary.csv", summary_rows(result.summary()), sum_cols)
    _write_csv(folder / "differences.csv", difference_rows(result.differences()), diff_cols)
    _write_csv(folder / "timeseries.csv", list(iter_timeseries_rows(result)), ts_cols)
    settling.write_table(folder, settle.check_result(result))  # settling.csv: the warm-up check


def write_events(
    folder: Path, result: ExperimentResult, fmt: str, start_date: dt.date | None = None
) -> Path:
    """The per-citizen event log, one row per activity, for process-mining tools (columns and
    types in ``sim.model.eventlog``); timestamps count from ``start_date`` (default 2026-01-01)."""
    from sim.model import eventlog

    df = eventlog.frame(result.events, start_date or eventlog.START_DATE)
    return eventlog.write(df, folder, fmt)


def manifest(
    result: ExperimentResult,
    *,
    run_id: str,
    command: list[str],
    wall_seconds: float,
    jobs: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What it takes to reproduce and read a run (``sim.store.manifest``, kind ``run``)."""
    return build_manifest(
        "run",
        result.scenario,
        run_id=run_id,
        command=command,
        wall_seconds=wall_seconds,
        jobs=jobs,
        models=list(result.models),
        fte=result.fte,
        extra={
            "replications": len({r.replication for r in result.replications}),
            "comparisons": [f"{m} - {b}" for m, b in result.comparisons()],
            **(extra or {}),
        },
    )


def write_results(
    final: Path,
    result: ExperimentResult,
    resolved_yaml: str,
    meta: dict[str, Any],
    *,
    events_format: str | None = None,
    extra_writers: list[Callable[[Path], None]] | None = None,
    events_start: dt.date | None = None,
) -> Path:
    """Write a complete results folder atomically and return its path.

    The manifest records a checksum of every table (``store.integrity``), checked when the folder is
    read again.
    """
    with atomic_dir(final) as tmp:
        (tmp / "scenario.yaml").write_text(resolved_yaml, encoding="utf-8")
        write_tables(tmp, result)
        if events_format:
            write_events(tmp, result, events_format, events_start)
        meta = with_checksums(meta, tmp)
        (tmp / "manifest.json").write_text(
            json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        for writer in extra_writers or []:
            writer(tmp)
    return final


def run_to_folder(
    scenario: Any,
    *,
    resolved_yaml: str,
    out: Path,
    jobs: int,
    command: list[str],
    base_dir: Path | None = None,
    events_format: str | None = None,
    writers: list[Callable[[Path], None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    pairs: list[tuple[str, str]] | None = None,
    events_start: dt.date | None = None,
    pool: Any = None,
    submitted: Callable[[], None] | None = None,
) -> tuple[Path, ExperimentResult]:
    """Run the scenario's experiment and write its results folder atomically at ``out``.

    When ``out`` cannot be written after the work, the results go to a rescue folder and
    ``sim.store.output.OutputError`` names it (nothing computed is lost to a full disk).
    ``pool``: an open ``sim.run.workers.WorkerPool`` to run on, kept open for the writers;
    ``submitted``: called once the replications are with its workers (``run_experiment``).
    """
    import time

    from sim.run.experiment import run_experiment
    from sim.store.output import write_or_rescue

    start = time.perf_counter()
    result = run_experiment(
        scenario,
        jobs=jobs,
        base_dir=base_dir,
        record_events=events_format is not None,
        progress=progress,
        pairs=pairs,
        pool=pool,
        submitted=submitted,
    )
    wall = time.perf_counter() - start
    events = None
    if events_format:
        from sim.model.eventlog import START_DATE

        start = (events_start or START_DATE).isoformat()
        events = {"events": {"format": events_format, "start_date": start}}
    meta = manifest(
        result, run_id=out.name, command=command, wall_seconds=wall, jobs=jobs, extra=events
    )
    folder = write_or_rescue(
        lambda f: write_results(
            f,
            result,
            resolved_yaml,
            meta,
            events_format=events_format,
            extra_writers=writers,
            events_start=events_start,
        ),
        out,
    )
    return folder, result
