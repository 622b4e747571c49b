"""Which mechanism makes the difference: the decomposition of docs/model.md §10.

Between two visitation models (``from`` and ``to``) the mechanisms are switched from the first
model's setting to the second's. Every intermediate model is a *hybrid*: the ``from`` settings with
some mechanism blocks taken from ``to``. All hybrids run in the same replication tasks, so they see
the same citizens (common random numbers) and every contribution is a paired, per-replication
difference with a 95 % t-interval.

Two ways to share the total difference out:

- **sequential**: hybrids M_0 = from, M_k = M_{k-1} with the k-th player switched; the contribution
  of player k is ``v(M_k) - v(M_{k-1})``. The sum telescopes to ``v(to) - v(from)`` in every
  replication, but the answer depends on the order.
- **Shapley**: the average of the sequential contribution over all orders,
  ``phi_i = sum_S |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))``; exact from the 2^n hybrids for
  n <= 8 players, otherwise the mean over seeded random orders (each order still telescopes, so the
  contributions still add up to the total).

Shapley values are the default (exact when at most 8 players differ); the sequential order is
asked for explicitly. Since a sequential or sampled split depends on the order, each player's
contribution also gets its *range over orders*: the smallest and largest mean contribution over the
orders simulated (every order for exact Shapley; the sampled orders; for a sequential run, the
order given and the player switched first or last, two extra hybrids per player).

A *player* is one mechanism or a group of mechanisms switched together. A player whose mechanisms
are set identically in both models is not simulated and contributes exactly zero. The statistics
below are pure functions over per-replication values; ``explain`` runs the simulation around them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.metrics import Interval, difference_bounds, metric_interval, t_interval
from sim.model.scenario import MECHANISMS, Scenario
from sim.run.experiment import (
    ExperimentResult,
    RepTask,
    execute,
    replication_key,
    stream_prefix,
)

EXPLAIN_METRICS: tuple[str, ...] = (
    "helped_per_year",
    "time_to_start_median_weeks",
    "core_task_share",
    "time_to_start_p90_weeks",
    "completed_per_year",
    "s85_starts_per_year",
    "short_course_per_year",
    "post_goal_hours_per_year",
    "post_goal_weeks_per_episode",
)
"""Metrics decomposed. The CLI and the report show the first three, and how the change in citizens
helped (= § 85 starts + short-course starts) splits into those two, beside the support hours given
after the goals were reached; the CSV holds them all."""

MAX_EXACT_PLAYERS = 8
"""Up to this many players Shapley values are exact (2^n hybrids); beyond, sampled orders."""

Coalition = frozenset[str]
"""A set of player names (the players switched to the ``to`` setting)."""


@dataclass(frozen=True)
class Player:
    """One switch of the decomposition: a mechanism, or mechanisms switched together."""

    name: str
    mechanisms: tuple[str, ...]


def parse_order(text: str) -> list[Player]:
    """Players from ``--order``: mechanisms separated by commas, ``a+b`` switches a and b together.

    Raises ``ValueError`` naming the bad item and the mechanisms expected.
    """
    players: list[Player] = []
    seen: set[str] = set()
    for pos, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        names = tuple(n.strip() for n in item.split("+"))
        for n in names:
            if n not in MECHANISMS:
                raise ValueError(
                    f"item {pos} ('{item}'): unknown mechanism '{n}'; expected one of: "
                    + ", ".join(MECHANISMS)
                )
            if n in seen:
                raise ValueError(f"item {pos} ('{item}'): mechanism '{n}' is listed twice")
            seen.add(n)
        players.append(Player(item.replace(" ", ""), names))
    return players


def complete_order(players: Sequence[Player]) -> list[Player]:
    """``players`` followed by every mechanism not yet in them, in the order of docs/model.md
    §6 (so the last hybrid is always the ``to`` model)."""
    named = {m for p in players for m in p.mechanisms}
    return [*players, *(Player(m, (m,)) for m in MECHANISMS if m not in named)]


# --------------------------------------------------------------------------- hybrid models


def mechanism_settings(scenario: Scenario, model: str) -> dict[str, Any]:
    """The resolved settings of ``model``, one plain mapping per mechanism."""
    dump = scenario.model(model).model_dump(by_alias=True, mode="json")
    return {m: dump[m] for m in MECHANISMS}


def differing(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Mechanisms set differently in two models' settings, in table order."""
    return [m for m in MECHANISMS if a[m] != b[m]]


