"""The model's named records (issue 11, item 5): a citizen's drawn attributes are one named record
filled from their own streams, the mechanisms are the schema's blocks in the order of
docs/model.md, and "every mechanism off" is one definition that really switches every one off."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from sim.model.citizens import DRAWN, Citizen, CitizenFactory, Drawn
from sim.model.scenario import (
    MECHANISMS,
    MIN_NEED_HOURS_PER_WEEK,
    MIN_WEEKS_TO_GOAL,
    Scenario,
    VisitationModel,
    all_mechanisms_off,
)
from sim.model.streams import CHUNK, generator
from sim.run.explain import differing, mechanism_settings
from tests.conftest import make_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "model.md"
CITIZENS = Path(__file__).resolve().parent.parent / "sim" / "model" / "citizens.py"

UNIFORMS = {"u_route": "route", "u_rework": "rework", "u_reref": "rereferral"}


def _citizens(scenario: Scenario, n: int, seed: int = 5, key: tuple[int, ...] = (3,)) -> list:
    factory = CitizenFactory(scenario, seed, key, "arrivals")
    return [factory.make(i, float(i)) for i in range(n)]


def _declared() -> dict[str, str]:
    """``Drawn``'s fields and their types, in order, as its source declares them (read from the
    source: the compiled class keeps no ``__annotations__``)."""
    tree = ast.parse(CITIZENS.read_text(encoding="utf-8"))
    (cls,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == Drawn.__name__)
    return {
        n.target.id: ast.unparse(n.annotation)
        for n in cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }


def test_every_drawn_attribute_is_set_with_its_declared_type() -> None:
    """Across two chunks: each field of ``Drawn`` is on every citizen, of the type it declares."""
    kinds = {"int": int, "float": float, "bool": bool}
    declared = _declared()
    assert tuple(declared) == DRAWN
    for c in _citizens(make_scenario(), CHUNK + 7):
        for name in DRAWN:
            assert isinstance(getattr(c, name), kinds[declared[name]]), name
        assert c.need >= MIN_NEED_HOURS_PER_WEEK and c.weeks_to_goal >= MIN_WEEKS_TO_GOAL
        assert c.goals >= 1
    assert not hasattr(Citizen(0, 0.0), "__dict__")  # slots only: a typo cannot add an attribute


@pytest.mark.parametrize("seed,key", [(5, (3,)), (11, (0, 2))])
def test_each_attribute_comes_from_its_own_named_stream(seed: int, key: tuple[int, ...]) -> None:
    """The uniforms and the assessment error of citizen i are the i-th draws of the streams named
    after them (rebuilt here from the stream names), across a chunk boundary."""
    n = CHUNK + 40
    made = _citizens(make_scenario(), n, seed, key)
    for attr, stream in UNIFORMS.items():
        rng = generator(seed, key, f"arrivals/{stream}")
        expected = np.concatenate([rng.random(CHUNK), rng.random(CHUNK)])[:n]
        assert [getattr(c, attr) for c in made] == expected.tolist(), attr
    rng = generator(seed, key, "arrivals/error")
    z = np.concatenate([rng.standard_normal(CHUNK), rng.standard_normal(CHUNK)])[:n]
    assert [c.z_error for c in made] == z.tolist()


@pytest.mark.parametrize("per_year", [0.0, 2.0, 8.0])
def test_dropout_times_follow_the_hazard(per_year: float) -> None:
    """Drop-out weeks are exponential with mean 52.14 / rate weeks (never, at rate 0)."""
    sc = make_scenario({"exits": {"dropout_per_year": per_year}})
    weeks = np.array([c.dropout_weeks for c in _citizens(sc, 4 * CHUNK)])
    if per_year == 0:
        assert np.isinf(weeks).all()
        return
    mean = 365 / 7 / per_year
    se = mean / math.sqrt(weeks.size)
    assert abs(weeks.mean() - mean) < 4 * se


def test_mechanisms_are_the_schema_blocks_in_the_order_of_the_docs_table() -> None:
    """docs/model.md §6 lists the mechanisms as rows of a table; MECHANISMS has the same ones in
    the same order, and every other VisitationModel field is not a mechanism."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## 6.")[1].split("\n## ")[0]
    rows = re.findall(r"^\| ([a-z][a-z -]*) \|", section, flags=re.MULTILINE)
    names = [r.replace("-", "").replace(" ", "_") for r in rows if r != "mechanism"]
    assert list(MECHANISMS) == names
    assert set(VisitationModel.model_fields) - set(MECHANISMS) == {"extends", "description"}


def test_all_mechanisms_off_switches_every_mechanism_and_costs_no_intake_work() -> None:
    """The all-off model differs from classic in every mechanism, and a citizen's intake then
    books no hours at all: authority hours per year are zero in a run."""
    sc = make_scenario({"models": {"off": all_mechanisms_off()}, "compare": ["classic", "off"]})
    off, classic = mechanism_settings(sc, "off"), mechanism_settings(sc, "classic")
    assert differing(classic, off) == list(MECHANISMS)
    assert all_mechanisms_off() is not all_mechanisms_off()  # a fresh copy each time
    first = all_mechanisms_off()
    first["rework"]["probability"] = 0.5
    assert all_mechanisms_off()["rework"]["probability"] == 0.0

    from sim.model.pathway import Simulation

    res = Simulation(sc, "off", 0, sc.staffing_fte()).run()
    worked = {k: v for k, v in res.metrics.items() if k.startswith("authority_") and "hours" in k}
    assert worked and all(v == 0 for k, v in worked.items() if "idle" not in k), worked
