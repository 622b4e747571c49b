"""The best staff mix for a budget: the authority/provider split that helps most citizens a year
under a limit on the time to support start (docs/model.md §2, staffing mode ``optimise``).

The search respects simulation noise:

- every candidate split of every model runs in the same replication tasks, so all candidates see
  the same citizens (common random numbers) and their differences are paired;
- a coarse pass over ``[min_authority_share, max_authority_share]``, then a fine pass around the
  best feasible coarse point (on the same citizens, so the two passes form one curve);
- the ``top_k`` feasible candidates are re-run with ``confirm_replications`` on *fresh* citizens
  (other streams), so the figure reported for the chosen split is not inflated by having been
  picked on the same noise (the winner's curse); the best feasible one by mean is named, with its
  CI and the paired difference to the runner-up.

**The limit** ("90 % of citizens start support within L = ``max_p90_wait_weeks`` weeks"). A
candidate meets it when, on the mean over replications, all three hold:

1. the 90th percentile of *completed* times to support start is at most L;
2. the citizens still waiting at the end of the run (referred in the window, not yet started:
   ``time_to_start_censored``) are at most ``referrals per week x L``;
3. at most 10 % of those who reach the waiting list give up waiting (``abandoned_per_year`` over
   ``helped_per_year + abandoned_per_year``).

Rules 2 and 3 exist because the percentile of completed waits underestimates when a queue is
overloaded: the longest waits have not completed, or ended in giving up. By Little's law the number
waiting is the referral rate times the mean time to start, so more than ``rate x L`` citizens
waiting means a mean above L and so (waits being right-skewed) a 90th percentile above L, while a
stable system that meets rule 1 has a mean below L and passes rule 2. A citizen who gives up never
starts, so more than 10 % giving up breaks the limit outright. Each rule is a necessary condition;
the *limit ratio* ``max(p90 / L, waiting / (rate x L), abandoned share / 0.1)`` is reported for
every candidate (the limit is met when it is <= 1), and ranks the candidates when none meets it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.model.citizens import WEEKS_PER_YEAR
from sim.model.metrics import Interval, metric_interval, paired_interval
from sim.model.scenario import MECHANISMS, OptimiseStaffing, Scenario
from sim.run.experiment import ExperimentResult, run_experiment, stream_prefix

CONFIRM_KEY = 0x0C0F
"""Mixed into the confirmation's stream keys: other citizens than the search (and `sim run`) saw."""


def confirm_prefix(scenario: Scenario) -> tuple[int, ...]:
    """Key prefix of the confirmation run: after the scenario's ``stream_key`` when it has one, so
    every sweep point is confirmed on citizens of its own."""
    return stream_prefix(scenario, CONFIRM_KEY)


Progress = Callable[[str, int, int], None]
"""Progress callback: pass label, tasks done, tasks in the pass."""


def settings_of(scenario: Scenario) -> tuple[OptimiseStaffing, bool]:
    """The optimiser settings: the scenario's when its staffing mode is ``optimise``, else the
    defaults (second value False, so callers can say so)."""
    if isinstance(scenario.staffing, OptimiseStaffing):
        return scenario.staffing, True
    return OptimiseStaffing(), False


def share_grid(low: float, high: float, step: float) -> list[float]:
    """``low, low+step, ...`` up to ``high`` inclusive (``high`` added if the steps miss it)."""
    n = math.floor((high - low) / step + 1e-9)
    grid = [round(low + i * step, 6) for i in range(n + 1)]
    if high - grid[-1] > 1e-9:
        grid.append(round(high, 6))
    return grid


def fine_grid(
    centre: float, coarse_step: float, fine_step: float, low: float, high: float
) -> list[float]:
    """Shares ``fine_step`` apart within one coarse step either side of ``centre``, in range."""
    lo = max(low, centre - coarse_step)
    hi = min(high, centre + coarse_step)
    k0 = math.ceil((lo - centre) / fine_step - 1e-9)
    k1 = math.floor((hi - centre) / fine_step + 1e-9)
    return [round(centre + k * fine_step, 6) for k in range(k0, k1 + 1)]


