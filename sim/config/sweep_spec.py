"""Sweep specifications: a ``sweep:`` section (or a folder of scenario files) as a checked plan.

A sweep is a ``sweep:`` section in a scenario (key paths mapped to lists or ranges; the full grid
by default, ``mode: zip`` to pair the lists), a folder of scenario files, or both. Each variant is a
**point**: the scenario with the sweep's values laid on it, validated and resolved like any
scenario. Everything is checked before anything runs; a bad sweep key or a value that makes a
point invalid is reported at its line and column in the file.

Every replication of a point is seeded from (seed, the point's resolved scenario, replication)
through ``point_identity``, so results do not depend on the executor, the number of workers, the
batching of replications or the order tasks finish in.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim import __version__
from sim.config.loader import (
    Problem,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    parse_override,
    set_path,
)

if TYPE_CHECKING:
    from sim.model.scenario import Scenario, Sweep, SweepRange

__all__ = [
    "MAX_POINTS",
    "Point",
    "SweepPlan",
    "expand",
    "parameter_values",
    "plan_sweep",
    "point_identity",
    "show_value",
]

MAX_POINTS = 10_000
"""A larger sweep is almost always a mistake in a range (a step of 1 DKK); split it on purpose."""


# --------------------------------------------------------------------------- expansion (pure)


def parameter_values(spec: list[Any] | SweepRange) -> list[Any]:
    """The values of one sweep parameter: a list as given, or a range's inclusive values.

    A range whose start, stop and step are whole numbers gives ints, so that
    ``{start: 2, stop: 10, step: 2}`` can sweep an integer setting such as replications.
    """
    from sim.model.scenario import SweepRange

    if isinstance(spec, SweepRange):
        values = spec.values()
        if all(float(x).is_integer() for x in (spec.start, spec.stop, spec.step)):
            return [round(v) for v in values]
        return values
    return list(spec)


def expand(mode: str, parameters: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The points of a sweep as {key path: value} in key order.

    ``grid``: every combination, the first key varying slowest. ``zip``: the i-th value of every
    list together; the lists must have the same length (ValueError otherwise).
    """
    keys = list(parameters)
    lists = [list(v) for v in parameters.values()]
    if mode == "zip":
        lengths = {len(v) for v in lists}
        if len(lengths) > 1:
            raise ValueError("zip needs lists of the same length")
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*lists, strict=True)]
    if mode != "grid":
        raise ValueError(f"unknown sweep mode {mode!r}; expected grid or zip")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def point_identity(scenario: Scenario, version: str = __version__) -> tuple[str, int]:
    """(point id, stream key) of a resolved point scenario.

    The **point id** (16 hex digits) hashes the whole resolved scenario (seed included) and the sim
    version: it names the point's folder and is the ``--resume`` key. The **stream key** (a 60-bit
    int, the first part of every random stream's key) hashes the same without the number of
    replications, so replication r of a point draws the same numbers whether 5 or 50 are run.
    """
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("sweep", None)
    data.pop("provenance", None)  # where numbers come from changes no number: not the identity
    point_id = hashlib.sha256(f"{_canonical(data)}\n{version}".encode()).hexdigest()[:16]
    explicit = data["experiment"].pop("stream_key", None)
    data["experiment"] = {k: v for k, v in data["experiment"].items() if k != "replications"}
    digest = hashlib.sha256(f"{_canonical(data)}\n{version}".encode()).hexdigest()
    return point_id, explicit if explicit is not None else int(digest[:15], 16)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Point:
    """One variant of a scenario: its values, its resolved scenario and its identity."""

    index: int
    source: str
    params: dict[str, Any]
    scenario: Scenario
    base_dir: str
    point_id: str
    stream_key: int

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.scenario.compare)

    @property
    def replications(self) -> int:
        return self.scenario.experiment.replications

    def label(self) -> str:
        """``budget.annual_dkk=12000000, arrivals.rate_per_week=2`` (or the source file)."""
        if not self.params:
            return Path(self.source).name
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.params.items())


