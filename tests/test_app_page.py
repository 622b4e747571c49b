"""The what-if page's logic through Streamlit's own app-testing API (no browser): figures that
match `sim run`, controls validated with the loader's words, pin and compare, language switch,
downloads."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import dump_resolved, load_scenario
from sim.present import i18n

from .conftest import TEST_BASE

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "sim" / "web" / "app.py"
SHORT = [
    "experiment.horizon_weeks=130",
    "experiment.warmup_weeks=26",
    "experiment.replications=3",
    "staffing={mode: share, authority_share: 0.1}",  # the budget pays for the staff
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' frozen Odder-like base (fixed staff costs 16,185,000 DKK/year at its FTEs; the
    page's share staffing spends the whole 16.5 M DKK budget) with a short experiment."""
    sc = load_scenario(TEST_BASE, SHORT)
    path = tmp_path_factory.mktemp("page") / "small.yaml"
    path.write_text(dump_resolved(sc), encoding="utf-8")
    return path


def page(monkeypatch: pytest.MonkeyPatch, scenario: Path, *args: str) -> AppTest:
    monkeypatch.setattr("sys.argv", ["app.py", "--scenario", str(scenario), "--jobs", "2", *args])
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sim_run_summary(scenario: Path, out: Path, *sets: str) -> pl.DataFrame:
    args = ["run", str(scenario), "--out", str(out), "--no-report", "--jobs", "2"]
    res = CliRunner().invoke(app, [*args, *(a for s in sets for a in ("--set", s))])
    assert res.exit_code == 0, res.output
    return pl.read_csv(out / "summary.csv")


def shown(at: AppTest, model: str, metric: str, lang: str = "en") -> str:
    """The key-figure table's cell of ``metric`` under ``model``."""
    df = at.table[0].value
    row = df[df[i18n.t("col.metric", lang)] == i18n.metric_label(metric, lang)]
    return str(row[i18n.model_name(model, lang)].iloc[0])


def expected(summary: pl.DataFrame, model: str, metric: str) -> str:
    """The same cell computed from `sim run`'s summary.csv."""
    row = summary.filter((pl.col("model") == model) & (pl.col("metric") == metric)).row(
        0, named=True
    )
    scale = i18n.metric_scale(metric)
    m, lo, hi = (row[k] * scale for k in ("mean", "ci_low", "ci_high"))
    return i18n.fmt_ci(m, lo, hi, "en", i18n.auto_digits(m))


def progress(at: AppTest) -> str:
    return next(m.value for m in at.markdown if 'id="progress"' in m.value)


def test_the_page_shows_the_figures_of_sim_run_and_follows_the_budget(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(monkeypatch, small)
    assert "Replications 3 of 3 done" in progress(at)
    run = sim_run_summary(small, tmp_path / "a")
    for model in ("classic", "joint"):
        for metric in ("helped_per_year", "time_to_start_median_weeks", "core_task_share"):
            assert shown(at, model, metric) == expected(run, model, metric)
    units = dict(zip(at.table[0].value["Figure"], at.table[0].value["Unit"], strict=True))
    assert units[i18n.metric_label("core_task_share", "en")] == "% (differences: percentage points)"
    assert units[i18n.metric_label("time_to_start_median_weeks", "en")] == "weeks"
    before = shown(at, "joint", "helped_per_year")
    at.number_input(key="budget").set_value(17_500_000.0).run()
    moved = sim_run_summary(small, tmp_path / "b", "budget.annual_dkk=17500000")
    after = shown(at, "joint", "helped_per_year")
    assert after == expected(moved, "joint", "helped_per_year") != before
    assert any("Only 3 replications" in m.value for m in at.markdown)  # the run's warnings too


def test_a_bad_control_shows_the_loaders_words_and_no_stale_figures(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(monkeypatch, small)
    at.number_input(key="budget").set_value(-5.0).run()
    assert [e.value for e in at.error] == [i18n.t("app.invalid", "en")]
    assert at.code[0].value == (
        "Annual budget (DKK/year): budget.annual_dkk=-5: "
        "Input should be greater than 0 (found -5.0)"
    )
    assert not at.table
    at.radio(key="mode").set_value("fixed").run()
    at.number_input(key="budget").set_value(10e6).run()
    assert "staff cost 16,500,000 DKK/year exceeds the budget 10,000,000" in at.code[0].value


def test_an_invalid_scenario_file_gets_the_messages_of_sim_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "scenarios" / "odder.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("rate_per_week: 3.0", "rate_per_week: lots"), encoding="utf-8")
    at = page(monkeypatch, bad)
    validate = CliRunner().invoke(app, ["validate", str(bad)])
    assert validate.exit_code == 2
    assert at.code[0].value.strip() == validate.output.strip()


def test_pin_and_compare_with_a_hybrid(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(monkeypatch, small)
    pinned = shown(at, "joint", "helped_per_year")
    at.button(key="pin").click().run()
    assert len(at.table) == 2  # the comparison appears at once, the same what-if twice
    at.selectbox(key="mech-joint-review").set_value("classic").run()
    assert "Replications 3 of 3 done" in progress(at)
    df = at.table[1].value
    row = df[
        (df["Figure"] == i18n.metric_label("helped_per_year", "en")) & (df["Model"] == "joint")
    ]
    assert row["pinned"].iloc[0] == pinned
    assert row["current"].iloc[0] == shown(at, "joint", "helped_per_year")
    assert len(at.get("plotly_chart")) == 2  # the forest of differences, and the compared one


def test_the_language_switch_keeps_the_what_if(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(monkeypatch, small)
    at.radio(key="lang").set_value("da").run()
    assert at.title[0].value == i18n.t("app.title", "da")
    assert "3 af 3 gentagelser færdige" in progress(at)
    assert list(at.table[0].value.columns)[:4] == ["Nøgletal", "Enhed", "klassisk", "fælles"]


def test_downloads_after_the_run(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(monkeypatch, small)
    keys = [b.key for b in at.get("download_button")]
    assert keys == ["dl-yaml"]
    at.button(key="prepare").click().run()
    keys = [b.key for b in at.get("download_button")]
    assert keys[:2] == ["dl-yaml", "dl-report.html"]
    assert {"dl-tables.xlsx", "dl-summary.csv", "dl-differences.csv", "dl-replications.csv"} <= set(
        keys
    )
