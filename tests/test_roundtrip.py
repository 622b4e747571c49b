"""Round trip (issue 13 point 5): a known scenario -> a synthetic case export -> `sim fit` -> the
known parameters again, within tolerance; then `sim check` of the fitted scenario passes.
(`sim check` of a scenario against its own export: tests/test_check.py.)

The known scenarios are chosen so that each fitted number means what the scenario's number means:
support ends exactly at the goals (no reviews, exact assessment, no start-up inside the place, no
drop-out), nobody is re-referred (the scenario's rate counts first referrals only) and the two
segments' hours do not overlap much. Two parameter sets, so a fit that echoes one set's values
cannot pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sim.app.fit import Request, fit
from sim.config.cases import read_cases
from sim.config.loader import load_scenario
from sim.run.casegen import MESSY, synthetic_export, write_export
from sim.run.check import run_check
from tests.conftest import odder_data

START, AS_OF = dt.date(2023, 1, 1), dt.date(2025, 12, 31)


def _segment(name: str, share: float, hours: tuple[float, float], weeks: tuple[float, float]):
    return {
        "name": name,
        "share": share,
        "need_hours_per_week": {"kind": "lognormal", "mean": hours[0], "sd": hours[1]},
        "weeks_to_goal": {"kind": "gamma", "mean": weeks[0], "sd": weeks[1]},
        "goals": {"kind": "empirical", "values": [1]},
        "eligible_probability": 0.9,
    }


KNOWN = {
    "a": (3.0, [("low", 0.6, (2.0, 0.4), (20, 6)), ("high", 0.4, (10.0, 2.0), (50, 12))]),
    "b": (4.0, [("low", 0.7, (1.5, 0.3), (15, 5)), ("high", 0.3, (8.0, 1.5), (40, 10))]),
}


def _known(tmp: Path, key: str) -> Path:
    rate, segments = KNOWN[key]
    d: dict[str, Any] = odder_data()
    d["segments"] = [_segment(*s) for s in segments]
    d["arrivals"] = {"kind": "poisson", "rate_per_week": rate}
    d["exits"].update(dropout_per_year=0.0, rereferral_probability=0.0)
    d["models"] = {
        "classic": {
            "review": {"cadence_weeks": 0},
            "accuracy": {"error_sd": 0.0},
            "startup_meeting": {"enabled": False},
        }
    }
    d.pop("provenance", None)  # Odder's entries are about Odder's values, not these
    d["experiment"] = {"seed": 3, "replications": 2, "horizon_weeks": 300, "warmup_weeks": 104}
    path = tmp / f"known-{key}.yaml"
    with path.open("w", encoding="utf-8") as f:
        YAML().dump(d, f)
    return path


@pytest.mark.parametrize("key", sorted(KNOWN))
def test_fit_recovers_the_known_scenario(tmp_path, key) -> None:
    known_path = _known(tmp_path, key)
    known = load_scenario(known_path, allow_outside_paths=True)
    cases = synthetic_export(known, START, AS_OF, base_dir=known_path.parent)
    export = write_export(cases, tmp_path / f"synthetic-cases-{key}.csv", MESSY)
    out = tmp_path / "fitted.yaml"
    fit(Request(cases=export, out=out, start=START, as_of=AS_OF, base=known_path))
    fitted = load_scenario(out, allow_outside_paths=True)

    rate = known.arrivals.rate_per_week
    weeks = (AS_OF - START).days / 7
    assert fitted.arrivals.rate_per_week == pytest.approx(rate, abs=3 * (rate / weeks) ** 0.5)
    assert len(fitted.segments) == len(known.segments)
    for k, f in zip(known.segments, fitted.segments, strict=True):
        assert f.share == pytest.approx(k.share, abs=0.06)
        assert f.need_hours_per_week.mean() == pytest.approx(k.need_hours_per_week.mean(), rel=0.1)
        assert f.weeks_to_goal.mean() == pytest.approx(k.weeks_to_goal.mean(), rel=0.1)
        assert f.eligible_probability == pytest.approx(0.9, abs=0.05)


CLASSIC_AS_KNOWN = [
    "models.classic.review.cadence_weeks=0",
    "models.classic.accuracy.error_sd=0",
    "models.classic.startup_meeting.enabled=false",
]


def _fitted_a(tmp: Path) -> tuple[Path, Path]:
    known_path = _known(tmp, "a")
    known = load_scenario(known_path, allow_outside_paths=True)
    cases = synthetic_export(known, START, AS_OF, base_dir=known_path.parent)
    export = write_export(cases, tmp / "synthetic-cases-a.csv", MESSY)
    fit(Request(cases=export, out=tmp / "fitted.yaml", start=START, as_of=AS_OF, base=known_path))
    return export, tmp / "fitted.yaml"


def test_fitted_scenario_with_the_known_pathway_passes_the_check(tmp_path) -> None:
    """The two commands: fit, then check the fitted scenario against the export it came from.
    The known pathway's settings are laid on the fitted scenario (see the next test)."""
    export, out = _fitted_a(tmp_path)
    fitted = load_scenario(out, CLASSIC_AS_KNOWN, allow_outside_paths=True)
    res = run_check(fitted, read_cases(export).frame, AS_OF, start=START, replications=8)
    assert res.passes, [(r.figure, r.span, r.observed, r.band_low, r.band_high)
                        for r in res.rows if r.inside is False]  # fmt: skip


def test_fitted_scenario_as_written_passes_the_check(tmp_path) -> None:
    export, out = _fitted_a(tmp_path)
    fitted = load_scenario(out, allow_outside_paths=True)
    res = run_check(fitted, read_cases(export).frame, AS_OF, start=START, replications=8)
    assert res.passes
