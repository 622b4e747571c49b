"""Plotly figures built from a results folder's tables, in English or Danish.

Each ``fig_*`` function is pure: it reads nothing but the ``Results`` it is given and returns a new
figure. Every model keeps one style in every figure (colour, marker symbol, line dash), chosen so
the models stay apart in grey print and for colour-blind readers: the colours differ in lightness,
and symbols and dashes differ too. Every value axis names its unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sim.model import registry
from sim.present import i18n
from sim.present.i18n import t
from sim.present.theme import CATEGORY_COLOURS, INK, Style, band, model_styles, template
from sim.store.reader import NAN_STAT, Results, Stat, load_results  # noqa: F401

if TYPE_CHECKING:
    import plotly.graph_objects as go

KEY_DIFF_METRICS: tuple[str, ...] = registry.shown_in("forest")
"""Metrics of the forest chart of paired differences, in reading order."""

COMPARE_METRICS: tuple[str, ...] = registry.shown_in("compare_figures")
"""Metrics drawn run by run in the comparison report."""

WAIT_STATS: tuple[tuple[str, str], ...] = (
    ("mean", "time_to_start_mean_weeks"),
    ("median", "time_to_start_median_weeks"),
    ("p90", "time_to_start_p90_weeks"),
)

# --------------------------------------------------------------------------- the tables


def unit_key(res: Results, metric: str) -> str:
    """The unit key of ``metric`` in a run's tables (see ``i18n.metric_unit``)."""
    return i18n.metric_unit(metric, res.csv_unit(metric))


# --------------------------------------------------------------------------- layout helpers


def _base(title: str, subtitle: str, lang: str, height: int = 520) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(
        template=template(),
        title=dict(text=title, subtitle=dict(text=subtitle)),
        separators=i18n.plotly_separators(lang),
        height=height,
    )
    return fig


def _fmt_value(metric: str, x: float, lang: str, digits: int | None = None) -> str:
    if registry.unit_of(metric) == registry.DKK:
        return i18n.fmt_dkk(x, lang)
    return i18n.fmt_num(x, lang, digits)


def _ci_arrays(stats: Sequence[Stat]) -> tuple[list[float], list[float]]:
    plus = [max(s.high - s.mean, 0.0) if math.isfinite(s.high) else 0.0 for s in stats]
    minus = [max(s.mean - s.low, 0.0) if math.isfinite(s.low) else 0.0 for s in stats]
    return plus, minus


def _bar_marker(st: Style) -> dict[str, Any]:
    """A model's bar: its colour, an ink outline and its hatch (legible in grey print)."""
    return dict(
        color=st.colour,
        line=dict(color=INK, width=1),
        pattern=dict(
            shape=st.pattern, fgcolor=INK, fgopacity=0.3, solidity=0.12, fillmode="overlay"
        ),
    )


def _error_bars(plus: list[float], minus: list[float], width: int) -> dict[str, Any]:
    """95 % CI whiskers, drawn in ink."""
    return dict(type="data", array=plus, arrayminus=minus, color=INK, thickness=2, width=width)


def _hover_ci(lang: str, unit: str, digits: str = ",.1f") -> str:
    u = i18n.unit_label(unit, lang)
    return (
        f"<b>%{{x}}</b><br>{t('hover.value', lang)}: %{{y:{digits}}} {u}"
        f"<br>{t('hover.ci', lang)}: %{{customdata[0]:{digits}}} – %{{customdata[1]:{digits}}}"
        "<extra></extra>"
    )


# --------------------------------------------------------------------------- figures


