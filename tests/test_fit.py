"""``sim fit``: the statistics recover known parameters from data drawn with numpy (with
censoring), the stated criteria decide both ways, and the written scenario validates, says where
each number comes from and round-trips."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import dump_resolved, load_scenario, load_scenario_text
from sim.run.fitting import (
    fit_duration,
    fit_mixture,
    need_sd_from_granted,
    poisson_rate,
    seasonality,
    share,
)
from tests.case_data import START, Truth, as_of, synthetic_cases, write_cases

# --------------------------------------------------------------------------- censored durations


def _censored(rng, draws: np.ndarray, cut_mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Right-censor ``draws`` at uniform follow-up times (about a third censored)."""
    follow = rng.uniform(0, cut_mean, len(draws))
    return np.minimum(draws, follow), draws <= follow


def _draw(rng, family: str, mean: float, sd: float, n: int) -> np.ndarray:
    if family == "gamma":
        return rng.gamma((mean / sd) ** 2, sd * sd / mean, n)
    s2 = math.log1p((sd / mean) ** 2)
    return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)


@pytest.mark.parametrize(
    ("family", "mean", "sd"),
    [
        ("gamma", 26.0, 12.0),
        ("gamma", 52.0, 20.0),
        ("gamma", 6.0, 6.0),
        ("lognormal", 8.0, 12.0),
        ("lognormal", 30.0, 45.0),
    ],
)
def test_censored_fit_recovers_known_parameters(family, mean, sd):
    rng = np.random.default_rng(int(mean * 100 + sd))
    values, ended = _censored(rng, _draw(rng, family, mean, sd, 1500), 2.5 * mean)
    assert 0.15 < 1 - ended.mean() < 0.6  # really censored
    fit = fit_duration(values, ended)
    assert fit.best.family == family
    assert fit.best.mean == pytest.approx(mean, rel=0.08)
    assert fit.best.sd == pytest.approx(sd, rel=0.15)
    assert fit.observed == ended.sum() and fit.censored == (~ended).sum()
    assert fit.best.ks_km < 0.05
    # Ignoring the open cases (dropping them) would not recover the mean: the censoring matters.
    naive = fit_duration(values[ended], np.ones(ended.sum(), bool))
    assert naive.best.mean < 0.9 * mean
    assert abs(fit.best.mean - mean) < abs(naive.best.mean - mean) / 2


def test_censored_fit_needs_ended_cases():
    with pytest.raises(ValueError, match="at least 3 ended"):
        fit_duration(np.array([1.0, 2.0, 3.0]), np.array([True, False, False]))


# --------------------------------------------------------------------------- need segments


def _mixture(rng, parts):
    return np.concatenate([_draw(rng, "lognormal", m, s, n) for n, m, s in parts])


@pytest.mark.parametrize(
    "parts",
    [
        [(400, 4.0, 1.5)],
        [(300, 2.0, 0.5), (200, 8.0, 2.0)],
        [(250, 1.5, 0.3), (200, 5.0, 1.0), (100, 15.0, 3.0)],
    ],
)
def test_bic_finds_the_number_of_segments(parts):
    rng = np.random.default_rng(len(parts))
    mixture = fit_mixture(_mixture(rng, parts))
    assert mixture.k == len(parts)
    assert min(mixture.bic, key=mixture.bic.get) == len(parts)
    total = sum(n for n, _, _ in parts)
    for (n, mean, sd), w, m, s in zip(
        parts, mixture.weights, mixture.means(), mixture.sds(), strict=True
    ):
        assert w == pytest.approx(n / total, abs=0.05)
        assert m == pytest.approx(mean, rel=0.1)
        assert s == pytest.approx(sd, rel=0.25)
    assert mixture.ks < 0.05


def test_a_tiny_component_is_not_a_segment():
    """Five outliers are not a segment of their own: every segment holds at least 10 cases."""
    rng = np.random.default_rng(5)
    hours = np.concatenate([_draw(rng, "lognormal", 3.0, 1.0, 300), [40.0, 41, 42, 43, 44]])
    mixture = fit_mixture(hours)
    assert all(w * len(hours) >= 10 for w in mixture.weights)


