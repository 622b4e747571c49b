"""The fitted scenario as commented YAML: every number says where it comes from.

A fitted number's comment names the file, the rows used, the method and a goodness of fit; a value
the data cannot give is copied from the base scenario under a comment that says ASSUMPTION. When
the scenario schema has a ``provenance:`` section, each number is also listed there, keyed by its
dotted path (the one ``--set`` takes), with ``source`` or ``assumption`` and, for the referral
rate and the share granted, their 95 % interval as an ``uncertain`` range.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

if TYPE_CHECKING:
    from sim.app.fit import Fits, Segment
    from sim.model.scenario import Scenario
    from sim.run.fitting import DurationFit, GoalCalibration

__all__ = ["scenario_text"]

WIDTH = 98


def _flow(mapping: dict[str, Any]) -> CommentedMap:
    out = CommentedMap(mapping)
    out.fa.set_flow_style()
    return out


def _note(parent: CommentedMap, key: str, text: str, indent: int) -> None:
    """A comment block above ``key``, wrapped to the page width."""
    lines = textwrap.wrap(text, WIDTH - indent - 2, break_on_hyphens=False)
    parent.yaml_set_comment_before_after_key(key, before="\n".join(lines), indent=indent)


def _d(date: Any) -> str:
    return f"{date:%d-%m-%Y}"


class _Doc:
    """The scenario being built and its provenance entries."""

    def __init__(self, fits: Fits, base: Scenario, base_path: Path) -> None:
        self.fits, self.base = fits, base
        self.base_name = base_path.name
        self.base_data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.root = CommentedMap()
        self.provenance: dict[str, dict[str, Any]] = {}

    def fitted(self, path: str, source: str, low: float | None = None, high: float | None = None):
        entry: dict[str, Any] = {"source": f"{Path(self.fits.source).name}: {source}"}
        if low is not None and high is not None and low < high:
            entry["uncertain"] = _flow({"kind": "uniform", "low": low, "high": high})
        self.provenance[path] = entry

    def assumed(self, path: str) -> None:
        """A number copied from the base scenario: the base's own provenance entry kept (its
        source, or its assumption), else marked an assumption of this file."""
        theirs = (self.base_data.get("provenance") or {}).get(path) or {}
        text = f"copied from {self.base_name}; the case data cannot give it"
        entry: dict[str, Any]
        if theirs.get("source"):
            entry = {"source": f"{text}; its source: {theirs['source']}"}
        elif theirs.get("assumption"):
            entry = {"assumption": f"{text} ({theirs['assumption']})"}
        else:
            entry = {"assumption": text}
        if "uncertain" in theirs:
            entry["uncertain"] = _flow(dict(theirs["uncertain"]))
        self.provenance[path] = entry

    def assume_block(self, key: str, value: Any, indent: int = 0, but: str = "") -> None:
        """Copy the base's ``key`` block whole, marked ASSUMPTION, its numbers in provenance
        (``but`` names what a later step fits inside it)."""
        self.root[key] = _plain(value)
        _note(
            self.root,
            key,
            f"ASSUMPTION: copied from {self.base_name}; the case data cannot "
            f"give it{but}. Replace it with your own figures.",
            indent,
        )
        for path in _number_paths(value, key):
            self.assumed(path)


def _plain(value: Any, depth: int = 1) -> Any:
    """Plain data as ruamel nodes: leaf mappings below the top in flow style, whole floats as
    integers (16500000, not 16500000.0)."""
    if isinstance(value, dict):
        out = CommentedMap((k, _plain(v, depth + 1)) for k, v in value.items())
        if depth >= 2 and all(not isinstance(v, dict) for v in value.values()):
            out.fa.set_flow_style()
        return out
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        seq = CommentedSeq(_plain(v, depth + 1) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _number_paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict):
        if "kind" in value:
            return []  # a distribution: its numbers are described by its kind
        return [p for k, v in value.items() for p in _number_paths(v, f"{prefix}.{k}")]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [prefix]
    return []


def _r(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


def _dist(fit: DurationFit, mean: float | None = None, sd: float | None = None) -> CommentedMap:
    family = fit.best.family
    return _flow(
        {
            "kind": family,
            "mean": _r(mean if mean is not None else fit.best.mean),
            "sd": _r(sd if sd is not None else fit.best.sd),
        }
    )


# --------------------------------------------------------------------------- blocks


def _arrivals(doc: _Doc) -> None:
    f = doc.fits
    rate, season = f.rate, f.season
    block = CommentedMap(kind="poisson", rate_per_week=_r(rate.per_week, 3))
    doc.root["arrivals"] = block
    test = (
        f"G-test (likelihood ratio) of the calendar months against a constant rate: "
        f"G = {season.statistic:.1f}, df {season.df}, p = {season.p_value:.3g}: {season.reason}"
        if season.statistic is not None
        else f"Seasonality {season.reason}"
    )
    source = (
        f"{rate.count} referrals in {rate.weeks:.1f} weeks ({_d(f.start)} to {_d(f.as_of)}, "
        f"{f.rate_rows}); Poisson maximum likelihood (count / weeks), 95 % interval "
        f"{rate.low:.2f}-{rate.high:.2f} a week"
    )
    source += _which_referrals(f)
    _note(block, "rate_per_week", f"FITTED from {Path(f.source).name}: {source}. {test}.", 2)
    doc.fitted("arrivals.rate_per_week", source, _r(rate.low, 3), _r(rate.high, 3))
    if season.factors is not None:
        block["monthly_factors"] = _plain([_r(x) for x in season.factors], 2)
        text = "each calendar month's referral rate over the mean rate (January first)"
        _note(
            block,
            "monthly_factors",
            f"FITTED: {text}; used because the test above found a month effect at the 5 % level.",
            2,
        )
        for i in range(12):
            doc.fitted(f"arrivals.monthly_factors.{i}", f"{text}; {test}")


def _which_referrals(f: Fits) -> str:
    """Whether the rate counts first referrals only, or re-referrals too (see ``_rereferral``)."""
    r = f.reref
    if r is not None and r.identified:
        return (
            f"; first referrals only: {int(r.repeat.sum())} re-referral(s) (a citizen_id "
            f"referred again after a case of theirs ended, {f.reref_rows}) are left out, as the "
            "scenario adds them through exits.rereferral_probability"
        )
    return (
        "; it includes any re-referrals (the export does not show a citizen_id referred again "
        "after a case of theirs ended), so exits.rereferral_probability is 0"
    )


def _segments(doc: _Doc) -> None:
    f, m = doc.fits, doc.fits.mixture
    bics = ", ".join(f"{k}: {b:.1f}" for k, b in m.bic.items())
    seq = CommentedSeq()
    doc.root["segments"] = seq
    _note(
        doc.root,
        "segments",
        (
            f"FITTED from {Path(f.source).name}, {f.hours_rows} (granted hours of § 85 cases): a "
            f"mixture of log-normals fitted by EM; {m.k} segment(s) chosen by BIC over 1-4 "
            f"components (BIC {bics}; the lowest wins; a segment holds at least 10 cases). KS "
            f"statistic of the mixture against the hours: {m.ks:.3f}. The need is the granted "
            "hours with the spread of the classic assessment error "
            f"(error_sd {f.error_sd:g}) taken out: "
            "need sd = sqrt((sd^2 + mean^2) / (1 + error_sd^2) - mean^2)."
        ),
        0,
    )
    shares = _shares([s.share for s in f.segments])
    base_segments = doc.base_data["segments"]
    for i, (seg, share) in enumerate(zip(f.segments, shares, strict=True)):
        like = base_segments[
            min(round(i * len(base_segments) / len(f.segments)), len(base_segments) - 1)
        ]
        seq.append(_segment(doc, i, seg, share, like))


def _shares(values: list[float]) -> list[float]:
    """Rounded to 0.001 and summing to exactly 1 (the largest takes the rounding)."""
    thousandths = [round(v * 1000) for v in values]
    big = max(range(len(values)), key=lambda i: values[i])
    thousandths[big] += 1000 - sum(thousandths)
    return [t / 1000 for t in thousandths]


def _slowdown_text(doc: _Doc, seg: Segment) -> str:
    """How the observed time to the goals became the scenario's weeks to goal."""
    m1, m2 = seg.slowdown
    if seg.goal is not None:
        return _goal_text(doc, seg, seg.goal)
    if m1 <= 1 + 1e-9:
        return f". Mean {seg.goal_mean:.2f}, sd {seg.goal_sd:.2f} weeks"
    error_sd = doc.base.model("classic").accuracy.error_sd
    return (
        f". Observed mean {seg.weeks.best.mean:.2f}, sd {seg.weeks.best.sd:.2f} weeks. In the "
        f"model a citizen granted fewer hours than the need (classic error_sd {error_sd:g}) "
        "progresses at granted / need, so the observed time is the weeks to goal times a "
        f"slowdown S (E[S] {m1:.3f}, E[S^2] {m2:.3f}, Monte Carlo over 200,000 draws of the "
        "need and the error); taken out by moments, E[W] = E[T] / E[S], E[W^2] = E[T^2] / "
        f"E[S^2]: mean {seg.goal_mean:.2f}, sd {seg.goal_sd:.2f} weeks"
    )


