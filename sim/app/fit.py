"""``sim fit``: a scenario for one's own municipality, fitted to its case export.

The data give the referral rate (and a seasonal profile when a test finds one), the need segments
(from granted hours), the weeks in support (to the goals) and the time to decision, both fitted
with censoring of open cases, the share granted, and the caseload on the start date. Everything
else (budget, staff, exits nobody records, model settings) is copied from a base scenario, the
shipped Odder scenario by default, and marked ASSUMPTION. Every number carries a comment saying
where it comes from; the scenario is validated before it is written, and written whole or not at
all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app.common import EXIT_FAILED, CommandError, check_out, load, refuse

if TYPE_CHECKING:
    import numpy as np

    from sim.config.cases import Cases
    from sim.model.scenario import Scenario
    from sim.run.calibrate import Search
    from sim.run.fitting import (
        DurationFit,
        GoalCalibration,
        Median,
        Mixture,
        Rate,
        Rereferrals,
        ReviewTiming,
        Seasonality,
        Share,
    )

__all__ = ["Calibration", "Fits", "Request", "Result", "default_base", "fit", "fit_cases"]

SEGMENT_NAMES = {1: ["all"], 2: ["low", "high"], 3: ["low", "medium", "high"],
                 4: ["low", "medium", "high", "very_high"]}  # fmt: skip
_NAME = re.compile(r"[A-Za-z0-9_.-]*[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A scenario name (it becomes a folder under results/)."""
MIN_DURATION_CASES = 20
"""A segment gets its own weeks-to-goal fit with at least this many started cases (5 ended)."""
HALF_DAY_WEEKS = 0.5 / 7
"""Added to durations counted in whole days: a decision on the day of referral took some hours,
and a duration of 0 has no density under gamma or log-normal."""


@dataclass(frozen=True)
class Request:
    """What ``sim fit`` was asked: the case export, the scenario to write and its options.

    ``as_of`` is the export date (default: the latest date in the file); ``start`` is the day the
    scenario starts from (its initial caseload; default: the observed period's start as `sim
    check` infers it, ``sim.run.check.period``: the first day a case in the export closed);
    ``base`` is the scenario whose settings stand in for what the data cannot give (default: Odder).
    ``calibrate`` runs the simulation-based calibration of the delay before the decision
    (``calibrate_delay``); ``--no-calibrate`` keeps the closed-form delay.
    """

    cases: Path
    out: Path
    as_of: dt.date | None = None
    start: dt.date | None = None
    name: str | None = None
    base: Path | None = None
    force: bool = False
    calibrate: bool = True


@dataclass(frozen=True)
class Result:
    out: Path
    cases: int
    segments: int
    seasonal: bool
    notes: list[str] = field(default_factory=list)
    calibration: Calibration | None = None
    goal_lines: list[str] = field(default_factory=list)  # f3-goal: for the console


def default_base() -> Path:
    """The shipped Odder scenario (in the source tree, beside the package)."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "odder.yaml"


def fit(request: Request) -> Result:
    """Read, fit, write: exit 2 for a bad file or option, 1 when the file cannot be written."""
    from sim.config.cases import read_cases
    from sim.config.loader import ScenarioError

    out = request.out
    if request.name is not None and not _NAME.fullmatch(request.name):
        refuse(f"--name: expected letters, digits, '_', '.' and '-' only, found '{request.name}'")
    if out.exists() and not request.force:
        refuse(f"{out} already exists; use --force to overwrite it")
    check_out(out, file=True)
    base_path = request.base or default_base()
    if not base_path.exists():
        refuse(f"base scenario {base_path} not found; pass --base SCENARIO")
    base = load(base_path)
    try:
        cases = read_cases(request.cases, request.as_of)
    except ScenarioError as error:
        raise CommandError(error.format(), 2) from None
    fits = fit_cases(cases, request.start, base)
    name = request.name or _name_of(request.cases)
    text = compose(fits, base, base_path, name)
    _validate(text, out)
    if request.calibrate:

        def scenario_at(mean: float) -> Scenario:
            """The fitted scenario as it would be written with this delay before the decision."""
            fits.delay_mean = mean
            return _validate(compose(fits, base, base_path, name), out)

        fits.calibration = calibrate_delay(fits, cases, scenario_at, out.parent)
        fits.delay_mean = None if fits.calibration is None else fits.calibration.delay_mean
        text = compose(fits, base, base_path, name)
        _validate(text, out)
    _write_atomic(out, text)
    return Result(
        out,
        fits.n_cases,
        len(fits.segments),
        fits.season.seasonal,
        fits.notes,
        fits.calibration,
        goal_lines(fits),
    )


def _validate(text: str, out: Path) -> Scenario:
    """The fitted scenario, validated; exit 1 (a bug of this module) when it does not."""
    from sim.config.loader import ScenarioError, load_scenario_text

    try:
        return load_scenario_text(text, str(out), out.parent)
    except ScenarioError as error:  # a bug of this module: say so, write nothing
        raise CommandError(
            f"error: the fitted scenario does not validate (please report):\n{error.format()}",
            EXIT_FAILED,
        ) from None


def _name_of(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "fitted"
    return stem[:60]


def _write_atomic(out: Path, text: str) -> None:
    """Write beside ``out`` and rename over it: a reader sees the old file or the whole new one."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CommandError(f"error: cannot write {out}: {exc.strerror or exc}", 1) from None


