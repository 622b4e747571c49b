"""The citizen's pathway through one visitation model (docs/model.md §5-6), on the staff pools.

One parameterised pathway serves every model: first contact (the authority's assessment alone, or
the joint meeting), decision (possibly at a committee's next meeting), handoff, the provider's
start-up meeting, rework, routing to a short course, support with reviews, and exit. A mechanism
switched off costs nothing and takes no simulated time.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

import numpy as np

from sim.model import eventlog
from sim.model.citizens import (
    DAYS_PER_WEEK,
    WEEKS_PER_YEAR,
    Citizen,
    CitizenFactory,
    as_rows,
    referral_times,
)
from sim.model.clock import Clock, Event, Timeout
from sim.model.distributions import Fixed
from sim.model.engine import (
    CASEWORK,
    CATEGORIES,
    DOCUMENTATION,
    MEETING,
    SUPPORT,
    Flow,
    Part,
    Pool,
    Staff,
    to_units,
)
from sim.model.metrics import STAGES, Level, StageBook, unspent_dkk, wait_summary
from sim.model.scenario import Activity, Scenario, VisitationModel
from sim.model.streams import Buffered, generator

Process = Generator[Event, Any, None]
INTAKE: Final = STAGES.index("intake")
HANDOFF: Final = STAGES.index("handoff")
SUPPORT_QUEUE: Final = STAGES.index("support_queue")
IN_SUPPORT: Final = STAGES.index("support")
GAVE_UP: Final = object()
"""The value a support start's event carries when the citizen gave up waiting instead."""
INITIAL_POOL: Final = 50
"""Candidates drawn per citizen of the initial caseload in support, to pick them length-biased
(``Simulation._in_support_at_start``)."""

EXIT_REASONS = ("completed", "dropout", "abandoned", "rejected")


@dataclass(frozen=True, slots=True)
class Step:
    """An activity ready to book: its name, the pool parts it holds and its duration in days."""

    name: str
    parts: tuple[Part, ...]
    days: float
    provider_units: int = 0
    provider_category: int = MEETING


@dataclass(frozen=True, slots=True)
class Delay:
    """A pure delay (hearing, statements, transfer): holds no hours."""

    name: str
    stream: Buffered | float


@dataclass(frozen=True, slots=True)
class Committee:
    """A visitation committee that meets every ``cadence_days``: a wait for its next meeting."""

    cadence_days: float


@dataclass
class RepResult:
    """What one replication of one model produced."""

    model: str
    replication: int
    metrics: dict[str, float]
    diagnostics: dict[str, Any]
    timeseries: np.ndarray
    events: Any  # the replication's raw event rows as a table (``eventlog.raw_frame``) or None


TIMESERIES_COLUMNS: tuple[str, ...] = (
    *(f"{s}_citizens" for s in STAGES),
    *(f"{g}_{c}_hours" for g in ("authority", "provider") for c in (*CATEGORIES, "idle")),
)
"""Weekly snapshot series: citizens in each stage at the week's start, hours per group and
category during the week."""


def _rate(pool: Pool, hours: float, weeks: float) -> tuple[int, float]:
    """Units per week an activity holds on ``pool`` and its duration in weeks.

    A rate above the pool's whole capacity is capped at it and the duration stretched, so the
    effort is still delivered; a pool with no capacity can never serve the activity.
    """
    units = to_units(hours / weeks)
    if pool.capacity == 0:
        return max(units, 1), weeks
    if units > pool.capacity:
        return pool.capacity, hours * 60 / pool.capacity
    return units, weeks


def _provider_part(step: Step) -> int:
    """Provider units a step books from the provider's pool."""
    return sum(u for pool, u, _ in step.parts if pool.name == "provider")


def _resource(step: Step) -> str:
    """Who works on a step: each group whose hours it takes, joined with '+' for a joint one."""
    names = [p[0].name for p in step.parts]
    if step.provider_units and "provider" not in names:
        names.append("provider")
    return "+".join(names)


def _draw(stream: Buffered | float) -> float:
    """The next value of a delay stream, or the fixed delay."""
    return stream if isinstance(stream, float) else stream.next()


