"""Labels and number formats for reports and figures, in English (``en``) and Danish (``da``).

Every word a reader sees in a report or a figure comes from here, so the two languages stay
complete: ``LABELS["en"]`` and ``LABELS["da"]`` have the same keys (a test checks it). Labels for
metrics that follow a pattern (``{stage}_mean_citizens``, ``{group}_{category}_hours_per_year``)
are composed once, below, from the stage, group and category names, so both languages get them.

Numbers: ``en`` writes 1,234.5 and "16.5 M DKK"; ``da`` writes 1.234,5 and "16,5 mio. kr.".
Negative numbers use the minus sign U+2212 in both.
"""

from __future__ import annotations

import math

LANGS: tuple[str, ...] = ("en", "da")
MINUS = "\u2212"
DASH = "\u2013"

STAGES: tuple[str, ...] = ("intake", "handoff", "support_queue", "support")
GROUPS: tuple[str, ...] = ("authority", "provider")
CATEGORIES: tuple[str, ...] = ("support", "meetings", "casework", "documentation", "idle")

_EN: dict[str, str] = {
    # ---------------------------------------------------------------- report frame
    "report.title": "{models}: citizens helped, waits and staff hours under one budget",
    "report.compare_title": "Runs side by side: {names}",
    "report.subtitle": "Scenario {scenario}, run {run}, {created}",
    "report.generated": "Made by sim {version} from the results folder {folder}.",
    "report.headline": "In short",
    "report.kpis": "Key figures",
    "report.kpis_note": "Mean over {n} replications with a 95 % confidence interval (CI). "
    "The last columns give paired differences (the same citizens in both models).",
    "report.figures": "Figures",
    "report.assumptions": "Assumptions",
    "report.assumptions_note": "Every input of the scenario, with its value and unit. Replace the "
    "illustrative values with the municipality's own data before drawing conclusions.",
    "report.mechanisms": "Visitation models: mechanism settings",
    "report.mechanisms_note": "Resolved settings of each compared model. A mark in the last "
    "column shows a setting that differs between the models.",
    "report.description": "Model description (STRESS-DES)",
    "report.all_metrics": "All metrics",
    "report.show_all": "Show all {n} metrics",
    "report.warnings": "Read with care",
    "report.runs": "Runs",
    "report.key_metrics_by_run": "Key figures by run and model",
    "report.figure_png_note": "Figures as PNG: {folder}",
    # ---------------------------------------------------------------- table headings
    "col.metric": "Figure",
    "col.unit": "Unit",
    "col.parameter": "Parameter",
    "col.key": "Key in the scenario file",
    "col.value": "Value",
    "col.meaning": "Meaning",
    "col.differs": "Differs",
    "col.run": "Run",
    "col.model": "Model",
    "col.scenario": "Scenario",
    "col.budget": "Budget",
    "col.replications": "Replications",
    "col.seed": "Seed",
    "col.revision": "Git revision",
    "col.folder": "Folder",
    "col.item": "Item",
    "col.difference": "{model} {minus} {baseline}",
    "col.mean_ci": "mean (95 % CI)",
    "yes": "yes",
    "no": "no",
    "differs_mark": "differs",
    # ---------------------------------------------------------------- numbers
    "num.ci": "95 % CI",
    "num.million_dkk": "{x} M DKK",
    "num.dkk": "{x} DKK",
    "num.range_to": "to",
    "num.na": "n/a",
    "num.no_spread": "no spread",
    # ---------------------------------------------------------------- models
    "model.classic": "classic",
    "model.joint": "joint",
    "model_phrase.classic": "the classic model",
    "model_phrase.joint": "the joint model",
    "model_phrase.other": "the model {name}",
    "model_desc.classic": "Classic, top-down: the authority assesses alone, decides (via a "
    "visitation committee), writes an order and hands the case over; the provider then holds its "
    "own start-up meeting. Long awards, reviewed yearly.",
    "model_desc.joint": "Joint: authority and provider meet the citizen together at the first "
    "meeting, set a few goals and decide at once; no handoff. Short, light, joint goal reviews "
    "that move the granted hours toward the true need.",
    # ---------------------------------------------------------------- headline
    "headline.budget": "With a budget of {budget} a year{unspent}, ",
    "headline.unspent": ", of which {unspent} a year is not spent on staff",
    "headline.unspent_item": "{unspent} in {model}",
    "headline.budget_again": "With the same budget, ",
    "headline.helped_more": "{model} helped {diff} more citizens a year than {baseline} "
    "({ci} {lo}{dash}{hi})",
    "headline.helped_fewer": "{model} helped {diff} fewer citizens a year than {baseline} "
    "({ci} {lo}{dash}{hi})",
    "headline.helped_same": "{model} showed no clear difference from {baseline} in citizens "
    "helped a year ({diff_signed}, {ci} {lo}{dash}{hi}, includes zero)",
    "headline.helped_same_noci": "{model} showed no clear difference from {baseline} in "
    "citizens helped a year ({diff_signed}, no confidence interval)",
    "headline.wait_cut": " and cut the median wait to support from {base} to {value} weeks",
    "headline.wait_longer": " and lengthened the median wait to support from {base} to "
    "{value} weeks",
    "headline.wait_same": " with no clear difference in the median wait to support "
    "({base} and {value} weeks)",
    "headline.wait_na": " (the median wait to support could not be compared)",
    "headline.censored": "At the end of the run {counts} were still waiting to start support; "
    "their waits are not in the medians.",
    "headline.censored_item": "{n} citizens under {model}",
    "headline.and": "and",
    "headline.split": "Citizens helped are § 85 starts plus short-course starts; the difference "
    "splits into {s85} § 85 starts and {course} short-course starts a year ({ci} in brackets).",
    "headline.split_single": "Citizens helped are § 85 starts plus short-course starts: {s85} "
    "§ 85 starts and {course} short-course starts a year ({ci} in brackets).",
    "headline.single": "With a budget of {budget} a year{unspent}, {model} helped {helped} "
    "citizens a year ({ci} {lo}{dash}{hi}); the median wait to support was {wait} weeks.",
    "warn.growing": "The waiting list for support under {model} was still growing at the end of "
    "the run (mean {mean}, at the end {end} citizens): the demand exceeds the capacity, so its "
    "waits depend on how long the run is, and the medians leave out everyone still waiting.",
    "warn.few_reps": "Only {n} replications: the confidence intervals are wide and rough.",
    "note.helped_sum": "Helped = § 85 starts + short-course starts (the two rows below it).",
    "console.s85_starts": "  of which § 85 support started",
    "console.short_course": "  of which short course started",
    "console.post_goal_hours": "Support hours after the goals were reached",
    "console.post_goal_weeks": "  weeks past goals per completed episode",
    "warn.unspent": "Under {models}, {unspent} a year ({share} of the budget) is not spent on "
    "staff: the staff is fixed at {authority} authority and {provider} provider FTE, so a larger "
    "budget only leaves more money unspent. The staffing mode share (staffing: {{mode: share, "
    "authority_share: ...}}) spends the whole budget on staff.",
    # ---------------------------------------------------------------- figures
    "fig.helped.title": "Citizens helped per year",
    "fig.helped.subtitle": "Citizens who started support (§ 85 or a short course); bar = mean "
    "of {n} replications, whisker = 95 % CI",
    "fig.wait.title": "Wait from referral to support start",
    "fig.wait.subtitle": "Big marker = mean over {n} replications with 95 % CI; small dots = "
    "each replication's value. Only citizens who started within the window.",
    "fig.wait.censored": "Still waiting at the end (censored, not in these figures):",
    "fig.wait.censored_item": "{model}: {n} citizens ({ci} {lo}{dash}{hi})",
    "fig.wait.censored_flat": "{model}: {n} citizens",
    "fig.queues.title": "Citizens in each stage over time",
    "fig.queues.subtitle": "Line = mean over replications; band = 5th to 95th percentile across "
    "replications; shaded = warm-up (not measured)",
    "fig.queues.warmup": "warm-up",
    "fig.hours.title": "Staff hours per year by category",
    "fig.hours.subtitle": "Mean of {n} replications. Above each bar: core-task share (support "
    "and meetings with citizens, over productive hours)",
    "fig.hours.core": "core tasks {share}",
    "fig.cost.title": "Cost per citizen helped",
    "fig.cost.subtitle": "Budget over citizens helped; bar = mean of {n} replications, whisker "
    "= 95 % CI",
    "fig.diff.title": "Differences from {baseline} (paired, 95 % CI)",
    "fig.diff.subtitle": "Each panel in its own unit; a marker right of the zero line means the "
    "model is higher than {baseline}",
    "fig.diff.title_any": "Paired differences (95 % CI)",
    "fig.diff.subtitle_any": "Each panel in its own unit; a marker right of the zero line means "
    "the first model of the pair is higher",
    "fig.compare.title": "{metric} by run and model",
    "fig.compare.subtitle": "Mean of replications with 95 % CI",
    "fig.compare_diff.title": "Differences from the baseline in each run (paired, 95 % CI)",
    "axis.model": "model",
    "axis.week": "week since the start of the simulation (weeks)",
    "axis.statistic": "statistic of the wait",
    "axis.run": "run",
    "axis.difference": "difference ({unit})",
    "axis.with_unit": "{label} ({unit})",
    "axis.comparison": "comparison",
    "axis.staff_hours": "staff hours",
    "axis.citizens": "number of citizens",
    "axis.value": "value",
    "axis.wait": "wait to support start",
    "legend.replication": "{model}, each replication",
    "stat.mean": "mean",
    "stat.median": "median",
    "stat.p90": "90th percentile",
    "hover.value": "value",
    "hover.ci": "95 % CI",
    # ---------------------------------------------------------------- units
    "unit.citizens/year": "citizens/year",
    "unit.goals/year": "goals/year",
    "unit.weeks": "weeks",
    "unit.citizens": "citizens",
    "unit.hours/year": "hours/year",
    "unit.DKK": "DKK",
    "unit.DKK/year": "DKK/year",
    "unit.percent": "%",
    "unit.percentage_points": "percentage points",
    "unit.hours": "hours",
    "unit.hours_per_week": "hours/week",
    "unit.per_week": "referrals/week",
    "unit.per_year": "per citizen per year",
    "unit.fte": "FTE",
    "unit.share": "share (0-1)",
    "unit.relative": "relative to true need",
    "unit.factor": "factor",
    "unit.goals": "goals",
    "unit.count": "count",
    "unit.text": "",
    "unit.yes_no": "yes/no",
    # ---------------------------------------------------------------- stages, groups, categories
    "stage.intake": "referral to decision",
    "stage.handoff": "decision to provider",
    "stage.support_queue": "waiting list for support",
    "stage.support": "in support",
    "group.authority": "authority",
    "group.provider": "provider",
    "cat.support": "support",
    "cat.meetings": "meetings with citizens",
    "cat.casework": "case work",
    "cat.documentation": "documentation and handoff",
    "cat.idle": "idle",
    # ---------------------------------------------------------------- metrics
    "metric.referred_per_year": "citizens referred per year",
    "metric.helped_per_year": "citizens helped per year (§ 85 starts + short courses)",
    "metric.completed_per_year": "citizens leaving with goals reached per year",
    "metric.s85_starts_per_year": "citizens starting § 85 support per year",
    "metric.short_course_per_year": "citizens sent to a short course per year",
    "metric.rework_per_year": "cases returned for re-assessment per year",
    "metric.rejected_per_year": "referrals not eligible per year",
    "metric.dropouts_per_year": "drop-outs per year",
    "metric.abandoned_per_year": "citizens leaving the waiting list before support per year",
    "metric.goals_reached_per_year": "goals reached per year",
    "metric.time_to_decision_mean_weeks": "time to decision, mean",
    "metric.time_to_decision_median_weeks": "time to decision, median",
    "metric.time_to_decision_p90_weeks": "time to decision, 90th percentile",
    "metric.time_to_decision_censored": "still waiting for a decision at the end",
    "metric.time_to_start_mean_weeks": "wait to support start, mean",
    "metric.time_to_start_median_weeks": "wait to support start, median",
    "metric.time_to_start_p90_weeks": "wait to support start, 90th percentile",
    "metric.time_to_start_censored": "still waiting for support at the end (censored)",
    "metric.core_task_share": "core-task share, all staff",
    "metric.support_hours_delivered_per_year": "support hours delivered per year",
    "metric.over_provided_hours_per_year": "support hours over the true need per year",
    "metric.under_provided_hours_per_year": "support hours short of the true need per year",
    "metric.post_goal_hours_per_year": "support hours after the goals were reached per year",
    "metric.post_goal_weeks_per_episode": "weeks of support after the goals, per completed "
    "§ 85 episode",
    "metric.cost_per_helped_dkk": "cost per citizen helped",
    "metric.cost_per_goal_dkk": "cost per goal reached",
    "metric.staff_cost_dkk_per_year": "staff cost per year",
    "metric.unspent_dkk_per_year": "unspent budget per year",
    "tpl.stage_mean": "{stage}: mean number of citizens",
    "tpl.stage_end": "{stage}: citizens at the end",
    "tpl.group_hours": "{group}: {category} hours per year",
    "tpl.group_core": "{group}: core-task share",
    # ---------------------------------------------------------------- scenario parameters
    "param.name": "name",
    "param.budget": "budget",
    "param.annual_dkk": "annual budget",
    "param.staff": "staff",
    "param.authority": "authority",
    "param.provider": "provider",
    "param.fte_cost_dkk_per_year": "cost per full-time equivalent",
    "param.hours_per_week": "contracted hours per week",
    "param.productive_share": "productive share of hours",
    "param.staffing": "staffing",
    "param.mode": "mode",
    "param.authority_fte": "authority staff",
    "param.provider_fte": "provider staff",
    "param.authority_share": "budget share to the authority",
    "param.max_p90_wait_weeks": "limit on the 90th percentile wait",
    "param.min_authority_share": "lowest authority share tried",
    "param.max_authority_share": "highest authority share tried",
    "param.coarse_step": "step of the coarse search",
    "param.fine_step": "step of the fine search",
    "param.top_k": "candidates re-run",
    "param.confirm_replications": "replications of the re-run",
    "param.fallback_authority_share": "authority share without the optimiser",
    "param.arrivals": "referrals",
    "param.kind": "kind",
    "param.rate_per_week": "referrals per week",
    "param.monthly_factors": "monthly factors, January to December",
    "param.path": "file of referral dates",
    "param.date_column": "date column",
    "param.segments": "need segments",
    "param.share": "share of referrals",
    "param.need_hours_per_week": "true need",
    "param.weeks_to_goal": "weeks to reach the goals",
    "param.goals": "number of goals",
    "param.eligible_probability": "probability of being eligible",
    "param.initial_caseload": "initial caseload",
    "param.in_support": "citizens in support at the start",
    "param.waiting": "citizens waiting at the start",
    "param.exits": "exits",
    "param.dropout_per_year": "drop-out rate",
    "param.rereferral_probability": "probability of a new referral",
    "param.rereferral_delay_weeks": "time to the new referral",
    "param.abandon_waiting_per_year": "rate of leaving the waiting list",
    "param.first_contact": "first contact",
    "param.joint": "joint (both groups, booked together)",
    "param.meeting": "meeting",
    "param.assessment": "assessment",
    "param.documentation": "documentation",
    "param.delay_weeks": "pure delay",
    "param.coordination_weeks": "time to find a time for the first meeting",
    "param.decision": "decision",
    "param.committee_cadence_weeks": "visitation committee meets every",
    "param.work": "decision and plan writing",
    "param.handoff": "handoff",
    "param.enabled": "in use",
    "param.after_wait": "held when a support place frees up (after the waiting list)",
    "param.order": "written order",
    "param.transfer_delay_weeks": "transfer delay",
    "param.startup_meeting": "provider start-up meeting",
    "param.plan": "provider plan",
    "param.accuracy": "assessment accuracy",
    "param.error_sd": "error of granted hours (sd)",
    "param.min_granted_hours_per_week": "smallest award",
    "param.rework": "rework",
    "param.probability": "probability",
    "param.reassessment": "re-assessment",
    "param.routing": "routing",
    "param.short_course_share": "share sent to a short course",
    "param.short_course_hours_per_week": "short course hours",
    "param.short_course_weeks": "short course length",
    "param.review": "review",
    "param.cadence_weeks": "weeks between reviews",
    "param.casework": "authority case work",
    "param.report": "provider status report",
    "param.adjust_hours": "share of the gap to true need closed at review",
    "param.authority_hours": "authority effort",
    "param.provider_hours": "provider effort",
    "param.duration_weeks": "duration",
    "param.compare": "models compared",
    "param.support_queue": "support waiting list",
    "param.review_provider_hours": "provider's part of a review",
    "param.review_priority": "reviews at the authority",
    "param.experiment": "experiment",
    "param.seed": "seed",
    "param.replications": "replications",
    "param.horizon_weeks": "horizon including warm-up",
    "param.warmup_weeks": "warm-up",
    "param.stream_key": "stream key (sweep point)",
    "param.sweep": "sweep",
    "param.parameters": "parameters",
    "param.models": "models",
    "param.start": "from",
    "param.stop": "to",
    "param.step": "step",
    "param.description": "description",
    "param.extends": "starts from",
    "value.fifo": "first in, first out",
    "value.first_fit": "first fit (a later citizen whose hours fit may start first)",
    "value.fixed": "fixed",
    "value.share": "budget share",
    "value.optimise": "optimised",
    "value.poisson": "Poisson process",
    "value.csv": "replayed dates",
    "value.grid": "grid",
    "value.zip": "zipped",
    "value.free": "from the provider's free hours (costs capacity)",
    "value.support": "inside the citizen's granted support hours",
    "value.arrival": "in arrival order with new intake",
    "value.reviews_first": "before waiting new intake",
    "queue.intake": "first fit in order of referral; meetings and assessments are served before "
    "waiting support starts",
    # ---------------------------------------------------------------- distributions
    "dist.fixed": "fixed",
    "dist.exponential": "exponential",
    "dist.lognormal": "log-normal",
    "dist.gamma": "gamma",
    "dist.triangular": "triangular",
    "dist.uniform": "uniform",
    "dist.empirical": "drawn from",
    "dist.mean": "mean",
    "dist.sd": "sd",
    "dist.low": "low",
    "dist.mode": "mode",
    "dist.high": "high",
    "dist.values": "values",
    "dist.weights": "weights",
    # ---------------------------------------------------------------- STRESS-DES
    "stress.intro": "Written after the STRESS-DES reporting checklist (Monks et al. 2019).",
    "stress.aim": "1. Aim",
    "stress.aim.text": "To compare how many citizens {models} help, how long the citizens wait "
    "and where the staff hours go, when every model gets the same annual budget ({budget}). The "
    "results support planning and budget discussions. They are not a forecast for a given "
    "municipality until the assumptions are replaced with its own data.",
    "stress.logic": "2. Logic",
    "stress.logic.text": "Citizens are referred, meet the authority (alone, or jointly with the "
    "provider) at a first contact, are assessed and get a decision. In the classic model the "
    "case is then handed over with a written order and the provider holds its own start-up "
    "meeting. Eligible citizens wait for support when the provider's hours are taken, or are "
    "sent to a short course. Support runs until the first review at which the goals are reached; "
    "citizens may drop out, and some are referred again later. The authority and the provider "
    "are two pools of hours per week. Each activity holds hours of one or both pools while it "
    "runs; a joint activity is booked in both at once. Support that runs is never interrupted. "
    "Every staff hour is counted as support, meetings with citizens, case work, documentation "
    "and handoff, or idle.",
    "stress.inputs": "3. Inputs",
    "stress.inputs.text": "All inputs are in the scenario file and listed under Assumptions, "
    "with units. The default calibration comes from public Danish sources (KL, municipal quality "
    "standards, providers' price lists); values marked as assumptions in the scenario file "
    "should be replaced with the municipality's own data.",
    "stress.outputs": "4. Outputs",
    "stress.outputs.text": "Measured after the warm-up, per replication and model: citizens "
    "helped and completed per year; time to decision and to support start (mean, median, 90th "
    "percentile) with the number still waiting at the end (censored); citizens in each stage; "
    "staff hours per group and category and the core-task share; support hours delivered, over "
    "and under the true need; cost per citizen helped and per goal reached (budget times "
    "measured years over the count).",
    "stress.experimentation": "5. Experimentation",
    "stress.experimentation.text": "{reps} replications of {horizon} weeks, of which the first "
    "{warmup} weeks are warm-up and not measured ({window} years measured). The runs start with "
    "{in_support} citizens in support and {waiting} waiting. Both models see the same citizens "
    "in each replication (common random numbers), so differences are paired. Tables give means "
    "with 95 % t-confidence intervals over replications.",
    "stress.implementation": "6. Implementation and code access",
    "stress.implementation.text": "Discrete-event simulation in Python with SimPy. Each random "
    "quantity has its own stream, derived from the seed and the replication number, so the same "
    "seed gives the same numbers on any machine and with any number of worker processes.",
    "impl.software": "software",
    "impl.seed": "seed",
    "impl.replications": "replications",
    "impl.warmup": "warm-up",
    "impl.horizon": "horizon",
    "impl.window": "measured window",
    "impl.queue_intake": "queue discipline, meetings and assessments",
    "impl.queue_support": "queue discipline, support waiting list",
    "impl.queue_reviews": "queue discipline, reviews at the authority",
    "impl.review_hours": "provider's part of a review",
    "impl.revision": "git revision",
    "impl.command": "command",
    "impl.platform": "platform",
    "impl.wall": "run time",
    "impl.created": "created",
    "impl.staff": "staff of {model}",
    "impl.staff_value": "{authority} authority FTE, {provider} provider FTE, staff cost {cost}, "
    "unspent {unspent}",
    "unit.years": "years",
    "unit.seconds": "seconds",
    # ---------------------------------------------------------------- sweeps (sim/sweep_report.py)
    "sweep.title": "Sweep {name}: {metric} across {n} variants of the scenario",
    "sweep.subtitle": "Run {run}, {created}; {reps} replications per point and model; {status}.",
    "sweep.intro": "Each point is one variant of the scenario. Within a point every model gets "
    "the same budget and sees the same citizens (common random numbers), so the differences are "
    "paired; points are independent of each other.",
    "sweep.status.complete": "all points complete",
    "sweep.status.failures": "{failed} of {total} points failed",
    "sweep.status.incomplete": "{missing} of {total} points not run yet",
    "sweep.fig.lines.title": "{metric} against {param}",
    "sweep.fig.lines.subtitle": "Line = mean of {n} replications per point; band = 95 % CI",
    "sweep.fig.heatmap.title": "{difference}: {metric}",
    "sweep.fig.heatmap.subtitle": "Paired difference per point (same citizens), mean of {n} "
    "replications. Open circle: its 95 % CI includes 0.<br>Shaded, dashed edge: the same between "
    "the points (interpolated); the edge is the break-even contour. Solid line: mean difference 0",
    "sweep.fig.heatmap.fixed": "Other parameters held at: {values}",
    "sweep.fig.heatmap.no_crossing": "The 95 % CI of the difference excludes 0 at every point: "
    "no break-even inside this grid",
    "sweep.fig.per_million.title": "Citizens helped per million DKK of budget",
    "sweep.fig.per_million.subtitle": "Citizens helped per year over the annual budget in "
    "millions; line = mean of {n} replications per point, band = 95 % CI",
    "sweep.legend.break_even": "mean difference 0",
    "sweep.legend.ci_edge": "no clear difference (95 % CI includes 0)",
    "sweep.legend.ci_zero": "CI includes 0",
    "sweep.facet": "{param} = {value}",
    "sweep.facets_capped": "{shown} of {total} panels shown",
    "sweep.metric.helped_per_million": "citizens helped per million DKK",
    "sweep.points": "Points",
    "sweep.points_note": "Every point's resolved scenario is in {folder}; rerun one point alone "
    "with {command}.",
    "sweep.no_heatmap": "The heatmap of differences needs two swept numeric parameters.",
    "sweep.failed": "Failed points",
    "sweep.col.point": "Point",
    "sweep.col.status": "Status",
    "sweep.col.error": "Error",
    "sweep.status.ok": "ok",
    "sweep.status.failed": "failed",
    "sweep.status.missing": "not run",
    "unit.million_dkk": "M DKK",
    "unit.million_dkk_per_year": "M DKK/year",
    "unit.per_million_dkk": "citizens/year per M DKK",
    # ---------------------------------------------------------------- explain and optimise
    "xp.title": "Which mechanism makes the difference: {frm} to {to}",
    "xp.meta": "Scenario {scenario}, run {run}, {n} replications on the same citizens.",
    "xp.headline": "From {frm} to {to}, the number of citizens helped per year changes by "
    "{total}; the largest part, {value} ({share} of the total, {method}), comes from {mech}.",
    "xp.headline_none": "{to} and {frm} are set identically; there is nothing to decompose.",
    "xp.headline_sequential": "From {frm} to {to}, the number of citizens helped per year changes "
    "by {total}; with the mechanisms switched in the order shown, the largest part, {value} "
    "({share} of the total), comes from {mech}.",
    "xp.headline_range_sampled": "The split depends on the order: over the {n} sampled orders, "
    "{mech} contributes between {lo} and {hi}.",
    "xp.headline_range_first_last": "The split depends on the order: switched first, last or at "
    "its place here, {mech} contributes between {lo} and {hi}; Shapley values (the default) "
    "average over every order.",
    "xp.total_bar": "total: {to} − {frm}",
    "xp.level_of": "level in {model}",
    "xp.hover_step": "change",
    "xp.waterfall_title": "{metric}: from {frm} to {to}, mechanism by mechanism",
    "xp.waterfall_subtitle": "{method}.<br>Bars: mean change; whiskers: 95 % CI over {n} "
    "replications on the same citizens.",
    "xp.axis_change": "change from {frm} ({unit})",
    "xp.method_sequential": "Mechanisms switched one at a time in the order shown",
    "xp.method_shapley": "Shapley values: each mechanism's change averaged over all orders",
    "xp.method_shapley_sampled": "Shapley values estimated from {n} random orders",
    "xp.method_sequential_short": "sequential",
    "xp.method_shapley_short": "Shapley",
    "xp.methods_title": "Does the order matter? Sequential against Shapley contributions",
    "xp.methods_subtitle": "Mean change with 95 % CI over {n} replications on the same citizens.",
    "xp.col_mechanism": "Mechanism",
    "xp.console_title": "{scenario}: {frm} -> {to}, {method}: mean [95 % CI] over {n} "
    "replications on the same citizens",
    "xp.console_in_order": "{method} (in this order)",
    "xp.console_breakdown_title": "{scenario}, {method}: citizens helped = § 85 starts + "
    "short-course starts (§ 82b); support hours after the goals were reached",
    "xp.headline_split": "Citizens helped are § 85 starts plus short-course starts (§ 82b): of "
    "the total, {s85} are § 85 starts and {courses} short courses; of the part from {mech}, "
    "{mech_s85} and {mech_courses}.",
    "xp.breakdown_title": "Citizens helped: § 85 starts and short courses; support after the goals",
    "xp.breakdown_note": "Citizens helped = citizens starting § 85 support + citizens starting a "
    "short course (§ 82b), so in every row the § 85 and short-course changes add up to the change "
    "in citizens helped. Support hours after the goals were reached: provider hours of § 85 "
    "support given between the day a citizen's goals were reached and the review that ended the "
    "support. {method}.",
    "xp.breakdown_fig_title": "What the change in citizens helped is made of, mechanism by "
    "mechanism",
    "xp.same_setting": "0 (same setting)",
    "xp.table_sequential": "Sequential contributions, mean (95 % CI)",
    "xp.table_shapley": "Shapley contributions, mean (95 % CI)",
    "xp.how_title": "How this was computed",
    "xp.how_sequential": "Sequential: starting from the first model, the mechanisms were switched "
    "to the second model's settings one at a time, in this order: {order}. A mechanism's "
    "contribution is the change it makes at its turn; the contributions add up to the total "
    "difference exactly, in every replication. The answer can depend on the order.",
    "xp.how_shapley_exact": "Shapley: all {k} combinations of the {n} differing mechanisms were "
    "simulated; each mechanism's contribution is its change averaged over every order.",
    "xp.how_shapley_sampled": "Shapley: estimated from {n} random orders (each with its reverse).",
    "xp.how_skipped": "Set identically in both models, so not simulated and exactly zero: {names}.",
    "xp.how_range_first_last": "To show how much the order matters, each mechanism was also "
    "switched first and last (up to two more intermediate models per mechanism); the headline "
    "gives the smallest and largest of its contributions in these orders.",
    "xp.how_ci": "Every intermediate model ran on the same citizens in each replication, so each "
    "contribution is a paired difference; the 95 % confidence interval is a t-interval over the "
    "replications.",
    "op.title": "The best staff mix for the budget: {scenario}",
    "op.meta": "Run {run}. Budget {budget} a year. Limit: 90 % of citizens start support within "
    "{limit} weeks.",
    "op.headline": "{model}: {share} of the budget to the authority ({a} + {p} FTE) helps {helped} "
    "citizens a year, with 90 % starting support within {p90} weeks (limit {limit}).",
    "op.headline_infeasible": "{model}: no split meets the limit of {limit} weeks; the closest, "
    "{share} to the authority ({a} + {p} FTE), helps {helped} citizens a year, with a 90th "
    "percentile wait of {p90} weeks.",
    "op.feasible_range": "The limit is met from {lo} to {hi} authority share.",
    "op.near_best": "Between {lo} and {hi} the number helped is not significantly lower: there "
    "the split hardly matters.",
    "op.defaults_note": "The scenario's staffing mode is not 'optimise', so the optimiser's "
    "default settings were used; the scenario's own staffing is shown for comparison.",
    "op.curve_title": "Citizens helped per year against the authority's share of the budget",
    "op.curve_subtitle": "Coarse and fine pass on the same citizens ({n} replications; band: "
    "95 % CI). Open markers break the waiting-time limit.<br>Stars: the named split, re-run with "
    "{m} replications on fresh citizens (best of {k}).",
    "op.legend_chosen": "{model}: named split (95 % CI)",
    "op.legend_breaks": "breaks the limit",
    "op.limit_line": "limit: {x} weeks",
    "op.axis_helped": "helped (citizens/year)",
    "op.axis_p90": "90 % start within (weeks)",
    "op.axis_share": "authority's share of the budget (%); the rest goes to the provider",
    "op.hover": "<b>{model}</b>, authority {share}<br>{a} + {p} FTE<br>helped/year: {helped}"
    "<br>90th percentile wait: {p90} weeks<br>waiting at the end: {waiting}<br>limit ratio: "
    "{ratio}<br>{n} replications",
    "op.chosen_title": "The named split per model",
    "op.row_share": "Authority share of the budget",
    "op.row_fte": "FTE (authority + provider)",
    "op.row_helped": "Citizens helped per year (95 % CI)",
    "op.row_p90": "Wait to support start, 90th percentile (weeks)",
    "op.row_waiting": "Still waiting at the end (citizens)",
    "op.row_abandoned": "Gave up waiting (citizens/year)",
    "op.row_ratio": "Limit ratio (met when ≤ 1)",
    "op.row_binds": "Where the limit binds",
    "op.row_feasible": "Shares that meet the limit",
    "op.row_near_best": "Shares not significantly worse",
    "op.row_runner_up": "Against the runner-up (paired)",
    "op.row_current": "Against the scenario's staffing (paired)",
    "op.vs": "{share}: {diff}",
    "op.none_feasible": "none",
    "op.binds_none": "not at the named split",
    "op.binds_below": "just below it: less to the authority breaks the limit",
    "op.binds_above": "just above it: more to the authority breaks the limit",
    "op.binds_both": "on both sides",
    "op.binds_infeasible": "everywhere: no split meets it",
    "op.rule_title": "The limit and the search",
    "op.rule": "A split meets the limit of {limit} weeks when, on the mean over replications, the "
    "90th percentile of completed waits is at most {limit} weeks, the citizens still waiting at "
    "the end are at most {limit} weeks' worth of referrals (Little's law: otherwise the mean wait "
    "exceeds the limit), and at most 10 % of those on the waiting list give up (they never start). "
    "The limit ratio is the largest of the three, each divided by its bound.",
    "op.search": "All splits of a pass ran on the same citizens. A coarse pass over the range was "
    "followed by a fine pass around the best split that meets the limit; the best few were re-run "
    "with more replications on fresh citizens, and the best of those by mean is named. Ties in "
    "the number helped (where no queue forms, the split changes nothing) go to the split in the "
    "middle of the near-best range.",
    "op.all_candidates": "All {n} runs",
    "op.col_stage": "Pass",
    "op.stage_coarse": "coarse",
    "op.stage_fine": "fine",
    "op.stage_confirm": "re-run",
    "op.stage_current": "scenario's staffing",
    # ---------------------------------------------------------------- settling (sim.run.settle)
    "settle.grows": "Not settled: under {model} {series} still grows by {n} citizens a year "
    "after the warm-up (95 % CI {low} to {high}; {years} years measured), so the figures "
    "depend on how long the run is.",
    "settle.falls": "Not settled: under {model} {series} still falls by {n} citizens a year "
    "after the warm-up (95 % CI {low} to {high}; {years} years measured), so the figures "
    "depend on how long the run is.",
    "settle.suggest": "The truncation point (MSER-5) suggests a warm-up of at least {weeks} "
    "weeks under {model} (this run: {used} weeks): lengthen the warm-up (warmup_weeks) and the "
    "horizon (horizon_weeks), or start from an initial caseload nearer the steady state.",
    "settle.series.support_queue_citizens": "the waiting list for support",
    "settle.series.intake_citizens": "the number between referral and decision",
    "settle.series.handoff_citizens": "the number between decision and the provider",
    "settle.series.support_citizens": "the number in support",
}

