"""What a scenario value may be where a number, a count or true/false belongs.

Pydantic's lax mode turns ``true`` into 1.0, the text ``"3.0"`` into 3.0 and ``"yes"`` into True, so
a slip in a scenario would run silently with a number nobody wrote. These before-validators accept
only what YAML itself writes as a number (an int is fine where a float belongs) or as true/false,
and name what they found instead, with a hint for the mistakes people really make: a Danish decimal
comma (``3,5``), thousands points (``18.000.000``), a percentage (``85%``), quotes around a number,
a unit after it, ``ja``/``nej`` for true/false.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["count_only", "flag_only", "number_only", "text_hint"]

_DANISH_THOUSANDS = re.compile(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
_ENGLISH_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3}){2,}(\.\d+)?")
_SPACED_THOUSANDS = re.compile(r"[-+]?\d{1,3}( \d{3})+([.,]\d+)?")
_PERCENT = re.compile(r"([-+]?\d+(?:[.,]\d+)?)\s*%")
_WITH_UNIT = re.compile(r"([-+]?\d+(?:[.,]\d+)?)\s*[^\W\d_][\w ./]*")
_KEY_VALUE = re.compile(r"[A-Za-z_][\w-]*:\S.*")


def _found(value: Any) -> str:
    """What the user wrote, in words: 'the boolean true', "the text '3,5'", 'nothing'."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the text {shown!r}"
    if isinstance(value, int | float):
        return f"{value!r}"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def text_hint(text: str) -> str:
    """A hint for a text where a number belongs, or "" when none fits."""
    t = text.strip()
    if _DANISH_THOUSANDS.fullmatch(t):
        plain = t.replace(".", "").replace(",", ".")
        return f"use a point as decimal separator and no thousands separator: write {plain}"
    if _DECIMAL_COMMA.fullmatch(t):
        return f"use a point as decimal separator: write {t.replace(',', '.')}"
    if _ENGLISH_THOUSANDS.fullmatch(t) or _SPACED_THOUSANDS.fullmatch(t):
        plain = t.replace(",", "").replace(" ", "")
        return f"write the number without thousands separators: {plain}"
    percent = _PERCENT.fullmatch(t)
    if percent:
        share = float(percent.group(1).replace(",", ".")) / 100
        return f"shares are 0-1: write {share:g} for {percent.group(1)} %"
    if _is_number(t):
        return f"remove the quotes: write {t}"
    unit = _WITH_UNIT.fullmatch(t)
    if unit:
        return f"write the number alone ({unit.group(1)}); the unit is in the key's name"
    if _KEY_VALUE.fullmatch(t):
        key, _, rest = t.partition(":")
        return f"put a space after the colon: write '{key}: {rest}'"
    return ""


def _error(expected: str, value: Any, hint: str = "") -> PydanticCustomError:
    message = f"expected {expected}, found {_found(value)}"
    if hint:
        message += f"; {hint}"
    # Braces in the user's text would be read as placeholders: pass the message as a value.
    return PydanticCustomError("strict_type", "{message}", {"message": message})


def number_only(value: Any) -> Any:
    """A number stays (for pydantic's range checks); true/false, text and nothing are errors."""
    if isinstance(value, bool) or value is None:
        raise _error("a number", value)
    if isinstance(value, str):
        raise _error("a number", value, text_hint(value))
    return value


def count_only(value: Any) -> Any:
    """Like ``number_only``, for whole numbers (pydantic rejects 2.5 and accepts 2.0)."""
    if isinstance(value, bool) or value is None:
        raise _error("a whole number", value)
    if isinstance(value, str):
        raise _error("a whole number", value, text_hint(value))
    return value


def flag_only(value: Any) -> Any:
    """Only YAML's true and false; ``ja``, ``nej``, ``yes``, 1 and 0 are errors with a hint."""
    if isinstance(value, bool):
        return value
    raise _error("true or false", value, "write true or false")
