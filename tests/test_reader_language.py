"""The reader's language beyond the labels (issues 12 and 14): the presets' sources and
assumptions in Danish, `sim optimise`'s console in Danish, and the waiting-list warning of
`sim explain` on its console and in its report.

Expected texts are taken from the data they come from (the presets' table, the locale files, a
direct run of the same scenario), not from the code that shows them.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import load_scenario
from sim.model.provenance import PRESET_PROVENANCE, provenance_of
from sim.present import i18n
from sim.present.i18n import t
from sim.present.report import load_scenario as folder_scenario
from sim.present.report import render_report
from sim.store.reader import load_results

from . import uncertainty_data as ud
from .report_data import build_results
from .test_optimise import two_stage

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "data" / "odder-base.yaml"


def _flat(text: str) -> str:
    """Console text with rich's line wrapping undone."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- preset texts


def _numbers(text: str) -> Counter[str]:
    """The numbers of a text, decimal comma read as a point (Danish 1,5 is English 1.5)."""
    return Counter(re.findall(r"\d+(?:\.\d+)?", re.sub(r"(\d),(\d)", r"\1.\2", text)))


def _entries() -> list[tuple[str, str, dict[str, object]]]:
    return [(p, rel, e) for p, table in PRESET_PROVENANCE.items() for rel, e in table.items()]


def test_every_preset_text_exists_in_every_language_with_the_same_numbers() -> None:
    assert _entries()
    for preset, rel, entry in _entries():
        english = str(entry.get("source") or entry.get("assumption") or "")
        assert english, (preset, rel)
        for lang in i18n.LANGS:
            if lang == "en":
                continue
            text = entry.get(lang)
            assert isinstance(text, str) and text.strip(), (preset, rel, lang, "missing")
            assert text != english, (preset, rel, lang, "not translated")
            # a translation left behind when the English changes usually keeps the old numbers
            assert _numbers(text) == _numbers(english), (preset, rel, lang)


def test_parity_check_fails_when_a_translation_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = PRESET_PROVENANCE["joint"]["review.adjust_hours"]
    monkeypatch.delitem(entry, "da")
    with pytest.raises(AssertionError, match="missing"):
        test_every_preset_text_exists_in_every_language_with_the_same_numbers()


@pytest.fixture(scope="module")
def odder_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, real results folder of odder.yaml (3 replications of 3 years)."""
    return build_results(tmp_path_factory.mktemp("lang") / "run")


def _preset_texts(folder: Path) -> list[tuple[str, str]]:
    """(English, Danish) of every preset entry the folder's scenario shows, from the table."""
    sc = folder_scenario(folder)
    shown = {p.assumption or p.source for p in provenance_of(sc) if p.origin == "preset"}
    out = []
    for _, _, entry in _entries():
        english = str(entry.get("source") or entry.get("assumption"))
        if english in shown:
            out.append((english, str(entry["da"])))
    return out


def test_danish_report_of_odder_shows_the_presets_texts_in_danish(odder_run: Path) -> None:
    res = load_results(odder_run)
    texts = _preset_texts(odder_run)
    assert len(texts) >= 10  # both presets' entries that Odder keeps
    da = render_report(res, "da", figs={})
    en = render_report(res, "en", figs={})
    for english, danish in texts:
        assert html.escape(danish) in da, danish
        assert html.escape(english) not in da, english
        assert f'<span class="user-text" lang="en">{html.escape(english)}</span>' in en
    assert 'class="user-text" lang="en"' not in da
    # the scenario's own texts stay as written, their language unknown
    sc = folder_scenario(odder_run)
    own = [p.assumption or p.source for p in provenance_of(sc) if p.origin == "scenario"]
    assert own
    for text in own:
        assert f'<span class="user-text" lang="">{html.escape(str(text))}</span>' in da


def test_danish_uncertainty_report_gives_a_preset_input_its_danish_text(tmp_path: Path) -> None:
    from sim.present.rebuild import rebuild_report

    folder = ud.make_folder(tmp_path / "u")
    entry = PRESET_PROVENANCE["joint"]["review.cadence_weeks"]
    meta = json.loads((folder / "uncertainty.json").read_text(encoding="utf-8"))
    for i in meta["inputs"]:
        if i["path"] == ud.CADENCE:
            i.update(assumption=entry["assumption"], origin="preset")
    (folder / "uncertainty.json").write_text(json.dumps(meta), encoding="utf-8")
    da = rebuild_report(folder, "da").read_text(encoding="utf-8")
    assert html.escape(str(entry["da"])) in da
    assert html.escape(str(entry["assumption"])) not in da
    en = rebuild_report(folder, "en").read_text(encoding="utf-8")
    assert html.escape(str(entry["assumption"])) in en
    assert "guess" in da  # a scenario's own text, as written


