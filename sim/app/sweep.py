"""``sim sweep``: many variants of a scenario, run as small tasks on local processes or Dask.

The use case: the plan is checked by ``sim.config.sweep_spec``, the tasks run on an executor of
``sim.run.sweep``, each point and the final tables and manifest are written by
``sim.store.sweep_folder``, and the report and the terminal table come from ``sim.present``.
Points already stored are skipped, so calling it again on the same folder resumes a sweep.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config.loader import ScenarioError
from sim.config.sweep_spec import Point, SweepPlan, plan_sweep, show_value
from sim.run.sweep import (
    BatchResult,
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    as_result,
    auto_batch,
    make_tasks,
    run_batch,
)
from sim.store.sweep_folder import (
    MANIFEST,
    POINTS_DIR,
    SWEEP_TABLES,
    assemble_tables,
    atomic_text,
    choose_folder,
    point_status,
    sweep_manifest,
    write_point,
)

__all__ = ["SweepOutcome", "SweepRequest", "run_sweep", "sweep", "sweep_table"]


# --------------------------------------------------------------------------- running


@dataclass
class SweepOutcome:
    """What a sweep did: its folder, the points it ran, skipped and lost."""

    folder: Path
    plan: SweepPlan
    ran: int
    skipped: int
    failed: list[tuple[Point, str]]
    wall_seconds: float
    counts: dict[str, int]


@dataclass
class _ManifestWriter:
    """Writes the sweep's manifest at each change of status (running, interrupted, complete)."""

    plan: SweepPlan
    folder: Path
    describe: Callable[[], str]
    command: Sequence[str]
    started: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))
    start: float = field(default_factory=time.perf_counter)

    def write(
        self, status: str, counts: dict[str, int] | None = None, n: int = 0, final: bool = False
    ) -> None:
        from sim.store.integrity import table_checksums

        meta = sweep_manifest(
            self.plan,
            self.folder,
            status=status,
            executor=self.describe(),
            command=self.command,
            started=self.started,
            wall=time.perf_counter() - self.start,
            counts=counts,
            batch=n or None,
            checksums=table_checksums(self.folder, SWEEP_TABLES) if final else None,
        )
        text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
        atomic_text(self.folder / MANIFEST, text)


