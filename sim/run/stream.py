"""Replications that report as they finish, for a page that sharpens its figures (``sim app``).

``stream_experiment`` runs the same tasks as ``run_experiment`` (``replication_tasks``: the same
stream keys, the same citizens) on the same worker pool, and yields after every finished
replication an ``ExperimentResult`` of the replications finished so far, in replication order.
When the last one is in, that result is the one ``sim run`` builds, so its tables are the same byte
for byte.

Stopping early is closing the generator (``close()``, or leaving a ``with closing(...)`` block):
the pool is left by an exception, which terminates its workers at once, as Ctrl-C does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.model.pathway import RepResult
from sim.model.scenario import Scenario
from sim.run.experiment import ExperimentResult, replication_tasks, resolve_fte, run_task


@dataclass(frozen=True)
class Partial:
    """The replications finished so far: ``done`` of ``total``, and their result."""

    done: int
    total: int
    result: ExperimentResult

    @property
    def complete(self) -> bool:
        return self.done == self.total


def stream_experiment(
    scenario: Scenario,
    *,
    replications: int | None = None,
    jobs: int = 1,
    base_dir: Path | None = None,
) -> Iterator[Partial]:
    """Run the scenario's replications on ``jobs`` workers; yield a ``Partial`` after each.

    A task that failed is raised here (as in ``execute``); the workers are then terminated.
    """
    from sim.run.workers import WorkerPool

    names = tuple(scenario.compare)
    staff = resolve_fte(scenario, names)
    reps = replications or scenario.experiment.replications
    tasks = replication_tasks(scenario, names, reps, staff, base_dir=base_dir)
    finished: dict[int, list[RepResult]] = {}
    with WorkerPool(min(jobs, len(tasks))) as pool:
        for i, out in pool.imap_unordered(run_task, tasks):
            if isinstance(out, BaseException):
                raise out
            finished[i] = out
            flat = [res for k in sorted(finished) for res in finished[k]]
            yield Partial(len(finished), len(tasks), ExperimentResult(scenario, names, staff, flat))
