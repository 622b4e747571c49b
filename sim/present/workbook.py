"""``tables.xlsx``: a results folder's tables for people, in the report's language.

Built from the CSVs and the manifest already in the folder (never from a run in memory), so
``sim report DIR --lang da`` rewrites it in Danish from the same files. Each kind of folder gets
the sheets that apply to it: key figures, differences, replications, time series and scenario for
a run; points, key figures, differences and replications for a sweep; contributions and levels for
explain; candidates and the chosen split for optimise. Numbers keep the CSVs' values (a share stays
0-1 and is shown in percent by the cell format); labels, units and model names come from the
metric registry and the locale files, as in the report. The CSVs stay the machine-readable record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from sim.model import registry
from sim.present import i18n
from sim.present.i18n import t
from sim.store.workbook import (
    INTEGER,
    ONE_DECIMAL,
    PERCENT,
    TWO_DECIMALS,
    WORKBOOK_NAME,
    Column,
    Sheet,
    write_xlsx,
)

STAT_COLUMNS: tuple[str, ...] = ("mean", "ci_low", "ci_high", "sd")
"""Numeric columns of a summary or differences table, in the metric's own unit."""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def metric_format(metric: str) -> str:
    """The cell format of a metric's value: percent for a share, whole numbers for hours and
    money, one decimal for the rest (the report's decimals)."""
    m = registry.lookup(metric)
    if m is None:
        return TWO_DECIMALS
    if m.unit == registry.SHARE:
        return PERCENT
    return INTEGER if m.digits == 0 else ONE_DECIMAL


def metric_unit(metric: str, lang: str, *, diff: bool = False, csv_unit: str = "") -> str:
    """The reader's unit of a metric's value (a difference of shares is in percentage points)."""
    unit = i18n.metric_unit(metric, csv_unit)
    if diff and unit == "percent":
        unit = "percentage_points"
    return i18n.unit_label(unit, lang)


def metric_header(metric: str, lang: str) -> str:
    """``Label (unit)``: a column of one metric."""
    label = _cap(i18n.metric_label(metric, lang))
    return f"{label} ({metric_unit(metric, lang)})"


def col(key: str, lang: str) -> str:
    """A column header from the ``xl.col_*`` labels (the raw name when none exists)."""
    return t(f"xl.col_{key}", lang) if i18n.has(f"xl.col_{key}", lang) else key


def _model_names(values: Sequence[Any], lang: str) -> list[str]:
    return [i18n.model_name(str(v), lang) if v is not None else "" for v in values]


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=None)


# --------------------------------------------------------------------------- sheets


def stats_sheet(df: pl.DataFrame, name: str, lang: str, *, diff: bool = False) -> Sheet:
    """A summary or differences table: the leading key columns (point, model or comparison), the
    metric's label and unit, mean and CI in the metric's own cell format, n and the metric key."""
    metrics = df["metric"].to_list()
    units = df["unit"].to_list() if "unit" in df.columns else [""] * len(metrics)
    formats = [metric_format(m) for m in metrics]
    cols: list[Column] = []
    for c in df.columns[: df.columns.index("metric")]:
        if c in ("model", "baseline"):
            cols.append(Column(col(c, lang), _model_names(df[c].to_list(), lang)))
        elif c == "comparison":
            pairs = zip(df["model"].to_list(), df["baseline"].to_list(), strict=True)
            names = [f"{i18n.model_name(m, lang)} {i18n.MINUS} {i18n.model_name(b, lang)}"
                     for m, b in pairs]  # fmt: skip
            cols.append(Column(col(c, lang), names))
        else:
            cols.append(Column(col(c, lang), df[c].to_list(), INTEGER))
    cols.append(Column(col("metric", lang), [_cap(i18n.metric_label(m, lang)) for m in metrics]))
    cols.append(
        Column(
            col("unit", lang),
            [
                metric_unit(m, lang, diff=diff, csv_unit=u or "")
                for m, u in zip(metrics, units, strict=True)
            ],
        )
    )
    for c in STAT_COLUMNS:
        if c in df.columns:
            cols.append(Column(col(c, lang), df[c].to_list(), formats=formats))
    if "n" in df.columns:
        cols.append(Column(col("n", lang), df["n"].to_list(), INTEGER))
    cols.append(Column(col("key", lang), metrics))
    return Sheet(name, cols)