# --------------------------------------------------------------------------- sim optimise


def test_optimise_console_follows_lang(tmp_path: Path) -> None:
    data = two_stage(rate=15, authority_hours=4, horizon=60)
    data["staffing"] = {"mode": "share", "authority_share": 0.2}  # the defaults note, too
    data["experiment"]["warmup_weeks"] = 10
    path = tmp_path / "two_stage.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML(typ="safe").dump(data, fh)
    out = tmp_path / "o"
    args = ["optimise", str(path), "--out", str(out), "--reps", "2", "--confirm-reps", "2"]
    r = CliRunner().invoke(app, [*args, "--jobs", "1", "--lang", "da"])
    assert r.exit_code == 0, r.output
    console = _flat(r.output)
    for key in ("op.row_share", "op.row_fte", "op.row_helped", "op.row_binds", "op.axis_helped"):
        assert t(key, "da") in console, key
        assert t(key, "en") not in console, key
    assert "bemærk: bemandingsformen er 'share'" in console
    assert "using the optimiser's defaults" not in console
    assert "Named split" not in console and "authority share" not in console
    # the named split's numbers, from the folder's table, in Danish style
    chosen = pl.read_csv(out / "chosen.csv").row(0, named=True)
    p90 = [
        i18n.fmt_num(chosen[k], "da", 1) for k in ("p90_wait_weeks", "p90_ci_low", "p90_ci_high")
    ]
    assert chosen["p90_ci_low"] < chosen["p90_ci_high"]
    assert f"{p90[0]} [{p90[1]}; {p90[2]}]" in console
    assert f"{i18n.fmt_num(chosen['helped_per_year'], 'da', 1)}" in console
    share = i18n.fmt_num(100 * chosen["authority_share"], "da", 1)
    assert f"{share} %" in console and "," in share


# --------------------------------------------------------------------------- sim explain


GROWS = [
    "--set", "arrivals.rate_per_week=3.5", "--set", "exits.abandon_waiting_per_year=0",
    "--set", "experiment.horizon_weeks=312", "--set", "experiment.warmup_weeks=26",
]  # fmt: skip
"""Odder's base with 3.5 referrals a week and nobody giving up: the classic model's waiting list
for support grows to the end (by ~1.7 citizens a week), the joint model's stays short."""


def test_explain_warns_of_a_growing_waiting_list_on_the_console_and_in_the_report(
    tmp_path: Path,
) -> None:
    out = tmp_path / "x"
    args = ["explain", str(BASE), "--sequential", "--reps", "2", *GROWS, "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--jobs", "1", "--lang", "da"])
    assert r.exit_code == 0, r.output
    console = _flat(r.output)
    page = (out / "report.html").read_text(encoding="utf-8")
    # the two models compared, run directly on the same citizens (sim run's engine)
    from sim.run.experiment import run_experiment

    sets = [s for s in GROWS if s != "--set"] + ["experiment.replications=2"]
    direct = run_experiment(load_scenario(BASE, sets), jobs=1)
    for model in ("classic", "joint"):
        mean = float(np.mean(direct.values(model, "support_queue_mean_citizens")))
        end = float(np.mean(direct.values(model, "support_queue_end_citizens")))
        grows = end > max(1.5 * mean, mean + 10)  # the warning's rule, restated
        assert grows == (model == "classic"), (model, mean, end)
        warning = t(
            "warn.growing", "da", model=i18n.model_phrase(model, "da"),
            mean=i18n.fmt_num(mean, "da", 0), end=i18n.fmt_num(end, "da", 0),
        )  # fmt: skip
        assert (_flat(warning) in console) == grows, (model, console)
        assert (html.escape(warning) in page) == grows, model
    # the contributions' numbers are in Danish style too (from the folder's table)
    table = pl.read_csv(out / "contributions.csv")
    total = table.filter((pl.col("metric") == "helped_per_year") & (pl.col("step") == 0)).row(
        0, named=True
    )
    cells = [i18n.fmt_num(total[k], "da", 1) for k in ("ci_low", "ci_high")]
    assert f"{i18n.fmt_num(total['mean'], 'da', 1, sign=True)} [{cells[0]}; {cells[1]}]" in console
    # `sim report` rebuilds the same warning from the folder
    from sim.present.rebuild import rebuild_report

    rebuilt = rebuild_report(out, "en").read_text(encoding="utf-8")
    assert html.escape(t("warn.growing", "en", model=i18n.model_phrase("classic", "en"),
                         mean="\0", end="\0").split("\0")[0]) in rebuilt  # fmt: skip
