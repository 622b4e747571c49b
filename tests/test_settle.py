"""The warm-up check (run.settle, issue 9 item 5): MSER-5 and the trend test on series with a known
answer, and the warning end to end on queues whose growth queueing theory gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import dump_resolved
from sim.model.theory import mmc_scenario
from sim.run import settle

WEEKS_PER_YEAR = 365 / 7


def _noise(rng: np.random.Generator, n: int, phi: float = 0.5, sd: float = 1.0) -> np.ndarray:
    """AR(1) noise with lag-1 correlation ``phi``: autocorrelated like a weekly queue count."""
    e = rng.normal(0.0, sd, n)
    out = np.empty(n)
    out[0] = e[0] / np.sqrt(1 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


# --------------------------------------------------------------------------- MSER-5


def test_mser_of_a_step_is_the_step_exactly() -> None:
    """10 for the first W weeks, then a constant: only truncating exactly at W leaves no error."""
    for w in (0, 35, 100, 200):
        series = np.r_[np.full(w, 10.0), np.full(500 - w, 3.0)]
        assert settle.mser(series) == (w, False)


def test_mser_by_hand_on_batch_means() -> None:
    """Batch means 9, 1, 2, 1, 2, 1, 2, 1: MSER(0) = 51.875/64, MSER(1) = (12/7)/49 = 0.035,
    MSER(2) = 1.5/36 = 0.042, MSER(3) = 1.2/25, MSER(4) = 1/16...: the minimum is at one batch,
    5 weeks."""
    means = [9, 1, 2, 1, 2, 1, 2, 1]
    series = np.repeat(np.asarray(means, dtype=float), 5)
    assert settle.mser(series) == (5, False)


@pytest.mark.parametrize(("transient", "sd"), [(100, 1.0), (200, 2.0), (300, 1.0)])
def test_mser_finds_a_known_transient(transient: int, sd: float) -> None:
    """A linear approach from 40 above the level to the level over ``transient`` weeks, in
    autocorrelated noise: the truncation point lies near the end of the transient."""
    rng = np.random.default_rng(transient)
    n = 1040
    bias = np.clip(1 - np.arange(n) / transient, 0, None) * 40
    found = [settle.mser(50 + bias + _noise(rng, n, sd=sd))[0] for _ in range(20)]
    assert transient * 0.6 <= np.median(found) <= transient * 1.2
    assert all(f <= n // 2 for f in found)


def test_mser_of_a_series_that_never_settles_is_flagged() -> None:
    """A steady climb: the minimum lies at the end, beyond the first half."""
    series = np.arange(520, dtype=float)
    point, beyond = settle.mser(series)
    assert beyond
    assert point <= 260


def test_flat_series_truncate_at_zero() -> None:
    assert settle.mser(np.zeros(300)) == (0, False)
    assert settle.mser(np.full(300, 0.1)) == (0, False)  # rounding must not move it


# --------------------------------------------------------------------------- trend test


def test_yearly_means_and_slope_by_hand() -> None:
    series = np.r_[np.full(10, 99.0), np.full(52, 1.0), np.full(52, 3.0), np.full(20, 7.0)]
    assert settle.yearly_means(series, 10).tolist() == [1.0, 3.0]  # partial year left out
    assert settle.slope([1.0, 3.0, 5.0]) == pytest.approx(2.0)
    assert settle.slope([4.0, 0.0, 4.0]) == pytest.approx(0.0)


@pytest.mark.parametrize("rate", [-6.0, 1.5, 4.0, 20.0])
def test_a_linear_drift_is_recovered_within_its_interval(rate: float) -> None:
    """Drift ``rate`` citizens/year in noise: the interval covers it in about 95 % of experiments
    and the check calls it a trend."""
    rng = np.random.default_rng(int(abs(rate) * 10))
    weeks = np.arange(572)
    covered = trending = 0
    n_exp = 200
    for _ in range(n_exp):
        reps = [30 + rate * weeks / WEEKS_PER_YEAR + _noise(rng, 572, sd=3.0) for _ in range(10)]
        tr = settle.trend(reps, 52)
        assert tr is not None and tr.years == 10
        covered += tr.low <= rate <= tr.high
        trending += tr.trending
    assert 0.90 <= covered / n_exp <= 0.99
    assert trending == n_exp


def test_a_stationary_series_gives_no_warning() -> None:
    """No drift: the interval covers 0 in about 95 % of experiments, and a warning (significant
    and material) is rarer still."""
    rng = np.random.default_rng(5)
    significant = trending = 0
    n_exp = 300
    for _ in range(n_exp):
        reps = [40 + _noise(rng, 572, phi=0.9, sd=2.0) for _ in range(10)]
        tr = settle.trend(reps, 52)
        assert tr is not None
        significant += tr.significant
        trending += tr.trending
    assert 0.01 <= significant / n_exp <= 0.10
    assert trending / n_exp <= 0.02


def test_a_drift_too_small_to_matter_is_not_a_warning() -> None:
    """0.1 citizens a year on a level of 100, measured precisely: significant, but it moves the
    level by 1 citizen over 10 years, under the materiality bar."""
    weeks = np.arange(572)
    rng = np.random.default_rng(1)
    reps = [100 + 0.1 * weeks / WEEKS_PER_YEAR + rng.normal(0, 0.01, 572) for _ in range(10)]
    tr = settle.trend(reps, 52)
    assert tr is not None and tr.significant and not tr.trending


def test_too_short_to_test() -> None:
    reps = [np.arange(150, dtype=float)] * 5
    assert settle.trend(reps, 52) is None  # 98 weeks after the warm-up: one whole year
    assert settle.trend([np.arange(300, dtype=float)], 52) is None  # one replication


# --------------------------------------------------------------------------- end to end


def _queue_file(tmp_path: Path, rate: float) -> Path:
    """An M/M/10 support queue (10 places, mean stay 5 weeks: 2 starts a week at most)."""
    sc = mmc_scenario(rate, 10, 1.0, 5.0, replications=6, horizon_weeks=312, warmup_weeks=52)
    path = tmp_path / f"queue_{rate:g}.yaml"
    path.write_text(dump_resolved(sc), encoding="utf-8")
    return path


def _run(path: Path, out: Path, lang: str) -> str:
    args = ["run", str(path), "--jobs", "1", "--out", str(out), "--lang", lang]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # rich wraps long lines


def test_a_queue_that_grows_is_reported_in_the_console_and_the_report(tmp_path: Path) -> None:
    """3 referrals a week for 2 places a week: the waiting list grows by 1 a week, 52.1 a year
    (once the places are full, arrivals minus departures)."""
    out = tmp_path / "grows"
    console = _run(_queue_file(tmp_path, 3.0), out, "da")
    table = pl.read_csv(out / "settling.csv")
    row = table.filter(pl.col("series") == "support_queue_citizens").row(0, named=True)
    assert row["trend"]
    assert row["slope_ci_low"] <= WEEKS_PER_YEAR <= row["slope_ci_high"]
    # The console speaks the run's language (--lang da), with the report's words.
    assert (
        "Advarsel: Ikke i ligevægt: med modellen mmc vokser ventelisten til støtte stadig med"
        in console
    )
    assert "Afskæringspunktet (MSER-5) peger på en indkøringsperiode på mindst" in console
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Ikke i ligevægt: med modellen mmc vokser ventelisten til støtte stadig med" in html
    assert "Afskæringspunktet (MSER-5) peger på en indkøringsperiode på mindst" in html


def test_a_settled_queue_gets_no_warning(tmp_path: Path) -> None:
    """1 referral a week for 2 places a week (load 0.5): stationary after a few weeks."""
    out = tmp_path / "settled"
    console = _run(_queue_file(tmp_path, 1.0), out, "en")
    table = pl.read_csv(out / "settling.csv")
    assert not table["trend"].any()
    assert table["years_tested"].min() == 5
    assert "Not settled" not in console and "MSER-5" not in console
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Not settled" not in html and "MSER-5" not in html
