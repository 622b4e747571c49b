"""``sim run``: both models on the same citizens; the tables printed, the results folder written.

Loads through ``sim.config``, runs through ``sim.run``, writes through ``sim.store`` and prints
through ``sim.present``. Every check that can refuse the run happens before any simulation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app import common

if TYPE_CHECKING:
    import datetime as dt

    from sim.model.scenario import Scenario
    from sim.run.experiment import ExperimentResult
    from sim.run.workers import WorkerPool


@dataclass(frozen=True)
class RunRequest:
    """The options of ``sim run``, as given on the command line."""

    scenario: Path
    reps: int | None = None
    seed: int | None = None
    jobs: int | None = None
    models: str | None = None
    overrides: list[str] | None = None
    out: Path | None = None
    events: bool = False
    events_format: str = "csv"
    events_start: str = "2026-01-01"
    lang: str = "en"
    report: bool = True
    png: bool = False
    pairs: str | None = None
    allow_outside_paths: bool = False
    force: bool = False
    command: Sequence[str] = ()
    screen: bool | None = None  # the one-way screen: None = when it costs little (s4-screen)
    uncertainty: Path | None = None  # u2-analysis: take the carriers from this uncertainty run


def report_writer(lang: str, png: bool = False) -> Callable[[Path], None]:
    """A writer that adds report.html (and with ``png`` the figures as PNG) to a results folder."""

    def write(folder: Path) -> None:
        from sim.present.report import write_report

        write_report(folder, lang=lang, png=png)

    return write


def report_writers(lang: str, png: bool = False) -> tuple[Callable[[Path], None], ...]:
    """``report_writer`` in two steps: the first builds the report's figures (while a screen still
    computes), the second writes report.html once carriers.json is in the folder."""
    finish: list[Callable[[], Path]] = []

    def prepare(folder: Path) -> None:
        from sim.present.report import prepare_report

        finish.append(prepare_report(folder, lang=lang, png=png))

    def write(folder: Path) -> None:
        finish[-1]()  # the last prepared: a rescue folder's, when the first place failed

    return prepare, write


def workbook_writer(lang: str) -> Callable[[Path], None]:
    """A writer that adds tables.xlsx (the tables for people, in ``lang``) to a results folder."""

    def write(folder: Path) -> None:
        from sim.present.workbook import write_workbook

        write_workbook(folder, lang)

    return write


# o2-load: tables.xlsx on an idle worker while this process writes the report.
def overlapped_workbook(
    lang: str, pool: WorkerPool, report: bool, busy: Callable[[], bool],
    others: Sequence[Callable[[Path], None]],
) -> Callable[[Path], None]:  # fmt: skip
    """A writer that writes tables.xlsx and then runs ``others``. When a worker is free (more
    than one job, no screen queued on the pool: ``busy()`` is false) and this process has a
    report to write meanwhile, the workbook is written by a worker while ``others`` run here;
    otherwise here, first, as before (the report links to it either way). A worker's failure is
    raised here as its own (an OSError still rescues the folder); a worker lost twice leaves the
    workbook to this process. On any failure here the worker is waited for first: nothing may
    still write into a folder that is being removed."""

    def write(folder: Path) -> None:
        if pool.jobs < 2 or not report or busy():
            workbook_writer(lang)(folder)
            for other in others:
                other(folder)
            return
        from sim.present.workbook import write_workbook_job

        batch = pool.submit(write_workbook_job, [(folder, lang)])
        try:
            for other in others:
                other(folder)
        except BaseException:
            for _ in batch.results():  # settled, its outcome left out: this failure is the one
                pass
            raise
        _workbook_done(batch, folder, lang)

    return write


def _workbook_done(batch: Any, folder: Path, lang: str) -> None:
    """Wait for the worker's workbook; raise its failure, or write it here if the worker was
    lost (twice)."""
    from sim.run.workers import WorkerLost

    for _, out in batch.results():
        if isinstance(out, WorkerLost):
            workbook_writer(lang)(folder)
        elif isinstance(out, BaseException):
            raise out


def _load(req: RunRequest) -> tuple[Scenario, dt.date, list[tuple[str, str]] | None]:
    """The scenario with the options laid on it, day 0 of the event log and the pairs to report;
    exit 2 on any bad option. A taken ``--out`` is refused first: it needs no scenario, and a
    call that fails at once should not wait for the schema's import."""
    if req.out is not None and req.out.exists():
        common.refuse(f"{req.out} already exists; choose another --out")
    from sim.config.loader import Override

    sets = common.settings(req.overrides, reps=req.reps, seed=req.seed)
    if req.models is not None:
        sets.append(Override(f"compare=[{req.models}]", f"--models {req.models}"))
    if req.events_format not in ("csv", "parquet"):
        common.refuse("--events-format must be csv or parquet")
    day0 = common.parse_date("--events-start", req.events_start)
    common.check_lang(req.lang)
    sc = common.load(req.scenario, sets, req.allow_outside_paths)
    if req.png and req.report:
        common.check_png()
    pair_list = common.parse_pairs(req.pairs, sc.compare) if req.pairs else None
    if req.uncertainty is not None:
        _check_uncertainty(req.uncertainty)
    return sc, day0, pair_list


