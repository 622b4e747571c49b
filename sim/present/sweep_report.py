"""The sweep report: a self-contained ``report.html`` of a sweep folder, in English or Danish.

Three figures, built from the sweep's tables only:

- a chosen metric against one swept parameter, one line per model with its 95 % CI band (one
  panel per value of the other swept parameters);
- for two swept numeric parameters, a heatmap of the paired difference (each model minus the
  baseline) with the break-even contour (difference 0) and the contours where its 95 % CI reaches
  zero, so the region where the models cannot be told apart is visible;
- citizens helped per million DKK of budget, against the budget when it is swept.

Like the run report, the page opens from ``file://`` with no network: plotly.js is inlined once,
figures are ``<div>``s with ``include_plotlyjs=False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.model import registry
from sim.present import i18n
from sim.present.i18n import t
from sim.present.theme import DIVERGING, INK, band, model_styles, template
from sim.present.warnings import folder_warnings, warnings_html
from sim.present.workbook import workbook_link
from sim.store.reader import SweepResults, load_sweep
from sim.store.results import write_text_atomic

if TYPE_CHECKING:
    import plotly.graph_objects as go

REPORT_NAME = "report.html"
BUDGET_KEY = "budget.annual_dkk"
MAX_FACETS = 12


# --------------------------------------------------------------------------- the tables


# --------------------------------------------------------------------------- labels and scales


def _last_name(key: str) -> str:
    parts = [p for p in key.split(".") if not p.isdigit()]
    return parts[-1] if parts else key


def param_scale(key: str, values: Sequence[Any]) -> tuple[float, str]:
    """(divisor, unit key) to show a swept parameter: budgets in millions, else as stored."""
    name = _last_name(key)
    big = any(isinstance(v, int | float) and abs(v) >= 1e6 for v in values)
    if name.endswith("_dkk") or name.endswith("_dkk_per_year"):
        per_year = name == "annual_dkk" or name.endswith("_per_year")
        if big:
            return 1e6, "million_dkk_per_year" if per_year else "million_dkk"
        return 1.0, "DKK/year" if per_year else "DKK"
    for suffix, unit in (
        ("rate_per_week", ""),  # the label says it: "referrals per week"
        ("_hours_per_week", "hours_per_week"),
        ("_weeks", "weeks"),
        ("_share", "share"),
        ("_probability", "share"),
        ("_fte", "fte"),
        ("_per_year", "per_year"),
        ("_hours", "hours"),
    ):
        if name.endswith(suffix):
            return 1.0, unit
    return 1.0, ""


def param_title(key: str, lang: str, values: Sequence[Any] = (), *, unit: bool = True) -> str:
    """The reader's name of a swept parameter with its unit, e.g. 'annual budget (M DKK/year)'."""
    name = _last_name(key)
    label = i18n.LABELS[i18n.check_lang(lang)].get(f"param.{name}", key)
    unit_key = param_scale(key, values)[1] if unit else ""
    return i18n.axis_title(label, unit_key, lang) if unit_key else label


