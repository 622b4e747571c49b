"""Where each number comes from, and how uncertain it is (issue 12; docs/model.md, MODEL.md §10).

A scenario may say, per dotted path (the paths of ``--set`` and sweeps), that a value is taken from
a source or is an assumption, with a plausible range. The built-in presets carry the same for their
own values (``PRESET_PROVENANCE``): sources where ``/work/shared/notes/domain-sources.md`` found a
figure, otherwise an assumption with a range a reader can argue with. ``sim uncertainty`` draws
from these ranges; the run report names the assumptions that carry the answer.

Everything here is pure: it reads a validated ``Scenario`` and returns new values or a new one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.scenario import PRESETS, Scenario, preset_settings

__all__ = [
    "PRESET_PROVENANCE",
    "Provenance",
    "Range",
    "number_paths",
    "provenance_of",
    "provenance_problems",
    "uncertain_inputs",
    "value_at",
    "with_values",
]


# --------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Range:
    """A plausible range of one input: uniform (low, high) or triangular (low, mode, high).

    ``base`` is the scenario's own value (the centre of one-way runs); it lies inside the range
    unless a ``--set`` moved it out.
    """

    kind: str
    low: float
    mode: float | None
    high: float
    base: float

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Quantiles: maps uniform [0, 1) draws (a Latin hypercube's columns) to values."""
        q = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        width = self.high - self.low
        if self.kind == "uniform":
            return np.asarray(self.low + q * width, dtype=float)
        if self.kind == "triangular":
            mode = self.base if self.mode is None else self.mode
            c = (mode - self.low) / width
            left = self.low + np.sqrt(q * width * (mode - self.low))
            right = self.high - np.sqrt((1.0 - q) * width * (self.high - mode))
            return np.asarray(np.where(q < c, left, right), dtype=float)
        raise ValueError(f"unknown range kind {self.kind!r}")

    @property
    def mean(self) -> float:
        """The mean of the distribution, in the unit of the value."""
        if self.kind == "triangular":
            mode = self.base if self.mode is None else self.mode
            return (self.low + mode + self.high) / 3.0
        return (self.low + self.high) / 2.0

    def describe(self) -> str:
        """'triangular(13, 52, 52)' or 'uniform(2.5, 3.5)'."""
        if self.kind == "triangular":
            return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"
        return f"uniform({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Provenance:
    """One number of a scenario: its value, its source or the assumption, and its range.

    ``origin`` says who stated it: ``scenario`` (the file's ``provenance:``) or ``preset`` (the
    built-in table of a preset whose value the scenario keeps).
    """

    path: str
    value: float
    source: str | None
    assumption: str | None
    uncertain: Range | None
    origin: str = "scenario"

    @property
    def is_assumption(self) -> bool:
        return self.assumption is not None


# --------------------------------------------------------------------------- the preset table

_S, _A = "source", "assumption"
_DA = "da"
"""The Danish of an entry's source or assumption, beside the English so the two are edited
together; the report picks the reader's language (``sim.present.preset_texts``)."""


def _tri(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"kind": "triangular", "low": low, "mode": mode, "high": high}


_FREDERIKSBERG = (
    "Frederiksberg quality standard for socialpædagogisk støtte (2021): support is awarded "
    "for up to 12 months, then re-assessed (fmk.dk)"
)
_FREDERIKSBERG_DA = (
    "Frederiksberg Kommunes kvalitetsstandard for socialpædagogisk støtte (2021): støtten "
    "bevilges for op til 12 måneder ad gangen og revurderes derefter (fmk.dk)"
)
_GLADSAXE = (
    "Gladsaxe, published case-processing times: § 85 cases go to a visitation committee on "
    "Mondays in odd weeks, every 2 weeks (gladsaxe.dk)"
)
_GLADSAXE_DA = (
    "Gladsaxe Kommunes offentliggjorte sagsbehandlingsfrister: § 85-sager behandles i "
    "visitationsudvalget om mandagen i ulige uger, altså hver 2. uge (gladsaxe.dk)"
)
_NO_FIGURE = "No published figure (domain notes §1d, §2)"
_NO_FIGURE_DA = "Intet offentliggjort tal (kildenoterne §1d, §2)"

