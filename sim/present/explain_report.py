"""Figures, tables and results folders of ``sim explain`` and ``sim optimise`` (da/en).

The waterfall shows how the total difference between two models builds up mechanism by mechanism,
each step with its 95 % CI; the optimiser curve shows citizens helped per year against the
authority share of the budget, with the waiting-time limit marked. Each report is one
self-contained HTML file (plotly.js inlined once, no network resources); the tables are CSV.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.model import registry
from sim.present import i18n
from sim.present.i18n import t
from sim.present.page import figure_html, footer, page
from sim.present.theme import (
    AXIS_LINE,
    DOWN,
    GRID,
    INK,
    LIMIT,
    TOTAL,
    UP,
    ZERO_LINE,
    band,
    model_styles,
    template,
)
from sim.present.warnings import folder_warnings, warnings_html, write_waiting_lists
from sim.present.workbook import workbook_link, write_workbook
from sim.store import snapshot
from sim.store.integrity import with_checksums
from sim.store.manifest import build_manifest
from sim.store.results import _write_csv, atomic_dir

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from sim.run.explain import Contribution, ExplainResult
    from sim.run.optimise import Candidate, OptimiseResult


SHOWN_METRICS: tuple[str, ...] = (
    "helped_per_year",
    "time_to_start_median_weeks",
    "core_task_share",
)
"""The metrics the explain report and the CLI show (the CSV holds every decomposed metric)."""

BREAKDOWN_METRICS: tuple[str, ...] = (
    "helped_per_year",
    "s85_starts_per_year",
    "short_course_per_year",
    "post_goal_hours_per_year",
)
"""Citizens helped, its two parts (§ 85 starts + short-course starts) and the support hours given
after the goals were reached: the breakdown table and figure (primary method)."""


# --------------------------------------------------------------------------- labels and numbers


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def player_label(player: str, lang: str) -> str:
    """A player's name for readers: mechanism labels joined by ' + '."""
    return " + ".join(i18n.LABELS[lang].get(f"param.{m}", m) for m in player.split("+"))


def diff_unit(metric: str) -> str:
    """Unit key of a difference in ``metric`` (shares move in percentage points)."""
    entry = registry.lookup(metric)
    share = entry is not None and entry.unit == registry.SHARE
    return "percentage_points" if share else i18n.metric_unit(metric)


def _digits(metric: str) -> int:
    return 0 if i18n.metric_unit(metric) == "hours/year" else 1


def _ci_text(mean: float, low: float, high: float, metric: str, lang: str, sign: bool) -> str:
    k = i18n.metric_scale(metric)
    return i18n.fmt_ci(mean * k, low * k, high * k, lang, _digits(metric), sign=sign)


def _pct(share: float, lang: str, digits: int = 0) -> str:
    return f"{i18n.fmt_num(share * 100, lang, digits)} %"


