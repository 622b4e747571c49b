"""One page shell, one theme, one manifest and `sim report DIR` for every kind of results folder.

The four kinds of folder (run, sweep, explain, optimise) are made once, small, by the commands
themselves; the tests read what those commands wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app

from .test_optimise import two_stage

ROOT = Path(__file__).resolve().parent.parent
ODDER = ROOT / "scenarios" / "odder.yaml"
SHORT = ["--set", "experiment.horizon_weeks=104", "--set", "experiment.warmup_weeks=26"]
KINDS = ("run", "sweep", "explain", "optimise")


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(app, [*args, "--jobs", "1"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small folder of each kind, written by its command with its English report."""
    root = tmp_path_factory.mktemp("kinds")
    grid = root / "grid.yaml"
    text = ODDER.read_text(encoding="utf-8")
    grid.write_text(text + "\nsweep:\n  parameters:\n    budget.annual_dkk: [16500000, 18000000]\n")
    two = root / "two_stage.yaml"
    with two.open("w", encoding="utf-8") as fh:
        data = two_stage(rate=15, authority_hours=4, coarse=0.15, fine=0.05, horizon=104)
        YAML(typ="safe").dump(data, fh)
    out = {k: root / k for k in KINDS}
    _invoke("run", str(ODDER), "--reps", "2", *SHORT, "--out", str(out["run"]))
    _invoke("sweep", str(grid), "--reps", "2", *SHORT, "--out", str(out["sweep"]))
    _invoke(
        "explain", str(ODDER), "--sequential", "--reps", "2", *SHORT, "--out", str(out["explain"])
    )
    _invoke("optimise", str(two), "--out", str(out["optimise"]))
    return out


def figure_layouts(page: str) -> list[dict[str, Any]]:
    """The layout of every plotly figure in a page (read from its ``Plotly.newPlot`` call)."""
    decoder = json.JSONDecoder()
    layouts = []
    for chunk in page.split("Plotly.newPlot(")[1:]:
        values, pos = [], 0
        while len(values) < 3:
            pos += len(chunk[pos:]) - len(chunk[pos:].lstrip(" \n\t,"))
            value, pos = decoder.raw_decode(chunk, pos)
            values.append(value)
        layouts.append(values[2])
    return layouts


def _report(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- one theme


def test_every_figure_of_every_report_has_one_theme(folders: dict[str, Path]) -> None:
    templates, title_sizes, fonts = set(), set(), set()
    for kind in KINDS:
        layouts = figure_layouts(_report(folders[kind]))
        assert layouts, f"{kind}: no figure found"
        for layout in layouts:
            template = (layout.get("template") or {}).get("layout") or {}
            templates.add(json.dumps(template, sort_keys=True))
            font = layout.get("font") or template.get("font")
            fonts.add(json.dumps(font, sort_keys=True))
            title = (layout.get("title") or {}).get("font") or {}
            title_sizes.add(title.get("size") or (template.get("title") or {})["font"]["size"])
    assert len(templates) == 1 and templates != {"{}"}
    assert len(fonts) == 1 and len(title_sizes) == 1


# --------------------------------------------------------------------------- one manifest

COMMON = {"kind", "scenario", "run_id", "created", "seed", "models", "horizon_weeks",
          "warmup_weeks", "budget_dkk_per_year", "staff", "queue_discipline", "versions",
          "git_revision", "command", "wall_seconds", "platform", "checksums"}  # fmt: skip


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_folder_has_the_common_manifest_fields(
    folders: dict[str, Path], kind: str
) -> None:
    import hashlib

    meta = _manifest(folders[kind])
    assert set(meta) >= COMMON, COMMON - set(meta)
    assert meta["kind"] == kind and meta["run_id"] == folders[kind].name
    # Staff and cost, rebuilt from the resolved scenario the folder holds (for a sweep: point 0).
    sc_file = folders[kind] / ("points" if kind == "sweep" else "") / "scenario.yaml"
    if kind == "sweep":
        sc_file = folders[kind] / "points" / meta["point_ids"][0] / "scenario.yaml"
    sc = YAML(typ="safe").load(sc_file.read_text(encoding="utf-8"))
    a_cost = sc["staff"]["authority"]["fte_cost_dkk_per_year"]
    p_cost = sc["staff"]["provider"]["fte_cost_dkk_per_year"]
    assert set(meta["staff"]) == set(meta["models"]) and meta["models"]
    for staff in meta["staff"].values():
        cost = staff["authority_fte"] * a_cost + staff["provider_fte"] * p_cost
        assert staff["staff_cost_dkk_per_year"] == pytest.approx(cost)
        budget = sc["budget"]["annual_dkk"]
        assert staff["unspent_dkk_per_year"] == pytest.approx(max(budget - cost, 0), abs=1)
    assert meta["queue_discipline"]["support"] == sc.get("support_queue", "fifo")
    assert {"reviews", "review_provider_hours", "intake"} <= set(meta["queue_discipline"])
    assert meta["seed"] == sc["experiment"]["seed"]
    for name, digest in meta["checksums"].items():
        data = (folders[kind] / name).read_bytes()
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- sim report DIR


def _footer(page: str) -> str:
    return page.split("<footer>", 1)[1].split("</footer>", 1)[0]


@pytest.mark.parametrize("kind", KINDS)
def test_each_report_names_its_final_folder(folders: dict[str, Path], kind: str) -> None:
    footer = _footer(_report(folders[kind]))
    assert folders[kind].name in footer and ".tmp-" not in footer
    assert "Made by sim" in footer


@pytest.mark.parametrize("kind", KINDS)
def test_sim_report_rebuilds_any_folder_in_another_language(
    folders: dict[str, Path], kind: str
) -> None:
    folder = folders[kind]
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["report", str(folder), "--lang", "da"])
    assert result.exit_code == 0, result.output
    danish = (folder / "report.da.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in danish and "Lavet af sim" in _footer(danish)
    assert folder.name in _footer(danish) and ".tmp-" not in danish
    # The same figures as the command's own report, drawn again from the folder's files.
    assert len(figure_layouts(danish)) == len(figure_layouts(_report(folder)))
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    # tables.xlsx is rewritten in the report's language (tests/test_outputs.py reads it back)
    assert after.pop("tables.xlsx") != before.pop("tables.xlsx")
    assert after.pop("report.da.html") and after == before  # report.html and tables untouched
    # An English rebuild is a file of its own: the Danish one stays as it was.
    result = CliRunner().invoke(app, ["report", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (folder / "report.da.html").read_text(encoding="utf-8") == danish
    # ... and, rebuilt from the files alone, it is the page the command wrote from its results.
    assert (folder / "report.en.html").read_bytes() == (folder / "report.html").read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_sim_report_refuses_a_damaged_folder_of_any_kind(
    folders: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    import shutil

    folder = Path(shutil.copytree(folders[kind], tmp_path / kind))
    (folder / "report.da.html").unlink(missing_ok=True)
    table = sorted(
        p for p in folder.iterdir() if p.suffix in (".csv", ".json") and p.name != "manifest.json"
    )[0]
    table.write_bytes(table.read_bytes()[:-20])
    result = CliRunner().invoke(app, ["report", str(folder), "--lang", "da"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert table.name in result.output and "damaged" in result.output
    assert not (folder / "report.da.html").exists()