_DA: dict[str, str] = {
    # ---------------------------------------------------------------- report frame
    "report.title": "{models}: hjulpne borgere, ventetid og medarbejdertimer med samme budget",
    "report.compare_title": "Kørsler side om side: {names}",
    "report.subtitle": "Scenarie {scenario}, kørsel {run}, {created}",
    "report.generated": "Lavet af sim {version} ud fra resultatmappen {folder}.",
    "report.headline": "Kort fortalt",
    "report.kpis": "Nøgletal",
    "report.kpis_note": "Gennemsnit af {n} gentagelser med 95 %-konfidensinterval (KI). De "
    "sidste kolonner viser parrede forskelle (de samme borgere i begge modeller).",
    "report.figures": "Figurer",
    "report.assumptions": "Forudsætninger",
    "report.assumptions_note": "Alle scenariets inddata med værdi og enhed. Erstat de "
    "illustrative værdier med kommunens egne data, før der drages konklusioner.",
    "report.mechanisms": "Visitationsmodeller: indstillinger af mekanismerne",
    "report.mechanisms_note": "De opløste indstillinger for hver sammenlignet model. Et mærke i "
    "sidste kolonne viser en indstilling, der er forskellig mellem modellerne.",
    "report.description": "Modelbeskrivelse (STRESS-DES)",
    "report.all_metrics": "Alle nøgletal",
    "report.show_all": "Vis alle {n} nøgletal",
    "report.warnings": "Læs med forsigtighed",
    "report.runs": "Kørsler",
    "report.key_metrics_by_run": "Nøgletal efter kørsel og model",
    "report.figure_png_note": "Figurerne som PNG: {folder}",
    # ---------------------------------------------------------------- table headings
    "col.metric": "Nøgletal",
    "col.unit": "Enhed",
    "col.parameter": "Parameter",
    "col.key": "Nøgle i scenariefilen",
    "col.value": "Værdi",
    "col.meaning": "Betydning",
    "col.differs": "Forskellig",
    "col.run": "Kørsel",
    "col.model": "Model",
    "col.scenario": "Scenarie",
    "col.budget": "Budget",
    "col.replications": "Gentagelser",
    "col.seed": "Frø",
    "col.revision": "Git-revision",
    "col.folder": "Mappe",
    "col.item": "Punkt",
    "col.difference": "{model} {minus} {baseline}",
    "col.mean_ci": "gennemsnit (95 %-KI)",
    "yes": "ja",
    "no": "nej",
    "differs_mark": "forskellig",
    # ---------------------------------------------------------------- numbers
    "num.ci": "95 %-KI",
    "num.million_dkk": "{x} mio. kr.",
    "num.dkk": "{x} kr.",
    "num.range_to": "til",
    "num.na": "ikke opgjort",
    "num.no_spread": "ingen spredning",
    # ---------------------------------------------------------------- models
    "model.classic": "klassisk",
    "model.joint": "fælles",
    "model_phrase.classic": "den klassiske model",
    "model_phrase.joint": "den fælles model",
    "model_phrase.other": "modellen {name}",
    "model_desc.classic": "Klassisk, top-down: myndigheden udreder alene, træffer afgørelse "
    "(via et visitationsudvalg), skriver en bestilling og overdrager sagen; udføreren holder "
    "derefter sit eget opstartsmøde. Lange bevillinger, der revurderes årligt.",
    "model_desc.joint": "Fælles: myndighed og udfører møder borgeren sammen ved første møde, "
    "sætter få mål og træffer afgørelse med det samme; ingen overdragelse. Korte, lette, fælles "
    "opfølgninger på målene, der flytter de bevilgede timer mod det reelle behov.",
    # ---------------------------------------------------------------- headline
    "headline.budget": "Med et budget på {budget} om året{unspent} ",
    "headline.unspent": ", hvoraf {unspent} om året ikke bruges på personale,",
    "headline.unspent_item": "{unspent} med {model}",
    "headline.budget_again": "Med samme budget ",
    "headline.helped_more": "hjalp {model} {diff} flere borgere om året end {baseline} "
    "({ci} {lo}{dash}{hi})",
    "headline.helped_fewer": "hjalp {model} {diff} færre borgere om året end {baseline} "
    "({ci} {lo}{dash}{hi})",
    "headline.helped_same": "viste {model} ingen klar forskel fra {baseline} i antal hjulpne "
    "borgere om året ({diff_signed}, {ci} {lo}{dash}{hi}, omfatter nul)",
    "headline.helped_same_noci": "viste {model} ingen klar forskel fra {baseline} i antal "
    "hjulpne borgere om året ({diff_signed}, intet konfidensinterval)",
    "headline.wait_cut": " og kortede medianventetiden til opstart af støtte fra {base} til "
    "{value} uger",
    "headline.wait_longer": " og forlængede medianventetiden til opstart af støtte fra {base} "
    "til {value} uger",
    "headline.wait_same": " uden klar forskel i medianventetiden til opstart af støtte "
    "({base} og {value} uger)",
    "headline.wait_na": " (medianventetiden til opstart kunne ikke sammenlignes)",
    "headline.censored": "Ved kørslens slutning ventede {counts} stadig på at komme i gang med "
    "støtten; deres ventetid indgår ikke i medianerne.",
    "headline.censored_item": "{n} borgere med {model}",
    "headline.and": "og",
    "headline.split": "Hjulpne borgere er starter i § 85-støtte plus starter på kortere forløb; "
    "forskellen fordeler sig på {s85} § 85-starter og {course} starter på kortere forløb om året "
    "({ci} i parentes).",
    "headline.split_single": "Hjulpne borgere er starter i § 85-støtte plus starter på kortere "
    "forløb: {s85} § 85-starter og {course} starter på kortere forløb om året ({ci} i parentes).",
    "headline.single": "Med et budget på {budget} om året{unspent} hjalp {model} {helped} "
    "borgere om året ({ci} {lo}{dash}{hi}); medianventetiden til opstart af støtte var {wait} "
    "uger.",
    "warn.growing": "Ventelisten til støtte med {model} voksede stadig ved kørslens slutning "
    "(gennemsnit {mean}, ved slut {end} borgere): efterspørgslen er større end kapaciteten, så "
    "ventetiden afhænger af, hvor lang kørslen er, og medianerne udelader alle, der stadig venter.",
    "warn.few_reps": "Kun {n} gentagelser: konfidensintervallerne er brede og usikre.",
    "note.helped_sum": "Hjulpet = starter i § 85-støtte + starter på kortere forløb (de to "
    "rækker herunder).",
    "console.s85_starts": "  heraf startet i § 85-støtte",
    "console.short_course": "  heraf startet på kortere forløb",
    "console.post_goal_hours": "Støttetimer efter at målene var nået",
    "console.post_goal_weeks": "  uger efter mål pr. afsluttet forløb",
    "warn.unspent": "Med {models} bruges {unspent} om året ({share} af budgettet) ikke på "
    "personale: personalet er fastlagt til {authority} årsværk hos myndigheden og {provider} "
    "årsværk hos udføreren, så et større budget giver kun flere ubrugte penge. Bemandingsformen "
    "share (staffing: {{mode: share, authority_share: ...}}) bruger hele budgettet på personale.",
    # ---------------------------------------------------------------- figures
    "fig.helped.title": "Borgere hjulpet pr. år",
    "fig.helped.subtitle": "Borgere, der startede i støtte (§ 85 eller kortere forløb); søjle = "
    "gennemsnit af {n} gentagelser, streg = 95 %-KI",
    "fig.wait.title": "Ventetid fra henvisning til opstart af støtte",
    "fig.wait.subtitle": "Stor markør = gennemsnit af {n} gentagelser med 95 %-KI; små prikker "
    "= hver gentagelses værdi. Kun borgere, der startede inden for perioden.",
    "fig.wait.censored": "Venter stadig ved slut (censureret, indgår ikke her):",
    "fig.wait.censored_item": "{model}: {n} borgere ({ci} {lo}{dash}{hi})",
    "fig.wait.censored_flat": "{model}: {n} borgere",
    "fig.queues.title": "Borgere i hvert trin over tid",
    "fig.queues.subtitle": "Linje = gennemsnit over gentagelser; bånd = 5 %- til 95 %-fraktil "
    "på tværs af gentagelser; skraveret = opvarmning (måles ikke)",
    "fig.queues.warmup": "opvarmning",
    "fig.hours.title": "Medarbejdertimer pr. år fordelt på opgaver",
    "fig.hours.subtitle": "Gennemsnit af {n} gentagelser. Over hver søjle: andel kerneopgaver "
    "(støtte og møder med borgere i forhold til produktive timer)",
    "fig.hours.core": "kerneopgaver {share}",
    "fig.cost.title": "Pris pr. hjulpet borger",
    "fig.cost.subtitle": "Budget delt med antal hjulpne borgere; søjle = gennemsnit af {n} "
    "gentagelser, streg = 95 %-KI",
    "fig.diff.title": "Forskelle fra {baseline} (parrede, 95 %-KI)",
    "fig.diff.subtitle": "Hvert felt i sin egen enhed; en markør til højre for nul-linjen betyder, "
    "at modellen ligger over {baseline}",
    "fig.diff.title_any": "Parrede forskelle (95 %-KI)",
    "fig.diff.subtitle_any": "Hvert felt i sin egen enhed; en markør til højre for nul-linjen "
    "betyder, at parrets første model ligger højest",
    "fig.compare.title": "{metric} efter kørsel og model",
    "fig.compare.subtitle": "Gennemsnit af gentagelser med 95 %-KI",
    "fig.compare_diff.title": "Forskelle fra basismodellen i hver kørsel (parrede, 95 %-KI)",
    "axis.model": "model",
    "axis.week": "uge fra simuleringens start (uger)",
    "axis.statistic": "mål for ventetiden",
    "axis.run": "kørsel",
    "axis.difference": "forskel ({unit})",
    "axis.with_unit": "{label} ({unit})",
    "axis.comparison": "sammenligning",
    "axis.staff_hours": "medarbejdertimer",
    "axis.citizens": "antal borgere",
    "axis.value": "værdi",
    "axis.wait": "ventetid til opstart",
    "legend.replication": "{model}, hver gentagelse",
    "stat.mean": "gennemsnit",
    "stat.median": "median",
    "stat.p90": "90 %-fraktil",
    "hover.value": "værdi",
    "hover.ci": "95 %-KI",
    # ---------------------------------------------------------------- units
    "unit.citizens/year": "borgere pr. år",
    "unit.goals/year": "mål pr. år",
    "unit.weeks": "uger",
    "unit.citizens": "borgere",
    "unit.hours/year": "timer pr. år",
    "unit.DKK": "kr.",
    "unit.DKK/year": "kr. pr. år",
    "unit.percent": "%",
    "unit.percentage_points": "procentpoint",
    "unit.hours": "timer",
    "unit.hours_per_week": "timer pr. uge",
    "unit.per_week": "henvisninger pr. uge",
    "unit.per_year": "pr. borger pr. år",
    "unit.fte": "årsværk",
    "unit.share": "andel (0-1)",
    "unit.relative": "i forhold til det reelle behov",
    "unit.factor": "faktor",
    "unit.goals": "mål",
    "unit.count": "antal",
    "unit.text": "",
    "unit.yes_no": "ja/nej",
    # ---------------------------------------------------------------- stages, groups, categories
    "stage.intake": "henvisning til afgørelse",
    "stage.handoff": "afgørelse til udfører",
    "stage.support_queue": "venteliste til støtte",
    "stage.support": "i støtte",
    "group.authority": "myndighed",
    "group.provider": "udfører",
    "cat.support": "støtte",
    "cat.meetings": "møder med borgere",
    "cat.casework": "sagsbehandling",
    "cat.documentation": "dokumentation og overdragelse",
    "cat.idle": "ledig tid",
    # ---------------------------------------------------------------- metrics
    "metric.referred_per_year": "borgere henvist pr. år",
    "metric.helped_per_year": "borgere hjulpet pr. år (§ 85-starter + kortere forløb)",
    "metric.completed_per_year": "borgere afsluttet med mål nået pr. år",
    "metric.s85_starts_per_year": "borgere startet i § 85-støtte pr. år",
    "metric.short_course_per_year": "borgere sendt på kortere forløb pr. år",
    "metric.rework_per_year": "sager sendt tilbage til ny udredning pr. år",
    "metric.rejected_per_year": "henvisninger uden ret til støtte pr. år",
    "metric.dropouts_per_year": "frafald pr. år",
    "metric.abandoned_per_year": "borgere, der forlod ventelisten før støtte, pr. år",
    "metric.goals_reached_per_year": "mål nået pr. år",
    "metric.time_to_decision_mean_weeks": "tid til afgørelse, gennemsnit",
    "metric.time_to_decision_median_weeks": "tid til afgørelse, median",
    "metric.time_to_decision_p90_weeks": "tid til afgørelse, 90 %-fraktil",
    "metric.time_to_decision_censored": "venter stadig på afgørelse ved slut",
    "metric.time_to_start_mean_weeks": "ventetid til opstart, gennemsnit",
    "metric.time_to_start_median_weeks": "ventetid til opstart, median",
    "metric.time_to_start_p90_weeks": "ventetid til opstart, 90 %-fraktil",
    "metric.time_to_start_censored": "venter stadig på støtte ved slut (censureret)",
    "metric.core_task_share": "andel kerneopgaver, alle medarbejdere",
    "metric.support_hours_delivered_per_year": "leverede støttetimer pr. år",
    "metric.over_provided_hours_per_year": "støttetimer ud over det reelle behov pr. år",
    "metric.under_provided_hours_per_year": "manglende støttetimer i forhold til behovet pr. år",
    "metric.post_goal_hours_per_year": "støttetimer efter at målene var nået pr. år",
    "metric.post_goal_weeks_per_episode": "uger med støtte efter at målene var nået, pr. "
    "afsluttet § 85-forløb",
    "metric.cost_per_helped_dkk": "pris pr. hjulpet borger",
    "metric.cost_per_goal_dkk": "pris pr. nået mål",
    "metric.staff_cost_dkk_per_year": "lønudgift pr. år",
    "metric.unspent_dkk_per_year": "ubrugt budget pr. år",
    "tpl.stage_mean": "{stage}: gennemsnitligt antal borgere",
    "tpl.stage_end": "{stage}: borgere ved slut",
    "tpl.group_hours": "{group}: timer til {category} pr. år",
    "tpl.group_core": "{group}: andel kerneopgaver",
    # ---------------------------------------------------------------- scenario parameters
    "param.name": "navn",
    "param.budget": "budget",
    "param.annual_dkk": "årligt budget",
    "param.staff": "medarbejdere",
    "param.authority": "myndighed",
    "param.provider": "udfører",
    "param.fte_cost_dkk_per_year": "pris pr. årsværk",
    "param.hours_per_week": "timer pr. uge ifølge kontrakt",
    "param.productive_share": "produktiv andel af timerne",
    "param.staffing": "bemanding",
    "param.mode": "metode",
    "param.authority_fte": "medarbejdere i myndighed",
    "param.provider_fte": "medarbejdere i udfører",
    "param.authority_share": "budgetandel til myndighed",
    "param.max_p90_wait_weeks": "grænse for 90 %-fraktilen af ventetiden",
    "param.min_authority_share": "laveste afprøvede andel til myndighed",
    "param.max_authority_share": "højeste afprøvede andel til myndighed",
    "param.coarse_step": "skridt i den grove søgning",
    "param.fine_step": "skridt i den fine søgning",
    "param.top_k": "kandidater, der køres igen",
    "param.confirm_replications": "gentagelser i genkørslen",
    "param.fallback_authority_share": "andel til myndighed uden optimering",
    "param.arrivals": "henvisninger",
    "param.kind": "type",
    "param.rate_per_week": "henvisninger pr. uge",
    "param.monthly_factors": "månedsfaktorer, januar til december",
    "param.path": "fil med henvisningsdatoer",
    "param.date_column": "datokolonne",
    "param.segments": "behovsgrupper",
    "param.share": "andel af henvisningerne",
    "param.need_hours_per_week": "reelt behov",
    "param.weeks_to_goal": "uger til målene er nået",
    "param.goals": "antal mål",
    "param.eligible_probability": "sandsynlighed for ret til støtte",
    "param.initial_caseload": "sager ved start",
    "param.in_support": "borgere i støtte ved start",
    "param.waiting": "borgere på venteliste ved start",
    "param.exits": "afslutninger",
    "param.dropout_per_year": "frafaldsrate",
    "param.rereferral_probability": "sandsynlighed for ny henvisning",
    "param.rereferral_delay_weeks": "tid til ny henvisning",
    "param.abandon_waiting_per_year": "rate for at forlade ventelisten",
    "param.first_contact": "første kontakt",
    "param.joint": "fælles (begge grupper, booket samlet)",
    "param.meeting": "møde",
    "param.assessment": "udredning",
    "param.documentation": "dokumentation",
    "param.delay_weeks": "ren ventetid",
    "param.coordination_weeks": "tid til at finde et fælles mødetidspunkt",
    "param.decision": "afgørelse",
    "param.committee_cadence_weeks": "visitationsudvalget mødes hver",
    "param.work": "afgørelse og handleplan skrives",
    "param.handoff": "overdragelse",
    "param.enabled": "i brug",
    "param.after_wait": "holdes, når der bliver en plads ledig (efter ventelisten)",
    "param.order": "skriftlig bestilling",
    "param.transfer_delay_weeks": "tid til overflytning",
    "param.startup_meeting": "udførers opstartsmøde",
    "param.plan": "udførers plan",
    "param.accuracy": "udredningens præcision",
    "param.error_sd": "fejl i bevilgede timer (sd)",
    "param.min_granted_hours_per_week": "mindste bevilling",
    "param.rework": "omgørelse",
    "param.probability": "sandsynlighed",
    "param.reassessment": "ny udredning",
    "param.routing": "visitering til forløb",
    "param.short_course_share": "andel sendt på kortere forløb",
    "param.short_course_hours_per_week": "timer på kortere forløb",
    "param.short_course_weeks": "længde af kortere forløb",
    "param.review": "opfølgning",
    "param.cadence_weeks": "uger mellem opfølgninger",
    "param.casework": "myndighedens sagsbehandling",
    "param.report": "udførers statusrapport",
    "param.adjust_hours": "andel af afstanden til det reelle behov lukket ved opfølgning",
    "param.authority_hours": "myndighedens tidsforbrug",
    "param.provider_hours": "udførers tidsforbrug",
    "param.duration_weeks": "varighed",
    "param.compare": "modeller, der sammenlignes",
    "param.support_queue": "venteliste til støtte",
    "param.review_provider_hours": "udførers del af en opfølgning",
    "param.review_priority": "opfølgninger hos myndigheden",
    "param.experiment": "eksperiment",
    "param.seed": "frø",
    "param.replications": "gentagelser",
    "param.horizon_weeks": "tidshorisont inkl. opvarmning",
    "param.warmup_weeks": "opvarmning",
    "param.stream_key": "strømnøgle (sweep-punkt)",
    "param.sweep": "parametervariation",
    "param.parameters": "parametre",
    "param.models": "modeller",
    "param.start": "fra",
    "param.stop": "til",
    "param.step": "skridt",
    "param.description": "beskrivelse",
    "param.extends": "bygger på",
    "value.fifo": "først ind, først ud",
    "value.first_fit": "første der passer (en senere borger, hvis timer passer, kan starte før)",
    "value.fixed": "fast",
    "value.share": "budgetandel",
    "value.optimise": "optimeret",
    "value.poisson": "Poisson-proces",
    "value.csv": "genafspillede datoer",
    "value.grid": "gitter",
    "value.zip": "parvis",
    "value.free": "fra udførers ledige timer (koster kapacitet)",
    "value.support": "inden for borgerens bevilgede støttetimer",
    "value.arrival": "i ankomstrækkefølge sammen med nye henvisninger",
    "value.reviews_first": "før ventende nye henvisninger",
    "queue.intake": "første der passer, i henvisningsrækkefølge; møder og udredninger går forud "
    "for opstart af ventende støtte",
    # ---------------------------------------------------------------- distributions
    "dist.fixed": "fast",
    "dist.exponential": "eksponentialfordelt",
    "dist.lognormal": "lognormalfordelt",
    "dist.gamma": "gammafordelt",
    "dist.triangular": "trekantfordelt",
    "dist.uniform": "ligefordelt",
    "dist.empirical": "trukket blandt",
    "dist.mean": "middel",
    "dist.sd": "sd",
    "dist.low": "mindst",
    "dist.mode": "typetal",
    "dist.high": "højst",
    "dist.values": "værdier",
    "dist.weights": "vægte",
    # ---------------------------------------------------------------- STRESS-DES
    "stress.intro": "Skrevet efter tjeklisten STRESS-DES (Monks m.fl. 2019).",
    "stress.aim": "1. Formål",
    "stress.aim.text": "At sammenligne, hvor mange borgere {models} hjælper, hvor længe "
    "borgerne venter, og hvor medarbejdernes timer går hen, når alle modeller får det samme "
    "årlige budget ({budget}). Resultaterne er et grundlag for planlægning og budgetdrøftelser. "
    "De er ikke en prognose for en bestemt kommune, før forudsætningerne er erstattet med "
    "kommunens egne data.",
    "stress.logic": "2. Logik",
    "stress.logic.text": "Borgere henvises, møder myndigheden (alene eller sammen med "
    "udføreren) ved en første kontakt, udredes og får en afgørelse. I den klassiske model "
    "overdrages sagen derefter med en skriftlig bestilling, og udføreren holder sit eget "
    "opstartsmøde. Borgere med ret til støtte venter, når udførerens timer er optaget, eller "
    "sendes på et kortere forløb. Støtten varer til den første opfølgning, hvor målene er nået; "
    "borgere kan falde fra, og nogle henvises igen senere. Myndighed og udfører er to puljer af "
    "timer pr. uge. Hver aktivitet optager timer i den ene eller begge puljer, mens den varer; en "
    "fælles aktivitet bookes i begge på én gang. Igangværende støtte afbrydes aldrig. Hver "
    "medarbejdertime tælles som støtte, møder med borgere, sagsbehandling, dokumentation og "
    "overdragelse eller ledig tid.",
    "stress.inputs": "3. Inddata",
    "stress.inputs.text": "Alle inddata står i scenariefilen og er vist under Forudsætninger "
    "med enheder. Standardværdierne bygger på offentlige danske kilder (KL, kommunale "
    "kvalitetsstandarder, leverandørers prislister); værdier, der i scenariefilen er markeret "
    "som antagelser, bør erstattes med kommunens egne data.",
    "stress.outputs": "4. Uddata",
    "stress.outputs.text": "Måles efter opvarmningen, for hver gentagelse og model: borgere "
    "hjulpet og afsluttet pr. år; tid til afgørelse og til opstart af støtte (gennemsnit, median, "
    "90 %-fraktil) med antallet, der stadig venter ved slut (censureret); borgere i hvert trin; "
    "medarbejdertimer pr. gruppe og opgave og andelen af kerneopgaver; leverede støttetimer over "
    "og under det reelle behov; pris pr. hjulpet borger og pr. nået mål (budget gange målte år "
    "delt med antallet).",
    "stress.experimentation": "5. Eksperimenter",
    "stress.experimentation.text": "{reps} gentagelser på {horizon} uger, hvoraf de første "
    "{warmup} uger er opvarmning og ikke måles ({window} år måles). Kørslerne starter med "
    "{in_support} borgere i støtte og {waiting} på venteliste. Begge modeller ser de samme "
    "borgere i hver gentagelse (fælles tilfældige tal), så forskellene er parrede. Tabellerne "
    "viser gennemsnit med 95 %-t-konfidensintervaller over gentagelserne.",
    "stress.implementation": "6. Implementering og adgang til koden",
    "stress.implementation.text": "Diskret hændelsessimulering i Python med SimPy. Hver "
    "tilfældig størrelse har sin egen talstrøm, afledt af frøet og gentagelsens nummer, så samme "
    "frø giver samme tal på enhver maskine og med et vilkårligt antal processer.",
    "impl.software": "programmer",
    "impl.seed": "frø",
    "impl.replications": "gentagelser",
    "impl.warmup": "opvarmning",
    "impl.horizon": "tidshorisont",
    "impl.window": "måleperiode",
    "impl.queue_intake": "køregel, møder og udredninger",
    "impl.queue_support": "køregel, venteliste til støtte",
    "impl.queue_reviews": "køregel, opfølgninger hos myndigheden",
    "impl.review_hours": "udførers del af en opfølgning",
    "impl.revision": "git-revision",
    "impl.command": "kommando",
    "impl.platform": "platform",
    "impl.wall": "køretid",
    "impl.created": "oprettet",
    "impl.staff": "medarbejdere, {model}",
    "impl.staff_value": "{authority} årsværk i myndighed, {provider} årsværk i udfører, "
    "lønudgift {cost}, ubrugt {unspent}",
    "unit.years": "år",
    "unit.seconds": "sekunder",
    # ---------------------------------------------------------------- sweeps (sim/sweep_report.py)
    "sweep.title": "Parametervariation {name}: {metric} i {n} varianter af scenariet",
    "sweep.subtitle": "Kørsel {run}, {created}; {reps} gentagelser pr. punkt og model; {status}.",
    "sweep.intro": "Hvert punkt er én variant af scenariet. Inden for et punkt får alle modeller "
    "det samme budget og ser de samme borgere (fælles tilfældige tal), så forskellene er parrede; "
    "punkterne er uafhængige af hinanden.",
    "sweep.status.complete": "alle punkter er kørt",
    "sweep.status.failures": "{failed} af {total} punkter fejlede",
    "sweep.status.incomplete": "{missing} af {total} punkter er ikke kørt endnu",
    "sweep.fig.lines.title": "{metric} efter {param}",
    "sweep.fig.lines.subtitle": "Linje = gennemsnit af {n} gentagelser pr. punkt; bånd = 95 %-KI",
    "sweep.fig.heatmap.title": "{difference}: {metric}",
    "sweep.fig.heatmap.subtitle": "Parret forskel pr. punkt (samme borgere), gennemsnit af {n} "
    "gentagelser. Åben cirkel: 95 %-KI indeholder 0.<br>Gråt felt med stiplet kant: det samme "
    "mellem punkterne (interpoleret); kanten er break-even-konturen. Fuld linje: gennemsnitlig "
    "forskel 0",
    "sweep.fig.heatmap.fixed": "Øvrige parametre holdt fast på: {values}",
    "sweep.fig.heatmap.no_crossing": "95 %-KI for forskellen udelukker 0 i alle punkter: intet "
    "break-even inden for gitteret",
    "sweep.fig.per_million.title": "Hjulpne borgere pr. million kr. i budget",
    "sweep.fig.per_million.subtitle": "Hjulpne borgere pr. år delt med årsbudgettet i millioner; "
    "linje = gennemsnit af {n} gentagelser pr. punkt, bånd = 95 %-KI",
    "sweep.legend.break_even": "gennemsnitlig forskel 0",
    "sweep.legend.ci_edge": "ingen klar forskel (95 %-KI indeholder 0)",
    "sweep.legend.ci_zero": "KI indeholder 0",
    "sweep.facet": "{param} = {value}",
    "sweep.facets_capped": "{shown} af {total} paneler vist",
    "sweep.metric.helped_per_million": "hjulpne borgere pr. million kr.",
    "sweep.points": "Punkter",
    "sweep.points_note": "Hvert punkts fulde scenarie ligger i {folder}; kør et enkelt punkt "
    "igen med {command}.",
    "sweep.no_heatmap": "Varmekortet over forskelle kræver to numeriske parametre, der varieres.",
    "sweep.failed": "Punkter, der fejlede",
    "sweep.col.point": "Punkt",
    "sweep.col.status": "Status",
    "sweep.col.error": "Fejl",
    "sweep.status.ok": "ok",
    "sweep.status.failed": "fejlede",
    "sweep.status.missing": "ikke kørt",
    "unit.million_dkk": "mio. kr.",
    "unit.million_dkk_per_year": "mio. kr./år",
    "unit.per_million_dkk": "borgere/år pr. mio. kr.",
    # ---------------------------------------------------------------- explain and optimise
    "xp.title": "Hvilken mekanisme gør forskellen: fra {frm} til {to}",
    "xp.meta": "Scenarie {scenario}, kørsel {run}, {n} gentagelser med de samme borgere.",
    "xp.headline": "Fra {frm} til {to} ændres antallet af borgere hjulpet pr. år med {total}; "
    "den største del, {value} ({share} af det hele, {method}), kommer fra {mech}.",
    "xp.headline_none": "{to} og {frm} er sat ens op; der er intet at dele op.",
    "xp.headline_sequential": "Fra {frm} til {to} ændres antallet af borgere hjulpet pr. år med "
    "{total}; med mekanismerne skiftet i den viste rækkefølge kommer den største del, {value} "
    "({share} af det hele), fra {mech}.",
    "xp.headline_range_sampled": "Fordelingen afhænger af rækkefølgen: over de {n} udtrukne "
    "rækkefølger bidrager {mech} med mellem {lo} og {hi}.",
    "xp.headline_range_first_last": "Fordelingen afhænger af rækkefølgen: skiftet først, sidst "
    "eller på sin plads her bidrager {mech} med mellem {lo} og {hi}; Shapley-værdier "
    "(standardvalget) er gennemsnittet over alle rækkefølger.",
    "xp.total_bar": "i alt: {to} − {frm}",
    "xp.level_of": "niveau i {model}",
    "xp.hover_step": "ændring",
    "xp.waterfall_title": "{metric}: fra {frm} til {to}, mekanisme for mekanisme",
    "xp.waterfall_subtitle": "{method}.<br>Søjler: gennemsnitlig ændring; streger: 95 %-KI over "
    "{n} gentagelser med de samme borgere.",
    "xp.axis_change": "ændring fra {frm} ({unit})",
    "xp.method_sequential": "Mekanismerne skiftet én ad gangen i den viste rækkefølge",
    "xp.method_shapley": "Shapley-værdier: hver mekanismes ændring i gennemsnit over alle "
    "rækkefølger",
    "xp.method_shapley_sampled": "Shapley-værdier anslået ud fra {n} tilfældige rækkefølger",
    "xp.method_sequential_short": "trinvis",
    "xp.method_shapley_short": "Shapley",
    "xp.methods_title": "Betyder rækkefølgen noget? Trinvise bidrag mod Shapley-bidrag",
    "xp.methods_subtitle": "Gennemsnitlig ændring med 95 %-KI over {n} gentagelser med de samme "
    "borgere.",
    "xp.col_mechanism": "Mekanisme",
    "xp.console_title": "{scenario}: {frm} -> {to}, {method}: gennemsnit [95 %-KI] over {n} "
    "gentagelser med de samme borgere",
    "xp.console_in_order": "{method} (i denne rækkefølge)",
    "xp.console_breakdown_title": "{scenario}, {method}: borgere hjulpet = starter i § 85-støtte "
    "+ starter på kortere forløb (§ 82b); støttetimer efter at målene var nået",
    "xp.headline_split": "Hjulpne borgere er starter i § 85-støtte plus starter på kortere "
    "forløb (§ 82b): af den samlede ændring er {s85} § 85-starter og {courses} kortere forløb; "
    "af bidraget fra {mech} {mech_s85} og {mech_courses}.",
    "xp.breakdown_title": "Hjulpne borgere: § 85-starter og kortere forløb; støtte efter at "
    "målene var nået",
    "xp.breakdown_note": "Borgere hjulpet = borgere startet i § 85-støtte + borgere startet på "
    "kortere forløb (§ 82b), så i hver række summerer ændringerne i § 85-starter og kortere "
    "forløb til ændringen i hjulpne borgere. Støttetimer efter at målene var nået: udførerens "
    "timer med § 85-støtte fra den dag, borgerens mål var nået, til den opfølgning, der afsluttede "
    "støtten. {method}.",
    "xp.breakdown_fig_title": "Hvad ændringen i hjulpne borgere består af, mekanisme for mekanisme",
    "xp.same_setting": "0 (samme indstilling)",
    "xp.table_sequential": "Trinvise bidrag, gennemsnit (95 %-KI)",
    "xp.table_shapley": "Shapley-bidrag, gennemsnit (95 %-KI)",
    "xp.how_title": "Sådan er det regnet",
    "xp.how_sequential": "Trinvis: fra den første model blev mekanismerne skiftet til den anden "
    "models indstillinger én ad gangen, i denne rækkefølge: {order}. En mekanismes bidrag er den "
    "ændring, den giver i sin tur; bidragene summerer præcis til den samlede forskel i hver "
    "gentagelse. Svaret kan afhænge af rækkefølgen.",
    "xp.how_shapley_exact": "Shapley: alle {k} kombinationer af de {n} mekanismer, der er "
    "forskellige, blev simuleret; hver mekanismes bidrag er dens ændring i gennemsnit over alle "
    "rækkefølger.",
    "xp.how_shapley_sampled": "Shapley: anslået ud fra {n} tilfældige rækkefølger (hver med sin "
    "omvendte).",
    "xp.how_skipped": "Sat ens i begge modeller, derfor ikke simuleret og præcis nul: {names}.",
    "xp.how_range_first_last": "For at vise, hvor meget rækkefølgen betyder, blev hver mekanisme "
    "også skiftet først og sidst (op til to ekstra mellemliggende modeller pr. mekanisme); "
    "overskriften viser det mindste og største af dens bidrag i disse rækkefølger.",
    "xp.how_ci": "Alle mellemliggende modeller kørte med de samme borgere i hver gentagelse, så "
    "hvert bidrag er en parret forskel; 95 %-konfidensintervallet er et t-interval over "
    "gentagelserne.",
    "op.title": "Den bedste fordeling af medarbejdere inden for budgettet: {scenario}",
    "op.meta": "Kørsel {run}. Budget {budget} om året. Grænse: 90 % af borgerne starter i støtte "
    "inden for {limit} uger.",
    "op.headline": "{model}: {share} af budgettet til myndigheden ({a} + {p} årsværk) hjælper "
    "{helped} borgere om året, og 90 % starter i støtte inden for {p90} uger (grænse {limit}).",
    "op.headline_infeasible": "{model}: ingen fordeling overholder grænsen på {limit} uger; den "
    "nærmeste, {share} til myndigheden ({a} + {p} årsværk), hjælper {helped} borgere om året med "
    "en 90 %-fraktil for ventetiden på {p90} uger.",
    "op.feasible_range": "Grænsen overholdes fra {lo} til {hi} til myndigheden.",
    "op.near_best": "Mellem {lo} og {hi} er antallet hjulpet ikke signifikant lavere: dér betyder "
    "fordelingen næsten intet.",
    "op.defaults_note": "Scenariets bemanding er ikke 'optimise', så optimeringens "
    "standardindstillinger blev brugt; scenariets egen bemanding er vist til sammenligning.",
    "op.curve_title": "Borgere hjulpet pr. år mod myndighedens andel af budgettet",
    "op.curve_subtitle": "Grov og fin søgning med de samme borgere ({n} gentagelser; bånd: "
    "95 %-KI). Åbne markører overskrider ventetidsgrænsen.<br>Stjerner: den valgte fordeling, "
    "kørt igen med {m} gentagelser og nye borgere (bedste af {k}).",
    "op.legend_chosen": "{model}: valgt fordeling (95 %-KI)",
    "op.legend_breaks": "overskrider grænsen",
    "op.limit_line": "grænse: {x} uger",
    "op.axis_helped": "hjulpet (borgere/år)",
    "op.axis_p90": "90 % starter inden for (uger)",
    "op.axis_share": "myndighedens andel af budgettet (%); resten går til udføreren",
    "op.hover": "<b>{model}</b>, myndighed {share}<br>{a} + {p} årsværk<br>hjulpet/år: {helped}"
    "<br>90 %-fraktil for ventetid: {p90} uger<br>venter ved slut: {waiting}<br>grænseforhold: "
    "{ratio}<br>{n} gentagelser",
    "op.chosen_title": "Den valgte fordeling pr. model",
    "op.row_share": "Myndighedens andel af budgettet",
    "op.row_fte": "Årsværk (myndighed + udfører)",
    "op.row_helped": "Borgere hjulpet pr. år (95 %-KI)",
    "op.row_p90": "Ventetid til opstart, 90 %-fraktil (uger)",
    "op.row_waiting": "Venter stadig ved slut (borgere)",
    "op.row_abandoned": "Opgav at vente (borgere/år)",
    "op.row_ratio": "Grænseforhold (overholdt når ≤ 1)",
    "op.row_binds": "Hvor grænsen binder",
    "op.row_feasible": "Andele der overholder grænsen",
    "op.row_near_best": "Andele der ikke er signifikant dårligere",
    "op.row_runner_up": "Mod nummer to (parret)",
    "op.row_current": "Mod scenariets bemanding (parret)",
    "op.vs": "{share}: {diff}",
    "op.none_feasible": "ingen",
    "op.binds_none": "ikke ved den valgte fordeling",
    "op.binds_below": "lige under: mindre til myndigheden overskrider grænsen",
    "op.binds_above": "lige over: mere til myndigheden overskrider grænsen",
    "op.binds_both": "på begge sider",
    "op.binds_infeasible": "overalt: ingen fordeling overholder den",
    "op.rule_title": "Grænsen og søgningen",
    "op.rule": "En fordeling overholder grænsen på {limit} uger, når 90 %-fraktilen af de "
    "afsluttede ventetider i gennemsnit over gentagelserne højst er {limit} uger, de borgere der "
    "stadig venter ved slut højst svarer til {limit} ugers henvisninger (Littles lov: ellers "
    "overstiger den gennemsnitlige ventetid grænsen), og højst 10 % af dem på ventelisten opgiver "
    "(de starter aldrig). Grænseforholdet er det største af de tre, hver delt med sin grænse.",
    "op.search": "Alle fordelinger i en søgning kørte med de samme borgere. En grov søgning over "
    "hele intervallet blev fulgt af en fin søgning omkring den bedste fordeling, der overholder "
    "grænsen; de bedste blev kørt igen med flere gentagelser og nye borgere, og den bedste af dem "
    "i gennemsnit er valgt. Står antallet hjulpet lige (hvor ingen kø opstår, ændrer fordelingen "
    "intet), vælges fordelingen midt i intervallet af næsten lige gode.",
    "op.all_candidates": "Alle {n} kørsler",
    "op.col_stage": "Søgning",
    "op.stage_coarse": "grov",
    "op.stage_fine": "fin",
    "op.stage_confirm": "gentaget",
    "op.stage_current": "scenariets bemanding",
    # ---------------------------------------------------------------- settling (sim.run.settle)
    "settle.grows": "Ikke i ligevægt: med {model} vokser {series} stadig med {n} borgere om året "
    "efter indkøringsperioden (95 %-KI {low} til {high}; {years} år målt), så tallene "
    "afhænger af, hvor lang kørslen er.",
    "settle.falls": "Ikke i ligevægt: med {model} falder {series} stadig med {n} borgere om året "
    "efter indkøringsperioden (95 %-KI {low} til {high}; {years} år målt), så tallene "
    "afhænger af, hvor lang kørslen er.",
    "settle.suggest": "Afskæringspunktet (MSER-5) peger på en indkøringsperiode på mindst "
    "{weeks} uger med {model} (denne kørsel: {used} uger): forlæng indkøringsperioden "
    "(warmup_weeks) og kørslens længde (horizon_weeks), eller start med en borgerbestand "
    "tættere på ligevægten.",
    "settle.series.support_queue_citizens": "ventelisten til støtte",
    "settle.series.intake_citizens": "antallet mellem henvisning og afgørelse",
    "settle.series.handoff_citizens": "antallet mellem afgørelse og udfører",
    "settle.series.support_citizens": "antallet i støtte",
}


