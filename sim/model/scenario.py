"""The scenario schema: the single source of truth for validation, defaults, JSON Schema and docs.

A scenario describes one municipality (budget, staff, citizens, referrals), the visitation models to
compare (each a named set of mechanism settings, see docs/model.md §6) and the experiment. Unknown
keys are errors everywhere. Units are in the key names (``_weeks``, ``_hours``, ``_dkk``...) or in
the field descriptions that ``sim schema`` carries.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.model.distributions import Distribution, Fixed
from sim.model.referrals import locate, read_referral_days
from sim.model.values import count_only, flag_only, number_only

# Strict: true/false, text ("3.0", "3,5") and an empty value are errors where a number belongs.
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(number_only)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(number_only)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(number_only)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(number_only)]
Count = Annotated[int, BeforeValidator(count_only)]
Flag = Annotated[bool, BeforeValidator(flag_only)]
Number = Annotated[float, Field(allow_inf_nan=False), BeforeValidator(number_only)]

GROUPS = ("authority", "provider")

MIN_NEED_HOURS_PER_WEEK = 0.05
"""Floor on a drawn need: progress runs at granted / need, so a need of 0 has no rate."""
MIN_WEEKS_TO_GOAL = 0.01
"""Floor on drawn weeks to goal: a draw of 0 (a fixed 0, an empirical 0, a tiny gamma draw) means
support ends about an hour after it starts, not at the instant it starts."""


class Strict(BaseModel):
    """Base for every scenario block: unknown keys are errors; values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------- budget and staff


class Budget(Strict):
    annual_dkk: Positive = Field(description="The fixed annual budget, DKK per year.")


class StaffGroup(Strict):
    fte_cost_dkk_per_year: Positive = Field(
        description="Cost of one full-time equivalent including overhead, DKK per year."
    )
    hours_per_week: Positive = Field(37.0, le=168, description="Contracted hours per week per FTE.")
    productive_share: Probability = Field(
        0.75,
        description="Share of contracted hours available for case work and citizens, after "
        "holidays, sickness, training and internal meetings (0-1).",
    )

    def capacity_hours_per_week(self, fte: float) -> float:
        """Productive hours per week that ``fte`` full-time equivalents give."""
        return fte * self.hours_per_week * self.productive_share


class Staff(Strict):
    authority: StaffGroup = Field(description="Case workers (myndighed).")
    provider: StaffGroup = Field(description="Support workers (udfører, vejledere).")


class FixedStaffing(Strict):
    mode: Literal["fixed"] = "fixed"
    authority_fte: NonNeg = Field(description="Authority staff, full-time equivalents.")
    provider_fte: NonNeg = Field(description="Provider staff, full-time equivalents.")


class ShareStaffing(Strict):
    mode: Literal["share"] = "share"
    authority_share: Probability = Field(
        description="Share of the budget spent on authority staff (0-1); the rest on provider "
        "staff."
    )


class OptimiseStaffing(Strict):
    mode: Literal["optimise"] = "optimise"
    max_p90_wait_weeks: Positive = Field(
        12.0,
        description="Limit on the 90th percentile of time from referral to support start, weeks.",
    )
    min_authority_share: Probability = Field(
        0.02, description="Lowest authority share tried (0-1)."
    )
    max_authority_share: Probability = Field(
        0.5, description="Highest authority share tried (0-1)."
    )
    coarse_step: Positive = Field(0.04, le=0.5, description="Step of the coarse pass, share.")
    fine_step: Positive = Field(0.01, le=0.5, description="Step of the fine pass, share.")
    top_k: Count = Field(3, ge=1, le=20, description="Candidates re-run before one is named.")
    confirm_replications: Count = Field(
        60, ge=2, le=10_000, description="Replications for the re-run of the best candidates."
    )
    fallback_authority_share: Probability = Field(
        0.15,
        description="Authority share used when `sim run` meets this mode without running the "
        "optimiser (0-1).",
    )

    @model_validator(mode="after")
    def _range(self) -> OptimiseStaffing:
        if self.min_authority_share >= self.max_authority_share:
            raise ValueError("expected min_authority_share < max_authority_share")
        return self


Staffing = Annotated[FixedStaffing | ShareStaffing | OptimiseStaffing, Field(discriminator="mode")]


# --------------------------------------------------------------------------- citizens


