"""A self-contained HTML report of a results folder, and of several runs side by side.

The report is one file that opens from ``file://`` with no network: plotly.js is inlined once in
the head, every figure is a plain ``<div>`` plus a ``Plotly.newPlot`` call, the CSS is inline and
no font, image or script is fetched. Its contents: a plain-language headline computed from the
tables, key figures with units and 95 % CIs, the figures, every assumption of the scenario with
its unit, the mechanism settings of the compared models, and a model description after the
STRESS-DES checklist. Optional PNG export uses kaleido with one browser for the whole run.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.model import registry
from sim.model.metrics import unspent_to_mention
from sim.present import i18n
from sim.present.i18n import t
from sim.present.page import esc, figure_html, footer, page
from sim.present.plots import (
    Results,
    Stat,
    compare_figures,
    load_results,
    pair_label,
    report_figures,
    run_labels,
    unit_key,
)
from sim.present.settling import warnings as settling_warnings
from sim.present.workbook import workbook_link
from sim.store.results import final_name
from sim.store.settling import read_table as read_settling

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from pydantic import BaseModel

    from sim.model.scenario import Scenario

REPORT_NAME = "report.html"
FIGURES_DIR = "figures"

KPI_METRICS: tuple[str, ...] = registry.shown_in("key_figures")
"""Rows of the key-figure table, in reading order."""

COMPARE_TABLE_METRICS: tuple[str, ...] = registry.shown_in("compare_table")
"""Rows of the comparison report's table."""

KNOWN_INTAKE_DISCIPLINE = "first-fit in arrival order, served before support starts"


class ImageExportError(RuntimeError):
    """PNG export is impossible here (no kaleido or no Chromium); the message says how to fix it."""


# --------------------------------------------------------------------------- headline


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _helped_clause(res: Results, model: str, baseline: str, lang: str) -> str:
    d = res.diff(model, "helped_per_year", baseline)
    phrase = dict(
        model=i18n.model_phrase(model, lang),
        baseline=i18n.model_phrase(baseline, lang),
        ci=t("unc.mc_only", lang),  # u2-analysis: a run's CI covers Monte Carlo noise only
    )
    digits = i18n.auto_digits(d.mean)
    if _finite(d.mean, d.low, d.high) and (d.low > 0 or d.high < 0):
        more = d.low > 0
        lo, hi = (d.low, d.high) if more else (-d.high, -d.low)
        return t(
            "headline.helped_more" if more else "headline.helped_fewer",
            lang,
            diff=i18n.fmt_num(abs(d.mean), lang, digits),
            lo=i18n.fmt_num(lo, lang, digits),
            dash=i18n.range_sep(lo, hi, lang),
            hi=i18n.fmt_num(hi, lang, digits),
            **phrase,
        )
    if not _finite(d.low, d.high):
        return t(
            "headline.helped_same_noci",
            lang,
            diff_signed=i18n.fmt_num(d.mean, lang, digits, sign=True),
            **phrase,
        )
    return t(
        "headline.helped_same",
        lang,
        diff_signed=i18n.fmt_num(d.mean, lang, digits, sign=True),
        lo=i18n.fmt_num(d.low, lang, digits),
        dash=i18n.range_sep(d.low, d.high, lang),
        hi=i18n.fmt_num(d.high, lang, digits),
        **phrase,
    )


def _wait_clause(res: Results, model: str, baseline: str, lang: str) -> str:
    metric = "time_to_start_median_weeks"
    base, value = res.stat(baseline, metric).mean, res.stat(model, metric).mean
    if not _finite(base, value):
        return t("headline.wait_na", lang)
    d = res.diff(model, metric, baseline)
    nums = dict(base=i18n.fmt_num(base, lang), value=i18n.fmt_num(value, lang))
    if _finite(d.low, d.high) and d.high < 0:
        return t("headline.wait_cut", lang, **nums)
    if _finite(d.low, d.high) and d.low > 0:
        return t("headline.wait_longer", lang, **nums)
    return t("headline.wait_same", lang, **nums)


def _split_sentence(res: Results, model: str, baseline: str | None, lang: str) -> str:
    """How citizens helped split into § 85 starts and short-course starts: the paired
    difference of each (or, with no ``baseline``, each level), "" when the run lacks them."""
    keys = ("s85_starts_per_year", "short_course_per_year")
    stats = [res.stat(model, k) if baseline is None else res.diff(model, k, baseline) for k in keys]
    if not all(math.isfinite(s.mean) for s in stats):
        return ""
    sign = baseline is not None
    s85, course = (
        i18n.fmt_ci(s.mean, s.low, s.high, lang, i18n.auto_digits(s.mean), sign=sign) for s in stats
    )
    if baseline is None:
        return t("headline.split_single", lang, s85=s85, course=course, ci=t("num.ci", lang))
    return t("headline.split", lang, s85=s85, course=course, ci=t("num.ci", lang))


