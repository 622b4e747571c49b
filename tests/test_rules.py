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

from sim.model.citizens import WEEKS_PER_YEAR
from sim.model.pathway import Simulation
from sim.model.scenario import Scenario, deep_merge

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
    eligible: float = 1.0,
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
                "eligible_probability": eligible,
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
    from sim.model.clock import Clock
    from sim.model.engine import Staff

    return Staff(Clock(), authority, provider, queue)  # type: ignore[arg-type]


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
    from sim.model.pathway import TIMESERIES_COLUMNS

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
    from sim.model.citizens import CitizenFactory
    from sim.model.scenario import MIN_NEED_HOURS_PER_WEEK, MIN_WEEKS_TO_GOAL, json_schema

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
    from sim.run.experiment import run_experiment

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
    years = horizon / WEEKS_PER_YEAR
    assert m["completed_per_year"] * years == pytest.approx(1 if after_wait else 2)
    # Start-up hours: 2.5 h meeting and 1.5 h plan each, either way (the plans plus the orders'
    # 0.5 h are the documentation). After the wait they come out of the place, which is held
    # from taking it: the first's place for 20 + s weeks, the second's until the horizon
    # (21 weeks): 4 h/week x (41 + s) weeks - 2 x 4 h. Before the wait: 2 x 20 weeks x 4 h.
    assert m["provider_meetings_hours_per_year"] * years == pytest.approx(5.0)
    assert m["provider_documentation_hours_per_year"] * years == pytest.approx(4.0)
    support = 4 * (41 + s) - 8 if after_wait else 160.0
    assert m["provider_support_hours_per_year"] * years == pytest.approx(support)


# --------------------------------------------------------------------------- item 9: review hours


@pytest.mark.parametrize(("mode", "reclassified"), [("free", 0.0), ("support", 2.0)])
@pytest.mark.parametrize("need", [4.0, 6.0])
def test_review_provider_hours_come_from_free_hours_or_from_support(
    tmp_path: Path, mode: str, reclassified: float, need: float
) -> None:
    """40 citizens, each supported for 55 weeks (review at 52: a 2-hour provider report, then
    the meeting and the authority's review, one week each; no start-up meeting). The places hold
    40 x need x 55 support hours. With `free` the reports' 2 hours each come on top, from the
    provider's free hours; with `support` they are taken out of the places' support hours. The
    provider's documentation hours are the order (0.5 h) and the report (2 h) either way."""
    model = {
        "extends": "classic",
        **FIXED_CLASSIC_INTAKE,
        "startup_meeting": {"enabled": False},
        "review": {"cadence_weeks": 52.0, "report": {"provider_hours": 2.0, "duration_weeks": 1}},
    }
    n = 40
    sc = fixed_scenario(
        tmp_path, model, referrals=n, need=need, over={"review_provider_hours": mode}
    )
    m = run_fixed(sc, tmp_path)
    years = 200.0 / WEEKS_PER_YEAR
    support = n * need * 55 - n * reclassified
    assert m["provider_support_hours_per_year"] * years == pytest.approx(support, rel=1e-9)
    assert m["provider_documentation_hours_per_year"] * years == pytest.approx(n * 2.5, rel=1e-9)


def test_review_hours_from_free_hours_cost_support_capacity() -> None:
    """Odder with 20 % more referrals (a long classic waiting list): booking the reviews'
    provider hours from the provider's free hours leaves fewer for support starts, so on the same
    citizens the waiting list is longer in every replication than when they are taken inside
    the citizens' support."""
    from sim.run.experiment import run_experiment

    from .conftest import make_scenario

    lists = {}
    for mode in ("free", "support"):
        sc = make_scenario(
            {"review_provider_hours": mode, "arrivals": {"rate_per_week": 3.6}}, replications=4
        )
        lists[mode] = run_experiment(sc, models=["classic"], jobs=1).values(
            "classic", "support_queue_mean_citizens"
        )
    assert all(f > s for f, s in zip(lists["free"], lists["support"], strict=True))