def _goal_text(doc: _Doc, seg: Segment, g: GoalCalibration) -> str:
    """How the weeks to goal were calibrated to the life table (f3-goal)."""
    error_sd = doc.base.model("classic").accuracy.error_sd
    miss = "" if g.matched else " NOT matched within the intervals (the closest cv is kept);"
    if g.solutions > 1:
        miss += (
            f" {g.solutions} pairs of mean and sd match both shares; the one nearest the share "
            "past review 3 is kept;"
        )
    return (
        f". Observed (the fit above) mean {seg.weeks.best.mean:.2f}, sd {seg.weeks.best.sd:.2f} "
        f"weeks. In the model a citizen granted fewer hours than the need (classic error_sd "
        f"{error_sd:g}) progresses at granted / need, so the time in support is the weeks to goal "
        f"W times a slowdown S. Calibrated by Monte Carlo ({g.draws:,} draws of the need and the "
        "error, fixed seed): gamma W such that P(W x S past review 1) and P(W x S past review 2) "
        f"equal the life table's survival after reviews 1 and 2 ({g.target[0]:.3f}, 95 % "
        f"interval {g.low[0]:.3f}-{g.high[0]:.3f}; {g.target[1]:.3f}, {g.low[1]:.3f}-"
        f"{g.high[1]:.3f}); matched at {g.matched_at[0]:.3f} and {g.matched_at[1]:.3f};{miss} "
        f"mean {g.mean:.2f}, sd {g.sd:.2f} weeks (the moments of the fit above would give a sd "
        "that is a small difference of large numbers when S is broad)"
    )


