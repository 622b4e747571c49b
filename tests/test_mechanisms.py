"""Each mechanism, switched alone, moves the metric it should, in the expected direction.

Each test runs the classic preset against a copy with one setting changed, on the same citizens
(common random numbers), and asserts on the paired difference's 95 % confidence interval. Removing
the mechanism from the pathway would make the interval straddle zero and the test fail.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sim.model.engine import SUPPORT, Staff
from sim.model.metrics import Interval
from sim.run.experiment import run_experiment

from .conftest import make_scenario

ROOMY = {
    "budget": {"annual_dkk": 25_000_000},
    "staffing": {"mode": "fixed", "authority_fte": 3.5, "provider_fte": 40},
}
"""Enough staff that queues are short, so a mechanism's own effect is not hidden by waiting."""


def paired(variant: dict[str, Any], metric: str, base: str = "classic", **kw: Any) -> Interval:
    """Paired difference variant - base of ``metric`` (variant = base with ``variant`` laid on)."""
    over = {"models": {"variant": {"extends": base, **variant}}, "compare": [base, "variant"]}
    over.update(kw.pop("over", {}))
    sc = make_scenario(over, **kw)
    res = run_experiment(sc, jobs=1)
    return res.differences()[("variant", base)][metric]


def test_removing_handoff_shortens_time_to_start() -> None:
    iv = paired({"handoff": {"enabled": False}}, "time_to_start_mean_weeks", over=ROOMY)
    assert iv.high < 0


def test_handoff_costs_documentation_hours() -> None:
    iv = paired({"handoff": {"enabled": False}}, "authority_documentation_hours_per_year")
    assert iv.high < 0


def test_committee_cadence_lengthens_time_to_decision() -> None:
    iv = paired({"decision": {"committee_cadence_weeks": 4}}, "time_to_decision_mean_weeks")
    assert iv.low > 0


def test_startup_meeting_uses_provider_meeting_hours() -> None:
    iv = paired({"startup_meeting": {"enabled": False}}, "provider_meetings_hours_per_year")
    assert iv.high < 0


def test_longer_review_cadence_lengthens_time_in_support() -> None:
    iv = paired({"review": {"cadence_weeks": 104}}, "support_mean_citizens", over=ROOMY)
    assert iv.low > 0


def test_narrower_assessment_error_lowers_over_provision() -> None:
    iv = paired({"accuracy": {"error_sd": 0.1}}, "over_provided_hours_per_year", over=ROOMY)
    assert iv.high < 0


def test_adjusting_hours_at_review_lowers_under_provision() -> None:
    iv = paired({"review": {"adjust_hours": 0.8}}, "under_provided_hours_per_year", over=ROOMY)
    assert iv.high < 0


def test_rework_costs_authority_casework() -> None:
    iv = paired({"rework": {"probability": 0.5}}, "authority_casework_hours_per_year")
    assert iv.low > 0
    iv = paired({"rework": {"probability": 0.5}}, "rework_per_year")
    assert iv.low > 0


def test_routing_sends_more_to_short_courses() -> None:
    iv = paired({"routing": {"short_course_share": 0.3}}, "short_course_per_year")
    assert iv.low > 0


def test_joint_first_contact_uses_provider_meeting_hours() -> None:
    iv = paired(
        {"first_contact": {"joint": True, "meeting": {"provider_hours": 2.0}}},
        "provider_meetings_hours_per_year",
    )
    assert iv.low > 0


def test_dropout_and_rereferral() -> None:
    iv = paired({}, "dropouts_per_year", over={"exits": {"dropout_per_year": 0.5}})
    assert iv.mean == 0  # same settings on both sides: no difference at all
    sc_hi = make_scenario({"exits": {"dropout_per_year": 0.6}}, replications=3)
    sc_lo = make_scenario({"exits": {"dropout_per_year": 0.0}}, replications=3)
    hi = run_experiment(sc_hi, models=["classic"]).values("classic", "dropouts_per_year")
    lo = run_experiment(sc_lo, models=["classic"]).values("classic", "dropouts_per_year")
    assert min(hi) > 0 and max(lo) == 0
    sc_re = make_scenario({"exits": {"rereferral_probability": 0.9}}, replications=3)
    re = run_experiment(sc_re, models=["classic"]).values("classic", "referred_per_year")
    base = run_experiment(make_scenario(replications=3), models=["classic"])
    assert min(re) > max(base.values("classic", "referred_per_year"))


def test_joint_preset_beats_classic_on_odder() -> None:
    """The headline claim under the Odder calibration: more citizens helped, shorter waits."""
    sc = make_scenario()
    diff = run_experiment(sc, jobs=1).differences()[("joint", "classic")]
    assert diff["helped_per_year"].low > 0
    assert diff["time_to_start_median_weeks"].high < 0


def test_same_citizens_in_every_model() -> None:
    """Common random numbers: without re-referrals, every model sees the same referrals."""
    sc = make_scenario({"exits": {"rereferral_probability": 0.0}}, replications=3)
    res = run_experiment(sc, jobs=1)
    assert res.values("classic", "referred_per_year") == res.values("joint", "referred_per_year")


