"""The analysis tables of an uncertainty folder, computed from its own files alone.

An uncertainty folder (written by ``sim uncertainty``) holds ``design.csv`` (one row per parameter
set: ``set_id``, ``role``, ``input``, then one column per uncertain input), ``replications.csv``
(``set_id``, ``model``, ``replication`` and the metric columns) and ``uncertainty.json`` (the
manifest: ``inputs``, ``method``, ``n``, ``replications``, ``threshold``, ``baseline``,
``models``). ``write_analysis`` turns them into ``probability.csv``, ``tornado.csv``,
``sensitivity.csv`` and ``thresholds.csv``; the report computes the same ``Analysis`` again, so a
report rebuilt from the folder shows exactly the tables' numbers. The bootstrap draws come from a
generator with a fixed seed (``ANALYSIS_SEED``): the same folder always gives the same tables.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.run import uncertainty_stats as us

METRIC = "helped_per_year"
"""The figure the uncertainty analysis is about: citizens helped per year (paired difference)."""
UNIT = "citizens/year"
ANALYSIS_SEED = 20260412
"""Seed of the bootstrap draws of the analysis (not of the simulation)."""
MANIFEST = "uncertainty.json"
TABLES = ("probability.csv", "tornado.csv", "sensitivity.csv", "thresholds.csv")


@dataclass(frozen=True)
class UncertaintyRun:
    """An uncertainty folder as read: its manifest, design and replications."""

    folder: Path
    meta: dict[str, Any]
    design: pl.DataFrame
    reps: pl.DataFrame

    @property
    def inputs(self) -> list[str]:
        known = [str(i.get("path")) for i in self.meta.get("inputs") or [] if isinstance(i, dict)]
        cols = [c for c in self.design.columns if c not in ("set_id", "role", "input")]
        return [c for c in known if c in cols] or cols

    @property
    def baseline(self) -> str:
        return str(self.meta.get("baseline") or "classic")

    @property
    def models(self) -> list[str]:
        found = self.reps.get_column("model").unique(maintain_order=True).to_list()
        return [str(m) for m in (self.meta.get("models") or found)]

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold") or 0.0)

    def input_info(self, path: str) -> dict[str, Any]:
        """The manifest's entry for an input (base, range, source or assumption), {} if none."""
        for i in self.meta.get("inputs") or []:
            if isinstance(i, dict) and i.get("path") == path:
                return i
        return {}


def is_uncertainty_folder(folder: Path) -> bool:
    """True for a folder ``sim uncertainty`` wrote (it has ``uncertainty.json``)."""
    return (Path(folder) / MANIFEST).is_file()


def load_uncertainty(folder: Path) -> UncertaintyRun:
    """Read an uncertainty folder's manifest and tables."""
    from sim.store.integrity import DamagedFolder

    folder = Path(folder)
    for name in (MANIFEST, "design.csv", "replications.csv"):
        if not (folder / name).is_file():
            raise DamagedFolder(f"{folder / name} is missing: the folder is incomplete")
    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        design = pl.read_csv(folder / "design.csv", infer_schema_length=None)
        reps = pl.read_csv(folder / "replications.csv", infer_schema_length=None)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DamagedFolder(f"{folder} is damaged: {first}") from None
    missing = {"set_id", "role"} - set(design.columns) or {
        "set_id",
        "model",
        "replication",
        METRIC,
    } - set(reps.columns)
    if missing or not isinstance(meta, dict):
        raise DamagedFolder(f"{folder} is damaged: columns missing: {', '.join(sorted(missing))}")
    if "input" in design.columns:
        design = design.with_columns(pl.col("input").cast(pl.Utf8).fill_null(""))
    return UncertaintyRun(folder, meta, design, reps)


def check_uncertainty_folder(folder: Path) -> tuple[dict[str, Any], str, str | None]:
    """(manifest, "uncertainty", None) of an uncertainty folder that can be trusted: its files
    readable and, when the manifest lists checksums, every listed table unchanged; else
    DamagedFolder naming the file."""
    from sim.store.integrity import DamagedFolder, sha256_of

    run = load_uncertainty(folder)
    sums = run.meta.get("checksums")
    for name, expected in sums.items() if isinstance(sums, dict) else []:
        path = Path(folder) / str(name)
        if not path.is_file():
            raise DamagedFolder(f"{path} is missing (listed in {MANIFEST})")
        if sha256_of(path) != expected:
            raise DamagedFolder(
                f"{path} is damaged: its checksum does not match {MANIFEST} "
                "(truncated or changed after the run); rerun to rebuild it"
            )
    return run.meta, "uncertainty", None


# --------------------------------------------------------------------------- paired differences


