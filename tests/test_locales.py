"""Locales are data files: one TOML file per language, numbers by Babel (CLDR).

A new language must be one file: the test below writes a locale the code has never seen to a
temporary folder and renders labels and numbers with it through the same loader the shipped
languages use.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.present import i18n

PLACEHOLDER = string.Formatter()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in PLACEHOLDER.parse(text) if name is not None}


def _files() -> dict[str, dict[str, str]]:
    return {p.stem: i18n.read_locale(p)[0] for p in sorted(i18n.LOCALE_DIR.glob("*.toml"))}


def test_every_shipped_language_is_a_file_and_the_files_have_the_same_keys() -> None:
    files = _files()
    assert set(files) == set(i18n.LANGS) >= {"en", "da"}
    for lang, labels in files.items():
        assert set(labels) == set(files["en"]), lang
        assert all(isinstance(v, str) for v in labels.values()), lang
        # a label may be empty only where English leaves it empty (a unit without a name)
        assert [k for k, v in labels.items() if not v and files["en"][k]] == [], lang


def test_the_files_have_the_same_placeholders_key_by_key() -> None:
    files = _files()
    for lang, labels in files.items():
        differ = {
            k: (_placeholders(files["en"][k]), _placeholders(v))
            for k, v in labels.items()
            if _placeholders(v) != _placeholders(files["en"][k])
        }
        assert differ == {}, lang


def test_a_file_names_the_cldr_locale_of_its_numbers() -> None:
    for path in i18n.LOCALE_DIR.glob("*.toml"):
        _, formats = i18n.read_locale(path)
        assert formats["cldr"] == path.stem


@pytest.fixture
def third_language(tmp_path: Path) -> Iterator[str]:
    """A tiny French locale written to a temp folder: a few labels and its number format."""
    path = tmp_path / "xx.toml"
    path.write_text(
        '[format]\ncldr = "fr"\n\n[report]\nheadline = "En bref"\n\n'
        '[stage]\nsupport_queue = "liste d\'attente"\n\n[tpl]\nstage_mean = "moyenne : {stage}"\n',
        encoding="utf-8",
    )
    lang = i18n.add_locale(path)
    yield lang
    for table in (i18n.LABELS, i18n.CLDR, i18n._RAW):
        table.pop(lang, None)


def test_a_third_language_loads_from_a_file_alone(third_language: str) -> None:
    assert third_language == "xx"
    assert i18n.t("report.headline", "xx") == "En bref"
    # patterned metric labels are composed from the file's own stage name and template
    assert i18n.metric_label("support_queue_mean_citizens", "xx") == "moyenne : liste d'attente"
    # what the file leaves out falls back to English rather than failing
    assert i18n.t("report.kpis", "xx") == i18n.t("report.kpis", "en")
    # numbers follow the file's CLDR locale (French: narrow no-break space groups, decimal comma)
    assert i18n.fmt_num(1234567.5, "xx", 1) == "1\u202f234\u202f567,5"
    assert i18n.parse_num("1\u202f234\u202f567,5", "xx") == 1234567.5
    assert i18n.plotly_separators("xx") == ",\u202f"
    assert i18n.list_sep("xx") == "; "


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=re.escape("en, da")):
        i18n.t("report.headline", "xx")


def test_babel_formats_danish_and_english_numbers_by_cldr() -> None:
    assert i18n.fmt_num(1234.5, "da", 1) == "1.234,5"
    assert i18n.fmt_num(1234.5, "en", 1) == "1,234.5"
    assert i18n.list_sep("da") == "; " and i18n.list_sep("en") == ", "
    assert i18n.plotly_separators("da") == ",."


def test_rounding_follows_the_floats_exact_value() -> None:
    # 2.675 is stored as 2.67499999...; the shortest repr "2.675" would round up
    assert i18n.fmt_num(2.675, "en", 2) == "2.67"
    assert i18n.fmt_num(0.125, "da", 2) == "0,12"  # exactly half: to even, as Python does
