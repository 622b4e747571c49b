"""Staff capacity as pools of hours per week, booked by activities and support (docs/model.md §4).

A pool's capacity and every holding are integers in minutes per week, so a pool never drifts: after
any sequence of bookings and releases it is exactly back at its capacity. Each holding carries a
category, and the pool integrates the held rate per category over time, so every productive hour is
accounted to exactly one category (idle is what is left).

Booking rules:
- an activity involving several pools (a joint meeting) is booked atomically: it starts only when
  every pool can supply its rate at once, and holds nothing while it waits;
- intake work (assessments, meetings, decisions, reviews) is served first-fit in arrival order and
  always before support starts that are waiting: a support start waits while intake waits for
  provider hours, and never takes the provider hours that the next intake booking waiting on the
  authority (a joint meeting waiting for a case worker) will need. Only that one booking's hours
  are kept back, not the sum over all of them: a backlog at the authority would otherwise idle
  the provider beside a waiting list;
- reviews queue with new intake in arrival order (default), or before all waiting new intake
  (``review_priority: reviews_first``);
- the support waiting list is strict FIFO (default) or first-fit.
"""

from __future__ import annotations

import bisect
import heapq
from collections import deque
from collections.abc import Callable, Generator
from functools import partial
from heapq import heappush
from typing import Any, Final, Literal

from sim.model.clock import Clock, Event, Timeout

SUPPORT: Final = 0
MEETING: Final = 1
CASEWORK: Final = 2
DOCUMENTATION: Final = 3
CATEGORIES: Final = ("support", "meetings", "casework", "documentation")
"""Categories of held hours; idle = capacity - held. Support and meetings are citizen-facing."""

MINUTES_PER_HOUR: Final = 60
DAYS_PER_WEEK: Final = 7.0
PRIORITY: Final = 1 << 52
"""Subtracted from a priority booking's sequence number: it sorts before all other waiting
bookings, and among priority bookings arrival order still holds."""


_NEVER: Final = 1 << 62
"""More units than any pool has."""


def _seq_of(b: Booking) -> int:
    return b.seq


def _provider_units(b: Booking) -> int:
    return sum(u for p, u, _ in b.parts if p.name == "provider")


def to_units(hours_per_week: float) -> int:
    """Hours per week as whole minutes per week (at least 1 for any positive rate)."""
    if hours_per_week <= 0:
        return 0
    return max(1, round(hours_per_week * MINUTES_PER_HOUR))


class Pool:
    """One staff group's hours per week, with per-category accounting of what is held.

    Each category integrates its own held rate lazily (only when that category changes), which
    keeps a booking to a few additions.
    """

    __slots__ = ("area", "capacity", "free", "name", "rate", "since")

    def __init__(self, name: str, capacity_hours_per_week: float) -> None:
        self.name = name
        self.capacity = to_units(capacity_hours_per_week)
        self.free = self.capacity
        self.rate = [0, 0, 0, 0]
        self.area = [0.0, 0.0, 0.0, 0.0]
        self.since = [0.0, 0.0, 0.0, 0.0]

    def _change(self, now: float, category: int, units: int) -> None:
        self.area[category] += self.rate[category] * (now - self.since[category])
        self.since[category] = now
        self.rate[category] += units

    def hold(self, now: float, units: int, category: int) -> None:
        # ``_change`` written out: this runs at every booking and release.
        rate, since = self.rate, self.since
        self.area[category] += rate[category] * (now - since[category])
        since[category] = now
        rate[category] += units
        self.free -= units

    def release(self, now: float, units: int, category: int) -> None:
        rate, since = self.rate, self.since
        self.area[category] += rate[category] * (now - since[category])
        since[category] = now
        rate[category] -= units
        self.free += units

    def reclassify(self, now: float, units: int, src: int, dst: int) -> None:
        """Move ``units`` of held rate from one category to another (no change in what is free)."""
        self._change(now, src, -units)
        self._change(now, dst, units)

    def hours(self, now: float) -> list[float]:
        """Hours held per category from time 0 to ``now``."""
        scale = 1.0 / (MINUTES_PER_HOUR * DAYS_PER_WEEK)
        return [
            (a + r * (now - t)) * scale
            for a, r, t in zip(self.area, self.rate, self.since, strict=True)
        ]

    def capacity_hours(self, days: float) -> float:
        """Productive hours the pool offers over ``days``."""
        return self.capacity * days / (MINUTES_PER_HOUR * DAYS_PER_WEEK)


