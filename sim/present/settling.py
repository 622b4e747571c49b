"""The warm-up check in words: the warnings the console and every report show for a model whose
stage counts still trend after the warm-up (the statistics are in ``sim.run.settle``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.present import i18n


def warnings(rows: Sequence[dict[str, Any]], lang: str = "en") -> list[str]:
    """The sentences to show, per model whose series still trend after the warm-up: the largest
    trend, and the warm-up MSER-5 suggests when it is longer than the one used."""
    out: list[str] = []
    for m in dict.fromkeys(r["model"] for r in rows):
        moving = [r for r in rows if r["model"] == m and _true(r["trend"])]
        if not moving:
            continue
        worst = max(moving, key=lambda r: abs(r["slope_citizens_per_year"]))
        rate = float(worst["slope_citizens_per_year"])
        low, high = sorted(abs(float(worst[k])) for k in ("slope_ci_low", "slope_ci_high"))
        out.append(
            i18n.t(
                "settle.grows" if rate > 0 else "settle.falls",
                lang,
                model=i18n.model_phrase(m, lang),
                series=i18n.t(f"settle.series.{worst['series']}", lang),
                n=i18n.fmt_num(abs(rate), lang, 1),
                low=i18n.fmt_num(low, lang, 1),
                high=i18n.fmt_num(high, lang, 1),
                years=worst["years_tested"],
            )
        )
        weeks = max(float(r["mser5_weeks_p90"]) for r in moving)
        used = float(worst["warmup_weeks"])
        if weeks > used:
            out.append(
                i18n.t(
                    "settle.suggest",
                    lang,
                    model=i18n.model_phrase(m, lang),
                    weeks=i18n.fmt_num(weeks, lang, 0),
                    used=i18n.fmt_num(used, lang, 0),
                )
            )
    return out


def _true(value: Any) -> bool:
    """A bool read back from CSV (polars reads true/false as booleans; be lenient)."""
    return value is True or str(value).lower() == "true"