class PoissonArrivals(Strict):
    kind: Literal["poisson"] = "poisson"
    rate_per_week: Positive = Field(
        le=1000,
        description="Mean referrals per week. At most 1,000: more than all of Denmark's "
        "(~41,000 recipients of § 85 support, about a year each, is ~800 referrals a week); the "
        "largest municipality (~650,000 inhabitants) has ~100.",
    )
    monthly_factors: list[NonNeg] | None = Field(
        None,
        min_length=12,
        max_length=12,
        description="Optional seasonal profile: 12 factors (January first) that multiply the rate.",
    )


class CsvArrivals(Strict):
    kind: Literal["csv"] = "csv"
    # date_column comes before path so that path's check can read the file with it.
    date_column: str = Field("date", description="Name of the column holding the dates.")
    path: str = Field(
        description="CSV file of real referral dates (YYYY-MM-DD), relative to the scenario file."
    )

    @field_validator("path")
    @classmethod
    def _readable(cls, value: str, info: ValidationInfo) -> str:
        # Parse now so a malformed file is reported at load time, at the `path:` line.
        if "date_column" in info.data:  # else that key is wrong, and reported there
            _check_referrals(value, info.data["date_column"], info)
        return value

    def days(self, base_dir: Path) -> list[float]:
        """Referral times in days from the first referral date."""
        return read_referral_days(base_dir / self.path, self.date_column)


def _check_referrals(value: str, column: str, info: ValidationInfo) -> None:
    """Read the referral file when the loader gives the scenario's folder (``base_dir``).

    The file must be inside that folder unless the context says ``allow_outside_paths``.
    """
    context = info.context or {}
    base = context.get("base_dir")
    if base is not None:
        path, inside = locate(Path(base), value, bool(context.get("allow_outside_paths")))
        read_referral_days(path, column, show_content=inside)


Arrivals = Annotated[PoissonArrivals | CsvArrivals, Field(discriminator="kind")]


NAME_CHARS = "letters, digits, '_', '.', '-', '+', '@', '[' and ']'"
SEGMENT_CHARS = "letters, digits, spaces and _ . , ( ) + / -"
_MODEL_NAME = re.compile(r"\w[\w.+@\[\]-]*")
_SEGMENT_NAME = re.compile(r"\w[\w .,()+/-]*")
MAX_NAME_LENGTH = 80
"""Longest name of a scenario, model or segment (a scenario's becomes a folder under results/)."""


def _safe_name(pattern: re.Pattern[str], chars: str) -> Any:
    """A name that reaches charts and tables as plain text: the chart library renders some HTML
    in labels (links among them), so markup characters are refused at load."""

    def check(value: str) -> str:
        if len(value) > MAX_NAME_LENGTH:
            raise PydanticCustomError(
                "name", "expected a name of at most {n} characters", {"n": MAX_NAME_LENGTH}
            )
        if not pattern.fullmatch(value):
            bad = next((c for c in value if not pattern.fullmatch("a" + c)), value[:1])
            raise PydanticCustomError(
                "name",
                "expected a name of {chars}, starting with a letter or digit; found '{bad}'",
                {"chars": chars, "bad": bad or "an empty name"},
            )
        return value

    return AfterValidator(check)


ModelName = Annotated[str, _safe_name(_MODEL_NAME, NAME_CHARS)]
SegmentName = Annotated[str, _safe_name(_SEGMENT_NAME, SEGMENT_CHARS)]


class Segment(Strict):
    name: SegmentName = Field(
        description=f"Short name of the segment, shown in reports ({SEGMENT_CHARS})."
    )
    share: Probability = Field(description="Share of referrals in this segment (0-1).")
    need_hours_per_week: Distribution = Field(
        description="True need for support, hours per week. A draw below "
        f"{MIN_NEED_HOURS_PER_WEEK:g} is raised to {MIN_NEED_HOURS_PER_WEEK:g} (progress runs at "
        "granted / need, so a need of 0 has no rate)."
    )
    weeks_to_goal: Distribution = Field(
        description="Weeks of support needed to reach the goals when the need is fully met. A "
        f"draw below {MIN_WEEKS_TO_GOAL:g} is raised to {MIN_WEEKS_TO_GOAL:g}."
    )
    goals: Distribution = Field(
        Fixed(value=3),
        description="Number of goals (count): each draw is rounded to a whole number, at least 1.",
    )
    eligible_probability: Probability = Field(
        0.9, description="Probability that a referral is eligible for support (0-1)."
    )


