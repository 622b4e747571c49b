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
short settings, so every bar compares like with like. An end of a range equal to the scenario's
own value is the base on the same citizens: its numbers are the base's, not re-simulated. The
screen says what it cost.

Cost is also capped: before it runs, its simulated work (model-replication-weeks) is weighed
against the run's (``too_costly``); beyond ``SCREEN_COST_MULTIPLE`` times the run, ``sim run``
leaves it out and says so, with its estimated seconds from the run's own measured time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.run import uncertainty_stats as us

if TYPE_CHECKING:
    from sim.model.pathway import RepResult
    from sim.model.provenance import Provenance
    from sim.model.scenario import Scenario
    from sim.run.experiment import RepTask
    from sim.run.workers import WorkerPool

SCREEN_REPS = 2
"""Replications per screened value (paired on common random numbers)."""
SCREEN_WINDOW_WEEKS = 104
"""At most this many weeks after the warm-up in the screen's runs."""
METRIC = "helped_per_year"
SCREEN_COST_MULTIPLE = 1.5
"""The most the screen may cost, as a multiple of the run's cost, before ``sim run`` (with
``--screen`` left to its default) leaves it out and says so. Measured: Odder's screen is 1.08x its
run's work (84 model-runs x 2 replications x 260 weeks against 2 x 30 x 676 model-weeks) and took
1.3-1.4x the run's wall time; large.yaml's is 3.2x the work of its 10 replications and took ~5x
(340 s against 65 s, 2 cores). 1.5 keeps Odder's screen (its report names what carries the
difference, the run and its screen ~2.5x the run's time in all) and leaves out the screen of a
large municipality or of a run with few replications, where ``sim uncertainty`` answers the
question better. ``--screen`` runs it whatever it costs."""
SCREEN_WEEK_COST = 1.3
"""A screen's simulated week costs this many of the run's: its runs at the ends of the ranges
(more referrals, slower staff, longer courses) have more citizens in the system. Measured on Odder
under load: 53 s for the screen against 39 s from the run's time per week (1.34); large.yaml 1.6
(340 s against 210 s). The estimate shown and the cap both use it."""


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
    estimate_seconds: float = math.nan
    """What the screen was estimated to cost before it ran (or instead of running), s."""
    run_seconds: float = math.nan
    """What the run itself cost, s (the yardstick of the estimate)."""
    multiple: float = math.nan
    """The cap the estimate was weighed against (``SCREEN_COST_MULTIPLE``)."""
    assumed: list[str] = field(default_factory=list)
    """A skipped screen: the assumption-marked inputs it would have moved."""
    scenario_file: str = ""
    """A skipped screen: the scenario file as given, for the command that replaces it."""


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


PlanItem = tuple["Provenance | None", float, "Scenario | None", tuple[str, ...]]
"""(input, value, scenario to run or None for "the base's numbers", models to run)."""


def _plan(short: Scenario, inputs: list[Provenance], pair: tuple[str, str]) -> list[PlanItem]:
    """(input, value, scenario, models to run) of the base and of each input's low and high; an
    input whose value the scenario cannot take (or that touches neither model) is left out. An
    end equal to the scenario's own value gets no scenario: on the same citizens its numbers are
    the base's, so it is not re-simulated."""
    from sim.model.provenance import with_values

    plan: list[PlanItem] = [(None, math.nan, short, pair)]
    for p in inputs:
        r = p.uncertain
        owners = tuple(m for m in _owner(p.path, pair) if m in pair)
        if r is None or r.low == r.high or not owners:
            continue
        try:
            ends = [
                (p, v, None if v == p.value else with_values(short, {p.path: v}), owners)
                for v in (r.low, r.high)
            ]
        except ValueError:  # pydantic's ValidationError too: the screen skips the input
            continue
        plan += ends
    return plan


@dataclass(frozen=True)
class ScreenPlan:
    """What a screen would simulate, built before anything runs so its cost can be weighed."""

    scenario: Scenario
    model: str
    baseline: str
    reps: int
    items: list[PlanItem]

    @property
    def runs(self) -> int:
        """Runs that are simulated (the base and every end that differs from it)."""
        return sum(1 for item in self.items if item[2] is not None)

    def model_weeks(self) -> float:
        """Model-replication-weeks the screen simulates: its cost in the run's unit of work."""
        weeks = self.items[0][2].experiment.horizon_weeks  # type: ignore[union-attr]
        models = sum(len(n) for _, _, sc, n in self.items if sc is not None)
        return float(models * self.reps * weeks)

    def assumed(self) -> list[str]:
        """The inputs the screen moves whose scenario value is an assumption (no source)."""
        found = [p.path for p, _, _, _ in self.items[1:] if p is not None and p.source is None]
        return list(dict.fromkeys(found))


def plan_screen(
    scenario: Scenario, inputs: list[Provenance], *, model: str, baseline: str,
    reps: int = SCREEN_REPS,
) -> ScreenPlan:  # fmt: skip
    """The screen of ``inputs`` for ``model`` - ``baseline``, at its short settings."""
    short = short_settings(scenario, reps)
    return ScreenPlan(scenario, model, baseline, reps, _plan(short, inputs, (baseline, model)))


def run_model_weeks(scenario: Scenario) -> float:
    """Model-replication-weeks of the run itself (every compared model, every replication)."""
    exp = scenario.experiment
    return float(len(scenario.compare) * exp.replications * exp.horizon_weeks)