def paired(run: UncertaintyRun, model: str) -> dict[int, np.ndarray]:
    """{set_id: the model's metric minus the baseline's, per replication (sorted)}."""
    wide = (
        run.reps.filter(pl.col("model").is_in([model, run.baseline]))
        .select("set_id", "replication", "model", METRIC)
        .pivot(on="model", index=["set_id", "replication"], values=METRIC)
        .sort("set_id", "replication")
    )
    out: dict[int, np.ndarray] = {}
    for key, g in wide.group_by("set_id", maintain_order=True):
        d = g.get_column(model).cast(pl.Float64) - g.get_column(run.baseline).cast(pl.Float64)
        out[int(key[0])] = d.to_numpy()
    return out


def _sets(run: UncertaintyRun, role: str, input_: str | None = None) -> pl.DataFrame:
    d = run.design.filter(pl.col("role") == role)
    if input_ is not None:
        d = d.filter(pl.col("input") == input_)
    return d.sort("set_id")


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class TornadoBar:
    """A tornado bar with the input's values at base, low and high."""

    bar: us.Bar
    base_value: float
    low_value: float
    high_value: float


@dataclass
class ModelAnalysis:
    """Everything the report says about one model against the baseline."""

    model: str
    probabilities: list[us.Probability] = field(default_factory=list)
    distribution: us.Distribution | None = None
    base_difference: float = math.nan
    bars: list[TornadoBar] = field(default_factory=list)
    sensitivity: us.Sensitivity | None = None
    thresholds: list[tuple[us.Threshold, float]] = field(default_factory=list)


def _tornado(run: UncertaintyRun, diffs: dict[int, np.ndarray]) -> tuple[float, list[TornadoBar]]:
    base = _sets(run, "base")
    if base.height == 0:
        return math.nan, []
    base_id = int(base.get_column("set_id")[0])
    low, high, values = {}, {}, {}
    for x in run.inputs:
        lo, hi = _sets(run, "low", x), _sets(run, "high", x)
        if lo.height and hi.height:
            low[x] = diffs[int(lo.get_column("set_id")[0])]
            high[x] = diffs[int(hi.get_column("set_id")[0])]
            values[x] = (float(base[x][0]), float(lo[x][0]), float(hi[x][0]))
    bars = us.tornado(diffs[base_id], low, high)
    return float(np.nanmean(diffs[base_id])), [TornadoBar(b, *values[b.input]) for b in bars]


TOP_THRESHOLDS = 3
"""The inputs with the widest one-way swing get a threshold row even when ``sim uncertainty``
needed no further set for them (both ends on one side: "never" or "unclear")."""


def _top_swings(run: UncertaintyRun, diffs: dict[int, np.ndarray]) -> list[str]:
    """The ``TOP_THRESHOLDS`` inputs whose |mean at high - mean at low| is widest (and not 0),
    the same rule as the searches of ``sim uncertainty``."""
    swing = {}
    for x in run.inputs:
        lo, hi = _sets(run, "low", x), _sets(run, "high", x)
        if lo.height and hi.height:
            a = np.nanmean(diffs[int(lo.get_column("set_id")[0])])
            b = np.nanmean(diffs[int(hi.get_column("set_id")[0])])
            swing[x] = abs(float(b - a))
    ranked = sorted((x for x in run.inputs if swing.get(x, 0.0) > 0), key=lambda x: -swing[x])
    return ranked[:TOP_THRESHOLDS]


def _thresholds(
    run: UncertaintyRun, diffs: dict[int, np.ndarray], rng: np.random.Generator
) -> list[tuple[us.Threshold, float]]:
    out = []
    searched = set(_sets(run, "threshold").get_column("input").to_list())
    searched |= set(_top_swings(run, diffs))
    for x in [i for i in run.inputs if i in searched]:
        rows = run.design.filter(
            pl.col("role").is_in(["low", "high", "threshold"]) & (pl.col("input") == x)
        )
        points = {float(v): diffs[int(s)] for s, v in zip(rows["set_id"], rows[x], strict=True)}
        info = run.input_info(x)
        rng_ = info.get("range") or {}
        lo = float(rng_.get("low", min(points)))
        hi = float(rng_.get("high", max(points)))
        base_set = _sets(run, "base")
        base = float(info.get("base", base_set[x][0] if base_set.height else math.nan))
        out.append((us.threshold_of(x, points, lo, hi, rng), base))
    return out


