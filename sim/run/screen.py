"""A quick one-way screen: which uncertain inputs carry a run's difference (issue 12, point 3).

A run's confidence interval covers Monte Carlo noise only; the difference may rest on values that
are assumptions. The screen moves each uncertain input (``sim.model.provenance.uncertain_inputs``)
to the low and the high end of its range, the others at the scenario's values, and reruns a few
replications on the same citizens (common random numbers: the same stream keys as the base), so
the change in the paired difference is measured with the shared noise cancelled
(``uncertainty_stats.tornado``).

Cost is kept small: ``SCREEN_REPS`` replications, a window of at most ``SCREEN_WINDOW_WEEKS``
after the warm-up, and only the model an input belongs to is rerun (an input under
``models.<name>.`` changes nothing in the other model, whose replications are then the base's on
the same citizens: identical numbers, not re-simulated). The screen's own base is run with the same
short settings, so every bar compares like with like. The screen says what it cost.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.run import uncertainty_stats as us

if TYPE_CHECKING:
    from sim.model.provenance import Provenance
    from sim.model.scenario import Scenario

SCREEN_REPS = 2
"""Replications per screened value (paired on common random numbers)."""
SCREEN_WINDOW_WEEKS = 104
"""At most this many weeks after the warm-up in the screen's runs."""
METRIC = "helped_per_year"


@dataclass(frozen=True)
class Carrier:
    """One screened input: its values, whether the value is an assumption, and the change in the
    mean paired difference (model - baseline, citizens helped a year) at its low and high value."""

    path: str
    base_value: float
    low_value: float
    high_value: float
    assumption: bool
    low_change: float
    high_change: float

    @property
    def swing(self) -> float:
        return max(abs(self.low_change), abs(self.high_change))


@dataclass(frozen=True)
class Screen:
    """The inputs ordered by how much they move the difference, and what the screen cost."""

    model: str
    baseline: str
    base_difference: float
    carriers: list[Carrier]
    runs: int
    reps: int
    seconds: float
    origin: str = "screen"
    folder: str = ""


def short_settings(scenario: Scenario, reps: int) -> Scenario:
    """The scenario with the screen's replications and shortened horizon."""
    exp = scenario.experiment
    horizon = min(exp.horizon_weeks, exp.warmup_weeks + SCREEN_WINDOW_WEEKS)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["experiment"] = {**data["experiment"], "replications": reps, "horizon_weeks": horizon}
    return type(scenario).model_validate(data)


def _owner(path: str, models: tuple[str, ...]) -> tuple[str, ...]:
    """The models whose results an input can change (all, unless it is one model's setting)."""
    parts = path.split(".")
    if parts[0] == "models" and len(parts) > 2 and parts[1] in models:
        return (parts[1],)
    return models


def _diffs(values: dict[str, list[float]], model: str, baseline: str) -> np.ndarray:
    return np.asarray(values[model], dtype=float) - np.asarray(values[baseline], dtype=float)


def one_way_screen(
    scenario: Scenario,
    inputs: list[Provenance],
    *,
    model: str,
    baseline: str,
    reps: int = SCREEN_REPS,
    jobs: int = 1,
    base_dir: Path | None = None,
) -> Screen:
    """Screen ``inputs`` (those with a range) for their effect on ``model`` - ``baseline``."""
    from sim.model.provenance import with_values
    from sim.run.experiment import run_experiment, stream_prefix

    start = time.perf_counter()
    short = short_settings(scenario, reps)
    pair = (baseline, model)
    prefix = stream_prefix(scenario)

    def values(sc: Scenario, names: tuple[str, ...]) -> dict[str, list[float]]:
        res = run_experiment(sc, models=names, jobs=jobs, base_dir=base_dir, key_prefix=prefix)
        return {m: res.values(m, METRIC) for m in names}

    base = values(short, pair)
    runs = 1
    low, high, found = {}, {}, {}
    for p in inputs:
        rng = p.uncertain
        if rng is None or rng.low == rng.high:
            continue
        owners = [m for m in _owner(p.path, pair) if m in pair]
        if not owners:
            continue
        ends = []
        for v in (rng.low, rng.high):
            got = {**base, **values(with_values(short, {p.path: v}), tuple(owners))}
            ends.append(_diffs(got, model, baseline))
            runs += 1
        low[p.path], high[p.path] = ends
        found[p.path] = p
    bars = us.tornado(_diffs(base, model, baseline), low, high)
    carriers = [
        Carrier(
            b.input, found[b.input].value, found[b.input].uncertain.low,  # type: ignore[union-attr]
            found[b.input].uncertain.high,  # type: ignore[union-attr]
            found[b.input].source is None, b.low.mean, b.high.mean,
        )
        for b in bars
    ]  # fmt: skip
    base_diff = float(np.mean(_diffs(base, model, baseline)))
    seconds = time.perf_counter() - start
    return Screen(model, baseline, base_diff, carriers, runs, reps, seconds)


def top_carriers(screen: Screen, k: int = 3) -> list[Carrier]:
    """The ``k`` inputs that move the difference most (none that move it not at all)."""
    return [c for c in screen.carriers[:k] if c.swing > 0 and math.isfinite(c.swing)]