def _segment(doc: _Doc, i: int, seg: Segment, share: float, like: dict[str, Any]) -> CommentedMap:
    f, p = doc.fits, f"segments.{i}"
    item = CommentedMap(name=seg.name, share=share)
    item["need_hours_per_week"] = _flow(
        {"kind": "lognormal", "mean": _r(seg.need_mean), "sd": _r(seg.need_sd)}
    )
    item["weeks_to_goal"] = _dist(seg.weeks, seg.goal_mean, seg.goal_sd)
    if seg.goal is not None:  # the calibration's W is gamma, whatever family fitted T
        item["weeks_to_goal"]["kind"] = "gamma"
    item["goals"] = _plain(like["goals"], 3)
    item["eligible_probability"] = _r(f.eligible.value, 3)
    need = (
        f"granted hours of this segment: log-normal mean {seg.need_mean:.2f}, sd "
        f"{seg.granted_sd:.2f} h/week; need sd after the assessment error {seg.need_sd:.2f}"
    )
    if seg.need_sd <= 0.05 * seg.need_mean * (1 + 1e-9):
        need += (
            " (the floor, 5 % of the mean: the assumed error explains all the spread; the "
            "classic error_sd may be too large for this municipality)"
        )
    _note(item, "share", f"FITTED: mixture weight. {need}.", 4)
    whose = (
        "all started cases"
        if len(f.segments) == 1
        else "all segments' started cases (too few in this one for its own fit)"
        if seg.weeks_pooled
        else "this segment's started cases"
    )
    weeks = (
        f"weeks from start_date to end_date, {whose} that started on or after "
        f"{_d(f.start)} (an earlier one is in the export because it lasted), {seg.weeks_rows}: "
        f"{seg.weeks.describe()}"
    )
    t = seg.timing
    if t is not None:
        weeks += (
            f". Support ends at reviews: {t.at_review} of {t.ended} ended episodes end "
            f"{t.lag:.1f} weeks after a multiple of the classic review cadence ({t.cadence:g} "
            "weeks, within 2 weeks), so the goals were reached between the review before and "
            "the one that ended support (interval-censored); the others (drop-outs) and open "
            "cases had not reached them by their last review (right-censored)"
        )
    else:
        weeks += (
            ". ASSUMPTION: the time in support is taken as the weeks to the goals (the ends do "
            "not follow the review cadence); it includes drop-outs"
        )
    _note(item, "weeks_to_goal", f"FITTED: {weeks}{_slowdown_text(doc, seg)}.", 4)
    _note(item, "goals", f"ASSUMPTION: copied from {doc.base_name}, segment '{like['name']}'.", 4)
    el = f.eligible
    eligible = (
        f"share granted of the cases decided from {_d(f.start)}, {f.eligible_rows}: "
        f"{el.successes} of "
        f"{el.trials}, 95 % interval {el.low:.3f}-{el.high:.3f} (Clopper-Pearson); the "
        "same in every segment (refused cases have no hours to place them)"
    )
    _note(item, "eligible_probability", f"FITTED: {eligible}.", 4)
    doc.fitted(f"{p}.share", f"{f.hours_rows}: log-normal mixture (EM), BIC")
    doc.fitted(f"{p}.need_hours_per_week.mean", f"{f.hours_rows}: {need}")
    doc.fitted(f"{p}.need_hours_per_week.sd", f"{f.hours_rows}: {need}")
    since = "episodes in support since the start" if seg.weeks.table else "started since the start"
    short = f"{seg.weeks_rows}: censored fit of start to end ({since}), "
    short += "interval-censored between reviews" if t is not None else "time in support"
    if seg.goal is not None:
        short += "; gamma weeks to goal calibrated by Monte Carlo to the life table's shares"
    elif seg.slowdown[0] > 1 + 1e-9:
        short += "; slower progress of under-granted citizens taken out by moments"
    doc.fitted(f"{p}.weeks_to_goal.mean", f"{short} (see the comment above it)")
    doc.fitted(f"{p}.weeks_to_goal.sd", f"{short} (see the comment above it)")
    doc.fitted(f"{p}.eligible_probability", eligible, _r(el.low, 3), _r(el.high, 3))
    return item


