"""Shared scenario builders: small, fast variants of the shipped scenarios."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sim.model.scenario import Scenario, deep_merge
from sim.model.theory import mmc_scenario

__all__ = ["make_scenario", "mmc_scenario", "odder_data"]

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


TEST_BASE = Path(__file__).resolve().parent / "data" / "odder-base.yaml"
"""The tests' own Odder-like base (frozen before the 2026-11-30 recalibration): tests of the engine
do not move when the shipped scenario is recalibrated."""


def odder_data() -> dict[str, Any]:
    """The tests' Odder-like base scenario as plain data (a fresh copy each call)."""
    data = YAML(typ="safe").load(TEST_BASE.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def make_scenario(over: dict[str, Any] | None = None, **experiment: Any) -> Scenario:
    """Odder with ``over`` laid on top and a short experiment (override with keyword args)."""
    data = odder_data()
    data["experiment"] = {
        "seed": 7,
        "replications": 6,
        "horizon_weeks": 260,
        "warmup_weeks": 52,
        **experiment,
    }
    if over:
        data = deep_merge(data, over)
    context = {"base_dir": str(SCENARIOS), "allow_outside_paths": True}
    return Scenario.model_validate(data, context=context)


@pytest.fixture
def odder() -> Scenario:
    return make_scenario()


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch ruamel's parser to record each stream it starts parsing (one entry per parse)."""
    from ruamel.yaml.parser import Parser

    started: list[str] = []
    original = Parser.parse_stream_start

    def counted(self: Parser) -> object:
        started.append("stream")
        return original(self)

    monkeypatch.setattr(Parser, "parse_stream_start", counted)
    return started
