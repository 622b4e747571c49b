"""Load scenario files, with errors that name the file, line, column and key path.

YAML is parsed with ruamel.yaml in round-trip mode (YAML 1.2, duplicate keys are errors), which
keeps the line and column of every key and value. Pydantic validates the data; each of its errors is
mapped back onto the YAML node it is about, so a user sees::

    scenarios/x.yaml:20:15: budget.annual_dkk: Input should be greater than 0 (found -5)
        annual_dkk: -5
                    ^

This module imports neither numpy nor pydantic at import time (``sim --help`` must stay fast); the
scenario schema is imported when a file is validated.
"""

from __future__ import annotations

import difflib
import io
import math
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from sim.model.scenario import Scenario

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_PROBLEMS",
    "Override",
    "Problem",
    "ScenarioError",
    "apply_overrides",
    "dump_resolved",
    "load_scenario",
    "load_scenario_text",
    "parse_override",
    "set_path",
]

MAX_PROBLEMS = 12
"""Problems shown in one report; 3 lines each, so a report fits on one screen."""

MAX_BYTES = 2**20
"""Largest scenario file read: 1 MB. Real scenarios are a few kB; the limit is checked before
parsing, so a huge or endless file is refused at once instead of taking minutes to validate."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists; a scenario needs about 8 levels."""

MAX_VALUES = 200_000
"""Most values a file may stand for once its aliases (``*name``) are expanded."""

_SOURCE_WIDTH = 100
_MESSAGE_WIDTH = 300

PathPart = str | int
KeyPath = tuple[PathPart, ...]


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located in a file (or a ``--set`` argument).

    ``line`` and ``column`` are 1-based, or None when the problem concerns the whole file or a
    ``--set`` argument; ``path`` is the dotted key path (``segments.0.share``), or "".
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    source_line: str | None = None

    def format(self) -> str:
        """``file:line:col: path: message``, then the source line and a caret under the column."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.source_line is None or self.line is None:
            return head
        shown, caret = _caret(self.source_line, self.column or 1)
        return f"{head}\n    {shown}\n    {caret}^"


class ScenarioError(Exception):
    """A scenario that cannot be loaded: one or more located problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self.format())

    def format(self, limit: int = MAX_PROBLEMS) -> str:
        """The problems, at most ``limit`` of them, as the user should read them."""
        shown = [p.format() for p in self.problems[:limit]]
        rest = len(self.problems) - limit
        if rest > 0:
            shown.append(
                f"... and {rest} more problem{'s' * (rest > 1)} (fix the ones above first)"
            )
        return "\n".join(shown)

    def __str__(self) -> str:
        return self.format()


