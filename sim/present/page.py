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


CSS = """
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
@media print { html { font-size: 12pt; } main { max-width: none; padding: 0; } }
"""


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
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