Part = tuple[Pool, int, int]
"""(pool, units, category): one pool's share of a booking."""


class Booking:
    """A waiting request for one or more pools; its event fires when all parts are held."""

    __slots__ = (
        "days",
        "event",
        "finish",
        "needs_provider",
        "on_start",
        "parts",
        "seq",
        "started",
        "where",
    )

    def __init__(
        self, event: DeferredTimeout, parts: tuple[Part, ...], needs_provider: bool, seq: int
    ) -> None:
        self.event, self.parts, self.needs_provider, self.seq = event, parts, needs_provider, seq
        self.started = False
        self.where = 0
        self.days = 0.0
        self.on_start: Callable[[], None] | None = None
        self.finish: Callable[[Event], None] | None = None


class DeferredTimeout(Event):
    """An activity that waits for its hours: created when it is booked, started as a timeout
    when the hours are granted. One event per activity, waiting or not (a plain booking event, a
    timeout and a done event cost three). ``start`` does what ``Timeout`` does on creation.
    """

    __slots__ = ()

    def start(self, delay: float, finish: Callable[[Event], None] | None) -> None:
        """Fire ``delay`` days from now; ``finish`` (the release) runs before anyone waiting."""
        if finish is not None:
            callbacks = self.callbacks
            assert callbacks is not None, "a waiting activity's event is not processed"
            callbacks.insert(0, finish)
        self._value = None
        clock = self.clock
        at = clock._now + delay  # ``Clock.schedule`` written out
        clock.scheduled += 1
        queued = clock._at
        if at in queued:
            queued[at].append(self)
        else:
            queued[at] = [self]
            heappush(clock._times, at)


def _process_now(event: Event) -> None:
    """Trigger and process ``event`` at once, not through the event queue: a support start
    granted from the waiting list carries on now instead of after a round trip through the queue
    (its waiters are pathways, which run nothing that could start another support)."""
    event._value = None
    callbacks = event.callbacks
    event.callbacks = None  # processed
    if callbacks is not None:  # always: a waiting support start is not processed
        for callback in callbacks:
            callback(event)


class Flow:
    """A pathway (a generator of events) driven by the events' callbacks: what ``simpy.Process``
    does, without its two extra events per citizen (the start, and the end that nobody waits for).

    It starts at once, inside the caller, not at an ``Initialize`` event: the steps a process
    would take at the same instant, before anything else at that instant could run (``Initialize``
    is urgent), are taken in the same order. Events in this model never fail, so a failed event is
    not thrown into the generator. A pathway that must be waited for is run with ``yield from``.
    """

    __slots__ = ("_resume", "_send")

    def __init__(self, pathway: Generator[Event, Any, None]) -> None:
        self._send = pathway.send
        # The bound method made once, not at every wait; dropped at the end, so the cycle it
        # makes with the Flow does not outlive the pathway (freed at once, not by the collector).
        self._resume: Callable[[Event], None] | None = self.resume
        self.resume(_START)

    def resume(self, event: Event) -> None:
        """The awaited event was processed: carry on with its value (one call per event)."""
        send = self._send
        value = event._value
        while True:
            try:
                event = send(value)
            except StopIteration:
                self._resume = None
                return
            callbacks = event.callbacks
            if callbacks is not None:
                callbacks.append(self._resume)  # type: ignore[arg-type]  # set while it runs
                return
            value = event._value  # already processed: go on at once, as a Process would


def _processed_event() -> Event:
    """An event already processed with the value None: what a Flow resumes with first (a
    generator is started by sending None)."""
    event = Event(Clock())
    event._value = None
    event.callbacks = None
    return event


_START: Final = _processed_event()


