"""Replications of several models on common random numbers, and their statistics (docs/model.md §8).

A replication task runs every requested model on the same citizens (streams keyed by seed and
replication, never by model or worker). Tasks go to a process pool or run serially; results are
ordered by replication and model before any statistic is taken, so the tables are the same for any
number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model.metrics import Interval, metric_difference, metric_interval
from sim.model.pathway import TIMESERIES_COLUMNS, RepResult, Simulation
from sim.model.scenario import Scenario

if TYPE_CHECKING:
    from sim.run.workers import Batch, WorkerPool


@dataclass(frozen=True)
class RepTask:
    """One replication of some models: everything a worker needs, small and picklable."""

    scenario_json: str
    models: tuple[str, ...]
    replication: int
    key: tuple[int, ...]
    base_dir: str | None
    fte: dict[str, tuple[float, float]]
    record_events: bool = False


def run_task(task: RepTask) -> list[RepResult]:
    """Run one replication of each model in ``task`` (in a worker or in this process)."""
    scenario = Scenario.model_validate_json(task.scenario_json)
    base = Path(task.base_dir) if task.base_dir else None
    return [
        Simulation(
            scenario,
            m,
            task.replication,
            task.fte[m],
            key=task.key,
            base_dir=base,
            record_events=task.record_events,
        ).run()
        for m in task.models
    ]


def default_jobs() -> int:
    """Worker processes to use when none is asked for: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def execute(
    tasks: Sequence[RepTask],
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
    pool: WorkerPool | None = None,
    submitted: Callable[[], None] | None = None,
) -> list[list[RepResult]]:
    """Run tasks serially (``jobs == 1``) or on local worker processes; results in task order.

    The workers are those of ``sim.run.workers.WorkerPool``: stopped at once on Ctrl-C or SIGTERM,
    gone when this process dies, and tasks lost with a killed worker run once more (then
    ``WorkerLost``). An exception in a task is raised here. With ``pool`` (already started, kept
    open for the caller's next tasks) ``jobs`` is the pool's, not a new pool's. ``submitted`` is
    called once the tasks are with the workers, before they are waited for (to queue more work
    behind them, so no worker idles between the two).
    """
    if pool is not None:
        return _submit_and_collect(pool, tasks, progress, submitted)
    from sim.run.workers import WorkerPool

    with WorkerPool(min(jobs, len(tasks))) as own:
        return _submit_and_collect(own, tasks, progress, submitted)


def _submit_and_collect(
    pool: WorkerPool, tasks: Sequence[RepTask], progress: Callable[[int, int], None] | None,
    submitted: Callable[[], None] | None,
) -> list[list[RepResult]]:  # fmt: skip
    batch = pool.submit(run_task, tasks)
    if submitted is not None:
        submitted()
    return collect(batch, progress)


def collect(
    batch: Batch[RepTask, list[RepResult]], progress: Callable[[int, int], None] | None = None
) -> list[list[RepResult]]:
    """The results of submitted replication tasks, in task order (an exception is raised here)."""
    results: list[list[RepResult] | None] = [None] * batch.size
    for done, (i, out) in enumerate(batch.results(), start=1):
        if isinstance(out, BaseException):
            raise out
        results[i] = out
        if progress:
            progress(done, batch.size)
    return [r for r in results if r is not None]


@dataclass
class ExperimentResult:
    """All replications of all models, with the statistics the tables and figures need."""

    scenario: Scenario
    models: tuple[str, ...]
    fte: dict[str, tuple[float, float]]
    replications: list[RepResult]
    events: list[Any] = field(default_factory=list)
    pairs: list[tuple[str, str]] | None = None

    def metric_names(self) -> list[str]:
        return list(self.replications[0].metrics) if self.replications else []

    def values(self, model: str, metric: str) -> list[float]:
        """The metric in each replication of ``model``, in replication order."""
        return [r.metrics[metric] for r in self.replications if r.model == model]

    def summary(self) -> dict[str, dict[str, Interval]]:
        """Per model and metric: mean with a 95 % t-interval over replications, inside the
        metric's bounds."""
        return summarise(self.models, self.metric_names(), self.values)

    def comparisons(self) -> list[tuple[str, str]]:
        """(model, baseline) pairs: those asked for, else each model against the first one."""
        if self.pairs:
            return list(self.pairs)
        base = self.models[0]
        return [(m, base) for m in self.models[1:]]

    def differences(
        self, pairs: Iterable[tuple[str, str]] | None = None
    ) -> dict[tuple[str, str], dict[str, Interval]]:
        """Paired differences model - baseline per metric, with 95 % t-intervals."""
        chosen = pairs if pairs is not None else self.comparisons()
        return paired_differences(chosen, self.metric_names(), self.values)

    def timeseries(self, model: str) -> dict[str, np.ndarray]:
        """Across replications, per week and series: mean, 5th and 95th percentile."""
        arrays = [r.timeseries for r in self.replications if r.model == model]
        n = min(a.shape[0] for a in arrays)
        stack = np.stack([a[:n] for a in arrays])
        return {
            "mean": stack.mean(axis=0),
            "p05": np.quantile(stack, 0.05, axis=0),
            "p95": np.quantile(stack, 0.95, axis=0),
        }


ValuesOf = Callable[[str, str], Sequence[float]]
"""``values(model, metric)``: the metric in each replication of the model, in replication order."""


def summarise(
    models: Iterable[str], metrics: Sequence[str], values: ValuesOf
) -> dict[str, dict[str, Interval]]:
    """Per model and metric: mean with a 95 % t-interval over replications, inside the metric's
    bounds. The one summary builder: a run's summary.csv and every sweep point's rows."""
    return {m: {k: metric_interval(k, values(m, k)) for k in metrics} for m in models}