MAX_CASELOAD = 50_000
"""More than all of Denmark's § 85 recipients (~41,000, KL 2016); the largest municipality
(~650,000 inhabitants at 0.7 %) has ~4,500."""


class InitialCaseload(Strict):
    in_support: Count = Field(
        0,
        ge=0,
        le=MAX_CASELOAD,
        description="Citizens in support at the start (at most 50,000: more than all of "
        "Denmark's ~41,000 recipients).",
    )
    waiting: Count = Field(
        0,
        ge=0,
        le=MAX_CASELOAD,
        description="Citizens waiting for support to start at the start (at most 50,000).",
    )


class Exits(Strict):
    abandon_waiting_per_year: NonNeg = Field(
        0.0,
        description="Hazard of leaving the support waiting list before support starts (the "
        "citizen gives up, moves or no longer needs it), per citizen per year; 0 = never.",
    )
    dropout_per_year: NonNeg = Field(
        0.0, description="Drop-out hazard while in support, per citizen per year."
    )
    rereferral_probability: Probability = Field(
        0.0, description="Probability that a citizen who leaves is referred again (0-1)."
    )
    rereferral_delay_weeks: Distribution = Field(
        Fixed(value=26), description="Time from leaving to the new referral, weeks."
    )


# --------------------------------------------------------------------------- mechanisms


class Activity(Strict):
    """Work that holds ``hours / duration_weeks`` hours per week of each group while it runs."""

    authority_hours: NonNeg = Field(0.0, le=1000, description="Authority effort, hours.")
    provider_hours: NonNeg = Field(0.0, le=1000, description="Provider effort, hours.")
    duration_weeks: NonNeg = Field(0.0, le=520, description="Elapsed duration, weeks.")

    @model_validator(mode="after")
    def _duration(self) -> Activity:
        if self.duration_weeks == 0 and (self.authority_hours > 0 or self.provider_hours > 0):
            raise ValueError("an activity with effort needs duration_weeks > 0")
        return self

    @property
    def is_empty(self) -> bool:
        return self.authority_hours == 0 and self.provider_hours == 0 and self.duration_weeks == 0


class FirstContact(Strict):
    joint: Flag = Field(
        False,
        description="True: authority and provider meet the citizen together, booked atomically. "
        "False: the authority assesses alone.",
    )
    meeting: Activity = Field(description="The first meeting with the citizen (citizen-facing).")
    assessment: Activity = Field(description="Writing the assessment and goals (case work).")
    documentation: Activity = Field(Activity(), description="Documentation of the first contact.")
    delay_weeks: Distribution = Field(
        Fixed(value=0),
        description="Pure delay after the assessment (hearing, doctor's statement), weeks.",
    )
    coordination_weeks: Distribution = Field(
        Fixed(value=0),
        description="Pure delay before the first meeting, weeks: finding a time when everyone "
        "can meet (citizen, case worker and, in a joint meeting, the provider). The joint preset "
        "draws it from triangular(0, 1, 3), an ASSUMPTION: no published figure (domain notes, "
        "pathway (b): coordinating diaries may lengthen the time to the first meeting).",
    )


class Decision(Strict):
    committee_cadence_weeks: NonNeg = Field(
        0.0, le=52, description="A visitation committee meets every this many weeks; 0 = none."
    )
    work: Activity = Field(description="Writing the decision and action plan (case work).")
    delay_weeks: Distribution = Field(Fixed(value=0), description="Pure delay, weeks.")


class Handoff(Strict):
    enabled: Flag = True
    order: Activity = Field(Activity(), description="Writing and reading the order (handoff).")
    transfer_delay_weeks: Distribution = Field(
        Fixed(value=0), description="Moving the case to the provider, pure delay, weeks."
    )


class StartupMeeting(Strict):
    enabled: Flag = True
    after_wait: Flag = Field(
        True,
        description="True: the provider holds its start-up meeting and writes its plan when a "
        "support place frees up, after the waiting list (the domain's classic pathway): the "
        "citizen takes the place, the meeting and plan come first in it (their provider hours "
        "taken out of the place's, at most its hours a week), and progress toward the goals "
        "starts when they end; the wait to support start runs to taking the place. False: "
        "meeting and plan are booked from the provider's free hours before the waiting list, "
        "and the place is taken when support itself starts.",
    )
    meeting: Activity = Field(Activity(), description="Provider's own start-up meeting.")
    plan: Activity = Field(Activity(), description="Provider's own plan (documentation).")


