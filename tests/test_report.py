"""Reports and figures: headline numbers, languages, units on axes, one self-contained file."""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sim.present import i18n
from sim.present.i18n import LABELS
from sim.present.plots import (
    compare_figures,
    fig_differences,
    load_results,
    model_styles,
    report_figures,
    unit_key,
)
from sim.present.report import (
    ImageExportError,
    ensure_image_export,
    headline,
    write_compare_report,
    write_report,
)

from .report_data import BASE, build_results, short_odder

NUM = re.compile(r"[+\u2212-]?\d(?:[\d.,]*\d)?")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, real results folder (3 replications of 3 years of odder.yaml)."""
    return build_results(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture
def copy_of(results: Path, tmp_path: Path) -> Path:
    """A private copy of the results folder, free to edit."""
    return Path(shutil.copytree(results, tmp_path / "run"))


# --------------------------------------------------------------------------- i18n


def test_both_languages_have_the_same_keys() -> None:
    assert set(LABELS["en"]) == set(LABELS["da"])
    missing = [k for k, v in LABELS["da"].items() if not v and LABELS["en"][k]]
    assert missing == []


def test_every_scenario_field_and_distribution_parameter_has_a_label() -> None:
    from pydantic import BaseModel

    from sim.model import distributions, scenario

    names: set[str] = set()
    seen: set[type] = set()

    def visit(cls: type[BaseModel]) -> None:
        if cls in seen:
            return
        seen.add(cls)
        for name, info in cls.model_fields.items():
            names.add(name)
            for sub in _model_classes(info.annotation):
                if not issubclass(sub, distributions._Dist):
                    visit(sub)

    visit(scenario.Scenario)
    visit(scenario.VisitationModel)
    missing = sorted(n for n in names if not i18n.has(f"param.{n}"))
    assert missing == [], f"add param.<name> labels to sim/i18n.py for: {missing}"
    dist_fields = {
        (info.alias or name)
        for cls in distributions._Dist.__subclasses__()
        if cls is not distributions.Fixed  # a fixed value is shown bare
        for name, info in cls.model_fields.items()
        if name != "kind"
    }
    assert sorted(f for f in dist_fields if not i18n.has(f"dist.{f}")) == []


def _model_classes(annotation: Any) -> list[type]:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [c for a in get_args(annotation) for c in _model_classes(a)]


def test_every_metric_of_a_run_has_a_label_and_a_unit(results: Path) -> None:
    res = load_results(results)
    for lang in i18n.LANGS:
        for metric in res.metrics():
            assert i18n.metric_label(metric, lang) != metric, metric
            unit = unit_key(res, metric)
            assert i18n.has(f"unit.{unit}", lang), (metric, unit)


@pytest.mark.parametrize(
    ("lang", "number", "digits", "expected"),
    [
        ("en", 1234.5, 1, "1,234.5"),
        ("da", 1234.5, 1, "1.234,5"),
        ("en", -12.26, 1, "-12.3"),  # CLDR's minus sign for en and da is the hyphen-minus
        ("da", 1234567.0, 0, "1.234.567"),
        ("da", 0.5, 2, "0,50"),
    ],
)
def test_numbers_are_formatted_the_languages_way(
    lang: str, number: float, digits: int, expected: str
) -> None:
    text = i18n.fmt_num(number, lang, digits)
    assert text == expected
    assert i18n.parse_num(text, lang) == pytest.approx(number, abs=0.5 * 10**-digits)


def test_money_and_ranges() -> None:
    assert i18n.fmt_dkk(16.5e6, "en") == "16.5 M DKK"
    assert i18n.fmt_dkk(16.5e6, "da") == "16,5 mio. kr."
    assert i18n.fmt_dkk(121650.2, "da") == "121.650 kr."
    assert i18n.fmt_range(24, 28, "en", 0) == "24\u201328"
    assert i18n.fmt_range(-8, -2, "da", 0) == "-8 til -2"
    assert i18n.fmt_num(math.nan, "da") == "ikke opgjort"


# --------------------------------------------------------------------------- headline


def _shown(text: str, lang: str) -> list[tuple[float, float]]:
    """Each number in ``text`` with the rounding its printed decimals allow."""
    text = text.replace(LABELS[lang]["num.ci"], " ")
    out = []
    for tok in NUM.findall(text):
        decimal = "," if lang == "da" else "."
        decimals = len(tok.split(decimal)[1]) if decimal in tok else 0
        out.append((i18n.parse_num(tok, lang), 0.5 * 10**-decimals + 1e-9))
    return out


def _expected(folder: Path) -> tuple[list[float], str, str]:
    """The numbers the headline must show, in order, and the words for helped and wait."""
    s = pl.read_csv(folder / "summary.csv")
    d = pl.read_csv(folder / "differences.csv")

    def stat(model: str, metric: str) -> float:
        return s.filter((pl.col("model") == model) & (pl.col("metric") == metric))["mean"][0]

    row = d.filter(pl.col("metric") == "helped_per_year").row(0, named=True)
    wait = d.filter(pl.col("metric") == "time_to_start_median_weeks").row(0, named=True)
    budget = load_results(folder).manifest["budget_dkk_per_year"] / 1e6
    mean, lo, hi = row["mean"], row["ci_low"], row["ci_high"]
    if lo > 0:
        helped, nums = "more", [abs(mean), lo, hi]
    elif hi < 0:
        helped, nums = "fewer", [abs(mean), -hi, -lo]
    else:
        helped, nums = "same", [mean, lo, hi]
    waited = "cut" if wait["ci_high"] < 0 else "longer" if wait["ci_low"] > 0 else "same"
    medians = [stat(m, "time_to_start_median_weeks") for m in ("classic", "joint")]
    split = []  # "§ 85 starts" and the paired difference of each part of helped, with its CI
    for metric in ("s85_starts_per_year", "short_course_per_year"):
        part = d.filter(pl.col("metric") == metric).row(0, named=True)
        split += [85, part["mean"], part["ci_low"], part["ci_high"]]
    censored = [stat(m, "time_to_start_censored") for m in ("classic", "joint")]
    return [budget, *nums, *medians, *split, *censored], helped, waited


WORDS = {
    "en": {
        "more": "more citizens a year",
        "fewer": "fewer citizens a year",
        "same": "no clear difference",
        "cut": "cut the median wait",
        "longer": "lengthened the median wait",
    },
    "da": {
        "more": "flere borgere om året",
        "fewer": "færre borgere om året",
        "same": "ingen klar forskel",
        "cut": "ventetiden fra henvisning til opstart af støtte faldt",
        "longer": "ventetiden fra henvisning til opstart af støtte steg",
    },
}


def _check_headline(folder: Path, lang: str) -> str:
    text = headline(folder, lang)
    expected, helped, waited = _expected(folder)
    shown = _shown(text, lang)
    assert len(shown) == len(expected), (text, expected)
    for (value, tol), want in zip(shown, expected, strict=True):
        assert abs(value - want) <= tol, (text, value, want)
    assert WORDS[lang][helped] in text
    if waited == "same":
        # Danish says "ingen klar forskel" of the helped, "uden klar forskel" of the wait.
        assert text.count(WORDS[lang]["same"].replace("ingen ", "")) >= 1
    else:
        assert WORDS[lang][waited] in text
    return text


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_headline_numbers_are_those_of_the_tables(results: Path, lang: str) -> None:
    text = _check_headline(results, lang)
    assert text.startswith("With a budget of" if lang == "en" else "Med et budget på")


def _set_difference(folder: Path, metric: str, mean: float, lo: float, hi: float) -> None:
    path = folder / "differences.csv"
    df = pl.read_csv(path)
    hit = pl.col("metric") == metric
    df = df.with_columns(
        pl.when(hit).then(mean).otherwise(pl.col("mean")).alias("mean"),
        pl.when(hit).then(lo).otherwise(pl.col("ci_low")).alias("ci_low"),
        pl.when(hit).then(hi).otherwise(pl.col("ci_high")).alias("ci_high"),
    )
    df.write_csv(path)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_headline_says_no_clear_difference_when_the_ci_includes_zero(
    copy_of: Path, lang: str
) -> None:
    _set_difference(copy_of, "helped_per_year", 1.5, -2.0, 5.0)
    _set_difference(copy_of, "time_to_start_median_weeks", -0.4, -1.1, 0.3)
    text = _check_headline(copy_of, lang)
    assert WORDS[lang]["more"] not in text
    assert WORDS[lang]["cut"] not in text


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_headline_says_fewer_when_the_model_helps_fewer(copy_of: Path, lang: str) -> None:
    _set_difference(copy_of, "helped_per_year", -5.0, -8.0, -2.0)
    _check_headline(copy_of, lang)


def test_headline_of_a_single_model(copy_of: Path) -> None:
    d = pl.read_csv(copy_of / "differences.csv")
    d.clear().write_csv(copy_of / "differences.csv")
    text = headline(copy_of, "en")
    assert "more citizens" not in text and "the classic model helped" in text


# --------------------------------------------------------------------------- figures

UNIT_AXES = ("axis.model", "axis.statistic", "axis.run", "axis.comparison")


def _axis(layout: Any, ref: str) -> Any:
    name = ("xaxis" if ref.startswith("x") else "yaxis") + ref[1:]
    return layout[name]


def _assert_value_axes_have_units(fig: Any, lang: str) -> None:
    units = {v for k, v in LABELS[lang].items() if k.startswith("unit.") and v}
    assert fig.layout.title.text, "every figure has a title"
    checked = 0
    for tr in fig.data:
        horizontal = (tr.type == "bar" and tr.orientation == "h") or (
            tr.type == "scatter" and tr.error_x is not None and tr.error_x.array is not None
        )
        ref = (tr.xaxis or "x") if horizontal else (tr.yaxis or "y")
        title = _axis(fig.layout, ref).title.text
        assert title, (fig.layout.title.text, ref)
        inner = re.findall(r"\(([^()]*)\)\s*$", title)
        assert inner and inner[0] in units, (fig.layout.title.text, title)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_figure_has_titled_value_axes_with_units(results: Path, lang: str) -> None:
    res = load_results(results)
    figs = report_figures(res, lang)
    assert list(figs) == [
        "helped_per_year",
        "time_to_start",
        "citizens_over_time",
        "staff_hours",
        "cost_per_helped",
        "differences",
    ]
    for fig in [*figs.values(), *compare_figures([res, res], lang).values()]:
        _assert_value_axes_have_units(fig, lang)
        for ax in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
            title = fig.layout[ax].title.text
            if title and title not in {LABELS[lang][k] for k in UNIT_AXES}:
                assert re.search(r"\([^()]+\)\s*$", title), title


def test_each_model_keeps_one_style_and_styles_differ_in_lightness() -> None:
    a = model_styles(["classic", "joint", "hybrid"])
    b = model_styles(["joint", "hybrid", "classic"])
    assert a == b

    def lightness(colour: str) -> float:
        r, g, b_ = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
        return 0.299 * r + 0.587 * g + 0.114 * b_

    values = sorted(lightness(s.colour) for s in a.values())
    assert min(y - x for x, y in itertools.pairwise(values)) > 0.1
    assert len({s.symbol for s in a.values()}) == 3 and len({s.dash for s in a.values()}) == 3


def test_forest_chart_has_one_panel_per_metric_with_its_unit(results: Path) -> None:
    fig = fig_differences(load_results(results), "en")
    titles = [fig.layout[k].title.text for k in fig.layout.to_plotly_json() if k[:5] == "xaxis"]
    assert "difference (citizens/year)" in titles
    assert "difference (weeks)" in titles
    assert "difference (percentage points)" in titles
    assert "difference (DKK)" in titles


# --------------------------------------------------------------------------- the report file


def _without_plotlyjs(text: str) -> str:
    return re.sub(r'<script id="plotlyjs"[^>]*>.*?</script>', "", text, count=1, flags=re.S)


def test_report_is_one_self_contained_file(copy_of: Path) -> None:
    from plotly.offline import get_plotlyjs

    before = {p.name for p in copy_of.iterdir()}
    out = write_report(copy_of, "en")
    assert out == copy_of / "report.html"
    assert {p.name for p in copy_of.iterdir()} - before == {"report.html"}
    text = out.read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()) == 1, "plotly.js is inlined exactly once"
    rest = _without_plotlyjs(text)
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=", rest)
    figures = len(report_figures(load_results(copy_of), "en")) + 1  # + the summary's forest
    assert rest.count("Plotly.newPlot(") == figures
    assert "<style>" in rest and "MathJax" not in rest


def visible_text(page: str) -> str:
    """What a reader sees, minus code identifiers and text the user wrote."""
    s = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    s = re.sub(r"<code>.*?</code>", " ", s, flags=re.S)
    s = re.sub(r'<span class="user">.*?</span>', " ", s, flags=re.S)
    s = re.sub(r'<span class="user-text" lang="[^"]*">.*?</span>', " ", s, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", s))


TEXT_KEYS = {"text", "name", "ticktext", "hovertemplate"}


def figure_text(figs: dict[str, Any]) -> str:
    """Every string a reader can see in the figures (titles, labels, names, hovers)."""
    out: list[str] = []

    def visit(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, k)
        elif isinstance(node, list | tuple):
            for v in node:
                visit(v, key)
        elif isinstance(node, str) and key in TEXT_KEYS:
            out.append(re.sub(r"<[^>]+>|%\{[^}]*\}", " ", node))

    for fig in figs.values():
        visit(fig.to_plotly_json())
    return "\n".join(out)


def _foreign_labels(own: str, other: str) -> list[str]:
    """Label fragments of language ``other`` that differ from ``own``'s label for the same key."""
    out = set()
    for key, value in LABELS[other].items():
        if value == LABELS[own][key]:
            continue
        for frag in re.split(r"\{[^}]*\}", value):
            frag = frag.strip(" ,.;:()\u2212")
            if len(frag) >= 3 and frag not in LABELS[own].values():  # "to" is Danish for two
                out.add(frag)
    return sorted(out)