# --------------------------------------------------------------------------- fitting


@dataclass
class Segment:
    name: str
    share: float
    need_mean: float
    need_sd: float
    granted_sd: float
    weeks: DurationFit
    weeks_rows: str
    weeks_pooled: bool
    timing: ReviewTiming | None = None
    slowdown: tuple[float, float] = (1.0, 1.0)  # E[S], E[S^2]: ``fitting.slowdown_moments``
    goal_mean: float = 0.0  # weeks to goal with the slowdown taken out (``remove_slowdown``)
    goal_sd: float = 0.0
    goal: GoalCalibration | None = None  # f3-goal: W calibrated to the life table (gamma)


@dataclass
class Fits:
    """Everything fitted from one export, with the rows and methods behind each number."""

    source: str
    as_of: dt.date
    start: dt.date
    n_cases: int
    rate: Rate
    rate_rows: str
    season: Seasonality
    mixture: Mixture
    hours_rows: str
    segments: list[Segment]
    eligible: Share
    eligible_rows: str
    decision: DurationFit
    decision_rows: str
    decision_steps_weeks: float
    short_course: Share | None
    in_support: int
    waiting: int
    undecided_at_start: int
    error_sd: float
    abandon: Rate | None = None  # per year: closed before support started, per waiting year
    abandon_rows: str = ""
    abandon_handoff_weeks: float = 0.0  # subtracted from decision-to-start (``_handoff_weeks``)
    reref: Rereferrals | None = None  # re-referrals found through citizen_id
    reref_rows: str = ""
    notes: list[str] = field(default_factory=list)
    calibration: Calibration | None = None
    delay_mean: float | None = None  # the classic delay's mean when not the closed form's


