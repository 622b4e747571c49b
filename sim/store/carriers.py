"""What carries a run's difference, kept in the run's folder as ``carriers.json`` (issue 12.3).

Written by ``sim run`` either from a quick one-way screen (``sim.run.screen``) or from a stored
uncertainty run of the same scenario (its ``tornado.csv``); the run report's headline reads it
back, so ``sim report DIR`` rebuilds the same sentence. A JSON file, not a CSV: the run's tables
(and their checksums) are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.run.screen import Carrier, Screen

if TYPE_CHECKING:
    from sim.model.scenario import Scenario

FILE = "carriers.json"


def write_carriers(folder: Path, screen: Screen) -> Path:
    """Write ``folder/carriers.json`` (atomically)."""
    from sim.store.results import write_text_atomic

    data = asdict(screen)
    return write_text_atomic(
        Path(folder) / FILE, json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n"
    )


def read_carriers(folder: Path) -> Screen | None:
    """The screen kept in a run folder, None when there is none (or it cannot be read)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        carriers = [Carrier(**c) for c in data.pop("carriers")]
        return Screen(carriers=carriers, **data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def check_carriers(folder: Path) -> None:
    """DamagedFolder when the folder has a ``carriers.json`` that cannot be read (a report
    rebuilt from it would silently drop the headline's sentence)."""
    from sim.store.integrity import DamagedFolder

    path = Path(folder) / FILE
    if path.is_file() and read_carriers(folder) is None:
        raise DamagedFolder(f"{path} is damaged: not the carriers a run wrote; rerun to rebuild it")


def _plain(sc: Any) -> dict[str, Any]:
    d = sc.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in d.items() if k not in ("experiment", "provenance")}


def scenario_hash(scenario: Scenario) -> str:
    """What makes two scenarios "the same" for borrowing an uncertainty run's carriers: every
    value of the model (experiment settings and provenance aside: they change no value)."""
    text = json.dumps(_plain(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _same_scenario(folder: Path, scenario: Scenario) -> bool:
    """Whether the uncertainty folder was made from ``scenario``: its manifest's
    ``scenario_hash``, else its saved ``scenario.yaml``."""
    from sim.store.reader import load_scenario
    from sim.store.uncertainty_tables import MANIFEST

    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(meta, dict) and meta.get("scenario_hash"):
            return bool(meta["scenario_hash"] == scenario_hash(scenario))
        if not (folder / "scenario.yaml").is_file():
            return False
        return _plain(load_scenario(folder)) == _plain(scenario)
    except Exception:  # a damaged or older folder is simply not a match
        return False


def find_uncertainty_run(root: Path, scenario: Scenario) -> Path | None:
    """The newest uncertainty folder under ``root`` (two levels) of the same scenario, with
    its tables written; None if there is none."""
    from sim.store.uncertainty_tables import MANIFEST

    root = Path(root)
    if not root.is_dir():
        return None
    found = [
        p.parent
        for pattern in (f"*/{MANIFEST}", f"*/*/{MANIFEST}")
        for p in root.glob(pattern)
        if (p.parent / "tornado.csv").is_file()
    ]
    for folder in sorted(found, key=lambda f: f.stat().st_mtime, reverse=True):
        if _same_scenario(folder, scenario):
            return folder
    return None


def screen_from_uncertainty(folder: Path, model: str, baseline: str) -> Screen | None:
    """The carriers as an uncertainty run's tornado measured them (None if it lacks ``model``)."""
    import polars as pl

    from sim.store.uncertainty_tables import load_uncertainty

    folder = Path(folder)
    run = load_uncertainty(folder)
    tornado = pl.read_csv(folder / "tornado.csv").filter(pl.col("model") == model).sort("rank")
    if tornado.height == 0 or run.baseline != baseline:
        return None
    carriers = [
        Carrier(
            r["input"], r["base_value"], r["low_value"], r["high_value"],
            not run.input_info(r["input"]).get("source"), r["low_change"], r["high_change"],
        )
        for r in tornado.iter_rows(named=True)
    ]  # fmt: skip
    base = float(tornado["base_difference"][0])
    reps = int(run.meta.get("replications") or tornado["replications"][0])
    return Screen(model, baseline, base, carriers, 0, reps, math.nan, "uncertainty", folder.name)