def _bar_ci(
    res: Results, metric: str, lang: str, title: str, subtitle: str, *, money: bool = False
) -> go.Figure:
    """One bar per model with its 95 % CI as a whisker and the value written in the bar."""
    import plotly.graph_objects as go

    styles = model_styles(res.models)
    fig = _base(title, subtitle, lang)
    unit = unit_key(res, metric)
    top = 0.0
    for m in res.models:
        s = res.stat(m, metric)
        st = styles[m]
        plus, minus = _ci_arrays([s])
        top = max(top, s.high if math.isfinite(s.high) else s.mean if math.isfinite(s.mean) else 0)
        fig.add_trace(
            go.Bar(
                x=[i18n.model_name(m, lang)],
                y=[s.mean],
                name=i18n.model_name(m, lang),
                marker=_bar_marker(st),
                error_y=_error_bars(plus, minus, width=12),
                text=[_fmt_value(metric, s.mean, lang)],
                textposition="inside",
                insidetextanchor="middle",
                textfont=dict(color=st.text_colour, size=18),
                customdata=[[s.low, s.high]],
                hovertemplate=_hover_ci(lang, unit, ",.0f" if money else ",.1f"),
                showlegend=False,
            )
        )
    fig.update_yaxes(
        title_text=i18n.axis_title(i18n.metric_label(metric, lang), unit, lang),
        rangemode="tozero",
        range=[0, top * 1.08] if top > 0 else None,
    )
    fig.update_xaxes(title_text=t("axis.model", lang))
    fig.update_layout(bargap=0.45)
    return fig


def fig_helped(res: Results, lang: str = "en") -> go.Figure:
    """Citizens helped per year by model, mean with 95 % CI."""
    return _bar_ci(
        res,
        "helped_per_year",
        lang,
        t("fig.helped.title", lang),
        t("fig.helped.subtitle", lang, n=res.n_replications),
    )


def fig_cost(res: Results, lang: str = "en") -> go.Figure:
    """Cost per citizen helped by model (DKK), mean with 95 % CI."""
    return _bar_ci(
        res,
        "cost_per_helped_dkk",
        lang,
        t("fig.cost.title", lang),
        t("fig.cost.subtitle", lang, n=res.n_replications),
        money=True,
    )


