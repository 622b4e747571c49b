"""The engine's event loop keeps SimPy's order exactly (sim/model/clock.py; docs/model.md §4).

SimPy is the independent check: the same random program of timeouts, events triggered from
callbacks and runs to a time is played on a SimPy environment and on the clock, and the order in
which callbacks run (with the time each sees) must be the same, ties included.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import simpy

from sim.model.clock import Clock


def _play(env: Any, seed: int, stops: list[float]) -> list[tuple[float, int, str]]:
    """Random timeouts (delays from a small set, so that many fall at the same time, zero
    included) and events triggered from callbacks; returns (time, label, what) in the order the
    callbacks ran."""
    rng = random.Random(seed)
    log: list[tuple[float, int, str]] = []
    labels = iter(range(10**9))

    def spawn(depth: int) -> None:
        label = next(labels)
        delay = rng.choice((0.0, 0.5, 1.0, 1.0, 2.0, 0.1 + 0.2))
        t = env.timeout(delay)

        def fired(_e: Any, label: int = label) -> None:
            log.append((env.now, label, "timeout"))
            if depth < 6:
                for _ in range(rng.randint(0, 2)):
                    spawn(depth + 1)
                if rng.random() < 0.4:
                    ev = env.event()
                    ev.callbacks.append(lambda _e, lb=label: log.append((env.now, lb, "event")))
                    ev.succeed()

        t.callbacks.append(fired)
        if rng.random() < 0.3:  # a second waiter on the same event runs after the first
            t.callbacks.append(lambda _e, lb=label: log.append((env.now, lb, "second")))

    for _ in range(5):
        spawn(0)
    for stop in stops:
        env.run(until=stop)
        log.append((env.now, -1, "stop"))
    env.run()
    log.append((env.now, -1, "empty"))
    return log


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("stops", [[], [1.0], [0.3, 2.0, 2.5]])
def test_clock_processes_events_in_simpys_order(seed: int, stops: list[float]) -> None:
    expected = _play(simpy.Environment(), seed, stops)
    assert len(expected) > 10  # the program did something
    assert _play(Clock(), seed, stops) == expected


def test_run_until_stops_before_events_at_that_time() -> None:
    """An event at exactly ``until`` is left for the next run (SimPy's stop event is urgent)."""
    clock = Clock()
    seen: list[float] = []
    clock.timeout(2.0).callbacks.append(lambda _e: seen.append(clock.now))
    clock.run(until=2.0)
    assert (clock.now, seen) == (2.0, [])
    clock.run()
    assert seen == [2.0]
    with pytest.raises(ValueError):
        clock.run(until=1.0)


def test_event_states_and_double_trigger() -> None:
    clock = Clock()
    ev = clock.event()
    assert not ev.triggered and not ev.processed
    ev.succeed("x")
    assert ev.triggered and not ev.processed and ev.value == "x"
    with pytest.raises(RuntimeError):
        ev.succeed()
    clock.run()
    assert ev.processed