def _compose(d: dict[str, str]) -> dict[str, str]:
    """Add the labels of patterned metrics (stages, groups x categories) to ``d``."""
    out = dict(d)
    for s in STAGES:
        stage = d[f"stage.{s}"]
        out[f"metric.{s}_mean_citizens"] = d["tpl.stage_mean"].format(stage=stage)
        out[f"metric.{s}_end_citizens"] = d["tpl.stage_end"].format(stage=stage)
    for g in GROUPS:
        group = d[f"group.{g}"]
        for c in CATEGORIES:
            out[f"metric.{g}_{c}_hours_per_year"] = d["tpl.group_hours"].format(
                group=group, category=d[f"cat.{c}"]
            )
        out[f"metric.{g}_core_task_share"] = d["tpl.group_core"].format(group=group)
    return out


LABELS: dict[str, dict[str, str]] = {"en": _compose(_EN), "da": _compose(_DA)}
"""Every label of reports and figures, per language; both languages have the same keys."""


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else a ValueError naming the choices."""
    if lang not in LABELS:
        raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str, **kwargs: object) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled from ``kwargs``."""
    text = LABELS[check_lang(lang)][key]
    return text.format(**kwargs) if kwargs else text


def has(key: str, lang: str = "en") -> bool:
    """Whether a label exists."""
    return key in LABELS[check_lang(lang)]