@dataclass(frozen=True)
class SweepPlan:
    """Every point of a sweep, in order, checked and ready to run."""

    name: str
    target: str
    sources: tuple[str, ...]
    parameters: tuple[str, ...]
    points: tuple[Point, ...]
    modes: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """The command-line settings that shaped the points (``--reps``, ``--set``), stored in the
    manifest so ``--resume`` completes the sweep with them."""

    def unique_points(self) -> list[Point]:
        """The first point of each point id (identical variants run once)."""
        seen: dict[str, Point] = {}
        for p in self.points:
            seen.setdefault(p.point_id, p)
        return list(seen.values())


def show_value(value: Any, limit: int = 60) -> str:
    """A sweep value as text for labels and messages, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(node: Any) -> Any:
    """ruamel round-trip nodes as plain Python data (dict, list, int, float, str, bool, None)."""
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _point_data(base: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The base scenario data with ``values`` set at their key paths and no sweep section.

    A setting of a built-in preset the file does not define (``models.joint.review...``) creates
    that model as ``extends: joint``, so the rest of the preset is kept. Raises KeyError or
    IndexError (with a readable message) when a path cannot be followed.
    """
    from sim.model.scenario import PRESETS

    data = copy.deepcopy(base)
    data.pop("sweep", None)
    for key, value in values.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "models" and parts[1] in PRESETS:
            models = data.setdefault("models", {})
            if isinstance(models, dict) and parts[1] not in models:
                models[parts[1]] = {"extends": parts[1]}
        set_path(data, parts, copy.deepcopy(value))
    return data


def _overrides_for(base: dict[str, Any], values: Mapping[str, Any]) -> list[str]:
    """The same changes as ``_point_data``, as ``key.path=value`` overrides for the loader."""
    from sim.model.scenario import PRESETS

    out = ["sweep=null"]
    models = base.get("models") if isinstance(base.get("models"), dict) else {}
    for key, value in values.items():
        parts = key.split(".")
        preset = len(parts) >= 3 and parts[0] == "models" and parts[1] in PRESETS
        if preset and parts[1] not in (models or {}):
            out.append(f"models.{parts[1]}.extends={json.dumps(parts[1])}")
        out.append(f"{key}={json.dumps(value, ensure_ascii=False)}")
    return out


class _Located:
    """Positions of the sweep section's keys and values in one file."""

    def __init__(self, source: str, text: str, raw: CommentedMap) -> None:
        self.source = source
        self.lines = text.splitlines()
        sweep = raw.get("sweep")
        self.sweep = sweep if isinstance(sweep, CommentedMap) else None
        params = self.sweep.get("parameters") if self.sweep is not None else None
        self.params = params if isinstance(params, CommentedMap) else None

    def _problem(self, pos: tuple[int, int] | None, path: str, message: str) -> Problem:
        if pos is None:
            return Problem(self.source, None, None, path, message)
        line, col = pos[0] + 1, pos[1] + 1
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return Problem(self.source, line, col, path, message, source)

    def key(self, key: str, message: str) -> Problem:
        """A problem with the sweep key itself (unknown setting, empty list...)."""
        pos = None
        if self.params is not None and key in self.params:
            pos = self.params.lc.key(key)
        return self._problem(pos, f"sweep.parameters.{key}", message)

    def value(self, key: str, index: int, message: str) -> Problem:
        """A problem with the ``index``-th value of ``key`` (the key itself for a range)."""
        if self.params is not None and key in self.params:
            node = self.params[key]
            if isinstance(node, CommentedSeq) and index < len(node):
                return self._problem(
                    node.lc.item(index), f"sweep.parameters.{key}[{index}]", message
                )
        return self.key(key, message)

    def section(self, name: str, message: str) -> Problem:
        """A problem with the sweep as a whole, at ``sweep.<name>`` (or ``sweep``)."""
        if self.sweep is not None and name in self.sweep:
            return self._problem(self.sweep.lc.key(name), f"sweep.{name}", message)
        return self._problem(None, "sweep", message)