def test_reviews_from_free_hours_never_wait_for_ever(tmp_path: Path) -> None:
    """A provider with room for two 4-hour places and places that end only at a review needing
    2 provider hours a week: if support starts could fill the provider, every review would wait
    for hours that only a review can free. Support starts leave one review's hours free, so
    everyone finishes and the pool is back at its capacity."""
    model = {
        "extends": "classic",
        **FIXED_CLASSIC_INTAKE,
        "startup_meeting": {"enabled": False},
        "review": {"cadence_weeks": 13.0, "report": {"provider_hours": 2.0, "duration_weeks": 1}},
    }
    sc = fixed_scenario(
        tmp_path,
        model,
        referral_weeks=[0.0] * 6,
        horizon_weeks=40,
        over={"staffing": {"provider_fte": 8.5 / 27.75}},
    )
    d = Simulation(sc, "v", 0, sc.staffing_fte(), base_dir=tmp_path).run_until_empty()
    assert d["active"] == 0
    assert d["exited_total"]["completed"] == 6
    provider = d["pools"]["provider"]
    assert provider["free"] == provider["capacity"]


# --------------------------------------------------------------------------- item 10: priority


@pytest.mark.parametrize("waiting", [2, 5])
@pytest.mark.parametrize("first", [False, True])
def test_a_review_booking_waits_in_arrival_order_or_goes_first(waiting: int, first: bool) -> None:
    """The authority (600 units) is busy for a week; ``waiting`` intake bookings of a week each
    wait for all of it; then a review arrives. In arrival order it starts after all of them
    (day 7 x (waiting + 1)); served first, as soon as the authority frees up (day 7)."""
    staff = _staff(10, 10)
    env = staff.env
    staff.occupy(((staff.authority, 600, 2),), 7.0)
    intake = [staff.occupy(((staff.authority, 600, 2),), 7.0) for _ in range(waiting)]
    started: list[float] = []
    review = staff.occupy(
        ((staff.authority, 600, 2),), 7.0, on_start=lambda: started.append(env.now), first=first
    )
    env.run()
    assert started == [7.0 if first else 7.0 * (waiting + 1)]
    assert review.processed and all(ev.processed for ev in intake)


def test_reviews_first_shortens_review_waits_at_a_saturated_authority() -> None:
    """Odder classic with 1.2 authority FTE: intake backs up at the authority, and reviews wait
    behind it, so support runs on past the goals until its review happens. Served before new
    intake, reviews happen sooner: fewer weeks of support after the goals in every replication,
    and new intake waits longer for its decision."""
    from sim.run.experiment import run_experiment

    from .conftest import make_scenario

    out = {}
    for priority in ("arrival", "reviews_first"):
        staffing = {"mode": "fixed", "authority_fte": 1.2, "provider_fte": 28}
        sc = make_scenario({"review_priority": priority, "staffing": staffing}, replications=4)
        res = run_experiment(sc, models=["classic"], jobs=1)
        out[priority] = {
            k: res.values("classic", k)
            for k in ("post_goal_weeks_per_episode", "time_to_decision_median_weeks")
        }
    arrival, first = out["arrival"], out["reviews_first"]
    pairs = zip(
        first["post_goal_weeks_per_episode"], arrival["post_goal_weeks_per_episode"], strict=True
    )
    assert all(f < a - 0.3 for f, a in pairs)
    pairs = zip(
        first["time_to_decision_median_weeks"],
        arrival["time_to_decision_median_weeks"],
        strict=True,
    )
    assert all(f > a for f, a in pairs)


# --------------------------------------------------------------------------- stated in the output


@pytest.mark.parametrize(
    ("priority", "hours", "said"),
    [
        (
            "arrival",
            "free",
            "reviews in arrival order, provider's review hours from the provider's",
        ),
        ("reviews_first", "support", "reviews before new intake, provider's review hours inside"),
    ],
)
def test_review_rules_are_stated_in_console_manifest_and_report(
    tmp_path: Path, priority: str, hours: str, said: str
) -> None:
    import html
    import json

    from ruamel.yaml import YAML
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.present import i18n

    data = odder_data()
    data.update(review_priority=priority, review_provider_hours=hours)
    data["experiment"] = {"replications": 2, "horizon_weeks": 60, "warmup_weeks": 8}
    path = tmp_path / "s.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(data, fh)
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert said in " ".join(result.output.split())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["queue_discipline"]["reviews"] == priority
    assert manifest["queue_discipline"]["review_provider_hours"] == hours
    report = (out / "report.html").read_text(encoding="utf-8")
    for key in ("impl.queue_reviews", "impl.review_hours", f"value.{priority}", f"value.{hours}"):
        assert html.escape(i18n.t(key, "en")) in report


