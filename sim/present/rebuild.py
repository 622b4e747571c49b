"""``sim report DIR``: the report of any kind of results folder, rebuilt from its files alone.

A command writes its folder's report as ``report.html`` in the language it was asked for; a report
rebuilt here is ``report.<lang>.html`` (``report.da.html``), so a report in another language never
overwrites the first one, nor one of another language. The folder is checked first
(``sim.store.reader.check_folder``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.present import i18n
from sim.present.warnings import folder_warnings
from sim.present.workbook import write_workbook
from sim.store.reader import check_folder, load_results, load_snapshot, load_sweep
from sim.store.results import write_text_atomic
from sim.store.uncertainty_tables import is_uncertainty_folder

if TYPE_CHECKING:
    import plotly.graph_objects as go


def report_name(lang: str) -> str:
    """The file name of a rebuilt report in ``lang``."""
    return f"report.{lang}.html"


def _render(
    folder: Path, kind: str, meta: dict[str, Any], lang: str
) -> tuple[str, dict[str, go.Figure]]:
    """(page, figures) of the folder's report."""
    version = str((meta.get("versions") or {}).get("sim", ""))
    if kind == "sweep":
        from sim.present.sweep_report import render_sweep_report, sweep_figures

        res = load_sweep(folder)
        figs = sweep_figures(res, lang)
        return render_sweep_report(res, lang, figs=figs), figs
    if kind == "explain":
        from sim.present.explain_report import explain_figures, render_explain

        xp = load_snapshot(folder, kind)
        warns = folder_warnings(folder, lang)
        return render_explain(xp, lang, folder.name, version, warns), explain_figures(xp, lang)
    if kind == "optimise":
        from sim.present.explain_report import fig_curve, render_optimise

        op = load_snapshot(folder, kind)
        curve = {"optimise_curve": fig_curve(op, lang)}
        return render_optimise(op, lang, folder.name, version, folder_warnings(folder, lang)), curve
    from sim.present.plots import report_figures
    from sim.present.report import render_report

    run = load_results(folder)
    figs = report_figures(run, lang)
    return render_report(run, lang, figs), figs


def rebuild_report(folder: Path, lang: str = "en", png: bool = False, pdf: bool = False) -> Path:
    """Write ``folder/report.<lang>.html`` (and with ``png`` the figures as PNG, with ``pdf`` the
    page printed to ``report.<lang>.pdf``) for a folder of any kind; DamagedFolder when the
    folder cannot be trusted. Written to a temporary name, then renamed, so a failed write leaves
    no half page. A missing browser stops it before anything is written."""
    from sim.present.pdf import browser_or_error, pdf_name, print_pdf
    from sim.present.report import FIGURES_DIR, ensure_image_export, export_pngs

    folder = Path(folder)
    lang = i18n.check_lang(lang)
    if is_uncertainty_folder(folder):  # u2-analysis: its manifest is uncertainty.json
        from sim.present.uncertainty_report import write_uncertainty_report

        return write_uncertainty_report(folder, lang, png)
    meta, kind, _ = check_folder(folder)
    if png:
        ensure_image_export()
    if pdf:
        browser_or_error()
    text, figs = _render(folder, kind, meta, lang)
    write_workbook(folder, lang)  # tables.xlsx in the report's language, which links to it
    out = write_text_atomic(folder / report_name(lang), text)
    if png:
        export_pngs(figs, folder / FIGURES_DIR)
    if pdf:
        print_pdf(out, folder / pdf_name(lang))
    return out