def _caret(source: str, column: int) -> tuple[str, str]:
    """The source line (cut to a window around ``column``) and the padding before the caret."""
    source = source.rstrip("\r\n")
    start = 0
    if len(source) > _SOURCE_WIDTH:
        start = max(0, min(column - 1 - _SOURCE_WIDTH // 2, len(source) - _SOURCE_WIDTH))
        source = source[start : start + _SOURCE_WIDTH]
    pad = "".join("\t" if ch == "\t" else " " for ch in source[: max(column - 1 - start, 0)])
    return source, pad


def _one_line(text: str, width: int = _MESSAGE_WIDTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _file_problem(file: str, message: str, line: int | None = None) -> ScenarioError:
    return ScenarioError([Problem(file, line, 1 if line else None, "", message)])


# --------------------------------------------------------------------------- loading


def load_scenario(
    path: str | Path, overrides: Sequence[str] = (), *, allow_outside_paths: bool = False
) -> Scenario:
    """Read, parse and validate a scenario file; ``overrides`` are ``key.path=value`` strings.

    Files the scenario names (a referral CSV) must be inside its folder unless
    ``allow_outside_paths``. Raises ScenarioError listing every problem of the file at once.
    """
    name = str(path)
    text = _read_text(Path(path), name)
    return load_scenario_text(
        text, name, Path(path).parent, overrides, allow_outside_paths=allow_outside_paths
    )


def _read_text(path: Path, name: str) -> str:
    """The file as text, at most MAX_BYTES of it; every failure as a one-line problem."""
    try:
        if path.is_dir():
            raise _file_problem(name, "is a folder, expected a YAML scenario file")
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _file_problem(name, "file not found") from None
    except OSError as exc:
        raise _file_problem(name, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _file_problem(
            name, f"file is larger than {MAX_BYTES // 2**20} MB, the limit for scenario files"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _file_problem(
            name,
            f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x} (Windows-1252 or Latin-1?); "
            "save the file as UTF-8",
            line,
        ) from None


def load_scenario_text(
    text: str,
    source_name: str,
    base_dir: str | Path = ".",
    overrides: Sequence[str] = (),
    *,
    allow_outside_paths: bool = False,
) -> Scenario:
    """Parse and validate scenario YAML ``text``; ``source_name`` names it in messages.

    ``base_dir`` is the folder relative paths in the scenario (referral CSV files) start from;
    they must stay inside it unless ``allow_outside_paths``.
    """
    from pydantic import ValidationError

    from sim.model.scenario import Scenario

    data = _parse(text, source_name)
    origins = _apply(data, overrides)
    context = {"base_dir": Path(base_dir), "allow_outside_paths": allow_outside_paths}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        lines = text.splitlines()
        problems = [
            _problem(err, data, lines, source_name, origins, Scenario)
            for err in exc.errors(include_url=False)
        ]
        problems = _drop_explained(_merge_branches(problems))
        problems.sort(key=lambda p: (p.line is not None, p.line or 0, p.column or 0))
        raise ScenarioError(problems) from None
    except (OSError, RecursionError) as exc:
        raise _file_problem(source_name, _one_line(f"cannot validate: {exc}"), 1) from None
    if scenario.provenance:
        _check_provenance(scenario, data, text.splitlines(), source_name, origins)
    return scenario


# u1-design: the provenance section's checks that need the whole scenario (issue 12).
def _check_provenance(
    scenario: Scenario,
    data: CommentedMap,
    lines: list[str],
    file: str,
    origins: dict[KeyPath, str],
) -> None:
    """Raise ScenarioError for each ``provenance:`` entry whose path names no number, whose range
    leaves out the value, or whose low or high is not a valid value of the setting."""
    from sim.model.provenance import provenance_problems
    from sim.model.scenario import Scenario

    # A --set of a mapping (a whole model or mechanism) moves every value under it on purpose,
    # just as a --set of the value itself does.
    sets = [".".join(map(str, key)) for key in origins]
    under = [p for p in scenario.provenance or {} if any(p.startswith(f"{s}.") for s in sets)]
    moved = frozenset([*sets, *under])
    found = provenance_problems(scenario, moved)
    if not found:
        return
    problems = []
    for p in found:
        loc = ("provenance", p.path, *p.at)
        where = _locate(data, loc, "provenance", Scenario)
        line, col = where.pos[0] + 1, where.pos[1] + 1
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        path = ".".join(map(str, where.keys))
        problems.append(Problem(file, line, col, path, _one_line(p.message), source))
    raise ScenarioError(problems)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _parse(text: str, source_name: str) -> CommentedMap:
    """The top-level mapping of ``text``; YAML errors become located problems.

    The text is parsed once: the screen (``_Screen``) sees each YAML event as the loader takes
    it, so what it refuses is refused before any node below it is built."""
    lines = text.splitlines()
    try:
        data = _screened_yaml(source_name, lines).load(text)
    except YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, source_name, lines)]) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        raise _file_problem(source_name, _one_line(f"cannot read the YAML: {exc}"), 1) from None
    if data is None:
        raise _file_problem(
            source_name,
            "empty document; expected a mapping of scenario settings (try `sim init`)",
            1,
        )
    if not isinstance(data, CommentedMap):
        raise _file_problem(
            source_name,
            f"expected a mapping of scenario settings at the top level, found {_kind(data)}",
            1,
        )
    return data


def _screened_yaml(file: str, lines: list[str]) -> YAML:
    """A round-trip loader whose parser hands every event to a ``_Screen`` of ``file``."""
    from ruamel.yaml.parser import RoundTripParser

    screen = _Screen(file, lines)

    class ScreenedParser(RoundTripParser):
        def get_event(self) -> Any:
            event = super().get_event()
            screen.see(event)
            return event

    yaml = _yaml()
    yaml.Parser = ScreenedParser
    return yaml


class _Screen:
    """Refuse what the YAML events show before anything is built from them: a tag (``!budget``,
    ``!!binary``, ``!!float "3"``: a scenario is plain data, and a tag would change what a value
    is), nesting deeper than MAX_DEPTH, or aliases that expand to more than MAX_VALUES values.

    Building the nodes recurses once per level, so a deep file would otherwise fail at 1:1.
    """

    def __init__(self, file: str, lines: list[str]) -> None:
        from ruamel.yaml import events

        self.file, self.lines = file, lines
        self.events = events
        self.depth, self.values = 0, 0
        self.sizes: dict[str, int] = {}  # anchor -> values under it
        self.open: list[tuple[str | None, int]] = []  # (anchor, values before) per collection

    def see(self, event: Any) -> None:
        """Take the next event in the file's order; ScenarioError for the first thing refused."""
        ev = self.events
        mark = event.start_mark
        if isinstance(event, ev.NodeEvent) and not isinstance(event, ev.AliasEvent) and event.tag:
            raise ScenarioError([_tag_problem(self.file, self.lines, mark.line, mark.column)])
        if isinstance(event, ev.CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                message = f"nested deeper than {MAX_DEPTH} levels"
                raise ScenarioError([_at(self.file, self.lines, mark, message)])
            self.open.append((event.anchor, self.values))
        elif isinstance(event, ev.CollectionEndEvent):
            self.depth -= 1
            anchor, before = self.open.pop()
            if anchor:
                self.sizes[str(anchor)] = self.values - before
        elif isinstance(event, ev.AliasEvent):
            self.values += self.sizes.get(str(event.anchor), 1)
            if self.values > MAX_VALUES:
                message = f"aliases expand to more than {MAX_VALUES:,} values"
                raise ScenarioError([_at(self.file, self.lines, mark, message)])
        elif isinstance(event, ev.NodeEvent):
            self.values += 1
            if event.anchor:
                self.sizes[str(event.anchor)] = 1


def _at(file: str, lines: list[str], mark: Any, message: str) -> Problem:
    line = mark.line + 1
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return Problem(file, line, mark.column + 1, "", message, source)


def _tag_problem(file: str, lines: list[str], line: int, column: int) -> Problem:
    source = lines[line] if line < len(lines) else ""
    tag = source[column:].split(maxsplit=1)[0] if source[column:].strip() else "!"
    message = (
        f"YAML tags are not allowed, found {_short(tag)}; write the plain value (a number, "
        "true/false, text, a list or a mapping) without a tag"
    )
    return Problem(file, line + 1, column + 1, "", message, source)


_MISSING_SPACE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*):(?=[^\s:/])")


def _missing_space(lines: list[str], first: int, last: int) -> Problem | None:
    """The first of lines ``first``..``last`` (0-based) whose key has no space after its colon
    (``rate_per_week:3.5``), which YAML reads as text and then fails further down."""
    for i in range(max(first, 0), min(last, len(lines) - 1) + 1):
        found = _MISSING_SPACE.match(lines[i])
        if found:
            return Problem(
                "",
                i + 1,
                found.end() + 1,
                "",
                f"expected a space after '{found.group(1)}:'; YAML reads "
                f"{_short(lines[i].split(' #')[0].strip())} as one piece of text",
                lines[i],
            )
    return None


def _yaml_problem(exc: YAMLError, file: str, lines: list[str]) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if type(exc).__name__ == "DuplicateKeyError" and mark is not None:
        message = _duplicate_message(problem, mark, context_mark, lines)
    else:
        message = f"invalid YAML: {problem}"
        if context and context_mark is not None and context_mark is not mark:
            message += f" ({context} started on line {context_mark.line + 1})"
        elif context:
            message += f" ({context})"
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    start = context_mark.line if context_mark is not None else line - 1
    space = _missing_space(lines, start, line - 1)
    if space is not None:
        return Problem(file, space.line, space.column, "", space.message, space.source_line)
    if lines:
        line = min(line, len(lines))
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return Problem(file, line, column, "", _one_line(message), source)


def _duplicate_message(problem: str, mark: Any, start: Any, lines: list[str]) -> str:
    """'duplicate key "x" (first on line N)', without ruamel's dump of both values."""
    key = problem.split('"')[1] if problem.count('"') >= 2 else "?"
    message = f'duplicate key "{key}"'
    for i in range(start.line if start is not None else 0, mark.line):
        text = lines[i] if i < len(lines) else ""
        if text[: mark.column].strip(" -") == "" and text[mark.column :].startswith(f"{key}:"):
            message += f" (first on line {i + 1})"
            break
    return message + "; a key may appear only once in a mapping"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    return f"{_short(value)}"


def _short(value: Any, limit: int = 40) -> str:
    """A short, YAML-like rendering of an input value for messages."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = ".nan" if math.isnan(value) else repr(float(value))
    elif isinstance(value, int):
        text = (
            str(value) if abs(value) < 10**40 else f"an integer with {len(str(abs(value)))} digits"
        )
    elif isinstance(value, str):
        text = repr(str(value)) if len(value) <= limit else repr(str(value)[:limit]) + "..."
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_short(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_short(v, limit)}" for k, v in value.items()) + "}"
    else:
        text = type(value).__name__
    return text if len(text) <= limit + 2 else text[:limit] + "..."


# --------------------------------------------------------------------------- overrides


class Override(str):
    """A ``key.path=value`` override that a command-line option other than ``--set`` stands for
    (``--reps 0`` is ``experiment.replications=0``), so a problem names the option the user typed.

    It is a str, so code that stores or passes overrides as strings keeps working.
    """

    option: str

    def __new__(cls, text: str, option: str = "") -> Override:
        self = super().__new__(cls, text)
        self.option = option
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Override, (str(self), self.option))


def _where(arg: str) -> str:
    """Where the user typed an override: the option as typed, e.g. ``--reps 0`` or ``--set a=1``."""
    return getattr(arg, "option", "") or f"--set {arg}"


def parse_override(arg: str) -> tuple[list[str], Any]:
    """Split ``key.path=value`` into its path parts and the value parsed as YAML (flow style)."""
    key, sep, text = arg.partition("=")
    parts = key.strip().split(".")
    if not sep or not key.strip() or any(not p.strip() for p in parts):
        raise _file_problem(_where(arg), "expected KEY.PATH=VALUE, e.g. experiment.replications=5")
    try:
        value = _screened_yaml(_where(arg), [text]).load(text) if text.strip() else None
    except ScenarioError as exc:  # a tag or a too deep value: the argument, not a file position
        problem = exc.problems[0]
        raise _file_problem(
            _where(arg), f"{problem.message} (at character {problem.column})"
        ) from None
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise _file_problem(_where(arg), _one_line(f"invalid YAML value: {problem}")) from None
    return [p.strip() for p in parts], value


def set_path(data: dict[str, Any], parts: Sequence[str], value: Any) -> KeyPath:
    """Set ``value`` at the dotted ``parts`` of ``data`` (numeric parts index lists).

    Missing mappings on the way are created. Returns the normalised path (list indices as ints).
    Raises KeyError or IndexError with a readable message when the path cannot be followed.
    """
    node: Any = data
    done: list[PathPart] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: PathPart
        if isinstance(node, list):
            if not part.lstrip("-").isdigit():
                raise KeyError(
                    f"'{'.'.join(map(str, done))}' is a list; expected an index, found '{part}'"
                )
            key = int(part)
            if not 0 <= key < len(node):
                raise IndexError(
                    f"'{'.'.join(map(str, done))}' has {len(node)} items; "
                    f"index {key} is out of range"
                )
        elif isinstance(node, dict):
            key = int(part) if part not in node and part.isdigit() and int(part) in node else part
            if not last and key not in node:
                node[key] = CommentedMap()
        else:
            where = ".".join(map(str, done))
            raise KeyError(f"'{where}' is {_kind(node)}, not a mapping or list")
        done.append(key)
        if last:
            node[key] = value
        else:
            node = node[key]
    return tuple(done)


def _apply(data: dict[str, Any], overrides: Iterable[str]) -> dict[KeyPath, str]:
    """Apply ``--set`` overrides in order; map each set path to the argument that set it.

    A key the override created (``--set foo.bar=1`` on a file without ``foo``) maps to it too,
    so an unknown key is reported at the argument, not at a line of the file.
    """
    origins: dict[KeyPath, str] = {}
    for arg in overrides:
        parts, value = parse_override(arg)
        existing = _existing_depth(data, parts)
        try:
            path = set_path(data, parts, value)
        except (KeyError, IndexError) as exc:
            raise _file_problem(_where(arg), str(exc.args[0])) from None
        origins = {p: a for p, a in origins.items() if p[: len(path)] != path}
        origins[path[: existing + 1]] = arg
        origins[path] = arg
    return origins


def _existing_depth(data: Any, parts: Sequence[str]) -> int:
    """How many leading ``parts`` already lead to an existing node of ``data``."""
    node = data
    for i, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return i
    return len(parts)


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides (values parsed as YAML) to ``data`` in place; return it.

    ``segments.0.share=0.5`` indexes lists; ``arrivals.monthly_factors=[1, 1, ...]`` sets a list.
    A malformed argument raises ScenarioError naming it.
    """
    _apply(data, overrides)
    return data


# --------------------------------------------------------------------------- locating errors


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _model_tag(model: type) -> set[str]:
    """The literal values (discriminator tags) a model's fields can take, plus its name."""
    tags = {model.__name__}
    for info in getattr(model, "model_fields", {}).values():
        ann = _strip_annotated(info.annotation)
        if typing.get_origin(ann) is typing.Literal:
            tags.update(str(a) for a in typing.get_args(ann))
    return tags


def _model_keys(model: type) -> dict[str, str]:
    """YAML key (alias or name) -> field name of a pydantic model."""
    return {(info.alias or name): name for name, info in getattr(model, "model_fields", {}).items()}


def _members(tp: Any) -> list[Any]:
    """The members of a union other than None (one member: an Optional)."""
    return [_strip_annotated(m) for m in typing.get_args(tp) if m is not type(None)]


def _shape(tp: Any) -> str:
    """What a YAML node of type ``tp`` looks like: "mapping", "list" or "scalar"."""
    tp = _strip_annotated(tp)
    if hasattr(tp, "model_fields") or typing.get_origin(tp) is dict:
        return "mapping"
    return "list" if typing.get_origin(tp) is list else "scalar"


def _step(tp: Any, part: PathPart) -> tuple[bool, Any, Any]:
    """Is ``part`` a union tag at type ``tp``? The type below it (None when unknown); and for a
    smart (not discriminated) union, the member type the tag names, else None."""
    from pydantic import BaseModel

    tp = _strip_annotated(tp)
    if _is_union(tp):
        members = _members(tp)
        if len(members) == 1:
            return _step(members[0], part)
        for m in members:
            if isinstance(m, type) and issubclass(m, BaseModel) and str(part) in _model_tag(m):
                return True, m, (m if part == m.__name__ else None)
        if isinstance(part, str):  # e.g. 'list[any]'
            guess = next((m for m in members if str(part).startswith(_shape_name(m))), None)
            return True, guess, guess if guess is not None else object
        return False, None, None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        name = _model_keys(tp).get(str(part))
        return False, tp.model_fields[name].annotation if name else None, None
    origin = typing.get_origin(tp)
    if origin is list and isinstance(part, int):
        return False, typing.get_args(tp)[0], None
    if origin is dict:
        return False, typing.get_args(tp)[1], None
    return False, None, None


def _shape_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    return origin.__name__ if isinstance(origin, type) else getattr(tp, "__name__", "?")


def _describe(tp: Any) -> str:
    """A member of a smart union in words, for "expected a list of values or a mapping (...)"."""
    if hasattr(tp, "model_fields"):
        return f"a mapping with {', '.join(_model_keys(tp))}"
    return {"list": "a list", "mapping": "a mapping"}.get(_shape(tp), _shape_name(tp))


@dataclass
class _Where:
    keys: list[PathPart]  # loc without union tags: the path the user knows
    pos: tuple[int, int]  # 0-based line, column
    model: Any  # pydantic model of the mapping holding the last key, if known
    final_type: Any  # type at the end of the path, if known
    node: Any  # the YAML node reached
    union: Any = None  # a smart union passed on the way (list | SweepRange), if any
    off_branch: bool = False  # the error is about a union member the YAML node cannot be


def _pos_of(parent: Any, key: PathPart, child: Any) -> tuple[int, int] | None:
    """Position of ``parent[key]``: block collections at their key, everything else at the value."""
    try:
        if isinstance(parent, CommentedSeq):
            return parent.lc.item(key)
        if child is None:  # an empty value: YAML places it at the next token, often lines below
            return parent.lc.key(key)
        if isinstance(child, CommentedMap | CommentedSeq) and not child.fa.flow_style():
            return parent.lc.key(key)
        return parent.lc.value(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _key_pos(mapping: Any, key: PathPart) -> tuple[int, int] | None:
    try:
        return mapping.lc.key(key)
    except (KeyError, AttributeError, TypeError):
        return None


def _locate(root: CommentedMap, loc: tuple[PathPart, ...], err_type: str, scenario: Any) -> _Where:
    """Walk ``loc`` over the YAML nodes, skipping union tags; see the module docstring."""
    node: Any = root
    pos = (root.lc.line, root.lc.col)
    tp: Any = scenario
    model: Any = None
    keys: list[PathPart] = []
    in_data = True  # still following nodes the user wrote
    parent: Any = None
    union: Any = None
    off_branch = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":  # a mapping key itself failed validation: point at the key
            if in_data and isinstance(parent, CommentedMap) and keys:
                pos = _key_pos(parent, keys[-1]) or pos
            continue
        stripped = _strip_annotated(tp)
        holder = (
            stripped if isinstance(stripped, type) and hasattr(stripped, "model_fields") else None
        )
        is_tag, below, branch = _step(tp, part)
        if tp is None and isinstance(part, str) and isinstance(node, dict) and part not in node:
            # Unknown type: a string that is not a key is a tag unless it is a missing key.
            is_tag = not (last and err_type == "missing")
        if is_tag:
            if branch is not None and in_data:
                union = stripped
                node_shape = (
                    "mapping"
                    if isinstance(node, dict)
                    else "list"
                    if isinstance(node, list)
                    else ""
                )
                off_branch = off_branch or _shape(branch) != node_shape
            tp = below
            continue
        model, tp = holder, below
        if not in_data:
            keys.append(part)
            continue
        if isinstance(node, dict) and part in node:
            child = node[part]
            found = _pos_of(node, part, child)
            if last and err_type == "extra_forbidden":
                found = _key_pos(node, part) or found
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
            found = _pos_of(node, part, child)
        elif isinstance(node, dict | list):
            keys.append(part)  # missing here (a required key, or inherited through `extends`)
            in_data = False
            continue
        else:
            break  # a scalar that stands for a mapping (a bare number for a distribution)
        keys.append(part)
        parent, node = node, child
        if found is not None:
            pos = found
    return _Where(keys, pos, model, tp, node, union, off_branch)


def _allowed(model: Any) -> list[str]:
    return list(_model_keys(model)) if model is not None else []


def _message(err: ErrorDetails, where: _Where) -> str:
    """Pydantic's message, reworded where it helps, with the value that was found."""
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    last = where.keys[-1] if where.keys else ""
    if kind == "missing":
        return f"required key '{last}' is missing"
    if kind == "extra_forbidden":
        allowed = _allowed(where.model)
        text = f"unknown key '{last}'"
        close = difflib.get_close_matches(str(last), allowed, n=1, cutoff=0.6)
        if close:
            text += f" (did you mean '{close[0]}'?)"
        if allowed:
            names = ", ".join(allowed[:10]) + (", ..." if len(allowed) > 10 else "")
            text += f"; expected one of: {names}"
        return text
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "")).strip("'")
        node = where.node
        tag = node[disc] if isinstance(node, dict) and disc in node else ctx.get("tag")
        return f"unknown {disc} {_short(tag)}; expected one of: {ctx.get('expected_tags')}"
    found = err.get("input")
    if "[key]" in err["loc"] and kind == "string_type":
        return f"expected a text key (quote it: '{found}'), found {_kind(found)}"
    if kind == "union_tag_not_found" or (
        kind in ("model_attributes_type", "model_type", "dict_type")
        and len(_members(_strip_annotated(where.final_type))) > 1
    ):
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        tags = ", ".join(_union_tags(where.final_type, disc))
        if isinstance(found, dict):
            return f"required key '{disc}' is missing; expected one of: {tags}"
        number = "a number or " if _is_distribution(where.final_type) else ""
        text = f"expected {number}a mapping with a '{disc}' key ({tags}), found {_kind(found)}"
        return text + _text_hint(found) if number else text
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        hint = ""
        if isinstance(found, str) and _MISSING_SPACE.match(found):
            hint = f"; put a space after '{found.split(':', 1)[0]}:'"
        return f"expected a mapping, found {_kind(found)}{hint}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == "^[A-Za-z0-9_.-]+$":
        only = "letters, digits, '_', '.' and '-' only"
        return f"expected {only} (it names a folder), found {_short(found)}"
    if kind in ("too_short", "too_long") and last == "monthly_factors":
        return _monthly_message(found, where)
    if kind == "less_than_equal" and ctx.get("le") == 1 and _is_real(found) and found > 1:
        what = "probabilities" if "probability" in str(last) else "shares"
        example = f": write {found / 100:g} for {found:g} %" if 2 <= found <= 100 else ""
        return f"{msg} (found {_short(found)}); {what} are 0-1{example}"
    if (
        "found" not in msg
        and kind != "referral_csv"  # about the file the value names, which the message names
        and _plain(found)
        and not (kind == "value_error" and isinstance(found, list))
    ):
        msg += f" (found {_short(found)})"
    return msg


