"""Labels and number formats for reports and figures, in English (``en``) and Danish (``da``).

Every word a reader sees in a report or a figure comes from here. The words themselves live in
one data file per language, ``locales/<lang>.toml``, so a translator edits text, not code; the
files have the same keys and placeholders (a test checks it). Labels for
metrics that follow a pattern (``{stage}_mean_citizens``, ``{group}_{category}_hours_per_year``)
are composed once, below, from the stage, group and category names, so both languages get them.

Numbers follow the CLDR rules of the file's ``[format] cldr`` locale, applied by Babel: ``en``
writes 1,234.5 and "16.5 M DKK"; ``da`` writes 1.234,5 and "16,5 mio. kr." (the money patterns
are labels). The sign of a number is CLDR's too (a hyphen-minus in both); ``MINUS`` (U+2212) is
the operator between two names ("joint − classic").
"""

from __future__ import annotations

import functools
import math
import tomllib
from decimal import Decimal
from pathlib import Path

from babel.numbers import (
    NumberPattern,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    get_plus_sign_symbol,
    parse_pattern,
)

from sim.model import registry
from sim.model.metrics import STAGES as _STAGES

MINUS = "\u2212"
"""The subtraction operator between two names in a heading; numbers take CLDR's sign."""
DASH = "\u2013"

STAGES: tuple[str, ...] = _STAGES
GROUPS: tuple[str, ...] = registry.GROUPS
CATEGORIES: tuple[str, ...] = registry.HOUR_CATEGORIES


LOCALE_DIR = Path(__file__).with_name("locales")
"""One TOML file per language (``en.toml``, ``da.toml`` ...): a new language is one file."""


def read_locale(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The labels of one locale file, keyed ``section.name`` (the TOML table, then the key), and
    its ``[format]`` settings (``cldr``: the CLDR locale whose number rules Babel applies).

    Tables keep the file readable for a translator; keys are flattened back to the dotted names
    the code asks for, so a label's key is the same whichever file it comes from.
    """
    with path.open("rb") as f:
        data = tomllib.load(f)
    formats = data.pop("format", {})
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{name}": text for name, text in value.items()})
        else:
            out[key] = value
    return out, formats


def _compose(d: dict[str, str]) -> dict[str, str]:
    """Add the labels of patterned metrics (stages, groups x categories) to ``d``."""
    out = dict(d)
    for s in STAGES:
        stage = d[f"stage.{s}"]
        out[f"metric.{s}_mean_citizens"] = d["tpl.stage_mean"].format(stage=stage)
        out[f"metric.{s}_end_citizens"] = d["tpl.stage_end"].format(stage=stage)
    for g in GROUPS:
        group = d[f"group.{g}"]
        for c in CATEGORIES:
            out[f"metric.{g}_{c}_hours_per_year"] = d["tpl.group_hours"].format(
                group=group, category=d[f"cat.{c}"]
            )
        out[f"metric.{g}_core_task_share"] = d["tpl.group_core"].format(group=group)
    return out


LANGS: tuple[str, ...] = tuple(
    sorted((p.stem for p in LOCALE_DIR.glob("*.toml")), key=lambda lang: (lang != "en", lang))
)
"""The languages shipped as files, English (the reference every other file follows) first."""

LABELS: dict[str, dict[str, str]] = {}
"""Every label of reports and figures, per language; the shipped files have the same keys."""

CLDR: dict[str, str] = {}
"""Per language, the CLDR locale whose decimal mark and thousands separator Babel uses."""


_RAW: dict[str, dict[str, str]] = {}
"""Per language, the labels as the file has them (before the patterned metric labels)."""


def add_locale(path: Path) -> str:
    """Load the locale file ``path`` (its name is the language code) and return the code.

    Labels the file lacks are taken from English, so a partial translation renders (part in
    English) rather than failing; the shipped files are complete (a test checks it).
    """
    lang = path.stem
    labels, formats = read_locale(path)
    _RAW[lang] = _RAW.get("en", {}) | labels
    LABELS[lang] = _compose(_RAW[lang])
    CLDR[lang] = formats.get("cldr", lang)
    return lang


for _lang in LANGS:
    add_locale(LOCALE_DIR / f"{_lang}.toml")


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else a ValueError naming the choices."""
    if lang not in LABELS:
        raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(LABELS)}")
    return lang


def t(key: str, lang: str, **kwargs: object) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled from ``kwargs``."""
    text = LABELS[check_lang(lang)][key]
    return text.format(**kwargs) if kwargs else text


def has(key: str, lang: str = "en") -> bool:
    """Whether a label exists."""
    return key in LABELS[check_lang(lang)]


# --------------------------------------------------------------------------- metrics and units


def metric_label(metric: str, lang: str) -> str:
    """The reader's name of a metric; the raw name when no label exists (a new engine metric)."""
    return LABELS[check_lang(lang)].get(f"metric.{metric}", metric)


def metric_unit(metric: str, csv_unit: str | None = None) -> str:
    """The unit key of a metric's shown value, from the metric registry (a share is shown in
    percent); for a name the registry does not know, the unit its results table gives."""
    m = registry.lookup(metric)
    if m is not None:
        return m.display_unit
    return csv_unit or ""


def unit_label(unit: str, lang: str) -> str:
    """The reader's name of a unit key (``citizens/year``, ``weeks``, ``percent`` ...)."""
    return LABELS[check_lang(lang)].get(f"unit.{unit}", unit)