ABANDON_SHARE = 0.10
"""The share of citizens who may give up waiting before the 90th percentile limit is broken."""


def limit_ratio(
    p90: float,
    waiting: float,
    referred_per_year: float,
    limit: float,
    abandoned_per_year: float = 0.0,
    helped_per_year: float = math.nan,
) -> float:
    """``max(p90 / L, waiting / (referrals per week x L), abandoned share / 0.1)``: the limit is
    met when it is <= 1. No completed wait at all (no citizen started) breaks the limit."""
    if math.isnan(p90):
        return math.inf
    allowed = referred_per_year / WEEKS_PER_YEAR * limit
    by_waiting = waiting / allowed if allowed > 0 else (math.inf if waiting > 0 else 0.0)
    reached = helped_per_year + abandoned_per_year
    share = abandoned_per_year / reached if reached > 0 else 0.0
    return max(p90 / limit, by_waiting, share / ABANDON_SHARE)


@dataclass(frozen=True)
class Candidate:
    """One model at one authority share, with the statistics of its replications."""

    model: str
    share: float
    authority_fte: float
    provider_fte: float
    stage: str
    helped: Interval
    p90: Interval
    waiting: Interval
    referred: Interval
    abandoned: Interval
    ratio: float
    helped_per_replication: tuple[float, ...]

    @property
    def feasible(self) -> bool:
        return self.ratio <= 1.0

    def key(self) -> tuple[str, float]:
        return self.model, self.share


@dataclass
class ModelOptimum:
    """The named split of one model and how it was reached."""

    model: str
    chosen: Candidate
    runner_up: Candidate | None
    difference: Interval | None
    feasible_low: float | None
    feasible_high: float | None
    binds: str
    near_best: tuple[float, float] | None = None
    current: Candidate | None = None
    current_difference: Interval | None = None
    confirmed: list[Candidate] = field(default_factory=list)


@dataclass
class OptimiseResult:
    """Every candidate of every pass and the named split per model."""

    scenario: Scenario
    settings: OptimiseStaffing
    from_scenario: bool
    models: list[str]
    replications: int
    candidates: list[Candidate]
    optima: dict[str, ModelOptimum]

    def curve(self, model: str) -> list[Candidate]:
        """The search curve of ``model`` (coarse and fine passes, same citizens), by share."""
        pts = [c for c in self.candidates if c.model == model and c.stage in ("coarse", "fine")]
        return sorted(pts, key=lambda c: c.share)


def candidate_name(model: str, share: float | None) -> str:
    return f"{model}@{'current' if share is None else f'{share:.4f}'}"


def _model_settings(scenario: Scenario, model: str) -> dict[str, Any]:
    dump = scenario.model(model).model_dump(by_alias=True, mode="json")
    return {m: dump[m] for m in MECHANISMS}


