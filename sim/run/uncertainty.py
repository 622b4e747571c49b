"""The design of an uncertainty run and its tasks: parameter sets, each run on the same citizens.

A design is a list of parameter sets over the scenario's uncertain inputs
(``sim.model.provenance.uncertain_inputs``): the base (every input at the scenario's value), ``n``
samples of a Latin hypercube or a scrambled Sobol sequence mapped through each input's
``Range.ppf``, and for each input its low and its high with the others at base (the tornado).
Threshold searches add sets later, one value of one input at a time.

Every set runs every model with the same replications and the same stream prefix as ``sim run``
on the scenario (common random numbers): a parameter value never enters a stream key, so two sets
differ only by their values, and an input with no effect gives exactly the same numbers.
Tasks are the sweep's (``sim.run.sweep.BatchTask``, keyed by set id) and run on its executors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.model.provenance import Provenance, with_values
from sim.model.scenario import Scenario
from sim.model.streams import stream_id
from sim.run.sweep import BatchTask, batch_tasks

__all__ = [
    "METHODS",
    "ParameterSet",
    "design_sets",
    "design_unit",
    "one_way_sets",
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


def set_tasks(
    scenario: Scenario,
    pset: ParameterSet,
    models: Sequence[str],
    replications: int,
    batch: int,
    base_dir: str,
) -> list[BatchTask[int]]:
    """The tasks of one set: the scenario with the set's values, in batches of replications.

    The stream prefix is the base scenario's (as ``sim run``), the same for every set."""
    from sim.run.experiment import stream_prefix

    changed = with_values(scenario, pset.values)
    prefix = stream_prefix(scenario)
    return batch_tasks(pset.set_id, changed, models, replications, prefix, base_dir, batch)
