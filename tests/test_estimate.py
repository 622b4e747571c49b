"""Issue 10 item 2: the size of a run is estimated before it starts, and a run beyond the limits
is refused (exit 2, one line with the estimate and the limit) unless --force."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import ScenarioError, load_scenario
from sim.run import estimate as est

from .conftest import SCENARIOS, make_scenario

FAST = ["--reps", "2", "--set", "experiment.horizon_weeks=104",
        "--set", "experiment.warmup_weeks=26", "--jobs", "1"]  # fmt: skip


def test_estimate_is_linear_in_citizens_runs_and_workers() -> None:
    """Hand-computed: 1,000 citizens, 10 replications, 2 models, 100 weeks, one process."""
    one = est.estimate(1000, replications=10, models=2, jobs=1, weeks=100)
    assert one.work == 1000 * 10 * 2
    snapshots = 10 * 2 * 100 * 8 * 8
    assert one.memory_bytes == pytest.approx(110 * 2**20 + 1000 * 1800 + snapshots)
    # Twice the citizens: twice the work, and one more replication's citizens in memory.
    two = est.estimate(2000, replications=10, models=2, jobs=1, weeks=100)
    assert two.work == 2 * one.work
    assert two.memory_bytes - one.memory_bytes == pytest.approx(1000 * 1800)
    # Work grows with replications x models; memory only by their snapshots.
    more = est.estimate(1000, replications=30, models=4, jobs=1, weeks=100)
    assert more.work == 1000 * 30 * 4
    assert more.memory_bytes - one.memory_bytes == pytest.approx((120 - 20) * 100 * 8 * 8)
    # The event log is kept for every replication and model: linear in their product.
    ev = est.estimate(1000, replications=10, models=2, jobs=1, weeks=100, events=True)
    assert ev.memory_bytes - one.memory_bytes == pytest.approx(20 * 1000 * 12 * 320)
    # Each extra worker holds one replication's citizens at a time, beside the parent.
    w2 = est.estimate(1000, replications=10, models=2, jobs=2, weeks=100)
    w4 = est.estimate(1000, replications=10, models=2, jobs=4, weeks=100)
    assert w4.memory_bytes - w2.memory_bytes == pytest.approx(2 * (80 * 2**20 + 1000 * 1800))
    assert est.estimate(1000, replications=3, models=2, jobs=8, weeks=100).workers == 3


@pytest.mark.parametrize(
    ("rate", "factors", "p", "start"),
    [(3.0, None, 0.0, 0), (3.0, [0.5] * 6 + [1.5] * 6, 0.0, 150), (40.0, None, 0.5, 2000)],
)
def test_citizens_per_replication_by_hand(
    rate: float, factors: list[float] | None, p: float, start: int
) -> None:
    sc = make_scenario(
        {
            "arrivals": {"kind": "poisson", "rate_per_week": rate, "monthly_factors": factors},
            "exits": {"rereferral_probability": p},
            "initial_caseload": {"in_support": start, "waiting": 0},
        },
        horizon_weeks=200,
    )
    # Mean monthly factor is 1 in every case above; 1 / (1 - p) referrals per citizen.
    assert est.citizens_per_replication(sc) == pytest.approx(start + rate * 200 / (1 - p))


def test_estimate_counts_the_citizens_a_run_simulates(tmp_path: Path) -> None:
    """Independent check: the citizens in a run's event log are those the estimate counts."""
    out = tmp_path / "r"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), *FAST, "--no-report", "--events"]
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    events = pl.read_csv(out / "events.csv")
    per_run = events.group_by("model", "replication").agg(pl.col("case_id").n_unique())
    sc = load_scenario(
        SCENARIOS / "odder.yaml", ["experiment.horizon_weeks=104", "experiment.warmup_weeks=26"]
    )
    expected = est.citizens_per_replication(sc)
    # Citizens still untouched at the end have no row; those referred again may reuse an id.
    for n in per_run["case_id"]:
        assert 0.75 * expected <= n <= 1.1 * expected, (n, expected)