def _wrap(text: str, width: int = 14) -> str:
    """Break a label at spaces into lines of about ``width`` characters (plotly's ``<br>``)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _template() -> dict[str, Any]:
    """The theme's template; the title and its subtitle (one text with a line break) need more
    room above the plot."""
    return dict(template=template(), margin=dict(t=150))


def _title(title: str, subtitle: str) -> dict[str, Any]:
    """A title with a smaller subtitle; ``<br>`` in the subtitle breaks its line."""
    sub = html.escape(subtitle).replace("&lt;br&gt;", "<br>")
    return dict(text=f"{html.escape(title)}<br><span style='font-size:14px'>{sub}</span>")


# --------------------------------------------------------------------------- explain figures


def fig_waterfall(
    res: ExplainResult, metric: str, lang: str = "en", method: str = "sequential"
) -> go.Figure:
    """Change from the ``from`` model, mechanism by mechanism, to the total; whiskers: 95 % CI of
    each step (paired, same citizens)."""
    import plotly.graph_objects as go

    k = i18n.metric_scale(metric)
    contribs = [c for c in res.contributions(method, metric) if c.simulated]
    total = res.total[metric]
    names = [player_label(c.player, lang) for c in contribs]
    names.append(
        t("xp.total_bar", lang, to=_model(res.to_model, lang), frm=_model(res.from_model, lang))
    )
    y = [c.interval.mean * k for c in contribs]
    steps = [*y, total.mean * k]
    ends, run = [], 0.0
    for v in y:
        run += v
        ends.append(run)
    ends.append(total.mean * k)
    lows = [c.interval.low * k for c in contribs] + [total.low * k]
    highs = [c.interval.high * k for c in contribs] + [total.high * k]
    unit = i18n.unit_label(diff_unit(metric), lang)
    # The value and its CI go under each bar's name, where no whisker can hide them.
    x = [
        f"{_wrap(n)}<br><b>{i18n.fmt_num(v, lang, _digits(metric), sign=True)}</b>"
        + (
            f"<br>({i18n.fmt_range(lo, hi, lang, _digits(metric))})"
            if math.isfinite(lo) and math.isfinite(hi)
            else ""
        )
        for n, v, lo, hi in zip(names, steps, lows, highs, strict=True)
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Waterfall(
            x=x,
            y=steps,
            measure=["relative"] * len(y) + ["total"],
            increasing=dict(marker=dict(color=UP, line=dict(color=INK, width=1))),
            decreasing=dict(marker=dict(color=DOWN, line=dict(color=INK, width=1))),
            totals=dict(marker=dict(color=TOTAL, line=dict(color=INK, width=1))),
            connector=dict(line=dict(color=ZERO_LINE, width=1, dash="dot")),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    # The CI of each step, drawn around the end of its bar.
    plus = [max(h - s, 0.0) if math.isfinite(h) else 0.0 for h, s in zip(highs, steps, strict=True)]
    minus = [
        max(s - lo, 0.0) if math.isfinite(lo) else 0.0 for lo, s in zip(lows, steps, strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=ends,
            mode="markers",
            marker=dict(size=1, color=INK),
            error_y=dict(
                type="data", array=plus, arrayminus=minus, color=INK, thickness=2, width=8
            ),
            customdata=[[s, lo, h] for s, lo, h in zip(steps, lows, highs, strict=True)],
            hovertemplate="<b>%{x}</b><br>"
            + t("xp.hover_step", lang)
            + ": %{customdata[0]:+,.2f} "
            + unit
            + "<br>"
            + t("hover.ci", lang)
            + ": %{customdata[1]:,.2f} – %{customdata[2]:,.2f}<extra></extra>",
            showlegend=False,
        )
    )
    method_note = t(f"xp.method_{method}", lang)
    if method == "shapley" and not res.shapley_exact:
        method_note = t("xp.method_shapley_sampled", lang, n=res.shapley_orders)
    fig.update_layout(
        _template(),
        title=_title(
            t(
                "xp.waterfall_title",
                lang,
                metric=_cap(i18n.metric_label(metric, lang)),
                to=_model(res.to_model, lang),
                frm=_model(res.from_model, lang),
            ),
            t("xp.waterfall_subtitle", lang, method=method_note, n=res.replications),
        ),
        separators=i18n.plotly_separators(lang),
        height=600,
        yaxis=dict(
            title=t(
                "xp.axis_change",
                lang,
                frm=_model(res.from_model, lang),
                unit=unit,
            )
        ),
        xaxis=dict(tickangle=0, tickfont=dict(size=14)),
    )
    return fig


def fig_methods(res: ExplainResult, lang: str = "en") -> go.Figure:
    """Sequential against Shapley contributions, one panel per metric, with 95 % CIs."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = [m for m in SHOWN_METRICS if m in res.metrics]
    fig = make_subplots(
        rows=1,
        cols=len(metrics),
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=[
            f"{i18n.metric_label(m, lang)} ({i18n.unit_label(diff_unit(m), lang)})" for m in metrics
        ],
    )
    styles = {"sequential": (UP, ""), "shapley": (DOWN, "/")}
    for col, metric in enumerate(metrics, start=1):
        k = i18n.metric_scale(metric)
        for method in res.methods():
            cs = [c for c in res.contributions(method, metric) if c.simulated]
            colour, pattern = styles[method]
            fig.add_trace(
                go.Bar(
                    y=[player_label(c.player, lang) for c in cs],
                    x=[c.interval.mean * k for c in cs],
                    orientation="h",
                    name=t(f"xp.method_{method}_short", lang),
                    legendgroup=method,
                    showlegend=col == 1,
                    marker=dict(
                        color=colour,
                        line=dict(color=INK, width=1),
                        pattern=dict(shape=pattern, fgcolor=INK, fgopacity=0.35),
                    ),
                    error_x=dict(
                        type="data",
                        array=[_plus(c, k) for c in cs],
                        arrayminus=[_minus(c, k) for c in cs],
                        color=INK,
                        thickness=1.5,
                        width=5,
                    ),
                ),
                row=1,
                col=col,
            )
    fig.update_layout(
        _template(),
        title=_title(
            t("xp.methods_title", lang),
            t("xp.methods_subtitle", lang, n=res.replications),
        ),
        barmode="group",
        separators=i18n.plotly_separators(lang),
        height=620,
        legend=dict(orientation="h", y=-0.08, x=0),
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_annotations(font=dict(size=15))
    return fig


def fig_breakdown(res: ExplainResult, lang: str = "en") -> go.Figure:
    """Small multiples, one panel per metric of ``BREAKDOWN_METRICS``: each mechanism's change
    and the total, with 95 % CIs (Shapley if computed). The § 85 and short-course panels add up
    to the helped panel, bar by bar."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    method = res.method
    fig = make_subplots(
        rows=1,
        cols=len(BREAKDOWN_METRICS),
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=[
            _wrap(
                f"{i18n.metric_label(m, lang)} ({i18n.unit_label(diff_unit(m), lang)})".replace(
                    "§ ", "§\u00a0"
                ),
                26,
            )
            for m in BREAKDOWN_METRICS
        ],
    )
    total_name = t(
        "xp.total_bar", lang, to=_model(res.to_model, lang), frm=_model(res.from_model, lang)
    )
    for col, metric in enumerate(BREAKDOWN_METRICS, start=1):
        cs = [c for c in res.contributions(method, metric) if c.simulated]
        ivs = [c.interval for c in cs] + [res.total[metric]]
        means = [iv.mean for iv in ivs]
        fig.add_trace(
            go.Bar(
                y=[player_label(c.player, lang) for c in cs] + [total_name],
                x=means,
                orientation="h",
                marker=dict(
                    color=[UP if v >= 0 else DOWN for v in means[:-1]] + [TOTAL],
                    line=dict(color=INK, width=1),
                ),
                error_x=dict(
                    type="data",
                    array=[
                        max(iv.high - iv.mean, 0.0) if math.isfinite(iv.high) else 0.0 for iv in ivs
                    ],
                    arrayminus=[
                        max(iv.mean - iv.low, 0.0) if math.isfinite(iv.low) else 0.0 for iv in ivs
                    ],
                    color=INK,
                    thickness=1.5,
                    width=5,
                ),
                showlegend=False,
                hovertemplate="%{y}: %{x:+,.1f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        _template(),
        title=_title(
            t("xp.breakdown_fig_title", lang),
            t(
                "xp.waterfall_subtitle",
                lang,
                method=_method_note(res, method, lang),
                n=res.replications,
            ),
        ),
        separators=i18n.plotly_separators(lang),
        height=680,
        margin=dict(l=80, r=30, t=230, b=60),
    )
    axis = dict(showline=True, linecolor=AXIS_LINE, ticks="outside", gridcolor=GRID,
                zerolinecolor=ZERO_LINE)  # fmt: skip
    fig.update_xaxes(**axis)
    for col, metric in enumerate(BREAKDOWN_METRICS, start=1):  # whole hours, not "10k"
        if _digits(metric) == 0:
            fig.update_xaxes(tickformat=",.0f", tickangle=0, nticks=4, row=1, col=col)
    fig.update_yaxes(autorange="reversed", showline=True, linecolor=AXIS_LINE)
    fig.update_annotations(font=dict(size=14))
    return fig


def _method_note(res: ExplainResult, method: str, lang: str) -> str:
    """How the contributions were computed, for a figure's subtitle."""
    if method == "shapley" and not res.shapley_exact:
        return t("xp.method_shapley_sampled", lang, n=res.shapley_orders)
    return t(f"xp.method_{method}", lang)


def _plus(c: Contribution, k: float) -> float:
    iv = c.interval
    return max(iv.high - iv.mean, 0.0) * k if math.isfinite(iv.high) else 0.0


def _minus(c: Contribution, k: float) -> float:
    iv = c.interval
    return max(iv.mean - iv.low, 0.0) * k if math.isfinite(iv.low) else 0.0


def explain_figures(res: ExplainResult, lang: str = "en") -> dict[str, go.Figure]:
    """The explain report's figures by name: one waterfall per shown metric (Shapley if computed,
    else sequential), and the comparison of the two methods when both exist."""
    method = "shapley" if res.shapley is not None else "sequential"
    figs = {
        f"waterfall_{m}": fig_waterfall(res, m, lang, method)
        for m in SHOWN_METRICS
        if m in res.metrics
    }
    if res.shapley is not None:
        figs["sequential_vs_shapley"] = fig_methods(res, lang)
    if all(m in res.metrics for m in BREAKDOWN_METRICS):
        figs["breakdown"] = fig_breakdown(res, lang)
    return figs


# --------------------------------------------------------------------------- optimiser figure


def fig_curve(res: OptimiseResult, lang: str = "en") -> go.Figure:
    """Helped per year against the authority share (top) and the 90th percentile wait with the
    limit (bottom); open markers break the limit, stars are the named splits re-run on fresh
    citizens with their 95 % CI."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    styles = model_styles(res.models)
    limit = res.settings.max_p90_wait_weeks
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        row_heights=[0.62, 0.38],
    )
    for m in res.models:
        st = styles[m]
        curve = res.curve(m)
        name = _model(m, lang)
        xs = [c.share * 100 for c in curve]
        hover = [_hover(c, lang) for c in curve]
        band_hi = [c.helped.high if math.isfinite(c.helped.high) else c.helped.mean for c in curve]
        band_lo = [c.helped.low if math.isfinite(c.helped.low) else c.helped.mean for c in curve]
        fig.add_trace(
            band(xs, band_lo, band_hi, st, m, alpha=0.15),
            row=1,
            col=1,
        )
        symbols = [st.symbol if c.feasible else f"{st.symbol}-open" for c in curve]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[c.helped.mean for c in curve],
                mode="lines+markers",
                name=name,
                legendgroup=m,
                line=dict(color=st.colour, dash=st.dash, width=2.5),
                marker=dict(symbol=symbols, size=9, color=st.colour, line=dict(width=1.5)),
                text=hover,
                hovertemplate="%{text}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[c.p90.mean for c in curve],
                mode="lines+markers",
                name=name,
                legendgroup=m,
                showlegend=False,
                line=dict(color=st.colour, dash=st.dash, width=2.5),
                marker=dict(symbol=symbols, size=9, color=st.colour, line=dict(width=1.5)),
                text=hover,
                hovertemplate="%{text}<extra></extra>",
            ),
            row=2,
            col=1,
        )
        o = res.optima[m]
        c = o.chosen
        fig.add_trace(
            go.Scatter(
                x=[c.share * 100],
                y=[c.helped.mean],
                mode="markers",
                name=t("op.legend_chosen", lang, model=name),
                legendgroup=m,
                marker=dict(
                    symbol="star" if c.feasible else "star-open",
                    size=20,
                    color=st.colour,
                    line=dict(color=INK, width=1.5),
                ),
                error_y=dict(
                    type="data",
                    array=[max(c.helped.high - c.helped.mean, 0.0)],
                    arrayminus=[max(c.helped.mean - c.helped.low, 0.0)],
                    color=INK,
                    thickness=2,
                    width=10,
                ),
                text=[_hover(c, lang)],
                hovertemplate="%{text}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_hline(
        y=limit,
        line=dict(color=LIMIT, width=2, dash="dash"),
        annotation_text=t("op.limit_line", lang, x=i18n.fmt_num(limit, lang)),
        annotation_position="top left",
        annotation_font=dict(color=LIMIT, size=14),
        row=2,
        col=1,
    )
    # A legend entry explaining the open markers.
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=t("op.legend_breaks", lang),
            marker=dict(symbol="circle-open", size=10, color=INK, line=dict(width=1.5)),
        ),
        row=1,
        col=1,
    )
    p90_top = max((c.p90.mean for c in res.candidates if math.isfinite(c.p90.mean)), default=limit)
    fig.update_layout(
        _template(),
        title=_title(
            t("op.curve_title", lang),
            t(
                "op.curve_subtitle",
                lang,
                n=res.replications,
                k=res.settings.top_k,
                m=res.optima[res.models[0]].chosen.helped.n,
            ),
        ),
        separators=i18n.plotly_separators(lang),
        height=820,
        legend=dict(orientation="h", y=-0.12, x=0),
    )
    fig.update_yaxes(
        title_text=t("op.axis_helped", lang),
        row=1,
        col=1,
    )
    fig.update_yaxes(
        title_text=t("op.axis_p90", lang),
        range=[0, min(max(p90_top, limit) * 1.1, limit * 4)],
        row=2,
        col=1,
    )
    shares = [c.share * 100 for c in res.candidates]
    fig.update_xaxes(range=[min(shares) - 1, max(shares) + 1])
    fig.update_xaxes(title_text=t("op.axis_share", lang), row=2, col=1)
    fig.update_xaxes(showline=True, linecolor=AXIS_LINE, ticks="outside", gridcolor=GRID)
    fig.update_yaxes(showline=True, linecolor=AXIS_LINE, ticks="outside", gridcolor=GRID)
    return fig


def _hover(c: Candidate, lang: str) -> str:
    return t(
        "op.hover",
        lang,
        model=_model(c.model, lang),
        share=_pct(c.share, lang, 1),
        a=i18n.fmt_num(c.authority_fte, lang, 2),
        p=i18n.fmt_num(c.provider_fte, lang, 1),
        helped=i18n.fmt_ci(c.helped.mean, c.helped.low, c.helped.high, lang, 1),
        p90=i18n.fmt_num(c.p90.mean, lang, 1),
        waiting=i18n.fmt_num(c.waiting.mean, lang, 1),
        ratio=i18n.fmt_num(c.ratio, lang, 2),
        n=c.helped.n,
    )


def _fte(c: Candidate, lang: str) -> str:
    return f"{i18n.fmt_num(c.authority_fte, lang, 2)} + {i18n.fmt_num(c.provider_fte, lang, 2)}"


def _p(cls: str, text: str) -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def _model(model: str, lang: str) -> str:
    return i18n.model_name(model, lang)


def _phrase(model: str, lang: str) -> str:
    return i18n.model_phrase(model, lang)


# --------------------------------------------------------------------------- HTML


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], num_from: int = 1) -> str:
    head = "".join(
        f'<th class="num">{h}</th>' if i >= num_from else f"<th>{h}</th>"
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i >= num_from else f"<td>{c}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def explain_headline(res: ExplainResult, lang: str = "en") -> str:
    """The total gain in citizens helped and the mechanism that gives most of it; when the split
    depends on the order (sequential, or Shapley from sampled orders), the same headline says so
    and gives that mechanism's range over the orders simulated."""
    metric = "helped_per_year"
    method = res.method
    total = res.total[metric]
    cs = [c for c in res.contributions(method, metric) if c.simulated]
    if not cs:
        return _cap(
            t(
                "xp.headline_none",
                lang,
                to=_phrase(res.to_model, lang),
                frm=_phrase(res.from_model, lang),
            )
        )
    top = max(cs, key=lambda c: abs(c.interval.mean))
    share = top.interval.mean / total.mean if total.mean else math.nan
    text = _cap(
        t(
            "xp.headline" if method == "shapley" else "xp.headline_sequential",
            lang,
            to=_phrase(res.to_model, lang),
            frm=_phrase(res.from_model, lang),
            total=_ci_text(total.mean, total.low, total.high, metric, lang, True),
            mech=player_label(top.player, lang),
            value=_ci_text(
                top.interval.mean, top.interval.low, top.interval.high, metric, lang, True
            ),
            share=_pct(share, lang) if math.isfinite(share) else i18n.t("num.na", lang),
            method=t(f"xp.method_{method}_short", lang),
        )
    )
    split = split_text(res, top.player, lang)
    if split:
        text = f"{text} {split}"
    if res.range_basis == "all":
        return text
    return f"{text} {order_range_text(res, metric, top.player, lang)}"


def split_text(res: ExplainResult, player: str, lang: str) -> str:
    """How the change in citizens helped splits into § 85 starts and short-course starts, in
    total and for ``player``; empty when those metrics were not decomposed."""
    parts = ("s85_starts_per_year", "short_course_per_year")
    if not all(m in res.metrics for m in parts):
        return ""
    s85, course = (res.total[m] for m in parts)
    mine = {
        m: next(c for c in res.contributions(res.method, m) if c.player == player).interval.mean
        for m in parts
    }
    return t(
        "xp.headline_split",
        lang,
        s85=_ci_text(s85.mean, s85.low, s85.high, parts[0], lang, True),
        courses=_ci_text(course.mean, course.low, course.high, parts[1], lang, True),
        mech=player_label(player, lang),
        mech_s85=i18n.fmt_num(mine[parts[0]], lang, 1, sign=True),
        mech_courses=i18n.fmt_num(mine[parts[1]], lang, 1, sign=True),
    )


def order_range_text(res: ExplainResult, metric: str, player: str, lang: str) -> str:
    """'The split depends on the order: ... {player} contributes between lo and hi.'"""
    lo, hi = res.order_range[metric][player]
    k = i18n.metric_scale(metric)
    return t(
        f"xp.headline_range_{res.range_basis}",
        lang,
        mech=player_label(player, lang),
        lo=i18n.fmt_num(lo * k, lang, _digits(metric), sign=True),
        hi=i18n.fmt_num(hi * k, lang, _digits(metric), sign=True),
        n=res.shapley_orders,
    )


def contribution_table_html(
    res: ExplainResult, method: str, lang: str, shown: Sequence[str] = SHOWN_METRICS
) -> str:
    """Players as rows, the ``shown`` metrics as columns: mean change (95 % CI)."""
    metrics = [m for m in shown if m in res.metrics]
    header = [t("xp.col_mechanism", lang)] + [
        f"{html.escape(i18n.metric_label(m, lang))}<br><span class='ci'>"
        f"{html.escape(i18n.unit_label(diff_unit(m), lang))}</span>"
        for m in metrics
    ]
    rows: list[list[str]] = []
    by_metric = {m: res.contributions(method, m) for m in metrics}
    for i, p in enumerate(res.players):
        cells = [html.escape(player_label(p.name, lang))]
        for m in metrics:
            c = by_metric[m][i]
            if not c.simulated:
                cells.append(t("xp.same_setting", lang))
            else:
                iv = c.interval
                cells.append(html.escape(_ci_text(iv.mean, iv.low, iv.high, m, lang, True)))
        rows.append(cells)
    total_label = t(
        "xp.total_bar", lang, to=_model(res.to_model, lang), frm=_model(res.from_model, lang)
    )
    total_cells = [f"<b>{html.escape(total_label)}</b>"]
    for m in metrics:
        iv = res.total[m]
        total_cells.append(
            f"<b>{html.escape(_ci_text(iv.mean, iv.low, iv.high, m, lang, True))}</b>"
        )
    rows.append(total_cells)
    for model in (res.from_model, res.to_model):
        cells = [html.escape(_cap(t("xp.level_of", lang, model=_phrase(model, lang))))]
        for m in metrics:
            iv = res.endpoints[model][m]
            cells.append(html.escape(_ci_text(iv.mean, iv.low, iv.high, m, lang, False)))
        rows.append(cells)
    return _table(header, rows)


def render_explain(
    res: ExplainResult,
    lang: str = "en",
    run_id: str = "",
    version: str = "",
    warnings: Sequence[str] = (),
) -> str:
    """The explain report: headline, figures, tables per method, how it was computed; the footer
    names the folder ``run_id`` and the sim ``version`` that made it (default: this one)."""
    lang = i18n.check_lang(lang)
    figs = explain_figures(res, lang)
    title = t("xp.title", lang, to=_model(res.to_model, lang), frm=_model(res.from_model, lang))
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        _p("meta", t("xp.meta", lang, scenario=res.scenario.name, run=run_id, n=res.replications)),
        f'<p class="headline">{html.escape(explain_headline(res, lang))}</p>',
        warnings_html(warnings, lang),
    ]
    for name, fig in figs.items():
        if name != "breakdown":
            parts.append(figure_html(fig, name))
    if "breakdown" in figs:
        method_note = _method_note(res, res.method, lang)
        parts.append(f"<h2>{html.escape(t('xp.breakdown_title', lang))}</h2>")
        parts.append(_p("note", t("xp.breakdown_note", lang, method=method_note)))
        parts.append(figure_html(figs["breakdown"], "breakdown"))
        parts.append(contribution_table_html(res, res.method, lang, BREAKDOWN_METRICS))
    for method in res.methods():
        parts.append(f"<h2>{html.escape(t(f'xp.table_{method}', lang))}</h2>")
        parts.append(contribution_table_html(res, method, lang))
    skipped = [p for p in res.players if p.name not in res.active]
    parts.append(f"<h2>{html.escape(t('xp.how_title', lang))}</h2>")
    order = ", ".join(player_label(p.name, lang) for p in res.players)
    parts.append(f"<p>{html.escape(t('xp.how_sequential', lang, order=order))}</p>")
    if res.range_basis == "first_last":
        parts.append(f"<p>{html.escape(t('xp.how_range_first_last', lang))}</p>")
    if res.shapley is not None:
        how = (
            t("xp.how_shapley_exact", lang, n=len(res.active), k=2 ** len(res.active))
            if res.shapley_exact
            else t("xp.how_shapley_sampled", lang, n=res.shapley_orders)
        )
        parts.append(f"<p>{html.escape(how)}</p>")
    if skipped:
        names = ", ".join(player_label(p.name, lang) for p in skipped)
        parts.append(f"<p>{html.escape(t('xp.how_skipped', lang, names=names))}</p>")
    parts.append(f"<p>{html.escape(t('xp.how_ci', lang))}</p>")
    parts.append(workbook_link(lang))
    parts.append(footer(lang, version or __version__, f"<code>{html.escape(run_id)}</code>"))
    return page(title, "\n".join(parts), lang)


