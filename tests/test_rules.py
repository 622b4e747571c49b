"""Model rules and metrics checked against hand-computed cases (issue 9).

Each case fixes every random quantity that matters (need, weeks to goal, review cadence and
durations, referral dates read from a CSV file), so the expected figure follows from the inputs by
arithmetic, independently of the engine's counters.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest

from sim.citizens import WEEKS_PER_YEAR
from sim.pathway import Simulation
from sim.scenario import Scenario, deep_merge

from .conftest import odder_data

EMPTY = {"authority_hours": 0.0, "provider_hours": 0.0}


def fixed_scenario(
    tmp_path: Path,
    model: dict[str, Any],
    *,
    referrals: int = 40,
    need: float = 4.0,
    weeks_to_goal: float = 20.0,
    horizon_weeks: float = 200.0,
    warmup_weeks: float = 0.0,
    over: dict[str, Any] | None = None,
    referral_weeks: list[float] | None = None,
) -> Scenario:
    """Odder's staff with one segment of fixed need and weeks to goal, every referral eligible,
    no drop-out, re-referral or initial caseload, and one referral a week (or one at each of
    ``referral_weeks``) read from a CSV file."""
    start = dt.date(2024, 1, 1)
    weeks = referral_weeks if referral_weeks is not None else range(referrals)
    lines = ["date", *((start + dt.timedelta(weeks=w)).isoformat() for w in weeks)]
    (tmp_path / "referrals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = odder_data()
    data.update(
        budget={"annual_dkk": 25_000_000},
        staffing={"mode": "fixed", "authority_fte": 3.5, "provider_fte": 40},
        arrivals={"kind": "csv", "path": "referrals.csv"},
        segments=[
            {
                "name": "only",
                "share": 1.0,
                "need_hours_per_week": need,
                "weeks_to_goal": weeks_to_goal,
                "eligible_probability": 1.0,
            }
        ],
        initial_caseload={"in_support": 0, "waiting": 0},
        exits={"dropout_per_year": 0.0, "rereferral_probability": 0.0},
        models={"v": model},
        compare=["v"],
        experiment={
            "seed": 3,
            "replications": 2,
            "horizon_weeks": horizon_weeks,
            "warmup_weeks": warmup_weeks,
        },
    )
    if over:
        data = deep_merge(data, over)
    return Scenario.model_validate(data, context={"base_dir": str(tmp_path)})


def run_fixed(sc: Scenario, tmp_path: Path, replication: int = 0) -> dict[str, float]:
    return Simulation(sc, "v", replication, sc.staffing_fte(), base_dir=tmp_path).run().metrics


def _reviews(cadence: float, joint: bool, adjust: float = 0.0) -> dict[str, Any]:
    """Reviews that take time (one week a step) but no hours, so no review ever queues."""
    step = {**EMPTY, "duration_weeks": 1.0}
    return {
        "cadence_weeks": cadence,
        "joint": joint,
        "meeting": step,
        "casework": step,
        "report": step,
        "adjust_hours": adjust,
    }


# --------------------------------------------------------------------------- post-goal support


@pytest.mark.parametrize(
    ("base", "cadence", "joint", "need", "weeks_to_goal", "post_weeks"),
    [
        # Classic reviews: three one-week steps. The goals are reached after 20 weeks; the review
        # at week 52 finds them and ends support when its steps end: 52 - 20 + 3 = 35 weeks.
        ("classic", 52.0, False, 4.0, 20.0, 35.0),
        # Joint reviews: two one-week steps every 13 weeks. Goals at 30 weeks; the reviews at 13
        # and 26 find them not reached, the one at 39 does: 39 + 2 - 30 = 11 weeks.
        ("joint", 13.0, True, 6.0, 30.0, 11.0),
    ],
)
@pytest.mark.parametrize("replication", [0, 1])
def test_post_goal_support_matches_hand_computed_case(
    tmp_path: Path,
    base: str,
    cadence: float,
    joint: bool,
    need: float,
    weeks_to_goal: float,
    post_weeks: float,
    replication: int,
) -> None:
    model = {
        "extends": base,
        "accuracy": {"error_sd": 0.0},  # granted = need: progress at full rate
        "routing": {"short_course_share": 0.0},
        "review": _reviews(cadence, joint, adjust=0.5 if joint else 0.0),
    }
    n, horizon = 40, 200.0
    sc = fixed_scenario(
        tmp_path, model, referrals=n, need=need, weeks_to_goal=weeks_to_goal, horizon_weeks=horizon
    )
    m = run_fixed(sc, tmp_path, replication)
    years = horizon / WEEKS_PER_YEAR
    # Every citizen starts § 85 support and completes inside the window.
    assert m["s85_starts_per_year"] * years == pytest.approx(n)
    assert m["completed_per_year"] * years == pytest.approx(n)
    assert m["post_goal_weeks_per_episode"] == pytest.approx(post_weeks, abs=1e-9)
    assert m["post_goal_hours_per_year"] * years == pytest.approx(n * need * post_weeks, rel=1e-9)


def test_short_courses_are_not_section_85_episodes(tmp_path: Path) -> None:
    """All citizens on a short course: no § 85 starts, no post-goal support, no episodes."""
    model = {"extends": "classic", "routing": {"short_course_share": 1.0}}
    sc = fixed_scenario(tmp_path, model, referrals=30)
    m = run_fixed(sc, tmp_path)
    years = 200.0 / WEEKS_PER_YEAR
    assert m["s85_starts_per_year"] == 0
    assert m["short_course_per_year"] * years == pytest.approx(30)
    assert m["helped_per_year"] * years == pytest.approx(30)
    assert m["post_goal_hours_per_year"] == 0
    assert math.isnan(m["post_goal_weeks_per_episode"])


def test_no_reviews_means_no_post_goal_support(tmp_path: Path) -> None:
    """Without reviews support ends exactly at the goals: zero weeks per completed episode."""
    model = {
        "extends": "classic",
        "routing": {"short_course_share": 0.0},
        "review": {"cadence_weeks": 0},
    }
    sc = fixed_scenario(tmp_path, model, referrals=20)
    m = run_fixed(sc, tmp_path)
    assert m["s85_starts_per_year"] * 200.0 / WEEKS_PER_YEAR == pytest.approx(20)
    assert m["post_goal_weeks_per_episode"] == 0
    assert m["post_goal_hours_per_year"] == 0


def test_post_goal_hours_count_only_inside_the_window(tmp_path: Path) -> None:
    """Fixed intake (joint preset, no queue): citizen i (referred in week i) starts support at
    i + 3.7 weeks (meeting 1.5 + assessment 1 + documentation 0.5 + delay 0.5 + decision 0.2),
    reaches the goals 20 weeks later and leaves at the review 26 weeks after the start, when its
    two one-week steps end (start + 28). Only post-goal hours between the warm-up (week 26) and
    the horizon (week 60) count, including those of episodes still running at the horizon."""
    need, warmup, horizon = 5.0, 26.0, 60.0
    model = {
        "extends": "joint",
        "first_contact": {"coordination_weeks": 0.0},
        "accuracy": {"error_sd": 0.0},
        "routing": {"short_course_share": 0.0},
        "rework": {"probability": 0.0},
        "review": _reviews(13.0, True, adjust=0.5),
    }
    sc = fixed_scenario(tmp_path, model, need=need, horizon_weeks=horizon, warmup_weeks=warmup)
    m = run_fixed(sc, tmp_path)
    years = (horizon - warmup) / WEEKS_PER_YEAR
    hours = episodes = starts = 0.0
    for i in range(40):
        start = i + 3.7
        goal, end = start + 20, start + 28
        hours += need * max(0.0, min(end, horizon) - max(goal, warmup))
        episodes += warmup <= end <= horizon
        starts += warmup <= start <= horizon
    assert m["s85_starts_per_year"] * years == pytest.approx(starts)
    assert m["completed_per_year"] * years == pytest.approx(episodes)
    assert m["post_goal_hours_per_year"] * years == pytest.approx(hours, rel=1e-9)
    assert m["post_goal_weeks_per_episode"] == pytest.approx(8.0, abs=1e-9)


@pytest.mark.parametrize(
    ("weeks_to_goal", "hours_after_goal"), [(14.0, 6 * 1 + 4 * 13), (20.0, 4 * 8)]
)
def test_post_goal_hours_follow_hours_adjusted_at_review(
    tmp_path: Path, weeks_to_goal: float, hours_after_goal: float
) -> None:
    """Granted 6 h/week (the smallest award) for a need of 2: progress runs at full rate, and the
    review at week 13 (steps end at 15) halves the gap to the need: 4 h/week from then on. The
    review at week 26 ends support at 28. Goals at week 14 are reached inside the first review:
    1 week at 6 h, then 13 weeks at 4 h; goals at week 20: 8 weeks at 4 h."""
    model = {
        "extends": "joint",
        "accuracy": {"error_sd": 0.0, "min_granted_hours_per_week": 6.0},
        "routing": {"short_course_share": 0.0},
        "review": _reviews(13.0, True, adjust=0.5),
    }
    n = 30
    sc = fixed_scenario(tmp_path, model, referrals=n, need=2.0, weeks_to_goal=weeks_to_goal)
    m = run_fixed(sc, tmp_path)
    years = 200.0 / WEEKS_PER_YEAR
    assert m["post_goal_hours_per_year"] * years == pytest.approx(n * hours_after_goal, rel=1e-9)
    assert m["post_goal_weeks_per_episode"] == pytest.approx(28 - weeks_to_goal, abs=1e-9)


# --------------------------------------------------------------------------- item 3: one reserve


def _staff(authority: float, provider: float, queue: str = "fifo") -> Any:
    import simpy

    from sim.engine import Staff

    return Staff(simpy.Environment(), authority, provider, queue)  # type: ignore[arg-type]


@pytest.mark.parametrize("blocked", [2, 20])
def test_provider_keeps_back_one_booking_not_the_backlog(blocked: int) -> None:
    """Many joint meetings wait for a case worker (the authority is full for a week), each needing
    100 provider units. Support starts may use all the provider's free units but those of the
    next waiting meeting: with 600 units, five starts of 100 fit and exactly 100 stay free."""
    staff = _staff(10, 10)  # 600 units each
    env = staff.env
    staff.occupy(((staff.authority, 600, 2),), 7.0)
    meetings = [
        staff.occupy(((staff.authority, 100, 1), (staff.provider, 100, 1)), 7.0)
        for _ in range(blocked)
    ]
    starts = [staff.acquire_support(100) for _ in range(6)]
    started = sum(ev is None for ev in starts)
    assert started == 5
    assert staff.provider.free == 100  # idle beside the list: one meeting's share, no more
    assert starts[5] is not None and not starts[5].triggered
    env.run(until=7.5)  # the authority frees up: the first meeting takes the kept units
    assert staff.provider.rate[1] == 100 and staff.authority.rate[1] == 100
    assert staff.provider.free == 0  # the others now wait for the provider
    env.run(until=7.0 * blocked + 14)  # one meeting a week on the provider's 100 free units
    assert all(m.processed for m in meetings)
    assert starts[5].triggered  # and once no meeting waits, the waiting support start begins


def test_a_saturated_authority_does_not_idle_the_provider_beside_a_waiting_list() -> None:
    """12 M DKK, authority share 0.1, 6 referrals a week, classic: the authority's backlog grows
    for years (hundreds of handoff orders waiting, each needing provider hours). In the weeks the
    support waiting list is long, the provider's idle hours (capacity minus every held hour, from
    the weekly series) stay below two mean awards a week; keeping hours back for the whole backlog
    idled ~80 hours a week."""
    from sim.pathway import TIMESERIES_COLUMNS

    from .conftest import make_scenario

    sc = make_scenario(
        {
            "budget": {"annual_dkk": 12_000_000},
            "staffing": {"mode": "share", "authority_share": 0.1},
            "arrivals": {"rate_per_week": 6.0},
        },
        horizon_weeks=520,
    )
    res = Simulation(sc, "classic", 0, sc.staffing_fte()).run()
    ts = res.timeseries
    waiting = ts[:, TIMESERIES_COLUMNS.index("support_queue_citizens")]
    intake = ts[:, TIMESERIES_COLUMNS.index("intake_citizens")]
    idle = ts[:, TIMESERIES_COLUMNS.index("provider_idle_hours")]
    long_list = (waiting[1:] > 20) & (waiting[:-1] > 20)  # long at both ends of the week
    assert long_list.sum() > 100 and intake[-1] > 200  # the case the rule is about
    mean_award = sum(s.share * s.need_hours_per_week.mean() for s in sc.segments)
    assert idle[:-1][long_list].mean() < 2 * mean_award


# --------------------------------------------------------------------------- item 6: floors


def test_floors_on_drawn_values_are_documented_and_applied(tmp_path: Path) -> None:
    """A need or weeks to goal of 0 cannot run (progress = granted / need); the documented floors
    apply to draws below them and to nothing above."""
    from sim.citizens import CitizenFactory
    from sim.scenario import MIN_NEED_HOURS_PER_WEEK, MIN_WEEKS_TO_GOAL, json_schema

    props = json_schema()["$defs"]["Segment"]["properties"]
    assert f"{MIN_NEED_HOURS_PER_WEEK:g}" in props["need_hours_per_week"]["description"]
    assert f"{MIN_WEEKS_TO_GOAL:g}" in props["weeks_to_goal"]["description"]
    assert "at least 1" in props["goals"]["description"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"below {MIN_NEED_HOURS_PER_WEEK:g} hours/week" in readme
    for need, weeks, want_need, want_weeks in [
        (0.0, 0.0, MIN_NEED_HOURS_PER_WEEK, MIN_WEEKS_TO_GOAL),
        ({"kind": "uniform", "low": 0.0, "high": 0.04}, 0.005, MIN_NEED_HOURS_PER_WEEK, 0.01),
        (0.2, 3.0, 0.2, 3.0),
    ]:
        sc = fixed_scenario(tmp_path, {"extends": "classic"}, need=need, weeks_to_goal=weeks)
        factory = CitizenFactory(sc, 1, (0,), "arrivals")
        citizens = [factory.make(i, 0.0) for i in range(200)]
        assert {c.need for c in citizens} == {want_need}
        assert {c.weeks_to_goal for c in citizens} == {want_weeks}
        m = run_fixed(sc, tmp_path)  # runs to the end: no division by a zero need
        assert m["completed_per_year"] > 0


# --------------------------------------------------------------------------- item 7: coordination


@pytest.mark.parametrize(
    ("coordination", "median", "p90"),
    [
        # The joint preset's default, triangular(0, 1, 3): median 3 - sqrt(3), p90 3 - sqrt(0.6).
        (None, 3 - math.sqrt(3.0), 3 - math.sqrt(0.6)),
        ({"kind": "uniform", "low": 1.0, "high": 5.0}, 3.0, 4.6),
    ],
)
def test_joint_waits_have_the_spread_of_coordinating_a_meeting(
    coordination: dict[str, Any] | None, median: float, p90: float
) -> None:
    """With roomy staff nothing queues, so the time to decision is the joint intake's fixed 3.7
    weeks plus the coordination delay: its median and 90th percentile are the distribution's."""
    from sim.experiment import run_experiment

    from .conftest import make_scenario
    from .test_mechanisms import ROOMY

    fc = {} if coordination is None else {"first_contact": {"coordination_weeks": coordination}}
    sc = make_scenario(
        {"models": {"v": {"extends": "joint", **fc}}, "compare": ["v"], **ROOMY}, replications=3
    )
    res = run_experiment(sc, jobs=1)
    for r in res.replications:
        m = r.metrics
        assert m["time_to_decision_p90_weeks"] > m["time_to_decision_median_weeks"] + 0.5
        assert m["time_to_decision_median_weeks"] == pytest.approx(3.7 + median, abs=0.15)
        assert m["time_to_decision_p90_weeks"] == pytest.approx(3.7 + p90, abs=0.15)