def _text_hint(found: Any) -> str:
    """'; hint' for a text where a number belongs (``45 uger``, ``3,5``), else ""."""
    from sim.model.values import text_hint

    hint = text_hint(found) if isinstance(found, str) else ""
    return f"; {hint}" if hint else ""


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _monthly_message(found: Any, where: _Where) -> str:
    """12 factors, one per month; a decimal comma in a [list] splits each number in two."""
    n = len(found) if isinstance(found, list) else 0
    text = f"expected 12 factors, one per month (January first), found {n}"
    node = where.node
    if isinstance(node, CommentedSeq) and node.fa.flow_style() and n > 12:
        text += "; a decimal comma splits a number in two: use a point (1.05, not 1,05)"
    return text


def _union_tags(tp: Any, disc: str) -> list[str]:
    """The tags a discriminated union accepts, e.g. fixed, share, optimise for ``mode``."""
    tags: list[str] = []
    for member in typing.get_args(_strip_annotated(tp)):
        info = getattr(_strip_annotated(member), "model_fields", {}).get(disc)
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            tags.extend(str(a) for a in typing.get_args(info.annotation))
    return tags


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    return (
        isinstance(value, list)
        and len(value) <= 20
        and all(v is None or isinstance(v, bool | int | float | str) for v in value)
    )