def _fmt_param(key: str, value: Any, values: Sequence[Any], lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        div, _ = param_scale(key, values)
        return i18n.fmt_exact(value / div, lang)
    return str(value)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _metric_title(metric: str, lang: str) -> str:
    if metric == "helped_per_million":
        return t("sweep.metric.helped_per_million", lang)
    return i18n.metric_label(metric, lang)


def _layout(fig: go.Figure, title: str, subtitle: str, lang: str, height: int) -> None:
    """The theme's template, the title and subtitle, the reader's number style and the height."""
    fig.update_layout(
        template=template(),
        title=dict(text=title, subtitle=dict(text=subtitle)),
        separators=i18n.plotly_separators(lang),
        height=height,
        margin=dict(t=120),
    )


# --------------------------------------------------------------------------- data helpers (pure)


def _stats(res: SweepResults, metric: str, model: str) -> dict[int, tuple[float, float, float]]:
    """Point -> (mean, ci_low, ci_high) of a model's metric, or of a figure the registry derives
    from one (helped per million DKK)."""
    import polars as pl

    def grab(m: str) -> dict[int, tuple[float, float, float]]:
        df = res.summary.filter((pl.col("model") == model) & (pl.col("metric") == m))
        return {
            int(r["point"]): (_f(r["mean"]), _f(r["ci_low"]), _f(r["ci_high"]))
            for r in df.iter_rows(named=True)
        }

    derived = registry.DERIVED.get(metric)
    if derived is None:
        scale = i18n.metric_scale(metric)
        return {p: (a * scale, b * scale, c * scale) for p, (a, b, c) in grab(metric).items()}
    budget = budgets(res, model)
    out = {}
    for p, (mean, lo, hi) in grab(derived.of).items():
        b = budget.get(p, math.nan)
        out[p] = (derived.value(mean, b), derived.value(lo, b), derived.value(hi, b))
    return out


def budgets(res: SweepResults, model: str) -> dict[int, float]:
    """Point -> annual budget (DKK): the swept value, else staff cost + unspent (the budget
    identity holds exactly in every replication)."""
    import polars as pl

    if BUDGET_KEY in res.points.columns:
        return {
            int(r["point"]): float(r[BUDGET_KEY])
            for r in res.points.iter_rows(named=True)
            if r[BUDGET_KEY] is not None
        }
    df = res.summary.filter(
        (pl.col("model") == model)
        & pl.col("metric").is_in(["staff_cost_dkk_per_year", "unspent_dkk_per_year"])
    )
    out: dict[int, float] = {}
    for r in df.iter_rows(named=True):
        out[int(r["point"])] = out.get(int(r["point"]), 0.0) + _f(r["mean"])
    return out


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def _point_values(res: SweepResults) -> dict[int, dict[str, Any]]:
    return {
        int(r["point"]): {k: r[k] for k in res.parameters} for r in res.points.iter_rows(named=True)
    }


def _facets(res: SweepResults, x: str) -> list[dict[str, Any]]:
    """Combinations of the other varying parameters, in point order."""
    others = [p for p in res.varying() if p != x]
    combos: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p, vals in _point_values(res).items():
        del p
        combos.setdefault(tuple(vals[k] for k in others), {k: vals[k] for k in others})
    return list(combos.values()) or [{}]


def _spread(items: list[Any], k: int) -> list[Any]:
    """``k`` items evenly spread over ``items`` (first and last kept)."""
    if len(items) <= k:
        return items
    idx = sorted({round(i * (len(items) - 1) / (k - 1)) for i in range(k)})
    return [items[i] for i in idx]


def crosses_zero(values: Sequence[float]) -> bool:
    """Whether a field has finite values on both sides of zero (so its zero contour exists)."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) < 0 < max(finite)


def difference_grid(
    res: SweepResults, metric: str, x: str, y: str, model: str, baseline: str
) -> dict[str, Any]:
    """The paired difference on the (x, y) grid: axes and mean/low/high matrices (NaN = no point).

    With more than two varying parameters the others are held at their first value.
    """
    import polars as pl

    vals = _point_values(res)
    others = [p for p in res.varying() if p not in (x, y)]
    fixed = {k: next(iter(vals.values()))[k] for k in others} if vals else {}
    keep = {p for p, v in vals.items() if all(v[k] == fixed[k] for k in others)}
    xs = sorted({v[x] for p, v in vals.items() if p in keep and v[x] is not None})
    ys = sorted({v[y] for p, v in vals.items() if p in keep and v[y] is not None})
    nan = math.nan
    mean = [[nan] * len(xs) for _ in ys]
    low = [[nan] * len(xs) for _ in ys]
    high = [[nan] * len(xs) for _ in ys]
    scale = i18n.metric_scale(metric)
    df = res.differences.filter(
        (pl.col("model") == model) & (pl.col("baseline") == baseline) & (pl.col("metric") == metric)
    )
    for r in df.iter_rows(named=True):
        p = int(r["point"])
        if p not in keep:
            continue
        i, j = ys.index(vals[p][y]), xs.index(vals[p][x])
        mean[i][j] = _f(r["mean"]) * scale
        low[i][j] = _f(r["ci_low"]) * scale
        high[i][j] = _f(r["ci_high"]) * scale
    return {"x": xs, "y": ys, "mean": mean, "low": low, "high": high, "fixed": fixed}


# --------------------------------------------------------------------------- figures


def fig_lines(res: SweepResults, metric: str, x: str, lang: str = "en") -> go.Figure:
    """``metric`` against parameter ``x``: a line per model with its 95 % CI band, one panel per
    combination of the other swept parameters."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    vals = _point_values(res)
    all_x = [v[x] for v in vals.values() if v[x] is not None]
    div, _ = param_scale(x, all_x)
    numeric = res.is_numeric(x)
    facets = _facets(res, x)
    shown = _spread(facets, MAX_FACETS)
    cols = 1 if len(shown) == 1 else 2 if len(shown) <= 4 else 3
    rows = math.ceil(len(shown) / cols)
    titles = [
        "; ".join(
            t(
                "sweep.facet",
                lang,
                param=param_title(k, lang, unit=False),
                value=_fmt_param(k, v, [v], lang),
            )
            for k, v in combo.items()
        )
        for combo in shown
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles if any(titles) else None,
        horizontal_spacing=0.07,
        vertical_spacing=0.14 if rows > 1 else 0.1,
    )
    styles = model_styles(res.models)
    for f, combo in enumerate(shown):
        row, col = f // cols + 1, f % cols + 1
        members = [p for p, v in vals.items() if all(v[k] == val for k, val in combo.items())]
        for m in res.models:
            stats = _stats(res, metric, m)
            pts = [p for p in members if p in stats and vals[p][x] is not None]
            if numeric:
                pts.sort(key=lambda p: vals[p][x])
            xs = [vals[p][x] / div if numeric else str(vals[p][x]) for p in pts]
            mean = [stats[p][0] for p in pts]
            lo = [stats[p][1] if math.isfinite(stats[p][1]) else stats[p][0] for p in pts]
            hi = [stats[p][2] if math.isfinite(stats[p][2]) else stats[p][0] for p in pts]
            st = styles[m]
            name = i18n.model_name(m, lang)
            fig.add_trace(
                band(xs, lo, hi, st, m, mode="lines"),
                row=row,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=mean,
                    mode="lines+markers",
                    name=name,
                    legendgroup=m,
                    showlegend=f == 0,
                    line=dict(color=st.colour, dash=st.dash, width=3),
                    marker=dict(symbol=st.symbol, size=9, color=st.colour),
                    customdata=list(zip(lo, hi, strict=True)),
                    hovertemplate=f"<b>{name}</b><br>%{{x}}: %{{y:,.1f}}"
                    f"<br>{t('hover.ci', lang)}: %{{customdata[0]:,.1f}} – "
                    "%{customdata[1]:,.1f}<extra></extra>",
                ),
                row=row,
                col=col,
            )
    subtitle = t("sweep.fig.lines.subtitle", lang, n=res.n_replications)
    if len(shown) < len(facets):
        subtitle += "; " + t("sweep.facets_capped", lang, shown=len(shown), total=len(facets))
    label = _cap(_metric_title(metric, lang))
    derived = registry.DERIVED.get(metric)
    unit = derived.unit if derived else i18n.metric_unit(metric)
    title = t("sweep.fig.lines.title", lang, metric=label, param=param_title(x, lang, unit=False))
    _layout(fig, title, subtitle, lang, height=max(480, 340 * rows + 160))
    # The panels share one value axis, so a difference between panels is one of level, not of
    # scale (noise drawn on a narrow axis looks like structure); every panel keeps its tick
    # labels and names its x-axis, as a panel is often read alone. The value axis is named once.
    ticks = sorted({v / div for v in all_x}) if numeric else None
    fig.update_xaxes(tickvals=ticks if ticks and len(ticks) <= 12 else None)
    fig.update_xaxes(title_text=param_title(x, lang, all_x), showticklabels=True)
    fig.update_yaxes(matches="y", showticklabels=True)
    fig.update_yaxes(title_text=i18n.axis_title(label, unit, lang), row=(rows + 1) // 2, col=1)
    fig.update_annotations(font=dict(size=14))
    return fig


def fig_heatmap(
    res: SweepResults,
    metric: str,
    x: str,
    y: str,
    lang: str = "en",
    model: str | None = None,
) -> go.Figure:
    """Paired difference ``model`` - baseline of ``metric`` on the (x, y) grid, with the
    break-even contour and the contours where the 95 % CI reaches zero (each drawn only where
    its field crosses zero)."""
    import plotly.graph_objects as go

    baseline = res.models[0]
    model = model or (res.models[1] if len(res.models) > 1 else baseline)
    grid = difference_grid(res, metric, x, y, model, baseline)
    xdiv, _ = param_scale(x, grid["x"])
    ydiv, _ = param_scale(y, grid["y"])
    xs = [v / xdiv for v in grid["x"]]
    ys = [v / ydiv for v in grid["y"]]
    mean, low, high = grid["mean"], grid["low"], grid["high"]
    flat = [v for row in mean for v in row if math.isfinite(v)]
    span = max((abs(v) for v in flat), default=1.0) or 1.0
    unit = i18n.metric_unit(metric)
    digits = 0 if span >= 20 else 1

    def cell(v: float) -> str:
        return i18n.fmt_num(v, lang, digits, sign=True) if math.isfinite(v) else ""

    def z(rows: list[list[float]]) -> list[list[float | None]]:
        return [[v if math.isfinite(v) else None for v in row] for row in rows]

    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z(mean),
            zmid=0,
            zmin=-span,
            zmax=span,
            colorscale=DIVERGING,
            customdata=[
                [[lo, hi] for lo, hi in zip(lr, hr, strict=True)]
                for lr, hr in zip(low, high, strict=True)
            ],
            hovertemplate="%{x}, %{y}: %{z:+,.1f}<br>"
            + t("hover.ci", lang)
            + ": %{customdata[0]:+,.1f} – %{customdata[1]:+,.1f}<extra></extra>",
            colorbar=dict(title=dict(text=i18n.unit_label(unit, lang), side="right")),
            showscale=True,
            name="",
        )
    )
    zero_x, zero_y = [], []
    for i, yy in enumerate(ys):
        for j, xx in enumerate(xs):
            if math.isfinite(low[i][j]) and low[i][j] <= 0 <= high[i][j]:
                zero_x.append(xx)
                zero_y.append(yy)
    if zero_x:
        fig.add_trace(
            go.Scatter(
                x=zero_x,
                y=zero_y,
                mode="markers",
                marker=dict(symbol="circle-open", size=34, color=INK, line=dict(width=2)),
                name=t("sweep.legend.ci_zero", lang),
                hoverinfo="skip",
            )
        )
    # Where the CI includes 0, min(-low, high) >= 0: one field whose zero contour is where the
    # CI reaches 0, drawn as a shaded region (closed along the grid's edges) with a dashed edge.
    inside = [
        [min(-lo, hi) if math.isfinite(lo) and math.isfinite(hi) else math.nan
         for lo, hi in zip(lr, hr, strict=True)]
        for lr, hr in zip(low, high, strict=True)
    ]  # fmt: skip
    if crosses_zero([v for row in inside for v in row]):
        fig.add_trace(
            go.Contour(
                x=xs,
                y=ys,
                z=z(inside),
                contours=dict(type="constraint", operation="<", value=0),  # shades f >= 0
                fillcolor="rgba(34,34,34,0.14)",
                line=dict(color=INK, width=2.5, dash="dash", smoothing=0),
                showscale=False,
                hoverinfo="skip",
                name=t("sweep.legend.ci_edge", lang),
            )
        )
    if crosses_zero([v for row in mean for v in row]):
        fig.add_trace(
            go.Contour(
                x=xs,
                y=ys,
                z=z(mean),
                autocontour=False,
                contours=dict(start=0, end=0, size=1, coloring="none", showlabels=False),
                line=dict(color=INK, width=4, smoothing=0),
                showscale=False,
                hoverinfo="skip",
                name=t("sweep.legend.break_even", lang),
            )
        )
    # The cell labels go last, above the break-even region and the open circles, so no shading
    # or marker hides a number.
    cells = [(xx, yy, mean[i][j]) for i, yy in enumerate(ys) for j, xx in enumerate(xs)]
    fig.add_trace(
        go.Scatter(
            x=[c[0] for c in cells],
            y=[c[1] for c in cells],
            text=[cell(c[2]) for c in cells],
            mode="text",
            # white on the darkest colours of the scale, ink elsewhere (as the heatmap's own text)
            textfont=dict(
                size=13,
                color=["white" if abs(c[2]) > 0.6 * span else INK for c in cells],
            ),
            hoverinfo="skip",
            showlegend=False,
            name="",
        )
    )
    diff = t(
        "col.difference",
        lang,
        model=i18n.model_name(model, lang),
        minus=i18n.MINUS,
        baseline=i18n.model_name(baseline, lang),
    )
    label = i18n.metric_label(metric, lang)
    subtitle = t("sweep.fig.heatmap.subtitle", lang, n=res.n_replications)
    if not any(tr.type == "contour" for tr in fig.data) and not zero_x:
        subtitle += "<br>" + t("sweep.fig.heatmap.no_crossing", lang)
    if grid["fixed"]:
        held = "; ".join(
            f"{param_title(k, lang, [v])} = {_fmt_param(k, v, [v], lang)}"
            for k, v in grid["fixed"].items()
        )
        subtitle += "<br>" + t("sweep.fig.heatmap.fixed", lang, values=held)
    _layout(
        fig,
        t("sweep.fig.heatmap.title", lang, difference=diff, metric=label),
        subtitle,
        lang,
        height=640,
    )
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.16, x=0, xanchor="left"),
        margin=dict(b=130, t=150),
    )
    fig.update_xaxes(
        title_text=param_title(x, lang, grid["x"]), tickvals=xs, showgrid=False, zeroline=False
    )
    fig.update_yaxes(
        title_text=param_title(y, lang, grid["y"]), tickvals=ys, showgrid=False, zeroline=False
    )
    return fig