def replications_sheet(df: pl.DataFrame, lang: str) -> Sheet:
    """One row per (point,) replication and model, one column per metric headed ``label (unit)``."""
    keys = [c for c in ("point", "replication", "model") if c in df.columns]
    metrics = list(dict.fromkeys(df["metric"].to_list()))
    wide = df.pivot(on="metric", index=keys, values="value", aggregate_function=None)
    cols = [
        Column(col(k, lang), _model_names(wide[k].to_list(), lang))
        if k == "model"
        else Column(col(k, lang), wide[k].to_list(), INTEGER)
        for k in keys
    ]
    cols += [
        Column(metric_header(m, lang), wide[m].to_list(), metric_format(m))
        for m in metrics
        if m in wide.columns
    ]
    return Sheet(t("xl.sheet_replications", lang), cols)


def series_label(series: str, lang: str) -> tuple[str, str]:
    """(label, unit key) of a time series: citizens in a stage, or a group's weekly hours."""
    for s in i18n.STAGES:
        if series == f"{s}_citizens":
            return _cap(t(f"stage.{s}", lang)), "citizens"
    for g in i18n.GROUPS:
        for c in i18n.CATEGORIES:
            if series == f"{g}_{c}_hours":
                label = t(
                    "xl.series_hours",
                    lang,
                    group=t(f"group.{g}", lang),
                    category=t(f"cat.{c}", lang),
                )
                return _cap(label), "hours_per_week"
    return series, ""


def timeseries_sheet(df: pl.DataFrame, lang: str) -> Sheet:
    """Model, week, series (label, unit), mean and the 5 % and 95 % quantiles over replications."""
    labels = {s: series_label(s, lang) for s in set(df["series"].to_list())}
    series = df["series"].to_list()
    cols = [
        Column(col("model", lang), _model_names(df["model"].to_list(), lang)),
        Column(col("week", lang), df["week"].to_list(), INTEGER),
        Column(col("series", lang), [labels[s][0] for s in series]),
        Column(col("unit", lang), [i18n.unit_label(labels[s][1], lang) for s in series]),
    ]
    cols += [Column(col(c, lang), df[c].to_list()) for c in ("mean", "p05", "p95")]
    cols.append(Column(col("key", lang), series))
    return Sheet(t("xl.sheet_timeseries", lang), cols)


def scenario_sheet(folder: Path, lang: str) -> Sheet | None:
    """Every scenario parameter: label, key in the file, value (a number as a number), unit."""
    from sim.present.report import _param_label, load_scenario, scenario_params

    try:
        params = scenario_params(load_scenario(folder))
    except Exception:  # an old or hand-edited scenario.yaml: the workbook goes without it
        return None
    values = [
        p.value if isinstance(p.value, int | float) and not isinstance(p.value, bool) else
        (str(p.value) if p.value is not None else "")
        for p in params
    ]  # fmt: skip
    cols = [
        Column(col("parameter", lang), [_cap(_param_label(p.path, lang)) for p in params]),
        Column(col("key", lang), [p.key for p in params]),
        Column(col("value", lang), values, "General"),
        Column(col("unit", lang), [i18n.unit_label(p.unit, lang) for p in params]),
    ]
    return Sheet(t("xl.sheet_scenario", lang), cols)


def generic_sheet(df: pl.DataFrame, name: str, lang: str, units: dict[str, str]) -> Sheet:
    """A table as it is, with translated headers (``label (unit)`` where ``units`` names one),
    model names translated, shares in percent and other numbers with two decimals."""
    cols = []
    for c in df.columns:
        values = df[c].to_list()
        head = col(c, lang)
        if c in units:
            head = f"{head} ({i18n.unit_label(units[c], lang)})"
        if c == "model":
            cols.append(Column(head, _model_names(values, lang)))
        elif df[c].dtype == pl.Boolean:
            cols.append(Column(head, [t("yes" if v else "no", lang) for v in values]))
        elif units.get(c) == "percent":
            cols.append(Column(head, values, PERCENT))
        elif df[c].dtype.is_integer():
            cols.append(Column(head, values, INTEGER))
        else:
            cols.append(Column(head, values, TWO_DECIMALS))
    return Sheet(name, cols)


# --------------------------------------------------------------------------- folder kinds