class Accuracy(Strict):
    error_sd: NonNeg = Field(
        0.3,
        le=5,
        description="Granted hours = true need x (1 + error), error ~ Normal(0, error_sd); "
        "a wider error over- and under-provides more.",
    )
    min_granted_hours_per_week: Positive = Field(
        0.5, le=100, description="Smallest award, hours per week."
    )


class Rework(Strict):
    probability: Probability = Field(
        0.0, description="Share of cases the provider returns for re-assessment (0-1)."
    )
    reassessment: Activity = Field(Activity(), description="The re-assessment (case work).")


class Routing(Strict):
    short_course_share: Probability = Field(
        0.0, description="Share of eligible citizens sent to a short course (§ 82b) (0-1)."
    )
    short_course_hours_per_week: NonNeg = Field(
        2.0, le=100, description="Provider hours per week per citizen on a short course."
    )
    short_course_weeks: Positive = Field(10.0, le=520, description="Length of a short course.")


class Review(Strict):
    cadence_weeks: NonNeg = Field(
        52.0,
        le=520,
        description="Weeks between reviews; support ends at the first review where the goals are "
        "reached. 0 = no reviews, support ends exactly when the goals are reached.",
    )
    joint: Flag = Field(False, description="Review meeting held jointly, booked atomically.")
    meeting: Activity = Field(Activity(), description="Review meeting with the citizen.")
    casework: Activity = Field(Activity(), description="Authority review of the case.")
    report: Activity = Field(Activity(), description="Provider status report (documentation).")
    adjust_hours: Probability = Field(
        0.0,
        description="Share of the gap between granted hours and true need closed at each review "
        "(0 = hours never adjusted).",
    )


class VisitationModel(Strict):
    """A named set of mechanism settings. The defaults are the classic, top-down preset."""

    extends: str | None = Field(
        None, description="Preset or other model whose settings this one starts from."
    )
    description: str = ""
    first_contact: FirstContact = FirstContact(
        meeting=Activity(authority_hours=2.0, duration_weeks=1.0),
        assessment=Activity(authority_hours=4.0, duration_weeks=1.0),
        documentation=Activity(authority_hours=0.5, duration_weeks=0.5),
        delay_weeks={"kind": "triangular", "low": 0.5, "mode": 1.5, "high": 4.0},
    )
    decision: Decision = Decision(
        committee_cadence_weeks=2.0, work=Activity(authority_hours=1.5, duration_weeks=0.4)
    )
    handoff: Handoff = Handoff(
        enabled=True,
        order=Activity(authority_hours=1.0, provider_hours=0.5, duration_weeks=0.4),
        transfer_delay_weeks={"kind": "triangular", "low": 0.5, "mode": 1.0, "high": 3.0},
    )
    startup_meeting: StartupMeeting = StartupMeeting(
        enabled=True,
        meeting=Activity(provider_hours=2.5, duration_weeks=1.0),
        plan=Activity(provider_hours=1.5, duration_weeks=1.0),
    )
    accuracy: Accuracy = Accuracy(error_sd=0.35)
    rework: Rework = Rework(
        probability=0.10, reassessment=Activity(authority_hours=2.0, duration_weeks=1.0)
    )
    routing: Routing = Routing(short_course_share=0.05)
    review: Review = Review(
        cadence_weeks=52.0,
        joint=False,
        meeting=Activity(authority_hours=1.5, duration_weeks=1.0),
        casework=Activity(authority_hours=1.5, duration_weeks=1.0),
        report=Activity(provider_hours=2.0, duration_weeks=1.0),
        adjust_hours=0.0,
    )

    @field_validator("extends", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, _UnknownBase):
            raise PydanticCustomError(
                "unknown_model",
                "model '{name}' extends this model again (a loop); expected one of: {known}"
                if value.loop
                else "unknown model '{name}' to extend; expected one of: {known}",
                {"name": str(value.name), "known": ", ".join(map(str, value.known))},
            )
        return value


MECHANISMS: tuple[str, ...] = tuple(
    name for name in VisitationModel.model_fields if name not in ("extends", "description")
)
"""The mechanisms: every setting of a visitation model but its base and description, in declaration
order, which is the order of the table in docs/model.md section 5 (the decomposition's default)."""