# --------------------------------------------------------------------------- metrics and units


def metric_label(metric: str, lang: str) -> str:
    """The reader's name of a metric; the raw name when no label exists (a new engine metric)."""
    return LABELS[check_lang(lang)].get(f"metric.{metric}", metric)


def metric_unit(metric: str, csv_unit: str | None = None) -> str:
    """The unit key of a metric (as in the results tables), corrected where the name is clearer.

    Shares are shown as percentages. Hours per year are recognised from the name, because the
    engine's ``unit_of`` labels ``support_hours_delivered_per_year`` as citizens/year.
    """
    if metric.endswith("_share"):
        return "percent"
    if "_hours" in metric and metric.endswith("_per_year"):
        return "hours/year"
    if csv_unit:
        return csv_unit
    from sim.model.metrics import unit_of

    return unit_of(metric)


def unit_label(unit: str, lang: str) -> str:
    """The reader's name of a unit key (``citizens/year``, ``weeks``, ``percent`` ...)."""
    return LABELS[check_lang(lang)].get(f"unit.{unit}", unit)


def metric_scale(metric: str) -> float:
    """Factor from the tables' value to the shown value (shares are shown in percent)."""
    return 100.0 if metric.endswith("_share") else 1.0


def axis_title(label: str, unit: str, lang: str) -> str:
    """``label (unit)`` for an axis; ``unit`` is a unit key."""
    return t("axis.with_unit", lang, label=label, unit=unit_label(unit, lang))