def _run_sheets(folder: Path, lang: str) -> list[Sheet]:
    sheets = [
        stats_sheet(_read(folder / "summary.csv"), t("xl.sheet_key_figures", lang), lang),
        stats_sheet(
            _read(folder / "differences.csv"), t("xl.sheet_differences", lang), lang, diff=True
        ),
        replications_sheet(_read(folder / "replications.csv"), lang),
    ]
    if (folder / "timeseries.csv").is_file():
        sheets.append(timeseries_sheet(_read(folder / "timeseries.csv"), lang))
    return sheets


def _sweep_sheets(folder: Path, lang: str) -> list[Sheet]:
    points = _read(folder / "points.csv")
    return [
        generic_sheet(points, t("xl.sheet_points", lang), lang, {}),
        stats_sheet(_read(folder / "summary.csv"), t("xl.sheet_key_figures", lang), lang),
        stats_sheet(
            _read(folder / "differences.csv"), t("xl.sheet_differences", lang), lang, diff=True
        ),
        replications_sheet(_read(folder / "replications.csv"), lang),
    ]


def _explain_sheets(folder: Path, lang: str) -> list[Sheet]:
    from sim.present.explain_report import player_label

    contrib = _read(folder / "contributions.csv")
    lead = ["method", "step", "mechanism"]
    contrib = contrib.select([*lead, *(c for c in contrib.columns if c not in lead)])
    contrib = contrib.with_columns(
        pl.col("mechanism").map_elements(lambda p: player_label(p, lang), return_dtype=pl.String)
    )
    levels = _read(folder / "hybrids.csv")
    return [
        stats_sheet(contrib, t("xl.sheet_contributions", lang), lang, diff=True),
        stats_sheet(
            levels.with_columns(pl.lit("").alias("unit")), t("xl.sheet_levels", lang), lang
        ),
    ]


OPTIMISE_UNITS: dict[str, str] = {
    "authority_share": "percent",
    "authority_fte": "fte",
    "provider_fte": "fte",
    "helped_per_year": "citizens/year",
    "helped_ci_low": "citizens/year",
    "helped_ci_high": "citizens/year",
    "p90_wait_weeks": "weeks",
    "p90_ci_low": "weeks",
    "p90_ci_high": "weeks",
    "waiting_at_end": "citizens",
    "waiting_allowed": "citizens",
    "abandoned_per_year": "citizens/year",
}
"""Units of the optimise tables' columns (they are not metrics of the registry)."""


def _optimise_sheets(folder: Path, lang: str) -> list[Sheet]:
    return [
        generic_sheet(
            _read(folder / "chosen.csv"), t("xl.sheet_chosen", lang), lang, OPTIMISE_UNITS
        ),
        generic_sheet(
            _read(folder / "candidates.csv"), t("xl.sheet_candidates", lang), lang, OPTIMISE_UNITS
        ),
    ]


SHEETS: dict[str, Callable[[Path, str], list[Sheet]]] = {
    "run": _run_sheets,
    "sweep": _sweep_sheets,
    "explain": _explain_sheets,
    "optimise": _optimise_sheets,
}
"""The sheets of each kind of results folder (the scenario sheet is added to every kind)."""


def write_workbook(folder: Path, lang: str) -> Path:
    """Write ``folder/tables.xlsx`` in ``lang`` from the folder's CSVs and manifest; its path."""
    folder = Path(folder)
    lang = i18n.check_lang(lang)
    meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kind = str(meta.get("kind") or "run")
    sheets = SHEETS.get(kind, _run_sheets)(folder, lang)
    scenario = scenario_sheet(folder, lang)
    if scenario is not None:
        sheets.append(scenario)
    return write_xlsx(folder / WORKBOOK_NAME, sheets)


# o2-load: the workbook written by a worker while this process writes the report.
def write_workbook_job(job: tuple[Path, str]) -> Path:
    """``write_workbook(folder, lang)`` for ``job = (folder, lang)``: a pool's task (one argument,
    defined at module level so a worker can import it)."""
    folder, lang = job
    return write_workbook(folder, lang)


def workbook_link(lang: str) -> str:
    """The report's paragraph that links to ``tables.xlsx`` beside it (relative, so the folder
    can move)."""
    import html

    link = f'<a href="{WORKBOOK_NAME}"><code>{WORKBOOK_NAME}</code></a>'
    before, _, after = t("xl.link", lang, file="\0").partition("\0")
    return f'<p class="note">{html.escape(before)}{link}{html.escape(after)}</p>'