@pytest.mark.parametrize(("mean", "sd", "error"), [(3.0, 1.2, 0.35), (8.0, 4.0, 0.15)])
def test_need_sd_undoes_the_assessment_error(mean, sd, error):
    rng = np.random.default_rng(7)
    need = _draw(rng, "lognormal", mean, sd, 400_000)
    granted = need * (1 + rng.normal(0, error, need.size))
    got = need_sd_from_granted(granted.mean(), granted.std(), error)
    assert got == pytest.approx(sd, rel=0.02)


# --------------------------------------------------------------------------- referrals


def test_poisson_interval_matches_the_exact_table():
    """Garwood's exact 95 % interval for 10 events in one unit: 4.795-18.390 (standard tables)."""
    rate = poisson_rate(10, 1.0)
    assert (rate.per_week, round(rate.low, 3), round(rate.high, 2)) == (10.0, 4.795, 18.39)
    assert poisson_rate(10, 2.0).low == pytest.approx(4.795 / 2, abs=1e-3)


def test_share_interval_clopper_pearson():
    s = share(8, 10)  # tables: 0.444-0.975
    assert (s.value, round(s.low, 3), round(s.high, 3)) == (0.8, 0.444, 0.975)


def _dates(rng, monthly, years=3, per_week=4.0):
    days = np.sort(rng.uniform(0, 365 * years, rng.poisson(per_week * 52 * years * max(monthly))))
    out = []
    for d in days:
        date = START + dt.timedelta(days=float(d))
        if rng.uniform(0, max(monthly)) < monthly[date.month - 1]:
            out.append(date)
    return out, START + dt.timedelta(days=365 * years - 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_constant_rate_is_not_seasonal(seed):
    rng = np.random.default_rng(seed)
    dates, end = _dates(rng, [1.0] * 12)
    result = seasonality(dates, START, end)
    assert not result.seasonal and result.p_value >= 0.05
    assert result.df == 11


@pytest.mark.parametrize("july", [0.5, 0.7])
def test_a_holiday_dip_is_seasonal_and_its_factor_recovered(july):
    rng = np.random.default_rng(11)
    profile = [1.0] * 12
    profile[6] = july
    dates, end = _dates(rng, profile, years=4, per_week=8.0)
    result = seasonality(dates, START, end)
    assert result.seasonal and result.p_value < 0.05
    factors = np.array(result.factors)
    expected = np.array(profile) / np.mean(profile)  # about: months differ little in length
    assert factors[6] == pytest.approx(expected[6], abs=0.1)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert factors @ days / days.sum() == pytest.approx(1.0, abs=1e-9)


def test_less_than_a_year_is_not_tested():
    rng = np.random.default_rng(3)
    dates, _ = _dates(rng, [1.0] * 12, years=1)
    end = START + dt.timedelta(days=200)
    result = seasonality([d for d in dates if d <= end], START, end)
    assert not result.seasonal and result.p_value is None
    assert "fewer than 12 months" in result.reason


# --------------------------------------------------------------------------- sim fit end to end


def _fit(tmp_path, truth=None, seed=1, extra=()):
    truth = truth or Truth()
    rows = synthetic_cases(np.random.default_rng(seed), truth)
    cases = write_cases(tmp_path / "cases.csv", rows)
    out = tmp_path / "town" / "my-town.yaml"
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(cases),
            "--out",
            str(out),
            "--as-of",
            as_of(truth).isoformat(),
            "--no-calibrate",
            *extra,
        ],  # the closed-form fit; the calibration: test_fit_calibration
    )
    assert result.exit_code == 0, result.output
    return rows, out


def _mean_slowdown(segment, error_sd=0.35, floor=0.5, n=400_000):
    """E[1 / min(1, granted / need)] for a segment of the fitted scenario (Odder's classic
    error), by Monte Carlo over its own need distribution."""
    rng = np.random.default_rng(99)
    need = segment.need_hours_per_week.sample(rng, n)
    granted = np.maximum(floor, need * (1 + error_sd * rng.standard_normal(n)))
    return float(np.mean(np.maximum(1.0, need / granted)))


