"""The results of ``sim explain`` and ``sim optimise`` as JSON, so their report can be rebuilt.

Their CSV tables are for reading and for other tools; the report needs more than they hold (each
contribution's replications and interval, the paired differences behind the named split). The
whole result (without the scenario, which is ``scenario.yaml`` beside it) is kept as
``explain.json`` or ``optimise.json``, checksummed like the tables, and read back here into the
same objects the commands made: ``sim report`` then draws the same report in any language.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sim.model.metrics import Interval
from sim.model.scenario import OptimiseStaffing, Scenario
from sim.run.explain import Contribution, ExplainResult, Player
from sim.run.optimise import Candidate, ModelOptimum, OptimiseResult

SNAPSHOTS = {"explain": "explain.json", "optimise": "optimise.json"}
"""The file that holds the result of each kind of folder that needs one."""
LEFT_OUT = ("scenario", "experiment")
"""Fields not kept: the scenario is scenario.yaml; the raw experiment is not needed to draw."""


def _plain(value: Any) -> Any:
    """Dataclasses, pydantic models, tuples and dicts as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump(result: ExplainResult | OptimiseResult) -> str:
    """The result as JSON text (floats exactly, NaN as ``NaN``)."""
    data = {
        f.name: _plain(getattr(result, f.name))
        for f in dataclasses.fields(result)
        if f.name not in LEFT_OUT
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _iv(d: dict[str, Any] | None) -> Interval | None:
    return None if d is None else Interval(**d)


def _contribution(d: dict[str, Any]) -> Contribution:
    return Contribution(
        player=d["player"],
        mechanisms=tuple(d["mechanisms"]),
        per_replication=tuple(d["per_replication"]),
        interval=Interval(**d["interval"]),
        simulated=d["simulated"],
    )


def _by_metric(d: dict[str, list[dict[str, Any]]] | None) -> dict[str, list[Contribution]] | None:
    return None if d is None else {m: [_contribution(c) for c in cs] for m, cs in d.items()}


def load_explain(text: str, scenario: Scenario) -> ExplainResult:
    """An ``ExplainResult`` from ``dump``'s text and the folder's scenario."""
    d = json.loads(text)
    return ExplainResult(
        scenario=scenario,
        from_model=d["from_model"],
        to_model=d["to_model"],
        players=[Player(p["name"], tuple(p["mechanisms"])) for p in d["players"]],
        active=list(d["active"]),
        metrics=tuple(d["metrics"]),
        replications=d["replications"],
        endpoints={m: {k: Interval(**v) for k, v in e.items()} for m, e in d["endpoints"].items()},
        total={k: Interval(**v) for k, v in d["total"].items()},
        total_per_replication={k: tuple(v) for k, v in d["total_per_replication"].items()},
        sequential=_by_metric(d["sequential"]) or {},
        shapley=_by_metric(d["shapley"]),
        shapley_exact=d["shapley_exact"],
        shapley_orders=d["shapley_orders"],
        hybrids={k: tuple(v) for k, v in d["hybrids"].items()},
        hybrid_means=d["hybrid_means"],
        order_range={
            m: {p: (r[0], r[1]) for p, r in ranges.items()}
            for m, ranges in d["order_range"].items()
        },
        range_basis=d["range_basis"],
    )


def _candidate(d: dict[str, Any] | None) -> Candidate | None:
    if d is None:
        return None
    ivs = {k: Interval(**d[k]) for k in ("helped", "p90", "waiting", "referred", "abandoned")}
    return Candidate(
        model=d["model"],
        share=d["share"],
        authority_fte=d["authority_fte"],
        provider_fte=d["provider_fte"],
        stage=d["stage"],
        ratio=d["ratio"],
        helped_per_replication=tuple(d["helped_per_replication"]),
        **ivs,
    )


def _optimum(d: dict[str, Any]) -> ModelOptimum:
    chosen = _candidate(d["chosen"])
    assert chosen is not None
    return ModelOptimum(
        model=d["model"],
        chosen=chosen,
        runner_up=_candidate(d["runner_up"]),
        difference=_iv(d["difference"]),
        feasible_low=d["feasible_low"],
        feasible_high=d["feasible_high"],
        binds=d["binds"],
        near_best=None if d["near_best"] is None else (d["near_best"][0], d["near_best"][1]),
        current=_candidate(d["current"]),
        current_difference=_iv(d["current_difference"]),
        confirmed=[c for c in map(_candidate, d["confirmed"]) if c is not None],
    )


def load_optimise(text: str, scenario: Scenario) -> OptimiseResult:
    """An ``OptimiseResult`` from ``dump``'s text and the folder's scenario."""
    d = json.loads(text)
    return OptimiseResult(
        scenario=scenario,
        settings=OptimiseStaffing.model_validate(d["settings"]),
        from_scenario=d["from_scenario"],
        models=list(d["models"]),
        replications=d["replications"],
        candidates=[c for c in map(_candidate, d["candidates"]) if c is not None],
        optima={m: _optimum(o) for m, o in d["optima"].items()},
    )


def write(folder: Path, kind: str, result: ExplainResult | OptimiseResult) -> None:
    """``explain.json`` or ``optimise.json`` in ``folder``."""
    (folder / SNAPSHOTS[kind]).write_text(dump(result), encoding="utf-8")
