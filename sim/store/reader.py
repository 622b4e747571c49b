"""The one reader of results folders: the tables of a run or a sweep folder, read with polars.

``read_folder`` checks a folder first as ``sim.store.integrity`` does (the manifest, the tables the
kind of folder needs, each table's checksum), so a damaged folder is refused in one line naming
the file; ``load_results`` and ``load_sweep`` read the tables of a folder already checked.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import polars as pl


def _models(manifest: dict[str, Any], summary: pl.DataFrame) -> list[str]:
    """The models of a folder in run order (baseline first): the manifest's list, else the order
    of summary.csv."""
    listed = list(manifest.get("models") or [])
    return listed or list(dict.fromkeys(summary["model"].to_list()))


class Stat(NamedTuple):
    """A mean over replications with its 95 % CI."""

    mean: float
    low: float
    high: float
    n: int

    def scaled(self, factor: float) -> Stat:
        return Stat(self.mean * factor, self.low * factor, self.high * factor, self.n)

    @property
    def no_spread(self) -> bool:
        """Every replication gave the same value: the tables hold ci_low = ci_high = mean."""
        return self.n >= 2 and self.low == self.high


NAN_STAT = Stat(math.nan, math.nan, math.nan, 0)


@dataclass
class Results:
    """The tables of one results folder, read with polars."""

    folder: Path
    manifest: dict[str, Any]
    summary: pl.DataFrame
    differences: pl.DataFrame
    replications: pl.DataFrame
    timeseries: pl.DataFrame | None
    _stats: dict[tuple[str, str], Stat] = field(default_factory=dict, repr=False)
    _diffs: dict[tuple[str, str, str], Stat] = field(default_factory=dict, repr=False)
    _units: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for r in self.summary.iter_rows(named=True):
            self._stats[(r["model"], r["metric"])] = _stat(r)
            self._units.setdefault(r["metric"], r["unit"] or "")
        for r in self.differences.iter_rows(named=True):
            self._diffs[(r["model"], r["baseline"], r["metric"])] = _stat(r)

    @property
    def models(self) -> list[str]:
        """Models in run order, baseline first."""
        return _models(self.manifest, self.summary)

    @property
    def baseline(self) -> str:
        return self.models[0]

    @property
    def comparisons(self) -> list[tuple[str, str]]:
        """(model, baseline) pairs of differences.csv, in its order."""
        pairs = zip(
            self.differences["model"].to_list(), self.differences["baseline"].to_list(), strict=True
        )
        return list(dict.fromkeys(pairs))

    @property
    def n_replications(self) -> int:
        return int(self.manifest.get("replications") or 0)

    def stat(self, model: str, metric: str) -> Stat:
        """Mean and 95 % CI of ``metric`` for ``model`` (NaNs when absent)."""
        return self._stats.get((model, metric), NAN_STAT)

    def diff(self, model: str, metric: str, baseline: str | None = None) -> Stat:
        """Paired difference ``model`` - ``baseline`` (default: the first model) of ``metric``
        with its 95 % CI; NaNs when that pair was not compared."""
        b = self.baseline if baseline is None else baseline
        return self._diffs.get((model, b, metric), NAN_STAT)

    def csv_unit(self, metric: str) -> str | None:
        """The unit of ``metric`` as summary.csv has it (``None`` when absent)."""
        return self._units.get(metric)

    def metrics(self) -> list[str]:
        """Metric names in the order of summary.csv."""
        return list(dict.fromkeys(self.summary["metric"].to_list()))

    def values(self, model: str, metric: str) -> list[float]:
        """The metric in each replication of ``model``."""
        import polars as pl

        df = self.replications.filter((pl.col("model") == model) & (pl.col("metric") == metric))
        return [float(v) for v in df.sort("replication")["value"].to_list()]


def _stat(row: dict[str, Any]) -> Stat:
    def f(x: Any) -> float:
        return math.nan if x is None else float(x)

    return Stat(f(row["mean"]), f(row["ci_low"]), f(row["ci_high"]), int(row["n"] or 0))


def load_results(folder: Path) -> Results:
    """Read a results folder (manifest.json and the CSV tables)."""
    import polars as pl

    folder = Path(folder)
    floats = {c: pl.Float64 for c in ("mean", "ci_low", "ci_high", "sd", "value", "p05", "p95")}

    def read(name: str, required: bool = True) -> pl.DataFrame | None:
        path = folder / name
        if not path.is_file():
            if required:
                raise FileNotFoundError(f"{path} not found: is {folder} a results folder?")
            return None
        header = path.open(encoding="utf-8").readline().strip().split(",")
        return pl.read_csv(path, schema_overrides={c: floats[c] for c in header if c in floats})

    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} not found: is {folder} a results folder?")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    summary = read("summary.csv")
    differences = read("differences.csv")
    replications = read("replications.csv")
    assert summary is not None and differences is not None and replications is not None
    return Results(
        folder, manifest, summary, differences, replications, read("timeseries.csv", False)
    )


@dataclass
class SweepResults:
    """The tables of a sweep folder, read with polars."""

    folder: Path
    manifest: dict[str, Any]
    points: pl.DataFrame
    summary: pl.DataFrame
    differences: pl.DataFrame

    @property
    def parameters(self) -> list[str]:
        return [p for p in self.manifest.get("parameters", []) if p in self.points.columns]

    @property
    def models(self) -> list[str]:
        return _models(self.manifest, self.summary)

    @property
    def n_replications(self) -> int:
        return int(max(self.manifest.get("replications") or [0]))

    def varying(self) -> list[str]:
        """Swept parameters that take more than one value, in sweep order."""
        return [p for p in self.parameters if self.points[p].drop_nulls().n_unique() > 1]

    def is_numeric(self, key: str) -> bool:
        return self.points.schema[key].is_numeric()

    def numeric_varying(self) -> list[str]:
        return [p for p in self.varying() if self.is_numeric(p)]

    def ok_points(self) -> list[int]:
        import polars as pl

        return self.points.filter(pl.col("status") == "ok")["point"].to_list()


def load_sweep(folder: Path) -> SweepResults:
    """Read a sweep folder (manifest.json and the four tables)."""
    import polars as pl

    folder = Path(folder)
    meta = folder / "manifest.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta} not found: is {folder} a sweep folder?")
    manifest = json.loads(meta.read_text(encoding="utf-8"))
    floats = {c: pl.Float64 for c in ("mean", "ci_low", "ci_high", "sd")}

    def read(name: str) -> pl.DataFrame:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: has the sweep finished?")
        header = path.open(encoding="utf-8").readline().strip().split(",")
        return pl.read_csv(
            path,
            schema_overrides={c: floats[c] for c in header if c in floats},
            infer_schema_length=None,
        )

    return SweepResults(
        folder, manifest, read("points.csv"), read("summary.csv"), read("differences.csv")
    )


# --------------------------------------------------------------------------- any kind of folder

REQUIRED: dict[str, tuple[str, ...]] = {
    "run": ("summary.csv", "differences.csv", "replications.csv"),
    "sweep": ("points.csv", "summary.csv", "differences.csv"),
    "explain": ("contributions.csv", "scenario.yaml", "explain.json"),
    "optimise": ("candidates.csv", "chosen.csv", "scenario.yaml", "optimise.json"),
}
"""What a report of each kind of folder is rebuilt from."""


def check_folder(folder: Path) -> tuple[dict[str, Any], str, str | None]:
    """(manifest, kind, note or None) of a results folder of any kind, checked before it is read
    (``sim.store.integrity``): DamagedFolder, one line naming the file, when it cannot be trusted
    or lacks what its report is rebuilt from."""
    from sim.store.integrity import MANIFEST, DamagedFolder, read_manifest, verify_folder

    folder = Path(folder)
    from sim.store.uncertainty_tables import check_uncertainty_folder, is_uncertainty_folder

    if is_uncertainty_folder(folder):  # u2-analysis: its manifest is uncertainty.json
        return check_uncertainty_folder(folder)
    if folder.is_dir() and not any((folder / n).is_file() for n in (MANIFEST, "summary.csv")):
        raise DamagedFolder(f"{folder} is not a results folder (it has no {MANIFEST})")
    meta = read_manifest(folder)
    kind = str(meta.get("kind") or "run")  # run folders of older sims have no kind
    if kind not in REQUIRED:
        raise DamagedFolder(f"{folder / MANIFEST} names an unknown kind of folder: {kind!r}")
    for name in REQUIRED[kind]:
        if name.endswith(".json") and not (folder / name).is_file():
            raise DamagedFolder(
                f"{folder / name} is missing: {folder} was written by an older sim; "
                f"rerun `sim {kind}` to have a report in another language"
            )
    meta, note = verify_folder(folder, REQUIRED[kind])
    if kind == "run":  # u2-analysis: what carries the difference, read by the headline
        from sim.store.carriers import check_carriers

        check_carriers(folder)
    return meta, kind, note


def load_scenario(folder: Path) -> Any:
    """The resolved scenario saved in a results folder (``scenario.yaml``).

    The workbook and the report of one folder both need it: the text is read each time (the
    file may have changed), but the same text is parsed and validated once per process."""
    return _scenario_of(Path(folder, "scenario.yaml").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=2)
def _scenario_of(text: str) -> Any:
    """The Scenario a resolved ``scenario.yaml`` text stands for; a Scenario is frozen, so the
    callers can share one."""
    from ruamel.yaml import YAML

    from sim.model.scenario import Scenario

    return Scenario.model_validate(YAML(typ="rt").load(text))


def load_snapshot(folder: Path, kind: str) -> Any:
    """The ``ExplainResult`` or ``OptimiseResult`` an explain or optimise folder holds."""
    from sim.store import snapshot

    folder = Path(folder)
    text = (folder / snapshot.SNAPSHOTS[kind]).read_text(encoding="utf-8")
    load = snapshot.load_explain if kind == "explain" else snapshot.load_optimise
    return load(text, load_scenario(folder))