def test_fitted_scenario_validates_round_trips_and_recovers_the_truth(tmp_path):
    truth = Truth()
    _, out = _fit(tmp_path, truth)
    scenario = load_scenario(out)
    again = load_scenario_text(dump_resolved(scenario), "resolved.yaml", out.parent)
    assert again == scenario
    assert scenario.name == "cases"
    assert scenario.arrivals.rate_per_week == pytest.approx(truth.rate_per_week, rel=0.1)
    assert scenario.arrivals.monthly_factors is None
    assert scenario.segments[0].eligible_probability == pytest.approx(truth.granted, abs=0.05)
    shares = [s.share for s in scenario.segments]
    assert sum(shares) == pytest.approx(1.0, abs=1e-9)
    need = sum(s.share * s.need_hours_per_week.mean() for s in scenario.segments)
    true_need = sum(w * m for w, m, _ in truth.hours) / sum(w for w, _, _ in truth.hours)
    assert need == pytest.approx(true_need, rel=0.12)
    # The export's support lasts support_mean; the scenario's weeks to goal are that time with
    # the slower progress of under-granted citizens taken out (classic error_sd): times E[S]
    # (computed here independently, per segment) it is the time in support again.
    weeks = sum(s.share * s.weeks_to_goal.mean() * _mean_slowdown(s) for s in scenario.segments)
    assert weeks == pytest.approx(truth.support_mean, rel=0.12)
    classic = scenario.model("classic")
    from sim.app.fit import _steps

    decision = classic.first_contact.delay_weeks.mean() + _steps(load_scenario(_odder()))
    assert decision == pytest.approx(truth.decision_mean, rel=0.1)


def _odder() -> Path:
    return Path(__file__).parents[1] / "scenarios" / "odder.yaml"


def test_every_number_says_where_it_comes_from(tmp_path):
    _, out = _fit(tmp_path)
    text = out.read_text(encoding="utf-8")
    scenario = load_scenario(out)
    for key in ("rate_per_week:", "segments:", "initial_caseload:", "delay_weeks:"):
        before = text.split(key, 1)[0].rsplit("\n", 6)
        assert any("FITTED" in line for line in before), key
    assert "cases.csv" in text and "BIC" in text and "AIC" in text and "Kaplan-Meier" in text
    assert "G-test" in text and "Clopper-Pearson" in text
    for key in ("budget:", "staff:", "staffing:", "exits:", "goals:"):
        before = text.split(key, 1)[0].rsplit("\n", 3)
        assert any("ASSUMPTION" in line for line in before), key
    prov = scenario.provenance
    assert "arrivals.rate_per_week" in prov and prov["arrivals.rate_per_week"].source
    assert prov["budget.annual_dkk"].assumption.startswith("copied from odder.yaml")
    assert prov["staffing.provider_fte"].assumption
    for i in range(len(scenario.segments)):
        assert prov[f"segments.{i}.weeks_to_goal.mean"].source
    rate = prov["arrivals.rate_per_week"].uncertain
    assert rate.low < scenario.arrivals.rate_per_week < rate.high


def test_seasonal_data_give_monthly_factors(tmp_path):
    profile = (1.1, 1.1, 1.1, 1.0, 1.0, 1.0, 0.4, 1.0, 1.1, 1.1, 1.1, 1.0)
    truth = Truth(rate_per_week=6.0, monthly=profile)
    _, out = _fit(tmp_path, truth, seed=4)
    factors = load_scenario(out).arrivals.monthly_factors
    assert factors is not None
    assert factors[6] == pytest.approx(0.4 / np.mean(profile), abs=0.12)
    assert "month effect" in out.read_text(encoding="utf-8")


def test_caseload_on_the_start_date(tmp_path):
    """In support and waiting on --start, counted here from the rows themselves."""
    rows, out = _fit(tmp_path, extra=["--start", "01-07-2023", "--force"])
    day = dt.date(2023, 7, 1).isoformat()  # ISO strings compare as dates

    def open_on(r):
        return r["end_date"] == "" or r["end_date"] > day

    in_support = sum(1 for r in rows if r["start_date"] and r["start_date"] <= day and open_on(r))
    waiting = sum(
        1
        for r in rows
        if r["decision"] == "granted"
        and r["decision_date"] <= day
        and not (r["start_date"] and r["start_date"] <= day)
    )
    caseload = load_scenario(out).initial_caseload
    assert (caseload.in_support, caseload.waiting) == (in_support, waiting)
    assert in_support > 20


