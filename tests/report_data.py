"""Small, real results folders for the report tests, made by running the engine on odder.yaml."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sim.model.scenario import Scenario
from sim.run.experiment import run_experiment
from sim.store.results import manifest, write_results

ROOT = Path(__file__).resolve().parent.parent
ODDER = ROOT / "scenarios" / "odder.yaml"
BASE = ROOT / "tests" / "data" / "odder-base.yaml"


def short_odder(*, path: Path = ODDER, **budget: Any) -> Scenario:
    """odder.yaml (or the scenario at ``path``) with a short experiment (3 replications, 3 years)
    and optional budget keys."""
    data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    data["experiment"] = {"seed": 11, "replications": 3, "horizon_weeks": 156, "warmup_weeks": 26}
    for key, value in budget.items():
        data["budget"][key] = value
    return Scenario.model_validate(data)


def build_results(out: Path, scenario: Scenario | None = None) -> Path:
    """Run ``scenario`` (default: ``short_odder()``) and write a results folder at ``out``."""
    sc = scenario or short_odder()
    result = run_experiment(sc, jobs=1)
    buf = io.StringIO()
    YAML().dump(sc.model_dump(mode="json", by_alias=True, exclude_none=True), buf)
    meta = manifest(
        result,
        run_id=out.name,
        command=["sim", "run", "scenarios/odder.yaml"],
        wall_seconds=0.0,
        jobs=1,
    )
    return write_results(out, result, buf.getvalue(), meta)