PRESET_PROVENANCE: dict[str, dict[str, dict[str, Any]]] = {
    "classic": {
        "review.cadence_weeks": {
            _S: _FREDERIKSBERG,
            _DA: _FREDERIKSBERG_DA,
            "uncertain": _tri(13, 52, 52),
        },
        "decision.committee_cadence_weeks": {_S: _GLADSAXE, _DA: _GLADSAXE_DA},
        "accuracy.error_sd": {
            _A: "No figure on how far an assessment alone misses the true need; a wide error "
            "stands for the provider re-assessing at its start-up meeting (domain notes §2a.8).",
            _DA: "Intet tal for, hvor langt en udredning alene rammer ved siden af borgerens "
            "reelle behov; en stor fejlmargin afspejler, at udføreren udreder igen på sit "
            "opstartsmøde (kildenoterne §2a.8).",
            "uncertain": _tri(0.15, 0.35, 0.5),
        },
        "routing.short_course_share": {
            _A: "No figure on the share sent to a § 82b course from a classic assessment; "
            "Fredensborg and Randers show the courses exist (domain notes §1b, §1c).",
            _DA: "Intet tal for, hvor stor en andel en klassisk udredning sender i et forløb "
            "efter § 82b; Fredensborg og Randers viser, at forløbene findes (kildenoterne "
            "§1b, §1c).",
            "uncertain": _tri(0.0, 0.05, 0.15),
        },
        "rework.probability": {
            _A: "No figure on how often a provider sends a case back for re-assessment.",
            _DA: "Intet tal for, hvor ofte udføreren sender en sag tilbage til myndigheden til "
            "fornyet udredning.",
            "uncertain": _tri(0.02, 0.1, 0.2),
        },
        "first_contact.meeting.authority_hours": {
            _A: f"{_NO_FIGURE}: VUM assessment meeting assumed 1-2 h plus travel.",
            _DA: f"{_NO_FIGURE_DA}: udredningsmødet efter VUM er antaget at tage 1-2 timer "
            "plus transport.",
            "uncertain": _tri(1.0, 2.0, 3.0),
        },
        "first_contact.assessment.authority_hours": {
            _A: f"{_NO_FIGURE}: writing and collecting information assumed 2-6 h (the BDO/CEDI "
            "2015 VUM evaluation's time figures were not readable).",
            _DA: f"{_NO_FIGURE_DA}: at skrive udredningen og indhente oplysninger er antaget at "
            "tage 2-6 timer (tidsopgørelsen i BDO/CEDI's evaluering af VUM fra 2015 kunne ikke "
            "læses).",
            "uncertain": _tri(2.0, 4.0, 6.0),
        },
        "startup_meeting.meeting.provider_hours": {
            _A: f"{_NO_FIGURE}: the provider's own start-up meeting assumed 1.5-3 h.",
            _DA: f"{_NO_FIGURE_DA}: udførerens eget opstartsmøde er antaget at tage 1,5-3 timer.",
            "uncertain": _tri(1.5, 2.5, 3.0),
        },
        "review.casework.authority_hours": {
            _A: f"{_NO_FIGURE}: follow-up assumed 1-2 h of case work.",
            _DA: f"{_NO_FIGURE_DA}: opfølgningen er antaget at tage 1-2 timers sagsarbejde.",
            "uncertain": _tri(1.0, 1.5, 2.0),
        },
        "review.report.provider_hours": {
            _A: f"{_NO_FIGURE}: status report assumed 1-2 h (up to 3).",
            _DA: f"{_NO_FIGURE_DA}: statusrapporten er antaget at tage 1-2 timer (op til 3).",
            "uncertain": _tri(1.0, 2.0, 3.0),
        },
    },
    "joint": {
        "review.cadence_weeks": {
            _A: "Odder's follow-up frequency is not published (domain notes §2b.6); 13 weeks "
            "follows the children's rule (first review within 3 months, sm.dk).",
            _DA: "Odder Kommunes opfølgningsfrekvens er ikke offentliggjort (kildenoterne "
            "§2b.6); 13 uger følger reglen på børneområdet (første opfølgning inden for 3 "
            "måneder, sm.dk).",
            "uncertain": _tri(8, 13, 26),
        },
        "accuracy.error_sd": {
            _A: "No figure; a joint first meeting with the provider is assumed to miss the "
            "need less than an assessment alone (up to as much as classic).",
            _DA: "Intet tal; et fælles første møde med udføreren er antaget at ramme mindre ved "
            "siden af behovet end en udredning alene (højst lige så meget som i den klassiske "
            "model).",
            "uncertain": _tri(0.1, 0.15, 0.35),
        },
        "routing.short_course_share": {
            _A: "No figure on how many a joint first meeting routes to a § 82b course (domain "
            "notes §3, question 8).",
            _DA: "Intet tal for, hvor mange et fælles første møde sender i et forløb efter "
            "§ 82b (kildenoterne §3, spørgsmål 8).",
            "uncertain": _tri(0.05, 0.15, 0.3),
        },
        "rework.probability": {
            _A: "No figure; the provider took part in the assessment, so little is sent back.",
            _DA: "Intet tal; udføreren var med i udredningen, så kun få sager sendes tilbage.",
            "uncertain": _tri(0.0, 0.02, 0.1),
        },
        "first_contact.meeting.authority_hours": {
            _A: f"{_NO_FIGURE}: joint meeting assumed 1.5-2 h, up to twice that.",
            _DA: f"{_NO_FIGURE_DA}: det fælles møde er antaget at tage 1,5-2 timer, op til det "
            "dobbelte.",
            "uncertain": _tri(1.5, 2.0, 4.0),
        },
        "first_contact.meeting.provider_hours": {
            _A: f"{_NO_FIGURE}: joint meeting assumed 1.5-2 h, up to twice that.",
            _DA: f"{_NO_FIGURE_DA}: det fælles møde er antaget at tage 1,5-2 timer, op til det "
            "dobbelte.",
            "uncertain": _tri(1.5, 2.0, 4.0),
        },
        "first_contact.coordination_weeks.mode": {
            _A: "No figure on how long it takes to find a time for citizen, case worker and "
            "provider (domain notes §2b: coordinating diaries may lengthen the wait).",
            _DA: "Intet tal for, hvor lang tid det tager at finde et tidspunkt, der passer "
            "borger, sagsbehandler og udfører (kildenoterne §2b: at få kalenderne til at gå op "
            "kan forlænge ventetiden).",
            "uncertain": _tri(0.5, 1.0, 2.5),
        },
        "review.meeting.authority_hours": {
            _A: f"{_NO_FIGURE}: light joint review assumed 0.5-1.5 h.",
            _DA: f"{_NO_FIGURE_DA}: en let fælles opfølgning er antaget at tage 0,5-1,5 time.",
            "uncertain": _tri(0.5, 0.75, 1.5),
        },
        "review.meeting.provider_hours": {
            _A: f"{_NO_FIGURE}: light joint review assumed 0.5-1.5 h.",
            _DA: f"{_NO_FIGURE_DA}: en let fælles opfølgning er antaget at tage 0,5-1,5 time.",
            "uncertain": _tri(0.5, 0.75, 1.5),
        },
        "review.adjust_hours": {
            _A: "No figure on how much of the gap to the true need a review closes.",
            _DA: "Intet tal for, hvor meget af afstanden til det reelle behov en opfølgning "
            "lukker.",
            "uncertain": _tri(0.25, 0.5, 0.75),
        },
        "decision.committee_cadence_weeks": {
            _A: "Whether Odder kept the visitation committee is not known (domain notes §3, "
            "question 1); the preset has none, at most one every 2 weeks as in Gladsaxe.",
            _DA: "Det vides ikke, om Odder Kommune har bevaret visitationsudvalget "
            "(kildenoterne §3, spørgsmål 1); forudindstillingen har intet udvalg, højst et møde "
            "hver 2. uge som i Gladsaxe.",
            "uncertain": _tri(0.0, 0.0, 2.0),
        },
    },
}
"""Per preset, per path inside a model: a source or an assumption, and a range where assumed."""


