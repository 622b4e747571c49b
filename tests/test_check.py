"""`sim check` (issue 13 point 3) and its round trip (point 5): a scenario checked against a
synthetic export of itself passes; against an export of a different municipality it fails.

Short periods and few replications keep it quick; the exports come from other seeds than the
check's replications, so the export is never one of the simulated runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import load_scenario
from sim.run import casegen
from sim.run.casegen import MESSY, synthetic_export, write_export

ROOT = Path(__file__).resolve().parent.parent
ODDER = ROOT / "scenarios" / "odder.yaml"
FAST = ["experiment.warmup_weeks=52"]
START, AS_OF = dt.date(2023, 1, 1), dt.date(2024, 12, 31)


def _export(tmp: Path, overrides: list[str], seed: int, name: str = "synthetic-cases.csv") -> Path:
    sc = load_scenario(ODDER, [*FAST, *overrides])
    return write_export(synthetic_export(sc, START, AS_OF, seed=seed), tmp / name, MESSY)


def _check(tmp: Path, cases: Path, *extra: str, out: str = "check") -> tuple[object, Path]:
    args = ["check", str(ODDER), str(cases), "--reps", "8", "--jobs", "1", "--out"]
    args += [str(tmp / out), "--from", START.isoformat()]
    for s in FAST:
        args += ["--set", s]
    r = CliRunner().invoke(app, [*args, *extra])
    return r, tmp / out


@pytest.fixture(scope="module")
def own_export(tmp_path_factory) -> Path:
    return _export(tmp_path_factory.mktemp("own"), [], seed=101)


def test_scenario_against_its_own_export_passes(tmp_path, own_export) -> None:
    r, folder = _check(tmp_path, own_export)
    assert r.exit_code == 0, r.output
    rows = pl.read_csv(folder / "check.csv")
    judged = rows.filter(pl.col("inside").is_not_null())
    outside = judged.filter(~pl.col("inside")).height
    meta = json.loads((folder / "manifest.json").read_text())
    assert meta["kind"] == "check" and meta["verdict"]["passes"]
    assert outside <= meta["verdict"]["allowed_outside"]
    assert judged.height == rows.height == 2 * 4 + 4 + 2  # 2 years x 4, 4 times, 2 at the end
    # the observed column is the export counted by hand here, independently of the check
    cases = casegen_frame(own_export)
    refs = rows.filter(pl.col("figure") == "referrals")["observed"].sum()
    assert refs == cases.filter(pl.col("referral_date") >= START).height
    assert {"check_timeseries.csv", "report.en.html", "scenario.yaml"} <= {
        p.name for p in folder.iterdir()
    }
    assert "reproduces the export" in r.output


def casegen_frame(path: Path) -> pl.DataFrame:
    from sim.config.cases import read_cases

    return read_cases(path).frame


def test_another_municipality_fails_the_check(tmp_path) -> None:
    """Twice the referrals and a third of the support staff: the check must see it."""
    other = _export(tmp_path, ["arrivals.rate_per_week=6", "staffing.provider_fte=18"], seed=5)
    r, folder = _check(tmp_path, other, "--lang", "da")
    assert r.exit_code == 0, r.output
    meta = json.loads((folder / "manifest.json").read_text())
    assert not meta["verdict"]["passes"]
    rows = pl.read_csv(folder / "check.csv")
    refs = rows.filter(pl.col("figure") == "referrals")
    assert not refs["inside"].any()  # every year's referrals far above the band
    assert (refs["observed"] > refs["band_high"]).all()
    page = (folder / "report.da.html").read_text(encoding="utf-8")
    assert "genskaber ikke udtrækket" in page and "NEJ" in page


def test_same_export_same_tables(tmp_path, own_export) -> None:
    _, a = _check(tmp_path, own_export, out="a")
    r, b = _check(tmp_path, own_export, "--jobs", "2", out="b")
    assert r.exit_code == 0, r.output
    for name in ("check.csv", "check_timeseries.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_bad_cases_exit_2_with_position_and_nothing_written(tmp_path) -> None:
    bad = tmp_path / "cases.csv"
    bad.write_text(
        "case_id;referral_date;decision_date;decision\nA;31-13-2024;;\n", encoding="utf-8"
    )
    r, folder = _check(tmp_path, bad)
    assert r.exit_code == 2
    assert f"{bad}:2:3: referral_date:" in r.output  # file, row (line) and column
    assert "Traceback" not in r.output and not folder.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--as-of", "2024-99-01"], "--as-of"),
        (["--from", "2030-01-01"], "after the export date"),
        (["--lang", "fr"], "--lang"),
    ],
)
def test_bad_options_exit_2(tmp_path, own_export, extra, message) -> None:
    r, folder = _check(tmp_path, own_export, *extra)
    assert r.exit_code == 2 and message in r.output and not folder.exists()


def test_period_start_inferred_and_warned(tmp_path, own_export) -> None:
    """Without --from the period starts on the first day a case closed, and the page says so."""
    args = ["check", str(ODDER), str(own_export), "--reps", "3", "--out", str(tmp_path / "c")]
    r = CliRunner().invoke(app, [*args, "--jobs", "1", "--set", FAST[0], "--no-report"])
    assert r.exit_code == 0, r.output
    closes = casegen_frame(own_export).select(
        pl.coalesce("end_date", pl.when(pl.col("decision") == "refused").then("decision_date"))
    )
    first = closes.to_series().min()
    meta = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert meta["period_start"] == first.isoformat() and meta["period_start_inferred"]
    assert {"start_inferred", "few_reps"} <= set(meta["warnings"])
    assert "first day a case in the export closed" in r.output
    assert not (tmp_path / "c" / "report.en.html").exists()


def test_timeline_keeps_the_warm_up_and_january() -> None:
    sc = load_scenario(ODDER, FAST)
    tl = casegen.timeline(sc, dt.date(2023, 3, 15), AS_OF)
    assert tl.day0 == dt.date(2022, 1, 1) and tl.warmup_days >= 52 * 7
    assert tl.horizon_days == (AS_OF - tl.day0).days + 1