def paired_differences(
    pairs: Iterable[tuple[str, str]], metrics: Sequence[str], values: ValuesOf
) -> dict[tuple[str, str], dict[str, Interval]]:
    """Per (model, baseline) pair and metric: the paired difference model - baseline with its
    95 % t-interval. The one difference builder: a run's differences.csv and every sweep point's."""
    return {
        (m, b): {k: metric_difference(k, values(m, k), values(b, k)) for k in metrics}
        for m, b in pairs
    }


def stream_prefix(scenario: Scenario, *extra: int) -> tuple[int, ...]:
    """The first part of every replication's stream key: the scenario's ``stream_key`` when it
    has one (a sweep point, or its scenario.yaml re-run with `sim run`), then ``extra`` (the
    optimiser's confirmation mixes in its own). Replication r uses ``replication_key(prefix, r)``.
    The one place that says how keys begin, so run, explain, optimise and sweep cannot drift."""
    key = scenario.experiment.stream_key
    return (*(() if key is None else (key,)), *extra)


def replication_key(prefix: tuple[int, ...], replication: int) -> tuple[int, ...]:
    """The stream key of one replication: the prefix, then its number (every model of the
    replication uses it, which is what makes the random numbers common)."""
    return (*prefix, replication)


def resolve_fte(scenario: Scenario, models: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Staff of each model under the scenario's staffing mode (every model, the same budget)."""
    return {m: scenario.staffing_fte() for m in models}


def replication_tasks(
    scenario: Scenario,
    models: tuple[str, ...],
    replications: int,
    fte: dict[str, tuple[float, float]],
    *,
    base_dir: Path | None = None,
    record_events: bool = False,
    key_prefix: tuple[int, ...] = (),
) -> list[RepTask]:
    """One task per replication, each running every model on that replication's stream key (the
    scenario's stream prefix unless ``key_prefix`` is given). The one place tasks are built, so a
    run and a streamed what-if (``sim.run.stream``) see the same citizens."""
    prefix = key_prefix or stream_prefix(scenario)
    payload = scenario.model_dump_json(by_alias=True)
    return [
        RepTask(
            payload,
            models,
            r,
            replication_key(prefix, r),
            str(base_dir) if base_dir else None,
            fte,
            record_events,
        )
        for r in range(replications)
    ]


def run_experiment(
    scenario: Scenario,
    *,
    models: Sequence[str] | None = None,
    replications: int | None = None,
    jobs: int = 1,
    base_dir: Path | None = None,
    record_events: bool = False,
    fte: dict[str, tuple[float, float]] | None = None,
    key_prefix: tuple[int, ...] = (),
    progress: Callable[[int, int], None] | None = None,
    pairs: list[tuple[str, str]] | None = None,
    pool: WorkerPool | None = None,
    submitted: Callable[[], None] | None = None,
) -> ExperimentResult:
    """Run ``replications`` of each model on common random numbers and collect the results.

    ``pairs`` names the (model, baseline) differences to report; by default each model minus the
    first. ``pool``: an open ``WorkerPool`` to run on (kept open for the caller's next tasks);
    ``submitted``: called once the replications are with the workers (see ``execute``).
    """
    names = tuple(models or scenario.compare)
    staff = fte or resolve_fte(scenario, names)
    tasks = replication_tasks(
        scenario,
        names,
        replications or scenario.experiment.replications,
        staff,
        base_dir=base_dir,
        record_events=record_events,
        key_prefix=key_prefix,
    )
    workers = pool.jobs if pool is not None else jobs
    split = per_model(tasks) if workers > 1 and len(names) > 1 else tasks
    step = len(split) // max(1, len(tasks))
    per_task = execute(split, jobs, _in_replications(progress, step), pool, submitted)
    flat = [res for task_results in per_task for res in task_results]
    events: list[Any] = []  # one raw event table per replication and model
    if record_events:
        for res in flat:
            if res.events is not None:
                events.append(res.events)
            res.events = None
    return ExperimentResult(scenario, names, staff, flat, events, pairs)


def per_model(tasks: Sequence[RepTask]) -> list[RepTask]:
    """Each task as one task per model, in the same order (replication, then model): the results
    flattened are the same (each model's simulation is its own, on the replication's stream key),
    and on several workers the last task leaves the others idle half as long."""
    return [replace(t, models=(m,)) for t in tasks for m in t.models]


def _in_replications(
    progress: Callable[[int, int], None] | None, step: int
) -> Callable[[int, int], None] | None:
    """``progress`` counted in replications when each is ``step`` tasks (one per model)."""
    if progress is None or step == 1:
        return progress

    def update(done: int, total: int) -> None:
        if done % step == 0:
            progress(done // step, total // step)

    return update


def fmt_interval(iv: Interval, digits: int = 1) -> str:
    """'12.3 (11.0-13.6)' or 'n/a' when undefined."""
    if math.isnan(iv.mean):
        return "n/a"
    if math.isnan(iv.low):
        return f"{iv.mean:,.{digits}f}"
    return f"{iv.mean:,.{digits}f} ({iv.low:,.{digits}f} to {iv.high:,.{digits}f})"


def iter_timeseries_rows(result: ExperimentResult) -> Iterator[dict[str, Any]]:
    """Long-format rows for timeseries.csv: model, week, series, mean, p05, p95."""
    for m in result.models:
        ts = result.timeseries(m)
        weeks = ts["mean"].shape[0]
        for w in range(weeks):
            for j, name in enumerate(TIMESERIES_COLUMNS):
                yield {
                    "model": m,
                    "week": w,
                    "series": name,
                    "mean": float(ts["mean"][w, j]),
                    "p05": float(ts["p05"][w, j]),
                    "p95": float(ts["p95"][w, j]),
                }