def _weeks(start: Any, end: Any, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Weeks from ``start`` to ``end`` (to ``as_of`` where ``end`` is missing) and which ended."""
    import numpy as np

    ended = np.array([e is not None for e in end], dtype=bool)
    days = np.array(
        [((e if e is not None else as_of) - s).days for s, e in zip(start, end, strict=True)],
        dtype=float,
    )
    return days / 7 + HALF_DAY_WEEKS, ended


def fit_cases(cases: Cases, start: dt.date | None, base: Scenario) -> Fits:
    """Fit every number the data can give; refuse (exit 2) when they are too few to fit."""
    import polars as pl

    from sim.run.check import period
    from sim.run.fitting import fit_duration, poisson_rate, seasonality, share

    frame, as_of = cases.frame, cases.as_of
    # One definition of the observed period with `sim check`: on an "active cases" export the
    # first referral is an old long-open case, and counting referrals from it understates the rate.
    start = start or period(frame, as_of, None)[0]
    if start >= as_of:
        refuse(f"--start {start:%d-%m-%Y} is not before the export date {as_of:%d-%m-%Y}")
    reref = _rereferrals(frame, as_of)
    window = pl.col("referral_date") >= start
    if reref.identified:  # re-referrals come back through exits.rereferral_probability
        window = window & ~pl.lit(pl.Series(reref.repeat))
    referrals = frame.filter(window)["referral_date"].to_list()
    weeks = ((as_of - start).days + 1) / 7
    rate = poisson_rate(len(referrals), weeks)
    season = seasonality(referrals, start, as_of)

    # Decisions made in the period: one made earlier is in the export only if its case was still
    # open on ``start``, which a refusal never is (left truncation would inflate the share).
    decided = pl.col("decision").is_not_null() & (pl.col("decision_date") >= start)
    granted = decided & (pl.col("decision") == "granted")
    n_decided = frame.filter(decided).height
    if n_decided == 0:
        refuse(
            f"{cases.source}: no case decided since {start:%d-%m-%Y}; cannot fit the share granted"
        )
    eligible = share(frame.filter(granted).height, n_decided)
    para85 = frame.filter(pl.col("paragraph") == "85")
    n82 = frame.filter(granted & (pl.col("paragraph") == "82b")).height
    n_granted = frame.filter(granted).height
    short = share(n82, n_granted) if n82 else None

    dec_weeks, dec_ended = _weeks(frame["referral_date"], frame["decision_date"], as_of)
    try:
        decision = fit_duration(dec_weeks, dec_ended)
    except ValueError as exc:
        refuse(f"{cases.source}: time to decision: {exc}")
    mixture, segments, hours_rows = _segments(cases, para85, base, start)
    in_support, waiting, undecided = _caseload(frame, start)
    abandon, abandon_rows, handoff = _abandon(cases, start, base)
    return Fits(
        source=cases.source,
        as_of=as_of,
        start=start,
        n_cases=frame.height,
        rate=rate,
        rate_rows=cases.rows(window),
        season=season,
        mixture=mixture,
        hours_rows=hours_rows,
        segments=segments,
        eligible=eligible,
        eligible_rows=cases.rows(decided),
        decision=decision,
        decision_rows=cases.rows(),
        decision_steps_weeks=_steps(base),
        short_course=short,
        in_support=in_support,
        waiting=waiting,
        undecided_at_start=undecided,
        error_sd=base.model("classic").accuracy.error_sd,
        abandon=abandon,
        abandon_rows=abandon_rows,
        abandon_handoff_weeks=handoff,
        reref=reref,
        reref_rows=cases.rows(pl.Series(reref.repeat)) if reref.repeat.any() else "",
        notes=list(cases.notes),
    )


def _rereferrals(frame: Any, as_of: dt.date) -> Rereferrals:
    """Re-referrals: a citizen_id referred again after a case of theirs ended."""
    from sim.run.fitting import find_rereferrals, fit_rereferrals

    ends = frame["end_date"].to_list()
    repeat, follow = find_rereferrals(
        frame["citizen_id"].to_list(), frame["referral_date"].to_list(), ends
    )
    return fit_rereferrals(repeat, follow, ends, as_of)


def _abandon(cases: Cases, start: dt.date, base: Scenario) -> tuple[Rate | None, str, float]:
    """Citizens leaving the waiting list per year on it: granted cases closed (end_date) in the
    period with no start, over the years granted cases spent on the waiting list in the period.

    The scenario's hazard acts only on the support waiting list, which a citizen joins after the
    handoff (``_handoff_weeks``), so a case's time on it is counted from its decision plus that
    handoff; counting from the decision would take time no one can give up in for exposure and
    understate the rate. And only from ``start``: a case decided earlier is in the export because
    it was still open then (left-truncated), so its waiting before ``start`` would be counted
    without the give-ups of that time (which closed their cases before the export's period).
    Returns the rate (None when no case left while waiting: the export may not record it), the
    rows used and the handoff weeks subtracted."""
    import polars as pl

    from sim.run.fitting import poisson_rate, waiting_exposure_days

    granted = cases.frame.filter(pl.col("decision") == "granted")
    left = (
        granted["start_date"].is_null()
        & granted["end_date"].is_not_null()
        & (granted["end_date"] >= start)
    )
    if not left.any():
        return None, "", 0.0
    handoff = _handoff_weeks(base)
    days = waiting_exposure_days(
        granted["decision_date"].to_list(),
        granted.select(pl.coalesce("start_date", "end_date", pl.lit(cases.as_of))).to_series(),
        start,
        handoff,
    )
    rate = poisson_rate(int(left.sum()), float(days.sum()) / 365.25)
    return rate, cases.rows(pl.col("decision") == "granted"), handoff


def _handoff_weeks(base: Scenario) -> float:
    """Mean weeks the classic pathway of ``base`` takes from the decision to the support waiting
    list without waiting for staff: the order, the transfer to the provider, a start-up before
    the wait, and the re-assessment and second handoff of reworked cases."""
    m = base.model("classic")
    once = 0.0
    if m.handoff.enabled:
        once = m.handoff.order.duration_weeks + m.handoff.transfer_delay_weeks.mean()
    startup = 0.0
    if m.startup_meeting.enabled and not m.startup_meeting.after_wait:
        startup = m.startup_meeting.meeting.duration_weeks + m.startup_meeting.plan.duration_weeks
    rework = m.rework.probability * (m.rework.reassessment.duration_weeks + once)
    return once + startup + rework


def _steps(base: Scenario) -> float:
    """Mean weeks the classic pathway of ``base`` takes from referral to decision without
    waiting for staff or pure delay: activity durations and half the committee cadence."""
    m = base.model("classic")
    fc, dec = m.first_contact, m.decision
    return (
        fc.meeting.duration_weeks
        + fc.assessment.duration_weeks
        + fc.documentation.duration_weeks
        + fc.coordination_weeks.mean()
        + dec.work.duration_weeks
        + dec.committee_cadence_weeks / 2
        + dec.delay_weeks.mean()
    )


def _segments(
    cases: Cases, para85: Any, base: Scenario, start: dt.date
) -> tuple[Mixture, list[Segment], str]:
    """Segments from the granted hours of § 85 cases; weeks in support per segment, from the
    episodes that started on or after ``start``: one that started earlier is in the export only
    because it was still open on ``start`` (left-truncated), so long episodes would weigh more."""
    import numpy as np
    import polars as pl

    from sim.run.fitting import (
        MIN_SEGMENT_CASES,
        fit_mixture,
        need_sd_from_granted,
        remove_slowdown,
        review_timing,
        slowdown_moments,
    )

    with_hours = pl.col("hours_per_week") > 0
    hours = para85.filter(with_hours)["hours_per_week"].to_numpy()
    if len(hours) < MIN_SEGMENT_CASES:
        refuse(
            f"{cases.source}: {len(hours)} § 85 cases with granted hours; need segments need at "
            f"least {MIN_SEGMENT_CASES}"
        )
    mixture = fit_mixture(hours)
    started = para85.filter((pl.col("start_date") >= start) & with_hours)
    w, ended = _weeks(started["start_date"], started["end_date"], cases.as_of)
    timing = review_timing(w[ended], base.model("classic").review.cadence_weeks)
    entry = follow = np.zeros(len(w))
    if timing is not None:  # the life table takes the earlier starts with delayed entry
        started, w, ended, entry, follow = _with_earlier(
            para85.filter(with_hours), start, cases.as_of
        )
    try:
        pooled = _goal_fit(w, ended, (entry, follow), timing)
    except ValueError as exc:
        refuse(f"{cases.source}: weeks in support: {exc}")
    comp = mixture.component_of(started["hours_per_week"].to_numpy())
    accuracy = base.model("classic").accuracy
    rng = np.random.default_rng(0)  # fixed: the same file gives the same scenario
    out = []
    for i, (name, mean, sd) in enumerate(
        zip(SEGMENT_NAMES[mixture.k], mixture.means(), mixture.sds(), strict=True)
    ):
        mine = comp == i
        own = mixture.k > 1 and mine.sum() >= MIN_DURATION_CASES and ended[mine].sum() >= 5
        seen = (entry[mine], follow[mine])
        weeks = _goal_fit(w[mine], ended[mine], seen, timing) if own else pooled
        rows = _rows_of(started["row"].to_numpy()[mine] if own else started["row"].to_numpy())
        need_sd = need_sd_from_granted(mean, sd, accuracy.error_sd)
        slow = slowdown_moments(
            accuracy.error_sd, accuracy.min_granted_hours_per_week, mean, need_sd, rng
        )
        goal = remove_slowdown(weeks.best.mean, weeks.best.sd, *slow)
        seg = Segment(name, mixture.weights[i], mean, need_sd, sd, weeks, rows, not own, timing)
        seg.slowdown, seg.goal_mean, seg.goal_sd = slow, *goal
        if weeks.table is not None and slow[0] > 1 + 1e-9:
            seg.goal = _calibrate_goal(weeks, accuracy, mean, need_sd, rng)
            seg.goal_mean, seg.goal_sd = seg.goal.mean, seg.goal.sd
        out.append(seg)
    rows = _rows_of(para85.filter(with_hours)["row"].to_numpy())
    return mixture, out, rows


def _with_earlier(episodes: Any, start: dt.date, as_of: dt.date) -> tuple[Any, ...]:
    """The episodes that started on or after ``start`` and those that started earlier and were
    still in support on ``start`` (an export of the period holds those only because they were),
    with their weeks in support, whether they ended, their weeks in support on ``start`` and
    their weeks from start to the export date."""
    import numpy as np
    import polars as pl

    early = (pl.col("start_date") < start) & (
        pl.col("end_date").is_null() | (pl.col("end_date") >= start)
    )
    chosen = episodes.filter((pl.col("start_date") >= start) | early)
    w, ended = _weeks(chosen["start_date"], chosen["end_date"], as_of)
    days = chosen.select((pl.lit(start) - pl.col("start_date")).dt.total_days()).to_series()
    follow, _ = _weeks(chosen["start_date"], [None] * chosen.height, as_of)
    return chosen, w, ended, np.maximum(days.to_numpy().astype(float), 0.0) / 7, follow


def goal_lines(fits: Fits) -> list[str]:
    """The weeks to goal for the console, per segment: the life table behind them and, when
    calibrated behind the slowdown, the shares matched (f3-goal)."""
    lines = []
    for seg in fits.segments:
        table = seg.weeks.table
        if table is None:
            continue
        line = (
            f"segment '{seg.name}': weeks to goal from a life table over {len(table.at_risk)} "
            f"reviews ({table.episodes} episodes, {table.entered_late} in support on the start "
            f"date, entering at their next review)"
        )
        g = seg.goal
        if g is not None:
            line += (
                f"; gamma calibrated by Monte Carlo to the shares in support after reviews 1 and 2 "
                f"({g.target[0]:.3f}, {g.target[1]:.3f}; matched at {g.matched_at[0]:.3f}, "
                f"{g.matched_at[1]:.3f})"
            )
        lines.append(f"{line}: mean {seg.goal_mean:.2f}, sd {seg.goal_sd:.2f} weeks")
        if g is not None and not g.matched:
            lines.append("! not matched within the shares' 95 % intervals; the closest is kept")
        if table.caveat():
            lines.append(f"! {table.caveat().lstrip('. ')}")
    return lines


def _calibrate_goal(
    weeks: DurationFit, accuracy: Any, need_mean: float, need_sd: float, rng: np.random.Generator
) -> GoalCalibration:
    """Gamma weeks to goal whose time in support, slowed as the model slows under-granted
    citizens, leaves the life table's shares in support after reviews 1 and 2
    (``fitting.calibrate_goal``)."""
    from sim.run.fitting import calibrate_goal, slowdown_draws

    assert weeks.table is not None
    draws = slowdown_draws(
        accuracy.error_sd, accuracy.min_granted_hours_per_week, need_mean, need_sd, rng
    )
    return calibrate_goal(weeks.table, draws, rng)


def _goal_fit(
    w: np.ndarray,
    ended: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray],
    timing: ReviewTiming | None,
) -> DurationFit:
    """Weeks to the goals: the time in support, or, when support ends at reviews, the interval
    between the review before the end and the one that ended it, over a life table with the
    earlier starts' delayed entry (``fitting.goal_life_table``)."""
    from sim.run.fitting import fit_duration, fit_goal_life_table, goal_life_table

    if timing is None:
        return fit_duration(w, ended)
    return fit_goal_life_table(goal_life_table(w, ended, *seen, timing))


def _rows_of(rows: Any) -> str:
    from sim.config.cases import row_ranges

    return row_ranges(sorted(int(r) for r in rows))


def _caseload(frame: Any, start: dt.date) -> tuple[int, int, int]:
    """Cases in support, granted and waiting, and referred but undecided on ``start``."""
    import polars as pl

    open_on = pl.col("end_date").is_null() | (pl.col("end_date") > start)
    started = pl.col("start_date").is_not_null() & (pl.col("start_date") <= start)
    decided = pl.col("decision_date").is_not_null() & (pl.col("decision_date") <= start)
    in_support = frame.filter(started & open_on).height
    waiting = frame.filter(decided & (pl.col("decision") == "granted") & ~started & open_on).height
    undecided = frame.filter((pl.col("referral_date") <= start) & ~decided).height
    return in_support, waiting, undecided


# --------------------------------------------------------------------------- f1-calib


@dataclass(frozen=True)
class Calibration:
    """What the simulation-based calibration of the delay before the decision did: the observed
    median (Kaplan-Meier), the search (``sim.run.calibrate.search_delay``: every trial's delay and
    simulated median), the closed-form delay it started from, and how each trial ran."""

    observed: Median
    search: Search
    closed_form: float
    replications: int
    warmup_weeks: float
    seed: int

    @property
    def delay_mean(self) -> float:
        return self.search.chosen.delay_mean

    @property
    def before(self) -> float:
        """The simulated median with the closed-form delay (weeks)."""
        return self.search.trials[0].simulated

    @property
    def after(self) -> float:
        return self.search.chosen.simulated


def closed_form_delay(fits: Fits) -> float:
    """The pure delay of the closed-form fit: the observed mean time less the pathway's steps."""
    return fits.decision.best.mean - fits.decision_steps_weeks


def delay_sd(fits: Fits, mean: float) -> float:
    """The sd of a delay with this mean other than the closed form's: the observed time's
    coefficient of variation (the closed form keeps the observed time's sd whatever its mean,
    which for a short delay is a shape so skewed that its median hardly moves with the mean)."""
    best = fits.decision.best
    return max(round(mean * best.sd / best.mean, 2), 0.01)


def calibrate_delay(
    fits: Fits, cases: Cases, scenario_at: Callable[[float], Scenario], base_dir: Path
) -> Calibration | None:
    """Run the fitted scenario (``scenario_at(delay mean)``) briefly and adjust the classic delay
    before the decision until its simulated median time to decision matches the export's (see
    ``sim.run.calibrate``). None when the period has no decision to compare with."""
    from sim.run import calibrate as cal

    try:
        observed = cal.observed_median(cases.frame, fits.start, fits.as_of)
    except ValueError:
        return None

    def simulate(mean: float) -> float:
        sc = scenario_at(mean)
        return cal.simulated_median(sc, fits.start, fits.as_of, base_dir=base_dir)

    closed = closed_form_delay(fits)
    search = cal.search_delay(simulate, observed, closed)
    sc = scenario_at(search.chosen.delay_mean)
    warm = min(sc.experiment.warmup_weeks, cal.WARMUP_WEEKS)
    return Calibration(observed, search, closed, cal.REPLICATIONS, warm, sc.experiment.seed)


def calibration_lines(cal: Calibration) -> list[str]:
    """The calibration for the console: what, how many simulations, before and after."""
    obs, search = cal.observed, cal.search
    lines = [
        f"calibrated the classic delay before the decision by simulation: {len(search.trials)} "
        f"run(s) of {cal.replications} replications (seed {cal.seed}); median time to decision "
        f"observed {obs.value:.2f} weeks (95 % interval {obs.low:.2f}-{obs.high:.2f}), "
        f"simulated {cal.before:.2f} with the closed-form mean delay ({cal.closed_form:.2f} "
        f"weeks), {cal.after:.2f} with the calibrated delay (mean {cal.delay_mean:g} weeks)"
    ]
    if search.queue_exceeds:
        lines.append(
            "! not matched: with no delay at all the wait for case workers' hours alone takes "
            "longer than observed; the delay is 0, and the scenario's authority (staff and hours "
            "copied from the base) has less capacity for its work than the data show"
        )
    elif search.insensitive:
        lines.append(
            f"! not matched: the simulated median moves {search.response:.2f} weeks per week of "
            "delay; the queue for case workers' hours absorbs the delay (the scenario's authority "
            "is near or over its capacity); the closest delay is kept"
        )
    elif not search.matched:
        lines.append(
            f"! not matched within {len(search.trials)} runs (target {search.low:.2f}-"
            f"{search.high:.2f} weeks); the closest delay is kept"
        )
    return lines


# --------------------------------------------------------------------------- the scenario text


def compose(fits: Fits, base: Scenario, base_path: Path, name: str) -> str:
    """The scenario as commented YAML text (see ``sim.app.fit_yaml``)."""
    from sim.app.fit_yaml import scenario_text

    return scenario_text(fits, base, base_path, name)