def hybrid(
    base: Mapping[str, Any], other: Mapping[str, Any], switched: Iterable[str]
) -> dict[str, Any]:
    """``base`` settings with the mechanisms in ``switched`` taken from ``other``."""
    on = set(switched)
    return {m: (other[m] if m in on else base[m]) for m in MECHANISMS}


def with_models(
    scenario: Scenario, extra: Mapping[str, Mapping[str, Any]], compare: Sequence[str]
) -> Scenario:
    """The scenario with ``extra`` user models (full settings, no ``extends``) added."""
    data = scenario.model_dump(by_alias=True, mode="json")
    data["models"] = {**data.get("models", {}), **{k: dict(v) for k, v in extra.items()}}
    data["compare"] = list(compare)
    return Scenario.model_validate(data)


# --------------------------------------------------------------------------- pure statistics


def shapley_weight(size: int, n: int) -> float:
    """Weight of a coalition of ``size`` players (not containing i) in player i's Shapley value."""
    return math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)


def sequential_contributions(
    values: Mapping[Coalition, np.ndarray], order: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per player, ``v(first k players) - v(first k-1)``; the values may be per replication."""
    out: dict[str, np.ndarray] = {}
    prefix: Coalition = frozenset()
    for name in order:
        nxt = prefix | {name}
        out[name] = np.asarray(values[nxt], dtype=float) - np.asarray(values[prefix], dtype=float)
        prefix = nxt
    return out


def shapley_exact(values: Mapping[Coalition, np.ndarray], players: Sequence[str]) -> dict[str, Any]:
    """Exact Shapley values from the values of all 2^n coalitions (per replication if arrays)."""
    n = len(players)
    out: dict[str, Any] = {}
    for p in players:
        others = [q for q in players if q != p]
        total: Any = 0.0
        for size in range(n):
            w = shapley_weight(size, n)
            for combo in itertools.combinations(others, size):
                s = frozenset(combo)
                total = total + w * (
                    np.asarray(values[s | {p}], dtype=float) - np.asarray(values[s], dtype=float)
                )
        out[p] = total
    return out


def sample_orders(players: Sequence[str], count: int, seed: int) -> list[tuple[str, ...]]:
    """``count`` random orders of the players (seeded; each order paired with its reverse, which
    halves the variance for nearly additive effects)."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(0x5A4B,)))
    orders: list[tuple[str, ...]] = []
    while len(orders) < count:
        perm = tuple(players[i] for i in rng.permutation(len(players)))
        orders.append(perm)
        if len(orders) < count:
            orders.append(perm[::-1])
    return orders


def prefixes(orders: Iterable[Sequence[str]]) -> set[Coalition]:
    """Every coalition that some order passes through (the hybrids a sampled Shapley needs)."""
    out: set[Coalition] = set()
    for order in orders:
        for k in range(len(order) + 1):
            out.add(frozenset(order[:k]))
    return out


def shapley_sampled(
    values: Mapping[Coalition, np.ndarray], orders: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Shapley values estimated as the mean sequential contribution over the given orders."""
    sums: dict[str, Any] = {}
    for order in orders:
        for name, c in sequential_contributions(values, order).items():
            sums[name] = sums.get(name, 0.0) + c
    return {k: v / len(orders) for k, v in sums.items()}


Pair = tuple[Coalition, Coalition]
"""(S, S + i): the coalitions before and after player i is switched, in some order."""


def pairs_all(players: Sequence[str], player: str) -> set[Pair]:
    """Every (S, S + player) pair: the player's contribution in every order (for exact Shapley)."""
    others = [q for q in players if q != player]
    return {
        (frozenset(c), frozenset(c) | {player})
        for size in range(len(others) + 1)
        for c in itertools.combinations(others, size)
    }


def pairs_of_orders(orders: Iterable[Sequence[str]], player: str) -> set[Pair]:
    """The (S, S + player) pairs the given orders pass through."""
    out: set[Pair] = set()
    for order in orders:
        before = frozenset(order[: list(order).index(player)])
        out.add((before, before | {player}))
    return out


def extreme_orders(order: Sequence[str], player: str) -> list[tuple[str, ...]]:
    """``order``, and ``order`` with ``player`` moved to the front and to the end: the orders a
    sequential run simulates for the player's range (for a game whose marginal contributions grow
    or shrink with the coalition, switched first and last are the extremes over all orders)."""
    rest = tuple(q for q in order if q != player)
    return [tuple(order), (player, *rest), (*rest, player)]


def _nanmean(x: np.ndarray) -> float:
    kept = x[~np.isnan(x)]
    return float(kept.mean()) if kept.size else math.nan


def marginal_range(
    values: Mapping[Coalition, np.ndarray], pairs: Iterable[Pair]
) -> tuple[float, float]:
    """Smallest and largest mean (over replications) of ``v(S + i) - v(S)`` over ``pairs``."""
    means = [
        _nanmean(np.asarray(values[b], dtype=float) - np.asarray(values[a], dtype=float))
        for a, b in pairs
    ]
    finite = [m for m in means if math.isfinite(m)]
    return (min(finite), max(finite)) if finite else (math.nan, math.nan)


# --------------------------------------------------------------------------- the experiment


@dataclass(frozen=True)
class Contribution:
    """One player's contribution to one metric: the per-replication values and their interval."""

    player: str
    mechanisms: tuple[str, ...]
    per_replication: tuple[float, ...]
    interval: Interval
    simulated: bool = True


@dataclass
class ExplainResult:
    """The decomposition of the difference between two models, per metric."""

    scenario: Scenario
    from_model: str
    to_model: str
    players: list[Player]
    active: list[str]
    metrics: tuple[str, ...]
    replications: int
    endpoints: dict[str, dict[str, Interval]]
    total: dict[str, Interval]
    total_per_replication: dict[str, tuple[float, ...]]
    sequential: dict[str, list[Contribution]]
    shapley: dict[str, list[Contribution]] | None = None
    shapley_exact: bool = True
    shapley_orders: int = 0
    hybrids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hybrid_means: dict[str, dict[str, float]] = field(default_factory=dict)
    experiment: ExperimentResult | None = None
    order_range: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    """Per metric and active player: smallest and largest mean contribution over the orders in
    ``range_basis``."""
    range_basis: str = "all"
    """Which orders ``order_range`` covers: ``all`` (exact Shapley), ``sampled`` (the sampled
    orders) or ``first_last`` (the order given, and the player switched first or last)."""

    def methods(self) -> list[str]:
        return ["sequential", *(["shapley"] if self.shapley is not None else [])]

    @property
    def method(self) -> str:
        """The method the headline and the figures use: Shapley when computed."""
        return "shapley" if self.shapley is not None else "sequential"

    def contributions(self, method: str, metric: str) -> list[Contribution]:
        table = self.sequential if method == "sequential" else self.shapley
        if table is None:
            raise KeyError(method)
        return table[metric]


MAX_MODELS_PER_TASK = 32
"""A replication of many hybrids is split into tasks of at most this many models, so the 2^n
hybrids of a Shapley run keep every worker busy and the progress bar moving."""


def run_chunked(
    scenario: Scenario,
    models: Sequence[str],
    replications: int,
    *,
    jobs: int = 1,
    fte: dict[str, tuple[float, float]],
    base_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExperimentResult:
    """Like ``run_experiment``, but each replication's models may be split over several tasks.

    Every task of replication r uses the key ``run_experiment`` would (r, or the scenario's
    ``stream_key`` and r), so all models still see the same citizens (the streams depend on the
    seed and that key only) and the numbers equal those of ``run_experiment``. Results are ordered
    by replication, then model.
    """
    prefix = stream_prefix(scenario)
    per_rep = max(
        1, math.ceil(4 * jobs / replications), math.ceil(len(models) / MAX_MODELS_PER_TASK)
    )
    size = math.ceil(len(models) / per_rep)
    chunks = [tuple(models[i : i + size]) for i in range(0, len(models), size)]
    payload = scenario.model_dump_json(by_alias=True)
    base = str(base_dir) if base_dir else None
    tasks = [
        RepTask(payload, chunk, r, replication_key(prefix, r), base, {m: fte[m] for m in chunk})
        for r in range(replications)
        for chunk in chunks
    ]
    flat = [res for task in execute(tasks, jobs, progress) for res in task]
    return ExperimentResult(scenario, tuple(models), dict(fte), flat)


def _hybrid_name(switched: Iterable[str]) -> str:
    on = set(switched)
    return "explain[" + "".join("1" if m in on else "0" for m in MECHANISMS) + "]"


def _active_players(players: Sequence[Player], diff: set[str]) -> list[str]:
    """Names of the players that switch some differing mechanism; every differing mechanism
    must belong to a player."""
    missing = diff - {m for p in players for m in p.mechanisms}
    if missing:
        raise ValueError(
            "the order leaves out mechanisms that differ: " + ", ".join(sorted(missing))
        )
    return [p.name for p in players if diff & set(p.mechanisms)]


def _coalitions(
    active: Sequence[str], all_subsets: bool, orders: Iterable[Sequence[str]]
) -> set[Coalition]:
    """The coalitions to simulate: the prefixes of the given order, every subset (exact
    Shapley), and the prefixes of sampled orders."""
    out: set[Coalition] = {frozenset(active[:k]) for k in range(len(active) + 1)}
    if all_subsets:
        out |= {
            frozenset(c)
            for size in range(len(active) + 1)
            for c in itertools.combinations(active, size)
        }
    return out | prefixes(orders)


def _hybrid_models(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    coalitions: Iterable[Coalition],
    switched: Callable[[Coalition], frozenset[str]],
) -> tuple[dict[str, dict[str, Any]], dict[Coalition, str]]:
    """One model per distinct set of switched mechanisms, and the model of each coalition
    (coalitions that switch the same mechanisms share a model)."""
    models: dict[str, dict[str, Any]] = {}
    model_of: dict[Coalition, str] = {}
    for c in sorted(coalitions, key=lambda c: (len(c), sorted(c))):
        mech = switched(c)
        name = _hybrid_name(mech)
        model_of[c] = name
        if name not in models:
            models[name] = {**hybrid(a, b, mech), "description": "hybrid of the decomposition"}
    return models, model_of


def explain(
    scenario: Scenario,
    from_model: str = "classic",
    to_model: str = "joint",
    *,
    order: Sequence[Player] | None = None,
    shapley: bool | None = None,
    metrics: Sequence[str] = EXPLAIN_METRICS,
    replications: int | None = None,
    jobs: int = 1,
    sample_count: int = 64,
    base_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExplainResult:
    """Decompose ``v(to) - v(from)`` into the players' contributions, every hybrid on the same
    citizens: sequential in the order given, and Shapley values unless ``shapley`` is False
    (``None``, the default, means Shapley: exact for at most 8 differing players, else sampled
    orders). Each player also gets its range over orders (see ``ExplainResult.order_range``)."""
    players = list(order) if order is not None else [Player(m, (m,)) for m in MECHANISMS]
    names = [p.name for p in players]
    if len(set(names)) != len(names):
        raise ValueError("player names must be unique")
    a = mechanism_settings(scenario, from_model)
    b = mechanism_settings(scenario, to_model)
    diff = set(differing(a, b))
    active = _active_players(players, diff)
    shapley = True if shapley is None else shapley
    exact = len(active) <= MAX_EXACT_PLAYERS
    orders: list[tuple[str, ...]] = []
    if shapley and not exact:
        orders = sample_orders(active, sample_count, scenario.experiment.seed)
    coalitions = _coalitions(active, shapley and exact, orders)
    if not shapley:  # each player switched first and last too, for its range over orders
        for p in active:
            coalitions |= {c for pair in _range_pairs("first_last", active, p, []) for c in pair}
    by_name = {p.name: p for p in players}

    def switched(coalition: Coalition) -> frozenset[str]:
        return frozenset(m for p in coalition for m in by_name[p].mechanisms if m in diff)

    models, model_of = _hybrid_models(a, b, coalitions, switched)
    if hybrid(a, b, diff) != b:  # pragma: no cover - true by construction
        raise AssertionError("the last hybrid is not the 'to' model")

    sc = with_models(scenario, models, list(models))
    reps = replications or scenario.experiment.replications
    fte = {m: scenario.staffing_fte() for m in models}
    res = run_chunked(sc, list(models), reps, jobs=jobs, fte=fte, base_dir=base_dir,
                      progress=progress)  # fmt: skip
    values = {
        metric: {c: np.asarray(res.values(model_of[c], metric), dtype=float) for c in coalitions}
        for metric in metrics
    }
    shares = _decompose(values, players, active, (from_model, to_model), reps,
                        shapley=shapley, exact=exact, orders=orders)  # fmt: skip
    return ExplainResult(
        scenario=scenario,
        from_model=from_model,
        to_model=to_model,
        players=players,
        active=active,
        metrics=tuple(metrics),
        replications=reps,
        **shares,
        shapley_exact=exact,
        shapley_orders=len(orders),
        hybrids={
            name: tuple(m for m in MECHANISMS if m in switched(c)) for c, name in model_of.items()
        },
        hybrid_means={
            name: {k: float(np.nanmean(res.values(name, k))) for k in metrics} for name in models
        },
        experiment=res,
    )


def _range_pairs(
    basis: str, active: Sequence[str], player: str, orders: Sequence[Sequence[str]]
) -> set[Pair]:
    """The (S, S + player) pairs whose contributions make up the player's range over orders."""
    if basis == "all":
        return pairs_all(active, player)
    if basis == "sampled":
        return pairs_of_orders(orders, player)
    return pairs_of_orders(extreme_orders(active, player), player)


def _decompose(
    values: Mapping[str, Mapping[Coalition, np.ndarray]],
    players: Sequence[Player],
    active: Sequence[str],
    ends: tuple[str, str],
    reps: int,
    *,
    shapley: bool,
    exact: bool,
    orders: Sequence[Sequence[str]],
) -> dict[str, Any]:
    """Per metric (``values``: per coalition, per replication): the two models' levels, the total,
    the contributions (sequential, and Shapley if asked) and each player's range over orders, as
    ``ExplainResult`` fields."""
    frm, to = ends
    seq: dict[str, list[Contribution]] = {}
    shp: dict[str, list[Contribution]] | None = {} if shapley else None
    endpoints: dict[str, dict[str, Interval]] = {frm: {}, to: {}}
    total: dict[str, Interval] = {}
    total_reps: dict[str, tuple[float, ...]] = {}
    empty, everyone = frozenset(), frozenset(active)
    for metric, v in values.items():
        endpoints[frm][metric] = metric_interval(metric, v[empty].tolist())
        endpoints[to][metric] = metric_interval(metric, v[everyone].tolist())
        tot = v[everyone] - v[empty]
        total[metric] = t_interval(tot.tolist(), difference_bounds(metric))
        total_reps[metric] = tuple(tot.tolist())
        seq[metric] = _contributions(players, sequential_contributions(v, active), reps)
        if shp is not None:
            sh_vals = shapley_exact(v, active) if exact else shapley_sampled(v, orders)
            shp[metric] = _contributions(players, sh_vals, reps)
    basis = "first_last" if not shapley else ("all" if exact else "sampled")
    ranges = {
        metric: {p: marginal_range(v, _range_pairs(basis, active, p, orders)) for p in active}
        for metric, v in values.items()
    }
    return {
        "order_range": ranges,
        "range_basis": basis,
        "endpoints": endpoints,
        "total": total,
        "total_per_replication": total_reps,
        "sequential": seq,
        "shapley": shp,
    }


def _contributions(
    players: Sequence[Player], per_player: Mapping[str, np.ndarray], reps: int
) -> list[Contribution]:
    """Contributions in player order; a player not simulated contributes exactly zero."""
    out = []
    for p in players:
        if p.name in per_player:
            vals = tuple(float(x) for x in np.asarray(per_player[p.name], dtype=float))
            out.append(Contribution(p.name, p.mechanisms, vals, t_interval(vals)))
        else:
            zeros = (0.0,) * reps
            out.append(Contribution(p.name, p.mechanisms, zeros, t_interval(zeros), False))
    return out


def contribution_rows(result: ExplainResult) -> list[dict[str, Any]]:
    """Long table: method, metric, step, player, mean and 95 % CI, and the player's smallest and
    largest mean contribution over the orders simulated (``ExplainResult.order_range``; the same
    under both methods); plus the total per metric, which no order changes."""
    from sim.model.metrics import unit_of

    rows: list[dict[str, Any]] = []
    for method in result.methods():
        for metric in result.metrics:
            for step, c in enumerate(result.contributions(method, metric), start=1):
                iv = c.interval
                lo, hi = result.order_range.get(metric, {}).get(c.player, (0.0, 0.0))
                rows.append(
                    {
                        "method": method,
                        "metric": metric,
                        "unit": unit_of(metric),
                        "step": step,
                        "mechanism": c.player,
                        "simulated": c.simulated,
                        "mean": iv.mean,
                        "ci_low": iv.low,
                        "ci_high": iv.high,
                        "sd": iv.sd,
                        "n": iv.n,
                        "order_min": lo,
                        "order_max": hi,
                    }
                )
            iv = result.total[metric]
            rows.append(
                {
                    "method": method,
                    "metric": metric,
                    "unit": unit_of(metric),
                    "step": 0,
                    "mechanism": f"total ({result.to_model} - {result.from_model})",
                    "simulated": True,
                    "mean": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "sd": iv.sd,
                    "n": iv.n,
                    "order_min": iv.mean,
                    "order_max": iv.mean,
                }
            )
    return rows


def hybrid_rows(result: ExplainResult) -> list[dict[str, Any]]:
    """One row per simulated hybrid and metric: which mechanisms were switched, the mean."""
    return [
        {
            "model": name,
            "switched": "+".join(result.hybrids[name]) or "(none)",
            "metric": k,
            "mean": v,
        }
        for name, means in result.hybrid_means.items()
        for k, v in means.items()
    ]