def optimise_headline(res: OptimiseResult, model: str, lang: str = "en") -> str:
    """One sentence per model: the named split, what it achieves and where the limit binds."""
    o = res.optima[model]
    c = o.chosen
    key = "op.headline" if c.feasible else "op.headline_infeasible"
    text = t(
        key,
        lang,
        model=_model(model, lang),
        share=_pct(c.share, lang, 0),
        a=i18n.fmt_num(c.authority_fte, lang, 1),
        p=i18n.fmt_num(c.provider_fte, lang, 1),
        helped=i18n.fmt_ci(c.helped.mean, c.helped.low, c.helped.high, lang, 1),
        p90=i18n.fmt_num(c.p90.mean, lang, 1),
        limit=i18n.fmt_num(res.settings.max_p90_wait_weeks, lang),
    )
    if c.feasible and o.feasible_low is not None and o.feasible_high is not None:
        text += " " + t(
            "op.feasible_range",
            lang,
            lo=_pct(o.feasible_low, lang, 0),
            hi=_pct(o.feasible_high, lang, 0),
        )
    if o.near_best is not None and o.near_best[0] < o.near_best[1]:
        text += " " + t(
            "op.near_best",
            lang,
            lo=_pct(o.near_best[0], lang, 0),
            hi=_pct(o.near_best[1], lang, 0),
        )
    return text