def fig_wait(res: Results, lang: str = "en") -> go.Figure:
    """Wait from referral to support start: mean, median and 90th percentile per model.

    The results hold each replication's mean, median and p90 (not every citizen's wait), so the
    figure shows those: one small dot per replication and a large marker for their mean with a
    95 % CI. Citizens still waiting at the end are censored and left out of these statistics; their
    number is written under the chart.
    """
    import plotly.graph_objects as go

    models = res.models
    styles = model_styles(models)
    fig = _base(
        t("fig.wait.title", lang),
        t("fig.wait.subtitle", lang, n=res.n_replications),
        lang,
        height=600,
    )
    n = len(models)
    width = 0.56
    unit = "weeks"
    u = i18n.unit_label(unit, lang)
    for j, m in enumerate(models):
        st = styles[m]
        off = (j - (n - 1) / 2) * width / max(n, 1)
        name = i18n.model_name(m, lang)
        xs: list[float] = []
        ys: list[float] = []
        hx: list[str] = []
        for i, (stat_key, metric) in enumerate(WAIT_STATS):
            vals = [v for v in res.values(m, metric) if math.isfinite(v)]
            k = len(vals)
            for r, v in enumerate(vals):
                jitter = ((r + 0.5) / k - 0.5) * 0.10 if k > 1 else 0.0
                xs.append(i + off + jitter)
                ys.append(v)
                hx.append(t(f"stat.{stat_key}", lang))
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=t("legend.replication", lang, model=name),
                legendgroup=m,
                marker=dict(color=st.rgba(0.45), size=6, symbol=st.symbol, line=dict(width=0)),
                customdata=hx,
                hovertemplate=f"{name}, %{{customdata}}: %{{y:,.1f}} {u}<extra></extra>",
            )
        )
        stats = [res.stat(m, metric) for _, metric in WAIT_STATS]
        plus, minus = _ci_arrays(stats)
        fig.add_trace(
            go.Scatter(
                x=[i + off for i in range(len(WAIT_STATS))],
                y=[s.mean for s in stats],
                mode="markers+text",
                name=name,
                legendgroup=m,
                text=[i18n.fmt_num(s.mean, lang) for s in stats],
                textposition="middle right" if j == n - 1 else "middle left",
                textfont=dict(size=16, color=INK),
                marker=dict(
                    color=st.colour, size=16, symbol=st.symbol, line=dict(color=INK, width=1.5)
                ),
                error_y=dict(
                    type="data", array=plus, arrayminus=minus, color=INK, thickness=2, width=10
                ),
                customdata=[
                    [s.low, s.high, t(f"stat.{k}", lang)]
                    for s, (k, _) in zip(stats, WAIT_STATS, strict=True)
                ],
                hovertemplate=(
                    f"{name}, %{{customdata[2]}}: %{{y:,.1f}} {u}<br>{t('hover.ci', lang)}: "
                    "%{customdata[0]:,.1f} – %{customdata[1]:,.1f}<extra></extra>"
                ),
            )
        )
    lines = [f"<b>{t('fig.wait.censored', lang)}</b>"]
    for m in models:
        s = res.stat(m, "time_to_start_censored")
        d = 0 if abs(s.mean) >= 10 else 1
        if s.no_spread or not math.isfinite(s.low):
            n = i18n.fmt_num(s.mean, lang, d)
            item = t("fig.wait.censored_flat", lang, model=i18n.model_name(m, lang), n=n)
            lines.append(item + (f" ({t('num.no_spread', lang)})" if s.no_spread else ""))
            continue
        lo, hi = s.low, s.high
        lines.append(
            t(
                "fig.wait.censored_item",
                lang,
                model=i18n.model_name(m, lang),
                n=i18n.fmt_num(s.mean, lang, d),
                ci=t("num.ci", lang),
                lo=i18n.fmt_num(lo, lang, d),
                dash=i18n.range_sep(lo, hi, lang),
                hi=i18n.fmt_num(hi, lang, d),
            )
        )
    fig.add_annotation(
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=0,
        y=-0.16,
        xanchor="left",
        yanchor="top",
        align="left",
        showarrow=False,
        font=dict(size=15),
    )
    fig.update_xaxes(
        title_text=t("axis.statistic", lang),
        tickvals=list(range(len(WAIT_STATS))),
        ticktext=[t(f"stat.{k}", lang) for k, _ in WAIT_STATS],
        range=[-0.6, len(WAIT_STATS) - 0.4],
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(
        title_text=i18n.axis_title(t("axis.wait", lang), unit, lang),
        rangemode="tozero",
    )
    fig.update_layout(
        margin=dict(b=90 + 26 * (len(models) + 1)),
    )
    return fig


def fig_queues(res: Results, lang: str = "en") -> go.Figure:
    """Citizens in each stage, week by week: mean line and 5-95 % band across replications."""
    import plotly.graph_objects as go
    import polars as pl
    from plotly.subplots import make_subplots

    models = res.models
    styles = model_styles(models)
    stages = i18n.STAGES
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[t(f"stage.{s}", lang) for s in stages],
        shared_xaxes=True,
        vertical_spacing=0.14,
        horizontal_spacing=0.1,
    )
    fig.update_layout(
        template=template(),
        title=dict(
            text=t("fig.queues.title", lang), subtitle=dict(text=t("fig.queues.subtitle", lang))
        ),
        separators=i18n.plotly_separators(lang),
        height=720,
        legend=dict(orientation="h", yanchor="bottom", y=1.04, x=1, xanchor="right"),
        margin=dict(t=140),
    )
    ts = res.timeseries
    warm = float(res.manifest.get("warmup_weeks") or 0)
    u = i18n.unit_label("citizens", lang)
    for k, s in enumerate(stages):
        row, col = k // 2 + 1, k % 2 + 1
        for m in models:
            st = styles[m]
            name = i18n.model_name(m, lang)
            if ts is None:
                continue
            d = ts.filter((pl.col("model") == m) & (pl.col("series") == f"{s}_citizens")).sort(
                "week"
            )
            if d.height == 0:
                continue
            w = d["week"].to_list()
            fig.add_trace(
                band(w, d["p05"].to_list(), d["p95"].to_list(), st, m, name=name),
                row=row,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=w,
                    y=d["mean"].to_list(),
                    mode="lines",
                    name=name,
                    legendgroup=m,
                    showlegend=k == 0,
                    line=dict(color=st.colour, dash=st.dash, width=2.5),
                    hovertemplate=f"{name}: %{{y:,.1f}} {u}<extra>%{{x}}</extra>",
                ),
                row=row,
                col=col,
            )
        if warm > 0:
            label: dict[str, Any] = {}
            if k == 0:
                label = dict(
                    annotation_text=t("fig.queues.warmup", lang),
                    annotation_position="top left",
                    annotation_font_size=13,
                )
            fig.add_vrect(
                x0=0,
                x1=warm,
                fillcolor="#888888",
                opacity=0.15,
                line_width=0,
                layer="below",
                row=row,
                col=col,
                **label,
            )
        fig.update_yaxes(
            title_text=i18n.axis_title(t("axis.citizens", lang), "citizens", lang),
            rangemode="tozero",
            row=row,
            col=col,
        )
    fig.update_xaxes(title_text=t("axis.week", lang), row=2, col=1)
    fig.update_xaxes(title_text=t("axis.week", lang), row=2, col=2)
    for a in fig.layout.annotations:
        if a.text in {t(f"stage.{s}", lang) for s in stages}:
            a.font = dict(size=17)
    return fig