def run(req: RunRequest) -> None:
    """Check, simulate, write the folder (whole or not at all), print the tables.

    One pool of workers serves the replications and the screen: it is started as soon as the run
    is accepted (its fork server imports the model while this process goes on), and the
    screen's replications are queued behind the run's, so that they compute while this process
    writes the tables, the workbook and the report's figures."""
    sc, day0, pair_list = _load(req)  # first: a refused call imports no more than it needs
    folder, base_dir = _check_place(sc, req)
    from sim.run.workers import WorkerPool

    with WorkerPool(common.default_jobs(req.jobs)) as pool:  # its fork server starts now
        folder, result = _run_on(pool, sc, day0, pair_list, req, folder, base_dir)
    _show(result, folder, req.report, req.lang)
    _show_carriers(folder, req.lang)


def _check_place(sc: Scenario, req: RunRequest) -> tuple[Path, Path]:
    """The results folder and the scenario's folder, once the run's size and the folder's place
    are accepted (exit 2 before any worker starts)."""
    from sim.run.estimate import estimate_scenario
    from sim.store.results import new_run_dir

    base_dir = req.scenario.resolve().parent
    jobs = common.default_jobs(req.jobs)
    common.check_size(
        estimate_scenario(sc, jobs=jobs, events=req.events, base_dir=base_dir), req.force
    )
    folder = req.out if req.out is not None else new_run_dir(Path("results"), sc.name)
    common.check_out(folder)
    return folder, base_dir


def _run_on(
    pool: WorkerPool, sc: Scenario, day0: dt.date, pair_list: list[tuple[str, str]] | None,
    req: RunRequest, folder: Path, base_dir: Path,
) -> tuple[Path, ExperimentResult]:  # fmt: skip
    """The replications on ``pool`` and the folder's writing. The screen's replications are
    queued behind the run's (``carriers_writers``): no worker idles between the two, and the
    screen computes while this process writes the tables and the workbook. What is imported here
    is imported while the pool's fork server starts."""
    from sim.config.loader import dump_resolved
    from sim.present.console import Progress
    from sim.store.output import OutputError
    from sim.store.results import run_to_folder

    start_screen, write_carriers, screen_queued = carriers_writers(
        sc, req, pool, base_dir, pair_list
    )
    prepare, write = report_writers(req.lang, req.png) if req.report else (None, None)
    others = [w for w in (prepare, write_carriers, write) if w is not None]
    writers = [overlapped_workbook(req.lang, pool, req.report, screen_queued, others)]
    with common.claim(folder), Progress(f"{sc.name}: replications") as progress:
        if folder.exists():  # another command wrote it since the check above
            common.refuse(f"{folder} already exists; choose another --out")
        try:
            return run_to_folder(
                sc,
                resolved_yaml=dump_resolved(sc.with_presets_spelled_out()),
                out=folder,
                jobs=pool.jobs,
                command=list(req.command),
                base_dir=base_dir,
                events_start=day0,
                events_format=req.events_format if req.events else None,
                writers=writers,
                pairs=pair_list,
                progress=progress,
                pool=pool,
                submitted=start_screen,
            )
        except OutputError as exc:
            common.write_failed(exc)


def _show(result: ExperimentResult, folder: Path, report: bool, lang: str) -> None:
    """The tables on the terminal, then where the results and the report are."""
    from rich.console import Console

    from sim.present.console import print_result
    from sim.present.warnings import folder_warnings

    console = Console(width=None if sys.stdout.isatty() else 120)
    print_result(result, console, lang, folder_warnings(folder, lang))
    console.print(f"Results: {folder}")
    if report:
        console.print(f"Report:  {folder / 'report.html'}")


# --------------------------------------------------------------------------- u2-analysis
# What carries the difference (issue 12, point 3): a stored uncertainty run of the same scenario
# (``--uncertainty DIR``, else the newest one under results/), else a quick one-way screen.


def _check_uncertainty(folder: Path) -> None:
    """Exit 2 before any work when ``--uncertainty`` names no analysed uncertainty folder."""
    from sim.store.uncertainty_tables import is_uncertainty_folder

    if not is_uncertainty_folder(folder) or not (folder / "tornado.csv").is_file():
        common.refuse(
            f"--uncertainty {folder}: expected a folder written by `sim uncertainty` "
            "(with uncertainty.json and tornado.csv)"
        )


