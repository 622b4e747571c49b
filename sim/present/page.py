"""The one page shell of every HTML report (run, compare, sweep, explain, optimise).

A report is one self-contained file: the styles and plotly.js are inlined once in the head, so it
opens offline and nothing is fetched from the network. The reports supply only their content; the
head, the styles, the figure wrapper and the footer naming the results folder live here, so the
pages cannot drift apart.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from sim.present.i18n import t

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


SCREEN_CSS = """
:root { --ink: #222; --muted: #555; --rule: #d4d4d4; --accent: #1b3a6b; --warn: #e69f00; }
* { box-sizing: border-box; }
html { font-size: 19px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: "Segoe UI", "Helvetica Neue", Helvetica, Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 1.2rem 2rem 4rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: .6rem 0 .2rem; }
h2 { font-size: 1.5rem; margin: 2.4rem 0 .8rem; padding-bottom: .2rem;
  border-bottom: 3px solid var(--accent); }
h3 { font-size: 1.15rem; margin: 1.4rem 0 .4rem; }
p { max-width: 60rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.headline { font-size: 1.4rem; line-height: 1.45; background: #f1f4f9; margin: 1rem 0;
  border-left: 8px solid var(--accent); padding: 1rem 1.3rem; max-width: none; }
.warn { background: #fff5dd; border-left: 8px solid var(--warn); padding: .7rem 1.1rem;
  margin: .6rem 0; }
nav ol { columns: 2; padding-left: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1.2rem;
  font-variant-numeric: tabular-nums; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem;
  border-bottom: 1px solid var(--rule); }
thead th { border-bottom: 2px solid var(--ink); background: #fff; }
thead th.run { text-align: center; border-bottom: 1px solid var(--rule); }
table.compare td:first-child { min-width: 14rem; }
.scroll { overflow-x: auto; }
table.runs { font-size: .9rem; }
tbody tr:nth-child(even) td { background: #f8f8f8; }
table.kpi { font-size: 1.05rem; }
table.params, table.kv { font-size: .85rem; }
table.kv th { width: 28%; font-weight: 600; }
.num { text-align: right; white-space: nowrap; }
th.num { white-space: normal; }
.ci { color: var(--muted); font-size: .85em; font-weight: normal; }
tr.differs td { background: #fff5dd !important; }
.mark { font-weight: 600; white-space: nowrap; }
code { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: .88em;
  background: #f1f1f1; padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
figure { margin: 1.6rem 0 2.4rem; break-inside: avoid; }
figure .plotly-graph-div { width: 100%; }
details > summary { cursor: pointer; font-weight: 600; font-size: 1.1rem; margin: 1rem 0; }
footer { color: var(--muted); font-size: .85rem; margin-top: 3rem; }
.print-only { display: none; }
"""


PRINT_WIDTH_PX = 703
"""Width of the printed text column in CSS pixels: A4 (210 mm) less 12 mm margins each side
(186 mm at 96 px per inch)."""

PRINT_HEIGHT_PX = 1005
"""Height of the printed page area in CSS pixels: A4 (297 mm) less 15 mm and 16 mm margins."""

PRINT_ZOOM = 0.8
"""Figures print at this scale: drawn at ``PRINT_FIGURE_PX`` wide (their labels laid out for that
width) and shrunk to the column, so their type prints at ~10 pt and a page holds two of them."""

SUMMARY_ZOOM = 0.7
"""The summary's forest chart prints a little smaller than other figures (type ~9 pt), so that a
run with four warnings still keeps the summary on one page."""

PRINT_FIGURE_PX = round(PRINT_WIDTH_PX / PRINT_ZOOM)
"""Width at which figures are drawn for print (``PRINT_JS``; ``sim report --pdf`` opens the page
at this width), so a chart is never cut at the page edge nor squeezed until its labels collide."""

PRINT_CSS = """
@page { size: A4; margin: 15mm 12mm 16mm 12mm; }
.summary { margin: 0 0 1rem; }
.summary h2 { margin-top: 1rem; }
.summary table.kpi { font-size: .95rem; }
.summary ul.carrying { margin: .3rem 0; padding-left: 1.2rem; }
.summary ul.carrying li { margin: .15rem 0; }
@media print {
  html { font-size: 9.5pt; }
  body { line-height: 1.35; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  .modebar-container, .modebar, nav, details, #all-metrics { display: none !important; }
  h1 { font-size: 1.55rem; margin-top: 0; }
  h2 { font-size: 1.25rem; margin: 1.2rem 0 .5rem; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  p, li { orphans: 3; widows: 3; }
  .headline { font-size: 1.1rem; padding: .5rem .8rem; margin: .5rem 0; }
  .warn { padding: .35rem .7rem; margin: .3rem 0; }
  figure { margin: .4rem 0 .8rem; break-inside: avoid; page-break-inside: avoid;
    zoom: ZOOM; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; margin: .3rem 0 .8rem; }
  table.kpi { font-size: 8.5pt; }
  th, td { padding: .2rem .35rem; }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  table.compare td:first-child { min-width: 0; }
  /* the key in the scenario file is for the screen (to copy); on paper the label names it */
  table.params th:nth-child(2), table.params td:nth-child(2) { display: none; }
  code { font-size: .85em; background: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .summary { break-after: page; page-break-after: always; margin: 0; }
  .summary h2 { margin-top: .6rem; }
  .summary .headline { font-size: .95rem; line-height: 1.3; padding: .35rem .7rem; }
  .summary h3 { margin: .5rem 0 .2rem; }
  .summary .warn { font-size: .8rem; line-height: 1.25; padding: .2rem .5rem; margin: .15rem 0; }
  .summary table.kpi { font-size: 8.5pt; }
  .summary figure { margin: .2rem 0; zoom: SUMMARY_ZOOM; }
  .summary ul.carrying, .summary ul.carrying + p { font-size: 8pt; margin: .2rem 0; }
  footer { margin-top: 1rem; }
  /* long reference tables: on paper the values, on screen (and in tables.xlsx) the rest; a
     .print-only note says so where they stand */
  .print-only { display: block; color: var(--muted); font-style: italic; }
  .screen-only { display: none; }
  table.params:not(.mechanisms) th:nth-child(5), table.params:not(.mechanisms) td:nth-child(5) {
    display: none; }
  table.mechanisms tbody tr:not(.differs):not(.model-desc) { display: none; }
}
""".replace("SUMMARY_ZOOM", str(SUMMARY_ZOOM)).replace("ZOOM", str(PRINT_ZOOM))
"""Rules for paper (A4): no chart toolbars, no navigation, no page break inside a figure or a
table row, smaller type, and the one-page summary alone on the first page."""

PRINT_JS = (
    "(function(){var W=WIDTH,saved=[];"
    "function each(f){document.querySelectorAll('.js-plotly-plot').forEach(f);}"
    "function before(){if(saved.length||!window.Plotly)return;each(function(gd){"
    "saved.push([gd,gd.layout.width,gd.layout.autosize]);"
    "if(gd._fullLayout.width!==W)Plotly.relayout(gd,{width:W,autosize:false});});}"
    "function after(){saved.forEach(function(s){Plotly.relayout(s[0],"
    "{width:s[1]||null,autosize:s[2]!==false});});saved=[];}"
    "window.addEventListener('beforeprint',before);window.addEventListener('afterprint',after);"
    "var mq=window.matchMedia&&window.matchMedia('print');"
    "if(mq&&mq.addEventListener)mq.addEventListener('change',function(e){e.matches?before():after();});"
    "})();"
).replace("WIDTH", str(PRINT_FIGURE_PX))
"""A browser's own "Print" lays the page out at paper width but does not redraw the charts:
this redraws every chart at ``PRINT_FIGURE_PX`` before printing, and restores it after
(``sim report --pdf`` opens the page at that width, so needs none)."""

CSS = SCREEN_CSS + PRINT_CSS


def esc(text: Any) -> str:
    """Text made safe to stand in HTML (attributes too)."""
    return html.escape(str(text), quote=True)


def figure_html(fig: go.Figure, name: str) -> str:
    """A figure as a ``<figure>`` holding a plotly ``<div>`` (plotly.js comes from the head)."""
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{int(fig.layout.height or 520)}px",
        div_id=f"fig-{name}",
    )
    return f'<figure id="figure-{esc(name)}">{body}</figure>'


def footer(lang: str, version: Any, folders: str) -> str:
    """The footer: which sim made the page from which results folder(s) (``folders`` is HTML)."""
    return (
        "<footer>" + t("report.generated", lang, version=esc(version), folder=folders) + "</footer>"
    )


def page(title: str, body: str, lang: str) -> str:
    """A whole page with plotly.js inlined once, in the head; nothing fetched from the network."""
    from plotly.offline import get_plotlyjs

    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n"
        f'<script id="plotlyjs" type="text/javascript">{get_plotlyjs()}</script>\n'
        f"</head>\n<body>\n<main>\n{body}\n</main>\n"
        f'<script id="print-charts">{PRINT_JS}</script>\n</body>\n</html>\n'
    )