# --------------------------------------------------------------------------- independent checks


@pytest.mark.parametrize(
    ("cadence", "decision", "start"),
    [
        # Referred in weeks 3 and 4. Meeting 1 + assessment 1 + documentation 0.5, hearing 1.5:
        # both wait for the committee at week 7.0 and 8.0 -> its next meeting (every 2 weeks:
        # week 8; every 3: week 9); decision work 0.4 and delay 0.5 after it; order 0.4 and
        # transfer 1.0 later they are ready for the provider, nobody queues.
        (2.0, [8.9 - 3, 8.9 - 4], [10.3 - 3, 10.3 - 4]),
        (3.0, [9.9 - 3, 9.9 - 4], [11.3 - 3, 11.3 - 4]),
    ],
)
def test_waits_are_measured_from_the_referral(
    tmp_path: Path, cadence: float, decision: list[float], start: list[float]
) -> None:
    model = {
        "extends": "classic",
        **FIXED_CLASSIC_INTAKE,
        "first_contact": {"delay_weeks": 1.5},
        "decision": {"committee_cadence_weeks": cadence, "delay_weeks": 0.5},
        "handoff": {"transfer_delay_weeks": 1.0},
    }
    sc = fixed_scenario(tmp_path, model, referral_weeks=[3.0, 4.0], horizon_weeks=30)
    sim = Simulation(sc, "v", 0, sc.staffing_fte(), base_dir=tmp_path)
    m = sim.run().metrics
    assert sorted(sim.decision_waits) == pytest.approx(sorted(decision))
    assert sorted(sim.start_waits) == pytest.approx(sorted(start))
    assert m["time_to_decision_mean_weeks"] == pytest.approx(sum(decision) / 2)
    assert m["time_to_start_mean_weeks"] == pytest.approx(sum(start) / 2)


@pytest.mark.parametrize("base", ["classic", "joint"])
def test_nothing_done_during_the_warm_up_is_counted(tmp_path: Path, base: str) -> None:
    """Six referrals in the first weeks, each done within ~25 weeks (no reviews, 5 weeks to goal,
    short courses, rework, drop-outs and rejections all possible): with a 60-week warm-up every
    per-year figure is zero and every hour of staff time is idle; with no warm-up they are not."""
    model = {
        "extends": base,
        "review": {"cadence_weeks": 0.0},
        "routing": {"short_course_share": 0.3},
        "rework": {"probability": 0.5},
    }
    per_year: dict[float, dict[str, float]] = {}
    for warmup in (60.0, 0.0):
        sc = fixed_scenario(
            tmp_path,
            model,
            referral_weeks=[0, 0, 1, 2, 2, 3],
            weeks_to_goal=5.0,
            horizon_weeks=100,
            warmup_weeks=warmup,
            eligible=0.7,
            over={"exits": {"dropout_per_year": 2.0}},
        )
        m = run_fixed(sc, tmp_path)
        per_year[warmup] = {
            k: v
            for k, v in m.items()
            if (k.endswith("_per_year") or k.endswith("_per_episode"))
            and not k.endswith("_dkk_per_year")
            and "idle" not in k
        }
        for g in ("authority", "provider"):
            cap = sc.staff.authority if g == "authority" else sc.staff.provider
            weekly = cap.capacity_hours_per_week(sc.staffing_fte()[g == "provider"])
            if warmup:
                idle = m[f"{g}_idle_hours_per_year"]
                assert idle == pytest.approx(weekly * WEEKS_PER_YEAR, rel=1e-3)
    assert all(v == 0 or math.isnan(v) for v in per_year[60.0].values()), per_year[60.0]
    counted = {k for k, v in per_year[0.0].items() if v > 0}
    assert {
        "referred_per_year",
        "helped_per_year",
        "rejected_per_year",
        "rework_per_year",
    } <= counted
    assert {"completed_per_year", "provider_support_hours_per_year"} <= counted