def evaluate(
    scenario: Scenario,
    points: Sequence[tuple[str, float | None]],
    *,
    replications: int,
    limit: float,
    stage: str,
    jobs: int = 1,
    key_prefix: tuple[int, ...] = (),
    base_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """Run every (model, authority share) point in one experiment (same citizens for all).

    A share of ``None`` stands for the scenario's own staffing (fixed FTEs or share).
    """
    from sim.run.explain import with_models

    extra: dict[str, dict[str, Any]] = {}
    fte: dict[str, tuple[float, float]] = {}
    for model, share in points:
        name = candidate_name(model, share)
        extra[name] = {**_model_settings(scenario, model), "description": f"{model} candidate"}
        fte[name] = scenario.staffing_fte(share)
    sc = with_models(scenario, extra, list(extra))
    res = run_experiment(
        sc,
        models=list(extra),
        replications=replications,
        jobs=jobs,
        fte=fte,
        key_prefix=key_prefix,
        base_dir=base_dir,
        progress=progress,
    )
    return [_candidate(res, model, share, fte, limit, stage) for model, share in points]


def _candidate(
    res: ExperimentResult,
    model: str,
    share: float | None,
    fte: dict[str, tuple[float, float]],
    limit: float,
    stage: str,
) -> Candidate:
    name = candidate_name(model, share)
    helped = res.values(name, "helped_per_year")
    p90 = metric_interval("time_to_start_p90_weeks", res.values(name, "time_to_start_p90_weeks"))
    waiting = metric_interval("time_to_start_censored", res.values(name, "time_to_start_censored"))
    referred = metric_interval("referred_per_year", res.values(name, "referred_per_year"))
    abandoned = metric_interval("abandoned_per_year", res.values(name, "abandoned_per_year"))
    helped_iv = metric_interval("helped_per_year", helped)
    a, p = fte[name]
    sc = res.scenario
    real_share = a * sc.staff.authority.fte_cost_dkk_per_year / sc.budget.annual_dkk
    return Candidate(
        model=model,
        share=real_share if share is None else share,
        authority_fte=a,
        provider_fte=p,
        stage=stage if share is not None else "current",
        helped=helped_iv,
        p90=p90,
        waiting=waiting,
        referred=referred,
        abandoned=abandoned,
        ratio=limit_ratio(
            p90.mean, waiting.mean, referred.mean, limit, abandoned.mean, helped_iv.mean
        ),
        helped_per_replication=tuple(helped),
    )


def near_best(curve: Sequence[Candidate]) -> tuple[float, float] | None:
    """The run of neighbouring feasible shares around the best one that are not significantly
    worse (paired difference in helped per year, same citizens, 95 % CI reaching 0): where the
    split hardly matters. None when no share is feasible."""
    pts = sorted(curve, key=lambda c: c.share)
    feas = [i for i, c in enumerate(pts) if c.feasible]
    if not feas:
        return None
    b = max(feas, key=lambda i: (pts[i].helped.mean, -pts[i].share))
    best = pts[b].helped_per_replication

    def ok(i: int) -> bool:
        if not pts[i].feasible:
            return False
        d = paired_interval(pts[i].helped_per_replication, best)
        return d.high >= 0 if not math.isnan(d.high) else d.mean >= 0

    lo = hi = b
    while lo > 0 and ok(lo - 1):
        lo -= 1
    while hi < len(pts) - 1 and ok(hi + 1):
        hi += 1
    return pts[lo].share, pts[hi].share


def rank(candidates: Sequence[Candidate], centre: float | None = None) -> list[Candidate]:
    """Feasible candidates by mean helped (highest first), then infeasible ones by limit ratio.

    Exact ties in helped (common where no queue forms, so the split changes nothing) go to the
    lower limit ratio (more slack), then to the share nearest ``centre`` (by default the middle of
    the near-best range), so a flat optimum is named in its middle rather than at an edge.
    """
    if centre is None:
        rng = near_best(candidates)
        centre = (rng[0] + rng[1]) / 2 if rng else 0.0
    feas = sorted(
        (c for c in candidates if c.feasible),
        key=lambda c: (-c.helped.mean, c.ratio, abs(c.share - centre), c.share),
    )
    infeas = sorted((c for c in candidates if not c.feasible), key=lambda c: (c.ratio, c.share))
    return [*feas, *infeas]


def feasible_range(curve: Sequence[Candidate]) -> tuple[float | None, float | None]:
    """Smallest and largest feasible share on a curve (None when none is feasible)."""
    shares = [c.share for c in curve if c.feasible]
    return (min(shares), max(shares)) if shares else (None, None)


def binding(chosen: Candidate, curve: Sequence[Candidate]) -> str:
    """Where the limit binds at the chosen split: 'none', 'below' (a smaller authority share
    breaks it), 'above', 'both', or 'infeasible' (no share meets it)."""
    if not chosen.feasible:
        return "infeasible"
    pts = sorted(curve, key=lambda c: c.share)
    idx = min(range(len(pts)), key=lambda i: abs(pts[i].share - chosen.share))
    below = idx > 0 and not pts[idx - 1].feasible
    above = idx < len(pts) - 1 and not pts[idx + 1].feasible
    return {(False, False): "none", (True, False): "below", (False, True): "above"}.get(
        (below, above), "both"
    )


def _fine_points(
    found: Sequence[Candidate], names: Sequence[str], st: OptimiseStaffing
) -> list[tuple[str, float | None]]:
    """The fine pass: shares around each model's best coarse share not tried yet."""
    lo, hi = st.min_authority_share, st.max_authority_share
    points: list[tuple[str, float | None]] = []
    for m in names:
        best = rank([c for c in found if c.model == m])[0]
        tried = {c.share for c in found if c.model == m}
        for s in fine_grid(best.share, st.coarse_step, st.fine_step, lo, hi):
            if all(abs(s - t) > 1e-9 for t in tried):
                points.append((m, s))
    return points


def _confirm_points(
    found: Sequence[Candidate], names: Sequence[str], st: OptimiseStaffing, from_scenario: bool
) -> list[tuple[str, float | None]]:
    """The confirmation: each model's best few shares, plus its current split (None) when the
    scenario's staffing is not the optimiser's own."""
    points: list[tuple[str, float | None]] = []
    for m in names:
        points += [(m, c.share) for c in rank([c for c in found if c.model == m])[: st.top_k]]
        if not from_scenario:
            points.append((m, None))
    return points


def _optimum(m: str, found: Sequence[Candidate], confirmed: Sequence[Candidate]) -> ModelOptimum:
    """One model's choice: the best confirmed share (nearest the middle of the near-best
    plateau on ties), the runner-up and the current split with their paired differences."""
    curve = sorted([c for c in found if c.model == m], key=lambda c: c.share)
    mine = [c for c in confirmed if c.model == m and c.stage == "confirm"]
    plateau = near_best(curve)
    ranked = rank(mine, (plateau[0] + plateau[1]) / 2 if plateau else None)
    chosen = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    diff = (
        paired_interval(chosen.helped_per_replication, runner.helped_per_replication)
        if runner is not None
        else None
    )
    current = next((c for c in confirmed if c.model == m and c.stage == "current"), None)
    cur_diff = (
        paired_interval(chosen.helped_per_replication, current.helped_per_replication)
        if current is not None
        else None
    )
    low, high = feasible_range(curve)
    return ModelOptimum(
        model=m,
        chosen=chosen,
        runner_up=runner,
        difference=diff,
        feasible_low=low,
        feasible_high=high,
        binds=binding(chosen, curve),
        near_best=plateau,
        current=current,
        current_difference=cur_diff,
        confirmed=ranked,
    )


def optimise(
    scenario: Scenario,
    *,
    models: Sequence[str] | None = None,
    settings: OptimiseStaffing | None = None,
    replications: int | None = None,
    confirm_replications: int | None = None,
    jobs: int = 1,
    base_dir: Path | None = None,
    progress: Progress | None = None,
) -> OptimiseResult:
    """Search the authority share of the budget that helps most citizens per year under the
    limit, for each model (coarse pass, fine pass, confirmation of the best few)."""
    own, from_scenario = settings_of(scenario)
    st = settings or own
    names = list(models or scenario.compare)
    reps = replications or scenario.experiment.replications
    confirm_reps = confirm_replications or st.confirm_replications
    limit = st.max_p90_wait_weeks
    lo, hi = st.min_authority_share, st.max_authority_share

    def cb(label: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(label, done, total)

    common = {"jobs": jobs, "base_dir": base_dir, "limit": limit}
    coarse = share_grid(lo, hi, st.coarse_step)
    found = evaluate(
        scenario,
        [(m, s) for m in names for s in coarse],
        replications=reps,
        stage="coarse",
        progress=cb("coarse pass"),
        **common,
    )
    fine_points = _fine_points(found, names, st)
    if fine_points:
        found += evaluate(
            scenario,
            fine_points,
            replications=reps,
            stage="fine",
            progress=cb("fine pass"),
            **common,
        )

    confirmed = evaluate(
        scenario,
        _confirm_points(found, names, st, from_scenario),
        replications=confirm_reps,
        stage="confirm",
        key_prefix=confirm_prefix(scenario),
        progress=cb("confirmation"),
        **common,
    )

    optima = {m: _optimum(m, found, confirmed) for m in names}
    return OptimiseResult(
        scenario=scenario,
        settings=st,
        from_scenario=from_scenario,
        models=names,
        replications=reps,
        candidates=[*found, *confirmed],
        optima=optima,
    )


def _outcome_columns(c: Candidate) -> dict[str, Any]:
    """A candidate's helped, p90 wait (each with its 95 % CI) and waiting at the end."""
    return {
        "replications": c.helped.n,
        "helped_per_year": c.helped.mean,
        "helped_ci_low": c.helped.low,
        "helped_ci_high": c.helped.high,
        "p90_wait_weeks": c.p90.mean,
        "p90_ci_low": c.p90.low,
        "p90_ci_high": c.p90.high,
        "waiting_at_end": c.waiting.mean,
    }


def candidate_rows(result: OptimiseResult) -> list[dict[str, Any]]:
    """One row per candidate run: pass, model, split, helped, p90, waiting, with 95 % CIs."""
    limit = result.settings.max_p90_wait_weeks
    rows = []
    for c in result.candidates:
        rows.append(
            {
                "stage": c.stage,
                "model": c.model,
                "authority_share": c.share,
                "authority_fte": c.authority_fte,
                "provider_fte": c.provider_fte,
                **_outcome_columns(c),
                "waiting_allowed": c.referred.mean / WEEKS_PER_YEAR * limit,
                "abandoned_per_year": c.abandoned.mean,
                "limit_ratio": c.ratio,
                "feasible": c.feasible,
            }
        )
    return rows


def chosen_rows(result: OptimiseResult) -> list[dict[str, Any]]:
    """One row per model: the named split, its CI, the runner-up and where the limit binds."""
    sc = result.scenario
    rows = []
    for m, o in result.optima.items():
        c = o.chosen
        d = o.difference
        cd = o.current_difference
        rows.append(
            {
                "model": m,
                "authority_share": c.share,
                "authority_fte": c.authority_fte,
                "provider_fte": c.provider_fte,
                "staff_cost_dkk_per_year": sc.staff_cost_dkk((c.authority_fte, c.provider_fte)),
                **_outcome_columns(c),
                "abandoned_per_year": c.abandoned.mean,
                "limit_ratio": c.ratio,
                "feasible": c.feasible,
                "limit_p90_weeks": result.settings.max_p90_wait_weeks,
                "limit_binds": o.binds,
                "feasible_share_low": o.feasible_low,
                "feasible_share_high": o.feasible_high,
                "near_best_share_low": o.near_best[0] if o.near_best else None,
                "near_best_share_high": o.near_best[1] if o.near_best else None,
                "runner_up_share": o.runner_up.share if o.runner_up else None,
                "minus_runner_up": d.mean if d else None,
                "minus_runner_up_ci_low": d.low if d else None,
                "minus_runner_up_ci_high": d.high if d else None,
                "current_share": o.current.share if o.current else None,
                "current_helped_per_year": o.current.helped.mean if o.current else None,
                "minus_current": cd.mean if cd else None,
                "minus_current_ci_low": cd.low if cd else None,
                "minus_current_ci_high": cd.high if cd else None,
            }
        )
    return rows
