"""``sim explain``: which mechanism makes the difference between two models.

Switches the mechanisms one at a time from one model's settings to the other's, on the same
citizens (``sim.run.explain``), writes the folder whole (``sim.present.explain_report`` through
``sim.store.output``) and prints the contributions with their CIs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app import common

if TYPE_CHECKING:
    from sim.model.scenario import Scenario
    from sim.run.estimate import Estimate
    from sim.run.explain import ExplainResult, Player


@dataclass(frozen=True)
class ExplainRequest:
    """The options of ``sim explain``, as given on the command line."""

    scenario: Path
    from_model: str = "classic"
    to_model: str = "joint"
    order: str | None = None
    shapley: bool = True
    reps: int | None = None
    seed: int | None = None
    jobs: int | None = None
    overrides: list[str] | None = None
    out: Path | None = None
    lang: str = "en"
    png: bool = False
    allow_outside_paths: bool = False
    force: bool = False
    command: Sequence[str] = ()


def explain_size(
    sc: Scenario, a: str, b: str, shapley: bool, reps: int, jobs: int, path: Path
) -> Estimate:
    """Estimated size of a decomposition: one model per switch (2^n with exact Shapley values,
    at most 64 sampled orders x n beyond)."""
    from sim.run.estimate import estimate_scenario
    from sim.run.explain import MAX_EXACT_PLAYERS, differing, mechanism_settings

    n = len(differing(mechanism_settings(sc, a), mechanism_settings(sc, b)))
    models = n + 1
    if shapley:
        models = 2**n if n <= MAX_EXACT_PLAYERS else 64 * n + 1
    return estimate_scenario(
        sc, replications=reps, models=models, jobs=jobs, base_dir=path.resolve().parent
    )


def _load(req: ExplainRequest) -> tuple[Scenario, list[Player] | None]:
    """The scenario and the order of the switches (None: MODEL.md's); exit 2 on a bad option."""
    from sim.run.explain import complete_order, parse_order

    common.check_lang(req.lang)
    sets = common.settings(req.overrides, seed=req.seed)
    sc = common.load(req.scenario, sets, req.allow_outside_paths)
    common.check_model(sc, "--from", req.from_model)
    common.check_model(sc, "--to", req.to_model)
    if req.from_model == req.to_model:
        common.refuse("--from and --to name the same model; expected two models")
    players: list[Player] | None = None
    if req.order is not None:
        try:
            players = complete_order(parse_order(req.order))
        except ValueError as exc:
            common.refuse(f"--order: {exc}")
    if req.png:
        common.check_png()
    return sc, players


def _manifest(
    req: ExplainRequest, sc: Scenario, res: ExplainResult, folder: Path, wall: float, jobs: int
) -> dict[str, Any]:
    """The manifest of an explain folder: the run's plus what was switched and how."""
    from sim.present.explain_report import run_manifest

    return run_manifest(
        sc,
        run_id=folder.name,
        command=list(req.command),
        wall_seconds=wall,
        jobs=jobs,
        extra={
            "kind": "explain",
            "from": req.from_model,
            "to": req.to_model,
            "order": [p.name for p in res.players],
            "differing": res.active,
            "methods": res.methods(),
            "shapley_exact": res.shapley_exact if req.shapley else None,
            "order_range_basis": res.range_basis,
            "replications": res.replications,
            "models_simulated": len(res.hybrid_means),
            "staff_fte": list(sc.staffing_fte()),
        },
    )


def explain(req: ExplainRequest) -> None:
    """Check, decompose, write the folder whole, print the contributions."""
    from sim.config.loader import dump_resolved
    from sim.present.console import Progress
    from sim.present.explain_report import write_explain
    from sim.run.explain import explain as run_explain

    sc, players = _load(req)
    folder = common.new_dir(sc.name, "explain", req.out)
    n_jobs = common.default_jobs(req.jobs)
    n_reps = req.reps
    if n_reps is None:
        n_reps = 10 if req.shapley else sc.experiment.replications
    size = explain_size(sc, req.from_model, req.to_model, req.shapley, n_reps, n_jobs, req.scenario)
    common.check_size(size, req.force)
    common.check_out(folder)
    claimed = common.claim(folder)
    start = time.perf_counter()
    with Progress(f"{sc.name}: explain {req.from_model} -> {req.to_model}") as progress:
        res = run_explain(
            sc,
            req.from_model,
            req.to_model,
            order=players,
            shapley=req.shapley,
            replications=n_reps,
            jobs=n_jobs,
            base_dir=req.scenario.resolve().parent,
            progress=progress,
        )
    meta = _manifest(req, sc, res, folder, time.perf_counter() - start, n_jobs)
    with claimed:
        common.write_or_fail(
            lambda f: write_explain(
                f, res, resolved_yaml=dump_resolved(sc), meta=meta, lang=req.lang, png=req.png
            ),
            folder,
        )
    _show(res, folder, req.lang)


def _show(res: ExplainResult, folder: Path, lang: str = "en") -> None:
    """The contributions on the terminal, the headline, then where the folder is."""
    from sim.present.explain_report import explain_headline, explain_tables

    common.show_folder(folder, lang, explain_tables(res, lang), explain_headline(res, lang))