def sweep_figures(
    res: SweepResults, lang: str = "en", metric: str = "helped_per_year"
) -> dict[str, go.Figure]:
    """The report's figures: lines of ``metric``, the heatmap of its paired difference (two or
    more swept numeric parameters) and citizens helped per million DKK."""
    figs: dict[str, go.Figure] = {}
    numeric = res.numeric_varying()
    varying = res.varying()
    if not res.ok_points():
        return figs
    x = numeric[0] if numeric else (varying[0] if varying else None)
    if x is None:
        return figs
    figs["lines"] = fig_lines(res, metric, x, lang)
    if len(numeric) >= 2 and len(res.models) >= 2:
        figs["heatmap"] = fig_heatmap(res, metric, numeric[0], numeric[1], lang)
    per_x = BUDGET_KEY if BUDGET_KEY in numeric else x
    figs["per_million"] = fig_lines(res, "helped_per_million", per_x, lang)
    figs["per_million"].update_layout(
        title=dict(
            text=t("sweep.fig.per_million.title", lang),
            subtitle=dict(text=t("sweep.fig.per_million.subtitle", lang, n=res.n_replications)),
        )
    )
    return figs


# --------------------------------------------------------------------------- the page


def sweep_headline(res: SweepResults, metric: str, lang: str = "en") -> str:
    """The sweep in one computed sentence: how far the paired difference of ``metric`` (second
    model minus the first) ranges over the points, and at how many its 95 % CI lies above zero,
    below zero or includes zero; with one model, the range of its level. "" without results."""
    import polars as pl

    metric = registry.DERIVED[metric].of if metric in registry.DERIVED else metric
    scale = i18n.metric_scale(metric)
    label = i18n.metric_label(metric, lang)
    if len(res.models) < 2:
        stats = list(_stats(res, metric, res.models[0]).values())
        means = [s[0] for s in stats if math.isfinite(s[0])]
        if not means:
            return ""
        d = i18n.auto_digits(max(abs(v) for v in means))
        return t(
            "caution.sweep_headline_single",
            lang,
            n=len(means),
            model=i18n.model_phrase(res.models[0], lang),
            metric=label,
            range=i18n.fmt_range(min(means), max(means), lang, d),
            unit=i18n.unit_label(i18n.metric_unit(metric), lang),
        )
    base, model = res.models[0], res.models[1]
    df = res.differences.filter(
        (pl.col("model") == model) & (pl.col("baseline") == base) & (pl.col("metric") == metric)
    )
    rows = [
        (_f(r["mean"]) * scale, _f(r["ci_low"]) * scale, _f(r["ci_high"]) * scale)
        for r in df.iter_rows(named=True)
        if math.isfinite(_f(r["mean"]))
    ]
    if not rows:
        return ""
    means = [m for m, _, _ in rows]
    above = sum(1 for _, lo, _ in rows if math.isfinite(lo) and lo > 0)
    below = sum(1 for _, _, hi in rows if math.isfinite(hi) and hi < 0)
    d = i18n.auto_digits(max(abs(v) for v in means))
    return t(
        "caution.sweep_headline",
        lang,
        n=len(rows),
        model=i18n.model_phrase(model, lang),
        baseline=i18n.model_phrase(base, lang),
        metric=label,
        lo=i18n.fmt_num(min(means), lang, d, sign=True),
        hi=i18n.fmt_num(max(means), lang, d, sign=True),
        unit=i18n.unit_label(_diff_unit(metric), lang),
        above=above,
        below=below,
        unclear=len(rows) - above - below,
    )