def fig_staff_hours(res: Results, lang: str = "en") -> go.Figure:
    """Staff hours per year by group and category (stacked), core-task share above each bar."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    models = res.models
    names = [i18n.model_name(m, lang) for m in models]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[t(f"group.{g}", lang) for g in i18n.GROUPS],
        horizontal_spacing=0.14,
    )
    fig.update_layout(
        template=template(),
        title=dict(
            text=t("fig.hours.title", lang),
            subtitle=dict(text=t("fig.hours.subtitle", lang, n=res.n_replications)),
        ),
        separators=i18n.plotly_separators(lang),
        height=600,
        barmode="stack",
        bargap=0.35,
        legend=dict(traceorder="reversed"),
        margin=dict(t=130),
    )
    u = i18n.unit_label("hours/year", lang)
    for col, g in enumerate(i18n.GROUPS, start=1):
        totals = [0.0] * len(models)
        for c in i18n.CATEGORIES:
            colour, pattern, _ = CATEGORY_COLOURS[c]
            ys = [res.stat(m, f"{g}_{c}_hours_per_year").mean for m in models]
            ys = [y if math.isfinite(y) else 0.0 for y in ys]
            totals = [a + b for a, b in zip(totals, ys, strict=True)]
            label = t(f"cat.{c}", lang)
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=ys,
                    name=label,
                    legendgroup=c,
                    showlegend=col == 1,
                    marker=dict(
                        color=colour,
                        line=dict(color=INK, width=0.8),
                        pattern=dict(
                            shape=pattern, fgcolor="#555555", fgopacity=0.6, fillmode="overlay"
                        ),
                    ),
                    hovertemplate=f"%{{x}}, {label}: %{{y:,.0f}} {u}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        for name, m, total in zip(names, models, totals, strict=True):
            share = res.stat(m, f"{g}_core_task_share").mean
            fig.add_annotation(
                x=name,
                y=total,
                # two short lines, so neighbouring bars' labels never meet on a narrow page
                text=f"{t('summary.core_tasks', lang)}<br><b>{_pct(share, lang)}</b>",
                showarrow=False,
                yanchor="bottom",
                yshift=4,
                font=dict(size=14),
                row=1,
                col=col,
            )
        top = max(totals) if totals else 0.0
        fig.update_yaxes(
            title_text=i18n.axis_title(t("axis.staff_hours", lang), "hours/year", lang),
            range=[0, top * 1.2] if top > 0 else None,
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=t("axis.model", lang), row=1, col=col)
    return fig


def _pct(share: float, lang: str) -> str:
    return f"{i18n.fmt_num(share * 100, lang, 0)} %" if math.isfinite(share) else t("num.na", lang)


class _Row(NamedTuple):
    label: str
    model: str
    get: Callable[[str], Stat]


def _forest(
    rows: Sequence[_Row],
    metrics: Sequence[str],
    units: Callable[[str], str],
    lang: str,
    title: str,
    subtitle: str,
    styles: dict[str, Style],
    cols: int = 2,
) -> go.Figure:
    """Paired differences with 95 % CIs, one panel per metric in that metric's own unit."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    nrows = math.ceil(len(metrics) / cols)
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        subplot_titles=[i18n.metric_label(m, lang) for m in metrics],
        horizontal_spacing=0.22 if cols > 1 else 0.0,
        vertical_spacing=min(0.5 / max(nrows, 1), 0.16),
    )
    per_row = 70 + 34 * len(rows)
    fig.update_layout(
        template=template(),
        title=dict(text=title, subtitle=dict(text=subtitle)),
        separators=i18n.plotly_separators(lang),
        height=150 + nrows * (per_row + 90),
        showlegend=False,
        margin=dict(t=120, l=30, r=40),
    )
    labels = [r.label for r in rows]
    for k, metric in enumerate(metrics):
        row, col = k // cols + 1, k % cols + 1
        scale = i18n.metric_scale(metric)
        unit = "percentage_points" if scale != 1 else units(metric)
        u = i18n.unit_label(unit, lang)
        lo_all, hi_all = 0.0, 0.0
        for r in rows:
            s = r.get(metric).scaled(scale)
            st = styles[r.model]
            plus, minus = _ci_arrays([s])
            for v in (s.low, s.high, s.mean):
                if math.isfinite(v):
                    lo_all, hi_all = min(lo_all, v), max(hi_all, v)
            d = i18n.auto_digits(s.mean)
            fig.add_trace(
                go.Scatter(
                    x=[s.mean],
                    y=[r.label],
                    mode="markers+text",
                    marker=dict(
                        color=st.colour, size=15, symbol=st.symbol, line=dict(color=INK, width=1.5)
                    ),
                    error_x=dict(
                        type="data", array=plus, arrayminus=minus, color=INK, thickness=2, width=8
                    ),
                    text=[i18n.fmt_ci(s.mean, s.low, s.high, lang, d, sign=True)],
                    textposition="top center",
                    textfont=dict(size=14),
                    cliponaxis=False,
                    name=r.label,
                    customdata=[[s.low, s.high]],
                    hovertemplate=(
                        f"%{{y}}: %{{x:+,.2f}} {u}<br>{t('hover.ci', lang)}: "
                        "%{customdata[0]:+,.2f} – %{customdata[1]:+,.2f}<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
        pad = (hi_all - lo_all) * 0.3 or 1.0
        fig.add_vline(x=0, line=dict(color="#666666", width=1.5, dash="dot"), row=row, col=col)
        fig.update_xaxes(
            title_text=t("axis.difference", lang, unit=u),
            range=[lo_all - pad, hi_all + pad],
            zeroline=False,
            row=row,
            col=col,
        )
        fig.update_yaxes(
            categoryorder="array",
            categoryarray=labels[::-1],
            range=[-0.7, len(labels) - 0.1],
            showgrid=False,
            row=row,
            col=col,
        )
    for a in fig.layout.annotations:
        if a.text in {i18n.metric_label(m, lang) for m in metrics}:
            a.font = dict(size=16)
    return fig


def pair_label(model: str, baseline: str, lang: str) -> str:
    return t(
        "col.difference",
        lang,
        model=i18n.model_name(model, lang),
        minus=i18n.MINUS,
        baseline=i18n.model_name(baseline, lang),
    )


def fig_differences(
    res: Results, lang: str = "en", metrics: Sequence[str] = KEY_DIFF_METRICS
) -> go.Figure:
    """Forest chart of paired differences (model - baseline) with 95 % CIs for key metrics."""
    rows = [
        _Row(pair_label(m, b, lang), m, lambda metric, m=m, b=b: res.diff(m, metric, b))
        for m, b in res.comparisons
    ]
    bases = {b for _, b in res.comparisons}
    if len(bases) == 1:
        base = i18n.model_name(bases.pop(), lang)
        title = t("fig.diff.title", lang, baseline=base)
        subtitle = t("fig.diff.subtitle", lang, baseline=base)
    else:
        title, subtitle = t("fig.diff.title_any", lang), t("fig.diff.subtitle_any", lang)
    return _forest(
        rows,
        [m for m in metrics if any(math.isfinite(r.get(m).mean) for r in rows)] or list(metrics),
        lambda metric: unit_key(res, metric),
        lang,
        title,
        subtitle,
        model_styles(res.models),
    )


def report_figures(res: Results, lang: str = "en") -> dict[str, go.Figure]:
    """The report's figures, by file name stem, in reading order."""
    i18n.check_lang(lang)
    figs: dict[str, go.Figure] = {
        "helped_per_year": fig_helped(res, lang),
        "time_to_start": fig_wait(res, lang),
    }
    if res.timeseries is not None:
        figs["citizens_over_time"] = fig_queues(res, lang)
    figs["staff_hours"] = fig_staff_hours(res, lang)
    figs["cost_per_helped"] = fig_cost(res, lang)
    if res.comparisons:
        figs["differences"] = fig_differences(res, lang)
    return figs


# --------------------------------------------------------------------------- several runs


def run_labels(runs: Sequence[Results], lang: str) -> list[str]:
    """Short, unique names for runs: scenario and budget, plus the folder when those repeat."""
    base = [
        f"{r.manifest.get('scenario', r.folder.name)}, "
        f"{i18n.fmt_dkk(float(r.manifest.get('budget_dkk_per_year') or math.nan), lang)}"
        for r in runs
    ]
    if len(set(base)) == len(base):
        return base
    return [f"{b} ({r.folder.name})" for b, r in zip(base, runs, strict=True)]


def fig_metric_by_run(runs: Sequence[Results], metric: str, lang: str = "en") -> go.Figure:
    """One metric for every run and model: grouped bars with 95 % CIs."""
    import plotly.graph_objects as go

    labels = run_labels(runs, lang)
    models = list(dict.fromkeys(m for r in runs for m in r.models))
    styles = model_styles(models)
    label = i18n.metric_label(metric, lang)
    fig = _base(
        t("fig.compare.title", lang, metric=label[:1].upper() + label[1:]),
        t("fig.compare.subtitle", lang),
        lang,
    )
    scale = i18n.metric_scale(metric)
    unit = unit_key(runs[0], metric) if runs else ""
    for m in models:
        st = styles[m]
        stats = [r.stat(m, metric).scaled(scale) for r in runs]
        plus, minus = _ci_arrays(stats)
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[s.mean for s in stats],
                name=i18n.model_name(m, lang),
                marker=_bar_marker(st),
                error_y=_error_bars(plus, minus, width=8),
                text=[_fmt_value(metric, s.mean, lang) for s in stats],
                textposition="inside",
                insidetextanchor="middle",
                textfont=dict(color=st.text_colour, size=15),
                customdata=[[s.low, s.high] for s in stats],
                hovertemplate=_hover_ci(lang, unit),
            )
        )
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.08)
    fig.update_yaxes(
        title_text=i18n.axis_title(t("axis.value", lang), unit, lang), rangemode="tozero"
    )
    fig.update_xaxes(title_text=t("axis.run", lang))
    return fig


