"""The presets' sources and assumptions in the reader's language (issue 12 point 1, issue 14).

``sim.model.provenance.PRESET_PROVENANCE`` holds each preset text in English with its Danish
beside it, so whoever edits one sees the other. The model records the English (it is what the
manifests and ``uncertainty.json`` store); a page asks here for the reader's language. A
scenario's own texts are shown as their author wrote them: their language is not known.
"""

from __future__ import annotations

import functools

from sim.model.provenance import PRESET_PROVENANCE
from sim.present import i18n

WRITTEN_IN = "en"
"""The language the presets' ``source``/``assumption`` field is written in (the key of a text)."""


@functools.cache
def translations() -> dict[str, dict[str, str]]:
    """Per English preset text, the text in every language the table gives (English included)."""
    out: dict[str, dict[str, str]] = {}
    for table in PRESET_PROVENANCE.values():
        for entry in table.values():
            text = entry.get("source") or entry.get("assumption")
            if not text:
                continue
            others = {k: str(v) for k, v in entry.items() if k in i18n.LANGS and k != WRITTEN_IN}
            out[str(text)] = {WRITTEN_IN: str(text), **others}
    return out


def preset_text(text: str | None, origin: str, lang: str) -> tuple[str, str]:
    """``(text, its language)`` for a source or assumption as a page in ``lang`` shows it.

    A preset's text (``origin == "preset"``) in ``lang`` when the table has it, else in English;
    a scenario's as written, its language "" (the author chose it).
    """
    if not text:
        return "", ""
    if origin != "preset":
        return text, ""
    known = translations().get(text, {})
    if lang in known:
        return known[lang], lang
    return text, WRITTEN_IN