def _diff_unit(metric: str) -> str:
    """Unit key of a difference in ``metric``: percentage points for a share."""
    unit = i18n.metric_unit(metric)
    return "percentage_points" if unit == "percent" else unit


def _points_table(res: SweepResults, metric: str, lang: str) -> str:
    import polars as pl

    from sim.present.page import esc

    params = res.parameters
    # the unit a column states is the unit its cells are shown in (budgets in millions)
    head = [t("sweep.col.point", lang)]
    head += [param_title(k, lang, res.points[k].to_list()) for k in params]
    unit = i18n.unit_label(i18n.metric_unit(metric), lang)
    head += [f"{i18n.model_name(m, lang)} ({unit})" for m in res.models]
    base = res.models[0]
    diff_unit = i18n.unit_label(_diff_unit(metric), lang)
    for m in res.models[1:]:
        name = t(
            "col.difference",
            lang,
            model=i18n.model_name(m, lang),
            minus=i18n.MINUS,
            baseline=i18n.model_name(base, lang),
        )
        head.append(f"{name} ({diff_unit})")
    head.append(t("sweep.col.status", lang))
    stats = {m: _stats(res, metric, m) for m in res.models}
    diffs: dict[str, dict[int, tuple[float, float, float]]] = {}
    scale = i18n.metric_scale(metric)
    for m in res.models[1:]:
        df = res.differences.filter(
            (pl.col("model") == m) & (pl.col("baseline") == base) & (pl.col("metric") == metric)
        )
        diffs[m] = {
            int(r["point"]): (
                _f(r["mean"]) * scale,
                _f(r["ci_low"]) * scale,
                _f(r["ci_high"]) * scale,
            )
            for r in df.iter_rows(named=True)
        }
    rows = []
    for r in res.points.iter_rows(named=True):
        p = int(r["point"])
        cells = [f'<td class="num">{p}</td>']
        for k in params:
            col = res.points[k].to_list()
            cells.append(f'<td class="num">{esc(_fmt_param(k, r[k], col, lang))}</td>')
        for m in res.models:
            s = stats[m].get(p)
            cells.append(f'<td class="num">{esc(i18n.fmt_ci(*s, lang)) if s else ""}</td>')
        for m in res.models[1:]:
            d = diffs[m].get(p)
            text = i18n.fmt_ci(*d, lang, sign=True) if d else ""
            cells.append(f'<td class="num">{esc(text)}</td>')
        cells.append(f"<td>{esc(t('sweep.status.' + str(r['status']), lang))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head_html = "".join(f"<th>{esc(h)}</th>" for h in head)
    return (
        f'<table class="kpi"><thead><tr>{head_html}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_sweep_report(
    res: SweepResults,
    lang: str = "en",
    metric: str = "helped_per_year",
    figs: dict[str, go.Figure] | None = None,
) -> str:
    """The HTML text of a sweep's report."""
    import polars as pl

    from sim.present.page import esc, figure_html, footer, page

    i18n.check_lang(lang)
    figs = figs if figs is not None else sweep_figures(res, lang, metric)
    man = res.manifest
    total = res.points.height
    failed = res.points.filter(pl.col("status") == "failed")
    missing = res.points.filter(pl.col("status") == "missing").height
    if missing:
        status = t("sweep.status.incomplete", lang, missing=missing, total=total)
    elif failed.height:
        status = t("sweep.status.failures", lang, failed=failed.height, total=total)
    else:
        status = t("sweep.status.complete", lang)
    label = _metric_title(metric, lang)
    title = t("sweep.title", lang, name=man.get("sweep", ""), metric=label, n=total)
    parts = [f"<h1>{esc(title)}</h1>"]
    subtitle = t(
        "sweep.subtitle",
        lang,
        run=man.get("run_id", res.folder.name),
        created=man.get("created", ""),
        reps=res.n_replications,
        status=status,
    )
    parts.append(f'<p class="meta">{esc(subtitle)}</p>')
    parts.append(f"<p>{esc(t('sweep.intro', lang))}</p>")
    short = sweep_headline(res, metric, lang)
    if short:
        parts.append(f'<h2 id="headline">{esc(t("report.headline", lang))}</h2>')
        parts.append(f'<p class="headline">{esc(short)}</p>')
    parts.append(warnings_html(folder_warnings(res.folder, lang), lang))
    parts.append(f"<h2>{esc(t('report.figures', lang))}</h2>")
    if "heatmap" not in figs:
        parts.append(f"<p>{esc(t('sweep.no_heatmap', lang))}</p>")
    parts += [figure_html(fig, name) for name, fig in figs.items()]
    parts.append(f"<h2>{esc(t('sweep.points', lang))}</h2>")
    note = t(
        "sweep.points_note",
        lang,
        folder=f"<code>{esc(res.folder.name)}/points/&lt;point_id&gt;/scenario.yaml</code>",
        command="<code>sim run</code>",
    )
    parts.append(f"<p>{note}</p>")
    parts.append(_points_table(res, metric, lang))
    if failed.height:
        parts.append(f"<h2>{esc(t('sweep.failed', lang))}</h2><ul>")
        for r in failed.iter_rows(named=True):
            parts.append(f"<li><b>{r['point']}</b> ({esc(r['point_id'])}): {esc(r['error'])}</li>")
        parts.append("</ul>")
    version = (man.get("versions") or {}).get("sim", "")
    parts.append(workbook_link(lang))
    parts.append(footer(lang, version, f"<code>{esc(res.folder.name)}</code>"))
    return page(title, "\n".join(parts), lang)


def write_sweep_report(folder: Path, lang: str = "en", metric: str = "helped_per_year") -> Path:
    """Write ``folder/report.html`` (to a temporary name, then renamed)."""
    folder = Path(folder)
    res = load_sweep(folder)
    return write_text_atomic(folder / REPORT_NAME, render_sweep_report(res, lang, metric))
