"""Terminal output of ``sim optimise`` in the reader's language (``--lang``), as ``sim run``'s.

The search curve and the named split per model, with the report's labels (``op.*`` in the
locale files) and numbers in the language's style; a few console-only titles have keys of their
own (``op_console.*``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sim.present import i18n
from sim.present.i18n import t

if TYPE_CHECKING:
    from rich.table import Table

    from sim.model.metrics import Interval
    from sim.run.optimise import Candidate, ModelOptimum, OptimiseResult


def _pct(share: float | None, lang: str, digits: int = 1) -> str:
    return "-" if share is None else f"{i18n.fmt_num(share * 100, lang, digits)} %"


def _iv(x: Interval | None, lang: str, digits: int = 1, sign: bool = False) -> str:
    """'12,3 [11,0; 13,6]': the mean and its 95 % CI in ``lang``'s style (the mean alone when
    the interval is undefined or has no width)."""
    if x is None:
        return "-"
    if not math.isfinite(x.mean):
        return t("num.na", lang)
    m = i18n.fmt_num(x.mean, lang, digits, sign=sign)
    if not (math.isfinite(x.low) and math.isfinite(x.high)) or x.low == x.high:
        return m
    lo, hi = i18n.fmt_num(x.low, lang, digits), i18n.fmt_num(x.high, lang, digits)
    return f"{m} [{lo}{i18n.list_sep(lang)}{hi}]"


def _span(lo: float | None, hi: float | None, lang: str, none: str) -> str:
    if lo is None or hi is None:
        return none
    return f"{_pct(lo, lang)}{i18n.DASH}{_pct(hi, lang)}"


def _versus(other: Candidate | None, diff: Interval | None, lang: str, digits: int) -> str:
    if other is None or diff is None:
        return "-"
    return t("op.vs", lang, share=_pct(other.share, lang), diff=_iv(diff, lang, digits, True))


def curve_table(res: OptimiseResult, lang: str = "en") -> Table:
    """The search curve: a row per authority share, helped and p90 per model; ✗ marks a share
    that breaks the waiting-time limit."""
    from rich.table import Table

    limit = i18n.fmt_num(res.settings.max_p90_wait_weeks, lang, i18n.auto_digits(
        res.settings.max_p90_wait_weeks))  # fmt: skip
    title = t("op_console.curve_title", lang, scenario=res.scenario.name, n=res.replications,
              limit=limit)  # fmt: skip
    curve = Table(title=title, title_justify="left")
    curve.add_column(t("op.row_share", lang), justify="right")
    for m in res.models:
        name = i18n.model_name(m, lang)
        curve.add_column(f"{name}\n{t('op.axis_helped', lang)}", justify="right")
        curve.add_column(f"{name}\n{t('op.axis_p90', lang)}", justify="right")
    shares = sorted({round(c.share, 6) for m in res.models for c in res.curve(m)})
    by = {(c.model, round(c.share, 6)): c for m in res.models for c in res.curve(m)}
    for s in shares:
        cells = [_pct(s, lang)]
        for m in res.models:
            c = by.get((m, s))
            if c is None:
                cells += ["", ""]
                continue
            mark = "" if c.feasible else " ✗"
            cells += [
                i18n.fmt_num(c.helped.mean, lang, 1) + mark,
                i18n.fmt_num(c.p90.mean, lang, 1),
            ]
        curve.add_row(*cells)
    return curve


def _chosen_rows(ops: list[ModelOptimum], lang: str) -> list[tuple[str, list[str]]]:
    """The named split's rows: (label, one cell per model), the report's labels."""
    none = t("op.none_feasible", lang)
    rows = [
        (t("op.row_share", lang), [_pct(o.chosen.share, lang) for o in ops]),
        (t("op.row_fte", lang), [
            f"{i18n.fmt_num(o.chosen.authority_fte, lang, 2)} + "
            f"{i18n.fmt_num(o.chosen.provider_fte, lang, 2)}" for o in ops]),
        (t("op.row_helped", lang), [_iv(o.chosen.helped, lang) for o in ops]),
        (t("op.row_p90", lang), [_iv(o.chosen.p90, lang) for o in ops]),
        (t("op.row_waiting", lang), [_iv(o.chosen.waiting, lang) for o in ops]),
        (t("op.row_abandoned", lang), [_iv(o.chosen.abandoned, lang) for o in ops]),
        (t("op.row_ratio", lang), [i18n.fmt_num(o.chosen.ratio, lang, 2) for o in ops]),
        (t("op.row_binds", lang), [t(f"op.binds_{o.binds}", lang) for o in ops]),
        (t("op.row_feasible", lang),
         [_span(o.feasible_low, o.feasible_high, lang, none) for o in ops]),
        (t("op.row_near_best", lang),
         [_span(*o.near_best, lang, "-") if o.near_best else "-" for o in ops]),
        (t("op.row_runner_up", lang), [_versus(o.runner_up, o.difference, lang, 2) for o in ops]),
    ]  # fmt: skip
    if any(o.current is not None for o in ops):
        cells = [_versus(o.current, o.current_difference, lang, 1) for o in ops]
        rows.append((t("op.row_current", lang), cells))
    return rows


def optimise_tables(res: OptimiseResult, lang: str = "en") -> list[Any]:
    """Rich tables in ``lang``: the search curve per model and the named split per model."""
    from rich.table import Table

    chosen = Table(title=t("op_console.chosen_title", lang), title_justify="left")
    chosen.add_column("")
    for m in res.models:
        chosen.add_column(i18n.model_name(m, lang), justify="right")
    for label, cells in _chosen_rows([res.optima[m] for m in res.models], lang):
        chosen.add_row(label, *cells)
    return [curve_table(res, lang), chosen]


def defaults_note(mode: str, limit: float, low: float, high: float, lang: str = "en") -> str:
    """The console's note that the scenario's staffing mode is not ``optimise``, so the
    optimiser's defaults (limit, range of the authority share) are used."""
    return t("op_console.defaults_note", lang, mode=mode, limit=i18n.fmt_num(limit, lang,
             i18n.auto_digits(limit)), lo=_pct(low, lang, 0), hi=_pct(high, lang, 0))  # fmt: skip
