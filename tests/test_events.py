"""How many events the engine spends per citizen (issue 16; docs/model.md §4).

Events are counted on the queue by the bench's counting id source (every event put on the clock's
queue takes an id), independently of the engine's own bookkeeping: each figure is compared with a
count made by hand from the pathway's steps. The textbook SimPy model is counted by the bench's
counting SimPy environment.
"""

from __future__ import annotations

import pytest

from benchmarks.bench import CountingEnvironment, bare_simpy_mmc, count_events
from sim.model.pathway import Simulation
from sim.model.theory import mmc_scenario


def _counted_mmc(servers: int, rate: float, weeks: float) -> tuple[int, Simulation]:
    sc = mmc_scenario(rate, servers, 1.0, 1.0, horizon_weeks=weeks, warmup_weeks=0)
    sim = Simulation(sc, "mmc", 0, sc.staffing_fte())
    return count_events(sim), sim


def test_the_counter_counts_six_events_per_textbook_customer() -> None:
    """The textbook M/M/c spends six events per customer: the arrival's timeout, the process
    start, the request, the service timeout, the release and the process end (plus the source's
    start and end)."""
    n = 500
    _, env = bare_simpy_mmc(n, 9.0, 10, 1.0, CountingEnvironment)
    assert env.scheduled == 6 * n + 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(("servers", "rate"), [(10, 9.0), (3, 2.7), (100, 90.0)])
def test_mmc_spends_two_events_per_customer(servers: int, rate: float) -> None:
    """In the M/M/c configuration nothing happens between arrival and support start but the
    wait, so a customer costs its arrival and its end; one who waits starts inside the release
    that made room. The rest: one snapshot a week and at most eight for the run itself (the
    marks, the arrivals, the horizon). Customers still in support at the horizon have their end
    scheduled (at most all of them)."""
    weeks = 300.0
    events, sim = _counted_mmc(servers, rate, weeks)
    referred = sim.totals["referred"]
    waited = sum(1 for w in sim.start_waits if w > 0)
    assert waited > referred / 10  # the case the rule is about: many wait for a server
    per_citizen = events - int(weeks)  # less the weekly snapshots
    assert 2 * referred - len(sim.active) <= per_citizen <= 2 * referred + 8
