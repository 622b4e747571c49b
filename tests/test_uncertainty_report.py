"""The uncertainty report: its first screen answers the three questions, in da and en; positions
read from the HTML text, numbers recomputed from the synthetic folder's raw files."""

from __future__ import annotations

import html
import re

import numpy as np
import polars as pl
import pytest

from sim.present.i18n import fmt_num
from sim.present.rebuild import rebuild_report
from sim.present.report import find_browser
from sim.present.uncertainty_report import input_label
from sim.store.integrity import DamagedFolder
from tests import uncertainty_data as ud


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _answer(page: str) -> str:
    m = re.search(r'<p class="headline" id="answer-joint">(.*?)</p>', page, re.S)
    assert m, "no answer box"
    return html.unescape(m.group(1))


def _share_above_zero(folder) -> float:
    reps = pl.read_csv(folder / "replications.csv")
    ids = pl.read_csv(folder / "design.csv").filter(pl.col("role") == "sample")["set_id"]
    means = []
    for s in ids:
        r = reps.filter(pl.col("set_id") == s).sort("replication")
        j = r.filter(pl.col("model") == "joint")["helped_per_year"].to_numpy()
        c = r.filter(pl.col("model") == "classic")["helped_per_year"].to_numpy()
        means.append((j - c).mean())
    return float(np.mean(np.array(means) > 0))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return ud.make_folder(tmp_path_factory.mktemp("unc") / "u")


@pytest.mark.parametrize("lang", ["en", "da"])
def test_first_screen_answers_probability_decider_and_flip(folder, lang):
    page = rebuild_report(folder, lang).read_text(encoding="utf-8")
    answer = _answer(page)
    p = _share_above_zero(folder)
    assert f"{fmt_num(100 * p, lang, 0)} %" in answer
    demand = input_label(ud.DEMAND, lang)
    assert demand in answer
    # the flip: the joint model helps more only above demand X0 = 2.6
    word = "above" if lang == "en" else "over"
    assert re.search(
        re.escape(demand) + rf" (is |er ){word} {re.escape(fmt_num(ud.X0, lang, 1))}", answer
    )
    # the idle inputs carry nothing: not named as deciders
    assert input_label(ud.CADENCE, lang) not in answer
    # the answer comes before the tornado, the tornado before the histogram, sensitivity, inputs
    ids = ("answer-joint", "tornado", "histogram", "sensitivity", "thresholds", "inputs")
    order = [page.index(f'id="{s}"') for s in ids]
    assert order == sorted(order)
    assert f'<html lang="{lang}">' in page


def test_decider_marked_sourced_or_assumed(tmp_path):
    import json

    f = ud.make_folder(tmp_path / "u")
    meta = json.loads((f / "uncertainty.json").read_text())
    for i in meta["inputs"]:
        if i["path"] == ud.DEMAND:
            del i["source"]
            i["assumption"] = "nobody knows"
    (f / "uncertainty.json").write_text(json.dumps(meta))
    answer = _answer(rebuild_report(f, "en").read_text(encoding="utf-8"))
    assert "over its range, an assumption" in answer
    answer = _answer(rebuild_report(ud.make_folder(tmp_path / "v"), "en").read_text())
    assert "over its range, sourced" in answer


def test_sensitivity_section_names_method_and_sample_size(folder):
    text = _text(rebuild_report(folder, "en").read_text(encoding="utf-8"))
    assert "Method: PRCC, 40 parameter sets." in text
    assert "KL Momentum 2016" in text and "guess" in text  # the inputs table's basis


def test_warnings_for_few_sets_and_few_replications(tmp_path):
    f = ud.make_folder(tmp_path / "u", n=10, reps=3)
    page = rebuild_report(f, "en").read_text(encoding="utf-8")
    warns = re.findall(r'<p class="warn">(.*?)</p>', page)
    assert any("Only 10 parameter sets" in w for w in warns)
    assert any("Only 3 replications per set" in w for w in warns)
    quiet = rebuild_report(ud.make_folder(tmp_path / "v", n=40, reps=6), "en").read_text()
    assert '<p class="warn">' not in quiet