def analyse(run: UncertaintyRun) -> list[ModelAnalysis]:
    """The analysis of every model against the baseline (deterministic: fixed bootstrap seed)."""
    out = []
    for model in [m for m in run.models if m != run.baseline]:
        rng = np.random.default_rng(ANALYSIS_SEED)
        diffs = paired(run, model)
        ma = ModelAnalysis(model)
        sample = _sets(run, "sample")
        if sample.height:
            ids = [int(s) for s in sample.get_column("set_id")]
            by_set = np.vstack([diffs[s] for s in ids])
            thresholds = sorted({0.0, run.threshold})
            ma.probabilities = [us.probability_better(by_set, t, rng) for t in thresholds]
            ma.distribution = us.difference_distribution(by_set, rng)
            x = sample.select(run.inputs).to_numpy().astype(float)
            method = str(run.meta.get("method") or "lhs")
            ma.sensitivity = us.sensitivity(x, by_set.mean(axis=1), run.inputs, method, rng)
        ma.base_difference, ma.bars = _tornado(run, diffs)
        ma.thresholds = _thresholds(run, diffs, rng)
        out.append(ma)
    return out


# --------------------------------------------------------------------------- tables


def _write(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    from sim.store.results import write_text_atomic

    df = pl.DataFrame(rows, schema=columns, orient="row") if rows else pl.DataFrame(schema=columns)
    write_text_atomic(path, df.write_csv(float_precision=None))


def probability_rows(run: UncertaintyRun, analyses: list[ModelAnalysis]) -> list[dict[str, Any]]:
    rows = []
    for ma in analyses:
        d = ma.distribution
        for p in ma.probabilities:
            rows.append(
                dict(
                    model=ma.model, baseline=run.baseline, metric=METRIC, unit=UNIT,
                    threshold=p.threshold, probability=p.p, probability_low=p.low,
                    probability_high=p.high, sets=p.n_sets, replications=p.n_reps,
                    mean_difference=d.mean if d else None,
                    mean_difference_low=d.mean_low if d else None,
                    mean_difference_high=d.mean_high if d else None,
                    range_low=d.low if d else None, range_high=d.high if d else None,
                    variance_parameters=d.var_param if d else None,
                    variance_monte_carlo=d.var_mc if d else None,
                )
            )  # fmt: skip
    return rows


def tornado_rows(analyses: list[ModelAnalysis]) -> list[dict[str, Any]]:
    rows = []
    for ma in analyses:
        for rank, tb in enumerate(ma.bars, start=1):
            b = tb.bar
            rows.append(
                dict(
                    model=ma.model, rank=rank, input=b.input, unit=UNIT,
                    base_value=tb.base_value, low_value=tb.low_value, high_value=tb.high_value,
                    base_difference=ma.base_difference,
                    low_change=b.low.mean, low_change_low=b.low.low, low_change_high=b.low.high,
                    high_change=b.high.mean, high_change_low=b.high.low,
                    high_change_high=b.high.high, replications=b.low.n,
                )
            )  # fmt: skip
    return rows


def sensitivity_rows(analyses: list[ModelAnalysis]) -> list[dict[str, Any]]:
    rows = []
    for ma in analyses:
        s = ma.sensitivity
        for ix in s.indices if s else []:
            rows.append(
                dict(
                    model=ma.model, method=s.method, sets=s.n, input=ix.input, index=ix.name,
                    value=ix.value, low=ix.low, high=ix.high, note=s.note,
                )
            )  # fmt: skip
    return rows


def threshold_rows(analyses: list[ModelAnalysis]) -> list[dict[str, Any]]:
    rows = []
    for ma in analyses:
        for th, base in ma.thresholds:
            rows.append(
                dict(
                    model=ma.model, input=th.input, status=th.status, value=th.value,
                    low=th.low, high=th.high, sign=th.sign, base_value=base,
                    evaluations=len(th.points),
                )
            )  # fmt: skip
    return rows


COLUMNS = {
    "probability.csv": [
        "model", "baseline", "metric", "unit", "threshold", "probability", "probability_low",
        "probability_high", "sets", "replications", "mean_difference", "mean_difference_low",
        "mean_difference_high", "range_low", "range_high", "variance_parameters",
        "variance_monte_carlo",
    ],
    "tornado.csv": [
        "model", "rank", "input", "unit", "base_value", "low_value", "high_value",
        "base_difference", "low_change", "low_change_low", "low_change_high", "high_change",
        "high_change_low", "high_change_high", "replications",
    ],
    "sensitivity.csv": [
        "model", "method", "sets", "input", "index", "value", "low", "high", "note",
    ],
    "thresholds.csv": [
        "model", "input", "status", "value", "low", "high", "sign", "base_value", "evaluations",
    ],
}  # fmt: skip


def write_analysis(folder: Path) -> None:
    """Write the four analysis tables of an uncertainty folder, from its own files."""
    folder = Path(folder)
    run = load_uncertainty(folder)
    analyses = analyse(run)
    rows = {
        "probability.csv": probability_rows(run, analyses),
        "tornado.csv": tornado_rows(analyses),
        "sensitivity.csv": sensitivity_rows(analyses),
        "thresholds.csv": threshold_rows(analyses),
    }
    for name, table in rows.items():
        _write(folder / name, table, COLUMNS[name])
