"""The design of an uncertainty run and its tasks: parameter sets, each run on the same citizens.

A design is a list of parameter sets over the scenario's uncertain inputs
(``sim.model.provenance.uncertain_inputs``): the base (every input at the scenario's value), ``n``
samples of a Latin hypercube or a scrambled Sobol sequence mapped through each input's
``Range.ppf``, and for each input its low and its high with the others at base (the tornado).
Threshold searches add sets later, one value of one input at a time.

Every set runs every model with the same replications and the same stream prefix as ``sim run``
on the scenario (common random numbers): a parameter value never enters a stream key, so two sets
differ only by their values, and an input with no effect gives exactly the same numbers.
Tasks are small and picklable and run on the sweep's executors (``sim.run.sweep``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.model.provenance import Provenance, with_values
from sim.model.scenario import Scenario
from sim.model.streams import stream_id

__all__ = [
    "METHODS",
    "ParameterSet",
    "SetResult",
    "SetTask",
    "design_sets",
    "design_unit",
    "one_way_sets",
    "run_set_batch",
    "set_tasks",
]

METHODS = ("lhs", "sobol")
DESIGN_STREAM = "uncertainty.design"
"""Name mixed into the design's seed, so it is independent of every simulation stream."""


@dataclass(frozen=True)
class ParameterSet:
    """One set of input values: ``role`` is base, sample, low, high or threshold; ``input`` names
    the input varied for low, high and threshold sets ("" otherwise)."""

    set_id: int
    role: str
    input: str
    values: dict[str, float]


def design_unit(d: int, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points in [0, 1)^d: a Latin hypercube or a scrambled Sobol sequence, seeded from the
    scenario's seed (the same design for the same seed, whatever runs it)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    from scipy.stats import qmc

    entropy = np.random.SeedSequence(seed, spawn_key=(stream_id(DESIGN_STREAM),))
    rng = np.random.default_rng(entropy)
    if method == "lhs":
        return np.asarray(qmc.LatinHypercube(d=d, rng=rng).random(n), dtype=float)
    sampler = qmc.Sobol(d=d, scramble=True, rng=rng)
    m = int(np.ceil(np.log2(max(n, 1))))
    return np.asarray(sampler.random_base2(m)[:n], dtype=float)  # balanced prefix of 2^m


def one_way_sets(inputs: Sequence[Provenance], start: int) -> list[ParameterSet]:
    """Each input at its low, then at its high, the others at base (ids from ``start``)."""
    base = {p.path: p.value for p in inputs}
    out: list[ParameterSet] = []
    for p in inputs:
        assert p.uncertain is not None
        for role, x in (("low", p.uncertain.low), ("high", p.uncertain.high)):
            out.append(ParameterSet(start + len(out), role, p.path, {**base, p.path: float(x)}))
    return out


def design_sets(inputs: Sequence[Provenance], n: int, method: str, seed: int) -> list[ParameterSet]:
    """Base (id 0), ``n`` samples (ids 1..n), then low and high of each input."""
    base = {p.path: p.value for p in inputs}
    sets = [ParameterSet(0, "base", "", dict(base))]
    if inputs and n > 0:
        unit = design_unit(len(inputs), n, method, seed)
        columns = [p.uncertain.ppf(unit[:, j]) for j, p in enumerate(inputs) if p.uncertain]
        for i in range(n):
            values = {p.path: float(columns[j][i]) for j, p in enumerate(inputs)}
            sets.append(ParameterSet(i + 1, "sample", "", values))
    return sets + one_way_sets(inputs, len(sets))


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class SetTask:
    """A batch of replications of one parameter set, every model in it: small and picklable."""

    set_id: int
    scenario_json: str
    models: tuple[str, ...]
    replications: tuple[int, ...]
    prefix: tuple[int, ...]
    base_dir: str
    fte: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class SetResult:
    """The metrics of each (replication, model) of a batch, or the error that stopped it."""

    set_id: int
    rows: tuple[tuple[int, str, dict[str, float]], ...]
    error: str | None = None
    detail: str | None = None
    seconds: float = field(default=0.0, compare=False)
    cpu_seconds: float = field(default=0.0, compare=False)


def set_tasks(
    scenario: Scenario,
    pset: ParameterSet,
    models: Sequence[str],
    replications: int,
    batch: int,
    base_dir: str,
) -> list[SetTask]:
    """The tasks of one set: the scenario with the set's values, in batches of replications.

    The stream prefix is the base scenario's (as ``sim run``), the same for every set."""
    from sim.run.experiment import resolve_fte, stream_prefix

    changed = with_values(scenario, pset.values)
    payload = changed.model_dump_json(by_alias=True)
    fte = resolve_fte(changed, models)
    prefix = stream_prefix(scenario)
    reps = list(range(replications))
    size = max(1, batch)
    return [
        SetTask(
            pset.set_id, payload, tuple(models), tuple(reps[i : i + size]), prefix, base_dir, fte
        )
        for i in range(0, len(reps), size)
    ]


def run_set_batch(task: SetTask) -> SetResult:
    """Run a batch in a worker (or in this process); an exception becomes a failed result."""
    from sim.run.experiment import RepTask, replication_key, run_task
    from sim.run.sweep import error_text

    start, cpu = time.perf_counter(), time.process_time()
    rows: list[tuple[int, str, dict[str, float]]] = []
    try:
        for r in task.replications:
            rep = RepTask(
                task.scenario_json,
                task.models,
                r,
                replication_key(task.prefix, r),
                task.base_dir,
                task.fte,
            )
            for res in run_task(rep):
                rows.append((r, res.model, {k: float(v) for k, v in res.metrics.items()}))
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc))
        return SetResult(task.set_id, (), error_text(exc), detail, time.perf_counter() - start)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return SetResult(task.set_id, tuple(rows), None, None, wall, used)