def all_mechanisms_off() -> dict[str, Any]:
    """A model's settings with every mechanism off (a fresh copy; a model ``extends: classic`` with
    them): no effort and no delay before support, no handoff or start-up meeting, an exact
    assessment, no rework, no short courses, no reviews. Queueing theory gives the answer for it
    (``sim.model.theory``), and tests switch one mechanism on against it."""
    zero = {"authority_hours": 0, "provider_hours": 0, "duration_weeks": 0}
    return {
        "extends": "classic",
        "first_contact": {
            "joint": False,
            "meeting": dict(zero),
            "assessment": dict(zero),
            "documentation": dict(zero),
            "delay_weeks": 0,
        },
        "decision": {"committee_cadence_weeks": 0, "work": dict(zero), "delay_weeks": 0},
        "handoff": {"enabled": False, "order": dict(zero), "transfer_delay_weeks": 0},
        "startup_meeting": {"enabled": False, "meeting": dict(zero), "plan": dict(zero)},
        "accuracy": {"error_sd": 0.0},
        "rework": {"probability": 0.0},
        "routing": {"short_course_share": 0.0},
        "review": {"cadence_weeks": 0, "adjust_hours": 0.0},
    }


CLASSIC: dict[str, Any] = {"description": "Classic, top-down: assess alone, decide, hand over."}
JOINT: dict[str, Any] = {
    "description": "Joint: authority and provider meet the citizen together, few goals, "
    "frequent light reviews.",
    "first_contact": {
        "joint": True,
        "meeting": {"authority_hours": 2.0, "provider_hours": 2.0, "duration_weeks": 1.5},
        "assessment": {"authority_hours": 2.0, "provider_hours": 1.0, "duration_weeks": 1.0},
        "documentation": {"authority_hours": 0.5, "provider_hours": 0.5, "duration_weeks": 0.5},
        "delay_weeks": {"kind": "fixed", "value": 0.5},
        # ASSUMPTION (no published figure): finding a time for citizen, case worker and provider
        # takes 0-3 weeks, most often 1 (mean 1.33 weeks).
        "coordination_weeks": {"kind": "triangular", "low": 0.0, "mode": 1.0, "high": 3.0},
    },
    "decision": {
        "committee_cadence_weeks": 0.0,
        "work": {"authority_hours": 0.5, "duration_weeks": 0.2},
        "delay_weeks": {"kind": "fixed", "value": 0.0},
    },
    "handoff": {
        "enabled": False,
        "order": {"authority_hours": 0.0, "provider_hours": 0.0, "duration_weeks": 0.0},
        "transfer_delay_weeks": {"kind": "fixed", "value": 0.0},
    },
    "startup_meeting": {
        "enabled": False,
        "meeting": {"provider_hours": 0.0, "duration_weeks": 0.0},
        "plan": {"provider_hours": 0.0, "duration_weeks": 0.0},
    },
    "accuracy": {"error_sd": 0.15},
    "rework": {"probability": 0.02},
    "routing": {"short_course_share": 0.15},
    "review": {
        "cadence_weeks": 13.0,
        "joint": True,
        "meeting": {"authority_hours": 0.75, "provider_hours": 0.75, "duration_weeks": 1.0},
        "casework": {"authority_hours": 0.25, "duration_weeks": 1.0},
        "report": {"provider_hours": 0.5, "duration_weeks": 1.0},
        "adjust_hours": 0.5,
    },
}
PRESETS: dict[str, dict[str, Any]] = {"classic": CLASSIC, "joint": JOINT}
"""Built-in presets, as partial settings over the classic defaults of ``VisitationModel``."""


