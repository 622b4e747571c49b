"""``sim check``: does the scenario's baseline reproduce the municipality's own case export?

Reads the export (``sim.config.cases``), runs the baseline over the observed period
(``sim.run.check``), writes the folder (``sim.present.check_report``) and prints the table.
Every check that can refuse happens before any simulation; nothing is written on a refusal.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app import common

if TYPE_CHECKING:
    from sim.config.cases import Cases
    from sim.model.scenario import Scenario
    from sim.run.check import CheckResult

DEFAULT_REPS = 20
"""Replications when ``--reps`` is not given: enough for a prediction band of one realisation."""


@dataclass(frozen=True)
class CheckRequest:
    """The options of ``sim check``, as given on the command line."""

    scenario: Path
    cases: Path
    reps: int | None = None
    jobs: int | None = None
    out: Path | None = None
    lang: str = "en"
    report: bool = True
    as_of: str | None = None
    start: str | None = None
    overrides: list[str] | None = None
    command: Sequence[str] = ()


def _read(req: CheckRequest) -> Cases:
    """The export, cut at ``--as-of``; every bad cell as file:row:column and exit 2."""
    from sim.config.cases import read_cases
    from sim.config.loader import ScenarioError

    as_of = common.parse_date("--as-of", req.as_of) if req.as_of else None
    try:
        return read_cases(req.cases, as_of)
    except ScenarioError as error:
        raise common.CommandError(error.format(), common.EXIT_INVALID) from None


def _load(req: CheckRequest) -> tuple[Scenario, Cases, dt.date | None]:
    common.check_lang(req.lang)
    if req.reps is not None and req.reps < 2:
        common.refuse(f"--reps must be at least 2 (a band needs a spread), found {req.reps}")
    sc = common.load(req.scenario, common.settings(req.overrides))
    cases = _read(req)
    start = common.parse_date("--from", req.start) if req.start else None
    if start is not None and start > cases.as_of:
        common.refuse(f"--from {start} is after the export date {cases.as_of}")
    if req.out is not None and req.out.exists():
        common.refuse(f"{req.out} already exists; choose another --out")
    return sc, cases, start


def _manifest(
    req: CheckRequest, sc: Scenario, cases: Cases, res: CheckResult, seconds: float, jobs: int
) -> dict[str, Any]:
    from sim.run.casegen import for_timeline
    from sim.store.integrity import sha256_of
    from sim.store.manifest import build_manifest

    tl = res.timeline
    return build_manifest(
        "check",
        for_timeline(sc, tl),
        run_id=(req.out or Path("check")).name,
        command=list(req.command),
        wall_seconds=seconds,
        jobs=jobs,
        models=[res.model],
        extra={
            "replications": res.replications,
            "cases": {
                "file": str(req.cases),
                "sha256": sha256_of(req.cases),
                "layout": cases.layout,
                "rows": cases.frame.height,
            },
            "as_of": tl.as_of.isoformat(),
            "period_start": tl.start.isoformat(),
            "period_start_inferred": res.start_inferred,
            "day0": tl.day0.isoformat(),
            "band": "95 % prediction interval over replications: mean ± t·sd·√(1+1/n), ≥ 0",
            "simulated_side": "each replication's event log as a case export (sim.run.casegen), "
            "counted by the same functions as the observed export (sim.run.casefigures)",
            "verdict": {
                "passes": res.passes,
                "outside": res.outside,
                "judged": len(res.judged),
                "allowed_outside": res.allowed,
            },
            "warnings": [key for key, _ in res.warnings],
        },
    )


def check(req: CheckRequest) -> CheckResult:
    """Check, simulate, write the folder (whole or not at all), print the table."""
    from sim.config.loader import dump_resolved
    from sim.present.check_report import write_check
    from sim.present.console import Progress
    from sim.run.check import run_check

    sc, cases, start = _load(req)
    folder = common.new_dir(sc.name, "check", req.out)
    common.check_out(folder)
    n_jobs = common.default_jobs(req.jobs)
    reps = req.reps or DEFAULT_REPS
    claimed = common.claim(folder)
    began = time.perf_counter()
    with Progress(f"{sc.name}: check against {req.cases.name}") as progress:
        res = run_check(
            sc, cases.frame, cases.as_of, start=start, replications=reps, jobs=n_jobs,
            base_dir=req.scenario.resolve().parent, progress=progress,
        )  # fmt: skip
    meta = _manifest(req, sc, cases, res, time.perf_counter() - began, n_jobs)
    with claimed:
        common.write_or_fail(
            lambda f: write_check(
                f, res, meta=meta, resolved_yaml=dump_resolved(sc),
                cases_name=req.cases.name, lang=req.lang, report=req.report,
            ),
            folder,
        )  # fmt: skip
    _show(res, folder, req)
    return res


def _show(res: CheckResult, folder: Path, req: CheckRequest) -> None:
    """The table, the verdict and the warnings on the terminal, then where the folder is."""
    from rich.console import Console
    from rich.table import Table

    from sim.present.check_report import inside_label, span_label, verdict, warning_lines
    from sim.present.i18n import fmt_num, fmt_range, t

    lang = req.lang
    console = Console(width=None if sys.stdout.isatty() else 140)
    table = Table(title=t("check.table", lang))
    for c in ("figure", "span", "unit", "observed", "simulated", "band", "inside"):
        table.add_column(t(f"check.col_{c}", lang), justify="right" if c in ("observed",
                         "simulated", "band") else "left")  # fmt: skip
    for r in res.rows:
        table.add_row(
            t(f"check.figure.{r.figure}", lang), span_label(r.span, lang),
            t(f"check.unit.{r.unit}", lang), fmt_num(r.observed, lang),
            fmt_num(r.simulated_mean, lang), fmt_range(r.band_low, r.band_high, lang),
            inside_label(r, lang), style=None if r.inside is not False else "bold",
        )  # fmt: skip
    console.print(table)
    console.print(verdict(res, lang), highlight=False)
    for line in warning_lines(res, lang):
        console.print(f"[yellow]! {line}[/yellow]", highlight=False)
    console.print(f"Results: {folder}")
    if req.report:
        console.print(f"Report:  {folder / f'report.{lang}.html'}")
