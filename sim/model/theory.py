"""Configurations of the engine for which queueing theory gives the answer (docs/model.md §9)."""

from __future__ import annotations

from typing import Any

from sim.model.scenario import Scenario, all_mechanisms_off


def mmc_scenario(
    rate_per_week: float, servers: int, hours: float, mean_weeks: float, **experiment: Any
) -> Scenario:
    """The M/M/c configuration of docs/model.md §9: zero-effort, zero-delay intake, one segment
    of constant need ``hours``, exponential support durations, no review overshoot, and a provider
    capacity of exactly ``servers * hours`` hours per week."""
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
        "models": {"mmc": all_mechanisms_off()},
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
