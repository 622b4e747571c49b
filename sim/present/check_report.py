"""The results folder and report page of ``sim check`` (da/en): observed beside simulated.

One table (``check.csv``: each figure observed, the simulated mean and 95 % band, inside or not),
one weekly series (``check_timeseries.csv``: citizens in support and on the waiting list, observed
and simulated), the manifest, and ``report.<lang>.html`` in the one page shell with the overlaid
series. The verdict and the warnings stand at the top of the page, as on the console.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.present.i18n import fmt_num, fmt_range, t
from sim.present.page import esc, figure_html, footer, page
from sim.present.theme import INK, band, model_styles, template
from sim.store.integrity import with_checksums
from sim.store.results import _write_csv, atomic_dir

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from sim.run.casefigures import CheckRow
    from sim.run.check import CheckResult

CHECK_COLUMNS = [
    "figure",
    "span",
    "unit",
    "observed",
    "simulated_mean",
    "band_low",
    "band_high",
    "inside",
]


def check_table(res: CheckResult) -> list[dict[str, Any]]:
    """The rows of check.csv (``inside`` empty when a side has no value)."""
    return [
        {
            "figure": r.figure,
            "span": r.span,
            "unit": r.unit,
            "observed": r.observed,
            "simulated_mean": r.simulated_mean,
            "band_low": r.band_low,
            "band_high": r.band_high,
            "inside": None if r.inside is None else str(r.inside).lower(),
        }
        for r in res.rows
    ]


def verdict(res: CheckResult, lang: str) -> str:
    """One sentence: does the baseline reproduce the export?"""
    k = len(res.judged)
    key = "check.verdict_pass" if res.passes else "check.verdict_fail"
    return t(key, lang, inside=k - res.outside, outside=res.outside, k=k, allowed=res.allowed)


def warning_lines(res: CheckResult, lang: str) -> list[str]:
    return [t(f"check_warn.{key}", lang, **values) for key, values in res.warnings]


def span_label(span: str, lang: str) -> str:
    if span in ("period", "end"):
        return t(f"check.{span}", lang)
    return span.replace("..", " – ")


def inside_label(row: CheckRow, lang: str) -> str:
    if row.inside is None:
        return t("check.inside_na", lang)
    return t("check.inside_yes" if row.inside else "check.inside_no", lang)


def _table_html(res: CheckResult, lang: str) -> str:
    num = ("observed", "simulated", "band")
    head = "".join(
        ('<th class="num">' if c in num else "<th>") + esc(t(f"check.col_{c}", lang)) + "</th>"
        for c in ("figure", "span", "unit", "observed", "simulated", "band", "inside")
    )
    rows = []
    for r in res.rows:
        cls = ' class="differs"' if r.inside is False else ""
        rows.append(
            f"<tr{cls}><td>{esc(t(f'check.figure.{r.figure}', lang))}</td>"
            f"<td>{esc(span_label(r.span, lang))}</td>"
            f"<td>{esc(t(f'check.unit.{r.unit}', lang))}</td>"
            f'<td class="num">{esc(fmt_num(r.observed, lang))}</td>'
            f'<td class="num">{esc(fmt_num(r.simulated_mean, lang))}</td>'
            f'<td class="num">{esc(_band(r, lang))}</td>'
            f'<td class="mark">{esc(inside_label(r, lang))}</td></tr>'
        )
    return (
        f'<div class="scroll"><table class="compare"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _band(r: CheckRow, lang: str) -> str:
    if r.inside is None and math.isnan(r.band_low):
        return t("check.inside_na", lang)
    return fmt_range(r.band_low, r.band_high, lang)


def series_figure(res: CheckResult, name: str, lang: str) -> go.Figure:
    """Observed weekly line over the simulated mean and 95 % band."""
    import plotly.graph_objects as go

    s, style = res.series, model_styles([res.model])[res.model]
    xs = [d.isoformat() for d in s["date"]]
    fig = go.Figure()
    fig.add_trace(band(xs, s[f"{name}_low"], s[f"{name}_high"], style, "sim"))
    fig.add_trace(
        go.Scatter(x=xs, y=s[f"{name}_mean"], name=t("check.simulated", lang), mode="lines",
                   line=dict(color=style.colour, dash=style.dash), legendgroup="sim")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=xs, y=s[f"{name}_observed"], name=t("check.observed", lang), mode="lines",
                   line=dict(color=INK, width=3))
    )  # fmt: skip
    title = t("check.fig_support" if name == "in_support" else "check.fig_waiting", lang)
    fig.update_layout(
        template=template(),
        title=dict(text=title, subtitle=dict(text=t("check.band", lang))),
        xaxis_title=t("check.axis_date", lang),
        yaxis_title=t("check.axis_citizens", lang),
        yaxis_rangemode="tozero",
        height=480,
    )
    return fig


def render_check(res: CheckResult, lang: str, folder: str, cases_name: str) -> str:
    """The whole page: title, verdict, warnings, table, series, how it works."""
    tl = res.timeline
    title = t("check.title", lang, model=res.model, scenario=res.scenario, cases=cases_name)
    sub = t("check.subtitle", lang, start=tl.start.isoformat(), as_of=tl.as_of.isoformat(),
            n=res.observed_cases, reps=res.replications)  # fmt: skip
    warns = "".join(f'<p class="warn">{esc(w)}</p>' for w in warning_lines(res, lang))
    body = (
        f'<h1>{esc(title)}</h1><p class="meta">{esc(sub)}</p>'
        f'<p class="headline">{esc(verdict(res, lang))}</p>{warns}'
        f"<h2>{esc(t('check.table', lang))}</h2>"
        f"<p>{esc(t('check.table_note', lang, reps=res.replications))}</p>"
        f"{_table_html(res, lang)}<h2>{esc(t('check.series', lang))}</h2>"
        + "".join(figure_html(series_figure(res, n, lang), n) for n in ("in_support", "waiting"))
        + f"<h2>{esc(t('check.how', lang))}</h2>"
        + f"<p>{esc(t('check.how_text', lang, day0=tl.day0.isoformat()))}</p>"
        + footer(lang, __version__, f"<code>{esc(folder)}</code>")
    )
    return page(title, body, lang)


def write_check(
    final: Path,
    res: CheckResult,
    *,
    meta: dict[str, Any],
    resolved_yaml: str,
    cases_name: str,
    lang: str,
    report: bool = True,
) -> Path:
    """check.csv, check_timeseries.csv, scenario.yaml, manifest.json and report.<lang>.html,
    written whole or not at all."""
    series = res.series
    names = list(series)
    ts_rows = [{n: series[n][i] for n in names} for i in range(len(series["date"]))]
    with atomic_dir(final) as tmp:
        _write_csv(tmp / "check.csv", check_table(res), CHECK_COLUMNS)
        _write_csv(tmp / "check_timeseries.csv", ts_rows, names)
        (tmp / "scenario.yaml").write_text(resolved_yaml, encoding="utf-8")
        (tmp / "manifest.json").write_text(
            json.dumps(with_checksums(meta, tmp), indent=2, sort_keys=True, default=str) + "\n",
            encoding="utf-8",
        )
        if report:
            html = render_check(res, lang, final.name, cases_name)
            (tmp / f"report.{lang}.html").write_text(html, encoding="utf-8")
    return final