def test_bad_file_exit_2_every_problem_nothing_written(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sagsnr;henvisningsdato;timer\nA;31-02-2024;3\nB;2024-01-01;7,5 t\n", encoding="utf-8"
    )
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(app, ["fit", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{bad}:2:3: referral_date: no such date" in result.output
    assert f"{bad}:3:14: hours_per_week: expected hours a week as a number" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_existing_file_is_kept_without_force(tmp_path):
    rows = synthetic_cases(np.random.default_rng(1))
    cases = write_cases(tmp_path / "cases.csv", rows)
    out = tmp_path / "x.yaml"
    out.write_text("keep me\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["fit", str(cases), "--out", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_text(encoding="utf-8") == "keep me\n"
    result = CliRunner().invoke(app, ["fit", str(cases), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "x.yaml"]  # no temp left


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--as-of", "2024-13-01", "no such date"),
        ("--start", "soon", "expected a date"),
        ("--name", "my town", "expected letters, digits"),
    ],
)
def test_bad_dates_in_options(tmp_path, option, value, words):
    result = CliRunner().invoke(
        app, ["fit", "x.csv", "--out", str(tmp_path / "o.yaml"), option, value]
    )
    assert result.exit_code == 2 and option in result.output and words in result.output


def test_too_few_cases_are_refused_with_the_reason(tmp_path):
    out = tmp_path / "o.yaml"
    messy = Path(__file__).parent / "data" / "cases-messy.csv"
    result = CliRunner().invoke(app, ["fit", str(messy), "--out", str(out)])
    assert result.exit_code == 2 and "need segments need at least 10" in result.output
    assert not out.exists()


# ------------------------------------------------------------------------- support ends at reviews


def _reviewed(rng, mean, sd, cadence, lag, n=1500, dropout_per_week=0.002):
    """Episodes that end at the first review after the goals (lag + k x cadence), or earlier by
    a drop-out, observed up to a uniform follow-up."""
    goals = _draw(rng, "gamma", mean, sd, n)
    ends = lag + cadence * np.ceil(goals / cadence)
    dropout = rng.exponential(1 / dropout_per_week, n)
    length = np.minimum(ends, dropout)
    follow = rng.uniform(0, 4 * mean + 2 * cadence, n)
    return np.minimum(length, follow), length <= follow


@pytest.mark.parametrize(("mean", "sd", "cadence"), [(30.0, 15.0, 13.0), (40.0, 20.0, 26.0)])
def test_goals_recovered_when_support_ends_at_reviews(mean, sd, cadence):
    from sim.run.fitting import goal_data, review_timing

    rng = np.random.default_rng(int(mean + cadence))
    d, ended = _reviewed(rng, mean, sd, cadence, lag=4.0)
    timing = review_timing(d[ended], cadence)
    assert timing is not None and timing.lag == pytest.approx(4.0, abs=0.6)
    fit = fit_duration(*goal_data(d, ended, timing))
    assert fit.best.mean == pytest.approx(mean, rel=0.12)
    assert fit.best.sd == pytest.approx(sd, rel=0.3)
    # Taking the time in support for the weeks to the goals would overstate them.
    naive = fit_duration(d, ended)
    assert naive.best.mean > mean + cadence / 3


def test_ends_off_the_review_cadence_are_not_taken_for_reviews():
    from sim.run.fitting import review_timing

    rng = np.random.default_rng(2)
    assert review_timing(_draw(rng, "gamma", 30.0, 15.0, 800), 13.0) is None
    assert review_timing(_draw(rng, "gamma", 30.0, 15.0, 800), 0.0) is None


@pytest.mark.parametrize("per_year", [0.5, 2.0])
def test_give_up_rate_from_cases_closed_before_support(tmp_path, per_year):
    # Citizens give up only on the waiting list, which they join after Odder's handoff: by hand
    # the order (0.4 weeks), the transfer (triangular 0.5-1-3, mean 1.5) and, for the 10 %
    # reworked, a re-assessment (1 week) and the handoff again: 1.9 + 0.1 x 2.9 = 2.19 weeks.
    truth = Truth(abandon_per_year=per_year, wait_weeks=12.0, rate_per_week=5.0, handoff_weeks=2.19)
    _, out = _fit(tmp_path, truth, seed=9)
    scenario = load_scenario(out)
    assert scenario.exits.abandon_waiting_per_year == pytest.approx(per_year, rel=0.2)
    assert scenario.provenance["exits.abandon_waiting_per_year"].source
    assert scenario.exits.dropout_per_year == load_scenario(_odder()).exits.dropout_per_year


def test_without_cases_closed_before_support_the_give_up_rate_stays_assumed(tmp_path):
    _, out = _fit(tmp_path)
    scenario = load_scenario(out)
    odder = load_scenario(_odder())
    assert scenario.exits.abandon_waiting_per_year == odder.exits.abandon_waiting_per_year
    assert scenario.provenance["exits.abandon_waiting_per_year"].assumption


# --------------------------------------------------------------------------- c3-fitfix


def test_the_fitted_scenario_keeps_every_model_setting_of_the_base(tmp_path):
    """Odder's models (its classic and joint overrides, its own joint_meeting_only) come through
    whole; only the classic pure delay before the decision is fitted. Their provenance entries are
    kept, and a copied value Odder gives no entry for is marked an assumption."""
    _, out = _fit(tmp_path)
    fitted, base = load_scenario(out), load_scenario(_odder())
    assert set(fitted.models) == set(base.models) == {"classic", "joint", "joint_meeting_only"}
    for name in base.models:
        mine = fitted.model(name).model_dump(mode="json")
        theirs = base.model(name).model_dump(mode="json")
        if name == "classic":
            assert mine["first_contact"]["delay_weeks"] != theirs["first_contact"]["delay_weeks"]
            for d in (mine, theirs):
                d["first_contact"].pop("delay_weeks")
        assert mine == theirs, name
    for key in ("compare", "support_queue", "review_priority", "review_provider_hours"):
        assert getattr(fitted, key) == getattr(base, key)
    prov, theirs = fitted.provenance, base.provenance
    copied = [p for p in theirs if p.startswith("models.")]
    assert len(copied) >= 9
    for path in copied:
        assert theirs[path].assumption in prov[path].assumption, path
        assert prov[path].uncertain == theirs[path].uncertain
    plain = prov["models.classic.decision.work.authority_hours"]
    assert plain.assumption == "copied from odder.yaml; the case data cannot give it"
    assert prov["models.classic.first_contact.delay_weeks.mean"].source


def _closed(row: dict[str, str]) -> str:
    return row["end_date"] or (row["decision_date"] if row["decision"] == "refused" else "")


def test_an_active_cases_export_gives_the_rate_of_its_period(tmp_path):
    """An "active cases since S" export holds old long-open cases: counting referrals from the
    first of them understates the rate. The period starts where `sim check` starts it: the first
    day a case in the export closed (computed here from the rows)."""
    truth = Truth(rate_per_week=4.0, weeks=208.0, support_mean=60.0, support_sd=30.0)
    cut = (START + dt.timedelta(weeks=104)).isoformat()
    rows = [
        r
        for r in synthetic_cases(np.random.default_rng(21), truth)
        if r["referral_date"] >= cut or not _closed(r) or _closed(r) >= cut
    ]
    assert min(r["referral_date"] for r in rows) < (START + dt.timedelta(weeks=60)).isoformat()
    cases = write_cases(tmp_path / "cases.csv", rows)
    out = tmp_path / "active.yaml"
    args = ["fit", str(cases), "--out", str(out), "--as-of", as_of(truth).isoformat()]
    args.append("--no-calibrate")  # the rate is the point here
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first_close = dt.date.fromisoformat(min(_closed(r) for r in rows if _closed(r)))
    assert cut <= first_close.isoformat() < (START + dt.timedelta(weeks=106)).isoformat()
    assert f"({first_close:%d-%m-%Y} to" in out.read_text(encoding="utf-8")
    rate = load_scenario(out).arrivals.rate_per_week
    assert rate == pytest.approx(4.0, abs=3 * (4.0 / 104) ** 0.5)


@pytest.mark.parametrize(("rate", "p"), [(4.0, 0.4), (6.0, 0.25)])
def test_rereferrals_found_through_citizen_ids(tmp_path, rate, p):
    """The same citizen_id referred again after a case ended: the rate counts first referrals,
    and the share re-referred and its delay (uniform 13-52 weeks, mean 32.5) are fitted."""
    truth = Truth(rate_per_week=rate, rereferral=p, support_mean=20.0, support_sd=8.0)
    rows, out = _fit(tmp_path, truth, seed=int(rate))
    weeks = truth.weeks
    repeats = len(rows) - len({r["citizen_id"] for r in rows})
    assert (len(rows) - rate * weeks) > 4 * (rate * weeks) ** 0.5  # re-referrals really matter
    assert repeats > 20
    scenario = load_scenario(out)
    assert scenario.arrivals.rate_per_week == pytest.approx(rate, abs=3 * (rate / weeks) ** 0.5)
    assert scenario.exits.rereferral_probability == pytest.approx(p, abs=0.08)
    assert scenario.exits.rereferral_delay_weeks.mean() == pytest.approx(32.5, rel=0.1)
    prov = scenario.provenance
    assert prov["exits.rereferral_probability"].source
    low, high = (
        prov["exits.rereferral_probability"].uncertain.low,
        prov["exits.rereferral_probability"].uncertain.high,
    )
    assert low < p < high
    assert "first referrals only" in out.read_text(encoding="utf-8")


def test_without_citizen_ids_the_rate_includes_rereferrals_and_none_are_added(tmp_path):
    """No citizen referred twice: the export cannot tell re-referrals apart, so the rate is all
    referrals and the scenario adds none (the base's 0.15 would count them twice)."""
    rows, out = _fit(tmp_path)
    assert "citizen_id" not in rows[0]
    scenario = load_scenario(out)
    assert load_scenario(_odder()).exits.rereferral_probability > 0
    assert scenario.exits.rereferral_probability == 0
    assert "count them twice" in scenario.provenance["exits.rereferral_probability"].assumption
    assert "includes any re-referrals" in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- c4-roundtrip


def test_a_drop_out_before_the_first_review_says_nothing_about_the_goals():
    """Support ends only at reviews: a drop-out at 30 weeks (cadence 52) may have reached its
    goals at week 10, so it is no right-censored value at 30 - lag; one at 70 had not reached
    them by the review at 52."""
    from sim.run.fitting import ReviewTiming, goal_data

    timing = ReviewTiming(cadence=52.0, lag=2.0, at_review=2, ended=4)
    d = np.array([54.0, 106.0, 30.0, 70.0, 60.0])
    ended = np.array([True, True, True, True, False])
    values, exact, box = goal_data(d, ended, timing)
    assert box.tolist() == [[0.0, 52.0], [52.0, 104.0]]
    assert sorted(values.tolist()) == [52.0, 52.0]  # the drop-out at 70 and the open case
    assert not exact.any()


@pytest.mark.parametrize("error_sd", [0.0, 0.1, 0.2])
def test_slowdown_moments_match_a_quadrature(error_sd):
    """With a floor that never binds (1 + error_sd z > 0 but for z < -5), S = 1 / min(1, 1 +
    error_sd z): E[S] and E[S^2] by quadrature over z, independently of the need."""
    from scipy import integrate, stats

    from sim.run.fitting import slowdown_moments

    def moment(k):
        below = integrate.quad(lambda z: stats.norm.pdf(z) / (1 + error_sd * z) ** k, -4.5, 0)
        return below[0] + 0.5

    m1, m2 = slowdown_moments(error_sd, 1e-6, 5.0, 1.0, np.random.default_rng(5))
    assert m1 == pytest.approx(moment(1), rel=0.01)
    assert m2 == pytest.approx(moment(2), rel=0.02)


@pytest.mark.parametrize(("mean", "sd"), [(30.0, 12.0), (50.0, 20.0)])
def test_removing_the_slowdown_recovers_the_weeks_to_goal(mean, sd):
    from sim.run.fitting import remove_slowdown, slowdown_moments

    rng = np.random.default_rng(8)
    n = 400_000
    k = (mean / sd) ** 2
    w = rng.gamma(k, mean / k, n)
    need = rng.lognormal(1.5, 0.4, n)
    granted = np.maximum(0.5, need * (1 + 0.35 * rng.standard_normal(n)))
    t = w / np.minimum(1.0, granted / need)  # what an export shows
    need_mean, need_sd = float(need.mean()), float(need.std())
    m = slowdown_moments(0.35, 0.5, need_mean, need_sd, np.random.default_rng(9))
    got_mean, got_sd = remove_slowdown(float(t.mean()), float(t.std()), *m)
    assert got_mean == pytest.approx(mean, rel=0.02)
    assert got_sd == pytest.approx(sd, rel=0.08)


# --------------------------------------------------------------------------- f2-giveup


def test_give_up_exposure_by_hand_counts_only_the_waiting_list_in_the_period(tmp_path):
    """Worked by hand, period 01-01-2024 to 31-12-2024, Odder's handoff 2.19 weeks = 15.33 days
    (order 0.4 + transfer 1.5 + 0.1 x (re-assessment 1.0 + 1.9)) before the waiting list:

    A decided 01-07-2023, still waiting: on the list from 01-01-2024 to 31-12-2024, 365 days.
    B decided 01-03-2024, gave up 01-05-2024: 61 - 15.33 = 45.67 days, one give-up.
    C decided 01-06-2024, started 11-06-2024 (10 days, within the handoff): 0 days.
    D decided 25-12-2023, started 01-02-2024: on the list from 25-12-2023 + 15.33 days
      (09-01-2024 08:00) to 01-02-2024: 22.67 days.
    E gave up 01-10-2023, before the period: neither a give-up nor exposure of the period.
    R refused: not on the list.
    One give-up in 433.33 days. Counting from the decisions and before the period (the old fit)
    gives 2 in 811 days."""
    from sim.app.fit import _abandon
    from sim.config.cases import read_cases

    rows = [
        "A;01-06-2023;01-07-2023;granted;;",
        "B;01-02-2024;01-03-2024;granted;;01-05-2024",
        "C;01-05-2024;01-06-2024;granted;11-06-2024;",
        "D;01-12-2023;25-12-2023;granted;01-02-2024;",
        "E;01-04-2023;01-05-2023;granted;;01-10-2023",
        "R;01-02-2024;15-02-2024;refused;;15-02-2024",
    ]
    path = tmp_path / "cases.csv"
    head = "case_id;referral_date;decision_date;decision;start_date;end_date\n"
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    cases = read_cases(path, dt.date(2024, 12, 31))
    rate, _, handoff = _abandon(cases, dt.date(2024, 1, 1), load_scenario(_odder()))
    assert handoff == pytest.approx(2.19)
    assert rate is not None and rate.count == 1
    assert rate.weeks == pytest.approx((365 + (61 - 15.33) + 0 + (38 - 15.33)) / 365.25)
    assert rate.per_week == pytest.approx(365.25 / 433.33, rel=1e-3)  # per year, as named


@pytest.mark.parametrize("granted", [0.7, 0.9])
def test_share_granted_counts_decisions_in_the_period_only(tmp_path, granted):
    """An "active cases" export holds a case decided before the period only if it was still open
    then, which a refused case never is: those earlier decisions are nearly all grants. The share
    granted is counted over the decisions made in the period, so it recovers the truth; counting
    every decided row in the file overstates it."""
    truth = Truth(granted=granted, rate_per_week=4.0, support_mean=80.0, support_sd=30.0)
    rows = synthetic_cases(np.random.default_rng(5), truth)
    start = START + dt.timedelta(days=364)
    active = [r for r in rows if _open_on(r, start)]
    cases = write_cases(tmp_path / "cases.csv", active)
    out = tmp_path / "t.yaml"
    args = ["fit", str(cases), "--out", str(out), "--as-of", as_of(truth).isoformat()]
    result = CliRunner().invoke(app, [*args, "--start", start.isoformat(), "--no-calibrate"])
    assert result.exit_code == 0, result.output
    fitted = load_scenario(out).segments[0].eligible_probability
    decided = [r for r in active if r["decision"] and _on_or_after(r["decision_date"], start)]
    by_hand = sum(r["decision"] == "granted" for r in decided) / len(decided)
    assert fitted == pytest.approx(by_hand, abs=0.001)
    assert fitted == pytest.approx(granted, abs=0.04)
    everything = [r for r in active if r["decision"]]
    assert sum(r["decision"] == "granted" for r in everything) / len(everything) > fitted + 0.02


def _on_or_after(iso: str, day: dt.date) -> bool:
    return dt.date.fromisoformat(iso) >= day


def _open_on(row: dict[str, str], day: dt.date) -> bool:
    """Whether a case is in an "active cases" export from ``day``: not closed before it (a
    refusal closes the case on its decision)."""
    closed = row["end_date"] or (row["decision_date"] if row["decision"] == "refused" else "")
    return not closed or dt.date.fromisoformat(closed) >= day