def render_optimise(
    res: OptimiseResult,
    lang: str = "en",
    run_id: str = "",
    version: str = "",
    warnings: Sequence[str] = (),
) -> str:
    """The optimiser report: the named split per model, the curve, every candidate; the footer as
    in ``render_explain``."""
    lang = i18n.check_lang(lang)
    limit = res.settings.max_p90_wait_weeks
    title = t("op.title", lang, scenario=res.scenario.name)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        _p(
            "meta",
            t(
                "op.meta",
                lang,
                run=run_id,
                budget=i18n.fmt_dkk(res.scenario.budget.annual_dkk, lang),
                limit=i18n.fmt_num(limit, lang),
            ),
        ),
        warnings_html(warnings, lang),
    ]
    for m in res.models:
        parts.append(f'<p class="headline">{html.escape(optimise_headline(res, m, lang))}</p>')
    if not res.from_scenario:
        parts.append(f'<p class="warn">{html.escape(t("op.defaults_note", lang))}</p>')
    parts.append(figure_html(fig_curve(res, lang), "optimise_curve"))
    parts.append(f"<h2>{html.escape(t('op.chosen_title', lang))}</h2>")
    parts.append(chosen_table_html(res, lang))
    parts.append(f"<h2>{html.escape(t('op.rule_title', lang))}</h2>")
    parts.append(f"<p>{html.escape(t('op.rule', lang, limit=i18n.fmt_num(limit, lang)))}</p>")
    parts.append(f"<p>{html.escape(t('op.search', lang))}</p>")
    parts.append(
        f"<details><summary>{html.escape(t('op.all_candidates', lang, n=len(res.candidates)))}"
        f"</summary>{candidates_table_html(res, lang)}</details>"
    )
    parts.append(workbook_link(lang))
    parts.append(footer(lang, version or __version__, f"<code>{html.escape(run_id)}</code>"))
    return page(title, "\n".join(parts), lang)


