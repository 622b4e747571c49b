"""Checks that tie the model to theory (docs/model.md §9): Erlang C, Little's law,
conservation, the budget identity, and pools that never drift."""

from __future__ import annotations

import math

import pytest

from sim.model.metrics import erlang_c_wait, t_interval
from sim.model.pathway import STAGES, Simulation
from sim.run.experiment import run_experiment

from .conftest import make_scenario, mmc_scenario


@pytest.mark.parametrize(("rate", "label"), [(5.0, "rho=0.5"), (9.0, "rho=0.9")])
def test_support_stage_is_erlang_c(rate: float, label: str) -> None:
    """With instant intake and exponential durations the support stage is M/M/c: the simulated
    mean wait to support start matches Erlang C within the replications' confidence interval."""
    servers, hours, mean_weeks = 10, 5.0, 1.0
    sc = mmc_scenario(rate, servers, hours, mean_weeks)
    res = run_experiment(sc, jobs=2)
    waits = res.values("mmc", "time_to_start_mean_weeks")
    iv = t_interval(waits)
    theory = erlang_c_wait(rate, 1.0 / mean_weeks, servers)
    # Tolerance from the replications' own standard error (3 SE), not a fixed percentage.
    se = iv.sd / math.sqrt(iv.n)
    assert abs(iv.mean - theory) < 3 * se, (label, iv, theory)
    # And the check can fail: a quarter fewer servers gives a clearly different wait.
    assert abs(erlang_c_wait(rate, 1.0 / mean_weeks, servers + 3) - iv.mean) > 3 * se


def test_erlang_c_formula_known_value() -> None:
    """Erlang C against a textbook value: lambda=2, mu=1, c=3 gives Wq = 4/9."""
    assert erlang_c_wait(2.0, 1.0, 3) == pytest.approx(4 / 9, rel=1e-12)
    assert erlang_c_wait(1.0, 1.0, 1) == math.inf


@pytest.mark.parametrize("model", ["classic", "joint"])
def test_littles_law_every_stage(model: str) -> None:
    """Time-average number in each stage = entry rate x mean time in stage (long window)."""
    sc = make_scenario(horizon_weeks=52 * 40, warmup_weeks=104)
    sim = Simulation(sc, model, 0, sc.staffing_fte())
    res = sim.run()
    window = res.diagnostics["window_days"]
    for stage in STAGES:
        d = res.diagnostics["stages"][stage]
        if d["entries"] < 50:
            continue
        big_l = d["area_days"] / window
        lam = d["entries"] / window
        w = d["sojourn_sum_days"] / d["sojourn_n"]
        assert big_l == pytest.approx(lam * w, rel=0.06), (stage, big_l, lam * w)


@pytest.mark.parametrize("model", ["classic", "joint", "joint_meeting_only"])
@pytest.mark.parametrize("replication", [0, 1])
def test_conservation(model: str, replication: int) -> None:
    """Referred = still in the system + exited, by reason, exactly."""
    sc = make_scenario()
    d = Simulation(sc, model, replication, sc.staffing_fte()).run().diagnostics
    assert d["referred_total"] == sum(d["in_system"].values()) + sum(d["exited_total"].values())
    assert d["active"] == sum(d["in_system"].values())
    assert all(v >= 0 for v in d["in_system"].values())


@pytest.mark.parametrize(
    "staffing",
    [
        {"mode": "fixed", "authority_fte": 2.5, "provider_fte": 28},
        {"mode": "share", "authority_share": 0.1},
        {"mode": "share", "authority_share": 0.0},
    ],
)
def test_budget_identity(staffing: dict) -> None:
    """Staff cost + unspent = budget, and no model spends more than the budget."""
    sc = make_scenario({"staffing": staffing}, replications=2, horizon_weeks=104)
    res = run_experiment(sc, jobs=1)
    budget = sc.budget.annual_dkk
    for r in res.replications:
        cost, unspent = r.metrics["staff_cost_dkk_per_year"], r.metrics["unspent_dkk_per_year"]
        assert cost + unspent == pytest.approx(budget, rel=1e-12)
        assert cost <= budget * (1 + 1e-12)
        assert unspent >= -1e-6


def test_staffing_over_budget_is_rejected() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="exceeds the budget"):
        make_scenario({"staffing": {"mode": "fixed", "authority_fte": 10, "provider_fte": 40}})


@pytest.mark.parametrize("model", ["classic", "joint"])
def test_pools_never_drift(model: str) -> None:
    """Twenty years of bookings and releases; once everyone has finished, each pool is exactly
    at its capacity and holds nothing in any category."""
    sc = make_scenario(horizon_weeks=52 * 20)
    sim = Simulation(sc, model, 3, sc.staffing_fte())
    d = sim.run_until_empty()
    assert d["active"] == 0
    for pool in d["pools"].values():
        assert pool["free"] == pool["capacity"]
        assert pool["rate"] == [0, 0, 0, 0]


def test_hours_accounted_once() -> None:
    """Every productive hour is in exactly one category: the categories and idle add up to the
    pool's capacity over the window, for both groups."""
    sc = make_scenario(replications=2)
    res = run_experiment(sc, jobs=1)
    weeks = sc.experiment.horizon_weeks - sc.experiment.warmup_weeks
    years = weeks * 7 / 365
    fte = sc.staffing_fte()
    for r in res.replications:
        for g, f in zip(("authority", "provider"), fte, strict=True):
            cap = getattr(sc.staff, g).capacity_hours_per_week(f) * weeks / years
            total = sum(
                r.metrics[f"{g}_{c}_hours_per_year"]
                for c in ("support", "meetings", "casework", "documentation", "idle")
            )
            # Capacity is held in whole minutes per week, so allow that rounding only.
            assert total == pytest.approx(cap, abs=weeks / 60 / years)
            assert r.metrics[f"{g}_idle_hours_per_year"] >= -1e-6