# --------------------------------------------------------------------------- item 8: start-up order

FIXED_CLASSIC_INTAKE: dict[str, Any] = {
    "first_contact": {"delay_weeks": 0.0},
    "decision": {"committee_cadence_weeks": 0.0, "delay_weeks": 0.0},
    "handoff": {"transfer_delay_weeks": 0.0},
    "rework": {"probability": 0.0},
    "accuracy": {"error_sd": 0.0},
    "routing": {"short_course_share": 0.0},
}
"""Classic with every delay fixed: meeting 1 + assessment 1 + documentation 0.5 + decision 0.4
weeks = 2.9 weeks to decision; the order 0.4 weeks more: ready for the provider at 3.3 weeks."""


@pytest.mark.parametrize(("meeting_weeks", "plan_weeks"), [(1.0, 1.0), (2.0, 0.5)])
@pytest.mark.parametrize("after_wait", [True, False])
def test_startup_meeting_order_with_known_delays(
    tmp_path: Path, meeting_weeks: float, plan_weeks: float, after_wait: bool
) -> None:
    """Two citizens referred the same day, 4 h/week each, 20 weeks to goal, no reviews; the
    provider (7.9 h/week) fits one place beside the start-up work but not two places.

    Start-up after the wait: the first takes its place when ready (3.3 weeks), holds its start-up
    (s weeks) in it and is supported from 3.3 + s to 23.3 + s; the second takes the place then.
    Start-up before the wait: both hold their start-up first; the first takes its place at 3.3 + s,
    the second when it ends (23.3 + s) and is supported until 43.3 + s."""
    s = meeting_weeks + plan_weeks
    model = {
        "extends": "classic",
        **FIXED_CLASSIC_INTAKE,
        "startup_meeting": {
            "after_wait": after_wait,
            "meeting": {"provider_hours": 2.5, "duration_weeks": meeting_weeks},
            "plan": {"provider_hours": 1.5, "duration_weeks": plan_weeks},
        },
        "review": {"cadence_weeks": 0.0},
    }
    horizon = 43.3 + s + 1.0  # the second finishes only when its start-up came before the wait
    sc = fixed_scenario(
        tmp_path,
        model,
        referral_weeks=[0.0, 0.0],
        need=4.0,
        weeks_to_goal=20.0,
        horizon_weeks=horizon,
        over={"staffing": {"provider_fte": 7.9 / 27.75}},
    )
    sim = Simulation(sc, "v", 0, sc.staffing_fte(), base_dir=tmp_path)
    m = sim.run().metrics
    assert sorted(sim.decision_waits) == pytest.approx([2.9, 2.9])
    first = 3.3 if after_wait else 3.3 + s
    assert sorted(sim.start_waits) == pytest.approx([first, 23.3 + s])
    assert m["completed_per_year"] * horizon / WEEKS_PER_YEAR == pytest.approx(
        1 if after_wait else 2
    )
