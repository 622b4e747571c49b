"""§ 85 starts and short courses shown apart, summing to "helped", and support after the goals
among the key figures (issue 9 items 4 and 11, the presentation side).

The expected figures are rebuilt from replications.csv (each replication's § 85 starts plus its
short courses), not read from the engine's own "helped" counter or the summary table.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.present import i18n
from sim.present.console import row_label

from .conftest import SCENARIOS

MODELS = ("classic", "joint")
S85, COURSE, HELPED = "s85_starts_per_year", "short_course_per_year", "helped_per_year"
POST_HOURS, POST_WEEKS = "post_goal_hours_per_year", "post_goal_weeks_per_episode"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`sim run` of Odder (3 replications of 3 years): the folder and what the console printed."""
    out = tmp_path_factory.mktemp("split") / "r"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", "--reps", "3"]
    args += ["--set", "experiment.horizon_weeks=156", "--set", "experiment.warmup_weeks=26"]
    res = CliRunner().invoke(app, ["run", *args])
    assert res.exit_code == 0, res.output
    return out, res.output


def _reps(folder: Path) -> dict[tuple[str, str], list[float]]:
    df = pl.read_csv(folder / "replications.csv", schema_overrides={"value": pl.Float64})
    out: dict[tuple[str, str], list[float]] = {}
    for r in df.sort("replication").iter_rows(named=True):
        out.setdefault((r["model"], r["metric"]), []).append(r["value"])
    return out


def _mean(values: list[float]) -> float:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept)


def _rebuilt(folder: Path) -> dict[str, dict[str, float]]:
    """Per model: § 85 starts, short courses, their sum and the post-goal figures, as means over
    the replications in replications.csv; and the paired differences joint - classic."""
    reps = _reps(folder)
    out: dict[str, dict[str, float]] = {}
    for m in MODELS:
        s85, course = reps[(m, S85)], reps[(m, COURSE)]
        out[m] = {
            S85: _mean(s85),
            COURSE: _mean(course),
            "sum": _mean([a + b for a, b in zip(s85, course, strict=True)]),
            POST_HOURS: _mean(reps[(m, POST_HOURS)]),
            POST_WEEKS: _mean(reps[(m, POST_WEEKS)]),
        }
    out["diff"] = {
        k: _mean([a - b for a, b in zip(reps[("joint", k)], reps[("classic", k)], strict=True)])
        for k in (S85, COURSE)
    }
    return out


def _console_row(output: str, metric: str, lang: str = "en") -> list[float]:
    """The first number of each model's cell in the console's summary row of ``metric``, found
    by the start of its label (the report's label; rich may wrap the rest)."""
    summary = output[: output.index(i18n.t("console.differences_title", lang)[:12])]
    start = row_label(metric, lang)[:24]
    line = next(x for x in summary.splitlines() if start in x)
    cells = [c.strip() for c in line.split("│")[3:-1]]
    return [i18n.parse_num(c.split()[0], lang) for c in cells]


def test_console_shows_s85_starts_and_short_courses_summing_to_helped(
    run: tuple[Path, str],
) -> None:
    folder, output = run
    want = _rebuilt(folder)
    helped = _console_row(output, "helped_per_year")
    s85 = _console_row(output, S85)
    course = _console_row(output, COURSE)
    for k, m in enumerate(MODELS):
        assert s85[k] == pytest.approx(want[m][S85], abs=0.05)
        assert course[k] == pytest.approx(want[m][COURSE], abs=0.05)
        assert helped[k] == pytest.approx(want[m]["sum"], abs=0.05)
        assert course[k] > 0 and s85[k] > course[k]  # both kinds happen in Odder
    assert "Helped = § 85 starts + short-course starts" in " ".join(output.split())


def test_console_shows_support_after_the_goals(run: tuple[Path, str]) -> None:
    folder, output = run
    want = _rebuilt(folder)
    hours = _console_row(output, POST_HOURS)
    weeks = _console_row(output, POST_WEEKS)
    for k, m in enumerate(MODELS):
        assert hours[k] == pytest.approx(want[m][POST_HOURS], abs=0.5)
        assert weeks[k] == pytest.approx(want[m][POST_WEEKS], abs=0.05)


def test_the_console_speaks_the_language_of_the_run_with_the_reports_labels(
    tmp_path: Path,
) -> None:
    out = tmp_path / "da"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", "--reps", "2"]
    args += ["--set", "experiment.horizon_weeks=104", "--set", "experiment.warmup_weeks=26"]
    res = CliRunner().invoke(app, ["run", *args, "--lang", "da", "--no-report"])
    assert res.exit_code == 0, res.output
    want = _rebuilt(out)
    helped = _console_row(res.output, HELPED, "da")  # Danish numbers: 1.234,5
    for k, m in enumerate(MODELS):
        assert helped[k] == pytest.approx(want[m]["sum"], abs=0.05)
    flat = " ".join(res.output.split())
    assert i18n.t("note.helped_sum", "da") in flat
    assert i18n.model_name("joint", "da") in flat
    assert row_label(HELPED, "en")[:24] not in res.output


def _kpi_means(page: str, metric: str, lang: str) -> list[float]:
    """The model means in the report's key-figure row of ``metric``."""
    kpis = page[page.index('id="kpis"') : page.index('id="figures"')]
    label = html.escape(
        i18n.metric_label(metric, lang)[:1].upper() + i18n.metric_label(metric, lang)[1:]
    )
    row = next(r for r in kpis.split("<tr>") if r.startswith(f"<td>{label}</td>"))
    cells = re.findall(r'<td class="num">([^<]*)', row)
    return [i18n.parse_num(c, lang) for c in cells[: len(MODELS)]]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_report_key_figures_and_headline_split_helped(run: tuple[Path, str], lang: str) -> None:
    from sim.present.report import headline, write_report

    folder, _ = run
    want = _rebuilt(folder)
    page = write_report(folder, lang=lang).read_text(encoding="utf-8")
    helped = _kpi_means(page, HELPED, lang)
    s85 = _kpi_means(page, S85, lang)
    course = _kpi_means(page, COURSE, lang)
    for k, m in enumerate(MODELS):
        assert s85[k] == pytest.approx(want[m][S85], abs=0.5)
        assert course[k] == pytest.approx(want[m][COURSE], abs=0.5)
        assert helped[k] == pytest.approx(want[m]["sum"], abs=0.5)
        assert _kpi_means(page, POST_HOURS, lang)[k] == pytest.approx(want[m][POST_HOURS], abs=0.5)
        assert _kpi_means(page, POST_WEEKS, lang)[k] == pytest.approx(want[m][POST_WEEKS], abs=0.5)
    # "Helped" is defined as the sum where its figure is shown.
    assert "§ 85" in i18n.metric_label(HELPED, lang)
    text = headline(folder, lang)
    split = text[text.index("§ 85") :]
    for metric in (S85, COURSE):
        d = want["diff"][metric]
        shown = i18n.fmt_num(d, lang, i18n.auto_digits(d), sign=True)
        assert shown in split, (metric, shown, text)
