"""The one manifest of every results folder (run, sweep, explain, optimise).

``manifest.json`` says what it takes to reproduce a folder and to read it again: the kind of
folder, the package versions and git revision, the command, the seed and scenario, the queue
discipline and review rules, each model's staff and what it costs, and (added when the folder is
written, see ``sim.store.integrity``) a checksum of every table. What only one kind of folder has
(a sweep's points, explain's order of mechanisms, the optimiser's settings) goes in ``extra``.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.model.metrics import unspent_dkk

if TYPE_CHECKING:
    from sim.model.scenario import Scenario

KINDS = ("run", "sweep", "explain", "optimise", "check", "uncertainty")
"""The kinds of results folder; ``kind`` in the manifest names one."""

PACKAGES = ("sim", "simpy", "numpy", "pydantic", "typer", "plotly", "polars", "ruamel.yaml")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision(path: Path | None = None) -> str:
    """The git revision of the working tree (``-dirty`` when it has changes), or 'unknown'."""
    cwd = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


INTAKE_RULE = "first-fit in arrival order, served before support starts"


def staff_of(scenario: Scenario, fte: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """Each model's FTEs, their cost and what the budget leaves unspent (DKK per year)."""
    budget = scenario.budget.annual_dkk
    return {
        m: {
            "authority_fte": f[0],
            "provider_fte": f[1],
            "staff_cost_dkk_per_year": scenario.staff_cost_dkk(f),
            "unspent_dkk_per_year": unspent_dkk(budget, scenario.staff_cost_dkk(f)),
        }
        for m, f in fte.items()
    }


def queue_discipline(scenario: Scenario) -> dict[str, Any]:
    """Who is served first in each queue, and how reviews draw on staff."""
    return {
        "intake": INTAKE_RULE,
        "support": scenario.support_queue,
        "reviews": scenario.review_priority,
        "review_provider_hours": scenario.review_provider_hours,
    }


def build_manifest(
    kind: str,
    scenario: Scenario,
    *,
    run_id: str,
    command: Sequence[str],
    wall_seconds: float,
    jobs: int | None,
    models: Sequence[str] | None = None,
    fte: Mapping[str, tuple[float, float]] | None = None,
    created: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a folder of ``kind``: the common fields, then ``extra`` (which may refine a
    common field, e.g. a sweep's list of seeds). ``fte`` defaults to the scenario's staffing for
    each of ``models`` (default: the models it compares)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of results folder {kind!r}; expected one of {KINDS}")
    exp = scenario.experiment
    names = list(models if models is not None else scenario.compare)
    staffing = fte if fte is not None else {m: scenario.staffing_fte() for m in names}
    return {
        "kind": kind,
        "scenario": scenario.name,
        "run_id": run_id,
        "created": created or dt.datetime.now().isoformat(timespec="seconds"),
        "seed": exp.seed,
        "models": names,
        "horizon_weeks": exp.horizon_weeks,
        "warmup_weeks": exp.warmup_weeks,
        "window_years": (exp.horizon_weeks - exp.warmup_weeks) * 7 / 365,
        "budget_dkk_per_year": scenario.budget.annual_dkk,
        "staff": staff_of(scenario, staffing),
        "queue_discipline": queue_discipline(scenario),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "command": list(command),
        "jobs": jobs,
        "wall_seconds": round(wall_seconds, 3),
        "platform": f"{platform.system()} {platform.machine()}",
        "argv": sys.argv,
        **(extra or {}),
    }