def _moments(spec: dict[str, Any]) -> tuple[float, float]:
    """Mean and sd of a distribution from its parameters, by the textbook formulas."""
    kind = spec["kind"]
    if kind == "fixed":
        return spec["value"], 0.0
    if kind == "exponential":
        return spec["mean"], spec["mean"]
    if kind in ("lognormal", "gamma"):
        return spec["mean"], spec["sd"]
    if kind == "triangular":
        a, c, b = spec["low"], spec["mode"], spec["high"]
        return (a + b + c) / 3, math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
    if kind == "uniform":
        return (spec["low"] + spec["high"]) / 2, (spec["high"] - spec["low"]) / math.sqrt(12)
    values, weights = spec["values"], spec.get("weights") or [1.0] * len(spec["values"])
    total = sum(weights)
    mean = sum(v * w for v, w in zip(values, weights, strict=True)) / total
    var = sum(w * (v - mean) ** 2 for v, w in zip(values, weights, strict=True)) / total
    return mean, math.sqrt(var)


DISTRIBUTIONS = [
    {"kind": "fixed", "value": 2.5},
    *({"kind": "exponential", "mean": m} for m in (0.25, 1.0, 7.0)),
    *({"kind": "lognormal", "mean": m, "sd": s} for m, s in ((0.5, 0.2), (4.5, 2.0), (40, 30))),
    *({"kind": "gamma", "mean": m, "sd": s} for m, s in ((0.5, 0.7), (26, 12), (60, 5))),
    {"kind": "triangular", "low": 0.0, "mode": 1.0, "high": 3.0},
    {"kind": "triangular", "low": 10.0, "mode": 30.0, "high": 35.0},
    {"kind": "uniform", "low": 13.0, "high": 52.0},
    {"kind": "uniform", "low": 0.0, "high": 0.5},
    {"kind": "empirical", "values": [1, 2, 3]},
    {"kind": "empirical", "values": [0.5, 4, 12], "weights": [5, 3, 1]},
]


@pytest.mark.parametrize("spec", DISTRIBUTIONS, ids=lambda s: "-".join(map(str, s.values())))
def test_every_distribution_matches_its_parameters(spec: dict[str, Any]) -> None:
    """Sample mean and sd against the parameters (several means, so a mean read as a rate
    shows), within 5 standard errors; and ``mean()`` is the parameters' mean."""
    import numpy as np
    from pydantic import TypeAdapter

    from sim.model.distributions import Distribution

    dist = TypeAdapter(Distribution).validate_python(spec)
    mean, sd = _moments(spec)
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    n = 400_000
    x = dist.sample(np.random.default_rng(11), n)
    assert x.shape == (n,) and (x >= 0).all()
    assert abs(x.mean() - mean) < 5 * sd / math.sqrt(n) + 1e-12
    # The sd of the sample sd is about sd * sqrt((kurtosis - 1) / 4n); 3 % covers the skewed ones.
    assert x.std() == pytest.approx(sd, rel=0.03, abs=1e-12)


@pytest.mark.parametrize("queue", ["fifo", "first_fit"])
@pytest.mark.parametrize("support_units", [50, 100])
def test_support_start_booked_while_intake_waits_for_provider_hours(
    queue: str, support_units: int
) -> None:
    """Support holds 500 of the provider's 600 units for a week; a start-up meeting needing 200
    waits. A support start booked now would fit in the 100 free units, but intake comes first:
    it waits, and so does a rise in a running award; when the week ends the meeting starts at
    once and the support start only after it has its hours."""
    staff = _staff(10, 10, queue)
    env = staff.env
    staff.occupy(((staff.provider, 500, 0),), 7.0)
    meeting_started: list[float] = []
    staff.occupy(((staff.provider, 200, 1),), 7.0, on_start=lambda: meeting_started.append(env.now))
    ev = staff.acquire_support(support_units)
    assert ev is not None and not ev.triggered
    assert not staff.try_grow_support(10)
    assert staff.provider.free == 100
    env.run(until=7.0 + 1e-9)
    assert meeting_started == [7.0]
    assert ev.triggered and staff.provider.rate[1] == 200
    assert staff.provider.rate[0] == support_units