def model_name(model: str, lang: str) -> str:
    """Display name of a model: built-in presets are translated, user models keep their name."""
    return LABELS[check_lang(lang)].get(f"model.{model}", model)


def model_phrase(model: str, lang: str) -> str:
    """A model as the subject or object of a sentence ("the joint model", "den fælles model")."""
    key = f"model_phrase.{model}"
    if has(key, lang):
        return t(key, lang)
    return t("model_phrase.other", lang, name=model)


# --------------------------------------------------------------------------- numbers


def auto_digits(x: float) -> int:
    """Decimals worth showing for a value of this size: 0 from 10 up, 1 from 1, else 2."""
    if not math.isfinite(x):
        return 0
    a = abs(x)
    if a >= 10:
        return 0
    if a >= 1:
        return 1
    return 2


def fmt_num(x: float | None, lang: str, digits: int | None = None, *, sign: bool = False) -> str:
    """A number with thousands separators in the language's style; "n/a" for NaN or None."""
    if x is None or not math.isfinite(x):
        return t("num.na", lang)
    d = auto_digits(x) if digits is None else digits
    text = f"{abs(x):,.{d}f}"
    if check_lang(lang) == "da":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if round(x, d) < 0:
        text = MINUS + text
    elif sign and round(x, d) > 0:
        text = "+" + text
    return text


