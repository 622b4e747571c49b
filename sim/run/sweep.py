"""Sweep tasks and executors: a point x a batch of replications, run on local processes or Dask.

A task is one point x a batch of replications, with every compared model in it (common random
numbers within the point). Tasks are small and picklable; an executor runs them somewhere and
yields each result as it finishes. No files are written here (``sim.store.sweep_folder`` does).
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sim.run.workers import WorkerPool

if TYPE_CHECKING:
    from sim.config.sweep_spec import Point
    from sim.model.scenario import Scenario

__all__ = [
    "BatchResult",
    "BatchTask",
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "as_result",
    "auto_batch",
    "batch_tasks",
    "error_text",
    "make_tasks",
    "run_batch",
]

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", str, int)


def auto_batch(replications: int, points: int, workers: int, tasks_per_worker: int = 4) -> int:
    """Replications per task: whole points when there are enough points to keep every worker
    busy, else points split so there are about ``tasks_per_worker`` tasks per worker."""
    if workers <= 1 or points <= 0:
        return max(1, replications)
    chunks = max(1, math.ceil(tasks_per_worker * workers / points))
    return max(1, math.ceil(replications / chunks))


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class BatchTask(Generic[K]):
    """A batch of replications of one scenario, every model in it: small and picklable.

    ``key`` names what the batch belongs to: a sweep's point id, an uncertainty run's set id.
    Replication r of every model uses the stream key ``(*prefix, r)``: common random numbers
    within the scenario, whatever process runs the batch.
    """

    key: K
    scenario_json: str
    models: tuple[str, ...]
    replications: tuple[int, ...]
    prefix: tuple[int, ...]
    base_dir: str
    fte: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class BatchResult(Generic[K]):
    """The metrics of each (replication, model) of a batch, or the error that stopped it. The
    time it took (wall and CPU seconds) is not part of its value: results compare equal whatever
    ran them."""

    key: K
    rows: tuple[tuple[int, str, dict[str, float]], ...]
    error: str | None = None
    detail: str | None = None
    seconds: float = field(default=0.0, compare=False)
    cpu_seconds: float = field(default=0.0, compare=False)


def batch_tasks(
    key: K,
    scenario: Scenario,
    models: Sequence[str],
    replications: int,
    prefix: tuple[int, ...],
    base_dir: str,
    batch: int,
) -> list[BatchTask[K]]:
    """The tasks of ``replications`` replications of ``scenario``, ``batch`` to a task."""
    from sim.run.experiment import resolve_fte

    payload = scenario.model_dump_json(by_alias=True)
    fte = resolve_fte(scenario, models)
    reps = list(range(replications))
    size = max(1, batch)
    return [
        BatchTask(key, payload, tuple(models), tuple(reps[i : i + size]), prefix, base_dir, fte)
        for i in range(0, len(reps), size)
    ]


def run_batch(task: BatchTask[K]) -> BatchResult[K]:
    """Run a batch in a worker (or in this process); an exception becomes a failed result."""
    from sim.run.experiment import RepTask, replication_key, run_task

    start, cpu = time.perf_counter(), time.process_time()
    rows: list[tuple[int, str, dict[str, float]]] = []
    try:
        for r in task.replications:
            rep = RepTask(
                task.scenario_json,
                task.models,
                r,
                replication_key(task.prefix, r),
                task.base_dir,
                task.fte,
            )
            for res in run_task(rep):
                rows.append((r, res.model, {k: float(v) for k, v in res.metrics.items()}))
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc))
        return BatchResult(task.key, (), error_text(exc), detail, time.perf_counter() - start)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return BatchResult(task.key, tuple(rows), None, None, wall, used)


def as_result(key: K, out: BatchResult[K] | BaseException) -> BatchResult[K]:
    """A batch's result, or the exception that the executor returned instead as a failed one."""
    if isinstance(out, BatchResult):
        return out
    return BatchResult(key, (), error_text(out), "".join(traceback.format_exception(out)))


def error_text(exc: BaseException) -> str:
    """One line naming the exception, at most 500 characters of its message."""
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text[:500]}"


