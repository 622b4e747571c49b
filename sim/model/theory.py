"""Configurations of the engine for which queueing theory gives the answer (MODEL.md section 9)."""

from __future__ import annotations

from typing import Any

from sim.model.scenario import Scenario


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