def _join(items: Sequence[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {t('headline.and', lang)} {items[-1]}"


StaffOf = dict[str, tuple[float, float, float]]
"""Per model: (authority FTE, provider FTE, staff cost in DKK/year)."""


def staff_of(res: Results) -> StaffOf:
    """Each model's staff and staff cost, as the manifest recorded them."""
    nan = math.nan
    return {
        m: (
            float(st.get("authority_fte", nan)),
            float(st.get("provider_fte", nan)),
            float(st.get("staff_cost_dkk_per_year", nan)),
        )
        for m, st in (res.manifest.get("staff") or {}).items()
    }


def unspent_notes(budget: float, staff: StaffOf, lang: str) -> list[str]:
    """Warnings for budget left unspent (more than ``UNSPENT_NOTE_SHARE``), one per amount and
    staff; the report and the console both print these."""
    left = unspent_to_mention(budget, {m: cost for m, (_, _, cost) in staff.items()})
    groups: dict[tuple[float, float, float], list[str]] = {}
    for m, amount in left.items():
        groups.setdefault((amount, staff[m][0], staff[m][1]), []).append(m)
    return [
        t(
            "warn.unspent",
            lang,
            models=_join([i18n.model_phrase(m, lang) for m in models], lang),
            unspent=i18n.fmt_dkk(amount, lang),
            share=f"{i18n.fmt_num(100 * amount / budget, lang, 1)} %",
            authority=i18n.fmt_exact(a, lang),
            provider=i18n.fmt_exact(p, lang),
        )
        for (amount, a, p), models in groups.items()
    ]


def _unspent_clause(res: Results, budget: float, lang: str) -> str:
    """The clause ", of which 1.8 M DKK a year is not spent on staff" when that is more than a
    few per cent of the budget (per model when the models differ), else ""."""
    left = unspent_to_mention(budget, {m: cost for m, (_, _, cost) in staff_of(res).items()})
    if not left:
        return ""
    if len(set(left.values())) == 1 and set(left) == set(res.models):
        amount = i18n.fmt_dkk(next(iter(left.values())), lang)
    else:
        items = [
            t(
                "headline.unspent_item",
                lang,
                unspent=i18n.fmt_dkk(v, lang),
                model=i18n.model_phrase(m, lang),
            )
            for m, v in left.items()
        ]
        amount = _join(items, lang)
    return t("headline.unspent", lang, unspent=amount)


def headline_of(res: Results, lang: str = "en") -> str:
    """The plain-language summary of a run, computed from its summary and differences tables.

    A difference whose 95 % CI includes zero is called "no clear difference", never a gain.
    """
    i18n.check_lang(lang)
    budget_dkk = float(res.manifest.get("budget_dkk_per_year") or math.nan)
    budget = i18n.fmt_dkk(budget_dkk, lang)
    unspent = _unspent_clause(res, budget_dkk, lang)
    sentences: list[str] = []
    if not res.comparisons:
        s = res.stat(res.baseline, "helped_per_year")
        digits = i18n.auto_digits(s.mean)
        sentences.append(
            t(
                "headline.single",
                lang,
                budget=budget,
                unspent=unspent,
                model=i18n.model_phrase(res.baseline, lang),
                helped=i18n.fmt_num(s.mean, lang, digits),
                ci=t("num.ci", lang),
                lo=i18n.fmt_num(s.low, lang, digits),
                dash=i18n.DASH,
                hi=i18n.fmt_num(s.high, lang, digits),
                wait=i18n.fmt_num(res.stat(res.baseline, "time_to_start_median_weeks").mean, lang),
            )
        )
        sentences.append(_split_sentence(res, res.baseline, None, lang))
    for k, (m, b) in enumerate(res.comparisons):
        prefix = (
            t("headline.budget", lang, budget=budget, unspent=unspent)
            if k == 0
            else t("headline.budget_again", lang)
        )
        sentences.append(
            _cap(prefix + _helped_clause(res, m, b, lang) + _wait_clause(res, m, b, lang) + ".")
        )
        sentences.append(_split_sentence(res, m, b, lang))
    counts = []
    for m in res.models:
        c = res.stat(m, "time_to_start_censored").mean
        if math.isfinite(c):
            n = i18n.fmt_num(c, lang, 0 if abs(c) >= 10 else 1)
            counts.append(t("headline.censored_item", lang, n=n, model=i18n.model_phrase(m, lang)))
    if counts and any(res.stat(m, "time_to_start_censored").mean > 0 for m in res.models):
        sentences.append(t("headline.censored", lang, counts=_join(counts, lang)))
    sentences.append(carries_sentence(res.folder, lang))
    return " ".join(s for s in sentences if s)


# u2-analysis: what carries the difference (issue 12, point 3)


def carries_sentence(folder: Path, lang: str) -> str:
    """The two or three uncertain inputs that move the difference most (from the folder's
    ``carriers.json``: a one-way screen or a stored uncertainty run), each marked sourced or an
    assumption; "" when the folder has none."""
    from sim.present.uncertainty_report import input_label
    from sim.run.screen import top_carriers
    from sim.store.carriers import read_carriers

    screen = read_carriers(folder)
    if screen is None:
        return ""
    if screen.origin == "skipped":
        return skipped_sentence(screen, lang)
    if not screen.carriers:
        return t("unc.carries_none", lang)
    top = top_carriers(screen)
    base = screen.base_difference

    def num(x: float) -> str:
        return i18n.fmt_num(x, lang, i18n.auto_digits(x), sign=True)

    kinds = {True: t("unc.assumed", lang), False: t("unc.sourced", lang)}
    items = [
        t(
            "unc.decides_item", lang, input=input_label(c.path, lang),
            to=num(base + c.high_change), kind=kinds[c.assumption],
            **{"from": num(base + c.low_change)},
        )
        for c in top
    ]  # fmt: skip
    assumed = [input_label(c.path, lang) for c in top if c.assumption]
    notes = [t("unc.carries_assumed", lang, inputs=_join(assumed, lang))] if assumed else []
    if screen.origin == "uncertainty":
        notes.append(t("unc.carries_from_run", lang, folder=screen.folder))
    else:
        notes.append(t("unc.carries_from_screen", lang, runs=screen.runs, reps=screen.reps))
    if not items:
        return " ".join(notes)
    return t("unc.carries", lang, items="; ".join(items), note=" ".join(notes))


# s4-screen: a screen left out for its cost says so, with what to do instead

SKIPPED_NAMED = 3
"""How many of a skipped screen's assumption-marked inputs the headline names (the scenario-wide
ones come first); the rest are counted and listed in the table Sources and assumptions. More
would push the Danish summary past one printed A4 page."""


def _secs(x: float, lang: str) -> str:
    return i18n.fmt_num(x, lang, i18n.auto_digits(x))


def skipped_sentence(screen: Any, lang: str) -> str:
    """Why the one-way screen did not run (its estimated cost against the run's), the
    assumption-marked inputs it would have moved, and the commands that answer instead."""
    from sim.present.uncertainty_report import input_label

    parts = [
        t(
            "screen.skipped", lang, runs=screen.runs, reps=screen.reps,
            estimate=_secs(screen.estimate_seconds, lang),
            multiple=i18n.fmt_num(screen.multiple, lang, 1),
            run=_secs(screen.run_seconds, lang),
        )
    ]  # fmt: skip
    labels = [input_label(p, lang) for p in screen.assumed[:SKIPPED_NAMED]]
    more = len(screen.assumed) - len(labels)
    if more > 0:
        labels.append(t("screen.skipped_more", lang, n=more))
    if labels:
        n = len(screen.assumed)
        parts.append(t("screen.skipped_assumed", lang, n=n, inputs=_join(labels, lang)))
    parts.append(t("screen.skipped_todo", lang, scenario=screen.scenario_file or "SCENARIO"))
    return " ".join(parts)


def headline(folder: Path, lang: str = "en") -> str:
    """The headline sentence(s) of the results folder ``folder`` in ``lang``."""
    return headline_of(load_results(Path(folder)), lang)


def cautions(res: Results, lang: str = "en") -> list[str]:
    """Warnings a reader needs before trusting the numbers (growing waiting lists, few runs)."""
    from sim.present.warnings import few_reps, growing

    out = []
    for m in res.models:
        mean = res.stat(m, "support_queue_mean_citizens").mean
        end = res.stat(m, "support_queue_end_citizens").mean
        out += growing(m, mean, end, lang)
    out.extend(settling_warnings(read_settling(res.folder), lang))  # not settled
    out += few_reps(res.n_replications, lang)
    budget = float(res.manifest.get("budget_dkk_per_year") or math.nan)
    out += unspent_notes(budget, staff_of(res), lang)
    return out


# --------------------------------------------------------------------------- scenario walking


@dataclass(frozen=True)
class Param:
    """One leaf of the scenario: where it is, its value and its unit key."""

    path: tuple[str, ...]
    key: str
    value: Any
    unit: str
    description: str


def load_scenario(folder: Path) -> Scenario:
    """The resolved scenario saved in a results folder (parsed once for the workbook and the
    report: ``sim.store.reader.load_scenario``)."""
    from sim.store.reader import load_scenario as load

    scenario: Scenario = load(folder)
    return scenario


def _is_distribution(value: Any) -> bool:
    return hasattr(value, "kind") and hasattr(value, "sample") and hasattr(value, "mean")


def param_unit(name: str, info: Any, value: Any) -> str:
    """The unit key of a scenario field, from its constraints and its name."""
    if isinstance(value, bool):
        return "yes_no"
    meta = getattr(info, "metadata", []) or []
    bounded = {type(m).__name__: getattr(m, "le", getattr(m, "ge", None)) for m in meta}
    if isinstance(value, float) and bounded.get("Le") == 1 and bounded.get("Ge") == 0:
        return "share"
    if name == "error_sd":
        return "relative"
    if name == "monthly_factors":
        return "factor"
    for suffix, unit in (
        ("_dkk_per_year", "DKK/year"),
        ("_dkk", "DKK"),
        ("hours_per_week", "hours_per_week"),
        ("_hours", "hours"),
        ("_weeks", "weeks"),
        ("_fte", "fte"),
        ("rate_per_week", "per_week"),
        ("_per_year", "per_year"),
        ("_share", "share"),
        ("_step", "share"),
    ):
        if name.endswith(suffix):
            return unit
    if name in ("in_support", "waiting"):
        return "citizens"
    if name == "goals":
        return "goals"
    if name in ("seed", "replications", "top_k", "confirm_replications"):
        return "count"
    return "text"


class UserName(str):
    """A name the user gave a list item (a segment's ``name``): shown as written, never looked up
    as a parameter label (a segment called "low" is not the parameter ``low``)."""


def walk(
    obj: BaseModel, path: tuple[str, ...] = (), skip: Sequence[str] = (), key: str = ""
) -> Iterator[Param]:
    """Every leaf parameter of a scenario block, depth first, in schema order.

    ``path`` names the leaf for the reader (a segment by its name); ``key`` is where it sits in
    the scenario file (a segment by its index).
    """
    from pydantic import BaseModel

    for name, info in type(obj).model_fields.items():
        if name in skip:
            continue
        value = getattr(obj, name)
        if value is None:
            continue
        here, where = (*path, name), f"{key}.{name}" if key else name
        if isinstance(value, BaseModel) and not _is_distribution(value):
            yield from walk(value, here, key=where)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, BaseModel) and not _is_distribution(v) for v in value)
        ):
            for i, item in enumerate(value):
                label = UserName(getattr(item, "name", i))
                yield from walk(item, (*here, label), skip=("name",), key=f"{where}[{i}]")
        else:
            yield Param(here, where, value, param_unit(name, info, value), info.description or "")