def test_never_within_the_range_is_said(tmp_path):
    f = ud.make_folder(tmp_path / "u", search=())
    reps = pl.read_csv(f / "replications.csv")
    # joint helps 50 more in every set: the sign is certain
    reps = reps.with_columns(
        pl.when(pl.col("model") == "joint")
        .then(pl.col("helped_per_year") + 50)
        .otherwise(pl.col("helped_per_year"))
    )
    reps.write_csv(f / "replications.csv")
    design = pl.read_csv(f / "design.csv")
    row = design.filter(pl.col("role") == "low", pl.col("input") == ud.DEMAND)
    extra = row.with_columns(
        pl.lit("threshold").alias("role"), pl.lit(999, dtype=pl.Int64).alias("set_id")
    )
    design = pl.concat([design, extra])
    design.write_csv(f / "design.csv")
    reps = pl.concat([reps, reps.filter(pl.col("set_id") == row["set_id"][0])
                      .with_columns(pl.lit(999, dtype=pl.Int64).alias("set_id"))])  # fmt: skip
    reps.write_csv(f / "replications.csv")
    answer = _answer(rebuild_report(f, "en").read_text(encoding="utf-8"))
    assert "in 100 % of the plausible cases" in answer
    assert "never within its range" in answer


def test_missing_design_is_a_damaged_folder(tmp_path):
    f = ud.make_folder(tmp_path / "u")
    (f / "design.csv").unlink()
    with pytest.raises(DamagedFolder, match=r"design\.csv is missing"):
        rebuild_report(f, "en")
    assert not (f / "report.en.html").exists()


@pytest.mark.skipif(find_browser() is None, reason="no Chromium for kaleido")
def test_png_export(tmp_path):
    f = ud.make_folder(tmp_path / "u")
    rebuild_report(f, "en", png=True)
    pngs = sorted(p.name for p in (f / "figures").glob("*.png"))
    assert pngs == ["difference_joint.png", "tornado_joint.png"]
    assert all((f / "figures" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in pngs)


def test_sim_report_rebuilds_an_uncertainty_folder_and_refuses_a_changed_table(tmp_path):
    import json

    from typer.testing import CliRunner

    from sim.cli import app
    from sim.store.integrity import sha256_of

    f = ud.make_folder(tmp_path / "u")
    meta = json.loads((f / "uncertainty.json").read_text())
    meta["checksums"] = {n: sha256_of(f / n) for n in ("design.csv", "replications.csv")}
    (f / "uncertainty.json").write_text(json.dumps(meta))
    res = CliRunner().invoke(app, ["report", str(f), "--lang", "da"])
    assert res.exit_code == 0, res.output
    assert "Hvor sikre er vi?" in (f / "report.da.html").read_text(encoding="utf-8")
    with (f / "replications.csv").open("a") as fh:
        fh.write("0,joint,99,1.0\n")
    res = CliRunner().invoke(app, ["report", str(f), "--lang", "en"])
    assert res.exit_code == 2
    assert "replications.csv is damaged" in res.output
    assert not (f / "report.en.html").exists()


def test_too_few_sets_for_prcc_is_said(tmp_path):
    f = ud.make_folder(tmp_path / "u", n=5)  # 3 inputs: PRCC needs 6 sets
    page = rebuild_report(f, "en").read_text(encoding="utf-8")
    warns = re.findall(r'<p class="warn">(.*?)</p>', page)
    assert any("Only 5 parameter sets for 3 inputs: PRCC needs at least 6" in w for w in warns)
    ok = rebuild_report(ud.make_folder(tmp_path / "v", n=6), "en").read_text(encoding="utf-8")
    assert "PRCC needs" not in ok


def test_each_uncertainty_report_speaks_only_its_own_language(folder):
    from sim.present.uncertainty_report import uncertainty_page
    from tests.test_report import _foreign_labels, figure_text, visible_text

    seen = {}
    for lang in ("en", "da"):
        page, figs = uncertainty_page(folder, lang)
        # input paths are identifiers (shown in <code>); the synthetic basis texts are the user's
        text = visible_text(page).replace("KL Momentum 2016", " ").replace("guess", " ")
        seen[lang] = text + "\n" + figure_text(figs)
    for own, other in (("en", "da"), ("da", "en")):
        leaks = [
            frag
            for frag in _foreign_labels(own, other)
            if re.search(rf"(?<!\w){re.escape(frag)}(?!\w)", seen[own])
        ]
        assert leaks == [], f"{other} labels in the {own} report: {leaks}"
