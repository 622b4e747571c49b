"""The one look of every figure (run, compare, sweep, explain, optimise): fonts, colours, layout.

Every model keeps one style in every figure (colour, marker symbol, line dash), chosen so the models
stay apart in grey print and for colour-blind readers: the colours differ in lightness, and symbols
and dashes differ too. The plotly template holds the layout defaults, so a figure module sets only
what is its own (title, axes' titles, height).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = "Segoe UI, Helvetica Neue, Helvetica, Arial, sans-serif"
INK = "#222222"


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Style:
    """How one model is drawn everywhere."""

    colour: str
    symbol: str
    dash: str
    pattern: str
    text_colour: str

    def rgba(self, alpha: float) -> str:
        """The colour with transparency ``alpha`` (for bands)."""
        h = self.colour.lstrip("#")
        r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
        return f"rgba({r},{g},{b},{alpha})"


# Okabe-Ito based; ordered so the first three differ most in lightness (grey: ~25 %, ~70 %, ~50 %).
STYLES: tuple[Style, ...] = (
    Style("#1b3a6b", "circle", "solid", "", "#ffffff"),
    Style("#e69f00", "diamond", "dash", "/", INK),
    Style("#009e73", "square", "dot", "x", "#ffffff"),
    Style("#cc79a7", "triangle-up", "dashdot", ".", INK),
    Style("#56b4e9", "x", "longdash", "-", INK),
    Style("#7f3c00", "star", "longdashdot", "+", "#ffffff"),
)

CATEGORY_COLOURS: dict[str, tuple[str, str, str]] = {
    # category: (colour, pattern, text colour); lightness falls from support to idle
    "support": ("#1b3a6b", "", "#ffffff"),
    "meetings": ("#3f7fbf", "", "#ffffff"),
    "casework": ("#e69f00", "", INK),
    "documentation": ("#f3d98b", ".", INK),
    "idle": ("#e8e8e8", "/", INK),
}


def model_styles(models: Sequence[str]) -> dict[str, Style]:
    """One style per model: ``classic`` and ``joint`` always get the first two, others follow."""
    out: dict[str, Style] = {}
    fixed = {"classic": 0, "joint": 1}
    free = [i for i in range(len(STYLES)) if i not in fixed.values()]
    k = 0
    for m in models:
        if m in fixed:
            out[m] = STYLES[fixed[m]]
        else:
            out[m] = STYLES[free[k % len(free)]]
            k += 1
    return out


UP, DOWN, TOTAL = STYLES[0].colour, STYLES[1].colour, "#6b6b6b"
"""Waterfall colours: a rise, a fall (they differ in lightness too) and the total."""
LIMIT = "#b00020"
"""A limit drawn across a figure (the waiting-time limit of the optimiser)."""
DIVERGING = "PuOr"
"""Heatmaps of differences: purple-orange, readable for colour-blind readers and distinct from the
model colours."""
AXIS_LINE, GRID, ZERO_LINE = "#555555", "#e3e3e3", "#999999"


def template() -> go.layout.Template:
    """The one plotly template of every figure: font, title, axes, legend, hover, margins."""
    import plotly.graph_objects as go

    axis = dict(
        showline=True,
        linecolor=AXIS_LINE,
        ticks="outside",
        tickcolor=AXIS_LINE,
        gridcolor=GRID,
        zerolinecolor=ZERO_LINE,
        exponentformat="none",
        automargin=True,
        title=dict(standoff=12),
    )
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT, size=16, color=INK),
            title=dict(
                font=dict(size=22),
                x=0,
                xanchor="left",
                pad=dict(l=14),
                subtitle=dict(font=dict(size=14)),
            ),
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis=axis,
            hoverlabel=dict(font=dict(size=15, family=FONT)),
            legend=dict(font=dict(size=15)),
            margin=dict(l=80, r=30, t=110, b=70),
        )
    )


def band(
    xs: Sequence[Any], low: Sequence[float], high: Sequence[float], style: Style, group: str,
    alpha: float = 0.18, **extra: Any,
) -> go.Scatter:  # fmt: skip
    """A shaded band from ``low`` to ``high`` (an interval across x) in a model's colour; it has
    no legend entry or hover of its own (its line, drawn next, has them)."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=[*xs, *xs[::-1]],
        y=[*high, *low[::-1]],
        fill="toself",
        fillcolor=style.rgba(alpha),
        line=dict(width=0),
        hoverinfo="skip",
        showlegend=False,
        legendgroup=group,
        **extra,
    )