def _is_distribution(tp: Any) -> bool:
    tp = _strip_annotated(tp)
    return _is_union(tp) and any(
        getattr(_strip_annotated(m), "__name__", "") == "Fixed" for m in typing.get_args(tp)
    )


def _problem(
    err: ErrorDetails,
    data: CommentedMap,
    lines: list[str],
    file: str,
    origins: dict[KeyPath, str],
    scenario: Any,
) -> Problem:
    """One pydantic error as a located Problem."""
    loc = tuple(err["loc"])
    where = _locate(data, loc, err["type"], scenario)
    if err["type"] == "union_tag_invalid" and isinstance(where.node, CommentedMap):
        disc = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
        if disc in where.node:
            where.pos = where.node.lc.value(disc)
            where.keys.append(disc)
    path = ".".join(map(str, where.keys))
    message = _one_line(_message(err, where))
    key_path = tuple(where.keys)
    for set_key, arg in origins.items():
        if key_path[: len(set_key)] == set_key:
            # An option other than --set stands for one setting: its key path adds nothing.
            shown = path if _where(arg).startswith("--set ") else ""
            return Problem(_where(arg), None, None, shown, message)
    under = [arg for set_key, arg in origins.items() if set_key[: len(key_path)] == key_path]
    if under:
        message += " (after " + ", ".join(_where(a) for a in under) + ")"
    line, col = where.pos[0] + 1, where.pos[1] + 1
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    if where.off_branch:
        expected = " or ".join(_describe(m) for m in _members(where.union))
        message = f"expected {expected}, found {_kind(where.node)}"
        return _OffBranch(file, line, col, path, _one_line(message), source)
    return Problem(file, line, col, path, message, source)