class Staff:
    """The two pools and their waiting lists: intake first, then support."""

    def __init__(
        self,
        env: Clock,
        authority_hours_per_week: float,
        provider_hours_per_week: float,
        support_queue: Literal["fifo", "first_fit"] = "fifo",
    ) -> None:
        self.env = env
        self.authority = Pool("authority", authority_hours_per_week)
        self.provider = Pool("provider", provider_hours_per_week)
        self.first_fit = support_queue == "first_fit"
        # Waiting intake sits in the list of a pool it does not fit (0 authority, 1 provider), in
        # arrival order; with each list, the pool's free units at which nothing in it fits. A list
        # is rescanned only when its pool has more free than that, so a release that cannot start
        # anything costs nothing (else a long list made dispatch quadratic: a large
        # municipality's start-up meetings blocked by a full provider).
        # The authority's list is kept as groups of bookings with the same parts, each in arrival
        # order (``waiting0``, ``_n0`` bookings in all): the authority is every such booking's
        # first part, so once a group's first booking does not fit the authority, none behind it
        # can start or move in that scan, and the scan skips the rest of the group (a backlog at
        # the authority made it visit every booking at every release).
        self.pools = (self.authority, self.provider)
        self.waiting0: dict[int, deque[Booking]] = {}  # by id of the parts tuple
        self._n0 = 0
        self.blocked1: list[Booking] = []  # the provider's list, in arrival order
        self._marks = [0, 0]
        self._min_need = [0, 0]  # a lower bound of what any booking on the list needs there
        self._seq = 0
        self.support: deque[tuple[Event, int]] = deque()  # (event, units) in order
        # Provider units kept free for the earliest waiting intake booking that needs the provider
        # but is blocked on the authority (a joint meeting waiting for a case worker): support
        # starts may use the provider's free hours, but not these. One booking's worth, never a
        # sum over the backlog; ``_n_reserve`` counts such bookings so none costs a scan.
        self._reserve = 0
        self._n_reserve = 0
        # The least the reserve ever is: hours support starts never fill, so that a review
        # booked from the provider's free hours can always run (else a provider full of places
        # that end only at a review would wait for ever).
        self._floor = 0
        # Release callbacks per parts tuple (keyed by identity: parts belong to long-lived steps
        # that keep them alive), so the hot path allocates no closure.
        self._releasers: dict[int, Callable[[Event], None]] = {}
        self._keep: list[tuple[Part, ...]] = []

    # ------------------------------------------------------------------ booking

    def occupy(
        self,
        parts: tuple[Part, ...],
        days: float,
        on_start: Callable[[], None] | None = None,
        on_end: Callable[[], None] | None = None,
        first: bool = False,
    ) -> Event:
        """Hold ``parts`` for ``days`` as soon as they all fit; the returned event fires once the
        hours are released. Hooks run when the hours are taken and just before they are given back.
        A ``first`` booking that has to wait is served before every waiting booking that is not.

        This is the hot path of the engine: an activity that fits at once costs one event.
        """
        env = self.env
        if on_end is None:
            finish = self._releasers.get(id(parts))
            if finish is None:
                finish = self._releasers[id(parts)] = self._make_releaser(parts, None)
                self._keep.append(parts)  # keeps the id valid for the run
        else:
            finish = self._make_releaser(parts, on_end)
        for pool, units, _ in parts:  # fits? (``_fits`` written out: the hottest path)
            if pool.free < units:
                break
        else:
            now = env._now
            for pool, units, cat in parts:  # ``Pool.hold`` written out
                rate, since = pool.rate, pool.since
                pool.area[cat] += rate[cat] * (now - since[cat])
                since[cat] = now
                rate[cat] += units
                pool.free -= units
            if on_start is not None:
                on_start()
            return Timeout(env, days, finish)
        self._seq += 1
        provider = self.provider
        needs_provider = False
        for part in parts:  # no generator on this path: it runs for every booking that waits
            if part[0] is provider:
                needs_provider = True
        seq = self._seq - PRIORITY if first else self._seq
        booking = Booking(DeferredTimeout(env), parts, needs_provider, seq)
        booking.days, booking.on_start, booking.finish = days, on_start, finish
        self._block(booking, self._failing(parts))
        return booking.event

    def _failing(self, parts: tuple[Part, ...]) -> int:
        """Index of the first pool the parts do not fit (-1 when they fit)."""
        for pool, units, _ in parts:
            if pool.free < units:
                return 0 if pool is self.authority else 1
        return -1

    def _block(self, booking: Booking, where: int) -> None:
        """Put a booking that does not fit on the list of the pool it does not fit."""
        booking.where = where
        pool = self.pools[where]
        need = 0
        for p, u, _ in booking.parts:
            if p is pool:
                need = u
                break
        seq = booking.seq
        if where == 0:
            self._min_need[0] = min(self._min_need[0], need) if self._n0 else need
            self._n0 += 1
            group = self.waiting0.get(id(booking.parts))
            if group is None:
                group = self.waiting0[id(booking.parts)] = deque()
            if group and seq < group[-1].seq:
                bisect.insort(group, booking, key=_seq_of)  # a priority booking, or one moved
            else:
                group.append(booking)
            if booking.needs_provider:
                self._n_reserve += 1
                if self._n_reserve == 1:
                    self._reserve = max(_provider_units(booking), self._floor)
                elif seq != self._seq:
                    self._update_reserve()  # not the newest booking: it may be the earliest
        else:
            lst = self.blocked1
            self._min_need[1] = min(self._min_need[1], need) if lst else need
            if lst and seq < lst[-1].seq:
                bisect.insort(lst, booking, key=_seq_of)
            else:
                lst.append(booking)
        self._marks[where] = min(self._marks[where], pool.free)

    def _update_reserve(self) -> None:
        """Keep back the provider units of the earliest booking blocked on the authority that
        needs the provider (none when there is none)."""
        self._reserve = self._floor
        if self._n_reserve:
            first: Booking | None = None
            for group in self.waiting0.values():  # a group's bookings all need the same pools
                if not group or not group[0].needs_provider:
                    continue
                if first is None or group[0].seq < first.seq:
                    first = group[0]
            if first is not None:
                self._reserve = max(_provider_units(first), self._floor)

    def keep_free(self, units: int) -> None:
        """Never let support starts fill the last ``units`` of the provider's hours (at most the
        provider's capacity): room for the largest review booked from free hours."""
        self._floor = min(units, self.provider.capacity)
        self._update_reserve()

    def _make_releaser(
        self, parts: tuple[Part, ...], on_end: Callable[[], None] | None
    ) -> Callable[[Event], None]:
        if on_end is None:
            return partial(self.release, parts)  # no Python frame of its own per activity end

        def finish(_: Event) -> None:
            on_end()
            self.release(parts)

        return finish

    def acquire_support(self, units: int) -> Event | None:
        """Book a support start on the provider pool, behind intake and earlier support starts."""
        if not self.support and not self.blocked1 and self.provider.free - units >= self._reserve:
            self.provider.hold(self.env._now, units, SUPPORT)
            return None
        event = Event(self.env)
        self.support.append((event, units))
        return event

    def cancel_support(self, event: Event) -> None:
        """Take a waiting support start off the list (the citizen gave up waiting)."""
        for i, (waiting, _) in enumerate(self.support):
            if waiting is event:
                del self.support[i]
                break
        if self.support or self._intake_waiting():
            self.dispatch()  # a smaller award behind it may now start

    def release(self, parts: tuple[Part, ...], _event: Event | None = None) -> None:
        """Give back the hours of a finished activity and start whatever now fits (``_event``:
        the activity's end, when this runs as its callback)."""
        now = self.env._now
        for pool, units, cat in parts:  # ``Pool.release`` written out: every activity ends here
            rate, since = pool.rate, pool.since
            pool.area[cat] += rate[cat] * (now - since[cat])
            since[cat] = now
            rate[cat] -= units
            pool.free += units
        if self.support or self._n0 or self.blocked1:
            self.dispatch()

    def release_support(self, units: int) -> None:
        """End a citizen's support."""
        self.provider.release(self.env._now, units, SUPPORT)
        if self.support or self._n0 or self.blocked1:
            self.dispatch()

    def try_grow_support(self, units: int) -> bool:
        """Raise a running support award by ``units`` if the provider has them free and nobody
        is waiting for provider hours; running support is never pre-empted to make room."""
        if units <= 0:
            return True
        if self.support or not self._support_may_take(units):
            return False
        self.provider.hold(self.env.now, units, SUPPORT)
        return True

    def _support_may_take(self, units: int) -> bool:
        """Intake comes first on the provider: no support start while intake waits for provider
        hours, and none that would use the hours kept for intake waiting on the authority."""
        return not self.blocked1 and self.provider.free - units >= self._reserve

    def _intake_waiting(self) -> bool:
        return bool(self._n0 or self.blocked1)

    def dispatch(self) -> None:
        """Start waiting intake first-fit in arrival order, then waiting support starts."""
        if self._n0 or self.blocked1:
            self._dispatch_intake()
        support = self.support
        if not support or self.blocked1:
            return
        provider, now = self.provider, self.env._now
        started: list[Event] = []
        if self.first_fit:
            kept: deque[tuple[Event, int]] = deque()
            while support:
                event, units = support.popleft()
                if provider.free - units >= self._reserve:
                    provider.hold(now, units, SUPPORT)
                    started.append(event)
                else:
                    kept.append((event, units))
            self.support = kept
        else:
            while support and provider.free - support[0][1] >= self._reserve:
                event, units = support.popleft()
                provider.hold(now, units, SUPPORT)
                started.append(event)
        for event in started:  # every start is granted before any citizen moves on
            _process_now(event)

    def _dispatch_intake(self) -> None:
        """Start waiting intake first-fit in arrival order (the lists of the pools that gained).

        The scan visits the bookings of the lists that gained in arrival order, as one merged
        list: each that fits starts, each that no longer fails on its list's pool but on the
        other moves to the other list (after the scan). It stops once neither list's pool has
        the least any booking on it needs. On the authority's list it visits only each group's
        first bookings: behind one that does not fit the authority nothing can happen.
        """
        authority, provider = self.authority, self.provider
        marks, min_need = self._marks, self._min_need
        s0 = self._n0 > 0 and authority.free > marks[0] and authority.free >= min_need[0]
        lst1 = self.blocked1
        s1 = bool(lst1) and provider.free > marks[1] and provider.free >= min_need[1]
        if not (s0 or s1):
            return
        n0 = min_need[0] if s0 else _NEVER  # a list not scanned never keeps the scan going
        n1 = min_need[1] if s1 else _NEVER
        heads: list[tuple[int, int, deque[Booking]]] = []
        if s0:
            heads = [(g[0].seq, k, g) for k, g in self.waiting0.items() if g]
            heapq.heapify(heads)
        moved: list[Booking] = []
        changed1 = reserve_changed = False
        i1, len1 = 0, (len(lst1) if s1 else 0)
        while authority.free >= n0 or provider.free >= n1:
            if heads and (i1 >= len1 or heads[0][0] < lst1[i1].seq):
                group = heads[0][2]
                b = group[0]
            elif i1 < len1:
                group, b = None, lst1[i1]
                i1 += 1
            else:
                break
            fail = -1  # the first pool the parts do not fit
            for pool, units, _ in b.parts:
                if pool.free < units:
                    fail = 0 if pool is authority else 1
                    break
            if group is not None:  # from the authority's list
                if fail == 0:
                    heapq.heappop(heads)  # the rest of this group cannot start either
                    continue
                group.popleft()
                self._n0 -= 1
                if group:
                    heapq.heapreplace(heads, (group[0].seq, heads[0][1], group))
                else:
                    heapq.heappop(heads)
                if b.needs_provider:
                    self._n_reserve -= 1
                    reserve_changed = True
                if fail < 0:
                    self._start(b)
                else:
                    moved.append(b)
            elif fail < 0:
                b.started = changed1 = True
                self._start(b)
            elif fail == 0:
                b.started = changed1 = True  # leaves this list for the authority's
                if b.needs_provider:
                    reserve_changed = True  # joins the authority's list, maybe in front
                moved.append(b)
        self._after_scan(s0, s1, changed1, moved, reserve_changed)

    def _start(self, b: Booking) -> None:
        """A waiting booking fits: hold its hours and start its activity."""
        now = self.env._now
        for pool, units, cat in b.parts:
            pool.hold(now, units, cat)
        if b.on_start is not None:
            b.on_start()
        b.event.start(b.days, b.finish)

    def _after_scan(
        self, s0: bool, s1: bool, changed1: bool, moved: list[Booking], reserve_changed: bool
    ) -> None:
        """Drop what started or moved from the provider's list, mark the scanned lists with
        their pools' free units, put the moved bookings on their new lists."""
        if changed1:
            self.blocked1 = [b for b in self.blocked1 if not b.started]
        if s0:
            self._marks[0] = self.authority.free
        if s1:
            self._marks[1] = self.provider.free
        for b in moved:
            b.started = False
            self._block(b, 1 - b.where)
        if reserve_changed:
            self._update_reserve()
