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
from sim.model.scenario import Scenario
from sim.run.experiment import run_experiment
from sim.run.explain import (
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

from .conftest import SCENARIOS, make_scenario

SHORT = {"horizon_weeks": 104, "warmup_weeks": 26, "replications": 3}
METRICS = (
    "helped_per_year",
    "time_to_start_median_weeks",
    "core_task_share",
    "s85_starts_per_year",
    "short_course_per_year",
    "post_goal_hours_per_year",
)

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
        app,
        [
            *_fast_args(tmp_path, "--out", str(out), "--order", "review,routing", "--lang", "da"),
            "--sequential",
        ],
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
    # The console speaks the language asked for (--lang da), as the report does, and names
    # metrics and mechanisms by their labels, not by their keys.
    assert "opfølgning" in r.output and "i alt: fælles − klassisk" in r.output
    assert "borgere hjulpet pr. år" in r.output and "helped_per_year" not in r.output
    assert "udførerens opstartsmøde" in r.output and "startup_meeting" not in r.output
    # Helped, its two parts and the post-goal support hours: in the CSV for every mechanism ...
    for metric, unit in [
        ("s85_starts_per_year", "citizens/year"),
        ("short_course_per_year", "citizens/year"),
        ("post_goal_hours_per_year", "hours/year"),
    ]:
        rows = table.filter(pl.col("metric") == metric)
        assert set(rows["mechanism"]) == {*MECHANISMS, "total (joint - classic)"}
        assert set(rows["unit"]) == {unit}
    # ... in the report (its own section, figure and table) and on the console.
    assert 'id="figure-breakdown"' in html and "§ 85-starter og kortere forløb" in html
    assert "støttetimer efter at målene var nået" in html.lower()
    flat = " ".join(r.output.split())
    assert "borgere hjulpet = starter i § 85-støtte + starter på kortere forløb (§ 82b)" in flat


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--order", "review,revue"], "--order: item 2 ('revue'): unknown mechanism 'revue'"),
        (["--order", "review,review"], "listed twice"),
        (["--to", "hybrid"], "--to: unknown model 'hybrid'; expected one of: classic, joint"),
        (["--from", "joint"], "same model"),
        (["--lang", "fr"], "--lang must be one of en, da"),
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


# --------------------------------------------------------------------------- which method heads


def coalition_values(res, metric: str) -> dict[frozenset[str], np.ndarray]:  # type: ignore[no-untyped-def]
    """Per coalition of active players, the metric per replication, read from the simulated
    hybrids by the mechanisms they switch (independent of the decomposition's bookkeeping)."""
    mech_of = {p.name: set(p.mechanisms) for p in res.players}
    by_switch = {frozenset(m): name for name, m in res.hybrids.items()}
    out = {}
    for c in all_coalitions(res.active):
        switched = frozenset(set().union(*(mech_of[p] for p in c)) & set(CHANGED))
        if switched in by_switch:
            out[c] = np.asarray(res.experiment.values(by_switch[switched], metric), dtype=float)
    return out


def marginal(v: dict[frozenset[str], np.ndarray], order: tuple[str, ...], player: str) -> float:
    """Mean over replications of the player's change when switched in ``order``."""
    before = frozenset(order[: order.index(player)])
    return float(np.mean(v[before | {player}] - v[before]))


def by_permutations(
    v: dict[frozenset[str], np.ndarray], players: list[str]
) -> dict[str, list[float]]:
    """Each player's mean contribution in every order of the players."""
    return {
        p: [marginal(v, order, p) for order in itertools.permutations(players)] for p in players
    }


def headline_number(x: float) -> str:
    return f"{x:+.1f}" if round(x, 1) != 0 else f"{abs(x):.1f}"  # CLDR's minus: hyphen-minus


@pytest.fixture(scope="module")
def default_result(scenario: Scenario):  # type: ignore[no-untyped-def]
    # In this order the sequential split credits review most; the Shapley split credits routing.
    order = complete_order(parse_order("review,accuracy,routing"))
    return explain(scenario, "base", "changed", order=order, metrics=METRICS)


def test_default_method_is_exact_shapley_when_at_most_8_mechanisms_differ(default_result) -> None:  # type: ignore[no-untyped-def]
    res = default_result
    assert res.shapley is not None and res.shapley_exact
    assert len(res.hybrid_means) == 2 ** len(CHANGED)
    for metric in METRICS:
        v = coalition_values(res, metric)
        perms = by_permutations(v, res.active)
        for c in res.contributions("shapley", metric):
            if c.simulated:  # the Shapley value is the mean over all 3! orders
                assert c.interval.mean == pytest.approx(np.mean(perms[c.player]), abs=1e-9)
                lo, hi = res.order_range[metric][c.player]
                assert (lo, hi) == pytest.approx((min(perms[c.player]), max(perms[c.player])))


def test_headline_names_the_mechanism_with_the_largest_shapley_share(
    result, default_result
) -> None:  # type: ignore[no-untyped-def]
    from sim.present.explain_report import explain_headline, player_label

    # The Shapley values from all 2^3 hybrids of the explicit --shapley run (another order).
    perms = by_permutations(coalition_values(result, "helped_per_year"), result.active)
    res = default_result
    shapley = {p: float(np.mean(x)) for p, x in perms.items()}
    top = max(shapley, key=lambda p: abs(shapley[p]))
    for lang in ("en", "da"):
        text = explain_headline(res, lang)
        assert player_label(top, lang) in text, text
        others = [player_label(p, lang) for p in res.active if p != top]
        assert not any(o in text for o in others), text
    # Exact Shapley values do not depend on the order: no order caveat.
    assert "depends on the order" not in explain_headline(res, "en")


def test_more_than_8_players_headline_gives_the_range_over_the_sampled_orders(
    scenario: Scenario,
) -> None:
    from sim.present.explain_report import explain_headline

    # Nine players (three copies of each changed mechanism): too many for exact Shapley values.
    players = [Player(f"{m}_{k}", (m,)) for m in CHANGED for k in "abc"]
    metric = "helped_per_year"
    res = explain(scenario, "base", "changed", order=players, metrics=(metric,))
    text = explain_headline(res, "en")
    assert "The split depends on the order: over the 64 sampled orders" in text, text
    assert res.shapley is not None and not res.shapley_exact
    v = coalition_values(res, metric)
    orders = sample_orders([p.name for p in players], res.shapley_orders, scenario.experiment.seed)
    assert len(orders) == 64
    per_order = {p.name: [marginal(v, o, p.name) for o in orders] for p in players}
    top = max(per_order, key=lambda p: abs(np.mean(per_order[p])))
    lo, hi = min(per_order[top]), max(per_order[top])
    assert lo < hi
    assert (
        f"The split depends on the order: over the 64 sampled orders, {top} contributes between "
        f"{headline_number(lo)} and {headline_number(hi)}." in text
    ), text
    assert "fordelingen afhænger af rækkefølgen" in explain_headline(res, "da").lower()


def test_forced_sequential_headline_gives_the_range_over_orders(scenario: Scenario) -> None:
    from sim.present.explain_report import explain_headline, player_label

    metric = "helped_per_year"
    res = explain(scenario, "base", "changed", shapley=False, metrics=(metric,))
    text = explain_headline(res, "en")
    assert "The split depends on the order: switched first, last" in text, text
    assert res.shapley is None
    v = coalition_values(res, metric)
    order = tuple(res.active)
    seq = {p: marginal(v, order, p) for p in order}
    top = max(seq, key=lambda p: abs(seq[p]))
    rest = tuple(p for p in order if p != top)
    candidates = [seq[top], marginal(v, (top, *rest), top), marginal(v, (*rest, top), top)]
    assert f"comes from {player_label(top, 'en')}." in text
    assert (
        f"The split depends on the order: switched first, last or at its place here, "
        f"{player_label(top, 'en')} contributes between {headline_number(min(candidates))} and "
        f"{headline_number(max(candidates))}" in text
    ), text


def _two_model_file(tmp_path: Path) -> Path:
    """Odder with the test's two user models, short, as a scenario file."""
    from ruamel.yaml import YAML

    from sim.model.scenario import deep_merge

    from .conftest import odder_data

    data = deep_merge(odder_data(), MODELS)
    data["experiment"] = {**data["experiment"], "horizon_weeks": 104, "warmup_weeks": 26}
    path = tmp_path / "two.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(data, fh)
    return path


@pytest.mark.parametrize("flag", [None, "--sequential"])
def test_cli_explain_default_is_shapley_and_sequential_on_request(
    tmp_path: Path, flag: str | None
) -> None:
    out = tmp_path / "x"
    args = ["explain", str(_two_model_file(tmp_path)), "--from", "base", "--to", "changed"]
    args += ["--reps", "2", "--jobs", "1", "--out", str(out), *([flag] if flag else [])]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    table = pl.read_csv(out / "contributions.csv")
    methods = set(table["method"])
    # Each contribution lies within its range over orders (a Shapley value is a mean over orders;
    # the sequential contribution is one of the orders); a mechanism set alike has none.
    for row in table.filter(pl.col("step") > 0).iter_rows(named=True):
        if row["mechanism"] in CHANGED:
            assert row["order_min"] - 1e-9 <= row["mean"] <= row["order_max"] + 1e-9, row
        else:
            assert row["order_min"] == row["order_max"] == row["mean"] == 0.0
    html = (out / "report.html").read_text(encoding="utf-8")
    if flag is None:
        assert manifest["methods"] == ["sequential", "shapley"] and manifest["shapley_exact"]
        assert methods == {"sequential", "shapley"}
        assert manifest["models_simulated"] == 8
        assert "depends on the order" not in r.output
    else:
        assert manifest["methods"] == ["sequential"] and methods == {"sequential"}
        assert "The split depends on the order" in " ".join(r.output.split())
        assert "The split depends on the order" in html


# --------------------------------------------------------------------------- § 85 and short courses


def test_each_contribution_to_helped_is_its_s85_part_plus_its_short_course_part(result) -> None:  # type: ignore[no-untyped-def]
    parts = ("s85_starts_per_year", "short_course_per_year")
    for method in ("sequential", "shapley"):
        helped = result.contributions(method, "helped_per_year")
        s85, course = (result.contributions(method, m) for m in parts)
        for h, a, b in zip(helped, s85, course, strict=True):
            np.testing.assert_allclose(
                np.add(a.per_replication, b.per_replication), h.per_replication, atol=1e-9
            )
    # Routing sends citizens to short courses instead of § 85: its parts have opposite signs here.
    routing = {m: result.contributions("shapley", m)[MECHANISMS.index("routing")] for m in parts}
    assert routing["short_course_per_year"].interval.mean > 0
    assert routing["s85_starts_per_year"].interval.mean < 0


def test_headline_says_how_helped_splits_into_s85_starts_and_short_courses(
    scenario: Scenario, default_result
) -> None:  # type: ignore[no-untyped-def]
    from sim.present.explain_report import explain_headline, player_label

    res = default_result
    direct = run_experiment(scenario, models=["base", "changed"], replications=3)
    text = {lang: explain_headline(res, lang) for lang in ("en", "da")}
    split = {}
    for metric in ("s85_starts_per_year", "short_course_per_year"):
        d = np.subtract(direct.values("changed", metric), direct.values("base", metric))
        split[metric] = headline_number(float(np.mean(d)))
    assert f"of the total, {split['s85_starts_per_year']} (" in text["en"]
    assert f") are § 85 starts and {split['short_course_per_year']} (" in text["en"]
    assert ") short courses" in text["en"]
    assert "§ 85-starter" in text["da"] and "kortere forløb" in text["da"]
    # ... and for the mechanism the headline names (its Shapley value, over all 3! orders).
    top = max(
        (c for c in res.contributions("shapley", "helped_per_year") if c.simulated),
        key=lambda c: abs(c.interval.mean),
    ).player
    mine = [
        headline_number(float(np.mean(by_permutations(coalition_values(res, m), res.active)[top])))
        for m in ("s85_starts_per_year", "short_course_per_year")
    ]
    assert f"of the part from {player_label(top, 'en')}, {mine[0]} and {mine[1]}." in text["en"]