def scenario_params(sc: Scenario) -> list[Param]:
    """Every parameter of the scenario except the model settings (shown per model)."""
    return list(walk(sc, skip=("name", "description", "models", "provenance")))


def mechanism_params(sc: Scenario, models: Sequence[str]) -> list[tuple[Param, list[Any]]]:
    """Each mechanism setting with its value in every model of ``models``."""
    from sim.model.scenario import MECHANISMS

    per_model = {
        m: {p.key: p for p in walk(sc.model(m), skip=("extends", "description"))} for m in models
    }
    first = per_model[models[0]]
    keys = list(first)
    for m in models[1:]:
        keys += [k for k in per_model[m] if k not in keys]
    order = {name: i for i, name in enumerate(MECHANISMS)}
    keys.sort(key=lambda k: order.get(k.split(".")[0], len(order)))
    rows = []
    for k in keys:
        p = next(per_model[m][k] for m in models if k in per_model[m])
        rows.append((p, [per_model[m][k].value if k in per_model[m] else None for m in models]))
    return rows


# --------------------------------------------------------------------------- HTML pieces


def _user(text: Any) -> str:
    """Text the user wrote (names, descriptions, paths): shown as is, in any language."""
    return f'<span class="user">{esc(text)}</span>'


def _user_text(text: Any, text_lang: str = "") -> str:
    """Prose shown as it was written, not composed by sim (a scenario's or a preset's source or
    assumption): marked with its language (``""``: unknown, the scenario's author chose it)."""
    return f'<span class="user-text" lang="{esc(text_lang)}">{esc(text)}</span>'


def _code(text: Any) -> str:
    return f"<code>{esc(text)}</code>"


def _param_label(path: Sequence[str], lang: str) -> str:
    parts = []
    for p in path:
        key = f"param.{p}"
        own = i18n.has(key, lang) and not isinstance(p, UserName)
        parts.append(esc(t(key, lang)) if own else _user(p))
    return " › ".join(parts)


