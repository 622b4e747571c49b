"""The metric registry: one entry per metric the simulation emits, with a label in every language.

The key sets are compared both ways on one short replication of each built-in preset, so a metric
added to the pathway without an entry (or an entry left behind by a removed metric) fails here.
"""

from __future__ import annotations

import math

import pytest

from sim.model import registry
from sim.model.metrics import difference_bounds, metric_interval
from sim.model.scenario import PRESETS
from sim.present import i18n
from sim.run.experiment import run_experiment
from tests.conftest import make_scenario


@pytest.fixture(scope="module")
def emitted() -> dict[str, list[dict[str, float]]]:
    """Each preset's metrics from one short replication."""
    sc = make_scenario(horizon_weeks=80, warmup_weeks=20, replications=2)
    res = run_experiment(sc, models=list(PRESETS), replications=1)
    out: dict[str, list[dict[str, float]]] = {}
    for rep in res.replications:
        out.setdefault(rep.model, []).append(rep.metrics)
    return out


def test_every_emitted_metric_is_in_the_registry_and_every_entry_is_emitted(emitted) -> None:  # type: ignore[no-untyped-def]
    assert set(emitted) == set(PRESETS)
    for model, reps in emitted.items():
        for metrics in reps:
            assert set(metrics) - set(registry.METRICS) == set(), model
            assert set(registry.METRICS) - set(metrics) == set(), model


def test_every_emitted_value_lies_inside_its_registry_bounds(emitted) -> None:  # type: ignore[no-untyped-def]
    for reps in emitted.values():
        for metrics in reps:
            for name, value in metrics.items():
                lo, hi = registry.METRICS[name].bounds
                assert math.isnan(value) or lo <= value <= hi, (name, value)


def test_every_entry_and_its_shown_unit_have_a_label_in_every_language() -> None:
    for lang in i18n.LANGS:
        for name, m in registry.METRICS.items():
            assert i18n.has(f"metric.{name}", lang), (lang, name)
            assert i18n.has(f"unit.{m.display_unit}", lang), (lang, m.display_unit)
        for name, d in registry.DERIVED.items():
            assert i18n.has(f"sweep.metric.{name}", lang), (lang, name)
            assert i18n.has(f"unit.{d.unit}", lang), (lang, d.unit)


def test_units_scales_and_bounds_come_from_the_entry_not_the_name() -> None:
    # "support_hours_delivered_per_year" reads like a count of citizens by its "_per_year" end
    assert registry.unit_of("support_hours_delivered_per_year") == "hours/year"
    assert i18n.metric_unit("core_task_share") == "percent"
    assert i18n.metric_scale("core_task_share") == 100.0
    assert i18n.metric_scale("helped_per_year") == 1.0
    # a name the simulation does not emit has no unit and no bound, whatever its ending
    assert registry.unit_of("invented_share") == ""
    assert i18n.metric_unit("invented_share", "citizens") == "citizens"
    assert difference_bounds("invented_share") == (-math.inf, math.inf)
    # a share's difference lies in -1..1; a count's mean interval stops at zero
    assert difference_bounds("core_task_share") == (-1.0, 1.0)
    iv = metric_interval("abandoned_per_year", [0.0, 0.0, 0.0, 2.0])
    assert iv.low == 0.0 and iv.high > 0.5


def test_places_list_their_metrics_in_reading_order() -> None:
    order = list(registry.METRICS)
    for place in registry.PLACES:
        shown = registry.shown_in(place)
        assert shown, place
        assert [order.index(n) for n in shown] == sorted(order.index(n) for n in shown)
    assert registry.shown_in("console")[0] == "helped_per_year"
    with pytest.raises(ValueError, match="unknown place"):
        registry.shown_in("billboard")


def test_a_derived_figure_is_its_metric_per_million_of_budget() -> None:
    per_million = registry.DERIVED["helped_per_million"]
    assert per_million.value(330.0, 16.5e6) == pytest.approx(20.0)
    assert math.isnan(per_million.value(330.0, math.nan))
    assert math.isnan(per_million.value(330.0, 0.0))