def test_refusal_gives_estimate_and_limit() -> None:
    size = est.estimate(1e6, replications=30, models=2, jobs=2, weeks=572)
    assert est.refusal(size, est.Limits(memory_bytes=1e12, work=1e9)) is None
    text = est.refusal(size, est.Limits(memory_bytes=1e12, work=1e6))
    assert text is not None and "\n" not in text
    assert "60 M citizen-replications" in text and "limit of 1 M citizen-replications" in text
    text = est.refusal(size, est.Limits(memory_bytes=2**30, work=1e12))
    assert text is not None and "memory above the limit of 1 GB" in text and "--force" in text


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_MAX_MEMORY_MB", "512")
    monkeypatch.setenv("SIM_MAX_WORK", "1000")
    assert est.default_limits() == est.Limits(512 * 2**20, 1000)
    monkeypatch.setenv("SIM_MAX_WORK", "lots")
    assert est.default_limits().work == est.MAX_WORK
    monkeypatch.delenv("SIM_MAX_MEMORY_MB")
    assert est.default_limits().memory_bytes == est.machine_memory_bytes() / 2


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any simulation started (it must not be, for a refused run)."""
    import sim.run.experiment

    started: list[str] = []
    real = sim.run.experiment.execute

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append("execute")
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.run.experiment, "execute", spy)
    return started


@pytest.mark.parametrize(
    "command",
    [
        ["run", str(SCENARIOS / "odder.yaml"), *FAST],
        ["explain", str(SCENARIOS / "odder.yaml"), "--reps", "2", "--jobs", "1"],
        ["optimise", str(SCENARIOS / "odder.yaml"), "--reps", "2", "--jobs", "1"],
        ["sweep", str(SCENARIOS / "sweeps" / "budget_and_demand.yaml"), "--reps", "2"],
    ],
    ids=["run", "explain", "optimise", "sweep"],
)
def test_over_the_limit_is_refused_before_any_work(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_simulation: list[str]
) -> None:
    monkeypatch.setenv("SIM_MAX_WORK", "1000")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*command, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert [x for x in lines if x.startswith("error:")] == lines[-1:]  # one line, the last
    assert lines[-1].startswith("error: this run is too large: ~")
    assert "limit of 1 k citizen-replications" in lines[-1] and "Traceback" not in result.output
    assert no_simulation == []
    assert not out.exists()


def test_force_runs_it_anyway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_simulation: list[str]
) -> None:
    monkeypatch.setenv("SIM_MAX_WORK", "1000")
    out = tmp_path / "out"
    args = ["run", str(SCENARIOS / "odder.yaml"), *FAST, "--no-report", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--force"])
    assert result.exit_code == 0, result.output
    assert "running it anyway (--force)" in result.output
    assert no_simulation == ["execute"]
    assert (out / "summary.csv").is_file()


def test_memory_limit_refuses_a_huge_caseload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_simulation: list[str]
) -> None:
    monkeypatch.setenv("SIM_MAX_MEMORY_MB", "150")  # 110 MB of libraries + 40 MB of citizens
    args = ["run", str(SCENARIOS / "odder.yaml"), *FAST, "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--set", "initial_caseload.in_support=40000"])
    assert result.exit_code == 2, result.output
    assert "memory above the limit of 150 MB" in result.output
    assert no_simulation == []


@pytest.mark.parametrize(
    ("key", "ok", "bad"),
    [
        ("arrivals.rate_per_week", 1000, 1001),
        ("initial_caseload.in_support", 50_000, 50_001),
        ("initial_caseload.waiting", 50_000, 50_001),
    ],
)
def test_schema_maxima_fit_a_municipality(key: str, ok: float, bad: float) -> None:
    """The issue's 100,000 referrals a week and 1,000,000 in support no longer validate."""
    load_scenario(SCENARIOS / "odder.yaml", [f"{key}={ok}"])
    with pytest.raises(ScenarioError, match="less than or equal"):
        load_scenario(SCENARIOS / "odder.yaml", [f"{key}={bad}"])