def _validate(data: dict[str, Any], base_dir: Path, allow_outside: bool = False) -> Scenario:
    from sim.model.scenario import Scenario

    context = {"base_dir": base_dir, "allow_outside_paths": allow_outside}
    return Scenario.model_validate(data, context=context)


def _explain(
    text: str,
    path: Path,
    base: dict[str, Any],
    overrides: Sequence[str],
    values: Mapping[str, Any],
    error: Exception,
) -> list[Problem]:
    """The loader's located problems for ``values`` laid on the base (slow path, errors only)."""
    try:
        load_scenario_text(
            text, str(path), path.parent, [*overrides, *_overrides_for(base, values)]
        )
    except ScenarioError as exc:
        return exc.problems
    except Exception as exc:  # pragma: no cover - the loader turns everything into problems
        return [Problem(str(path), None, None, "", f"{type(exc).__name__}: {exc}")]
    return [Problem(str(path), None, None, "", str(error).splitlines()[0])]


def _reword(key: str, value: Any, problem: Problem) -> tuple[bool, str]:
    """(about the key itself?, message) for a loader problem caused by one sweep value."""
    shown = show_value(value)
    if problem.message.startswith("unknown key") and (
        problem.path == key or key.startswith(problem.path + ".")
    ):
        return True, f"'{key}' is not a scenario setting: {problem.message}"
    if problem.path == key:
        return False, f"value {shown}: {problem.message}"
    if problem.path.startswith(key + "."):
        return False, f"value {shown}: {problem.path[len(key) + 1 :]}: {problem.message}"
    where = problem.path or "the scenario"
    return False, f"value {shown} makes {where} invalid: {problem.message}"


@dataclass
class _FilePlan:
    source: str
    base_dir: Path
    mode: str
    parameters: list[str]
    points: list[tuple[dict[str, Any], Scenario]]


@dataclass(frozen=True)
class _FileContext:
    """What checking one sweep value needs of its file."""

    path: Path
    text: str
    base: dict[str, Any]
    overrides: Sequence[str]
    base_dir: Path
    allow_outside: bool
    located: _Located


def _value_problems(ctx: _FileContext, key: str, vals: list[Any]) -> list[Problem]:
    """The problems of each value of one sweep key laid alone on the base scenario; stops at the
    first problem with the key itself (every value would repeat it)."""
    from pydantic import ValidationError

    problems: list[Problem] = []
    for i, v in enumerate(vals):
        key_problem = False
        try:
            _validate(_point_data(ctx.base, {key: v}), ctx.base_dir, ctx.allow_outside)
            continue
        except (KeyError, IndexError) as exc:
            problems.append(
                ctx.located.key(key, f"'{key}' cannot be set: {exc.args[0] if exc.args else exc}")
            )
            key_problem = True
        except ValidationError as exc:
            for p in _explain(ctx.text, ctx.path, ctx.base, ctx.overrides, {key: v}, exc):
                about_key, message = _reword(key, v, p)
                if about_key:
                    problems.append(ctx.located.key(key, message))
                    key_problem = True
                else:
                    problems.append(ctx.located.value(key, i, message))
        if key_problem:
            break
    return problems