def _caseload(doc: _Doc) -> None:
    f = doc.fits
    block = CommentedMap(in_support=f.in_support, waiting=f.waiting)
    doc.root["initial_caseload"] = block
    source = (
        f"cases open on the start date {_d(f.start)}: in support = started on or "
        "before it and not ended; waiting = granted and not started. "
        f"{f.undecided_at_start} case(s) referred but undecided that day are not "
        "counted (a run starts with nobody in intake)"
    )
    _note(doc.root, "initial_caseload", f"FITTED from {Path(f.source).name}: {source}.", 0)
    doc.fitted("initial_caseload.in_support", source)
    doc.fitted("initial_caseload.waiting", source)


def _abandon(doc: _Doc) -> None:
    """The give-up rate on the waiting list, when the export shows citizens leaving it."""
    f, rate = doc.fits, doc.fits.abandon
    exits = doc.root["exits"]
    if rate is None:
        return
    exits["abandon_waiting_per_year"] = _r(rate.per_week, 3)
    source = (
        f"granted cases closed with no start_date, {f.abandon_rows}: {rate.count} closed "
        f"from {_d(f.start)} in {rate.weeks:.1f} citizen-years on the waiting list in that "
        f"period (from the decision plus {f.abandon_handoff_weeks:.2f} weeks of handoff, "
        f"{doc.base_name}'s order and transfer without waiting for staff, or from "
        f"{_d(f.start)}, to start, close or the export date); constant hazard, maximum "
        f"likelihood (count / years), 95 % interval {rate.low:.3f}-{rate.high:.3f} a year"
    )
    _note(exits, "abandon_waiting_per_year", f"FITTED from {Path(f.source).name}: {source}.", 2)
    doc.fitted("exits.abandon_waiting_per_year", source, _r(rate.low, 3), _r(rate.high, 3))