class Simulation:
    """One replication of one visitation model: the environment, the staff, the citizens."""

    def __init__(
        self,
        scenario: Scenario,
        model_name: str,
        replication: int,
        fte: tuple[float, float],
        *,
        key: tuple[int, ...] | None = None,
        base_dir: Path | None = None,
        record_events: bool = False,
    ) -> None:
        self.scenario = scenario
        self.model_name = model_name
        self.replication = replication
        self.m: VisitationModel = scenario.model(model_name)
        self.key = key if key is not None else (replication,)
        self.base_dir = base_dir
        seed = scenario.experiment.seed
        self.env = env = Clock()
        staff_cfg = scenario.staff
        self.staff = Staff(
            env,
            staff_cfg.authority.capacity_hours_per_week(fte[0]),
            staff_cfg.provider.capacity_hours_per_week(fte[1]),
            scenario.support_queue,
        )
        self.fte = fte
        self.warmup = scenario.experiment.warmup_weeks * DAYS_PER_WEEK
        self.end = scenario.experiment.horizon_weeks * DAYS_PER_WEEK
        self.factory = CitizenFactory(scenario, seed, self.key, "arrivals")
        self._rereferrals = CitizenFactory(scenario, seed, self.key, "rereferral")

        def delay(name: str, dist: Any) -> Buffered | float:
            """A pure delay's stream; a fixed delay is just its value (no draws)."""
            if isinstance(dist, Fixed):
                return dist.value
            return Buffered(generator(seed, self.key, f"delay/{name}"), dist.sample)

        m = self.m
        self._delay_coordination = delay("coordination", m.first_contact.coordination_weeks)
        self._delay_first = delay("first_contact", m.first_contact.delay_weeks)
        self._delay_decision = delay("decision", m.decision.delay_weeks)
        self._delay_transfer = delay("transfer", m.handoff.transfer_delay_weeks)
        self._delay_reref = delay("rereferral", scenario.exits.rereferral_delay_weeks)
        self._build_steps()
        self._build_plans()
        self._reviews_first = scenario.review_priority == "reviews_first"
        m = self.m  # per-citizen constants, looked up once
        self._short_share = m.routing.short_course_share
        self._short_hours = m.routing.short_course_hours_per_week
        self._short_days = m.routing.short_course_weeks * DAYS_PER_WEEK
        self._min_granted = m.accuracy.min_granted_hours_per_week
        self._rework_p = m.rework.probability
        self._reref_p = scenario.exits.rereferral_probability
        self._error_sd = m.accuracy.error_sd
        self._reviewed = m.review.cadence_weeks > 0
        self._startup_before = bool(self.startup_plan) and not m.startup_meeting.after_wait
        if scenario.review_provider_hours == "free" and self.m.review.cadence_weeks > 0:
            self.staff.keep_free(max((_provider_part(s) for s in self.review_steps), default=0))

        self.book = StageBook(self.warmup)
        self.over = Level()
        self.under = Level()
        self.active: dict[int, Citizen] = {}
        self.next_id = 0
        self.counts = {
            k: 0 for k in ("referred", "helped", "s85", "short_course", "rework", "goals")
        }
        self.counts.update({r: 0 for r in EXIT_REASONS})
        self.totals = {k: 0 for k in ("referred", *EXIT_REASONS)}
        # Support after the goals were reached: hours inside the window (closed stretches), and
        # weeks summed over the § 85 episodes that completed inside it.
        self.post_goal_hours = 0.0
        self.post_goal_weeks = 0.0
        self.post_goal_episodes = 0
        # One 8-byte float per citizen referred in the window (medians need them all); the rest
        # of the statistics are streamed.
        self.decision_waits = array("d")
        self.start_waits = array("d")
        self.events: list[list[Any]] | None = [] if record_events else None
        self._support_rows: dict[int, list[Any]] = {}  # each citizen's open support row
        self._snapshots = array("d")  # weekly rows, flat
        self._warm: dict[str, Any] = {}

    # ------------------------------------------------------------------ set-up

    def _step(self, name: str, act: Activity, category: int) -> Step:
        """Book both groups' effort from their pools (a joint activity is atomic)."""
        if act.is_empty or (act.authority_hours == 0 and act.provider_hours == 0):
            return Step(name, (), act.duration_weeks * DAYS_PER_WEEK)
        parts: list[Part] = []
        weeks = act.duration_weeks
        for pool, hours in ((self.staff.authority, act.authority_hours),
                            (self.staff.provider, act.provider_hours)):  # fmt: skip
            if hours > 0:
                units, w = _rate(pool, hours, act.duration_weeks)
                parts.append((pool, units, category))
                weeks = max(weeks, w)
        return Step(name, tuple(parts), weeks * DAYS_PER_WEEK)

    def _review_step(
        self, name: str, acts: list[tuple[Activity, int]], inside: bool | None = None
    ) -> Step:
        """A review activity: the authority's part is booked from its pool. The provider's part
        is booked from the provider's free hours (``review_provider_hours: free``: it costs
        capacity, and waits like other intake work), or done inside the citizen's running
        support hours and reclassified for its duration (``support``, or ``inside``)."""
        weeks = max((a.duration_weeks for a, _ in acts), default=0.0)
        parts: list[Part] = []
        provider_units, provider_cat = 0, MEETING
        staff = self.staff
        groups = [(staff.authority, "authority_hours")]
        if not (self.scenario.review_provider_hours == "support" if inside is None else inside):
            groups.append((staff.provider, "provider_hours"))
        for pool, field in groups:
            # One part per pool (an atomic booking checks each part on its own), in the category
            # of the activity that carries most of the hours.
            hours = [(getattr(act, field), cat) for act, cat in acts if getattr(act, field) > 0]
            if hours:
                units, w = _rate(pool, sum(h for h, _ in hours), weeks)
                parts.append((pool, units, max(hours)[1]))
                weeks = max(weeks, w)
        if len(groups) == 2:
            return Step(name, tuple(parts), weeks * DAYS_PER_WEEK)
        for act, cat in acts:
            if act.provider_hours > 0 and weeks > 0:
                provider_units += to_units(act.provider_hours / weeks)
                provider_cat = cat
        return Step(name, tuple(parts), weeks * DAYS_PER_WEEK, provider_units, provider_cat)

    def _build_steps(self) -> None:
        m = self.m
        fc = m.first_contact
        self.s_first = self._step(
            "joint meeting" if fc.joint else "assessment meeting", fc.meeting, MEETING
        )
        self.s_assess = self._step("assessment", fc.assessment, CASEWORK)
        self.s_first_doc = self._step(
            "first contact documentation", fc.documentation, DOCUMENTATION
        )
        self.first_contact_steps = (self.s_first, self.s_assess, self.s_first_doc)
        self.s_decision = self._step("decision", m.decision.work, CASEWORK)
        self.s_order = self._step("order and handoff", m.handoff.order, DOCUMENTATION)
        self.s_startup = self._step("provider start-up meeting", m.startup_meeting.meeting, MEETING)
        self.s_plan = self._step("provider plan", m.startup_meeting.plan, DOCUMENTATION)
        # After the waiting list, start-up meeting and plan are the first thing in the place:
        # their provider hours come out of it, like a review's inside support.
        su = m.startup_meeting
        self.startup_in_place = tuple(
            step
            for step in (
                self._review_step("provider start-up meeting", [(su.meeting, MEETING)], True),
                self._review_step("provider plan", [(su.plan, DOCUMENTATION)], True),
            )
            if su.enabled and su.after_wait and (step.parts or step.days > 0)
        )
        self.s_rework = self._step("re-assessment", m.rework.reassessment, CASEWORK)
        r = m.review
        self.review_steps: tuple[Step, ...]
        if r.joint:
            self.review_steps = (
                self._review_step("joint review meeting", [(r.meeting, MEETING)]),
                self._review_step(
                    "review casework and report",
                    [(r.casework, CASEWORK), (r.report, DOCUMENTATION)],
                ),
            )
        else:
            self.review_steps = (
                self._review_step("provider status report", [(r.report, DOCUMENTATION)]),
                self._review_step("review meeting", [(r.meeting, MEETING)]),
                self._review_step("authority review", [(r.casework, CASEWORK)]),
            )

    # ------------------------------------------------------------------ bookkeeping

    def _enter(self, c: Citizen, stage: int) -> None:
        now = self.env._now  # the clock itself, not its property: this runs at every stage
        self.book.move(c.stage, c.stage_since, stage, now)
        c.stage = stage
        c.stage_since = now

    def _new_citizen(self, c: Citizen) -> None:
        self.active[c.id] = c
        self.totals["referred"] += 1
        if c.referred_at >= self.warmup:
            self.counts["referred"] += 1

    def _leave(self, c: Citizen, reason: str) -> None:
        now = self.env._now
        self.book.move(c.stage, c.stage_since, -1, now)
        c.stage = -1
        del self.active[c.id]
        self.totals[reason] += 1
        if self.events is not None:
            self._log(c, eventlog.EXIT[reason], now, "")
        if now >= self.warmup:
            self.counts[reason] += 1
            if reason == "completed":
                self.counts["goals"] += c.goals
        if reason != "rejected" and c.u_reref < self._reref_p:
            Flow(self._rereferral())

    def _log(
        self, c: Citizen, name: str, start: float, resource: str, hours: float | None = None
    ) -> None:
        """A finished activity (an instant event when ``start`` is now) as a complete row."""
        if self.events is not None:
            self.events.append(
                [c.id, name, start, self.env.now, resource or None, hours,
                 self.model_name, self.replication]
            )  # fmt: skip

    def _open(self, c: Citizen, name: str, resource: str, hours: float | None = None) -> list[Any]:
        """A row for an activity that starts now; it stays open (no end) until ``_close``, so an
        activity still running when the run ends is in the log, marked open."""
        row = [c.id, name, self.env.now, None, resource or None, hours,
               self.model_name, self.replication]  # fmt: skip
        self.events.append(row)  # type: ignore[union-attr]
        return row

    def _close(self, row: list[Any]) -> None:
        row[eventlog.END] = self.env.now

    # ------------------------------------------------------------------ processes

    def _act(self, c: Citizen, step: Step) -> Event | None:
        """One activity as a single event: waits for its hours (if any), holds them for its
        duration and releases them; ``None`` when it takes neither hours nor time."""
        if step.parts:
            if self.events is None:
                return self.staff.occupy(step.parts, step.days)
            return self.staff.occupy(step.parts, step.days, *self._logger(c, step))
        if step.days > 0:
            return self._delay(c, step.days, step.name)
        return None

    def _delay(self, c: Citizen, days: float, name: str) -> Event | None:
        """A pure delay: holds no hours."""
        if days <= 0:
            return None
        if self.events is None:
            return Timeout(self.env, days)
        row = self._open(c, name, "")
        return Timeout(self.env, days, lambda _e: self._close(row))

    def _logger(self, c: Citizen, step: Step) -> tuple[Callable[[], None], Callable[[], None]]:
        """Hooks that open an activity's log row when its hours are taken, close it at its end."""
        box: list[list[Any]] = []

        def on_start() -> None:
            box.append(self._open(c, step.name, _resource(step)))

        def on_end() -> None:
            self._close(box[0])

        return on_start, on_end

    def arrivals(self) -> Process:
        """Referrals as the scenario's arrival process gives them."""
        env, make, referral = self.env, self.factory.make, self.referral
        for t in referral_times(
            self.scenario, self.scenario.experiment.seed, self.key, self.base_dir
        ):
            if t > env._now:
                yield Timeout(env, t - env._now)
            c = make(self.next_id, env._now)
            self.next_id += 1
            Flow(referral(c))

    def _rereferral(self) -> Process:
        yield self.env.timeout(_draw(self._delay_reref) * DAYS_PER_WEEK)
        c = self._rereferrals.make(self.next_id, self.env.now)
        self.next_id += 1
        yield from self.referral(c)

    def _plan(
        self, *items: Step | Delay | Committee | None
    ) -> tuple[Step | Delay | Committee, ...]:
        """The items of a stretch of pathway that take hours or time; the rest cost nothing."""
        out: list[Step | Delay | Committee] = []
        for item in items:
            if isinstance(item, Step) and not item.parts and item.days <= 0:
                continue
            if isinstance(item, Delay) and isinstance(item.stream, float) and item.stream <= 0:
                continue
            if isinstance(item, Committee) and item.cadence_days <= 0:
                continue
            if item is not None:
                out.append(item)
        return tuple(out)

    def _build_plans(self) -> None:
        m = self.m
        self.intake_plan = self._plan(
            Delay("coordinating the first meeting", self._delay_coordination),
            *self.first_contact_steps,
            Delay("hearing and statements", self._delay_first),
            Committee(m.decision.committee_cadence_weeks * DAYS_PER_WEEK),
            self.s_decision,
            Delay("decision delay", self._delay_decision),
        )
        handoff = (
            (self.s_order, Delay("transfer to provider", self._delay_transfer))
            if m.handoff.enabled
            else ()
        )
        self.handoff_plan = self._plan(*handoff)
        startup = (self.s_startup, self.s_plan) if m.startup_meeting.enabled else ()
        self.startup_plan = self._plan(*startup)
        self.rework_plan = self._plan(self.s_rework, *handoff)

    def _run(self, c: Citizen, plan: tuple[Step | Delay | Committee, ...]) -> Process:
        """Walk a stretch of pathway: activities, pure delays and committee dates in order.

        Back-to-back pure delays (a hearing, then the committee's next meeting) hold nothing, so
        they are waited out as one timeout — unless the event log wants each of them.
        """
        env = self.env
        merge = self.events is None
        pending = 0.0
        for item in plan:
            if isinstance(item, Step):
                if pending > 0:
                    yield Timeout(env, pending)
                    pending = 0.0
                ev = self._act(c, item)
            elif isinstance(item, Delay):
                days = _draw(item.stream) * DAYS_PER_WEEK
                if merge:
                    pending += days
                    continue
                ev = self._delay(c, days, item.name)
            else:
                cadence = item.cadence_days
                at = env.now + pending
                meeting = math.ceil(at / cadence - 1e-12) * cadence
                if merge:
                    pending += meeting - at
                    continue
                ev = self._delay(c, meeting - env.now, "waiting for committee")
            if ev is not None:
                yield ev
        if pending > 0:
            yield Timeout(env, pending)

    def referral(self, c: Citizen) -> Process:
        """From referral to decision, handoff and the support waiting list."""
        env = self.env
        now = env._now
        self._new_citizen(c)
        if self.events is not None:
            self._log(c, eventlog.REFERRAL, now, "")
        if self.intake_plan:
            self._enter(c, INTAKE)
            yield from self._run(c, self.intake_plan)
            now = env._now
        else:  # decided at once: the citizen passes through intake in no time
            self.book.through(INTAKE, now)
        c.decided_at = now
        if c.referred_at >= self.warmup:
            self.decision_waits.append((now - c.referred_at) / DAYS_PER_WEEK)
        if not c.eligible:
            self._leave(c, "rejected")
            return
        rework = c.u_rework < self._rework_p
        if self.handoff_plan or self._startup_before or rework:
            self._enter(c, HANDOFF)
            if self.handoff_plan:
                yield from self._run(c, self.handoff_plan)
            if self._startup_before:
                yield from self._run(c, self.startup_plan)
            if rework:
                if env._now >= self.warmup:
                    self.counts["rework"] += 1
                yield from self._run(c, self.rework_plan)
        else:
            self.book.through(HANDOFF, now)
        yield from self.support(c)

    def _granted_hours(self, c: Citizen) -> float:
        return max(self._min_granted, c.need * (1.0 + self._error_sd * c.z_error))

    def support(
        self,
        c: Citizen,
        progress: float = 0.0,
        first_review_days: float | None = None,
        *,
        in_place: bool = False,
    ) -> Process:
        """Wait for support hours, then support with reviews until the goals are reached.

        With the start-up meeting after the wait, the citizen takes the place (the wait to
        support start ends there), and the provider's start-up meeting and plan come first in
        it, their provider hours taken out of the place (at most its hours a week); progress
        starts when they end. ``in_place``: a citizen already in support at time 0, past its
        start-up."""
        env, staff = self.env, self.staff
        short = c.u_route < self._short_share
        hours = self._short_hours if short else self._granted_hours(c)
        units = to_units(hours)
        capacity = staff.provider.capacity
        if capacity and units > capacity:
            units = capacity
        row = None if self.events is None else self._open(c, eventlog.WAITING_LIST, "")
        ev = staff.acquire_support(units) if units else None
        if ev is None:  # started at once: the citizen passes the waiting list in no time
            self.book.through(SUPPORT_QUEUE, env._now)
        else:
            self._enter(c, SUPPORT_QUEUE)
            if c.patience_weeks != math.inf:
                Timeout(env, c.patience_weeks * DAYS_PER_WEEK, partial(self._give_up, ev))
            if (yield ev) is GAVE_UP:
                if row is not None:
                    self._close(row)
                self._leave(c, "abandoned")
                return
        now = env._now
        if row is not None:
            self._close(row)
            activity = eventlog.SHORT_COURSE if short else eventlog.SUPPORT
            self._support_rows[c.id] = self._open(c, activity, "provider", hours)
        c.started_at = now
        self._enter(c, IN_SUPPORT)
        if now >= self.warmup:
            self.counts["helped"] += 1
            self.counts["short_course" if short else "s85"] += 1
        if c.referred_at >= self.warmup:
            self.start_waits.append((now - c.referred_at) / DAYS_PER_WEEK)
        if self.startup_in_place and not in_place:
            for step in self.startup_in_place:
                ev = self._review(c, step, units)
                if ev is not None:
                    yield ev
            now = env.now
        if short:
            yield Timeout(env, self._short_days)
            self._end_support(c, units, 0.0, "completed", "short course")
            return
        if self._reviewed:
            yield from self._support_with_reviews(c, hours, units, progress, first_review_days)
            return
        # No reviews: support ends exactly when the goals are reached, or at drop-out.
        need = c.need
        gap = hours - need
        self._mismatch(now, gap, 1)
        t_goal = now + max(c.weeks_to_goal - progress, 0.0) / min(1.0, hours / need) * DAYS_PER_WEEK
        drop_at = now + c.dropout_weeks * DAYS_PER_WEEK
        if drop_at < t_goal:
            yield Timeout(env, drop_at - now)
            self._end_support(c, units, gap, "dropout", "support", now)
        else:
            yield Timeout(env, t_goal - now)
            self._end_support(c, units, gap, "completed", "support", now)

    def _mismatch(self, now: float, gap: float, sign: int) -> None:
        """Granted hours above (gap > 0) or below (gap < 0) the true need start (sign 1) or stop
        (sign -1) counting as over- or under-provided support."""
        if gap > 0:
            self.over.change(now, sign * gap)
        elif gap < 0:
            self.under.change(now, -sign * gap)

    def _give_up(self, waiting: Event, _timeout: Event) -> None:
        """Patience ran out: if the citizen is still on the waiting list, take them off it."""
        if not waiting.triggered:
            self.staff.cancel_support(waiting)
            waiting.succeed(GAVE_UP)

    def _support_with_reviews(
        self,
        c: Citizen,
        g: float,
        units: int,
        progress: float,
        first_review_days: float | None,
    ) -> Process:
        """Support reviewed every ``cadence_weeks``; it ends at the first review at which the goals
        are reached (so a long cadence keeps citizens in support after they could have ended)."""
        env, staff, review = self.env, self.staff, self.m.review
        start = env.now
        need = c.need
        gap = g - need
        self._mismatch(start, gap, 1)
        eff = min(1.0, g / need)
        c.granted, c.stretch_from = g, start
        c.goal_at = start + max(c.weeks_to_goal - progress, 0.0) / eff * DAYS_PER_WEEK
        t_last = start
        drop_at = start + c.dropout_weeks * DAYS_PER_WEEK
        cadence = review.cadence_weeks * DAYS_PER_WEEK
        goal = c.weeks_to_goal
        next_review = start + (cadence if first_review_days is None else first_review_days)
        while True:
            if drop_at < next_review:
                yield Timeout(env, max(drop_at - env._now, 0.0))
                self._end_support(c, units, g - need, "dropout", "support", start)
                return
            yield Timeout(env, max(next_review - env._now, 0.0))
            now = env.now
            progress += eff * (now - t_last) / DAYS_PER_WEEK
            t_last = now
            reached = progress >= goal - 1e-9
            for step in self.review_steps:
                ev = self._review(c, step, units, self._reviews_first)
                if ev is not None:
                    yield ev
            if reached:
                self._end_support(c, units, g - need, "completed", "support", start)
                return
            if review.adjust_hours > 0:
                now = env.now
                progress += eff * (now - t_last) / DAYS_PER_WEEK
                t_last = now
                new_g = g + review.adjust_hours * (need - g)
                new_units = to_units(new_g)
                delta = new_units - units
                if delta < 0:
                    staff.release_support(-delta)
                elif delta > 0 and not staff.try_grow_support(delta):
                    new_g, new_units = g, units
                if new_units != units or new_g != g:
                    self.over.change(now, max(new_g - need, 0.0) - max(g - need, 0.0))
                    self.under.change(now, max(need - new_g, 0.0) - max(need - g, 0.0))
                    g, units = new_g, new_units
                    self._new_stretch(c, now, g, eff, min(1.0, g / need))
                    eff = min(1.0, g / need)
                    if self.events is not None:
                        self._log(c, eventlog.GRANT_ADJUSTED, now, "authority", g)
            next_review += cadence

    def _post_goal(self, c: Citizen, until: float) -> float:
        """Support hours after the goals in the citizen's current stretch of unchanged granted
        hours, up to ``until``, inside the measured window."""
        assert c.goal_at is not None
        since = max(c.goal_at, c.stretch_from, self.warmup)
        return c.granted * (until - since) / DAYS_PER_WEEK if until > since else 0.0

    def _new_stretch(self, c: Citizen, now: float, g: float, eff: float, new_eff: float) -> None:
        """The granted hours change at a review: close the stretch and move the goal date by the
        new rate of progress (a goal already reached stays where it was)."""
        self.post_goal_hours += self._post_goal(c, now)
        assert c.goal_at is not None
        if c.goal_at > now:
            c.goal_at = now + (c.goal_at - now) * eff / new_eff
        c.granted, c.stretch_from = g, now

    def _review(self, c: Citizen, step: Step, held_units: int, first: bool = False) -> Event | None:
        """A review step (or a start-up step inside the place); the provider's part inside
        support is taken from the citizen's held hours and reclassified (support to meetings or
        documentation) while it runs. ``first``: served before waiting new intake."""
        if self.events is None:
            fast = self._review_unlogged(step, held_units, first)
            if fast is not False:
                assert fast is not True  # the fast path answers an event, None or False
                return fast
        staff = self.staff
        provider = staff.provider
        pu = min(step.provider_units, held_units)
        cat = step.provider_category

        def on_start() -> None:
            if pu:
                provider.reclassify(self.env.now, pu, SUPPORT, cat)
            if self.events is not None:
                box.append(self._open(c, step.name, _resource(step)))

        def on_end() -> None:
            if pu:
                provider.reclassify(self.env.now, pu, cat, SUPPORT)
            if self.events is not None:
                self._close(box[0])

        box: list[list[Any]] = []
        if step.parts:
            return staff.occupy(step.parts, step.days, on_start, on_end, first)
        if step.days <= 0:
            return None
        on_start()
        return Timeout(self.env, step.days, lambda _e: on_end())

    def _review_unlogged(self, step: Step, held_units: int, first: bool) -> Event | bool | None:
        """A review step without the event log, allocating no hooks: ``False`` when it needs
        them (hours booked from the pools and hours reclassified inside support, both at once)."""
        pu = min(step.provider_units, held_units)
        if step.parts:
            return False if pu else self.staff.occupy(step.parts, step.days, first=first)
        if step.days <= 0:
            return None
        if not pu:
            return Timeout(self.env, step.days)
        cat = step.provider_category
        self.staff.provider.reclassify(self.env.now, pu, SUPPORT, cat)
        return Timeout(self.env, step.days, partial(self._reclassify_back, pu, cat))

    def _reclassify_back(self, units: int, category: int, _event: Event) -> None:
        """A review's or start-up's hours inside support end: they are support again."""
        self.staff.provider.reclassify(self.env.now, units, category, SUPPORT)

    def _end_support(
        self,
        c: Citizen,
        units: int,
        gap: float,
        reason: str,
        activity: str,
        start: float | None = None,
    ) -> None:
        """Support ends: its hours go back and the citizen leaves. (``start`` is unused since the
        log row opens when support starts; kept so the callers stay as they are.)"""
        now = self.env._now
        if units:
            self.staff.release_support(units)
        if activity == "support":
            self._mismatch(now, gap, -1)
            self._end_episode(c, reason, now)
        if self.events is not None:  # the row opened when support started
            self._close(self._support_rows.pop(c.id))
        self._leave(c, reason)

    def _end_episode(self, c: Citizen, reason: str, now: float) -> None:
        """Account the support given after the goals of a § 85 episode that ends (without
        reviews it ends when the goals are reached: none)."""
        goal_at = c.goal_at
        if goal_at is not None:
            self.post_goal_hours += self._post_goal(c, now)
        if reason == "completed" and now >= self.warmup:
            self.post_goal_episodes += 1
            if goal_at is not None and now > goal_at:
                self.post_goal_weeks += (now - goal_at) / DAYS_PER_WEEK

    def initial_caseload(self) -> None:
        """Citizens already in support (as the model's rule leaves them, ``_in_support_at_start``)
        or waiting at time 0."""
        sc, seed = self.scenario, self.scenario.experiment.seed
        init = CitizenFactory(sc, seed, self.key, "initial")
        for c, progress, first in self._in_support_at_start(init, sc.initial_caseload.in_support):
            c.id = self.next_id
            self.next_id += 1
            self._new_citizen(c)
            self._log(c, eventlog.INITIAL, 0.0, "")
            Flow(self.support(c, progress, first, in_place=True))
        for _ in range(sc.initial_caseload.waiting):
            c = init.make(self.next_id, 0.0)
            self.next_id += 1
            c.decided_at = 0.0
            self._new_citizen(c)
            self._log(c, eventlog.INITIAL, 0.0, "")
            Flow(self.support(c))

    def _in_support_at_start(
        self, init: CitizenFactory, n: int
    ) -> list[tuple[Citizen, float, float | None]]:
        """``n`` citizens in § 85 support at time 0 as the support rule leaves them in the long
        run, with their progress (weeks at the full need) and days to their first review.

        Who is in support at a given time is length-biased: an episode is there in proportion to
        its length D (weeks to goal over the rate of progress, rounded up to whole review cycles
        when support ends at reviews), so the ``n`` are picked with weights D from a pool of
        INITIAL_POOL x n citizens, each a uniform time a into its episode: progress a x rate and
        the next review (c - a mod c) later. Some are past their goals, waiting for that review.
        Drawing the weeks to goal unweighted, a uniform share done and an independent review
        phase (as before e1-review) left them too short: 0.56 of them ended at their first
        review and 0.91 of the rest at the second, against 0.70 and 0.76 in the long run
        (odder-base's 'medium' segment). Drop-out is memoryless and left out of the weights."""
        seed = self.scenario.experiment.seed
        pick = generator(seed, self.key, "initial/pick")
        ages = generator(seed, self.key, "initial/elapsed").random(n)
        pool = init.columns(INITIAL_POOL * n)  # not citizens: only the n chosen are made
        need, z_error = pool["need"], pool["z_error"]
        cadence = self.m.review.cadence_weeks
        granted = np.maximum(self._min_granted, need * (1.0 + self._error_sd * z_error))
        rate = np.minimum(1.0, granted / need)  # ``_granted_hours`` over ``need``, per row
        length = pool["weeks_to_goal"] / rate
        if cadence > 0:
            length = cadence * np.maximum(np.ceil(length / cadence), 1.0)
        if n == 0:
            return []
        chosen = pick.choice(len(length), n, replace=False, p=length / length.sum())
        rows = as_rows({k: v[chosen] for k, v in pool.items()})
        out = []
        for i, u, row in zip(chosen, ages.tolist(), rows, strict=True):
            c, age = init.citizen(-1, 0.0, row), u * float(length[i])
            c.decided_at = 0.0
            c.u_route = 1.0  # already in § 85 support, not on a short course
            first = (cadence - age % cadence) * DAYS_PER_WEEK if cadence > 0 else None
            out.append((c, age * float(rate[i]), first))
        return out

    def _snapshot(self) -> list[float]:
        now = self.env.now
        row: list[float] = [float(n) for n in self.book.count]
        for pool in (self.staff.authority, self.staff.provider):
            row.extend(pool.hours(now))
        return row

    def weekly(self) -> Process:
        """Snapshot each week (one event a week) for the time-series plots."""
        while self.env.now < self.end:
            self._snapshots.extend(self._snapshot())
            yield self.env.timeout(DAYS_PER_WEEK)

    def warmup_mark(self) -> Process:
        if self.warmup > 0:
            yield self.env.timeout(self.warmup)
        now = self.env.now
        self._warm = {
            "pools": [p.hours(now) for p in (self.staff.authority, self.staff.provider)],
            "stages": [self.book.area_until(i, now) for i in range(len(STAGES))],
            "over": self.over.area_until(now),
            "under": self.under.area_until(now),
        }

    # ------------------------------------------------------------------ run and measure

    def run(self) -> RepResult:
        """Simulate to the horizon and measure the window after the warm-up."""
        env = self.env
        self.initial_caseload()
        Flow(self.arrivals())  # before the marks: it took the first start event before
        Flow(self.warmup_mark())  # at once, as SimPy's urgent start would before anything else
        Flow(self.weekly())
        env.run(until=self.end)
        return RepResult(
            self.model_name,
            self.replication,
            self._metrics(),
            self._diagnostics(),
            self._timeseries(),
            None if self.events is None else eventlog.raw_frame(self.events),
        )

    def run_until_empty(self) -> dict[str, Any]:
        """Simulate to the horizon, then let every citizen already in the system finish (no new
        referrals arrive after the horizon); return the diagnostics. For the drift and
        conservation checks."""
        env = self.env
        self.initial_caseload()
        Flow(self.arrivals())
        Flow(self.warmup_mark())
        env.run()
        self.end = env.now
        return self._diagnostics()

    def _metrics(self) -> dict[str, float]:
        end, warm = self.end, self._warm
        window_days = end - self.warmup
        years = window_days / DAYS_PER_WEEK / WEEKS_PER_YEAR
        budget = self.scenario.budget.annual_dkk
        out: dict[str, float] = {}
        per_year = ("referred", "helped", "completed", "short_course", "rework", "rejected")
        for k in per_year:
            out[f"{k}_per_year"] = self.counts[k] / years
        out["s85_starts_per_year"] = self.counts["s85"] / years
        out["dropouts_per_year"] = self.counts["dropout"] / years
        out["abandoned_per_year"] = self.counts["abandoned"] / years
        out["goals_reached_per_year"] = self.counts["goals"] / years
        for label, waits, censored in (
            ("decision", self.decision_waits, self._censored_decisions()),
            ("start", self.start_waits, self._censored_starts()),
        ):
            mean, median, p90 = wait_summary(waits)
            out[f"time_to_{label}_mean_weeks"] = mean
            out[f"time_to_{label}_median_weeks"] = median
            out[f"time_to_{label}_p90_weeks"] = p90
            out[f"time_to_{label}_censored"] = float(censored)
        book = self.book
        for i, s in enumerate(STAGES):
            area = book.area_until(i, end) - warm["stages"][i]
            out[f"{s}_mean_citizens"] = area / window_days
            out[f"{s}_end_citizens"] = float(book.count[i])
        citizen_facing = productive = 0.0
        for g, pool, before in zip(
            ("authority", "provider"),
            (self.staff.authority, self.staff.provider),
            warm["pools"],
            strict=True,
        ):
            hours = [a - b for a, b in zip(pool.hours(end), before, strict=True)]
            cap = pool.capacity_hours(window_days)
            for cat, h in zip(CATEGORIES, hours, strict=True):
                out[f"{g}_{cat}_hours_per_year"] = h / years
            out[f"{g}_idle_hours_per_year"] = (cap - sum(hours)) / years
            out[f"{g}_core_task_share"] = (hours[SUPPORT] + hours[MEETING]) / cap if cap else 0.0
            citizen_facing += hours[SUPPORT] + hours[MEETING]
            productive += cap
        out["core_task_share"] = citizen_facing / productive if productive else 0.0
        out["support_hours_delivered_per_year"] = out["provider_support_hours_per_year"]
        out["over_provided_hours_per_year"] = (
            (self.over.area_until(end) - warm["over"]) / DAYS_PER_WEEK / years
        )
        out["under_provided_hours_per_year"] = (
            (self.under.area_until(end) - warm["under"]) / DAYS_PER_WEEK / years
        )
        post_goal = self.post_goal_hours + sum(
            self._post_goal(c, end) for c in self.active.values() if c.goal_at is not None
        )
        out["post_goal_hours_per_year"] = post_goal / years
        episodes = self.post_goal_episodes
        out["post_goal_weeks_per_episode"] = (
            self.post_goal_weeks / episodes if episodes else math.nan
        )
        helped, goals = self.counts["helped"], self.counts["goals"]
        out["cost_per_helped_dkk"] = budget * years / helped if helped else math.nan
        out["cost_per_goal_dkk"] = budget * years / goals if goals else math.nan
        staff_cost = self.scenario.staff_cost_dkk(self.fte)
        out["staff_cost_dkk_per_year"] = staff_cost
        out["unspent_dkk_per_year"] = unspent_dkk(budget, staff_cost)
        return out

    def _censored_decisions(self) -> int:
        return sum(
            1 for c in self.active.values() if c.referred_at >= self.warmup and c.decided_at is None
        )

    def _censored_starts(self) -> int:
        return sum(
            1 for c in self.active.values() if c.referred_at >= self.warmup and c.started_at is None
        )

    def _diagnostics(self) -> dict[str, Any]:
        """Counts for the theory checks: conservation, Little's law, pools at the end."""
        book = self.book
        in_system = {s: book.count[i] for i, s in enumerate(STAGES)}
        return {
            "referred_total": self.totals["referred"],
            "exited_total": {r: self.totals[r] for r in EXIT_REASONS},
            "in_system": in_system,
            "active": len(self.active),
            "stages": {
                s: {
                    "entries": book.entries[i],
                    "sojourn_sum_days": book.sojourn_sum[i],
                    "sojourn_n": book.sojourn_n[i],
                    "area_days": book.area_until(i, self.end) - self._warm["stages"][i],
                }
                for i, s in enumerate(STAGES)
            },
            "window_days": self.end - self.warmup,
            "pools": {
                p.name: {"capacity": p.capacity, "free": p.free, "rate": list(p.rate)}
                for p in (self.staff.authority, self.staff.provider)
            },
        }

    def _timeseries(self) -> np.ndarray:
        """Weekly rows: stage counts at the week's start, hours per category during the week."""
        last = self._snapshot()
        arr = np.concatenate([np.frombuffer(self._snapshots, dtype=float), last]).reshape(
            -1, len(last)
        )
        n_st = len(STAGES)
        counts = arr[:-1, :n_st]
        cols = [counts]
        for g in range(2):
            cum = arr[:, n_st + 4 * g : n_st + 4 * (g + 1)]
            hours = np.diff(cum, axis=0)
            pool = (self.staff.authority, self.staff.provider)[g]
            idle = pool.capacity_hours(DAYS_PER_WEEK) - hours.sum(axis=1)
            cols.extend([hours, idle[:, None]])
        return np.hstack(cols)