def _versus(other: Candidate | None, diff: Any, lang: str) -> str:
    """'minus <other split>: +x [lo, hi]' (the paired difference), or n/a without one."""
    if other is None or diff is None:
        return t("num.na", lang)
    ci = i18n.fmt_ci(diff.mean, diff.low, diff.high, lang, 1, sign=True)
    return t("op.vs", lang, share=_pct(other.share, lang, 1), diff=ci)


def chosen_table_html(res: OptimiseResult, lang: str) -> str:
    """Per model: the split, FTEs, helped, p90, waiting, limit and the paired comparisons."""
    header = [t("col.model", lang), *[html.escape(_model(m, lang)) for m in res.models]]
    rows: list[list[str]] = []

    def row(label: str, values: list[str]) -> None:
        rows.append([html.escape(label), *(html.escape(v) for v in values)])

    ops = [res.optima[m] for m in res.models]
    na = t("num.na", lang)
    row(t("op.row_share", lang), [_pct(o.chosen.share, lang, 1) for o in ops])
    row(
        t("op.row_fte", lang),
        [
            f"{i18n.fmt_num(o.chosen.authority_fte, lang, 2)} + "
            f"{i18n.fmt_num(o.chosen.provider_fte, lang, 2)}"
            for o in ops
        ],
    )
    row(
        t("op.row_helped", lang),
        [
            i18n.fmt_ci(o.chosen.helped.mean, o.chosen.helped.low, o.chosen.helped.high, lang, 1)
            for o in ops
        ],
    )
    row(
        t("op.row_p90", lang),
        [i18n.fmt_ci(o.chosen.p90.mean, o.chosen.p90.low, o.chosen.p90.high, lang, 1) for o in ops],
    )
    row(t("op.row_waiting", lang), [i18n.fmt_num(o.chosen.waiting.mean, lang, 1) for o in ops])
    row(t("op.row_abandoned", lang), [i18n.fmt_num(o.chosen.abandoned.mean, lang, 1) for o in ops])
    row(t("op.row_ratio", lang), [i18n.fmt_num(o.chosen.ratio, lang, 2) for o in ops])
    row(t("op.row_binds", lang), [t(f"op.binds_{o.binds}", lang) for o in ops])
    row(
        t("op.row_feasible", lang),
        [
            f"{_pct(o.feasible_low, lang, 0)}{i18n.DASH}{_pct(o.feasible_high, lang, 0)}"
            if o.feasible_low is not None and o.feasible_high is not None
            else t("op.none_feasible", lang)
            for o in ops
        ],
    )
    row(
        t("op.row_near_best", lang),
        [
            f"{_pct(o.near_best[0], lang, 0)}{i18n.DASH}{_pct(o.near_best[1], lang, 0)}"
            if o.near_best
            else na
            for o in ops
        ],
    )
    row(
        t("op.row_runner_up", lang),
        [_versus(o.runner_up, o.difference, lang) for o in ops],
    )
    if any(o.current is not None for o in ops):
        row(
            t("op.row_current", lang),
            [_versus(o.current, o.current_difference, lang) for o in ops],
        )
    return _table(header, rows)