def _value_html(value: Any, lang: str) -> str:
    """A parameter value, formatted for ``lang``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return esc(t("yes" if value else "no", lang))
    if _is_distribution(value):
        kind = value.kind
        if kind == "fixed":
            return esc(i18n.fmt_exact(value.value, lang))
        fields = value.model_dump(by_alias=True, exclude={"kind"}, exclude_none=True)
        parts = []
        for k, v in fields.items():
            label = t(f"dist.{k}", lang) if i18n.has(f"dist.{k}", lang) else k
            parts.append(f"{label} {_value_html(v, lang)}")
        return f"{esc(t(f'dist.{kind}', lang))}: {', '.join(parts)}"
    if isinstance(value, int | float):
        return esc(i18n.fmt_exact(float(value), lang))
    if isinstance(value, str):
        key = f"value.{value}"
        return esc(t(key, lang)) if i18n.has(key, lang) else _user(value)
    if isinstance(value, list | tuple):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return esc(i18n.list_sep(lang).join(i18n.fmt_exact(float(v), lang) for v in value))
        return ", ".join(
            esc(i18n.model_name(v, lang)) if isinstance(v, str) else _value_html(v, lang)
            for v in value
        )
    if isinstance(value, dict):
        return "; ".join(f"{_code(k)}: {_value_html(v, lang)}" for k, v in value.items())
    if hasattr(value, "model_dump"):
        return _value_html(value.model_dump(by_alias=True), lang)
    return _user(value)


def _cell(s: Stat, metric: str, lang: str, *, diff: bool = False) -> str:
    scale = i18n.metric_scale(metric)
    s = s.scaled(scale)
    if not math.isfinite(s.mean):
        return f'<td class="num">{esc(t("num.na", lang))}</td>'
    digits = 1 if scale != 1 else i18n.auto_digits(s.mean)
    if registry.unit_of(metric) in (registry.DKK, registry.DKK_PER_YEAR):
        digits = 0
    mean = i18n.fmt_num(s.mean, lang, digits, sign=diff)
    ci = ""
    if s.no_spread:
        ci = f'<br><span class="ci">({esc(t("num.no_spread", lang))})</span>'
    elif _finite(s.low, s.high):
        ci = f'<br><span class="ci">({esc(i18n.fmt_range(s.low, s.high, lang, digits))})</span>'
    return f'<td class="num">{esc(mean)}{ci}</td>'


def _unit_cell(res: Results, metric: str, lang: str, *, diff: bool = False) -> str:
    unit = unit_key(res, metric)
    if diff and unit == "percent":
        unit = "percentage_points"
    return esc(i18n.unit_label(unit, lang))


def _metric_cell(metric: str, lang: str) -> str:
    label = i18n.metric_label(metric, lang)
    if label == metric:
        return _code(metric)
    return esc(_cap(label))


def kpi_table(res: Results, metrics: Sequence[str], lang: str) -> str:
    """Key figures: one row per metric, mean (95 % CI) per model and paired differences."""
    present = set(res.metrics())
    head = [f"<th>{esc(t('col.metric', lang))}</th>", f"<th>{esc(t('col.unit', lang))}</th>"]
    head += [
        f'<th class="num">{esc(i18n.model_name(m, lang))}<br>'
        f'<span class="ci">{esc(t("col.mean_ci", lang))}</span></th>'
        for m in res.models
    ]
    for m, b in res.comparisons:
        head.append(
            f'<th class="num">{esc(pair_label(m, b, lang))}<br>'
            f'<span class="ci">{esc(t("col.mean_ci", lang))}</span></th>'
        )
    rows = []
    for metric in metrics:
        if metric not in present:
            continue
        cells = [
            f"<td>{_metric_cell(metric, lang)}</td>",
            f"<td>{_unit_cell(res, metric, lang)}</td>",
        ]
        cells += [_cell(res.stat(m, metric), metric, lang) for m in res.models]
        cells += [
            _cell(res.diff(m, metric, b), metric, lang, diff=True) for m, b in res.comparisons
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return _table("kpi", "".join(head), rows)


def param_meaning(p: Param, lang: str) -> str:
    """What a parameter means, in ``lang``: the locale's ``meaning.<key>`` (list positions left
    out of the key), else the schema's own English description."""
    import re

    key = "meaning." + re.sub(r"\[\d+\]", "", p.key)
    text = t(key, lang) if lang != "en" and i18n.has(key, lang) else ""
    return text or p.description


def params_table(params: Sequence[Param], lang: str) -> str:
    """Every scenario parameter: label, key in the file, value, unit and meaning."""
    head = [t("col.parameter", lang), t("col.key", lang), t("col.value", lang), t("col.unit", lang)]
    head.append(t("col.meaning", lang))
    rows = []
    for p in params:
        cells = [
            _param_label(p.path, lang),
            _code(p.key),
            _value_html(p.value, lang),
            esc(t(f"unit.{p.unit}", lang)),
        ]
        cells.append(esc(param_meaning(p, lang)))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table("params", "".join(f"<th>{esc(h)}</th>" for h in head), rows)


def mechanisms_table(sc: Scenario, models: Sequence[str], lang: str) -> str:
    """Mechanism settings per compared model, with the differing ones marked."""
    rows_data = mechanism_params(sc, models)
    head = [t("col.parameter", lang), t("col.key", lang)]
    head += [i18n.model_name(m, lang) for m in models]
    head += [t("col.unit", lang), t("col.differs", lang)]
    rows = []
    desc_cells = []
    for m in models:
        key = f"model_desc.{m}"
        if i18n.has(key, lang) and m not in sc.models:
            desc_cells.append(esc(t(key, lang)))
        else:
            desc_cells.append(_user(sc.model(m).description))
    rows.append(
        f'<tr class="model-desc"><td>{esc(t("param.description", lang))}</td>'
        f"<td>{_code('description')}</td>"
        + "".join(f"<td>{c}</td>" for c in desc_cells)
        + "<td></td><td></td></tr>"
    )
    for p, values in rows_data:
        differs = len({repr(v) for v in values}) > 1
        mark = f'<span class="mark">● {esc(t("differs_mark", lang))}</span>' if differs else ""
        cls = ' class="differs"' if differs else ""
        cells = [_param_label(p.path, lang), _code(p.key)]
        cells += [_value_html(v, lang) for v in values]
        cells += [esc(t(f"unit.{p.unit}", lang)), mark]
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table("params mechanisms", "".join(f"<th>{esc(h)}</th>" for h in head), rows)


