"""Issue 14: tables.xlsx in every results folder, warnings wherever figures show, `sim compare`.

The folders are made once, small, by the commands themselves (as in test_pages); the workbook is
read back with openpyxl and compared cell by cell with the CSVs beside it.
"""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.model import registry
from sim.present import i18n

from .test_optimise import two_stage

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "data" / "odder-base.yaml"
"""The tests' frozen Odder-like base (budget 16.5 M DKK, staff cost 16.185 M DKK): these tests are
about the outputs, not the shipped calibration."""
SHORT = ["--set", "experiment.horizon_weeks=104", "--set", "experiment.warmup_weeks=26"]
KINDS = ("run", "sweep", "explain", "optimise")


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """One small folder of each kind with 2 replications (too few: a warning), and the console
    output of the command that wrote it."""
    root = tmp_path_factory.mktemp("kinds")
    grid = root / "grid.yaml"
    text = BASE.read_text(encoding="utf-8")
    grid.write_text(text + "\nsweep:\n  parameters:\n    budget.annual_dkk: [16500000, 18000000]\n")
    two = root / "two_stage.yaml"
    with two.open("w", encoding="utf-8") as fh:
        data = two_stage(rate=15, authority_hours=4, coarse=0.15, fine=0.05, horizon=104)
        YAML(typ="safe").dump(data, fh)
    out = {k: root / k for k in KINDS}
    return {
        "run": (
            out["run"],
            _invoke("run", str(BASE), "--reps", "2", *SHORT, "--out", str(out["run"])),
        ),
        "sweep": (
            out["sweep"],
            _invoke("sweep", str(grid), "--reps", "2", *SHORT, "--out", str(out["sweep"])),
        ),
        "explain": (
            out["explain"],
            _invoke(
                "explain", str(BASE), "--sequential", "--reps", "2", *SHORT,
                "--out", str(out["explain"]),
            ),
        ),
        "optimise": (
            out["optimise"],
            _invoke("optimise", str(two), "--reps", "2", "--confirm-reps", "2",
                    "--out", str(out["optimise"])),
        ),
    }  # fmt: skip


def _sheet(path: Path, name: str) -> tuple[list[str], list[dict[str, object]]]:
    """(header, rows as dicts) of one sheet of a workbook."""
    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    return head, [dict(zip(head, r, strict=True)) for r in rows[1:]]


# --------------------------------------------------------------------------- tables.xlsx


@pytest.mark.parametrize("kind", KINDS)
def test_every_folder_kind_gets_a_workbook_the_report_links_to(made, kind: str) -> None:  # type: ignore[no-untyped-def]
    folder, _ = made[kind]
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    assert len(book.sheetnames) >= 2
    for ws in book:
        assert ws.freeze_panes == "A2", ws.title  # the header row stays in view
        assert all(ws.cell(1, c).value for c in range(1, ws.max_column + 1)), ws.title
        assert ws.column_dimensions["A"].width > 8
    assert 'href="tables.xlsx"' in (folder / "report.html").read_text(encoding="utf-8")


def test_run_workbook_holds_the_csv_numbers_as_numbers(made) -> None:  # type: ignore[no-untyped-def]
    folder, _ = made["run"]
    summary = pl.read_csv(folder / "summary.csv")
    head, rows = _sheet(folder / "tables.xlsx", "Key figures")
    assert {"Mean", "95 % CI, low", "95 % CI, high", "Unit"} <= set(head)
    by = {(r["Model"], r["Key"]): r for r in rows}
    assert len(by) == summary.height
    for r in summary.iter_rows(named=True):
        cell = by[(i18n.model_name(r["model"], "en"), r["metric"])]
        for csv_col, xl_col in (("mean", "Mean"), ("ci_low", "95 % CI, low")):
            if r[csv_col] is None or not math.isfinite(r[csv_col]):
                assert cell[xl_col] is None
                continue
            assert isinstance(cell[xl_col], int | float)
            assert cell[xl_col] == pytest.approx(r[csv_col], rel=1e-12, abs=1e-12)
        assert cell["Unit"] == i18n.unit_label(registry.METRICS[r["metric"]].display_unit, "en")