def _changes(settings: Any, preset: Any) -> Any:
    """The parts of ``settings`` that differ from ``preset`` (a distribution or a list whole)."""
    if not isinstance(settings, dict) or not isinstance(preset, dict) or "kind" in settings:
        return settings
    out = {}
    for key, value in settings.items():
        if key not in preset:
            out[key] = value
        elif value != preset[key]:
            out[key] = _changes(value, preset[key])
    return out


def _size(value: Any) -> int:
    return sum(_size(v) for v in value.values()) if isinstance(value, dict) else 1


def model_overrides(base: Scenario) -> dict[str, dict[str, Any]]:
    """Every model of ``base`` as the settings it changes: a preset's changes to itself, a user
    model's changes to the preset nearest to it (written with ``extends``). Laid on the presets
    again, they give the base's models exactly (``test_fit``)."""
    from sim.model.scenario import PRESETS, VisitationModel, preset_settings

    def settings(model: VisitationModel) -> dict[str, Any]:
        return model.model_dump(mode="json", by_alias=True, exclude={"extends"})

    presets = {p: settings(VisitationModel.model_validate(preset_settings(p))) for p in PRESETS}
    out: dict[str, dict[str, Any]] = {}
    for name, model in base.models.items():
        mine = settings(model)
        if name in PRESETS:
            out[name] = _changes(mine, presets[name])
            continue
        parent = min(PRESETS, key=lambda p: _size(_changes(mine, presets[p])))
        out[name] = {"extends": parent, **_changes(mine, presets[parent])}
    return out


def _rereferral(doc: _Doc) -> None:
    """Re-referrals fitted from the repeats of a citizen_id, or set to 0 when the export cannot
    identify them (the referral rate then includes them: counting them twice would inflate it)."""
    f, r, exits = doc.fits, doc.fits.reref, doc.root["exits"]
    name = Path(f.source).name
    if r is None or not r.identified:
        exits["rereferral_probability"] = 0
        text = (
            "0, because the export does not identify re-referrals (no citizen_id is referred "
            "again after a case of theirs ended), so the referral rate above includes them; a "
            "base value on top would count them twice"
        )
        _note(exits, "rereferral_probability", f"ASSUMPTION: {text}.", 2)
        doc.provenance["exits.rereferral_probability"] = {"assumption": text}
        return
    sh = r.share
    assert sh is not None
    exits["rereferral_probability"] = _r(sh.value, 3)
    source = (
        f"ended cases re-referred (the same citizen_id referred again, {f.reref_rows}): "
        f"{sh.successes} of the {sh.trials} cases that ended at least {r.window_days} days (the "
        f"longest delay seen) before the export date, 95 % interval {sh.low:.3f}-{sh.high:.3f} "
        "(Clopper-Pearson); the referral rate counts first referrals only"
    )
    _note(exits, "rereferral_probability", f"FITTED from {name}: {source}.", 2)
    doc.fitted("exits.rereferral_probability", source, _r(sh.low, 3), _r(sh.high, 3))
    if r.delay is None:
        _note(
            exits,
            "rereferral_delay_weeks",
            f"ASSUMPTION: copied from {doc.base_name}: fewer than 20 re-referrals to fit it.",
            2,
        )
        return
    exits["rereferral_delay_weeks"] = _dist(r.delay)
    delay = (
        f"weeks from the end of a case to its citizen's next referral, the {sh.successes} "
        f"re-referrals above: {r.delay.describe()}"
    )
    _note(exits, "rereferral_delay_weeks", f"FITTED from {name}: {delay}.", 2)
    for part in ("mean", "sd"):
        doc.fitted(f"exits.rereferral_delay_weeks.{part}", delay)


def _models(doc: _Doc) -> None:
    """The base's models, every setting kept, with the classic model's pure delay before the
    decision fitted to the observed time (and its share of short courses, if any)."""
    models = model_overrides(doc.base)
    root = _plain(models) if models else CommentedMap()
    classic = root.setdefault("classic", CommentedMap())
    for path in _number_paths(models, "models"):
        doc.assumed(path)
    _delay(doc, classic)
    if doc.fits.short_course is not None:
        _short_course(doc, classic)
    doc.root["models"] = root
    _note(
        doc.root,
        "models",
        f"The models of {doc.base_name}, every setting it changes from the presets copied (its "
        "provenance entries kept; ASSUMPTION where it gives no source), the classic model "
        "fitted where the data speak: this municipality's baseline. Settings not written here "
        "are the presets' own (see `sim schema` and the README).",
        0,
    )