def candidates_table_html(res: OptimiseResult, lang: str) -> str:
    header = [
        t("col.model", lang),
        t("op.col_stage", lang),
        t("op.row_share", lang),
        t("op.row_fte", lang),
        t("op.row_helped", lang),
        t("op.row_p90", lang),
        t("op.row_waiting", lang),
        t("op.row_ratio", lang),
    ]
    rows = []
    for c in sorted(
        res.candidates, key=lambda c: (res.models.index(c.model), c.stage != "confirm", c.share)
    ):
        rows.append(
            [
                html.escape(_model(c.model, lang)),
                html.escape(t(f"op.stage_{c.stage}", lang)),
                _pct(c.share, lang, 1),
                _fte(c, lang),
                html.escape(i18n.fmt_ci(c.helped.mean, c.helped.low, c.helped.high, lang, 1)),
                html.escape(i18n.fmt_num(c.p90.mean, lang, 1)),
                html.escape(i18n.fmt_num(c.waiting.mean, lang, 1)),
                html.escape(i18n.fmt_num(c.ratio, lang, 2)) + ("" if c.feasible else " ✗"),
            ]
        )
    return _table(header, rows, num_from=2)


# --------------------------------------------------------------------------- results folders


def run_manifest(
    scenario: Any,
    *,
    run_id: str,
    command: list[str],
    wall_seconds: float,
    jobs: int,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of an explain or optimise folder (``extra["kind"]``): the one builder of
    ``sim.store.manifest``, for the two models explained or the models optimised."""
    models = extra.get("models") or [extra["from"], extra["to"]]
    return build_manifest(
        extra["kind"],
        scenario,
        run_id=run_id,
        command=command,
        wall_seconds=wall_seconds,
        jobs=jobs,
        models=models,
        extra={k: v for k, v in extra.items() if k != "kind"},
    )


EXPLAIN_COLUMNS = ["method", "metric", "unit", "step", "mechanism", "simulated", "mean",
                   "ci_low", "ci_high", "sd", "n", "order_min", "order_max"]  # fmt: skip


def write_explain(
    final: Path,
    res: ExplainResult,
    *,
    resolved_yaml: str,
    meta: dict[str, Any],
    lang: str = "en",
    png: bool = False,
) -> Path:
    """contributions.csv, contributions_by_replication.csv, hybrids.csv, scenario.yaml,
    manifest.json and report.html (plus figures/*.png on request), written atomically."""
    from sim.run.explain import contribution_rows, hybrid_rows

    figs = explain_figures(res, lang) if png else {}
    if png:
        from sim.present.report import ensure_image_export

        ensure_image_export()
    with atomic_dir(final) as tmp:
        _write_csv(tmp / "contributions.csv", contribution_rows(res), EXPLAIN_COLUMNS)
        _write_csv(
            tmp / "contributions_by_replication.csv",
            _per_replication_rows(res),
            ["method", "metric", "mechanism", "replication", "value"],
        )
        _write_csv(tmp / "hybrids.csv", hybrid_rows(res), ["model", "switched", "metric", "mean"])
        (tmp / "scenario.yaml").write_text(resolved_yaml, encoding="utf-8")
        snapshot.write(tmp, "explain", res)
        write_waiting_lists(tmp, res)
        (tmp / "manifest.json").write_text(
            json.dumps(with_checksums(meta, tmp), indent=2, sort_keys=True, default=str) + "\n",
            encoding="utf-8",
        )
        write_workbook(tmp, lang)
        (tmp / "report.html").write_text(
            render_explain(res, lang, final.name, warnings=folder_warnings(tmp, lang)),
            encoding="utf-8",
        )
        if png:
            from sim.present.report import export_pngs

            export_pngs(figs, tmp / "figures")
    return final


def _per_replication_rows(res: ExplainResult) -> list[dict[str, Any]]:
    rows = []
    for method in res.methods():
        for metric in res.metrics:
            for c in res.contributions(method, metric):
                for r, v in enumerate(c.per_replication):
                    rows.append(
                        {
                            "method": method,
                            "metric": metric,
                            "mechanism": c.player,
                            "replication": r,
                            "value": v,
                        }
                    )
            for r, v in enumerate(res.total_per_replication[metric]):
                rows.append(
                    {
                        "method": method,
                        "metric": metric,
                        "mechanism": "total",
                        "replication": r,
                        "value": v,
                    }
                )
    return rows


CANDIDATE_COLUMNS = ["stage", "model", "authority_share", "authority_fte", "provider_fte",
                     "replications", "helped_per_year", "helped_ci_low", "helped_ci_high",
                     "p90_wait_weeks", "p90_ci_low", "p90_ci_high", "waiting_at_end",
                     "waiting_allowed", "abandoned_per_year", "limit_ratio",
                     "feasible"]  # fmt: skip


def write_optimise(
    final: Path,
    res: OptimiseResult,
    *,
    resolved_yaml: str,
    meta: dict[str, Any],
    lang: str = "en",
    png: bool = False,
) -> Path:
    """candidates.csv, chosen.csv, scenario.yaml, manifest.json and report.html (plus
    figures/optimise_curve.png on request), written atomically."""
    from sim.run.optimise import candidate_rows, chosen_rows

    if png:
        from sim.present.report import ensure_image_export

        ensure_image_export()
    chosen = chosen_rows(res)
    with atomic_dir(final) as tmp:
        _write_csv(tmp / "candidates.csv", candidate_rows(res), CANDIDATE_COLUMNS)
        _write_csv(tmp / "chosen.csv", chosen, list(chosen[0]) if chosen else ["model"])
        (tmp / "scenario.yaml").write_text(resolved_yaml, encoding="utf-8")
        snapshot.write(tmp, "optimise", res)
        (tmp / "manifest.json").write_text(
            json.dumps(with_checksums(meta, tmp), indent=2, sort_keys=True, default=str) + "\n",
            encoding="utf-8",
        )
        write_workbook(tmp, lang)
        (tmp / "report.html").write_text(
            render_optimise(res, lang, final.name, warnings=folder_warnings(tmp, lang)),
            encoding="utf-8",
        )
        if png:
            from sim.present.report import export_pngs

            export_pngs({"optimise_curve": fig_curve(res, lang)}, tmp / "figures")
    return final


# --------------------------------------------------------------------------- terminal tables


def _fmt_iv(
    mean: float, low: float, high: float, digits: int, sign: bool = False, lang: str = "en"
) -> str:
    """'+1.2 [-0.3, 2.7]' for the terminal, in ``lang``'s number style ('+1,2 [-0,3; 2,7]')."""
    if not math.isfinite(mean):
        return t("num.na", lang)
    m = i18n.fmt_num(mean, lang, digits, sign=sign)
    if not (math.isfinite(low) and math.isfinite(high)) or low == high:
        return m
    lo, hi = i18n.fmt_num(low, lang, digits), i18n.fmt_num(high, lang, digits)
    return f"{m} [{lo}{i18n.list_sep(lang)}{hi}]"


CONSOLE_DIGITS = {"helped_per_year": 1, "time_to_start_median_weeks": 2, "core_task_share": 2,
                  "s85_starts_per_year": 1, "short_course_per_year": 1,
                  "post_goal_hours_per_year": 0}  # fmt: skip
"""Decimals of each metric in the terminal tables (2 when not listed)."""


def explain_tables(res: ExplainResult, lang: str = "en") -> list[Any]:
    """Rich tables of the contributions (one per method), with units and 95 % CIs; metrics and
    mechanisms carry their reader's names (``lang``)."""
    metrics = [m for m in SHOWN_METRICS if m in res.metrics]
    tables = []
    for method in res.methods():
        label = t(f"xp.method_{method}_short", lang)
        if method == "sequential":
            label = t("xp.console_in_order", lang, method=label)
        if method == "shapley" and not res.shapley_exact:
            label = t("xp.method_shapley_sampled", lang, n=res.shapley_orders)
        title = t(
            "xp.console_title",
            lang,
            scenario=res.scenario.name,
            frm=_model(res.from_model, lang),
            to=_model(res.to_model, lang),
            method=label,
            n=res.replications,
        )
        tables.append(_console_table(res, method, metrics, title, lang))
    if all(m in res.metrics for m in BREAKDOWN_METRICS):
        title = t(
            "xp.console_breakdown_title",
            lang,
            scenario=res.scenario.name,
            method=t(f"xp.method_{res.method}_short", lang),
        )
        tables.append(_console_table(res, res.method, BREAKDOWN_METRICS, title, lang))
    return tables


def _console_table(
    res: ExplainResult, method: str, metrics: Sequence[str], title: str, lang: str
) -> Any:
    """One terminal table: a row per mechanism, the total and both models' levels; a column
    per metric with its unit."""
    from rich.table import Table

    frm, to = _model(res.from_model, lang), _model(res.to_model, lang)
    table = Table(title=title, title_justify="left")
    table.add_column(t("xp.col_mechanism", lang))
    for m in metrics:
        unit = i18n.unit_label(diff_unit(m), lang)
        table.add_column(f"{i18n.metric_label(m, lang)}\n({unit})", justify="right")

    def cell(iv: Any, m: str, sign: bool) -> str:
        k = i18n.metric_scale(m)
        digits = CONSOLE_DIGITS.get(m, 2)
        return _fmt_iv(iv.mean * k, iv.low * k, iv.high * k, digits, sign, lang)

    for i, p in enumerate(res.players):
        cs = [res.contributions(method, m)[i] for m in metrics]
        cells = [
            cell(c.interval, m, True) if c.simulated else t("xp.same_setting", lang)
            for c, m in zip(cs, metrics, strict=True)
        ]
        table.add_row(player_label(p.name, lang), *cells)
    cells = [cell(res.total[m], m, True) for m in metrics]
    table.add_row(t("xp.total_bar", lang, to=to, frm=frm), *cells, style="bold")
    for model in (res.from_model, res.to_model):
        cells = [cell(res.endpoints[model][m], m, False) for m in metrics]
        table.add_row(t("xp.level_of", lang, model=_model(model, lang)), *cells, style="dim")
    return table


def optimise_tables(res: OptimiseResult, lang: str = "en") -> list[Any]:
    """Rich tables in ``lang``: the search curve and the named split per model
    (``sim.present.console_optimise``)."""
    from sim.present.console_optimise import optimise_tables as tables

    return tables(res, lang)
