"""The engine's event loop (docs/model.md §4): SimPy's ordering rules, without SimPy's generality.

The engine needs four things from an event loop: a clock, timeouts, events that are triggered
later (a waiting booking, a support start from the waiting list) and callbacks run when an event
is processed. SimPy gives those and much more (processes, conditions, interrupts, failures, a
priority per event), and every event pays for the generality: a ``step`` call, a ``schedule``
call, a failure check. This loop keeps exactly SimPy's order, so every table stays byte-identical:

- events are processed by time, then in the order they were scheduled (SimPy's insertion id); the
  engine schedules every event with SimPy's NORMAL priority, so the priority is left out. The
  queue is a heap of the distinct times that have events, and per time a list of its events in
  the order scheduled: that is the same order as a heap of (time, insertion id, event), but the
  heap compares floats, not tuples (a tuple comparison costs several float comparisons, and the
  heap's comparisons were about a quarter of a replication's work). An event scheduled for the
  time being processed goes into a new list for that time, behind the one being processed;
- ``run(until)`` stops before any event at ``until`` (SimPy's stop event is URGENT: it sorts
  before every NORMAL event at its time), at ``now + (until - now)`` as SimPy computes it;
- an event's callbacks run in list order when it is processed, and its ``callbacks`` is then
  None (processed).

Events never fail in this model, so there is no failure to carry or re-raise.
``Clock.scheduled`` counts every event put on the queue (the bench's events per citizen).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

PENDING: Any = object()
"""The value of an event not yet triggered."""

Callback = Callable[["Event"], None]


class Event:
    """Something that happens at a point in simulated time; waiters append callbacks to it."""

    __slots__ = ("_value", "callbacks", "clock")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.callbacks: list[Callback] | None = []  # None once processed
        self._value: Any = PENDING

    @property
    def triggered(self) -> bool:
        """Whether the event has a value (it is on the queue, or processed)."""
        return self._value is not PENDING

    @property
    def processed(self) -> bool:
        """Whether the event's callbacks have run."""
        return self.callbacks is None

    @property
    def value(self) -> Any:
        if self._value is PENDING:
            raise AttributeError(f"{self!r} is not yet triggered")
        return self._value

    def succeed(self, value: Any = None) -> Event:
        """Trigger the event now: it is processed after what is already scheduled for now."""
        if self._value is not PENDING:
            raise RuntimeError(f"{self!r} has already been triggered")
        self._value = value
        self.clock.schedule(self, self.clock._now)
        return self


class Timeout(Event):
    """An event processed ``delay`` days from now (scheduled on creation, value None), with
    ``callback`` as its first callback when one is given."""

    __slots__ = ()

    def __init__(self, clock: Clock, delay: float, callback: Callback | None = None) -> None:
        # No ``clock`` kept: a timeout is never triggered by hand. Written out, not via super():
        # one is made for almost every event.
        self.callbacks = [] if callback is None else [callback]
        self._value = None
        at = clock._now + delay  # ``Clock.schedule`` written out
        clock.scheduled += 1
        queued = clock._at
        if at in queued:
            queued[at].append(self)
        else:
            queued[at] = [self]
            heappush(clock._times, at)


class Clock:
    """Simulated time in days and the queue of scheduled events: a heap of the times that have
    events, and the events at each time in the order they were scheduled."""

    __slots__ = ("_at", "_now", "_times", "scheduled")

    def __init__(self) -> None:
        self._now = 0.0
        self._times: list[float] = []  # a heap; each time once, while it has events
        self._at: dict[float, list[Event]] = {}
        self.scheduled = 0  # events put on the queue so far

    def schedule(self, event: Event, at: float) -> None:
        """Put ``event`` on the queue at time ``at``, behind every event already there."""
        self.scheduled += 1
        events = self._at.get(at)
        if events is None:
            self._at[at] = [event]
            heappush(self._times, at)
        else:
            events.append(event)

    @property
    def now(self) -> float:
        return self._now

    def timeout(self, delay: float) -> Timeout:
        return Timeout(self, delay)

    def event(self) -> Event:
        return Event(self)

    def run(self, until: float | None = None) -> None:
        """Process events in order: up to (not including) ``until``, or until none are left."""
        times, at = self._times, self._at
        stop = math.inf
        if until is not None:
            now = self._now
            if until <= now:
                raise ValueError(f"until ({until}) must be greater than the current time ({now})")
            # Events at ``until`` stay, as behind SimPy's URGENT stop event; SimPy's arithmetic.
            stop = now + (float(until) - now)
        while times and times[0] < stop:
            now = heappop(times)
            self._now = now
            # Taken off first: what is scheduled for ``now`` meanwhile goes into a new list.
            for event in at.pop(now):
                callbacks = event.callbacks
                event.callbacks = None  # processed
                if callbacks is not None:  # always: an event is queued once
                    for callback in callbacks:
                        callback(event)
        if until is not None:
            self._now = stop