def fig_compare_differences(
    runs: Sequence[Results], lang: str = "en", metrics: Sequence[str] = KEY_DIFF_METRICS
) -> go.Figure:
    """Forest chart of paired differences from each run's baseline, run by run."""
    labels = run_labels(runs, lang)
    rows: list[_Row] = []
    for label, r in zip(labels, runs, strict=True):
        for m, b in r.comparisons:
            rows.append(
                _Row(
                    f"{label}: {pair_label(m, b, lang)}",
                    m,
                    lambda metric, r=r, m=m, b=b: r.diff(m, metric, b),
                )
            )
    models = list(dict.fromkeys(m for r in runs for m in r.models))
    fig = _forest(
        rows,
        list(metrics),
        (lambda metric: unit_key(runs[0], metric)) if runs else i18n.metric_unit,
        lang,
        t("fig.compare_diff.title", lang),
        "",
        model_styles(models),
        cols=1,
    )
    fig.update_layout(margin=dict(l=30))
    return fig


def compare_figures(runs: Sequence[Results], lang: str = "en") -> dict[str, go.Figure]:
    """The comparison report's figures, by file name stem."""
    i18n.check_lang(lang)
    figs = {f"compare_{m}": fig_metric_by_run(runs, m, lang) for m in COMPARE_METRICS}
    if any(r.comparisons for r in runs):
        figs["compare_differences"] = fig_compare_differences(runs, lang)
    return figs