def cost_ratio(plan: ScreenPlan) -> float:
    """The screen's cost as a multiple of the run's: its simulated model-replication-weeks,
    each ``SCREEN_WEEK_COST`` of the run's, against the run's own. Decided on simulated work, not
    on seconds, so the same scenario gets the same answer however loaded the machine is."""
    return plan.model_weeks() * SCREEN_WEEK_COST / run_model_weeks(plan.scenario)


def estimate_seconds(plan: ScreenPlan, run_seconds: float) -> float:
    """The screen's wall time from the run's own measured time (same workers)."""
    return run_seconds * cost_ratio(plan)


def too_costly(plan: ScreenPlan, multiple: float | None = None) -> bool:
    """Whether the screen would cost more than ``multiple`` (default ``SCREEN_COST_MULTIPLE``)
    times the run."""
    limit = SCREEN_COST_MULTIPLE if multiple is None else multiple
    return cost_ratio(plan) > limit


def skipped_screen(plan: ScreenPlan, run_seconds: float, scenario_file: str = "") -> Screen:
    """The record of a screen left out for its cost: what it would have cost, against what the
    run cost, and the assumption-marked inputs it would have moved."""
    return Screen(
        plan.model, plan.baseline, math.nan, [], plan.runs, plan.reps, 0.0, origin="skipped",
        estimate_seconds=estimate_seconds(plan, run_seconds), run_seconds=run_seconds,
        multiple=SCREEN_COST_MULTIPLE, assumed=plan.assumed(), scenario_file=scenario_file,
    )  # fmt: skip


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
    plan = plan_screen(scenario, inputs, model=model, baseline=baseline, reps=reps)
    return run_screen(plan, jobs=jobs, base_dir=base_dir)


def _tasks(plan: ScreenPlan, base_dir: Path | None) -> list[RepTask]:
    """Every simulated replication of the plan, each on the base's stream keys (common random
    numbers), in plan order: items without a scenario take the base's numbers, not a task."""
    from sim.run.experiment import RepTask, replication_key, resolve_fte, stream_prefix

    prefix = stream_prefix(plan.scenario)
    simulated = [(sc, names) for _, _, sc, names in plan.items if sc is not None]
    return [
        RepTask(sc.model_dump_json(by_alias=True), names, r, replication_key(prefix, r),
                str(base_dir) if base_dir else None, resolve_fte(sc, names))
        for sc, names in simulated
        for r in range(plan.reps)
    ]  # fmt: skip


def _values(plan: ScreenPlan, per_task: list[list[RepResult]]) -> list[dict[str, list[float]]]:
    """The metric of each plan item's models, replication by replication, from the tasks'
    results (in ``_tasks`` order); an item without a scenario takes the base's numbers."""
    out = iter(per_task)
    got: list[dict[str, list[float]]] = []
    for _, _, sc, names in plan.items:
        if sc is None:
            got.append({m: got[0][m] for m in names})
            continue
        flat = [res for _ in range(plan.reps) for res in next(out)]
        got.append({m: [x.metrics[METRIC] for x in flat if x.model == m] for m in names})
    return got


class PendingScreen:
    """A screen whose replications are with the workers (``start_screen``): this process can
    write the run's tables meanwhile; ``result()`` waits for them and orders the inputs."""

    def __init__(self, plan: ScreenPlan, pool: WorkerPool, base_dir: Path | None) -> None:
        from sim.run.experiment import run_task

        self.plan = plan
        self._batch = pool.submit(run_task, _tasks(plan, base_dir))

    def result(self) -> Screen:
        """The finished screen; its seconds run from its start to its last replication's end
        (not to when it was collected)."""
        from sim.run.experiment import collect

        got = _values(self.plan, collect(self._batch))
        end = self._batch.finished_at
        end = end if math.isfinite(end) else time.monotonic()
        return _screen(self.plan, got, end - self._batch.started_at)


def start_screen(plan: ScreenPlan, pool: WorkerPool, base_dir: Path | None = None) -> PendingScreen:
    """Hand the screen's replications to ``pool``'s workers and return at once."""
    return PendingScreen(plan, pool, base_dir)


def run_screen(plan: ScreenPlan, *, jobs: int = 1, base_dir: Path | None = None) -> Screen:
    """Run the screen's plan (on a pool of its own) and order its inputs by how much they move
    the difference."""
    from sim.run.workers import WorkerPool

    with WorkerPool(min(jobs, len(_tasks(plan, base_dir)))) as pool:
        return start_screen(plan, pool, base_dir).result()


def _screen(plan: ScreenPlan, got: list[dict[str, list[float]]], seconds: float) -> Screen:
    """The inputs ordered by how much they move the difference (``got``: ``_values``)."""
    model, baseline = plan.model, plan.baseline
    base = _diffs(got[0], model, baseline)
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    found: dict[str, Provenance] = {}
    for (p, v, _, _), values in zip(plan.items[1:], got[1:], strict=True):
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
    return Screen(model, baseline, float(np.mean(base)), carriers, plan.runs, plan.reps, seconds)


def top_carriers(screen: Screen, k: int = 3) -> list[Carrier]:
    """The ``k`` inputs that move the difference most (none that move it not at all)."""
    return [c for c in screen.carriers[:k] if c.swing > 0 and math.isfinite(c.swing)]