def test_each_report_speaks_only_its_own_language(copy_of: Path) -> None:
    res = load_results(copy_of)
    seen = {}
    for lang in i18n.LANGS:
        page = write_report(copy_of, lang).read_text(encoding="utf-8")
        figs = report_figures(res, lang)
        for fig in figs.values():  # the page holds these very figures (JSON-escaped)
            assert json.dumps(fig.layout.title.text)[1:-1] in page
        seen[lang] = visible_text(page) + "\n" + figure_text(figs)
    for own, other in (("en", "da"), ("da", "en")):
        leaks = [
            frag
            for frag in _foreign_labels(own, other)
            if re.search(rf"(?<!\w){re.escape(frag)}(?!\w)", seen[own])
        ]
        assert leaks == [], f"{other} labels in the {own} report: {leaks}"


def test_report_shows_every_assumption_and_the_differing_mechanisms(copy_of: Path) -> None:
    text = write_report(copy_of, "en").read_text(encoding="utf-8")
    for key in (
        "budget.annual_dkk",
        "staff.authority.fte_cost_dkk_per_year",
        "segments[0].need_hours_per_week",
        "exits.rereferral_delay_weeks",
        "experiment.seed",
        "review.cadence_weeks",
        "first_contact.joint",
    ):
        assert f"<code>{key}</code>" in text, key
    differing = re.findall(r'<tr class="differs"><td>.*?<code>([^<]+)</code>', text)
    assert "handoff.enabled" in differing and "review.cadence_weeks" in differing
    assert "routing.short_course_weeks" not in differing
    for word in ("1. Aim", "2. Logic", "3. Inputs", "4. Outputs", "5. Experimentation"):
        assert word in text
    assert "20260101" not in text and "<code>11</code>" in text, "seed from the manifest"