def _delay(doc: _Doc, classic: CommentedMap) -> None:
    from sim.app.fit import closed_form_delay, delay_sd

    f, fit, cal = doc.fits, doc.fits.decision, doc.fits.calibration
    steps = f.decision_steps_weeks
    delay_mean = closed_form_delay(f) if f.delay_mean is None else f.delay_mean
    first = classic.setdefault("first_contact", CommentedMap())
    first.fa.set_block_style()
    observed = (
        f"time from referral_date to decision_date, {f.decision_rows}: {fit.describe()}; "
        f"mean {fit.best.mean:.2f}, sd {fit.best.sd:.2f} weeks"
    )
    for part in ("mean", "sd", "value", "low", "high"):
        doc.provenance.pop(f"models.classic.first_contact.delay_weeks.{part}", None)
    closed = (
        f"The classic pathway's own steps take {steps:.2f} weeks on average (meeting, "
        "assessment, documentation, decision work, half the committee cadence), so the "
        f"closed-form pure delay is the rest: mean {fit.best.mean:.2f} - {steps:.2f}"
    )
    how = f"{closed}, the same sd" if cal is None else f"{closed}. {_calibrated(cal)}"
    if delay_mean > 0.1:
        sd = fit.best.sd if f.delay_mean is None else delay_sd(f, delay_mean)
        first["delay_weeks"] = _dist(fit, delay_mean, sd)
        source = f"{observed}; {closed}, the same sd" if cal is None else _calibrated_source(cal)
        doc.fitted("models.classic.first_contact.delay_weeks.mean", source)
        doc.fitted("models.classic.first_contact.delay_weeks.sd", source)
    else:
        first["delay_weeks"] = 0
        if cal is None:
            how = (
                f"The classic pathway's own steps ({steps:.2f} weeks on average) already take "
                "as long, so there is no pure delay"
            )
    tail = (
        "Waiting for case workers' hours adds to it in a run: compare with `sim check`"
        if cal is None
        else "Compare the whole run with `sim check`"
    )
    _note(first, "delay_weeks", f"FITTED: {observed}. {how}. {tail}.", 6)


def _calibrated_source(cal: Any) -> str:
    """The provenance entry of a calibrated delay (the comment above it says the whole)."""
    obs = cal.observed
    return (
        f"time from referral_date to decision_date: the closed-form delay (observed mean less the "
        f"pathway's steps, {cal.closed_form:.2f} weeks) calibrated by {len(cal.search.trials)} "
        f"simulation(s) so that the simulated median time to decision ({cal.before:.2f} weeks "
        f"before, {cal.after:.2f} after) matches the observed {obs.value:.2f} "
        f"(Kaplan-Meier, 95 % interval {obs.low:.2f}-{obs.high:.2f})"
    )


def _calibrated(cal: Any) -> str:
    """What the simulation-based calibration did (``sim.app.fit.Calibration``), for the comment."""
    obs, search = cal.observed, cal.search
    trials = ", ".join(f"{t.delay_mean:g} -> {t.simulated:.2f}" for t in search.trials)
    head = (
        f"CALIBRATED by simulation, because a run adds the wait for case workers' hours to the "
        f"delay: the observed median time to decision is {obs.value:.2f} weeks (Kaplan-Meier over "
        f"the cases referred in the period, {obs.censored} undecided ones censored; 95 % interval "
        f"{obs.low:.2f}-{obs.high:.2f}); target {search.low:.2f}-{search.high:.2f} weeks. "
        f"{len(search.trials)} simulation(s) of this scenario ({cal.replications} replications "
        f"each, {cal.warmup_weeks:g} weeks of warm-up, seed {cal.seed}; the delay's mean "
        f"adjusted, its sd that mean times the observed time's coefficient of variation), delay "
        f"mean -> simulated median, weeks: {trials}. The closed-form mean "
        f"({cal.closed_form:.2f}, with that sd) gave {cal.before:.2f} weeks; the delay kept, mean "
        f"{cal.delay_mean:g}, gives {cal.after:.2f}"
    )
    if search.matched:
        return f"{head}, inside the target"
    if search.queue_exceeds:
        return (
            f"{head}: NOT MATCHED. Even with no delay the wait for case workers' hours alone "
            f"takes longer than the observed time, so the delay is 0 and this scenario's "
            "authority has less capacity for its work than the municipality in the data (its "
            "staff and hours per step are ASSUMPTIONS copied from the base): lower the hours per "
            "step or raise staffing.authority_fte before trusting the times"
        )
    if search.insensitive:
        return (
            f"{head}: NOT MATCHED. The simulated median moves {search.response:.2f} weeks per week "
            "of delay: the queue for case workers' hours absorbs the delay, so this scenario's "
            "authority is near or over its capacity (its staff and hours per step are ASSUMPTIONS "
            "copied from the base); the closest delay is kept"
        )
    return f"{head}: NOT MATCHED within {len(search.trials)} simulations; the closest is kept"


