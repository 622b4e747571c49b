"""Shared scenario builders: small, fast variants of the shipped scenarios."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sim.scenario import Scenario, deep_merge

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def odder_data() -> dict[str, Any]:
    """The Odder scenario as plain data (a fresh copy each call)."""
    data = YAML(typ="safe").load((SCENARIOS / "odder.yaml").read_text(encoding="utf-8"))
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
    return Scenario.model_validate(data, context={"base_dir": str(SCENARIOS)})


def mmc_scenario(
    rate_per_week: float, servers: int, hours: float, mean_weeks: float, **experiment: Any
) -> Scenario:
    """The M/M/c configuration of MODEL.md section 9: zero-effort, zero-delay intake, one segment
    of constant need ``hours``, exponential support durations, no review overshoot, and a provider
    capacity of exactly ``servers * hours`` hours per week."""
    zero = {"authority_hours": 0, "provider_hours": 0, "duration_weeks": 0}
    instant = {
        "extends": "classic",
        "first_contact": {
            "joint": False,
            "meeting": zero,
            "assessment": zero,
            "documentation": zero,
            "delay_weeks": 0,
        },
        "decision": {"committee_cadence_weeks": 0, "work": zero, "delay_weeks": 0},
        "handoff": {"enabled": False, "order": zero, "transfer_delay_weeks": 0},
        "startup_meeting": {"enabled": False, "meeting": zero, "plan": zero},
        "accuracy": {"error_sd": 0.0},
        "rework": {"probability": 0.0},
        "routing": {"short_course_share": 0.0},
        "review": {"cadence_weeks": 0, "adjust_hours": 0.0},
    }
    data = {
        "name": "mmc",
        "budget": {"annual_dkk": 1_000_000},
        "staff": {
            "authority": {"fte_cost_dkk_per_year": 500_000},
            "provider": {
                "fte_cost_dkk_per_year": 500_000,
                "hours_per_week": servers * hours,
                "productive_share": 1.0,
            },
        },
        "staffing": {"mode": "fixed", "authority_fte": 0, "provider_fte": 1},
        "arrivals": {"kind": "poisson", "rate_per_week": rate_per_week},
        "segments": [
            {
                "name": "all",
                "share": 1.0,
                "need_hours_per_week": hours,
                "weeks_to_goal": {"kind": "exponential", "mean": mean_weeks},
                "eligible_probability": 1.0,
            }
        ],
        "models": {"mmc": instant},
        "compare": ["mmc"],
        "experiment": {
            "seed": 11,
            "replications": 10,
            "horizon_weeks": 2000,
            "warmup_weeks": 100,
            **experiment,
        },
    }
    return Scenario.model_validate(data)


@pytest.fixture
def odder() -> Scenario:
    return make_scenario()