def test_compare_report_puts_runs_side_by_side(tmp_path: Path) -> None:
    # two runs of the tests' frozen base (budget 16.5 M DKK), one with a bigger budget
    first = build_results(tmp_path / "base", short_odder(path=BASE))
    other = build_results(tmp_path / "bigger", short_odder(path=BASE, annual_dkk=18_000_000))
    out = write_compare_report([first, other], tmp_path / "compare.html", lang="da")
    text = out.read_text(encoding="utf-8")
    assert "16,5 mio. kr." in text and "18,0 mio. kr." in text
    rest = _without_plotlyjs(text)
    runs = [load_results(first), load_results(other)]
    assert rest.count("Plotly.newPlot(") == len(compare_figures(runs, "da"))
    assert "https://" not in rest


def test_png_export_without_a_browser_fails_clearly_before_writing(
    copy_of: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(copy_of / "no-such-chromium"))
    with pytest.raises(ImageExportError, match="apt-get install chromium") as err:
        write_report(copy_of, "en", png=True)
    assert "sim[images]" in str(err.value)
    assert not (copy_of / "report.html").exists()
    assert not (copy_of / "figures").exists()


def test_png_export_without_kaleido_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "kaleido", None)
    with pytest.raises(ImageExportError, match="kaleido is not installed"):
        ensure_image_export()


def test_unknown_language_is_refused(results: Path) -> None:
    with pytest.raises(ValueError, match="expected one of: en, da"):
        headline(results, "de")