def test_replications_sheet_heads_each_metric_with_its_unit(made) -> None:  # type: ignore[no-untyped-def]
    folder, _ = made["run"]
    reps = pl.read_csv(folder / "replications.csv")
    ws = openpyxl.load_workbook(folder / "tables.xlsx")["Replications"]
    head = [c.value for c in ws[1]]
    for metric in ("helped_per_year", "core_task_share", "cost_per_helped_dkk"):
        m = registry.METRICS[metric]
        want = f"({i18n.unit_label(m.display_unit, 'en')})"
        col = next(
            i
            for i, h in enumerate(head)
            if h.startswith(i18n.metric_label(metric, "en")[:12].capitalize())
        )
        assert head[col].endswith(want), head[col]
        got = ws.cell(2, col + 1)
        csv = reps.filter(
            (pl.col("metric") == metric)
            & (pl.col("replication") == 0)
            & (pl.col("model") == "classic")
        )["value"][0]
        assert isinstance(got.value, float) and got.value == pytest.approx(csv, rel=1e-12)
        assert got.number_format == ("0.0%" if m.unit == registry.SHARE else got.number_format)
        assert got.number_format != "General"


def test_report_lang_da_rewrites_the_workbook_in_danish(made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(made["run"][0], folder)
    _ = CliRunner().invoke(app, ["report", str(folder), "--lang", "da"])
    assert _.exit_code == 0, _.output
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    assert book.sheetnames[:3] == ["Nøgletal", "Forskelle", "Gentagelser"]
    head, rows = _sheet(folder / "tables.xlsx", "Nøgletal")
    assert {"Gennemsnit", "Enhed", "Nøgletal"} <= set(head)
    row = next(r for r in rows if r["Nøgle"] == "helped_per_year" and r["Model"] == "fælles")
    assert row["Nøgletal"] == i18n.metric_label("helped_per_year", "da").capitalize()
    assert row["Enhed"] == "borgere pr. år"
    assert 'href="tables.xlsx"' in (folder / "report.da.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- sim compare


@pytest.fixture(scope="module")
def other_run(made, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """A second run of the base beside the first, with another seed and 3 replications."""
    out = made["run"][0].parent / "run_seed5"
    _invoke(
        "run", str(BASE), "--reps", "3", "--seed", "5", *SHORT, "--no-report", "--out", str(out)
    )
    return out


def test_compare_refuses_one_folder(made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    folder = made["run"][0]
    result = CliRunner().invoke(app, ["compare", str(folder)])
    assert result.exit_code == 2
    assert "two or more results folders" in result.output and "Traceback" not in result.output
    assert (
        not (tmp_path / "compare.html").exists() and not (folder.parent / "compare.html").exists()
    )


def test_compare_writes_beside_the_first_folder_prints_the_table_and_warns(  # type: ignore[no-untyped-def]
    made, other_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = made["run"][0]
    result = CliRunner().invoke(app, ["compare", str(first), str(other_run)])
    assert result.exit_code == 0, result.output
    page = first.parent / "compare.html"
    assert page.is_file() and not (tmp_path / "compare.html").exists()
    # the table on the console: every compared metric's label, and the helped mean of each run
    out = result.output
    for key in registry.shown_in("compare_table"):
        assert i18n.metric_label(key, "en")[:1].upper() + i18n.metric_label(key, "en")[1:12] in out
    for folder in (first, other_run):
        s = pl.read_csv(folder / "summary.csv").filter(
            (pl.col("metric") == "helped_per_year") & (pl.col("model") == "joint")
        )
        assert i18n.fmt_num(s["mean"][0], "en", 1) in out
    # the runs differ in replications (2 and 3) and seed: both said, on the console and the page
    text = page.read_text(encoding="utf-8")
    for what in ("replications", "seed"):
        warning = i18n.t(f"caution.compare_{what}", "en", runs="\0").split("\0")[1][:40]
        assert warning in " ".join(out.split()), what
        assert warning in text, what
    (tmp_path / "elsewhere").mkdir()
    chosen = tmp_path / "elsewhere" / "c.html"
    result = CliRunner().invoke(app, ["compare", str(first), str(first), "--out", str(chosen)])
    assert result.exit_code == 0 and chosen.is_file()
    assert "differ in" not in result.output  # the same folder twice: nothing to warn about


# --------------------------------------------------------------------------- warnings everywhere


def _flat(text: str) -> str:
    """Text with every run of white space (and a console's line breaks) as one space."""
    return " ".join(text.split())


@pytest.mark.parametrize("kind", KINDS)
def test_few_replications_warned_on_the_console_and_in_each_report(
    made, kind: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import html
    import shutil

    folder, console = made[kind]
    for lang in ("en", "da"):
        warning = i18n.t("warn.few_reps", lang, n=2)
        if lang == "en":
            assert warning in _flat(console), kind
            page = (folder / "report.html").read_text(encoding="utf-8")
        else:
            copy = tmp_path / kind
            shutil.copytree(folder, copy)
            result = CliRunner().invoke(app, ["report", str(copy), "--lang", "da"])
            assert result.exit_code == 0, result.output
            page = (copy / "report.da.html").read_text(encoding="utf-8")
        assert html.escape(warning) in page, (kind, lang)


def test_sweep_warns_of_budget_left_unspent_at_the_larger_budget(made) -> None:  # type: ignore[no-untyped-def]
    """Fixed staff cost 16.185 M DKK; the point with an 18 M DKK budget leaves 1.815 M unspent
    (10 %), the 16.5 M point 0.315 M (1.9 %, below the threshold of a mention)."""
    import html

    folder, console = made["sweep"]
    points = pl.read_csv(folder / "points.csv")
    big = points.filter(pl.col("budget.annual_dkk") == 18_000_000)["point"][0]
    warning = i18n.t(
        "caution.sweep_unspent", "en", n=1, total=2, points=str(big),
        unspent=i18n.fmt_dkk(18_000_000 - 16_185_000, "en"),
    )  # fmt: skip
    assert warning in _flat(console)
    assert html.escape(warning) in (folder / "report.html").read_text(encoding="utf-8")


def test_compare_shows_each_runs_warnings(made, other_run: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "c.html"
    result = CliRunner().invoke(
        app, ["compare", str(made["run"][0]), str(other_run), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for n in (2, 3):
        warning = i18n.t("warn.few_reps", "en", n=n)
        assert warning in _flat(result.output)
        assert warning in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- one unit per metric


def _console_rows(text: str, label: str) -> list[str]:
    return [line for line in text.splitlines() if label in line]


def test_run_console_shows_shares_in_percent_and_their_differences_in_points(made) -> None:  # type: ignore[no-untyped-def]
    folder, console = made["run"]
    m = registry.METRICS["core_task_share"]
    label = i18n.metric_label("core_task_share", "en").capitalize()
    level, diff = _console_rows(console, label)[:2]
    assert f"│ {i18n.unit_label(m.display_unit, 'en')} " in level
    assert i18n.unit_label("percentage_points", "en") in diff
    summary = pl.read_csv(folder / "summary.csv").filter(pl.col("metric") == "core_task_share")
    for mean in summary["mean"]:
        assert i18n.fmt_num(mean * m.scale, "en", 1) in level  # percent, not 0-1
    d = pl.read_csv(folder / "differences.csv").filter(pl.col("metric") == "core_task_share")
    assert i18n.fmt_num(d["mean"][0] * m.scale, "en", 1) in diff


def test_sweep_console_shows_a_share_in_percent_with_labels(made) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console

    from sim.app.sweep import sweep_table

    folder, _ = made["sweep"]
    console = Console(width=250, record=True)
    console.print(sweep_table(folder, "core_task_share", lang="da"))
    text = console.export_text()
    m = registry.METRICS["core_task_share"]
    assert i18n.metric_label("core_task_share", "da") in text
    assert (
        f"({i18n.unit_label(m.display_unit, 'da')})" in text
        and i18n.model_name("joint", "da") in text
    )
    assert f"({i18n.unit_label('percentage_points', 'da')})" in text
    summary = pl.read_csv(folder / "summary.csv").filter(pl.col("metric") == "core_task_share")
    for mean in summary["mean"]:
        assert i18n.fmt_num(mean * m.scale, "da", 1) in text


def test_sweep_points_table_states_the_unit_its_cells_are_in(made) -> None:  # type: ignore[no-untyped-def]
    import re

    folder, _ = made["sweep"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    table = page[page.index('<table class="kpi">') :]
    table = table[: table.index("</table>")]
    head = re.findall(r"<th>(.*?)</th>", table)
    budget = next(h for h in head if i18n.t("param.annual_dkk", "en") in h)
    assert f"({i18n.unit_label('million_dkk_per_year', 'en')})" in budget
    assert i18n.fmt_exact(16.5, "en") in table and "16,500,000" not in table
    unit = i18n.unit_label(registry.METRICS["helped_per_year"].display_unit, "en")
    assert any(h.startswith(i18n.model_name("classic", "en")) and unit in h for h in head)


# --------------------------------------------------------------------------- Danish throughout


def test_danish_report_has_the_meaning_column_sd_in_danish_and_a_plain_headline(  # type: ignore[no-untyped-def]
    made, tmp_path: Path
) -> None:
    import html
    import re
    import shutil

    from sim.present.report import load_scenario, scenario_params

    folder = tmp_path / "run"
    shutil.copytree(made["run"][0], folder)
    assert CliRunner().invoke(app, ["report", str(folder), "--lang", "da"]).exit_code == 0
    page = (folder / "report.da.html").read_text(encoding="utf-8")
    table = page[page.index('<table class="params">') :]
    table = html.unescape(table[: table.index("</table>")])
    assert f"<th>{i18n.t('col.meaning', 'da')}</th>" in table
    for p in scenario_params(load_scenario(folder)):
        if p.description:  # every meaning is Danish: no English description is left
            assert p.description not in table, p.key
    assert i18n.t("meaning.budget.annual_dkk", "da") in table
    # distributions name their parameters in Danish: no bare "sd"
    assert re.search(r"(?<!\w)sd(?!\w)", re.sub(r"<code>.*?</code>", "", table)) is None
    assert i18n.t("dist.sd", "da") in table
    headline = page[page.index('class="headline"') :][:2000]
    assert "medianventetiden" not in headline and "kortede" not in headline
    assert "ventetiden fra henvisning til opstart af støtte" in headline


# --------------------------------------------------------------------------- the sweep report


@pytest.fixture(scope="module")
def grid2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 sweep (budget x the rate of giving up waiting): two panels and a heatmap."""
    root = tmp_path_factory.mktemp("grid2")
    grid = root / "grid2.yaml"
    grid.write_text(
        BASE.read_text(encoding="utf-8") + "\nsweep:\n  parameters:\n"
        "    budget.annual_dkk: [16500000, 18000000]\n"
        "    exits.abandon_waiting_per_year: [0.5, 2.0]\n",
        encoding="utf-8",
    )
    _invoke("sweep", str(grid), "--reps", "2", *SHORT, "--out", str(root / "out"))
    return root / "out"


def test_sweep_report_has_a_computed_in_short(grid2: Path) -> None:
    import html

    page = html.unescape((grid2 / "report.html").read_text(encoding="utf-8"))
    assert f'<h2 id="headline">{i18n.t("report.headline", "en")}</h2>' in page
    d = pl.read_csv(grid2 / "differences.csv").filter(
        (pl.col("metric") == "helped_per_year") & (pl.col("model") == "joint")
    )
    means = d["mean"].to_list()
    above = int((d["ci_low"] > 0).sum())
    below = int((d["ci_high"] < 0).sum())
    digits = i18n.auto_digits(max(abs(v) for v in means))
    want = i18n.t(
        "caution.sweep_headline", "en", n=4,
        model=i18n.model_phrase("joint", "en"), baseline=i18n.model_phrase("classic", "en"),
        metric=i18n.metric_label("helped_per_year", "en"),
        lo=i18n.fmt_num(min(means), "en", digits, sign=True),
        hi=i18n.fmt_num(max(means), "en", digits, sign=True),
        unit=i18n.unit_label("citizens/year", "en"),
        above=above, below=below, unclear=4 - above - below,
    )  # fmt: skip
    assert want in page


def test_sweep_panels_share_the_value_axis_and_each_names_its_x_axis(grid2: Path) -> None:
    from sim.present.sweep_report import sweep_figures
    from sim.store.reader import load_sweep

    figs = sweep_figures(load_sweep(grid2), "da")
    lines = figs["lines"].layout
    xaxes = [lines[k] for k in lines if k.startswith("xaxis")]
    yaxes = {k: lines[k] for k in lines if k.startswith("yaxis")}
    assert len(xaxes) == len(yaxes) >= 2  # one panel per value of the other parameter
    assert all(ax.title.text for ax in xaxes)
    assert all(ax.matches == "y" for k, ax in yaxes.items() if k != "yaxis")
    assert all(ax.showticklabels is not False for ax in xaxes)


def test_heatmap_cell_labels_are_drawn_above_the_break_even_region(grid2: Path) -> None:
    from sim.present.sweep_report import sweep_figures
    from sim.store.reader import load_sweep

    heat = sweep_figures(load_sweep(grid2), "en")["heatmap"]
    last = heat.data[-1]
    assert last.type == "scatter" and last.mode == "text"
    assert all(tr.type != "contour" for tr in heat.data[heat.data.index(last) + 1 :])
    d = pl.read_csv(grid2 / "differences.csv").filter(
        (pl.col("metric") == "helped_per_year") & (pl.col("model") == "joint")
    )
    digits = 0 if max(abs(v) for v in d["mean"]) >= 20 else 1
    want = sorted(i18n.fmt_num(v, "en", digits, sign=True) for v in d["mean"])
    assert sorted(last.text) == want
    assert not any(getattr(tr, "texttemplate", None) for tr in heat.data if tr.type == "heatmap")