def _table(cls: str, head_html: str, rows: Sequence[str]) -> str:
    """A table with a header row (already HTML) and body rows (already HTML); it scrolls
    sideways rather than overflow the page when it has many columns."""
    return (
        f'<div class="scroll"><table class="{cls}"><thead><tr>{head_html}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _kv_table(rows: Sequence[tuple[str, str]], lang: str) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _staff_rows(man: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """One row per model: its FTEs, their cost and the budget left unspent (from the manifest)."""
    rows: list[tuple[str, str]] = []
    for m, staff in (man.get("staff") or {}).items():
        rows.append(
            (
                t("impl.staff", lang, model=i18n.model_name(m, lang)),
                esc(
                    t(
                        "impl.staff_value",
                        lang,
                        authority=i18n.fmt_exact(float(staff.get("authority_fte", math.nan)), lang),
                        provider=i18n.fmt_exact(float(staff.get("provider_fte", math.nan)), lang),
                        cost=i18n.fmt_dkk(
                            float(staff.get("staff_cost_dkk_per_year", math.nan)), lang
                        ),
                        unspent=i18n.fmt_dkk(
                            float(staff.get("unspent_dkk_per_year", math.nan)), lang
                        ),
                    )
                ),
            )
        )
    return rows


def stress_section(res: Results, sc: Scenario | None, lang: str) -> str:
    """The model description after STRESS-DES: aim, logic, inputs, outputs, experimentation,
    implementation (with seed, replications, warm-up, horizon, queues, versions, revision)."""
    man = res.manifest
    budget = i18n.fmt_dkk(float(man.get("budget_dkk_per_year") or math.nan), lang)
    models = _join([i18n.model_phrase(m, lang) for m in res.models], lang)
    horizon = float(man.get("horizon_weeks") or math.nan)
    warm = float(man.get("warmup_weeks") or math.nan)
    window = float(man.get("window_years") or math.nan)
    caseload = sc.initial_caseload if sc is not None else None
    parts = [f"<p>{esc(t('stress.intro', lang))}</p>"]
    texts = [
        ("stress.aim", t("stress.aim.text", lang, models=models, budget=budget)),
        ("stress.logic", t("stress.logic.text", lang)),
        ("stress.inputs", t("stress.inputs.text", lang)),
        ("stress.outputs", t("stress.outputs.text", lang)),
        (
            "stress.experimentation",
            t(
                "stress.experimentation.text",
                lang,
                reps=res.n_replications,
                horizon=i18n.fmt_exact(horizon, lang),
                warmup=i18n.fmt_exact(warm, lang),
                window=i18n.fmt_num(window, lang, 1),
                in_support=caseload.in_support if caseload else t("num.na", lang),
                waiting=caseload.waiting if caseload else t("num.na", lang),
            ),
        ),
        ("stress.implementation", t("stress.implementation.text", lang)),
    ]
    for key, text in texts:
        parts.append(f"<h3>{esc(t(key, lang))}</h3><p>{esc(text)}</p>")
    versions = man.get("versions") or {}
    queue = man.get("queue_discipline") or {}
    intake = queue.get("intake", "")
    intake_html = (
        esc(t("queue.intake", lang)) if intake == KNOWN_INTAKE_DISCIPLINE else _user(intake)
    )
    support = queue.get("support", "")
    weeks = t("unit.weeks", lang)
    rows: list[tuple[str, str]] = [
        (t("impl.software", lang), ", ".join(_code(f"{k} {v}") for k, v in versions.items())),
        (t("impl.seed", lang), _code(man.get("seed", ""))),
        (t("impl.replications", lang), esc(res.n_replications)),
        (t("impl.warmup", lang), esc(f"{i18n.fmt_exact(warm, lang)} {weeks}")),
        (t("impl.horizon", lang), esc(f"{i18n.fmt_exact(horizon, lang)} {weeks}")),
        (t("impl.window", lang), esc(f"{i18n.fmt_num(window, lang, 2)} {t('unit.years', lang)}")),
        (t("impl.queue_intake", lang), intake_html),
        (t("impl.queue_support", lang), _value_html(support, lang)),
        (t("impl.queue_reviews", lang), _value_html(queue.get("reviews"), lang)),
        (t("impl.review_hours", lang), _value_html(queue.get("review_provider_hours"), lang)),
    ]
    rows += _staff_rows(man, lang)
    rows += [
        (t("impl.revision", lang), _code(man.get("git_revision", ""))),
        (t("impl.command", lang), _code(" ".join(map(str, man.get("command") or [])))),
        (t("impl.platform", lang), _code(man.get("platform", ""))),
        (
            t("impl.wall", lang),
            esc(
                f"{i18n.fmt_num(float(man.get('wall_seconds') or math.nan), lang, 1)} "
                f"{t('unit.seconds', lang)}"
            ),
        ),
        (t("impl.created", lang), _code(man.get("created", ""))),
    ]
    parts.append(_kv_table(rows, lang))
    return "\n".join(parts)


def _short_revision(rev: str) -> str:
    """The first 12 characters of a git revision, keeping a ``-dirty`` mark."""
    dirty = rev.endswith("-dirty")
    return rev.removesuffix("-dirty")[:12] + ("-dirty" if dirty else "")


def _sim_version(res: Results) -> str:
    return str((res.manifest.get("versions") or {}).get("sim", ""))


# --------------------------------------------------------------------------- one-page summary
# r2-print: the summary that prints alone on the first A4 page (issue 14 point 5).

SUMMARY_METRICS: tuple[str, ...] = (
    "helped_per_year",
    "time_to_start_median_weeks",
    "time_to_start_p90_weeks",
    "support_queue_end_citizens",
    "cost_per_helped_dkk",
)
"""Rows of the summary's key-figure table: what a council asks first (helped, waits, list, cost)."""

SUMMARY_DIFF_METRICS: tuple[str, ...] = (
    "helped_per_year",
    "time_to_start_median_weeks",
    "post_goal_hours_per_year",
    "cost_per_helped_dkk",
)
"""Panels of the summary's forest chart (two rows of two, so it fits beside the table)."""

SUMMARY_ASSUMPTIONS_MAX = 3
"""At most this many assumptions on the summary page; the rest are under Assumptions."""


@dataclass(frozen=True)
class Carrying:
    """One assumption the answer rests on, as the summary shows it: where it sits in the scenario
    (dotted path), its value as text, and why it is assumed (or how much it moves the answer)."""

    path: str
    value: str
    why: str
    why_lang: str = ""
    """The language ``why`` was written in ("" when unknown: the scenario author's own)."""


def assumed_values(sc: Scenario | None, lang: str) -> list[Carrying]:
    """The scenario's values marked as assumptions (no source), from the provenance table; empty
    before the scenario has one. Until the analysis ranks them by how much they carry the answer
    (``carrying=`` of ``summary_section``), they are shown in the table's order."""
    if sc is None:
        return []
    try:
        from sim.model.provenance import provenance_of  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # before the provenance table exists
        return []
    return [
        Carrying(p.path, i18n.fmt_exact(float(p.value), lang), *_prov_text(p, p.assumption, lang))
        for p in provenance_of(sc)
        if getattr(p, "assumption", None)
    ]


def _prov_text(p: Any, text: str | None, lang: str) -> tuple[str, str]:
    """A provenance text and its language: a preset's in the reader's language (its English when
    the presets' table lacks it); a scenario's as its author wrote it (language unknown)."""
    from sim.present.preset_texts import preset_text

    return preset_text(text, getattr(p, "origin", ""), lang)


# t2-print: the scenario's sources and assumptions as a table of their own (issue 12 point 1)


def provenance_table(sc: Scenario, lang: str) -> str:
    """Every number with a stated source or assumption: where it sits, its value, whether it is
    sourced or assumed, the text as written (not translated) and its uncertainty range."""
    try:
        from sim.model.provenance import provenance_of  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return ""
    head = [t("col.key", lang), t("col.value", lang), t("prov.kind", lang), t("prov.text", lang)]
    head.append(t("prov.range", lang))
    rows = []
    for p in provenance_of(sc):
        kind = t("prov.assumption" if p.assumption else "prov.source", lang)
        r = p.uncertain
        span = (
            f"{i18n.fmt_exact(r.low, lang)}{i18n.DASH}{i18n.fmt_exact(r.high, lang)}" if r else ""
        )
        cells = [
            _code(p.path),
            esc(i18n.fmt_exact(float(p.value), lang)),
            esc(kind),
            _user_text(*_prov_text(p, p.assumption or p.source, lang)),
            esc(span),
        ]
        cls = ' class="assumed"' if p.assumption else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table("provenance", "".join(f"<th>{esc(h)}</th>" for h in head), rows)


def _summary_table(res: Results, lang: str) -> str:
    """The key figures of the summary, mean and CI on one line (so five rows fit the page)."""
    present = [m for m in SUMMARY_METRICS if m in set(res.metrics())]
    html_table = kpi_table(res, present, lang)
    return html_table.replace('<table class="kpi">', '<table class="kpi summary-kpi">', 1).replace(
        "<br>", " "
    )


def summary_figure(res: Results, lang: str) -> go.Figure:
    """The forest chart of the summary: four key differences, drawn small enough for the page."""
    from sim.present.plots import fig_differences

    present = set(res.metrics())
    fig = fig_differences(res, lang, [m for m in SUMMARY_DIFF_METRICS if m in present])
    fig.update_layout(height=440, margin=dict(t=112, b=40, l=20, r=30))
    fig.update_annotations(font_size=14)
    fig.update_xaxes(title_font_size=14)
    fig.update_traces(textfont_size=13)
    # rows further apart than the full chart's: a panel's title must clear the axis title above it
    rows = {0: (0.64, 1.0), 1: (0.0, 0.36)}
    titles = [a for a in fig.layout.annotations if a.yref == "paper" and a.y is not None]
    for k, name in enumerate(sorted(n for n in fig.layout if n.startswith("yaxis"))):
        fig.layout[name].domain = rows[min(k // 2, 1)]
        if k < len(titles):
            titles[k].y = rows[min(k // 2, 1)][1]
    for name in [n for n in fig.layout if n.startswith("xaxis")]:
        low, high = fig.layout[name].range or (None, None)
        if low is not None and high is not None:  # room for a label centred on a marker
            pad = 0.3 * (high - low)
            fig.layout[name].range = [low - pad, high + pad]
    return fig


def _carrying_list(items: Sequence[Carrying], lang: str) -> str:
    if not items:
        return f'<p class="carrying-none">{esc(t("summary.assumptions_none", lang))}</p>'
    shown = items[:SUMMARY_ASSUMPTIONS_MAX]
    lis = "".join(
        f"<li>{_code(c.path)} = <b>{esc(c.value)}</b>: {_user_text(c.why, c.why_lang)}</li>"
        for c in shown
    )
    more = len(items) - len(shown)
    tail = f"<p>{esc(t('summary.assumptions_more', lang, n=more))}</p>" if more > 0 else ""
    return f'<ul class="carrying">{lis}</ul>{tail}'


def summary_section(
    res: Results,
    sc: Scenario | None,
    lang: str,
    carrying: Sequence[Carrying] | None = None,
) -> str:
    """The one-page summary at the top of the run report: headline, warnings, key figures with
    CIs, the forest chart of differences and the assumptions that carry the answer.

    ``carrying`` is the list of assumptions the answer rests on, most important first (the
    uncertainty analysis supplies it); when None the scenario's assumption-marked values are
    shown. Print CSS puts a page break after this section, so it is page 1 of a printed report.
    """
    parts = ['<section class="summary" id="summary">']
    parts.append(f'<h2 id="headline">{esc(t("report.headline", lang))}</h2>')
    parts.append(f'<p class="headline">{esc(headline_of(res, lang))}</p>')
    for w in cautions(res, lang):
        parts.append(f'<p class="warn"><b>{esc(t("report.warnings", lang))}:</b> {esc(w)}</p>')
    parts.append(_summary_table(res, lang))
    if res.comparisons:
        parts.append(figure_html(summary_figure(res, lang), "summary-differences"))
    items = list(carrying) if carrying is not None else assumed_values(sc, lang)
    title = "summary.carrying" if carrying is not None else "summary.assumed"
    parts.append(f'<h3 id="summary-assumptions">{esc(t(title, lang))}</h3>')
    parts.append(_carrying_list(items, lang))
    parts.append("</section>")
    return "\n".join(parts)


def render_report(
    res: Results,
    lang: str = "en",
    figs: dict[str, go.Figure] | None = None,
    carrying: Sequence[Carrying] | None = None,
) -> str:
    """The HTML text of a run's report (``carrying``: see ``summary_section``)."""
    i18n.check_lang(lang)
    figs = figs if figs is not None else report_figures(res, lang)
    man = res.manifest
    try:
        sc: Scenario | None = load_scenario(res.folder)
        sc_error = ""
    except Exception as exc:  # an old or hand-edited scenario.yaml must not stop the report
        sc, sc_error = None, f"{type(exc).__name__}: {exc}"
    names = [i18n.model_name(m, lang) for m in res.models]
    title = _cap(t("report.title", lang, models=_join(names, lang)))
    parts = [f"<h1>{esc(title)}</h1>"]
    parts.append(
        '<p class="meta">'
        + t(
            "report.subtitle",
            lang,
            scenario=_user(man.get("scenario", "")),
            run=_user(man.get("run_id", res.folder.name)),
            created=_code(man.get("created", "")),
        )
        + "</p>"
    )
    if sc is not None and sc.description:
        parts.append(f"<p>{_user(sc.description)}</p>")
    sections = [
        ("headline", t("report.headline", lang)),
        ("kpis", t("report.kpis", lang)),
        ("figures", t("report.figures", lang)),
        ("assumptions", t("report.assumptions", lang)),
        ("mechanisms", t("report.mechanisms", lang)),
        ("description", t("report.description", lang)),
        ("all-metrics", t("report.all_metrics", lang)),
    ]
    parts.append(
        "<nav><ol>"
        + "".join(f'<li><a href="#{k}">{esc(v)}</a></li>' for k, v in sections)
        + "</ol></nav>"
    )
    parts.append(summary_section(res, sc, lang, carrying))
    parts.append(f'<h2 id="kpis">{esc(t("report.kpis", lang))}</h2>')
    parts.append(f"<p>{esc(t('report.kpis_note', lang, n=res.n_replications))}</p>")
    parts.append(kpi_table(res, KPI_METRICS, lang))
    parts.append(f'<h2 id="figures">{esc(t("report.figures", lang))}</h2>')
    parts += [figure_html(f, k) for k, f in figs.items()]
    parts.append(f'<h2 id="assumptions">{esc(t("report.assumptions", lang))}</h2>')
    parts.append(f"<p>{esc(t('report.assumptions_note', lang))}</p>")
    if sc is not None:
        parts.append(params_table(scenario_params(sc), lang))
        parts.append(f'<p class="print-only">{esc(t("prov.print_meaning", lang))}</p>')
        parts.append('<div class="screen-only">')
        parts.append(f'<h3 id="provenance">{esc(t("prov.title", lang))}</h3>')
        parts.append(f"<p>{esc(t('prov.note', lang))}</p>")
        parts.append(provenance_table(sc, lang))
        parts.append("</div>")
        parts.append(f'<p class="print-only">{esc(t("prov.print_provenance", lang))}</p>')
    else:
        parts.append(f'<p class="warn">{_code(sc_error)}</p>')
    parts.append(f'<h2 id="mechanisms">{esc(t("report.mechanisms", lang))}</h2>')
    parts.append(f"<p>{esc(t('report.mechanisms_note', lang))}</p>")
    if sc is not None:
        parts.append(mechanisms_table(sc, res.models, lang))
        parts.append(f'<p class="print-only">{esc(t("prov.print_mechanisms", lang))}</p>')
    parts.append(f'<h2 id="description">{esc(t("report.description", lang))}</h2>')
    parts.append(stress_section(res, sc, lang))
    parts.append(f'<h2 id="all-metrics">{esc(t("report.all_metrics", lang))}</h2>')
    show_all = t("report.show_all", lang, n=len(res.metrics()))
    parts.append(f"<details><summary>{esc(show_all)}</summary>")
    parts.append(kpi_table(res, res.metrics(), lang))
    parts.append("</details>")
    parts.append(workbook_link(lang))
    parts.append(footer(lang, _sim_version(res), _code(final_name(res.folder))))
    return page(title, "\n".join(parts), lang)


def write_report(folder: Path, lang: str = "en", png: bool = False) -> Path:
    """Write ``folder/report.html`` in ``lang``; with ``png``, also ``folder/figures/*.png``.

    PNG export is checked before anything is written, so a missing browser fails fast.
    """
    return prepare_report(folder, lang, png)()


def prepare_report(folder: Path, lang: str = "en", png: bool = False) -> Callable[[], Path]:
    """``write_report`` in two steps (o1-overhead): the results and their figures now, which do
    not depend on ``carriers.json``; the returned function writes the page (and the PNGs), to be
    called once ``carriers.json`` is in the folder. ``sim run`` builds the figures while its
    screen still computes."""
    folder = Path(folder)
    i18n.check_lang(lang)
    if png:
        ensure_image_export()
    res = load_results(folder)
    figs = report_figures(res, lang)

    def finish() -> Path:
        out = folder / REPORT_NAME
        tmp = out.with_suffix(".html.tmp")
        tmp.write_text(render_report(res, lang, figs), encoding="utf-8")
        os.replace(tmp, out)
        if png:
            export_pngs(figs, folder / FIGURES_DIR)
        return out

    return finish


# --------------------------------------------------------------------------- several runs


def compare_table(
    runs: Sequence[Results], labels: Sequence[str], metrics: Sequence[str], lang: str
) -> str:
    """Key figures by run and model: one row per metric, columns grouped by run."""
    top = [f'<th rowspan="2">{esc(t("col.metric", lang))}</th>']
    top.append(f'<th rowspan="2">{esc(t("col.unit", lang))}</th>')
    sub = []
    for label, r in zip(labels, runs, strict=True):
        span = len(r.models) + len(r.comparisons)
        top.append(f'<th class="run" colspan="{span}">{esc(label)}</th>')
        sub += [f'<th class="num">{esc(i18n.model_name(m, lang))}</th>' for m in r.models]
        sub += [f'<th class="num">{esc(pair_label(m, b, lang))}</th>' for m, b in r.comparisons]
    rows = []
    for metric in metrics:
        cells = [
            f"<td>{_metric_cell(metric, lang)}</td>",
            f"<td>{_unit_cell(runs[0], metric, lang)}</td>",
        ]
        for r in runs:
            cells += [_cell(r.stat(m, metric), metric, lang) for m in r.models]
            cells += [
                _cell(r.diff(m, metric, b), metric, lang, diff=True) for m, b in r.comparisons
            ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = f"{''.join(top)}</tr><tr>{''.join(sub)}"
    return _table("kpi compare", head, rows)


def compare_warnings(runs: Sequence[Results], lang: str = "en") -> list[str]:
    """Warnings when the runs put side by side differ in replications or seed: their intervals
    are not equally wide, or their citizens are not the same, so a difference between the runs
    is not a paired one."""
    labels = run_labels(runs, lang)
    out = []
    checks = (
        ("replications", lambda r: r.n_replications),
        ("seed", lambda r: r.manifest.get("seed")),
    )
    for what, get in checks:
        values = [get(r) for r in runs]
        if len(set(map(str, values))) > 1:
            items = [f"{label}: {v}" for label, v in zip(labels, values, strict=True)]
            out.append(t(f"caution.compare_{what}", lang, runs="; ".join(items)))
    return out


def render_compare_report(runs: Sequence[Results], lang: str = "en") -> str:
    """The HTML text of a report with several runs side by side."""
    i18n.check_lang(lang)
    labels = run_labels(runs, lang)
    title = t("report.compare_title", lang, names="; ".join(labels))
    parts = [f"<h1>{esc(title)}</h1>"]
    parts.append(f'<h2 id="headline">{esc(t("report.headline", lang))}</h2>')
    for label, r in zip(labels, runs, strict=True):
        parts.append(f'<p class="headline"><b>{esc(label)}:</b> {esc(headline_of(r, lang))}</p>')
        for w in cautions(r, lang):
            parts.append(
                f'<p class="warn"><b>{esc(label)}, {esc(t("report.warnings", lang).lower())}:'
                f"</b> {esc(w)}</p>"
            )
    for w in compare_warnings(runs, lang):
        parts.append(f'<p class="warn"><b>{esc(t("report.warnings", lang))}:</b> {esc(w)}</p>')
    parts.append(f'<h2 id="runs">{esc(t("report.runs", lang))}</h2>')
    head = [
        t("col.run", lang),
        t("col.folder", lang),
        t("col.scenario", lang),
        t("col.budget", lang),
        t("col.replications", lang),
        t("col.seed", lang),
        t("col.revision", lang),
    ]
    rows = []
    for label, r in zip(labels, runs, strict=True):
        m = r.manifest
        cells = [
            esc(label),
            _code(r.folder),
            _user(m.get("scenario", "")),
            esc(i18n.fmt_dkk(float(m.get("budget_dkk_per_year") or math.nan), lang)),
            esc(r.n_replications),
            _code(m.get("seed", "")),
            _code(_short_revision(str(m.get("git_revision", "")))),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append(_table("runs", "".join(f"<th>{esc(h)}</th>" for h in head), rows))
    parts.append(f'<h2 id="kpis">{esc(t("report.key_metrics_by_run", lang))}</h2>')
    parts.append(compare_table(runs, labels, COMPARE_TABLE_METRICS, lang))
    parts.append(f'<h2 id="figures">{esc(t("report.figures", lang))}</h2>')
    parts += [figure_html(f, k) for k, f in compare_figures(runs, lang).items()]
    parts.append(footer(lang, _sim_version(runs[0]), ", ".join(_code(r.folder.name) for r in runs)))
    return page(title, "\n".join(parts), lang)


def write_compare_report(folders: list[Path], out: Path, lang: str = "en") -> Path:
    """Write one HTML report at ``out`` comparing the runs in ``folders`` (e.g. two budgets)."""
    if not folders:
        raise ValueError("expected at least one results folder")
    i18n.check_lang(lang)
    runs = [load_results(Path(f)) for f in folders]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_compare_report(runs, lang), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- PNG export

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = (
    "Static images need kaleido and a Chromium browser; nothing is downloaded at run time. "
    "Install them with `pip install 'sim[images]'` and `apt-get install chromium` "
    "(or point BROWSER_PATH at a Chrome or Chromium executable). "
    "The HTML report does not need them."
)


def find_browser() -> str | None:
    """The Chromium/Chrome executable kaleido will use: BROWSER_PATH if set, else the PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_image_export() -> str:
    """The browser path, or an ImageExportError saying how to make PNG export work."""
    try:
        import kaleido  # noqa: F401
    except ImportError as exc:
        raise ImageExportError(f"kaleido is not installed. {INSTALL_HINT}") from exc
    browser = find_browser()
    if browser is None:
        env = os.environ.get("BROWSER_PATH")
        where = f"BROWSER_PATH={env!r} is not an executable" if env else "no Chromium on the PATH"
        raise ImageExportError(f"{where}. {INSTALL_HINT}")
    return browser


def export_pngs(
    figs: dict[str, go.Figure], outdir: Path, *, width: int = 1200, scale: float = 2
) -> list[Path]:
    """Write each figure as ``outdir/<name>.png`` with one browser for the whole batch.

    MathJax is switched off so the browser fetches nothing; plotly.js comes from the plotly
    package itself.
    """
    browser = ensure_image_export()
    import kaleido

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [outdir / f"{name}.png" for name in figs]
    specs = [
        {
            "fig": fig.to_plotly_json(),
            "path": path,
            "opts": {
                "format": "png",
                "width": width,
                "height": int(fig.layout.height or 520),
                "scale": scale,
            },
        }
        for fig, path in zip(figs.values(), paths, strict=True)
    ]
    try:
        kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False, "path": browser})
    except Exception as exc:
        raise ImageExportError(f"PNG export failed with {browser}: {exc}. {INSTALL_HINT}") from exc
    return paths