def test_threshold_changes_outcomes_monotonically() -> None:
    """Per-citizen uniforms: raising the short-course share only ever adds short-course citizens."""
    counts = []
    for share in (0.0, 0.1, 0.2, 0.4):
        over = {
            "models": {"v": {"extends": "classic", "routing": {"short_course_share": share}}},
            "compare": ["v"],
            **ROOMY,
        }
        res = run_experiment(make_scenario(over, replications=3), jobs=1)
        counts.append(res.values("v", "short_course_per_year"))
    for lower, higher in itertools.pairwise(counts):
        assert all(h >= lo for h, lo in zip(higher, lower, strict=True))


# --------------------------------------------------------------------------- engine semantics


def _staff(authority: float, provider: float, queue: str = "fifo") -> Staff:
    from sim.model.clock import Clock

    return Staff(Clock(), authority, provider, queue)


def test_joint_booking_is_atomic_and_holds_nothing_while_waiting() -> None:
    """A joint meeting waiting for the provider holds no authority hours meanwhile."""
    staff = _staff(10, 10)
    env = staff.env
    blocker = ((staff.provider, 600, SUPPORT),)
    staff.occupy(blocker, 7.0)
    joint = ((staff.authority, 120, 1), (staff.provider, 120, 1))
    done = staff.occupy(joint, 7.0)
    env.run(until=3.0)
    assert staff.authority.free == staff.authority.capacity  # nothing held idle while waiting
    env.run(until=7.5)
    assert staff.authority.free == staff.authority.capacity - 120
    assert staff.provider.free == staff.provider.capacity - 120
    env.run(until=20)
    assert done.processed
    assert staff.authority.free == staff.authority.capacity


def test_intake_is_served_before_waiting_support() -> None:
    """When provider hours free up, waiting intake work gets them before a waiting support start."""
    staff = _staff(10, 10)
    env = staff.env
    staff.occupy(((staff.provider, 600, SUPPORT),), 7.0)
    support = staff.acquire_support(300)
    staff.occupy(((staff.provider, 400, 1),), 7.0)
    env.run(until=7.5)
    assert support is not None and not support.triggered
    assert staff.provider.rate[1] == 400
    env.run(until=15)
    assert support.triggered


@pytest.mark.parametrize(("queue", "small_starts"), [("fifo", False), ("first_fit", True)])
def test_support_queue_discipline(queue: str, small_starts: bool) -> None:
    """FIFO keeps a small award behind a large one that does not fit; first-fit lets it start."""
    staff = _staff(10, 10, queue)
    env = staff.env
    staff.occupy(((staff.provider, 300, SUPPORT),), 7.0)
    big = staff.acquire_support(500)
    small = staff.acquire_support(100)
    assert big is not None and small is not None
    staff.release_support(0)
    env.run(until=1.0)
    assert small.triggered is small_starts
    assert not big.triggered


def test_abandoning_the_waiting_list_shortens_it() -> None:
    """Citizens who give up waiting leave the list: the list is shorter, and each one who leaves
    is counted as abandoned (never dropped)."""
    iv = paired({}, "abandoned_per_year", over={"exits": {"abandon_waiting_per_year": 0.0}})
    assert iv.mean == 0
    hi = make_scenario({"exits": {"abandon_waiting_per_year": 2.0}}, replications=4)
    lo = make_scenario({"exits": {"abandon_waiting_per_year": 0.0}}, replications=4)
    res_hi = run_experiment(hi, models=["classic"])
    res_lo = run_experiment(lo, models=["classic"])
    assert min(res_hi.values("classic", "abandoned_per_year")) > 0
    assert max(res_lo.values("classic", "abandoned_per_year")) == 0
    q_hi = res_hi.values("classic", "support_queue_mean_citizens")
    q_lo = res_lo.values("classic", "support_queue_mean_citizens")
    assert all(h < lo for h, lo in zip(q_hi, q_lo, strict=True))


def test_support_may_start_beside_intake_waiting_for_the_authority() -> None:
    """A joint meeting waiting for a case worker keeps its provider hours free, but does not
    stop support starts that fit beside them (no idle provider next to a waiting list)."""
    staff = _staff(10, 10)  # 600 units each
    env = staff.env
    staff.occupy(((staff.authority, 600, 2),), 7.0)  # the authority is busy for a week
    joint = staff.occupy(((staff.authority, 100, 1), (staff.provider, 200, 1)), 7.0)
    small = staff.acquire_support(300)  # 600 - 300 >= 200 kept for the meeting: starts at once
    assert small is None
    big = staff.acquire_support(200)  # would leave 100 < 200: must wait
    assert big is not None and not big.triggered
    env.run(until=7.5)
    assert staff.provider.rate[1] == 200  # the meeting got its provider hours first
    assert not joint.processed  # still running
    env.run(until=15)
    assert joint.processed and big.triggered