def make_tasks(points: Sequence[Point], batch: int) -> list[BatchTask[str]]:
    """Tasks of ``batch`` replications for each point, in point order. Replication r of every
    model uses the stream key ``(point stream key, r)``: common random numbers within the point,
    independent streams across points."""
    return [
        t
        for p in points
        for t in batch_tasks(
            p.point_id, p.scenario, p.models, p.replications, (p.stream_key,), p.base_dir, batch
        )
    ]


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Runs ``fn`` on each item somewhere; yields (item index, result or exception) as each
    finishes. Used as a context manager, which starts and stops the workers."""

    @property
    def workers(self) -> int: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def imap_unordered(
        self, fn: Callable[[T], R], items: Sequence[T]
    ) -> Iterator[tuple[int, R | BaseException]]: ...


class ExecutorError(RuntimeError):
    """The executor could not start: Dask missing, or no scheduler at the address."""


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C in this process while child processes are started (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LocalExecutor:
    """Local worker processes (``sim.run.workers.WorkerPool``); ``jobs=1`` runs in this process.

    The pool is the one ``run``, ``explain`` and ``optimise`` use: workers stop on Ctrl-C or
    SIGTERM without finishing their batch, die with this process, and batches lost with a killed
    worker run once more in a fresh pool; lost twice, their points are recorded as failed.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, int(jobs))
        self._pool: WorkerPool | None = None

    @property
    def workers(self) -> int:
        return self.jobs

    def describe(self) -> str:
        return f"local, {self.jobs} process{'es' * (self.jobs > 1)}"

    def __enter__(self) -> LocalExecutor:
        # The fork server preloads the whole sweep use case (as before the split): with less
        # preloaded, workers start sooner and SIGTERM can reach the pool while it still spawns
        # one, whose start then fails with a traceback (tests/test_faults.py, under load).
        self._pool = WorkerPool(
            self.jobs, preload=["sim.app.sweep", "sim.run.experiment"]
        ).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.__exit__(*exc)
            self._pool = None

    def imap_unordered(
        self, fn: Callable[[T], R], items: Sequence[T]
    ) -> Iterator[tuple[int, R | BaseException]]:
        pool = self._pool or WorkerPool(1)  # outside its with-block: in this process
        return pool.imap_unordered(fn, items)


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler (``address``, e.g.
    ``tcp://host:8786``) or a local cluster of ``workers`` processes on 127.0.0.1 with one
    thread each. Dask is imported only here (``pip install 'sim[dask]'``).

    Every worker must have the same version of ``sim`` installed: tasks name ``run_batch`` by
    module, they do not ship code.
    """

    def __init__(
        self, address: str | None = None, workers: int | None = None, timeout: float = 120.0
    ) -> None:
        if (address is None) == (workers is None):
            raise ValueError("give either a scheduler address or a number of local workers")
        self.address = address
        self.n_local = workers
        self.timeout = timeout
        self._client: Any = None
        self._cluster: Any = None

    @property
    def workers(self) -> int:
        if self._client is None:
            return self.n_local or 1
        return max(1, sum(self._client.nthreads().values()))

    def describe(self) -> str:
        if self.address:
            return f"Dask scheduler {self.address}, {self.workers} worker threads"
        return f"local Dask cluster, {self.n_local} workers"

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ExecutorError(
                "Dask is not installed; install it with: pip install 'sim[dask]'"
            ) from exc
        try:
            if self.address is not None:
                # Connect timeout: Dask's own setting (distributed.comm.timeouts.connect, 30 s).
                self._client = Client(self.address)
            else:
                # Workers start with Ctrl-C ignored (inherited): the terminal sends it to the
                # whole process group, and only this process should handle it (it closes the
                # cluster), not each worker with a traceback of its own.
                with _sigint_ignored():
                    self._cluster = LocalCluster(
                        n_workers=self.n_local,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self._client = Client(self._cluster)
            self._client.wait_for_workers(1, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            where = self.address or "a local cluster"
            raise ExecutorError(f"cannot use the Dask cluster at {where}: {exc}") from exc
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def imap_unordered(
        self, fn: Callable[[T], R], items: Sequence[T]
    ) -> Iterator[tuple[int, R | BaseException]]:
        from distributed import as_completed as dask_as_completed

        futures = self._client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in dask_as_completed(futures):
                i = index[fut.key]
                if fut.status == "error":
                    yield i, fut.exception()
                else:
                    yield i, fut.result()
                fut.release()
        finally:
            left = [f for f in futures if not f.done()]
            if left and self._client is not None:
                self._client.cancel(left)