def _plan_file(
    path: Path, overrides: Sequence[str], allow_outside: bool = False
) -> tuple[_FilePlan | None, list[Problem]]:
    """Check one scenario file and its sweep; the points, or every problem found."""
    from pydantic import ValidationError

    from sim.model.scenario import SweepRange

    source = str(path)
    try:
        base_scenario = load_scenario(path, overrides, allow_outside_paths=allow_outside)
    except ScenarioError as exc:
        return None, exc.problems
    text = path.read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    raw = yaml.load(text)
    for arg in overrides:  # already checked by load_scenario
        parts, value = parse_override(arg)
        set_path(raw, parts, value)
    located = _Located(source, text, raw)
    base = _plain(raw)
    base_dir = path.resolve().parent
    sweep: Sweep | None = base_scenario.sweep
    if sweep is None:
        return _FilePlan(source, base_dir, "single", [], [({}, _strip_sweep(base_scenario))]), []

    problems: list[Problem] = []
    values: dict[str, list[Any]] = {}
    raw_params = base.get("sweep", {}).get("parameters", {})
    for key, spec in sweep.parameters.items():
        if key.split(".")[0] == "sweep":
            problems.append(located.key(key, "the sweep section itself cannot be swept"))
            continue
        vals = parameter_values(spec) if isinstance(spec, SweepRange) else list(raw_params[key])
        if isinstance(spec, SweepRange) and spec.stop < spec.start:
            problems.append(located.key(key, f"expected stop >= start, found {spec.stop:g}"))
            continue
        if not vals:
            problems.append(located.key(key, "expected at least one value, found an empty list"))
            continue
        ctx = _FileContext(path, text, base, overrides, base_dir, allow_outside, located)
        problems += _value_problems(ctx, key, vals)
        values[key] = vals
    if problems:
        return None, _dedupe(problems)

    if sweep.mode == "zip" and len({len(v) for v in values.values()}) > 1:
        sizes = ", ".join(f"{k} has {len(v)}" for k, v in values.items())
        return None, [located.section("mode", f"zip needs lists of the same length: {sizes}")]
    sizes = [len(v) for v in values.values()]
    n = math.prod(sizes) if sweep.mode == "grid" else sizes[0]
    if n > MAX_POINTS:
        return None, [
            located.section("parameters", f"the sweep has {n:,} points; at most {MAX_POINTS:,}")
        ]
    points: list[tuple[dict[str, Any], Scenario]] = []
    for i, combo in enumerate(expand(sweep.mode, values)):
        try:
            points.append((combo, _validate(_point_data(base, combo), base_dir, allow_outside)))
        except ValidationError as exc:
            shown = ", ".join(f"{k}={show_value(v)}" for k, v in combo.items())
            for p in _explain(text, path, base, overrides, combo, exc):
                where = f"{p.path}: " if p.path else ""
                problems.append(
                    located.section("parameters", f"point {i} ({shown}): {where}{p.message}")
                )
    if problems:
        return None, _dedupe(problems)
    return _FilePlan(source, base_dir, sweep.mode, list(values), points), []


def _strip_sweep(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"sweep": None})


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    out: dict[tuple[Any, ...], Problem] = {}
    for p in problems:
        out.setdefault((p.file, p.line, p.column, p.message), p)
    return list(out.values())


def _sweep_files(target: Path) -> list[Path]:
    return sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name).strip("._")
    return cleaned or "sweep"


def plan_sweep(
    target: str | Path, overrides: Sequence[str] = (), *, allow_outside_paths: bool = False
) -> SweepPlan:
    """Check a scenario file with a ``sweep:`` section, or a folder of scenario files (each may
    have its own sweep), and list every point. Nothing runs.

    ``overrides`` (``key.path=value``) apply to every file before its sweep. Raises ScenarioError
    with every problem of every file, each at its line and column.
    """
    target = Path(target)
    if target.is_dir():
        files = _sweep_files(target)
        if not files:
            raise ScenarioError(
                [Problem(str(target), None, None, "", "folder holds no .yaml scenario files")]
            )
        name = _safe_name(target.resolve().name)
    else:
        files = [target]
        name = ""
    problems: list[Problem] = []
    plans: list[_FilePlan] = []
    for path in files:
        plan, found = _plan_file(path, overrides, allow_outside_paths)
        problems.extend(found)
        if plan is not None:
            plans.append(plan)
    if problems:
        raise ScenarioError(problems)
    if not name:
        name = plans[0].points[0][1].name
    parameters = tuple(dict.fromkeys(k for p in plans for k in p.parameters))
    points: list[Point] = []
    for fp in plans:
        for combo, scenario in fp.points:
            pid, key = point_identity(scenario)
            points.append(
                Point(len(points), fp.source, combo, scenario, str(fp.base_dir), pid, key)
            )
    return SweepPlan(
        name=name,
        target=str(target),
        sources=tuple(fp.source for fp in plans),
        parameters=parameters,
        points=tuple(points),
        modes={fp.source: fp.mode for fp in plans},
    )
