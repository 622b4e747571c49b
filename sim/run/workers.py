"""Local worker processes that stop with their parent, and SIGTERM handled like Ctrl-C.

One pool for every command that runs tasks on local processes (``run``, ``explain``,
``optimise`` through ``sim.run.experiment.execute``, and ``sweep``'s local mode through
``sim.run.sweep.LocalExecutor``), so they all behave the same way when something goes wrong:

- **Interrupted** (Ctrl-C, or SIGTERM inside :func:`sigterm_as_interrupt`): tasks not started are
  cancelled and the workers are terminated at once, without waiting for running replications
  (they are thrown away anyway). Workers ignore Ctrl-C themselves: the terminal sends it to the
  whole process group and only the parent should act on it.
- **Parent killed** (SIGKILL, out of memory): each worker has a watchdog thread that waits on a
  pipe whose only writing end is in the parent. The kernel closes it when the parent dies, however
  it dies, and the worker exits. (Checking the parent's pid would not do: with ``forkserver`` the
  workers' parent is the fork server, and a killed parent stays a zombie until it is reaped.)
- **Worker killed**: the tasks it lost, and those still queued in the broken pool, are run once
  more in a fresh pool (replications are deterministic, so the results are the same). If a worker
  dies again, those tasks end with :class:`WorkerLost`, a one-line message.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""
EXIT_TERMINATED = 143
"""Exit code after SIGTERM (128 + SIGTERM): what ``kill``, ``timeout`` and schedulers send."""


class Terminated(KeyboardInterrupt):
    """SIGTERM received: a KeyboardInterrupt, so that every clean-up written for Ctrl-C (temporary
    folders removed, a sweep's manifest marked 'interrupted', workers stopped) runs for it too."""


class WorkerLost(RuntimeError):
    """A worker process died twice while running these tasks (killed, or out of memory)."""


def interrupt_exit_code(exc: BaseException) -> int:
    """143 for SIGTERM, 130 for Ctrl-C."""
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (once: a second
    SIGTERM during the clean-up is ignored, so the clean-up finishes). Elsewhere it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal seen
        if not seen:
            seen = True
            raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- in the workers


def _worker_init(parent_alive: Any) -> None:
    """Run in each worker before any task: ignore Ctrl-C, and exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    watchdog = threading.Thread(
        target=_exit_with_parent, args=(parent_alive,), name="sim-parent-watchdog", daemon=True
    )
    watchdog.start()


def _exit_with_parent(parent_alive: Any) -> None:
    """Block until the parent's end of the pipe closes (nothing is ever sent), then exit now."""
    with contextlib.suppress(EOFError, OSError):
        parent_alive.recv()
    os._exit(1)


# --------------------------------------------------------------------------- in the parent


_STATUS_LOST = 255
"""The exit code ``multiprocessing``'s forkserver gives a worker whose status it could not read."""


def _end_results_pipe(results: Any) -> None:
    """Close this process's write end of the pool's result pipe, once its workers are dead.

    A worker terminated while it wrote a result (a replication's result is tens of KB, more than
    a pipe holds when another waits unread) leaves the pool's thread reading the rest of the
    message for ever: this process still holds a write end, so the read never sees an end of
    file. The pool's thread then never ends, ``_stop`` waited 10 s for it, and the interpreter's
    exit waited for ever (seen: an abandoned what-if, and pytest hanging after its summary).
    With every write end closed the read ends at once and the thread stops as for a broken pool.
    """
    writer = getattr(results, "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()


def _death(processes: Iterable[Any]) -> str:
    """Why a broken pool broke, from its workers' exit codes. The pool's own SIGTERM to the
    survivors says nothing, nor does 255: ``forkserver`` reports that when it could not pass a
    worker's status on (seen for the survivors the pool terminated), so a signal or a real exit
    code is preferred to both."""
    codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
    telling = [c for c in codes if c not in (-signal.SIGTERM, _STATUS_LOST)]
    code = next(iter(sorted(telling)), None)  # signals (negative) first
    if code is None and -signal.SIGTERM in codes:
        code = -signal.SIGTERM
    if code is None:
        return "a worker process stopped unexpectedly"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"a worker process was killed ({name}: out of memory, or killed from outside)"
    return f"a worker process exited with code {code}"


class WorkerPool:
    """Up to ``jobs`` local worker processes (``forkserver``: a fork of a clean server process with
    ``preload`` imported, safe when the parent has threads, and fast); ``jobs=1`` runs every task
    in this process. Use as a context manager: leaving it normally waits for the workers to finish,
    leaving it by an exception (Ctrl-C, SIGTERM, an error) terminates them at once.

    ``notice`` receives a one-line message when a worker died and its tasks are run again.
    """

    def __init__(
        self,
        jobs: int,
        preload: Sequence[str] = ("sim.run.experiment",),
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.jobs = max(1, int(jobs))
        self.preload = list(preload)
        self.notice = notice or _to_stderr
        self._pool: ProcessPoolExecutor | None = None
        self._alive: tuple[Any, Any] | None = None

    def __enter__(self) -> WorkerPool:
        if self.jobs > 1:
            self._start()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._stop(graceful=exc_type is None)

    def _start(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(self.preload)
        # Start the fork server now, without waiting for it: it imports ``preload`` (~0.3 s) while
        # this process goes on (loading, importing what it writes with) until the first task.
        multiprocessing.forkserver.ensure_running()
        reader, writer = ctx.Pipe(duplex=False)
        self._alive = (reader, writer)
        self._pool = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=ctx, initializer=_worker_init, initargs=(reader,)
        )

    def _stop(self, graceful: bool) -> str:
        """Shut the pool down (waiting for the workers, or terminating them); say how it broke."""
        pool, self._pool = self._pool, None
        if pool is None:
            return ""
        # Private, but the only way to reach the workers before Python 3.14's terminate_workers().
        processes = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        results = getattr(pool, "_result_queue", None)  # shutdown() drops it
        if graceful:
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:
                if p.exitcode is None:
                    p.terminate()
            for p in processes:
                p.join(timeout=5)
                if p.exitcode is None:
                    p.kill()
                    p.join(timeout=5)
            _end_results_pipe(results)
            # The pool's thread ends as it sees its workers gone; left running, it races with the
            # interpreter's exit ("Exception ignored in: <module 'threading'>", CPython 3.11).
            if manager is not None:
                manager.join(timeout=10)
        if self._alive is not None:
            for end in self._alive:  # closing the writer also stops any worker left
                end.close()
            self._alive = None
        return _death(processes)

    def imap_unordered(
        self, fn: Callable[[T], R], items: Sequence[T]
    ) -> Iterator[tuple[int, R | BaseException]]:
        """Yield (index, result or exception) as each task finishes. Tasks lost with a dead worker
        run once more in a fresh pool; lost twice, their result is a :class:`WorkerLost`."""
        yield from self.submit(fn, items).results()

    def submit(self, fn: Callable[[T], R], items: Sequence[T]) -> Batch[T, R]:
        """Hand every task to the workers now and return at once; ``results()`` collects them.
        This process can do other work meanwhile (write tables while the workers compute). With
        one job, nothing runs until ``results()``, which runs the tasks here."""
        return Batch(self, fn, items)

    def _submit(self, fn: Callable[[T], R], items: Sequence[T], todo: Sequence[int]) -> _Round[R]:
        """Submit ``todo`` to the current pool; tasks refused because it broke meanwhile are
        marked lost (a ``BrokenProcessPool``) at once."""
        pool = self._pool
        assert pool is not None
        futures: dict[Future[R], int] = {}
        failed: list[tuple[int, BaseException]] = []
        for n, i in enumerate(todo):
            try:
                fut = pool.submit(fn, items[i])
            except (BrokenProcessPool, RuntimeError) as exc:  # broke while tasks were submitted
                if not _broken(pool):
                    raise
                failed = [(j, BrokenProcessPool(str(exc))) for j in todo[n:]]
                break
            futures[fut] = i
        return _Round(pool, futures, failed)

    def _collect(
        self, fn: Callable[[T], R], items: Sequence[T], first: _Round[R]
    ) -> Iterator[tuple[int, R | BaseException]]:
        """The results of a submitted batch; what a dead worker lost runs once more in a fresh
        pool, and lost twice is a :class:`WorkerLost`."""
        todo, current = list(range(len(items))), first
        for attempt in (1, 2):
            lost: list[int] = []
            for i, out in current.outcomes():
                if isinstance(out, BrokenProcessPool):
                    lost.append(i)
                else:
                    yield i, out
            if not lost:
                return
            why = self._stop(graceful=False)
            todo = sorted(lost)
            if attempt == 1:
                self.notice(f"warning: {why}; running the {len(todo)} unfinished tasks again")
                self._start()
                current = self._submit(fn, items, todo)
        error = WorkerLost(f"{why}, on the second try too; {len(todo)} of {len(items)} tasks lost")
        for i in todo:
            yield i, error


@dataclass
class _Round(Generic[R]):
    """One pass of tasks through one pool (the pool, its futures and the tasks it refused)."""

    pool: ProcessPoolExecutor
    futures: dict[Future[R], int]
    failed: list[tuple[int, BaseException]]

    def outcomes(self) -> Iterator[tuple[int, R | BaseException]]:
        """(index, result or exception) as each finishes; a task the pool lost yields a
        ``BrokenProcessPool``.

        What is left when the caller stops early is cancelled by ``WorkerPool._stop``, through the
        pool's own thread (cancelling here races with a breaking pool marking the same futures
        failed, which prints a traceback). And a task submitted while the pool breaks may never be
        marked at all (the pool's thread does not hold the submit lock, CPython 3.11): once the
        pool says it is broken, every unfinished task is taken as lost instead of waited for.
        """
        yield from self.failed
        futures, pool = self.futures, self.pool
        pending: set[Future[R]] = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                yield futures[fut], _outcome(fut)
            if pending and not done and _broken(pool):
                done, pending = wait(pending, timeout=0.5)  # those the pool is marking now
                for fut in done:
                    yield futures[fut], _outcome(fut)
                for fut in pending:
                    yield futures[fut], BrokenProcessPool("submitted as the pool broke")
                return


class _Timed(Generic[T, R]):
    """``fn`` that also says when it started and finished (``time.monotonic()``, one clock for
    all processes of the machine). Timed in the worker, not by a callback on the future here: a
    callback takes the future's lock, and a SIGTERM raised while this process holds it leaves the
    pool's thread waiting for it at exit; and a batch queued behind another starts when a worker
    takes its first task, not when it was handed over."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, item: T) -> tuple[R, float, float]:
        start = time.monotonic()
        out = self.fn(item)
        return out, start, time.monotonic()


class Batch(Generic[T, R]):
    """Tasks handed to a pool at once (``WorkerPool.submit``), collected with ``results()``.

    ``started_at`` and ``finished_at`` (``time.monotonic()``) are when its first task began (on a
    worker, or for one job when collected) and when its last one ended, so a batch queued behind
    another, or collected after other work, still says how long its own computation took."""

    def __init__(self, owner: WorkerPool, fn: Callable[[T], R], items: Sequence[T]) -> None:
        self._owner, self._fn, self._items = owner, fn, items
        self.size = len(items)
        self.started_at = time.monotonic()
        self.finished_at = math.nan
        self._first = None if owner._pool is None else owner._submit(
            _Timed(fn), items, range(len(items))
        )  # fmt: skip

    def results(self) -> Iterator[tuple[int, R | BaseException]]:
        """Yield (index, result or exception) as each task finishes (see ``imap_unordered``)."""
        if self._first is None:
            self.started_at = time.monotonic()
            for i, out in _serial(self._fn, self._items):
                self.finished_at = time.monotonic()
                yield i, out
            return
        starts: list[float] = []
        ends: list[float] = []
        for i, out in self._owner._collect(_Timed(self._fn), self._items, self._first):
            if isinstance(out, BaseException):
                yield i, out
                continue
            result, start, end = out
            starts.append(start)
            ends.append(end)
            self.started_at, self.finished_at = min(starts), max(ends)
            yield i, result


def _outcome(fut: Future[Any]) -> Any:
    """The result of a finished future, or its exception."""
    exc = fut.exception()
    return exc if exc is not None else fut.result()


def _broken(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of ``pool`` died (a private flag, the same from Python 3.8 to 3.14)."""
    return bool(getattr(pool, "_broken", False))


def _serial(fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R | BaseException]]:
    """Every task in this process, in order; an exception is a result, as from a worker."""
    for i, item in enumerate(items):
        try:
            out: R | BaseException = fn(item)
        except Exception as exc:
            out = exc
        yield i, out


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