class _UnknownBase:
    """Marks an ``extends`` that names no preset or model, so the error lands on that key."""

    def __init__(self, name: Any, known: list[str], loop: bool = False) -> None:
        self.name, self.known, self.loop = name, known, loop


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``, mapping by mapping; neither input is changed.

    A mapping with a discriminator (``kind`` of a distribution or arrivals, ``mode`` of staffing)
    replaces its counterpart whole, since its fields depend on it. A number under ``mode`` is a
    triangular distribution's mode, not a discriminator: ``{mode: 2}`` changes only the mode.
    """
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if (
            isinstance(value, dict)
            and isinstance(out.get(key), dict)
            and "kind" not in value
            and not isinstance(value.get("mode"), str)
        ):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def preset_settings(name: str) -> dict[str, Any]:
    """The full settings of a built-in preset, as a plain mapping."""
    classic = VisitationModel().model_dump(by_alias=True, exclude={"extends"})
    return deep_merge(classic, PRESETS[name])


@functools.cache
def _preset_model(name: str) -> VisitationModel:
    return VisitationModel.model_validate(preset_settings(name))


def _settings_of(model: VisitationModel) -> dict[str, Any]:
    """What a model does and says, without the ``extends`` it was written with."""
    return model.model_dump(mode="json", exclude={"extends"})


def _resolve_models(raw: dict[str, Any]) -> dict[str, Any]:
    """Lay each user model on the model it extends (recursively); the root is the classic preset.

    A user model that carries a preset's name and names no base (``models.joint.review...`` from
    a ``--set``) starts from that preset, not from classic: it changes the preset, so setting a
    value to what it already is changes nothing.
    """
    resolved: dict[str, Any] = {}
    known = sorted(set(PRESETS) | set(raw), key=str)

    def resolve(name: str, seen: tuple[str, ...]) -> Any:
        if name in resolved:
            return resolved[name]
        spec = raw[name]
        if not isinstance(spec, dict):
            return spec
        base_name = spec.get("extends")
        if base_name is None and name in PRESETS:
            base_name = name
        base: Any = preset_settings("classic")
        if base_name is not None:
            loop = base_name in seen or (base_name == name and name not in PRESETS)
            if not isinstance(base_name, str) or base_name not in known or loop:
                unknown = _UnknownBase(base_name, [k for k in known if k != name], loop)
                resolved[name] = {**spec, "extends": unknown}
                return resolved[name]
            if base_name in raw and base_name != name:
                base = resolve(base_name, (*seen, name))
            else:
                base = preset_settings(base_name)
        if isinstance(base, dict):
            own = base_name == name  # a preset changed in place keeps its description
            drop = ("extends",) if own else ("extends", "description")
            base = {k: v for k, v in base.items() if k not in drop}
            resolved[name] = deep_merge(base, spec)
        else:
            resolved[name] = spec
        return resolved[name]

    for name in raw:
        resolve(name, ())
    return resolved


# --------------------------------------------------------------------------- experiment


class Experiment(Strict):
    seed: Count = Field(12345, ge=0, lt=2**63, description="Master seed of all random streams.")
    replications: Count = Field(30, ge=2, le=100_000, description="Independent replications.")
    horizon_weeks: Positive = Field(
        520.0, le=52 * 200, description="Simulated length including the warm-up, weeks."
    )
    warmup_weeks: NonNeg = Field(52.0, description="Warm-up, weeks; nothing before it is measured.")
    stream_key: Annotated[int, Field(ge=0, lt=2**63), BeforeValidator(count_only)] | None = Field(
        None,
        description="Extra number mixed into every random stream. A sweep writes each point's "
        "key into the point's scenario.yaml, so `sim run` on it reproduces the point exactly; "
        "leave it unset otherwise.",
    )

    @field_validator("warmup_weeks")
    @classmethod
    def _shorter(cls, value: float, info: ValidationInfo) -> float:
        horizon = info.data.get("horizon_weeks")
        if horizon is not None and value >= horizon:
            raise ValueError(f"warm-up must be shorter than horizon_weeks ({horizon:g})")
        return value


class SweepRange(Strict):
    start: Number
    stop: Number
    step: Positive

    def values(self) -> list[float]:
        """Inclusive range start, start+step, ... <= stop (rounded to avoid float drift)."""
        n = math.floor((self.stop - self.start) / self.step + 1e-9)
        return [round(self.start + i * self.step, 10) for i in range(max(n, 0) + 1)]


class Sweep(Strict):
    mode: Literal["grid", "zip"] = Field("grid", description="Full grid or lists zipped together.")
    parameters: dict[str, list[Any] | SweepRange] = Field(
        description="Key paths (e.g. budget.annual_dkk) mapped to a list of values or a range.",
        min_length=1,
    )


# --------------------------------------------------------------------------- provenance
# u1-design: where a number comes from, and how uncertain it is (issue 12).


class UniformRange(Strict):
    kind: Literal["uniform"] = "uniform"
    low: Number = Field(description="Lowest plausible value, in the unit of the value.")
    high: Number = Field(description="Highest plausible value, in the unit of the value.")

    @model_validator(mode="after")
    def _order(self) -> UniformRange:
        if not self.low < self.high:
            raise ValueError(f"expected low < high, found low {self.low:g}, high {self.high:g}")
        return self


class TriangularRange(Strict):
    kind: Literal["triangular"] = "triangular"
    low: Number = Field(description="Lowest plausible value, in the unit of the value.")
    mode: Number = Field(description="Most likely value, in the unit of the value.")
    high: Number = Field(description="Highest plausible value, in the unit of the value.")

    @model_validator(mode="after")
    def _order(self) -> TriangularRange:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"expected low <= mode <= high and low < high, found low {self.low:g}, "
                f"mode {self.mode:g}, high {self.high:g}"
            )
        return self


UncertainRange = Annotated[UniformRange | TriangularRange, Field(discriminator="kind")]

Citation = Annotated[str, Field(min_length=1, max_length=1000)]


class ProvenanceEntry(Strict):
    """Where one number of the scenario comes from: a source or an assumption, and its range."""

    source: Citation | None = Field(
        None, description="A short citation or URL the value is taken from."
    )
    assumption: Citation | None = Field(
        None, description="Why the value is assumed (no source found)."
    )
    uncertain: UncertainRange | None = Field(
        None,
        description="Plausible values (uniform {low, high} or triangular {low, mode, high}), "
        "in the unit of the value; `sim uncertainty` draws from it. The scenario's value must "
        "lie inside, and low and high must be valid values of the setting.",
    )

    @model_validator(mode="after")
    def _one_basis(self) -> ProvenanceEntry:
        if (self.source is None) == (self.assumption is None):
            raise ValueError("expected exactly one of 'source' or 'assumption'")
        return self


class Scenario(Strict):
    """One municipality, the visitation models to compare and the experiment."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Short id.")
    description: str = ""
    budget: Budget
    staff: Staff
    staffing: Staffing
    arrivals: Arrivals
    segments: list[Segment] = Field(min_length=1)
    initial_caseload: InitialCaseload = InitialCaseload()
    exits: Exits = Exits()
    models: dict[ModelName, VisitationModel] = Field(
        default_factory=dict,
        description="User-defined models; `classic` and `joint` are always available. Names: "
        f"{NAME_CHARS}.",
    )
    compare: list[str] = Field(
        ["classic", "joint"],
        min_length=1,
        description="Models to run, baseline first; differences are each model minus the first.",
    )
    support_queue: Literal["fifo", "first_fit"] = Field(
        "fifo",
        description="Support waiting list: strict first-in-first-out, or first-fit (a later "
        "citizen whose hours fit may start before an earlier one whose hours do not).",
    )
    review_priority: Literal["arrival", "reviews_first"] = Field(
        "arrival",
        description="Reviews of citizens in support queue for staff hours with new intake in "
        "arrival order (arrival), or are served before all waiting new intake (reviews_first); "
        "support runs on until its review happens.",
    )
    review_provider_hours: Literal["free", "support"] = Field(
        "free",
        description="The provider's part of a review (status report, review meeting): booked "
        "from the provider's free hours like any other activity, so it costs capacity (free), "
        "or taken inside the citizen's granted support hours without slowing progress "
        "(support).",
    )
    experiment: Experiment = Experiment()
    sweep: Sweep | None = None
    provenance: dict[str, ProvenanceEntry] | None = Field(
        None,
        description="Sources and uncertainty of numbers, keyed by the same dotted paths as "
        "`--set` and sweeps (e.g. `arrivals.rate_per_week`, `models.joint.review.cadence_weeks`"
        "). Each entry has a `source` or an `assumption`, and optionally an `uncertain` range. "
        "Entries override the built-in ones of the classic and joint presets.",
    )

    @field_validator("name")
    @classmethod
    def _folder_safe(cls, value: str) -> str:
        # The name becomes a folder under results/: "." or ".." would write beside or above it.
        if set(value) <= {"."}:
            raise ValueError(
                f"expected a name with a letter or digit, found {value!r} (a name made of dots "
                "would write results outside results/)"
            )
        if len(value) > MAX_NAME_LENGTH:
            raise ValueError(f"expected at most {MAX_NAME_LENGTH} characters, found {len(value)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            data = dict(data)
            data["models"] = _resolve_models(dict(data["models"]))
        return data

    @field_validator("models")
    @classmethod
    def _drop_unchanged_presets(
        cls, value: dict[str, VisitationModel]
    ) -> dict[str, VisitationModel]:
        """A preset set to its own values is the preset, not a user model: it leaves the
        resolved scenario (and so a sweep point's identity and random streams) unchanged."""
        return {
            name: m
            for name, m in value.items()
            if name not in PRESETS or _settings_of(m) != _settings_of(_preset_model(name))
        }

    @field_validator("segments")
    @classmethod
    def _shares(cls, value: list[Segment]) -> list[Segment]:
        total = sum(s.share for s in value)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares must sum to 1, found {total:g}")
        names = [s.name for s in value]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        return value

    @field_validator("staffing")
    @classmethod
    def _within_budget(cls, value: Any, info: ValidationInfo) -> Any:
        budget, staff = info.data.get("budget"), info.data.get("staff")
        if isinstance(value, FixedStaffing) and budget is not None and staff is not None:
            cost = (
                value.authority_fte * staff.authority.fte_cost_dkk_per_year
                + value.provider_fte * staff.provider.fte_cost_dkk_per_year
            )
            if cost > budget.annual_dkk * (1 + 1e-12):
                raise ValueError(
                    f"staff cost {cost:,.0f} DKK/year exceeds the budget "
                    f"{budget.annual_dkk:,.0f} DKK/year"
                )
        return value

    @field_validator("compare")
    @classmethod
    def _known_models(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if "models" not in info.data:
            return value  # the models themselves are invalid; that error is reported there
        known = set(PRESETS) | set(info.data["models"])
        for name in value:
            if name not in known:
                raise ValueError(
                    f"unknown model '{name}'; expected one of: {', '.join(sorted(known))}"
                )
        if len(set(value)) != len(value):
            raise ValueError("each model may be compared once")
        return value

    # ------------------------------------------------------------------ derived values

    def model(self, name: str) -> VisitationModel:
        """The resolved settings of a preset or user model."""
        if name in self.models:
            return self.models[name]
        return VisitationModel.model_validate(preset_settings(name))

    def with_presets_spelled_out(self) -> Scenario:
        """A copy whose ``models`` also holds the full settings of every preset it compares, so a
        saved scenario keeps the settings it ran with even if a later version changes a preset."""
        models = {name: self.model(name) for name in self.compare if name not in self.models}
        if not models:
            return self
        return self.model_copy(update={"models": {**models, **self.models}})

    def staffing_fte(self, authority_share: float | None = None) -> tuple[float, float]:
        """FTEs of (authority, provider) under the staffing mode or an explicit budget share."""
        a_cost = self.staff.authority.fte_cost_dkk_per_year
        p_cost = self.staff.provider.fte_cost_dkk_per_year
        s = self.staffing
        if authority_share is None:
            if isinstance(s, FixedStaffing):
                return s.authority_fte, s.provider_fte
            authority_share = (
                s.authority_share if isinstance(s, ShareStaffing) else s.fallback_authority_share
            )
        budget = self.budget.annual_dkk
        return authority_share * budget / a_cost, (1 - authority_share) * budget / p_cost

    def staff_cost_dkk(self, fte: tuple[float, float]) -> float:
        """Annual cost of the given (authority, provider) FTEs, DKK per year."""
        return (
            fte[0] * self.staff.authority.fte_cost_dkk_per_year
            + fte[1] * self.staff.provider.fte_cost_dkk_per_year
        )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors and ``sim schema``."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sim scenario"
    defs: dict[str, Any] = schema["$defs"]

    def walk(node: Any) -> None:
        # A discriminated union needs its tag (`kind`, `mode`) even where the member has a default.
        if isinstance(node, dict):
            disc = node.get("discriminator")
            if isinstance(disc, dict):
                for ref in disc.get("mapping", {}).values():
                    member = defs[ref.rsplit("/", 1)[-1]]
                    required = member.setdefault("required", [])
                    if disc["propertyName"] not in required:
                        required.insert(0, disc["propertyName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # A user model is laid over the preset it extends, so any of its blocks may be partial.
    for name in ("FirstContact", "Decision", "Handoff", "StartupMeeting", "Review", "Rework"):
        defs.get(name, {}).pop("required", None)
    return schema