def carriers_for(
    sc: Scenario, req: RunRequest, pool: WorkerPool, base_dir: Path,
    pairs: list[tuple[str, str]] | None,
) -> Any:  # fmt: skip
    """What carries the first comparison's difference, decided before the run's replications are
    waited for: None (one model, or ``--no-screen`` with no stored uncertainty run), a Screen
    (from a stored uncertainty run, or of no uncertain input), a ``PendingScreen`` whose
    replications are queued on ``pool``, or - with ``--screen`` left to its default, for a screen
    that would cost more than ``SCREEN_COST_MULTIPLE`` times the run - its ``ScreenPlan``, left
    out (``_finished`` records its estimated cost from the run's seconds)."""
    from sim.model.provenance import uncertain_inputs
    from sim.run.screen import Screen, plan_screen, start_screen, too_costly
    from sim.store.carriers import find_uncertainty_run, screen_from_uncertainty

    pair = pairs[0] if pairs else (sc.compare[1], sc.compare[0]) if len(sc.compare) > 1 else None
    if pair is None:
        return None
    model, baseline = pair
    stored = req.uncertainty or find_uncertainty_run(Path("results"), sc)
    if stored is not None:
        found = screen_from_uncertainty(stored, model, baseline)
        if found is not None:
            return found
    if req.screen is False or not req.report:  # the screen runs with the report, never without
        return None
    inputs = uncertain_inputs(sc)
    if not inputs:
        return Screen(model, baseline, float("nan"), [], 0, 0, 0.0)
    plan = plan_screen(sc, inputs, model=model, baseline=baseline)
    if req.screen is None and too_costly(plan):
        return plan
    return start_screen(plan, pool, base_dir)


def _finished(found: Any, run_seconds: float, scenario_file: str) -> Any:
    """The Screen of ``carriers_for``: a pending one waited for, with its estimate beside it; a
    plan left out, as the record of what it would have cost against the run."""
    from sim.run.screen import (
        SCREEN_COST_MULTIPLE,
        PendingScreen,
        ScreenPlan,
        estimate_seconds,
        skipped_screen,
    )  # fmt: skip

    if isinstance(found, ScreenPlan):
        return skipped_screen(found, run_seconds, scenario_file)
    if not isinstance(found, PendingScreen):
        return found
    return replace(found.result(), estimate_seconds=estimate_seconds(found.plan, run_seconds),
                   run_seconds=run_seconds, multiple=SCREEN_COST_MULTIPLE)  # fmt: skip


def _run_seconds(folder: Path) -> float:
    """The run's wall time from the manifest already in the folder (NaN if it cannot be read)."""
    import json

    try:
        meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return float(meta["wall_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return float("nan")


def carriers_writers(
    sc: Scenario, req: RunRequest, pool: WorkerPool, base_dir: Path,
    pairs: list[tuple[str, str]] | None,
) -> tuple[Callable[[], None], Callable[[Path], None], Callable[[], bool]]:  # fmt: skip
    """A starter, called once the run's replications are with the workers, that queues the
    screen's behind them (or finds the stored carriers), a writer that waits for it and adds
    carriers.json to the results folder (before its report is written), and whether a screen
    is queued on the pool (o2-load: then no worker is free for the workbook)."""
    found: list[Any] = []

    def queued() -> bool:
        from sim.run.screen import PendingScreen

        return bool(found) and isinstance(found[-1], PendingScreen)

    def start() -> None:
        found.append(carriers_for(sc, req, pool, base_dir, pairs))

    def write(folder: Path) -> None:
        from sim.store.carriers import write_carriers

        found[:] = [_finished(found[-1], _run_seconds(folder), str(req.scenario))]
        screen = found[0]  # kept: a rescue folder is written with the same
        if screen is not None:
            write_carriers(folder, screen)

    return start, write, queued


def _show_carriers(folder: Path, lang: str) -> None:
    """The headline's sentence on what carries the difference, and what the screen cost."""
    from rich.console import Console
    from rich.markup import escape

    from sim.present.i18n import fmt_num, t
    from sim.present.report import carries_sentence
    from sim.store.carriers import read_carriers

    screen = read_carriers(folder)
    if screen is None:
        return
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(escape(carries_sentence(folder, lang)), highlight=False)
    if screen.origin == "screen" and screen.runs:
        secs = fmt_num(screen.seconds, lang, 0)
        console.print(
            escape(t("unc.screen_console", lang, runs=screen.runs, reps=screen.reps, seconds=secs))
            + escape(_run_cost(screen, lang)),
            highlight=False,
        )


def _run_cost(screen: Any, lang: str) -> str:
    """ " (the run itself took N s)" after the screen's cost, when the run's time is known."""
    import math

    from sim.present.i18n import auto_digits, fmt_num, t

    if not math.isfinite(screen.run_seconds):
        return ""
    secs = fmt_num(screen.run_seconds, lang, auto_digits(screen.run_seconds))
    return " " + t("screen.run_took", lang, seconds=secs)
