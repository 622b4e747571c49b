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


def _plan(
    short: Scenario, inputs: list[Provenance], pair: tuple[str, str]
) -> list[tuple[Provenance | None, float, Scenario, tuple[str, ...]]]:
    """(input, value, scenario, models to run) of the base and of each input's low and high; an
    input whose value the scenario cannot take (or that touches neither model) is left out."""
    from sim.model.provenance import with_values

    plan: list[tuple[Provenance | None, float, Scenario, tuple[str, ...]]] = [
        (None, math.nan, short, pair)
    ]
    for p in inputs:
        r = p.uncertain
        owners = tuple(m for m in _owner(p.path, pair) if m in pair)
        if r is None or r.low == r.high or not owners:
            continue
        try:
            ends = [(p, v, with_values(short, {p.path: v}), owners) for v in (r.low, r.high)]
        except ValueError:  # pydantic's ValidationError too: the screen skips the input
            continue
        plan += ends
    return plan


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
    """Screen ``inputs`` (those with a range) for their effect on ``model`` - ``baseline``.

    Every replication of every screened value goes to the workers in one batch (one pool for the
    whole screen), each on the base's stream keys."""
    from sim.run.experiment import (
        RepTask,
        execute,
        replication_key,
        resolve_fte,
        stream_prefix,
    )  # fmt: skip

    start = time.perf_counter()
    pair = (baseline, model)
    prefix = stream_prefix(scenario)
    plan = _plan(short_settings(scenario, reps), inputs, pair)
    tasks = [
        RepTask(sc.model_dump_json(by_alias=True), names, r, replication_key(prefix, r),
                str(base_dir) if base_dir else None, resolve_fte(sc, names))
        for _, _, sc, names in plan
        for r in range(reps)
    ]  # fmt: skip
    out = execute(tasks, jobs)
    got: list[dict[str, list[float]]] = []
    for i in range(len(plan)):
        flat = [res for task in out[i * reps : (i + 1) * reps] for res in task]
        got.append({m: [x.metrics[METRIC] for x in flat if x.model == m] for m in plan[i][3]})
    base = _diffs(got[0], model, baseline)
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    found: dict[str, Provenance] = {}
    for (p, v, _, _), values in zip(plan[1:], got[1:], strict=True):
        assert p is not None and p.uncertain is not None
        side = low if v == p.uncertain.low else high
        side[p.path] = _diffs({**got[0], **values}, model, baseline)
        found[p.path] = p
    carriers = [
        Carrier(
            b.input, found[b.input].value, found[b.input].uncertain.low,  # type: ignore[union-attr]
            found[b.input].uncertain.high,  # type: ignore[union-attr]
            found[b.input].source is None, b.low.mean, b.high.mean,
        )
        for b in us.tornado(base, low, high)
    ]  # fmt: skip
    seconds = time.perf_counter() - start
    return Screen(model, baseline, float(np.mean(base)), carriers, len(plan), reps, seconds)


def top_carriers(screen: Screen, k: int = 3) -> list[Carrier]:
    """The ``k`` inputs that move the difference most (none that move it not at all)."""
    return [c for c in screen.carriers[:k] if c.swing > 0 and math.isfinite(c.swing)]