def _short_course(doc: _Doc, classic: CommentedMap) -> None:
    sc = doc.fits.short_course
    assert sc is not None
    routing = classic.setdefault("routing", CommentedMap())
    routing.fa.set_block_style()
    routing["short_course_share"] = _r(sc.value, 3)
    text = (
        f"§ 82b among the cases granted from {_d(doc.fits.start)}: {sc.successes} of "
        f"{sc.trials}, 95 % interval "
        f"{sc.low:.3f}-{sc.high:.3f} (Clopper-Pearson)"
    )
    _note(routing, "short_course_share", f"FITTED: {text}.", 6)
    doc.fitted("models.classic.routing.short_course_share", text, _r(sc.low, 3), _r(sc.high, 3))


# --------------------------------------------------------------------------- the whole file


def scenario_text(fits: Fits, base: Scenario, base_path: Path, name: str) -> str:
    """The fitted scenario as YAML text with its comments (and provenance, if the schema has it)."""
    from sim.model.scenario import Scenario

    doc = _Doc(fits, base, base_path)
    root, data = doc.root, doc.base_data
    root["name"] = name
    root["description"] = (
        f"Fitted by `sim fit` from {Path(fits.source).name}: {fits.n_cases} cases, observed "
        f"{_d(fits.start)} to {_d(fits.as_of)}. Budget, staff and exits not seen in the cases are "
        "assumptions copied "
        f"from {base_path.name}."
    )
    for key in ("budget", "staff", "staffing"):
        doc.assume_block(key, data[key])
    _arrivals(doc)
    _segments(doc)
    _caseload(doc)
    doc.assume_block("exits", data["exits"], but=", but for the lines marked otherwise")
    _abandon(doc)
    _rereferral(doc)
    _models(doc)
    root["compare"] = _plain(list(doc.base.compare), 2)
    for key in ("support_queue", "review_priority", "review_provider_hours"):
        root[key] = data[key]  # the base's own choice (the defaults if it makes none)
    doc.assume_block(
        "experiment", {k: v for k, v in data["experiment"].items() if k != "stream_key"}
    )
    doc.provenance = {k: v for k, v in doc.provenance.items() if not k.startswith("experiment.")}
    if "provenance" in Scenario.model_fields:
        root["provenance"] = CommentedMap(sorted(doc.provenance.items()))
        _note(
            root,
            "provenance",
            "Where each number comes from (source) or why it is assumed "
            "(assumption), by the key path `--set` takes.",
            0,
        )
    return _dump(root, fits, base_path)


def _dump(root: CommentedMap, fits: Fits, base_path: Path) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    head = (
        f"Scenario fitted by `sim fit` from {Path(fits.source).name} ({fits.n_cases} cases, "
        f"as of {_d(fits.as_of)}). FITTED marks a number estimated from the cases, with the "
        f"rows used, the method and its goodness of fit; ASSUMPTION marks a value the case data "
        f"cannot give, copied from {base_path.name}: replace those with your own figures. "
        f"Check the scenario against the same cases with `sim check`."
    )
    notes = "; ".join(fits.notes)
    if notes:
        head += f" Reading the file: {notes}."
    root.yaml_set_start_comment("\n".join(textwrap.wrap(head, WIDTH - 2)))
    buf = io.StringIO()
    yaml.dump(root, buf)
    return buf.getvalue()
