"""Property: any mutation of a valid scenario loads or gives located errors, never a crash."""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sim.config.loader import ScenarioError, dump_resolved, load_scenario_text

ODDER = Path(__file__).resolve().parents[1] / "scenarios" / "odder.yaml"


def _plain(value: Any) -> Any:
    """ruamel's round-trip nodes as plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


BASE = _plain(YAML(typ="rt").load(ODDER.read_text(encoding="utf-8")))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a node, the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


replacement = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-308, 10**30, -1, 0, -0.5, 0.0, 1.5, 2.0, 1e6]),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.text(max_size=12),
    st.sampled_from(["", "classic", "joint", "fixed", "lognormal", "csv", "share", "optimise"]),
    st.just([]),
    st.just({}),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=4)), max_size=4),
    st.dictionaries(st.sampled_from(["kind", "mean", "sd", "value", "x"]), st.integers(-2, 5)),
)

mutation = st.tuples(
    st.sampled_from(["replace", "remove", "add_key"]),
    st.sampled_from(PATHS),
    replacement,
    st.text(min_size=1, max_size=10),
)


def _mutate(data: Any, op: str, path: tuple, value: Any, key: str) -> Any:
    if not path:
        return value if op == "replace" else data
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return data  # an earlier mutation removed or replaced this branch
    last = path[-1]
    try:
        target = parent[last]
    except (KeyError, IndexError, TypeError):
        return data
    if op == "replace":
        parent[last] = value
    elif op == "remove":
        del parent[last]
    elif isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list):
        target.append(value)
    return data


def _dump(data: Any) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    return buf.getvalue()


@settings(
    max_examples=200,
    deadline=None,
    # In CI the examples are fixed (a landing never depends on luck); locally each run explores.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_scenario_loads_or_reports_located_problems(mutations: list) -> None:
    data = copy.deepcopy(BASE)
    for op, path, value, key in mutations:
        data = _mutate(data, op, path, value, key)
    text = _dump(data)
    try:
        scenario = load_scenario_text(text, "mutated.yaml", ODDER.parent)
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == "mutated.yaml"
            assert problem.line is not None and problem.line >= 1, problem
            assert problem.column is not None and problem.column >= 1, problem
            assert problem.message
        assert len(error.format().splitlines()) <= 40
        return
    # A scenario that loads must also survive the resolved dump.
    again = load_scenario_text(dump_resolved(scenario), "resolved.yaml", ODDER.parent)
    assert again == scenario


# --------------------------------------------------------------------------- strict types and tags

NUMERIC_SLOTS = [
    p
    for p in PATHS
    if p and isinstance(_get(BASE, p), int | float) and not isinstance(_get(BASE, p), bool)
]
TAG = "__TAGGED_VALUE__"

not_a_number = st.one_of(
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["3,5", "18.000.000", "85%", "0,4", "3.0", "1e3", "ja", "nej", "45 uger"]),
    st.just(TAG),
)
tag = st.sampled_from(["!budget 3", '!!float "3"', "!!int 3", "!!str 3", "!!binary aGk=", "! 3"])


@settings(
    max_examples=150,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sampled_from(NUMERIC_SLOTS), not_a_number, tag)
def test_a_non_number_in_a_numeric_slot_is_a_located_error(
    path: tuple, value: Any, tagged: str
) -> None:
    data = copy.deepcopy(BASE)
    _mutate(data, "replace", path, value, "")
    text = _dump(data)
    if value == TAG:
        text = text.replace(TAG, tagged, 1)
    try:
        load_scenario_text(text, "strict.yaml", ODDER.parent)
    except ScenarioError as error:
        for problem in error.problems:
            assert problem.line is not None and problem.line >= 1, problem
            assert problem.column is not None and problem.column >= 1, problem
        first = error.problems[0]
        if value == TAG:
            assert first.message.startswith("YAML tags are not allowed"), first
        else:
            dotted = ".".join(map(str, path))
            assert any(p.path == dotted and "found" in p.message for p in error.problems), (
                error.format()
            )
        assert len(error.format().splitlines()) <= 40
        return
    raise AssertionError(f"{path} = {value!r} loaded")