# --------------------------------------------------------------------------- values at paths


def _walk(node: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def value_at(scenario: Scenario, path: str) -> float | None:
    """The number at dotted ``path`` (``models.<name>.`` for any model, presets included), or None
    when the path names nothing or something other than a number."""
    parts = path.split(".")
    if parts[0] == "models" and len(parts) > 2:
        if parts[1] not in scenario.models and parts[1] not in PRESETS:
            return None
        node = scenario.model(parts[1]).model_dump(mode="json", by_alias=True)
        found = _walk(node, parts[2:])
    else:
        found = _walk(scenario.model_dump(mode="json", by_alias=True), parts)
    return float(found) if _is_number(found) else None


def _leaves(node: Any, prefix: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{prefix}.{i}")
    elif _is_number(node):
        yield prefix


def number_paths(scenario: Scenario) -> list[str]:
    """Every path of a number in the scenario and in the models it compares (for suggestions)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"models", "provenance"})
    paths = list(_leaves(data, ""))
    for name in dict.fromkeys([*scenario.compare, *scenario.models]):
        paths += _leaves(
            scenario.model(name).model_dump(mode="json", by_alias=True), f"models.{name}"
        )
    return paths


def _set(data: Any, parts: list[str], value: Any) -> None:
    """Set ``value`` at ``parts`` of plain data, creating mappings on the way (as ``--set``)."""
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def with_values(
    scenario: Scenario, values: Mapping[str, float], *, keep_provenance: bool = False
) -> Scenario:
    """A new scenario with each dotted path set to its value, validated like ``--set``.

    A count (an integer setting) gets the value rounded. Raises pydantic's ValidationError when a
    value is not valid there. The provenance is dropped unless ``keep_provenance``: it changes no
    number, and a drawn value need not lie where the scenario's own did.
    """
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not keep_provenance:
        data.pop("provenance", None)
    for path, value in values.items():
        is_count = isinstance(_raw_at(scenario, path), int)
        _set(data, path.split("."), round(value) if is_count else float(value))
    return Scenario.model_validate(data)


def _raw_at(scenario: Scenario, path: str) -> Any:
    parts = path.split(".")
    if parts[0] == "models" and len(parts) > 2:
        return _walk(scenario.model(parts[1]).model_dump(mode="json"), parts[2:])
    return _walk(scenario.model_dump(mode="json", by_alias=True), parts)


# --------------------------------------------------------------------------- a scenario's


def _range(entry: Mapping[str, Any] | None, base: float) -> Range | None:
    if not entry:
        return None
    return Range(
        str(entry["kind"]),
        float(entry["low"]),
        None if entry.get("mode") is None else float(entry["mode"]),
        float(entry["high"]),
        base,
    )


def _preset_root(scenario: Scenario, name: str) -> str | None:
    """The preset a model's settings start from (following ``extends``), or None in a loop."""
    seen: set[str] = set()
    while name in scenario.models and name not in seen:
        seen.add(name)
        base = scenario.models[name].extends
        if base is None:
            return name if name in PRESETS else "classic"
        name = base
    return name if name in PRESETS else None


def _preset_entries(scenario: Scenario) -> Iterator[Provenance]:
    """The preset table's entries for each compared model that keeps the preset's value."""
    for name in scenario.compare:
        root = _preset_root(scenario, name)
        if root is None:
            continue
        preset_data = preset_settings(root)
        for rel, entry in PRESET_PROVENANCE.get(root, {}).items():
            value = value_at(scenario, f"models.{name}.{rel}")
            if value is None or value != _walk(preset_data, rel.split(".")):
                continue
            yield Provenance(
                f"models.{name}.{rel}",
                value,
                entry.get(_S),
                entry.get(_A),
                _range(entry.get("uncertain"), value),
                "preset",
            )


def provenance_of(scenario: Scenario) -> list[Provenance]:
    """Every number with a stated source or assumption: the scenario's entries (file order), then
    the presets' for values the scenario keeps. A scenario entry overrides a preset's."""
    out: list[Provenance] = []
    for path, entry in (scenario.provenance or {}).items():
        value = value_at(scenario, path)
        if value is None:
            continue
        raw = entry.uncertain.model_dump() if entry.uncertain is not None else None
        out.append(
            Provenance(path, value, entry.source, entry.assumption, _range(raw, value), "scenario")
        )
    own = {p.path for p in out}
    out += [p for p in _preset_entries(scenario) if p.path not in own]
    return out


def uncertain_inputs(scenario: Scenario) -> list[Provenance]:
    """The entries of ``provenance_of`` that have a range: the inputs ``sim uncertainty`` varies."""
    return [p for p in provenance_of(scenario) if p.uncertain is not None]


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class ProvenanceProblem:
    """One thing wrong with a ``provenance:`` entry: its path, the key inside the entry the
    problem is about (``()`` for the entry itself), what was expected, and the value found."""

    path: str
    at: tuple[str, ...]
    message: str


def provenance_problems(
    scenario: Scenario, moved: frozenset[str] = frozenset()
) -> list[ProvenanceProblem]:
    """Every problem of the scenario's ``provenance:`` entries: a path that names no number, a
    range that leaves out the scenario's value (skipped for the ``moved`` paths, which a ``--set``
    changed on purpose), and a low or high that is not a valid value of the setting (checked by
    setting it, as ``--set`` would)."""
    from pydantic import ValidationError

    problems: list[ProvenanceProblem] = []
    paths = None
    for path, entry in (scenario.provenance or {}).items():
        value = value_at(scenario, path)
        if value is None:
            paths = paths if paths is not None else number_paths(scenario)
            problems.append(ProvenanceProblem(path, (), _no_number(path, paths)))
            continue
        r = entry.uncertain
        if r is None:
            continue
        if path not in moved and not r.low <= value <= r.high:
            side = "low" if value < r.low else "high"
            problems.append(
                ProvenanceProblem(
                    path,
                    ("uncertain", r.kind, side),
                    f"expected low <= the scenario's value {value:g} <= high, found {side} "
                    f"{getattr(r, side):g}",
                )
            )
        for side in ("low", "high"):
            try:
                with_values(scenario, {path: getattr(r, side)})
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
                problems.append(
                    ProvenanceProblem(
                        path,
                        ("uncertain", r.kind, side),
                        f"{side} {getattr(r, side):g} is not a valid value of {path}: {first}",
                    )
                )
    return problems


def _no_number(path: str, paths: list[str]) -> str:
    text = f"'{path}' names no number of this scenario; expected a dotted path as for --set"
    close = difflib.get_close_matches(path, paths, n=1, cutoff=0.6)
    if close:
        text += f" (did you mean '{close[0]}'?)"
    return text
