"""`sim optimise`: on scenarios built so the answer is known, it is found within one step."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.model.citizens import WEEKS_PER_YEAR
from sim.model.metrics import Interval
from sim.model.scenario import Scenario, all_mechanisms_off
from sim.run.optimise import (
    Candidate,
    binding,
    fine_grid,
    limit_ratio,
    near_best,
    optimise,
    rank,
    share_grid,
)


def two_stage(
    *,
    rate: float,
    authority_hours: float,
    need: float = 2.0,
    weeks: float = 6.0,
    limit: float = 1000.0,
    coarse: float = 0.05,
    fine: float = 0.01,
    horizon: float = 130,
) -> dict[str, Any]:
    """Intake is one authority activity of ``authority_hours`` over one week; support holds
    ``need`` provider hours a week for exactly ``weeks`` weeks. Everything else is instant and
    free. 10 FTE of 16 productive hours a week in all (160 h/week), both groups at the same cost,
    so an authority share ``s`` gives ``160 s`` and ``160 (1 - s)`` hours a week."""
    model = all_mechanisms_off()
    if authority_hours:
        meeting = {"authority_hours": authority_hours, "duration_weeks": 1}
        model["first_contact"]["meeting"] = meeting
    group = {"fte_cost_dkk_per_year": 100_000, "hours_per_week": 16, "productive_share": 1.0}
    return {
        "name": "two_stage",
        "budget": {"annual_dkk": 1_000_000},
        "staff": {"authority": group, "provider": group},
        "staffing": {
            "mode": "optimise",
            "max_p90_wait_weeks": limit,
            "min_authority_share": 0.05,
            "max_authority_share": 0.5,
            "coarse_step": coarse,
            "fine_step": fine,
            "top_k": 3,
            "confirm_replications": 3,
        },
        "arrivals": {"kind": "poisson", "rate_per_week": rate},
        "segments": [
            {
                "name": "all",
                "share": 1.0,
                "need_hours_per_week": need,
                "weeks_to_goal": weeks,
                "eligible_probability": 1.0,
            }
        ],
        "models": {"m": model},
        "compare": ["m"],
        "experiment": {
            "seed": 5,
            "replications": 3,
            "horizon_weeks": horizon,
            "warmup_weeks": 26,
        },
    }


# --------------------------------------------------------------------------- pure parts


def test_share_grid_is_inclusive_and_fine_grid_stays_in_range() -> None:
    assert share_grid(0.02, 0.5, 0.04) == pytest.approx([0.02 + 0.04 * i for i in range(13)])
    assert share_grid(0.0, 0.5, 0.2) == [0.0, 0.2, 0.4, 0.5]
    assert fine_grid(0.1, 0.04, 0.01, 0.02, 0.5) == pytest.approx(
        [0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14]
    )
    assert fine_grid(0.02, 0.04, 0.01, 0.02, 0.5) == pytest.approx([0.02, 0.03, 0.04, 0.05, 0.06])


def test_limit_ratio_counts_waiting_and_giving_up_against_the_limit() -> None:
    # One referral a week; limit 12 weeks: 12 citizens may be waiting at the end.
    year = WEEKS_PER_YEAR
    assert limit_ratio(6.0, 6.0, year, 12.0) == pytest.approx(0.5)
    assert limit_ratio(13.0, 0.0, year, 12.0) > 1
    assert limit_ratio(6.0, 30.0, year, 12.0) == pytest.approx(2.5)  # queue grows: breaks it
    assert limit_ratio(6.0, 0.0, year, 12.0, 20.0, 80.0) == pytest.approx(2.0)  # 20 % give up
    assert limit_ratio(math.nan, 0.0, year, 12.0) == math.inf  # nobody started


def cand(share: float, helped: list[float], ratio: float = 0.5) -> Candidate:
    mean = sum(helped) / len(helped)
    iv = Interval(mean, mean - 1, mean + 1, 1.0, len(helped))
    zero = Interval(0.0, 0.0, 0.0, 0.0, len(helped))
    return Candidate("m", share, 1.0, 1.0, "coarse", iv, zero, zero, zero, zero, ratio,
                     tuple(helped))  # fmt: skip


def test_ranking_binding_and_near_best_range() -> None:
    curve = [
        cand(0.1, [1, 1, 1], ratio=2.0),
        cand(0.2, [10, 11, 12]),
        cand(0.3, [10, 11, 12]),
        cand(0.4, [10, 11, 12]),
        cand(0.5, [5, 6, 7], ratio=1.5),
    ]
    # An exact tie goes to the middle of the near-best range.
    assert near_best(curve) == (0.2, 0.4)
    assert rank(curve)[0].share == 0.3
    assert binding(rank(curve)[0], curve) == "none"
    assert binding(curve[1], curve) == "below"
    assert binding(curve[3], curve) == "above"
    assert binding(curve[0], curve) == "infeasible"
    # Without a feasible candidate, the least-violating comes first.
    assert rank([curve[0], curve[4]])[0].share == 0.5
    assert near_best([curve[0], curve[4]]) is None


# --------------------------------------------------------------------------- known answers


def test_interior_optimum_where_both_capacities_just_meet() -> None:
    # Overloaded (15 referrals a week, at most 10 can be served): helped per week is
    # min(160 s / 4, 160 (1 - s) / (2 x 6)), largest where the two meet: s* = 4 / (4 + 12) = 0.25.
    sc = Scenario.model_validate(two_stage(rate=15, authority_hours=4))
    res = optimise(sc, jobs=1)
    o = res.optima["m"]
    assert o.chosen.feasible
    assert abs(o.chosen.share - 0.25) <= 0.01 + 1e-9
    assert o.chosen.helped.mean == pytest.approx(10 * 52, rel=0.05)
    # The curve rises to the kink and falls after it.
    curve = {round(c.share, 2): c.helped.mean for c in res.curve("m")}
    assert curve[0.1] < curve[0.2] < curve[0.25] > curve[0.3] > curve[0.4]
    stages = {c.stage for c in res.candidates}
    assert stages == {"coarse", "fine", "confirm"}
    assert len([c for c in res.candidates if c.stage == "confirm"]) == 3


def test_provider_only_bottleneck_puts_the_optimum_at_the_smallest_authority_share() -> None:
    # Intake takes no authority time, support is overloaded: every krone to the provider.
    sc = Scenario.model_validate(two_stage(rate=15, authority_hours=0))
    res = optimise(sc, jobs=1)
    assert res.optima["m"].chosen.share == pytest.approx(0.05)
    helped = [c.helped.mean for c in res.curve("m")]
    assert helped == sorted(helped, reverse=True)


def test_the_limit_binds_where_a_queue_becomes_unstable() -> None:
    # 8 referrals a week: the authority keeps up from s = 0.2 (160 s / 4 >= 8), the provider up
    # to s = 0.4 (160 (1 - s) / 12 >= 8). Outside that range a queue grows without bound and the
    # 4-week limit must fail; well inside it, it must hold. Helped is flat (= demand) inside.
    sc = Scenario.model_validate(
        two_stage(rate=8, authority_hours=4, limit=4, coarse=0.05, fine=0.05, horizon=156)
    )
    res = optimise(sc, jobs=1)
    o = res.optima["m"]
    for c in res.curve("m"):
        if c.share <= 0.15 + 1e-9 or c.share >= 0.45 - 1e-9:
            assert not c.feasible, c
        if 0.25 - 1e-9 <= c.share <= 0.35 + 1e-9:
            assert c.feasible, c
    assert o.chosen.feasible and 0.2 <= o.chosen.share <= 0.4
    assert o.feasible_low is not None and o.feasible_low >= 0.2
    assert o.feasible_high is not None and o.feasible_high <= 0.4


# --------------------------------------------------------------------------- the command


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "two_stage.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML(typ="safe").dump(data, fh)
    return path


def test_cli_optimise_writes_the_named_split(tmp_path: Path) -> None:
    data = two_stage(rate=15, authority_hours=4, coarse=0.15, fine=0.05, horizon=104)
    path = _write(tmp_path, data)
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out), "--jobs", "1"])
    assert r.exit_code == 0, r.output
    chosen = pl.read_csv(out / "chosen.csv")
    assert chosen["model"].to_list() == ["m"]
    assert chosen["feasible"][0]
    cands = pl.read_csv(out / "candidates.csv")
    assert set(cands["stage"]) == {"coarse", "fine", "confirm"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "optimise" and manifest["settings_from_scenario"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('id="plotlyjs"') == 1
    assert "Named split per model" in r.output


def test_cli_optimise_uses_defaults_for_another_staffing_mode(tmp_path: Path) -> None:
    data = two_stage(rate=15, authority_hours=4, horizon=60)
    data["staffing"] = {"mode": "share", "authority_share": 0.2}
    data["experiment"]["warmup_weeks"] = 10
    path = _write(tmp_path, data)
    out = tmp_path / "o"
    r = CliRunner().invoke(
        app, ["optimise", str(path), "--out", str(out), "--reps", "2", "--confirm-reps", "2"]
    )
    assert r.exit_code == 0, r.output
    assert "using the optimiser's defaults" in r.output
    cands = pl.read_csv(out / "candidates.csv")
    assert "current" in set(cands["stage"])  # the scenario's own staffing, for comparison


def test_cli_optimise_bad_input_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, two_stage(rate=15, authority_hours=4))
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["optimise", str(path), "--models", "m,nope", "--out", str(out)])
    assert r.exit_code == 2
    assert "--models: unknown model 'nope'; expected one of: classic, joint, m" in r.output
    assert not out.exists()