def fmt_dkk(x: float | None, lang: str) -> str:
    """Money: "16.5 M DKK" / "16,5 mio. kr." from a million up, else "121,650 DKK"."""
    if x is None or not math.isfinite(x):
        return t("num.na", lang)
    if abs(x) >= 1e6:
        return t("num.million_dkk", lang, x=fmt_num(x / 1e6, lang, 1 if abs(x) < 1e8 else 0))
    return t("num.dkk", lang, x=fmt_num(x, lang, 0))


def fmt_range(lo: float, hi: float, lang: str, digits: int | None = None) -> str:
    """A range: "24–28", or "−12 to −8" when a bound is negative (a dash would read as minus)."""
    d = auto_digits(max(abs(lo), abs(hi))) if digits is None else digits
    a, b = fmt_num(lo, lang, d), fmt_num(hi, lang, d)
    if lo < 0 or hi < 0:
        return f"{a} {t('num.range_to', lang)} {b}"
    return f"{a}{DASH}{b}"


def range_sep(lo: float, hi: float, lang: str) -> str:
    """The separator ``fmt_range`` puts between ``lo`` and ``hi``."""
    if lo < 0 or hi < 0:
        return f" {t('num.range_to', lang)} "
    return DASH


def fmt_ci(
    mean: float, lo: float, hi: float, lang: str, digits: int | None = None, *, sign: bool = False
) -> str:
    """ "26 (24–28)": a mean with its 95 % CI; the mean alone when the CI is undefined; "26 (no
    spread)" when every replication gave the same value (an interval of width zero)."""
    d = auto_digits(mean) if digits is None else digits
    m = fmt_num(mean, lang, d, sign=sign)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not math.isfinite(mean):
        return m
    if lo == hi:
        return f"{m} ({t('num.no_spread', lang)})"
    return f"{m} ({fmt_range(lo, hi, lang, d)})"


def parse_num(text: str, lang: str) -> float:
    """The inverse of ``fmt_num`` (for tests and for reading a report back)."""
    s = text.strip().replace(MINUS, "-").replace("+", "")
    if check_lang(lang) == "da":
        return float(s.replace(".", "").replace(",", "."))
    return float(s.replace(",", ""))


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators``: decimal mark, then thousands separator."""
    return ",." if check_lang(lang) == "da" else ".,"


def fmt_exact(x: float, lang: str) -> str:
    """A parameter value as entered: up to 6 significant digits, no trailing zeros."""
    if not math.isfinite(x):
        return t("num.na", lang)
    if float(x).is_integer():
        return fmt_num(x, lang, 0)
    s = f"{x:.6g}"
    digits = len(s.split(".")[1]) if "." in s and "e" not in s else 4
    return fmt_num(x, lang, digits)


def list_sep(lang: str) -> str:
    """Separator of a list of numbers: "; " in Danish, where the comma is the decimal mark."""
    return "; " if check_lang(lang) == "da" else ", "
