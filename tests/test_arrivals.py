"""Referrals: Poisson with a seasonal profile, replayed CSV dates, and the initial caseload."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.model.citizens import DAYS_PER_WEEK, referral_times
from sim.model.pathway import Simulation
from sim.run.experiment import run_experiment

from .conftest import make_scenario


def test_poisson_rate_matches() -> None:
    sc = make_scenario({"arrivals": {"kind": "poisson", "rate_per_week": 4.0}}, horizon_weeks=2000)
    times = list(referral_times(sc, 1, (0,), None))
    rate = len(times) / 2000
    assert abs(rate - 4.0) < 3 * np.sqrt(4.0 / 2000)
    assert times == sorted(times)


def test_seasonal_profile_empties_a_month() -> None:
    """A factor of 0 for July means no referrals in July; doubling a month doubles its share."""
    factors = [1.0] * 12
    factors[6] = 0.0
    factors[0] = 2.0
    arrivals = {"kind": "poisson", "rate_per_week": 5.0, "monthly_factors": factors}
    sc = make_scenario({"arrivals": arrivals}, horizon_weeks=52 * 20)
    days = np.array(list(referral_times(sc, 3, (0,), None))) % 365.0
    july = (days >= 181) & (days < 212)
    january = days < 31
    february = (days >= 31) & (days < 59)
    assert not july.any()
    assert january.sum() / 31 > 1.7 * february.sum() / 28


def test_csv_referrals_are_replayed(tmp_path: Path) -> None:
    csv = tmp_path / "referrals.csv"
    csv.write_text("date\n2024-01-01\n2024-01-08\n2024-01-08\n2024-03-01\n", encoding="utf-8")
    sc = make_scenario(
        {"arrivals": {"kind": "csv", "path": str(csv)}, "initial_caseload": {"in_support": 0}},
        replications=2,
    )
    times = list(referral_times(sc, 1, (0,), tmp_path))
    assert times == [0.0, 7.0, 7.0, 60.0]
    sim = Simulation(sc, "classic", 0, sc.staffing_fte(), base_dir=tmp_path)
    d = sim.run().diagnostics
    # four referrals, plus any re-referrals; none lost
    assert d["referred_total"] >= 4
    assert d["referred_total"] == sum(d["in_system"].values()) + sum(d["exited_total"].values())


def test_initial_caseload_fills_support_at_start() -> None:
    sc = make_scenario(
        {"initial_caseload": {"in_support": 100, "waiting": 20}}, horizon_weeks=52, warmup_weeks=0
    )
    sim = Simulation(sc, "classic", 0, sc.staffing_fte())
    res = sim.run()
    first_week = res.timeseries[0]
    in_support = first_week[3]
    waiting = first_week[2]
    assert in_support + waiting == 120
    assert in_support >= 100  # the waiting ones start at once if hours allow
    assert res.diagnostics["referred_total"] >= 120


def test_warmup_is_not_measured() -> None:
    """Only referrals after the warm-up count: the measured rate equals the referrals in the
    window over the window's length, exactly."""
    sc = make_scenario(
        {"exits": {"rereferral_probability": 0.0}}, horizon_weeks=156, warmup_weeks=100
    )
    res = run_experiment(sc, models=["classic"], replications=2)
    for r in res.replications:
        times = list(referral_times(sc, sc.experiment.seed, (r.replication,), None))
        in_window = sum(1 for t in times if t >= 100 * DAYS_PER_WEEK)
        years = 56 * DAYS_PER_WEEK / 365
        assert r.metrics["referred_per_year"] == in_window / years
        assert in_window < len(times)
