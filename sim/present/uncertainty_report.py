"""The report of an uncertainty folder: how sure the answer is, what decides it, where it flips.

Its first screen (the "In short" box) answers the three questions a budget officer asks: how
likely the compared model helps more citizens for the same money given what we do not know, which
assumptions decide it (the top of the tornado, each marked sourced or assumed), and at which values
the answer flips (the thresholds). Below: the tornado, the histogram of the difference across the
parameter sets, the global sensitivity table (method and sample size named), the thresholds and the
inputs with their ranges and sources. Every number comes from ``sim.store.uncertainty_tables``'s
``analyse``, the same function that wrote the folder's tables.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.present import i18n
from sim.present.i18n import t
from sim.present.page import esc, figure_html, footer, page
from sim.run import uncertainty_stats as us
from sim.store.uncertainty_tables import (
    ModelAnalysis,
    UncertaintyRun,
    analyse,
    load_uncertainty,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

TOP = 3
"""How many inputs the first screen names."""


# --------------------------------------------------------------------------- words


def input_label(path: str, lang: str) -> str:
    """A human name for a dotted input path (the scenario's parameter labels), plain text."""
    parts = [t(f"param.{p}", lang) if i18n.has(f"param.{p}", lang) else p for p in path.split(".")]
    return " › ".join(parts)


def _pct(p: float, lang: str) -> str:
    return f"{i18n.fmt_num(100 * p, lang, 0)} %" if math.isfinite(p) else "–"


def _num(x: float, lang: str, sign: bool = False) -> str:
    return i18n.fmt_num(x, lang, i18n.auto_digits(x), sign=sign) if math.isfinite(x) else "–"


def kind_of(run: UncertaintyRun, path: str, lang: str) -> str:
    """'sourced' or 'an assumption' for an input, from the manifest's provenance."""
    info = run.input_info(path)
    return t("unc.sourced" if info.get("source") else "unc.assumed", lang)


def _names(run: UncertaintyRun, model: str, lang: str) -> dict[str, str]:
    return dict(
        model=i18n.model_phrase(model, lang), baseline=i18n.model_phrase(run.baseline, lang)
    )


def probability_sentences(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> list[str]:
    """How likely the model helps more, and the range of the difference."""
    if not ma.probabilities or ma.distribution is None:
        return [t("unc.no_samples", lang)]
    ci = t("num.ci", lang)
    p0 = ma.probabilities[0]
    out = [
        t("unc.probability", lang, p=_pct(p0.p, lang), ci=ci, lo=_pct(p0.low, lang),
          hi=_pct(p0.high, lang), **_names(run, ma.model, lang))
    ]  # fmt: skip
    for p in ma.probabilities[1:]:
        out.append(
            t("unc.probability_threshold", lang, threshold=_num(p.threshold, lang),
              p=_pct(p.p, lang), ci=ci, lo=_pct(p.low, lang), hi=_pct(p.high, lang))
        )  # fmt: skip
    d = ma.distribution
    out.append(
        t("unc.range", lang, mean=_num(d.mean, lang, True), lo=_num(d.low, lang, True),
          hi=_num(d.high, lang, True), ci=ci, mlo=_num(d.mean_low, lang, True),
          mhi=_num(d.mean_high, lang, True), share=_pct(d.param_share, lang))
    )  # fmt: skip
    return out


def decides_sentence(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> str:
    """The top inputs of the tornado, with the difference at their low and high values."""
    items = []
    for tb in ma.bars[:TOP]:
        if tb.bar.swing == 0:
            continue
        items.append(
            t("unc.decides_item", lang, input=input_label(tb.bar.input, lang),
              **{"from": _num(ma.base_difference + tb.bar.low.mean, lang, True)},
              to=_num(ma.base_difference + tb.bar.high.mean, lang, True),
              kind=kind_of(run, tb.bar.input, lang))
        )  # fmt: skip
    return t("unc.decides", lang, items="; ".join(items)) if items else ""


def _flip_item(run: UncertaintyRun, ma: ModelAnalysis, th: us.Threshold, lang: str) -> str:
    name = input_label(th.input, lang)
    rng = run.input_info(th.input).get("range") or {}
    lo = float(rng.get("low", th.points[0].x if th.points else math.nan))
    hi = float(rng.get("high", th.points[-1].x if th.points else math.nan))
    model = i18n.model_phrase(ma.model, lang)
    if th.status == "found":
        below_positive = bool(th.points) and th.points[0].diff.mean > 0
        key = "unc.flip_below" if below_positive else "unc.flip_above"
        return t(key, lang, model=model, input=name, value=_num(th.value, lang),
                 ci=t("num.ci", lang), lo=_num(th.low, lang), hi=_num(th.high, lang))  # fmt: skip
    if th.status == "never":
        word = t("unc.more" if th.sign > 0 else "unc.fewer", lang)
        return t("unc.never", lang, input=name, low=_num(lo, lang), high=_num(hi, lang),
                 model=model, more_or_fewer=word)  # fmt: skip
    return t("unc.unclear", lang, input=name, low=_num(lo, lang), high=_num(hi, lang))


def flips_sentence(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> str:
    """Where the answer flips (or that it does not within the ranges searched)."""
    items = [_flip_item(run, ma, th, lang) for th, _ in ma.thresholds]
    if not items:
        return ""
    if not any(th.status == "found" for th, _ in ma.thresholds):
        return t("unc.flips", lang, items="; ".join(items)) + " " + t("unc.no_flip", lang)
    return t("unc.flips", lang, items="; ".join(items))


def warnings_of(run: UncertaintyRun, analyses: list[ModelAnalysis], lang: str) -> list[str]:
    """Few sets, few replications, a Sobol request that fell back to PRCC."""
    out = []
    first = analyses[0] if analyses else None
    if first and first.probabilities:
        n, r = first.probabilities[0].n_sets, first.probabilities[0].n_reps
        if n < us.FEW_SETS:
            out.append(t("unc.few_sets", lang, n=n, step=_pct(1 / n, lang)))
        if r < us.FEW_REPS:
            out.append(t("unc.few_reps", lang, n=r))
    if first and first.sensitivity and first.sensitivity.note == "sobol_too_small":
        out.append(t("unc.sobol_fallback", lang))
    if first and first.sensitivity and first.sensitivity.note == "prcc_too_few":
        k = len(run.inputs)
        out.append(t("unc.prcc_too_few", lang, n=first.sensitivity.n, k=k, need=k + 3))
    return out


# --------------------------------------------------------------------------- figures


def _layout(fig: go.Figure, title: str, lang: str, height: int) -> None:
    from sim.present.theme import template

    fig.update_layout(
        template=template(), title=dict(text=title), height=height,
        separators=i18n.plotly_separators(lang),
    )  # fmt: skip


def fig_tornado(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> go.Figure:
    """Horizontal bars from the base difference to the difference at each input's low and high."""
    import plotly.graph_objects as go

    from sim.present.theme import STYLES

    bars = list(reversed(ma.bars))
    labels = [input_label(tb.bar.input, lang) for tb in bars]
    fig = go.Figure()
    for side, style, name in (
        ("low", STYLES[2], "unc.low_value"),
        ("high", STYLES[1], "unc.high_value"),
    ):
        ivs = [getattr(tb.bar, side) for tb in bars]
        fig.add_trace(
            go.Bar(
                y=labels, x=[iv.mean for iv in ivs], base=ma.base_difference, orientation="h",
                name=t(name, lang), marker=dict(color=style.colour, pattern_shape=style.pattern),
                error_x=dict(type="data", symmetric=False,
                             array=[iv.high - iv.mean for iv in ivs],
                             arrayminus=[iv.mean - iv.low for iv in ivs]),
            )
        )  # fmt: skip
    fig.update_layout(barmode="overlay", xaxis_title=t("unc.tornado_axis", lang))
    _layout(fig, t("unc.tornado_title", lang, **_names(run, ma.model, lang)), lang,
            max(360, 140 + 60 * len(bars)))  # fmt: skip
    return fig


def fig_histogram(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> go.Figure:
    """Counts of parameter sets by their mean difference, with zero marked."""
    import plotly.graph_objects as go

    from sim.present.theme import LIMIT, STYLES

    d = ma.distribution
    assert d is not None
    centres = [(a + b) / 2 for a, b in zip(d.edges[:-1], d.edges[1:], strict=True)]
    widths = [b - a for a, b in zip(d.edges[:-1], d.edges[1:], strict=True)]
    fig = go.Figure(go.Bar(x=centres, y=list(d.counts), width=widths,
                           marker=dict(color=STYLES[1].colour), showlegend=False))  # fmt: skip
    fig.add_vline(x=0, line=dict(color=LIMIT, dash="dash"), annotation_text=t("unc.zero", lang))
    fig.update_layout(xaxis_title=t("unc.histogram_axis", lang),
                      yaxis_title=t("unc.count_axis", lang), bargap=0.02)  # fmt: skip
    _layout(fig, t("unc.histogram_title", lang, **_names(run, ma.model, lang)), lang, 460)
    return fig


def uncertainty_figures(
    run: UncertaintyRun, analyses: list[ModelAnalysis], lang: str
) -> dict[str, go.Figure]:
    """Every figure of the report, by name (the PNG files take these names)."""
    figs: dict[str, go.Figure] = {}
    for ma in analyses:
        if ma.bars:
            figs[f"tornado_{ma.model}"] = fig_tornado(run, ma, lang)
        if ma.distribution is not None:
            figs[f"difference_{ma.model}"] = fig_histogram(run, ma, lang)
    return figs


# --------------------------------------------------------------------------- tables


def _table(head: list[str], rows: list[list[str]], num_from: int = 1) -> str:
    def cells(tag: str, row: list[str]) -> str:
        return "".join(
            f'<{tag} class="num">{c}</{tag}>' if i >= num_from else f"<{tag}>{c}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    thead = f"<thead><tr>{cells('th', head)}</tr></thead>"
    return f'<div class="scroll"><table>{thead}<tbody>{body}</tbody></table></div>'


def _ci(iv_mean: float, lo: float, hi: float, lang: str) -> str:
    return esc(i18n.fmt_ci(iv_mean, lo, hi, lang, sign=True))


def tornado_table(ma: ModelAnalysis, lang: str) -> str:
    head = [t("unc.input", lang), t("unc.base", lang), t("unc.range_col", lang),
            t("unc.change_low", lang), t("unc.change_high", lang)]  # fmt: skip
    rows = [
        [esc(input_label(tb.bar.input, lang)), esc(_num(tb.base_value, lang)),
         esc(i18n.fmt_range(tb.low_value, tb.high_value, lang)),
         _ci(tb.bar.low.mean, tb.bar.low.low, tb.bar.low.high, lang),
         _ci(tb.bar.high.mean, tb.bar.high.low, tb.bar.high.high, lang)]
        for tb in ma.bars
    ]  # fmt: skip
    return _table(head, rows)


def sensitivity_section(ma: ModelAnalysis, lang: str) -> str:
    s = ma.sensitivity
    if s is None:
        return ""
    explain = t("unc.sobol_explain" if s.method == "sobol" else "unc.prcc_explain", lang)
    note = t("unc.sensitivity_note", lang, method=s.method.upper(), n=s.n, explain=explain)
    head = [t("unc.input", lang), t("unc.index", lang), t("unc.value", lang)]
    rows = [
        [esc(input_label(ix.input, lang)), esc(ix.name), _ci(ix.value, ix.low, ix.high, lang)]
        for ix in s.indices
    ]
    return f"<p>{esc(note)}</p>" + _table(head, rows, num_from=2)


def thresholds_table(run: UncertaintyRun, ma: ModelAnalysis, lang: str) -> str:
    head = [t("unc.input", lang), t("unc.base", lang), t("unc.threshold_status", lang),
            t("unc.value", lang), t("unc.evaluations", lang)]  # fmt: skip
    words = {"found": "unc.found", "never": "unc.never_short", "unclear": "unc.unclear_short"}
    rows = [
        [esc(input_label(th.input, lang)), esc(_num(base, lang)), esc(t(words[th.status], lang)),
         esc(i18n.fmt_ci(th.value, th.low, th.high, lang)) if th.status == "found" else "–",
         str(len(th.points))]
        for th, base in ma.thresholds
    ]  # fmt: skip
    return _table(head, rows)


def _dist(r: dict[str, Any], lang: str) -> str:
    """'triangular (mode 52)' in the reader's words (the scenario's distribution labels)."""
    kind = str(r.get("kind", ""))
    word = t(f"dist.{kind}", lang) if i18n.has(f"dist.{kind}", lang) else kind
    if r.get("mode") is not None:
        return f"{word} ({t('dist.mode', lang)} {_num(float(r['mode']), lang)})"
    return word


def _basis_html(info: dict[str, Any], lang: str) -> str:
    """An input's source or assumption: a preset's in the reader's language (marked English when
    the presets' table lacks it), a scenario's as written."""
    from sim.present.preset_texts import preset_text

    written = info.get("source") or info.get("assumption")
    text, text_lang = preset_text(written, str(info.get("origin") or ""), lang)
    if text_lang and text_lang != lang:
        return f'<span lang="{esc(text_lang)}">{esc(text)}</span>'
    return esc(text)


def inputs_table(run: UncertaintyRun, lang: str) -> str:
    head = [t("unc.input", lang), t("unc.base", lang), t("unc.range_col", lang),
            t("unc.distribution", lang), t("unc.basis", lang)]  # fmt: skip
    rows = []
    for x in run.inputs:
        info = run.input_info(x)
        r = info.get("range") or {}
        basis = _basis_html(info, lang)
        kind = t("unc.sourced" if info.get("source") else "unc.assumed", lang)
        lo, hi = float(r.get("low", math.nan)), float(r.get("high", math.nan))
        rows.append(
            [f"{esc(input_label(x, lang))}<br><code>{esc(x)}</code>",
             esc(_num(float(info.get("base", math.nan)), lang)),
             esc(i18n.fmt_range(lo, hi, lang)) if math.isfinite(lo) else "–",
             esc(_dist(r, lang)), f"{esc(kind)}: {basis}"]
        )  # fmt: skip
    return _table(head, rows, num_from=1)


# --------------------------------------------------------------------------- page


def _answer_box(run: UncertaintyRun, analyses: list[ModelAnalysis], lang: str) -> list[str]:
    parts = [f"<h2>{esc(t('unc.answer', lang))}</h2>"]
    for ma in analyses:
        sentences = [
            *probability_sentences(run, ma, lang),
            decides_sentence(run, ma, lang),
            flips_sentence(run, ma, lang),
        ]
        parts.append(
            f'<p class="headline" id="answer-{esc(ma.model)}">'
            + " ".join(esc(s) for s in sentences if s)
            + "</p>"
        )
    parts += [f'<p class="warn">{esc(w)}</p>' for w in warnings_of(run, analyses, lang)]
    return parts


def render_uncertainty_report(
    run: UncertaintyRun,
    lang: str = "en",
    analyses: list[ModelAnalysis] | None = None,
    figs: dict[str, go.Figure] | None = None,
) -> str:
    """The HTML text of an uncertainty folder's report."""
    i18n.check_lang(lang)
    analyses = analyses if analyses is not None else analyse(run)
    figs = figs if figs is not None else uncertainty_figures(run, analyses, lang)
    meta = run.meta
    first = analyses[0].model if analyses else run.baseline
    title = t("unc.title", lang, **_names(run, first, lang))
    sets = run.design.filter(run.design["role"] == "sample").height
    subtitle = t("unc.subtitle", lang, scenario=meta.get("scenario", ""), sets=sets,
                 reps=meta.get("replications", ""), models=len(run.models),
                 method=meta.get("method", ""))  # fmt: skip
    parts = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{esc(subtitle)}</p>']
    parts += _answer_box(run, analyses, lang)
    for ma in analyses:
        if ma.bars:
            parts.append(f'<h2 id="tornado">{esc(t("unc.tornado", lang))}</h2>')
            note = t("unc.tornado_note", lang, base=_num(ma.base_difference, lang, True))
            parts += [
                f"<p>{esc(note)}</p>",
                figure_html(figs[f"tornado_{ma.model}"], f"tornado_{ma.model}"),
            ]
            parts.append(tornado_table(ma, lang))
        if ma.distribution is not None:
            parts.append(f'<h2 id="histogram">{esc(t("unc.histogram", lang))}</h2>')
            parts.append(figure_html(figs[f"difference_{ma.model}"], f"difference_{ma.model}"))
        if ma.sensitivity is not None:
            parts.append(f'<h2 id="sensitivity">{esc(t("unc.sensitivity", lang))}</h2>')
            parts.append(sensitivity_section(ma, lang))
        if ma.thresholds:
            parts.append(f'<h2 id="thresholds">{esc(t("unc.thresholds", lang))}</h2>')
            parts.append(thresholds_table(run, ma, lang))
    parts.append(f'<h2 id="inputs">{esc(t("unc.inputs", lang))}</h2>')
    parts += [f"<p>{esc(t('unc.inputs_note', lang))}</p>", inputs_table(run, lang)]
    version = (meta.get("versions") or {}).get("sim", "")
    parts.append(footer(lang, version, f"<code>{esc(run.folder.name)}</code>"))
    return page(title, "\n".join(parts), lang)


def uncertainty_page(folder: Path, lang: str) -> tuple[str, dict[str, Any]]:
    """(page, figures) of an uncertainty folder (``sim report`` rebuilds through this)."""
    run = load_uncertainty(Path(folder))
    analyses = analyse(run)
    figs = uncertainty_figures(run, analyses, lang)
    return render_uncertainty_report(run, lang, analyses, figs), figs


def write_uncertainty_report(folder: Path, lang: str = "en", png: bool = False) -> Path:
    """Write ``folder/report.<lang>.html`` (to a temporary name, then renamed) and, with ``png``,
    the figures as ``figures/<name>.png`` (kaleido and Chromium, checked first)."""
    from sim.present.report import FIGURES_DIR, ensure_image_export, export_pngs
    from sim.store.results import write_text_atomic

    folder = Path(folder)
    lang = i18n.check_lang(lang)
    if png:
        ensure_image_export()
    text, figs = uncertainty_page(folder, lang)
    out = write_text_atomic(folder / f"report.{lang}.html", text)
    if png:
        export_pngs(figs, folder / FIGURES_DIR)
    return out
