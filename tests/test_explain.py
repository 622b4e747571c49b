"""`sim explain`: contributions add up, equal settings give zero, Shapley is symmetric."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import run_experiment
from sim.explain import (
    MECHANISMS,
    Player,
    complete_order,
    explain,
    parse_order,
    prefixes,
    run_chunked,
    sample_orders,
    sequential_contributions,
    shapley_exact,
    shapley_sampled,
    shapley_weight,
)
from sim.scenario import Scenario

from .conftest import SCENARIOS, make_scenario

SHORT = {"horizon_weeks": 104, "warmup_weeks": 26, "replications": 3}
METRICS = ("helped_per_year", "time_to_start_median_weeks", "core_task_share")

# Two user models that differ in three mechanisms only: the other five are set identically.
MODELS = {
    "models": {
        "base": {"extends": "classic"},
        "changed": {
            "extends": "classic",
            "accuracy": {"error_sd": 0.1},
            "routing": {"short_course_share": 0.3},
            "review": {"cadence_weeks": 13, "adjust_hours": 0.5},
        },
    },
    "compare": ["base", "changed"],
}
CHANGED = ("accuracy", "routing", "review")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario(MODELS, seed=3, **SHORT)


@pytest.fixture(scope="module")
def result(scenario: Scenario):  # type: ignore[no-untyped-def]
    return explain(scenario, "base", "changed", shapley=True, metrics=METRICS, jobs=1)


# --------------------------------------------------------------------------- pure statistics


def game(players: list[str], v: dict[frozenset[str], float]) -> dict[frozenset[str], np.ndarray]:
    return {s: np.asarray([v[s]]) for s in v}


def all_coalitions(players: list[str]) -> list[frozenset[str]]:
    return [
        frozenset(c) for k in range(len(players) + 1) for c in itertools.combinations(players, k)
    ]


def test_shapley_weights_sum_to_one() -> None:
    for n in range(1, 9):
        total = sum(math.comb(n - 1, s) * shapley_weight(s, n) for s in range(n))
        assert total == pytest.approx(1.0, abs=1e-12)


def test_sequential_telescopes_for_any_game_and_order() -> None:
    rng = np.random.default_rng(1)
    players = ["a", "b", "c", "d"]
    values = {s: rng.normal(size=5) for s in all_coalitions(players)}
    for order in itertools.permutations(players):
        contrib = sequential_contributions(values, order)
        total = sum(contrib.values())
        np.testing.assert_allclose(total, values[frozenset(players)] - values[frozenset()])


def test_shapley_symmetric_players_get_equal_values() -> None:
    # a and b are exact copies: the value depends on how many of them are in, and on c.
    players = ["a", "b", "c"]
    v = {}
    for s in all_coalitions(players):
        n_ab = len(s & {"a", "b"})
        v[s] = 3.0 * n_ab + 10.0 * ("c" in s) + 4.0 * n_ab * ("c" in s) - 1.5 * (n_ab == 2)
    phi = shapley_exact(game(players, v), players)
    assert phi["a"][0] == phi["b"][0]
    assert sum(p[0] for p in phi.values()) == pytest.approx(v[frozenset(players)] - v[frozenset()])


def test_shapley_of_an_additive_game_is_each_players_own_effect() -> None:
    effect = {"a": 1.0, "b": -2.0, "c": 0.5, "d": 7.0}
    players = list(effect)
    v = {s: sum(effect[p] for p in s) for s in all_coalitions(players)}
    exact = shapley_exact(game(players, v), players)
    orders = sample_orders(players, 6, seed=1)
    sampled = shapley_sampled(game(players, v), orders)
    for p in players:
        assert exact[p][0] == pytest.approx(effect[p])
        assert sampled[p][0] == pytest.approx(effect[p])


def test_sampled_shapley_over_all_orders_is_exact() -> None:
    rng = np.random.default_rng(5)
    players = ["a", "b", "c"]
    values = {s: rng.normal(size=4) for s in all_coalitions(players)}
    orders = list(itertools.permutations(players))
    exact = shapley_exact(values, players)
    sampled = shapley_sampled(values, orders)
    for p in players:
        np.testing.assert_allclose(sampled[p], exact[p])
    assert prefixes(orders) == set(values)


def test_sampled_orders_are_seeded_and_paired_with_their_reverse() -> None:
    players = [f"p{i}" for i in range(10)]
    a = sample_orders(players, 8, seed=42)
    assert a == sample_orders(players, 8, seed=42)
    assert a != sample_orders(players, 8, seed=43)
    assert a[1] == a[0][::-1]


def test_parse_order_names_position_and_expected_mechanisms() -> None:
    players = parse_order("review, first_contact+decision")
    assert [p.name for p in players] == ["review", "first_contact+decision"]
    assert players[1].mechanisms == ("first_contact", "decision")
    with pytest.raises(ValueError, match=r"item 2 \('revue'\).*expected one of: first_contact"):
        parse_order("routing,revue")
    with pytest.raises(ValueError, match="listed twice"):
        parse_order("routing,review+routing")
    full = complete_order(parse_order("review"))
    assert [p.name for p in full] == ["review", *[m for m in MECHANISMS if m != "review"]]


# --------------------------------------------------------------------------- on the simulator


def test_mechanisms_set_identically_contribute_exactly_zero(result) -> None:  # type: ignore[no-untyped-def]
    assert result.active == list(CHANGED)
    for method in ("sequential", "shapley"):
        for metric in METRICS:
            for c in result.contributions(method, metric):
                if c.player in CHANGED:
                    assert c.simulated
                else:
                    assert not c.simulated
                    assert c.per_replication == (0.0,) * 3
                    assert c.interval.mean == 0.0
    # Only the 2^3 hybrids of the differing mechanisms were simulated.
    assert len(result.hybrid_means) == 8


def test_identical_settings_give_identical_results_when_simulated(scenario: Scenario) -> None:
    # Skipping equal mechanisms is safe: a model set identically under another name gives the
    # very same numbers (same citizens, same run), so its switch would contribute exactly zero.
    sc = make_scenario(
        {"models": {**MODELS["models"], "copy": {"extends": "classic"}}}, seed=3, **SHORT
    )
    res = run_experiment(sc, models=["base", "copy"], replications=3)
    for metric in METRICS:
        assert res.values("base", metric) == res.values("copy", metric)


def test_contributions_add_up_to_the_total_in_every_replication(result) -> None:  # type: ignore[no-untyped-def]
    for method in ("sequential", "shapley"):
        for metric in METRICS:
            per_rep = np.sum([c.per_replication for c in result.contributions(method, metric)], 0)
            np.testing.assert_allclose(
                per_rep, result.total_per_replication[metric], rtol=1e-12, atol=1e-9
            )
            means = sum(c.interval.mean for c in result.contributions(method, metric))
            assert means == pytest.approx(result.total[metric].mean, abs=1e-9)


def test_last_hybrid_is_the_to_model_and_first_the_from_model(scenario: Scenario, result) -> None:  # type: ignore[no-untyped-def]
    direct = run_experiment(scenario, models=["base", "changed"], replications=3)
    for metric in METRICS:
        d = np.subtract(direct.values("changed", metric), direct.values("base", metric))
        assert tuple(d.tolist()) == result.total_per_replication[metric]
        assert result.endpoints["changed"][metric].mean == pytest.approx(
            float(np.mean(direct.values("changed", metric))), abs=0
        )


@pytest.mark.parametrize("stream_key", [None, 7])
def test_splitting_a_replication_over_tasks_changes_no_number(stream_key: int | None) -> None:
    scenario = make_scenario(MODELS, seed=3, stream_key=stream_key, **SHORT)
    fte = {m: scenario.staffing_fte() for m in ("base", "changed", "classic")}
    whole = run_experiment(scenario, models=list(fte), replications=2, fte=fte)
    split = run_chunked(scenario, list(fte), 2, jobs=4, fte=fte)  # 2 tasks per replication
    assert [(r.model, r.replication) for r in split.replications] == [
        (m, r) for r in range(2) for m in fte
    ]
    for m in fte:
        for metric in METRICS:
            assert split.values(m, metric) == whole.values(m, metric)


def test_copies_of_one_mechanism_share_its_effect_equally(scenario: Scenario) -> None:
    players = [
        Player("routing_a", ("routing",)),
        Player("routing_b", ("routing",)),
        Player("accuracy", ("accuracy",)),
        Player("review", ("review",)),
    ]
    res = explain(scenario, "base", "changed", order=players, shapley=True, metrics=METRICS)
    for metric in METRICS:
        a, b, _, _ = res.contributions("shapley", metric)
        np.testing.assert_allclose(a.per_replication, b.per_replication, rtol=0, atol=1e-12)
        total = np.sum([c.per_replication for c in res.contributions("shapley", metric)], 0)
        np.testing.assert_allclose(total, res.total_per_replication[metric], atol=1e-9)
        # Sequentially the second copy finds the mechanism already switched: exactly zero.
        assert res.contributions("sequential", metric)[1].per_replication == (0.0,) * 3


def test_order_changes_the_split_but_not_the_total(scenario: Scenario, result) -> None:  # type: ignore[no-untyped-def]
    rev = explain(
        scenario, "base", "changed", order=complete_order(parse_order("review,routing,accuracy"))
    )
    for metric in METRICS:
        assert rev.total_per_replication[metric] == result.total_per_replication[metric]
    # Shapley does not depend on the order the players are listed in.
    assert [p.name for p in rev.players[:3]] == ["review", "routing", "accuracy"]


# --------------------------------------------------------------------------- the command


def _fast_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "explain",
        str(SCENARIOS / "odder.yaml"),
        "--reps",
        "2",
        "--jobs",
        "1",
        "--set",
        "experiment.horizon_weeks=104",
        "--set",
        "experiment.warmup_weeks=26",
        *extra,
    ]


def test_cli_explain_writes_tables_and_report(tmp_path: Path) -> None:
    out = tmp_path / "x"
    r = CliRunner().invoke(
        app, [*_fast_args(tmp_path, "--out", str(out), "--order", "review,routing", "--lang", "da")]
    )
    assert r.exit_code == 0, r.output
    table = pl.read_csv(out / "contributions.csv")
    seq = table.filter((pl.col("metric") == "helped_per_year") & (pl.col("step") > 0))
    assert seq["mechanism"].to_list()[:2] == ["review", "routing"]
    assert set(seq["mechanism"]) == set(MECHANISMS)
    total = table.filter((pl.col("metric") == "helped_per_year") & (pl.col("step") == 0))
    assert seq["mean"].sum() == pytest.approx(total["mean"][0], abs=1e-9)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('id="plotlyjs"') == 1
    assert "http://" not in html.split("<main>")[1] and "https://" not in html.split("<main>")[1]
    assert "mekanisme" in html.lower()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "explain" and manifest["order"][:2] == ["review", "routing"]
    assert "review" in r.output and "total (joint - classic)" in r.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--order", "review,revue"], "--order: item 2 ('revue'): unknown mechanism 'revue'"),
        (["--order", "review,review"], "listed twice"),
        (["--to", "hybrid"], "--to: unknown model 'hybrid'; expected one of: classic, joint"),
        (["--from", "joint"], "same model"),
        (["--lang", "fr"], "--lang must be en or da"),
    ],
)
def test_cli_explain_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    out = tmp_path / "x"
    r = CliRunner().invoke(app, [*_fast_args(tmp_path, "--out", str(out)), *extra])
    assert r.exit_code == 2
    assert message in r.output
    assert not out.exists()