def run_sweep(
    plan: SweepPlan,
    folder: Path,
    executor: Executor,
    *,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
    on_skip: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Run every point of ``plan`` whose results are not in ``folder`` yet, then write the tables.

    Points already stored (status ok) are skipped, so calling this again on the same folder
    resumes an interrupted sweep; failed points are retried. ``executor`` must not be entered
    yet. On Ctrl-C the folder keeps every finished point and the manifest says 'interrupted'.
    """
    describe = getattr(executor, "describe", lambda: type(executor).__name__)
    manifest = _ManifestWriter(plan, folder, describe, command)
    unique = plan.unique_points()
    todo = [p for p in unique if point_status(folder, p.point_id) != "ok"]
    skipped = len(unique) - len(todo)
    if on_skip is not None and skipped:
        on_skip(skipped)
    failed: list[tuple[Point, str]] = []
    size = 0
    # Start the workers first: a cluster that cannot be reached leaves no folder behind.
    with executor if todo else contextlib.nullcontext():
        _open_folder(folder)
        try:
            if todo:
                for name in (*SWEEP_TABLES, "report.html"):  # tables only for a complete sweep
                    (folder / name).unlink(missing_ok=True)
                max_reps = max(p.replications for p in todo)
                size = batch or auto_batch(max_reps, len(todo), executor.workers)
            manifest.write("running", n=size)
            failed = _run_points(executor, folder, todo, size, progress)
            counts = assemble_tables(folder, plan)
        except BaseException:
            manifest.write("interrupted", n=size)
            raise
    status = "complete" if not counts["failed"] else "complete_with_failures"
    manifest.write(status, counts, size, final=True)
    wall = time.perf_counter() - manifest.start
    return SweepOutcome(folder, plan, len(todo), skipped, failed, wall, counts)


def _open_folder(folder: Path) -> None:
    """The sweep folder and its points folder, without the leftovers of a killed sweep."""
    from sim.store.results import remove_stale_temporaries

    folder.mkdir(parents=True, exist_ok=True)
    (folder / POINTS_DIR).mkdir(exist_ok=True)
    for place in (folder, folder / POINTS_DIR):
        remove_stale_temporaries(place)


def _run_points(
    executor: Executor,
    folder: Path,
    todo: list[Point],
    size: int,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[Point, str]]:
    """Run the tasks of ``todo``; store each point as soon as all its batches are back.
    Returns the points that failed, with their first error."""
    tasks = make_tasks(todo, size)
    by_id = {p.point_id: p for p in todo}
    expected = {pid: 0 for pid in by_id}
    for t in tasks:
        expected[t.key] += 1
    partial: dict[str, list[BatchResult[str]]] = {pid: [] for pid in by_id}
    failed: list[tuple[Point, str]] = []
    done = 0
    if progress is not None and todo:
        progress(0, len(todo))
    for i, out in executor.imap_unordered(run_batch, tasks) if tasks else ():
        task = tasks[i]
        got = partial[task.key]
        got.append(as_result(task.key, out))
        if len(got) < expected[task.key]:
            continue
        point = by_id[task.key]
        error = _store_point(folder, point, got)
        if error is not None:
            failed.append((point, error))
        del partial[task.key]
        done += 1
        if progress is not None:
            progress(done, len(todo))
    return failed


def _store_point(folder: Path, point: Point, got: list[BatchResult[str]]) -> str | None:
    """Write a point from all its batches: its rows, or the first error (by text) if any batch
    failed. Returns that error, or None."""
    errors = [g for g in got if g.error is not None]
    seconds = sum(g.seconds for g in got)
    if errors:
        first = min(errors, key=lambda g: g.error or "")
        write_point(folder, point, [], first.error, first.detail, seconds)
        return first.error or ""
    rows = [row for g in got for row in g.rows]
    write_point(folder, point, rows, None, None, seconds)
    return None


def sweep_table(
    folder: Path, metric: str = "helped_per_year", limit: int = 40, lang: str = "en"
) -> Any:
    """A rich table of the sweep: each point's values, ``metric`` per model and the paired
    differences, mean [95 % CI]; at most ``limit`` rows."""
    import polars as pl
    from rich.table import Table

    from sim.model.metrics import Interval
    from sim.present.console import fmt

    points = pl.read_csv(folder / "points.csv", infer_schema_length=None)
    summary = pl.read_csv(folder / "summary.csv", infer_schema_length=None)
    diffs = pl.read_csv(folder / "differences.csv", infer_schema_length=None)
    meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    params = [p for p in meta.get("parameters", []) if p in points.columns]
    models = list(meta.get("models") or [])

    def stats(df: pl.DataFrame, key: str) -> dict[tuple[int, str], Interval]:
        out = {}
        for r in df.filter(pl.col("metric") == metric).iter_rows(named=True):
            vals = [
                math.nan if r[c] is None else float(r[c]) for c in ("mean", "ci_low", "ci_high")
            ]
            out[(int(r["point"]), r[key])] = Interval(*vals, math.nan, int(r["n"] or 0))
        return out

    from sim.model import registry
    from sim.present import i18n

    s, d = stats(summary, "model"), stats(diffs, "comparison")
    comparisons = list(dict.fromkeys(diffs["comparison"].to_list()))
    entry = registry.lookup(metric)
    scale = entry.scale if entry else 1.0  # a share in percent, as everywhere
    digits = 1 if entry is None or scale != 1 else entry.digits
    unit = i18n.unit_label(i18n.metric_unit(metric), lang)
    diff_unit = "percentage_points" if i18n.metric_unit(metric) == "percent" else None
    label = i18n.metric_label(metric, lang)
    table = Table(title=f"{meta.get('sweep')}: {label}, mean [95 % CI]", title_justify="left")
    table.add_column("point", justify="right")
    for p in params:
        table.add_column(p, justify="right")
    for m in models:
        table.add_column(f"{i18n.model_name(m, lang)}\n({unit})", justify="right")
    for c in comparisons:
        shown = i18n.unit_label(diff_unit, lang) if diff_unit else unit
        table.add_column(f"{c}\n({shown})", justify="right")
    table.add_column("status")
    for r in points.head(limit).iter_rows(named=True):
        i = int(r["point"])
        cells = [str(i), *("" if r[p] is None else show_value(r[p]) for p in params)]
        cells += [fmt(s[(i, m)], digits, lang, scale) if (i, m) in s else "" for m in models]
        cells += [fmt(d[(i, c)], digits, lang, scale) if (i, c) in d else "" for c in comparisons]
        cells.append(str(r["status"]))
        table.add_row(*cells)
    if points.height > limit:
        table.caption = f"first {limit} of {points.height} points; all are in points.csv"
    return table


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class SweepRequest:
    """The options of ``sim sweep``, as given on the command line."""

    target: Path
    jobs: int | None = None
    scheduler: str | None = None
    workers: int | None = None
    resume: bool = False
    reps: int | None = None
    overrides: list[str] | None = None
    out: Path | None = None
    batch: int | None = None
    metric: str = "helped_per_year"
    lang: str = "en"
    report: bool = True
    allow_outside_paths: bool = False
    force: bool = False
    command: Sequence[str] = ()


def _check_options(req: SweepRequest) -> None:
    """Exit 2 on options that cannot go together or name nothing known."""
    from sim.app import common
    from sim.present import i18n

    common.check_lang(req.lang)
    if req.scheduler is not None and req.workers is not None:
        common.refuse("give --scheduler or --workers, not both")
    if not i18n.has(f"metric.{req.metric}"):
        common.refuse(f"--metric: unknown metric '{req.metric}'")


def _plan(target: Path, sets: list[str], allow_outside_paths: bool = False) -> SweepPlan:
    """``plan_sweep``; a problem in a file becomes ``file:line:col: ...`` and exit 2."""
    from sim.app.common import EXIT_INVALID, CommandError

    try:
        return plan_sweep(target, sets, allow_outside_paths=allow_outside_paths)
    except ScenarioError as error:
        raise CommandError(error.format(), EXIT_INVALID) from None


def _flags(options: dict[str, object]) -> str:
    """``--reps 3 --set a=1`` for stored sweep options (``no options`` when there are none)."""
    parts = [f"--reps {options['reps']}"] if options.get("reps") is not None else []
    parts += [f"--set {s}" for s in options.get("set") or []]  # type: ignore[attr-defined]
    return " ".join(parts) or "no options"


def resume_plan(target: Path, folder: Path, plan: SweepPlan, given: dict[str, object]) -> SweepPlan:
    """The plan that completes the sweep in ``folder``: made with the options stored there.

    Options given now that change the points are refused (exit 2), and so is a sweep whose
    scenario files changed since it started (its points would not be the stored ones).
    """
    from dataclasses import replace

    from sim.app import common
    from sim.store.integrity import DamagedFolder, read_manifest

    try:
        meta = read_manifest(folder)
    except DamagedFolder as exc:
        common.refuse(str(exc))
    stored = meta.get("options")
    if isinstance(stored, dict):
        sets = common.settings(stored.get("set") or [], reps=stored.get("reps"))
        stored_plan = _plan(target, sets)
        same = [p.point_id for p in stored_plan.points] == [p.point_id for p in plan.points]
        if _flags(given) != "no options" and not same:
            common.refuse(
                f"--resume: {_flags(given)} contradicts the sweep in {folder}, made with "
                f"{_flags(stored)}; resume without these options, or choose another --out"
            )
        plan = replace(stored_plan, options=stored)
    ids = meta.get("point_ids")
    if isinstance(ids, list) and ids != [p.point_id for p in plan.points]:
        differ = len({p.point_id for p in plan.points} - set(ids))
        common.refuse(
            f"--resume: the scenario files or sim version changed since the sweep in "
            f"{folder} started ({differ} of {len(plan.points)} points differ); restore them, "
            "or choose another --out"
        )
    return plan


def sweep_size(plan: SweepPlan, workers: int) -> Any:
    """The estimated work and memory of every distinct point of a sweep, one after another."""
    from sim.run.estimate import combine, estimate_scenario

    return combine(
        [
            estimate_scenario(p.scenario, jobs=workers, base_dir=Path(p.base_dir))
            for p in plan.unique_points()
        ]
    )


def _executor(req: SweepRequest) -> DaskExecutor | LocalExecutor:
    """A Dask executor for --scheduler or --workers, else local processes (--jobs)."""
    from sim.app import common

    if req.scheduler is not None:
        return DaskExecutor(address=req.scheduler)
    if req.workers is not None:
        return DaskExecutor(workers=req.workers)
    return LocalExecutor(common.default_jobs(req.jobs))


def _prepare(req: SweepRequest) -> tuple[SweepPlan, Path]:
    """The plan (for --resume: the stored one) and the folder; exit 2 on anything wrong."""
    from dataclasses import replace

    from sim.app import common

    _check_options(req)
    sets = common.settings(req.overrides, reps=req.reps)
    plan = _plan(req.target, sets, req.allow_outside_paths)
    try:
        folder = choose_folder(plan, out=req.out, resume=req.resume)
    except FileExistsError as exc:
        common.refuse(str(exc))
    options = {"reps": req.reps, "set": list(req.overrides or [])}
    if req.resume and folder.is_dir():
        plan = resume_plan(req.target, folder, plan, options)
    else:
        plan = replace(plan, options=options)
    return plan, folder


def sweep(req: SweepRequest) -> None:
    """Check everything, run the points not yet stored, write tables and report, print the table.

    Exit 1 when a point failed (the others are kept); Ctrl-C keeps the finished points and says
    how to resume.
    """
    from sim.app import common
    from sim.present.console import Progress
    from sim.run.workers import interrupt_exit_code

    plan, folder = _prepare(req)
    executor = _executor(req)
    workers = req.workers or (1 if req.scheduler else executor.workers)
    common.check_size(sweep_size(plan, workers), req.force)
    common.check_out(folder)
    claimed = common.claim(folder)
    common.note(
        f"{plan.name}: {len(plan.points)} points, models {', '.join(plan.points[0].models)}; "
        f"{executor.describe()}; folder {folder}"
    )
    resume_hint = f"complete the sweep with: sim sweep {req.target} --resume --out {folder}"
    try:
        with claimed, Progress(f"{plan.name}: points", every_pct=5) as progress:
            outcome = run_sweep(
                plan,
                folder,
                executor,
                batch=req.batch,
                progress=progress,
                command=req.command,
                on_skip=_skipped,
            )
    except KeyboardInterrupt as exc:
        raise common.CommandError(
            f"\ninterrupted: finished points are kept in {folder}\n{resume_hint}",
            interrupt_exit_code(exc),
        ) from None
    except ExecutorError as exc:
        raise common.CommandError(f"error: {exc}", common.EXIT_FAILED) from None
    except OSError as exc:
        common.write_failed(
            f"cannot write {folder}: {exc.strerror or exc}; the finished points are kept there; "
            + resume_hint
        )
    _write_report(req, folder)
    _print_outcome(req, folder, outcome)


def _skipped(n: int) -> None:
    from sim.app import common

    common.note(f"resuming: {n} points already done, kept")


def _write_report(req: SweepRequest, folder: Path) -> None:
    """The sweep's tables.xlsx and report.html (unless --no-report); a write error ends the
    command, exit 1."""
    from sim.app import common
    from sim.present.workbook import write_workbook

    try:
        write_workbook(folder, req.lang)
    except OSError as exc:
        common.write_failed(f"cannot write {folder / 'tables.xlsx'}: {exc.strerror or exc}")
    if not req.report:
        return
    from sim.present.sweep_report import write_sweep_report

    try:
        write_sweep_report(folder, lang=req.lang, metric=req.metric)
    except OSError as exc:
        common.write_failed(f"cannot write {folder / 'report.html'}: {exc.strerror or exc}")


def _print_outcome(req: SweepRequest, folder: Path, outcome: SweepOutcome) -> None:
    """The sweep table and the count of points on the terminal; exit 1 if a point failed."""
    import sys

    from rich.console import Console

    from sim.app import common

    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(sweep_table(folder, req.metric, lang=req.lang))
    from sim.present.warnings import folder_warnings, print_warnings

    print_warnings(folder_warnings(folder, req.lang), console, req.lang)
    console.print(
        f"Points: {outcome.counts['ok']} ok, {outcome.counts['failed']} failed "
        f"({outcome.ran} run, {outcome.skipped} kept); {outcome.wall_seconds:.1f} s"
    )
    for point, error in outcome.failed:
        console.print(f"  point {point.index} ({point.label()}) failed: {error}")
    console.print(f"Results: {folder}")
    if req.report:
        console.print(f"Report:  {folder / 'report.html'}")
    if outcome.counts["failed"]:
        raise common.CommandError(None, common.EXIT_FAILED)