def metric_scale(metric: str) -> float:
    """Factor from the tables' value to the shown value (shares are shown in percent)."""
    m = registry.lookup(metric)
    return m.scale if m is not None else 1.0


def axis_title(label: str, unit: str, lang: str) -> str:
    """``label (unit)`` for an axis; ``unit`` is a unit key."""
    return t("axis.with_unit", lang, label=label, unit=unit_label(unit, lang))


def model_name(model: str, lang: str) -> str:
    """Display name of a model: built-in presets are translated, user models keep their name."""
    return LABELS[check_lang(lang)].get(f"model.{model}", model)


def model_phrase(model: str, lang: str) -> str:
    """A model as the subject or object of a sentence ("the joint model", "den fælles model")."""
    key = f"model_phrase.{model}"
    if has(key, lang):
        return t(key, lang)
    return t("model_phrase.other", lang, name=model)


# --------------------------------------------------------------------------- numbers


def auto_digits(x: float) -> int:
    """Decimals worth showing for a value of this size: 0 from 10 up, 1 from 1, else 2."""
    if not math.isfinite(x):
        return 0
    a = abs(x)
    if a >= 10:
        return 0
    if a >= 1:
        return 1
    return 2


@functools.lru_cache(maxsize=64)
def _pattern(digits: int) -> NumberPattern:
    """Babel's number pattern with thousands groups and exactly ``digits`` decimals."""
    return parse_pattern("#,##0" + ("." + "0" * digits if digits > 0 else ""))


def fmt_num(x: float | None, lang: str, digits: int | None = None, *, sign: bool = False) -> str:
    """A number with thousands separators in the language's CLDR style (by Babel); "n/a" for NaN
    or None.

    The float goes to Babel as its exact decimal value, so it rounds as Python's own formatting
    does (2.675 is 2.67499..., shown as 2.67), not as its shortest repr would.
    """
    if x is None or not math.isfinite(x):
        return t("num.na", lang)
    d = auto_digits(x) if digits is None else digits
    loc = CLDR[check_lang(lang)]
    text = format_decimal(Decimal(abs(x)), format=_pattern(d), locale=loc)
    if round(x, d) < 0:
        text = get_minus_sign_symbol(loc) + text
    elif sign and round(x, d) > 0:
        text = get_plus_sign_symbol(loc) + text
    return text


def fmt_dkk(x: float | None, lang: str) -> str:
    """Money: "16.5 M DKK" / "16,5 mio. kr." from a million up, else "121,650 DKK"."""
    if x is None or not math.isfinite(x):
        return t("num.na", lang)
    if abs(x) >= 1e6:
        return t("num.million_dkk", lang, x=fmt_num(x / 1e6, lang, 1 if abs(x) < 1e8 else 0))
    return t("num.dkk", lang, x=fmt_num(x, lang, 0))


def fmt_range(lo: float, hi: float, lang: str, digits: int | None = None) -> str:
    """A range: "24–28", or "-12 to -8" when a bound is negative (a dash would read as minus)."""
    d = auto_digits(max(abs(lo), abs(hi))) if digits is None else digits
    a, b = fmt_num(lo, lang, d), fmt_num(hi, lang, d)
    if lo < 0 or hi < 0:
        return f"{a} {t('num.range_to', lang)} {b}"
    return f"{a}{DASH}{b}"


def range_sep(lo: float, hi: float, lang: str) -> str:
    """The separator ``fmt_range`` puts between ``lo`` and ``hi``."""
    if lo < 0 or hi < 0:
        return f" {t('num.range_to', lang)} "
    return DASH


def fmt_ci(
    mean: float, lo: float, hi: float, lang: str, digits: int | None = None, *, sign: bool = False
) -> str:
    """ "26 (24–28)": a mean with its 95 % CI; the mean alone when the CI is undefined; "26 (no
    spread)" when every replication gave the same value (an interval of width zero)."""
    d = auto_digits(mean) if digits is None else digits
    m = fmt_num(mean, lang, d, sign=sign)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not math.isfinite(mean):
        return m
    if lo == hi:
        return f"{m} ({t('num.no_spread', lang)})"
    return f"{m} ({fmt_range(lo, hi, lang, d)})"


def parse_num(text: str, lang: str) -> float:
    """The inverse of ``fmt_num`` (for tests and for reading a report back)."""
    loc = CLDR[check_lang(lang)]
    s = text.strip().replace(get_minus_sign_symbol(loc), "-").replace(MINUS, "-")
    s = s.replace(get_plus_sign_symbol(loc), "").replace("+", "")
    return float(s.replace(get_group_symbol(loc), "").replace(get_decimal_symbol(loc), "."))


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators``: decimal mark, then thousands separator."""
    loc = CLDR[check_lang(lang)]
    return get_decimal_symbol(loc) + get_group_symbol(loc)


def fmt_exact(x: float, lang: str) -> str:
    """A parameter value as entered: up to 6 significant digits, no trailing zeros."""
    if not math.isfinite(x):
        return t("num.na", lang)
    if float(x).is_integer():
        return fmt_num(x, lang, 0)
    s = f"{x:.6g}"
    digits = len(s.split(".")[1]) if "." in s and "e" not in s else 4
    return fmt_num(x, lang, digits)


def list_sep(lang: str) -> str:
    """Separator of a list of numbers: "; " where the comma is the decimal mark (Danish)."""
    return "; " if get_decimal_symbol(CLDR[check_lang(lang)]) == "," else ", "
