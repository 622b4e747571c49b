"""``sim optimise``: the authority/provider split of the budget that helps most citizens per year
under the waiting-time limit.

Searches through ``sim.run.optimise`` (coarse grid, fine grid, confirmation with fresh citizens),
writes the folder whole and prints the chosen split of each model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app import common

if TYPE_CHECKING:
    from sim.model.scenario import Scenario
    from sim.run.estimate import Estimate
    from sim.run.optimise import OptimiseResult


@dataclass(frozen=True)
class OptimiseRequest:
    """The options of ``sim optimise``, as given on the command line."""

    scenario: Path
    models: str | None = None
    reps: int | None = None
    confirm_reps: int | None = None
    seed: int | None = None
    jobs: int | None = None
    overrides: list[str] | None = None
    out: Path | None = None
    lang: str = "en"
    png: bool = False
    allow_outside_paths: bool = False
    force: bool = False
    command: Sequence[str] = ()


def optimise_size(
    sc: Scenario, names: list[str], reps: int | None, confirm: int | None, jobs: int, path: Path
) -> Estimate:
    """Estimated size of the optimiser's passes: coarse grid, fine grid around the best share,
    and the confirmation of the best few (plus the current split) with fresh citizens."""
    from sim.run.estimate import combine, estimate_scenario
    from sim.run.optimise import settings_of, share_grid

    st, _ = settings_of(sc)
    coarse = len(share_grid(st.min_authority_share, st.max_authority_share, st.coarse_step))
    fine = 2 * int(st.coarse_step / st.fine_step) + 1
    base = path.resolve().parent
    search = estimate_scenario(
        sc, replications=reps, models=len(names) * (coarse + fine), jobs=jobs, base_dir=base
    )
    check = estimate_scenario(
        sc,
        replications=confirm or st.confirm_replications,
        models=len(names) * (st.top_k + 1),
        jobs=jobs,
        base_dir=base,
    )
    return combine([search, check])


def _load(req: OptimiseRequest) -> tuple[Scenario, list[str]]:
    """The scenario and the models to optimise; exit 2 on a bad option."""
    common.check_lang(req.lang)
    sets = common.settings(req.overrides, seed=req.seed)
    sc = common.load(req.scenario, sets, req.allow_outside_paths)
    names = [m.strip() for m in req.models.split(",")] if req.models else list(sc.compare)
    for m in names:
        common.check_model(sc, "--models", m)
    if len(set(names)) != len(names):
        common.refuse("--models: each model may be named once")
    if req.png:
        common.check_png()
    return sc, names


def _note_defaults(sc: Scenario, lang: str = "en") -> None:
    """Say so when the scenario's staffing is not ``optimise`` and the defaults are used."""
    from sim.present.console_optimise import defaults_note
    from sim.run.optimise import settings_of

    st, own = settings_of(sc)
    if not own:
        limits = (st.max_p90_wait_weeks, st.min_authority_share, st.max_authority_share)
        common.note(defaults_note(sc.staffing.mode, *limits, lang))


@contextmanager
def _pass_bars(name: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback ``(pass label, done, total)`` that shows one bar per search pass."""
    from sim.present.console import Progress

    bars: dict[str, tuple[Progress, Any]] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in bars:
            for bar, _ in bars.values():
                bar.__exit__(None, None, None)
            bar = Progress(f"{name}: optimise, {label}")
            bars.clear()
            bars[label] = (bar, bar.__enter__())
        bars[label][1](done, total)

    try:
        yield progress
    finally:
        for bar, _ in bars.values():
            bar.__exit__(None, None, None)


def _manifest(
    req: OptimiseRequest,
    sc: Scenario,
    res: OptimiseResult,
    names: list[str],
    folder: Path,
    wall: float,
    jobs: int,
) -> dict[str, Any]:
    """The manifest of an optimise folder: the run's plus the search settings and the choice."""
    from sim.present.explain_report import run_manifest

    return run_manifest(
        sc,
        run_id=folder.name,
        command=list(req.command),
        wall_seconds=wall,
        jobs=jobs,
        extra={
            "kind": "optimise",
            "models": names,
            "settings": res.settings.model_dump(),
            "settings_from_scenario": res.from_scenario,
            "replications": res.replications,
            "chosen": {
                m: {"authority_share": o.chosen.share, "feasible": o.chosen.feasible}
                for m, o in res.optima.items()
            },
        },
    )


def optimise(req: OptimiseRequest) -> None:
    """Check, search, write the folder whole, print the chosen splits."""
    from sim.config.loader import dump_resolved
    from sim.present.explain_report import write_optimise
    from sim.run.optimise import optimise as run_optimise

    sc, names = _load(req)
    folder = common.new_dir(sc.name, "optimise", req.out)
    _note_defaults(sc, req.lang)
    n_jobs = common.default_jobs(req.jobs)
    size = optimise_size(sc, names, req.reps, req.confirm_reps, n_jobs, req.scenario)
    common.check_size(size, req.force)
    common.check_out(folder)
    claimed = common.claim(folder)
    start = time.perf_counter()
    with _pass_bars(sc.name) as progress:
        res = run_optimise(
            sc,
            models=names,
            replications=req.reps,
            confirm_replications=req.confirm_reps,
            jobs=n_jobs,
            base_dir=req.scenario.resolve().parent,
            progress=progress,
        )
    meta = _manifest(req, sc, res, names, folder, time.perf_counter() - start, n_jobs)
    with claimed:
        common.write_or_fail(
            lambda f: write_optimise(
                f, res, resolved_yaml=dump_resolved(sc), meta=meta, lang=req.lang, png=req.png
            ),
            folder,
        )
    _show(res, folder, req.lang)


def _show(res: OptimiseResult, folder: Path, lang: str = "en") -> None:
    """The chosen splits on the terminal, then where the folder is."""
    from sim.present.explain_report import optimise_tables

    common.show_folder(folder, lang, optimise_tables(res, lang))