class _OffBranch(Problem):
    """An error from a union member the YAML node cannot be (a list where a mapping is)."""


def _merge_branches(problems: list[Problem]) -> list[Problem]:
    """Per place, keep the errors of the union member the user meant, or one that names all."""
    meant = [p.path for p in problems if not isinstance(p, _OffBranch)]
    out: list[Problem] = []
    seen: set[str] = set()
    for p in problems:
        if isinstance(p, _OffBranch):
            covered = any(m == p.path or m.startswith(p.path + ".") for m in meant)
            if covered or p.path in seen:
                continue
            seen.add(p.path)
            p = Problem(p.file, p.line, p.column, p.path, p.message, p.source_line)
        out.append(p)
    return out


def _drop_explained(problems: list[Problem]) -> list[Problem]:
    """Leave out "required key 'x' is missing" where an unknown key beside it suggests 'x'."""
    suggested = set()
    for p in problems:
        if "(did you mean '" in p.message:
            parent = p.path.rpartition(".")[0]
            name = p.message.split("(did you mean '", 1)[1].split("'", 1)[0]
            suggested.add(f"{parent}.{name}" if parent else name)
    return [
        p for p in problems if not (p.path in suggested and p.message.startswith("required key '"))
    ]


# --------------------------------------------------------------------------- dumping


def _styled(value: Any, depth: int = 0) -> Any:
    """Plain data as ruamel nodes: short leaf mappings and scalar lists in flow style."""
    if isinstance(value, dict):
        out = CommentedMap((k, _styled(v, depth + 1)) for k, v in value.items())
        leaf = all(not isinstance(v, dict | list) for v in value.values())
        if depth >= 2 and leaf and len(value) <= 4:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        out_seq = CommentedSeq(_styled(v, depth + 1) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            out_seq.fa.set_flow_style()
        return out_seq
    return value


def dump_resolved(scenario: Scenario) -> str:
    """The scenario as YAML with every default filled in and every model resolved.

    The text loads back to an equal Scenario; runs and sweeps store it so any result can be rerun.
    """
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    yaml = YAML(typ="rt")
    yaml.width = 4096  # no folded lines (ruamel leaves trailing spaces where it folds)
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    buf.write(
        f"# Resolved scenario '{scenario.name}': every default filled in, every model complete.\n"
    )
    yaml.dump(_styled(data), buf)
    return buf.getvalue()
