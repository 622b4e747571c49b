"""Intake is served first-fit in arrival order (docs/model.md §4), checked against a reference.

The engine keeps intake waiting for the authority in groups and scans only the groups' first
bookings; the reference below keeps one plain list and, at every release, tries every waiting
booking in arrival order. Random bookings of a few kinds (authority only, provider only, joint)
arrive at random times; every booking must start at the same time in both.
"""

from __future__ import annotations

import heapq
import random
from functools import partial

import pytest

from sim.model.clock import Clock, Event
from sim.model.engine import CASEWORK, MEETING, Staff

KINDS = (  # (authority units, provider units)
    (120, 0),
    (300, 0),
    (60, 0),
    (0, 200),
    (120, 120),
    (240, 60),
)


def _bookings(seed: int, n: int) -> list[tuple[float, int, float]]:
    """(arrival day, kind, duration in days), by arrival; continuous times, so no ties."""
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(1.5)
        out.append((t, rng.randrange(len(KINDS)), rng.uniform(1.0, 9.0)))
    return out


def _engine(bookings: list[tuple[float, int, float]], cap: tuple[int, int]) -> list[float]:
    clock = Clock()
    staff = Staff(clock, cap[0] / 60, cap[1] / 60)
    parts = [
        tuple(
            (pool, units, cat)
            for pool, units, cat in (
                (staff.authority, a, CASEWORK),
                (staff.provider, p, MEETING),
            )
            if units
        )
        for a, p in KINDS
    ]
    starts = [float("nan")] * len(bookings)

    def arrive(i: int, kind: int, days: float, _event: Event) -> None:
        def on_start() -> None:
            starts[i] = clock.now

        staff.occupy(parts[kind], days, on_start)

    for i, (at, kind, days) in enumerate(bookings):
        clock.timeout(at).callbacks.append(partial(arrive, i, kind, days))
    clock.run()
    return starts


def _reference(bookings: list[tuple[float, int, float]], cap: tuple[int, int]) -> list[float]:
    """One list in arrival order; at each arrival and each end, start what fits, in order."""
    free = list(cap)
    waiting: list[int] = []
    ends: list[tuple[float, int]] = []
    starts = [float("nan")] * len(bookings)

    def fits(kind: int) -> bool:
        return all(f >= u for f, u in zip(free, KINDS[kind], strict=True))

    def start(i: int, now: float) -> None:
        for g, u in enumerate(KINDS[bookings[i][1]]):
            free[g] -= u
        starts[i] = now
        heapq.heappush(ends, (now + bookings[i][2], i))

    for i, (at, kind, _) in enumerate(bookings):
        while ends and ends[0][0] < at:
            now, j = heapq.heappop(ends)
            for g, u in enumerate(KINDS[bookings[j][1]]):
                free[g] += u
            for w in list(waiting):
                if fits(bookings[w][1]):
                    waiting.remove(w)
                    start(w, now)
        if fits(kind):
            start(i, at)
        else:
            waiting.append(i)
    while ends:
        now, j = heapq.heappop(ends)
        for g, u in enumerate(KINDS[bookings[j][1]]):
            free[g] += u
        for w in list(waiting):
            if fits(bookings[w][1]):
                waiting.remove(w)
                start(w, now)
    return starts


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cap", [(600, 600), (420, 300), (900, 240)])
def test_intake_starts_first_fit_in_arrival_order(seed: int, cap: tuple[int, int]) -> None:
    bookings = _bookings(seed, 300)
    expected = _reference(bookings, cap)
    waited = sum(1 for (at, _, _), s in zip(bookings, expected, strict=True) if s > at)
    assert waited > 30  # a backlog forms: the case the scan is about
    assert _engine(bookings, cap) == expected
