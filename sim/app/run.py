"""``sim run``: both models on the same citizens; the tables printed, the results folder written.

Loads through ``sim.config``, runs through ``sim.run``, writes through ``sim.store`` and prints
through ``sim.present``. Every check that can refuse the run happens before any simulation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.app import common

if TYPE_CHECKING:
    import datetime as dt

    from sim.model.scenario import Scenario
    from sim.run.experiment import ExperimentResult


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


def report_writer(lang: str, png: bool = False) -> Callable[[Path], None]:
    """A writer that adds report.html (and with ``png`` the figures as PNG) to a results folder."""

    def write(folder: Path) -> None:
        from sim.present.report import write_report

        write_report(folder, lang=lang, png=png)

    return write


def workbook_writer(lang: str) -> Callable[[Path], None]:
    """A writer that adds tables.xlsx (the tables for people, in ``lang``) to a results folder."""

    def write(folder: Path) -> None:
        from sim.present.workbook import write_workbook

        write_workbook(folder, lang)

    return write


def _load(req: RunRequest) -> tuple[Scenario, dt.date, list[tuple[str, str]] | None]:
    """The scenario with the options laid on it, day 0 of the event log and the pairs to report;
    exit 2 on any bad option."""
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
    if req.out is not None and req.out.exists():
        common.refuse(f"{req.out} already exists; choose another --out")
    return sc, day0, pair_list


def run(req: RunRequest) -> None:
    """Check, simulate, write the folder (whole or not at all), print the tables."""
    from sim.config.loader import dump_resolved
    from sim.present.console import Progress
    from sim.run.estimate import estimate_scenario
    from sim.store.output import OutputError
    from sim.store.results import new_run_dir, run_to_folder

    sc, day0, pair_list = _load(req)
    n_jobs = common.default_jobs(req.jobs)
    base_dir = req.scenario.resolve().parent
    common.check_size(
        estimate_scenario(sc, jobs=n_jobs, events=req.events, base_dir=base_dir), req.force
    )
    folder = req.out if req.out is not None else new_run_dir(Path("results"), sc.name)
    common.check_out(folder)
    writers = [workbook_writer(req.lang)]  # before the report, which links to it
    writers += [report_writer(req.lang, req.png)] if req.report else []
    with common.claim(folder), Progress(f"{sc.name}: replications") as progress:
        if folder.exists():  # another command wrote it since the check above
            common.refuse(f"{folder} already exists; choose another --out")
        try:
            folder, result = run_to_folder(
                sc,
                resolved_yaml=dump_resolved(sc.with_presets_spelled_out()),
                out=folder,
                jobs=n_jobs,
                command=list(req.command),
                base_dir=base_dir,
                events_start=day0,
                events_format=req.events_format if req.events else None,
                writers=writers,
                pairs=pair_list,
                progress=progress,
            )
        except OutputError as exc:
            common.write_failed(exc)
    _show(result, folder, req.report, req.lang)


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
