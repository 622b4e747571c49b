"""Sweeps: many variants of a scenario, run as small tasks on local processes or a Dask cluster.

A sweep is a ``sweep:`` section in a scenario (key paths mapped to lists or ranges; the full grid
by default, ``mode: zip`` to pair the lists), a folder of scenario files, or both. Each variant is a
**point**: the scenario with the sweep's values laid on it, validated and resolved like any
scenario. Everything is checked before anything runs; a bad sweep key or a value that makes a
point invalid is reported at its line and column in the file.

Every replication of a point is seeded from (seed, the point's resolved scenario, replication)
through ``point_identity``, so results do not depend on the executor, the number of workers, the
batching of replications or the order tasks finish in. A task is one point x a batch of
replications, with every compared model in it (common random numbers within the point).

Results go to ``<folder>/points/<point id>/`` point by point, each written atomically as it
completes, so an interrupted sweep leaves a consistent folder that ``resume`` completes. The
final tables (``points.csv``, ``replications.csv``, ``summary.csv``, ``differences.csv``) are
then assembled from the point folders in point order: byte-identical however the points ran.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim import __version__
from sim.config.loader import (
    Problem,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    parse_override,
    set_path,
)
from sim.run.workers import WorkerPool

if TYPE_CHECKING:
    from sim.model.scenario import Scenario, Sweep, SweepRange

__all__ = [
    "SWEEP_TABLES",
    "BatchResult",
    "BatchTask",
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "Point",
    "SweepOutcome",
    "SweepPlan",
    "assemble_tables",
    "auto_batch",
    "expand",
    "latest_sweep_folder",
    "parameter_values",
    "plan_sweep",
    "point_identity",
    "run_batch",
    "run_sweep",
]

SWEEP_TABLES: tuple[str, ...] = (
    "points.csv",
    "replications.csv",
    "summary.csv",
    "differences.csv",
)
"""The final tables of a sweep folder, assembled from its point folders."""

POINTS_DIR = "points"
MANIFEST = "manifest.json"
MAX_POINTS = 10_000
"""A larger sweep is almost always a mistake in a range (a step of 1 DKK); split it on purpose."""

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------- expansion (pure)


def parameter_values(spec: list[Any] | SweepRange) -> list[Any]:
    """The values of one sweep parameter: a list as given, or a range's inclusive values.

    A range whose start, stop and step are whole numbers gives ints, so that
    ``{start: 2, stop: 10, step: 2}`` can sweep an integer setting such as replications.
    """
    from sim.model.scenario import SweepRange

    if isinstance(spec, SweepRange):
        values = spec.values()
        if all(float(x).is_integer() for x in (spec.start, spec.stop, spec.step)):
            return [round(v) for v in values]
        return values
    return list(spec)


def expand(mode: str, parameters: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The points of a sweep as {key path: value} in key order.

    ``grid``: every combination, the first key varying slowest. ``zip``: the i-th value of every
    list together; the lists must have the same length (ValueError otherwise).
    """
    keys = list(parameters)
    lists = [list(v) for v in parameters.values()]
    if mode == "zip":
        lengths = {len(v) for v in lists}
        if len(lengths) > 1:
            raise ValueError("zip needs lists of the same length")
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*lists, strict=True)]
    if mode != "grid":
        raise ValueError(f"unknown sweep mode {mode!r}; expected grid or zip")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def point_identity(scenario: Scenario, version: str = __version__) -> tuple[str, int]:
    """(point id, stream key) of a resolved point scenario.

    The **point id** (16 hex digits) hashes the whole resolved scenario (seed included) and the sim
    version: it names the point's folder and is the ``--resume`` key. The **stream key** (a 60-bit
    int, the first part of every random stream's key) hashes the same without the number of
    replications, so replication r of a point draws the same numbers whether 5 or 50 are run.
    """
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("sweep", None)
    point_id = hashlib.sha256(f"{_canonical(data)}\n{version}".encode()).hexdigest()[:16]
    explicit = data["experiment"].pop("stream_key", None)
    data["experiment"] = {k: v for k, v in data["experiment"].items() if k != "replications"}
    digest = hashlib.sha256(f"{_canonical(data)}\n{version}".encode()).hexdigest()
    return point_id, explicit if explicit is not None else int(digest[:15], 16)


def auto_batch(replications: int, points: int, workers: int, tasks_per_worker: int = 4) -> int:
    """Replications per task: whole points when there are enough points to keep every worker
    busy, else points split so there are about ``tasks_per_worker`` tasks per worker."""
    if workers <= 1 or points <= 0:
        return max(1, replications)
    chunks = max(1, math.ceil(tasks_per_worker * workers / points))
    return max(1, math.ceil(replications / chunks))


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Point:
    """One variant of a scenario: its values, its resolved scenario and its identity."""

    index: int
    source: str
    params: dict[str, Any]
    scenario: Scenario
    base_dir: str
    point_id: str
    stream_key: int

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.scenario.compare)

    @property
    def replications(self) -> int:
        return self.scenario.experiment.replications

    def label(self) -> str:
        """``budget.annual_dkk=12000000, arrivals.rate_per_week=2`` (or the source file)."""
        if not self.params:
            return Path(self.source).name
        return ", ".join(f"{k}={_show(v)}" for k, v in self.params.items())


@dataclass(frozen=True)
class SweepPlan:
    """Every point of a sweep, in order, checked and ready to run."""

    name: str
    target: str
    sources: tuple[str, ...]
    parameters: tuple[str, ...]
    points: tuple[Point, ...]
    modes: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """The command-line settings that shaped the points (``--reps``, ``--set``), stored in the
    manifest so ``--resume`` completes the sweep with them."""

    def unique_points(self) -> list[Point]:
        """The first point of each point id (identical variants run once)."""
        seen: dict[str, Point] = {}
        for p in self.points:
            seen.setdefault(p.point_id, p)
        return list(seen.values())


def _show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(node: Any) -> Any:
    """ruamel round-trip nodes as plain Python data (dict, list, int, float, str, bool, None)."""
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _point_data(base: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The base scenario data with ``values`` set at their key paths and no sweep section.

    A setting of a built-in preset the file does not define (``models.joint.review...``) creates
    that model as ``extends: joint``, so the rest of the preset is kept. Raises KeyError or
    IndexError (with a readable message) when a path cannot be followed.
    """
    from sim.model.scenario import PRESETS

    data = copy.deepcopy(base)
    data.pop("sweep", None)
    for key, value in values.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "models" and parts[1] in PRESETS:
            models = data.setdefault("models", {})
            if isinstance(models, dict) and parts[1] not in models:
                models[parts[1]] = {"extends": parts[1]}
        set_path(data, parts, copy.deepcopy(value))
    return data


def _overrides_for(base: dict[str, Any], values: Mapping[str, Any]) -> list[str]:
    """The same changes as ``_point_data``, as ``key.path=value`` overrides for the loader."""
    from sim.model.scenario import PRESETS

    out = ["sweep=null"]
    models = base.get("models") if isinstance(base.get("models"), dict) else {}
    for key, value in values.items():
        parts = key.split(".")
        preset = len(parts) >= 3 and parts[0] == "models" and parts[1] in PRESETS
        if preset and parts[1] not in (models or {}):
            out.append(f"models.{parts[1]}.extends={json.dumps(parts[1])}")
        out.append(f"{key}={json.dumps(value, ensure_ascii=False)}")
    return out


class _Located:
    """Positions of the sweep section's keys and values in one file."""

    def __init__(self, source: str, text: str, raw: CommentedMap) -> None:
        self.source = source
        self.lines = text.splitlines()
        sweep = raw.get("sweep")
        self.sweep = sweep if isinstance(sweep, CommentedMap) else None
        params = self.sweep.get("parameters") if self.sweep is not None else None
        self.params = params if isinstance(params, CommentedMap) else None

    def _problem(self, pos: tuple[int, int] | None, path: str, message: str) -> Problem:
        if pos is None:
            return Problem(self.source, None, None, path, message)
        line, col = pos[0] + 1, pos[1] + 1
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return Problem(self.source, line, col, path, message, source)

    def key(self, key: str, message: str) -> Problem:
        """A problem with the sweep key itself (unknown setting, empty list...)."""
        pos = None
        if self.params is not None and key in self.params:
            pos = self.params.lc.key(key)
        return self._problem(pos, f"sweep.parameters.{key}", message)

    def value(self, key: str, index: int, message: str) -> Problem:
        """A problem with the ``index``-th value of ``key`` (the key itself for a range)."""
        if self.params is not None and key in self.params:
            node = self.params[key]
            if isinstance(node, CommentedSeq) and index < len(node):
                return self._problem(
                    node.lc.item(index), f"sweep.parameters.{key}[{index}]", message
                )
        return self.key(key, message)

    def section(self, name: str, message: str) -> Problem:
        """A problem with the sweep as a whole, at ``sweep.<name>`` (or ``sweep``)."""
        if self.sweep is not None and name in self.sweep:
            return self._problem(self.sweep.lc.key(name), f"sweep.{name}", message)
        return self._problem(None, "sweep", message)


def _validate(data: dict[str, Any], base_dir: Path, allow_outside: bool = False) -> Scenario:
    from sim.model.scenario import Scenario

    context = {"base_dir": base_dir, "allow_outside_paths": allow_outside}
    return Scenario.model_validate(data, context=context)


def _explain(
    text: str,
    path: Path,
    base: dict[str, Any],
    overrides: Sequence[str],
    values: Mapping[str, Any],
    error: Exception,
) -> list[Problem]:
    """The loader's located problems for ``values`` laid on the base (slow path, errors only)."""
    try:
        load_scenario_text(
            text, str(path), path.parent, [*overrides, *_overrides_for(base, values)]
        )
    except ScenarioError as exc:
        return exc.problems
    except Exception as exc:  # pragma: no cover - the loader turns everything into problems
        return [Problem(str(path), None, None, "", f"{type(exc).__name__}: {exc}")]
    return [Problem(str(path), None, None, "", str(error).splitlines()[0])]


def _reword(key: str, value: Any, problem: Problem) -> tuple[bool, str]:
    """(about the key itself?, message) for a loader problem caused by one sweep value."""
    shown = _show(value)
    if problem.message.startswith("unknown key") and (
        problem.path == key or key.startswith(problem.path + ".")
    ):
        return True, f"'{key}' is not a scenario setting: {problem.message}"
    if problem.path == key:
        return False, f"value {shown}: {problem.message}"
    if problem.path.startswith(key + "."):
        return False, f"value {shown}: {problem.path[len(key) + 1 :]}: {problem.message}"
    where = problem.path or "the scenario"
    return False, f"value {shown} makes {where} invalid: {problem.message}"


@dataclass
class _FilePlan:
    source: str
    base_dir: Path
    mode: str
    parameters: list[str]
    points: list[tuple[dict[str, Any], Scenario]]


def _plan_file(
    path: Path, overrides: Sequence[str], allow_outside: bool = False
) -> tuple[_FilePlan | None, list[Problem]]:
    """Check one scenario file and its sweep; the points, or every problem found."""
    from pydantic import ValidationError

    from sim.model.scenario import SweepRange

    source = str(path)
    try:
        base_scenario = load_scenario(path, overrides, allow_outside_paths=allow_outside)
    except ScenarioError as exc:
        return None, exc.problems
    text = path.read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    raw = yaml.load(text)
    for arg in overrides:  # already checked by load_scenario
        parts, value = parse_override(arg)
        set_path(raw, parts, value)
    located = _Located(source, text, raw)
    base = _plain(raw)
    base_dir = path.resolve().parent
    sweep: Sweep | None = base_scenario.sweep
    if sweep is None:
        return _FilePlan(source, base_dir, "single", [], [({}, _strip_sweep(base_scenario))]), []

    problems: list[Problem] = []
    values: dict[str, list[Any]] = {}
    raw_params = base.get("sweep", {}).get("parameters", {})
    for key, spec in sweep.parameters.items():
        if key.split(".")[0] == "sweep":
            problems.append(located.key(key, "the sweep section itself cannot be swept"))
            continue
        vals = parameter_values(spec) if isinstance(spec, SweepRange) else list(raw_params[key])
        if isinstance(spec, SweepRange) and spec.stop < spec.start:
            problems.append(located.key(key, f"expected stop >= start, found {spec.stop:g}"))
            continue
        if not vals:
            problems.append(located.key(key, "expected at least one value, found an empty list"))
            continue
        key_problem = False
        for i, v in enumerate(vals):
            try:
                _validate(_point_data(base, {key: v}), base_dir, allow_outside)
                continue
            except (KeyError, IndexError) as exc:
                problems.append(
                    located.key(key, f"'{key}' cannot be set: {exc.args[0] if exc.args else exc}")
                )
                key_problem = True
            except ValidationError as exc:
                for p in _explain(text, path, base, overrides, {key: v}, exc):
                    about_key, message = _reword(key, v, p)
                    if about_key:
                        problems.append(located.key(key, message))
                        key_problem = True
                    else:
                        problems.append(located.value(key, i, message))
            if key_problem:
                break
        values[key] = vals
    if problems:
        return None, _dedupe(problems)

    if sweep.mode == "zip" and len({len(v) for v in values.values()}) > 1:
        sizes = ", ".join(f"{k} has {len(v)}" for k, v in values.items())
        return None, [located.section("mode", f"zip needs lists of the same length: {sizes}")]
    sizes = [len(v) for v in values.values()]
    n = math.prod(sizes) if sweep.mode == "grid" else sizes[0]
    if n > MAX_POINTS:
        return None, [
            located.section("parameters", f"the sweep has {n:,} points; at most {MAX_POINTS:,}")
        ]
    points: list[tuple[dict[str, Any], Scenario]] = []
    for i, combo in enumerate(expand(sweep.mode, values)):
        try:
            points.append((combo, _validate(_point_data(base, combo), base_dir, allow_outside)))
        except ValidationError as exc:
            shown = ", ".join(f"{k}={_show(v)}" for k, v in combo.items())
            for p in _explain(text, path, base, overrides, combo, exc):
                where = f"{p.path}: " if p.path else ""
                problems.append(
                    located.section("parameters", f"point {i} ({shown}): {where}{p.message}")
                )
    if problems:
        return None, _dedupe(problems)
    return _FilePlan(source, base_dir, sweep.mode, list(values), points), []


def _strip_sweep(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"sweep": None})


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    out: dict[tuple[Any, ...], Problem] = {}
    for p in problems:
        out.setdefault((p.file, p.line, p.column, p.message), p)
    return list(out.values())


def _sweep_files(target: Path) -> list[Path]:
    return sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name).strip("._")
    return cleaned or "sweep"


def plan_sweep(
    target: str | Path, overrides: Sequence[str] = (), *, allow_outside_paths: bool = False
) -> SweepPlan:
    """Check a scenario file with a ``sweep:`` section, or a folder of scenario files (each may
    have its own sweep), and list every point. Nothing runs.

    ``overrides`` (``key.path=value``) apply to every file before its sweep. Raises ScenarioError
    with every problem of every file, each at its line and column.
    """
    target = Path(target)
    if target.is_dir():
        files = _sweep_files(target)
        if not files:
            raise ScenarioError(
                [Problem(str(target), None, None, "", "folder holds no .yaml scenario files")]
            )
        name = _safe_name(target.resolve().name)
    else:
        files = [target]
        name = ""
    problems: list[Problem] = []
    plans: list[_FilePlan] = []
    for path in files:
        plan, found = _plan_file(path, overrides, allow_outside_paths)
        problems.extend(found)
        if plan is not None:
            plans.append(plan)
    if problems:
        raise ScenarioError(problems)
    if not name:
        name = plans[0].points[0][1].name
    parameters = tuple(dict.fromkeys(k for p in plans for k in p.parameters))
    points: list[Point] = []
    for fp in plans:
        for combo, scenario in fp.points:
            pid, key = point_identity(scenario)
            points.append(
                Point(len(points), fp.source, combo, scenario, str(fp.base_dir), pid, key)
            )
    return SweepPlan(
        name=name,
        target=str(target),
        sources=tuple(fp.source for fp in plans),
        parameters=parameters,
        points=tuple(points),
        modes={fp.source: fp.mode for fp in plans},
    )


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class BatchTask:
    """One point x a batch of replications, every model in it: small and picklable."""

    point_id: str
    scenario_json: str
    models: tuple[str, ...]
    replications: tuple[int, ...]
    stream_key: int
    base_dir: str
    fte: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class BatchResult:
    """The metrics of each (replication, model) of a batch, or the error that stopped it."""

    point_id: str
    rows: tuple[tuple[int, str, dict[str, float]], ...]
    error: str | None = None
    detail: str | None = None
    seconds: float = 0.0


def run_batch(task: BatchTask) -> BatchResult:
    """Run a batch in a worker (or in this process); an exception becomes a failed result.

    Replication r of every model uses the stream key ``(point stream key, r)``: common random
    numbers within the point, independent streams across points.
    """
    from sim.run.experiment import RepTask, run_task

    start = time.perf_counter()
    rows: list[tuple[int, str, dict[str, float]]] = []
    try:
        for r in task.replications:
            rep = RepTask(
                task.scenario_json,
                task.models,
                r,
                (task.stream_key, r),
                task.base_dir,
                task.fte,
            )
            for res in run_task(rep):
                rows.append((r, res.model, {k: float(v) for k, v in res.metrics.items()}))
    except Exception as exc:
        return BatchResult(
            task.point_id,
            (),
            _error_text(exc),
            "".join(traceback.format_exception(exc)),
            time.perf_counter() - start,
        )
    return BatchResult(task.point_id, tuple(rows), None, None, time.perf_counter() - start)


def _error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text[:500]}"


def make_tasks(points: Sequence[Point], batch: int) -> list[BatchTask]:
    """Tasks of ``batch`` replications for each point, in point order."""
    from sim.run.experiment import resolve_fte

    tasks = []
    for p in points:
        payload = p.scenario.model_dump_json(by_alias=True)
        fte = resolve_fte(p.scenario, p.models)
        reps = list(range(p.replications))
        for i in range(0, len(reps), max(1, batch)):
            tasks.append(
                BatchTask(
                    p.point_id,
                    payload,
                    p.models,
                    tuple(reps[i : i + batch]),
                    p.stream_key,
                    p.base_dir,
                    fte,
                )
            )
    return tasks


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


# --------------------------------------------------------------------------- storage


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_frame(path: Path, columns: dict[str, tuple[Any, list[Any]]]) -> None:
    """A CSV from {column: (polars dtype, values)}, written to a temporary name and renamed."""
    import polars as pl

    df = pl.DataFrame({k: pl.Series(k, v, dtype=dt_) for k, (dt_, v) in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.write_csv(tmp, float_precision=None)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _point_dir(folder: Path, point_id: str) -> Path:
    return folder / POINTS_DIR / point_id


def point_status(folder: Path, point_id: str) -> str | None:
    """'ok' or 'failed' for a stored point, None when it has not been stored."""
    meta = _point_dir(folder, point_id) / "point.json"
    if not meta.is_file():
        return None
    try:
        status = json.loads(meta.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None
    if status == "ok" and not _point_intact(folder, point_id):
        return None  # lost or damaged: run it again
    return status if status in ("ok", "failed") else None


def _point_intact(folder: Path, point_id: str) -> bool:
    """Whether a stored point's replications.csv is there and matches its checksum (if any)."""
    from sim.store.integrity import sha256_of

    path = _point_dir(folder, point_id) / "replications.csv"
    if not path.is_file():
        return False
    try:
        meta = json.loads((path.parent / "point.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = (meta.get("checksums") or {}).get("replications.csv")
    return expected is None or sha256_of(path) == expected


def _write_point(
    folder: Path,
    point: Point,
    rows: list[tuple[int, str, dict[str, float]]],
    error: str | None,
    detail: str | None,
    seconds: float,
) -> None:
    """Store one point atomically: resolved scenario, replication rows or error, point.json."""
    import polars as pl

    from sim.config.loader import dump_resolved
    from sim.model.metrics import unit_of
    from sim.store.results import atomic_dir

    final = _point_dir(folder, point.point_id)
    if final.exists():  # a failed point being retried
        shutil.rmtree(final)
    with atomic_dir(final) as tmp:
        (tmp / "scenario.yaml").write_text(dump_resolved(_rerunnable(point)), encoding="utf-8")
        if error is None:
            order = {m: i for i, m in enumerate(point.models)}
            rows = sorted(rows, key=lambda r: (r[0], order[r[1]]))
            flat = [(r, m, k, v, unit_of(k)) for r, m, metrics in rows for k, v in metrics.items()]
            pl.DataFrame(
                {
                    "replication": pl.Series([x[0] for x in flat], dtype=pl.Int64),
                    "model": pl.Series([x[1] for x in flat], dtype=pl.String),
                    "metric": pl.Series([x[2] for x in flat], dtype=pl.String),
                    "value": pl.Series([x[3] for x in flat], dtype=pl.Float64),
                    "unit": pl.Series([x[4] for x in flat], dtype=pl.String),
                }
            ).write_csv(tmp / "replications.csv", float_precision=None)
        else:
            (tmp / "error.txt").write_text((detail or error) + "\n", encoding="utf-8")
        from sim.store.integrity import table_checksums

        meta = {
            "checksums": table_checksums(tmp, ["replications.csv"]),
            "point_id": point.point_id,
            "source": point.source,
            "parameters": point.params,
            "models": list(point.models),
            "replications": point.replications,
            "stream_key": point.stream_key,
            "sim_version": __version__,
            "status": "ok" if error is None else "failed",
            "error": error,
            "compute_seconds": round(seconds, 3),
            "rerun": "sim run scenario.yaml (same settings; see the sweep section of the README "
            "on stream keys)",
        }
        (tmp / "point.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def _rerunnable(point: Point) -> Scenario:
    """The point's scenario with its stream key spelled out and a referral CSV path made
    absolute, so `sim run` on it reproduces the point's numbers exactly, from anywhere."""
    from sim.model.scenario import CsvArrivals

    sc = point.scenario
    exp = sc.experiment.model_copy(update={"stream_key": point.stream_key})
    sc = sc.model_copy(update={"experiment": exp})
    arrivals = sc.arrivals
    if not isinstance(arrivals, CsvArrivals):
        return sc
    path = str((Path(point.base_dir) / arrivals.path).resolve())
    return sc.model_copy(update={"arrivals": arrivals.model_copy(update={"path": path})})


def _param_column(values: list[Any]) -> tuple[Any, list[Any]]:
    """(polars dtype, values) of a parameter column: ints, floats, or text (JSON for lists)."""
    import polars as pl

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pl.Int64, values
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pl.Float64, [None if v is None else float(v) for v in values]
    return pl.String, [
        None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for v in values
    ]


def assemble_tables(folder: Path, plan: SweepPlan) -> dict[str, int]:
    """Write the four final tables from the point folders, in point order; return counts.

    Statistics are always computed from the stored replication rows (never from values held in
    memory), so a resumed sweep and a fresh one give the same bytes.
    """
    import polars as pl

    from sim.model.metrics import metric_difference, metric_interval, unit_of

    params = list(plan.parameters)
    pts: dict[str, list[Any]] = {c: [] for c in ("point", "point_id", "source")}
    pvals: dict[str, list[Any]] = {k: [] for k in params}
    tail: dict[str, list[Any]] = {c: [] for c in ("replications", "status", "error")}
    reps: dict[str, list[Any]] = {
        c: [] for c in ("point", "replication", "model", "metric", "value", "unit")
    }
    stats = ("unit", "mean", "ci_low", "ci_high", "sd", "n")
    summ: dict[str, list[Any]] = {c: [] for c in ("point", *params, "model", "metric", *stats)}
    diff: dict[str, list[Any]] = {
        c: [] for c in ("point", *params, "comparison", "model", "baseline", "metric", *stats)
    }
    cache: dict[str, pl.DataFrame] = {}
    counts = {"ok": 0, "failed": 0, "missing": 0}
    for p in plan.points:
        status = point_status(folder, p.point_id)
        error = None
        if status == "failed":
            meta = json.loads((_point_dir(folder, p.point_id) / "point.json").read_text("utf-8"))
            error = meta.get("error")
        counts[status or "missing"] += 1
        pts["point"].append(p.index)
        pts["point_id"].append(p.point_id)
        pts["source"].append(p.source)
        for k in params:
            pvals[k].append(p.params.get(k))
        tail["replications"].append(p.replications)
        tail["status"].append(status or "missing")
        tail["error"].append(error)
        if status != "ok":
            continue
        if p.point_id not in cache:
            cache[p.point_id] = pl.read_csv(
                _point_dir(folder, p.point_id) / "replications.csv",
                schema_overrides={"value": pl.Float64, "replication": pl.Int64},
            )
        df = cache[p.point_id]
        for col in ("replication", "model", "metric", "value", "unit"):
            reps[col].extend(df[col].to_list())
        reps["point"].extend([p.index] * df.height)
        values: dict[tuple[str, str], list[float]] = {}  # rows are in replication order
        for m, k, v in zip(df["model"], df["metric"], df["value"], strict=True):
            values.setdefault((m, k), []).append(math.nan if v is None else float(v))
        metrics = list(dict.fromkeys(df["metric"].to_list()))
        for m in p.models:
            for k in metrics:
                iv = metric_interval(k, values.get((m, k), []))
                _append(summ, point=p.index, **{q: p.params.get(q) for q in params})
                _append(summ, model=m, metric=k, unit=unit_of(k), mean=iv.mean, ci_low=iv.low,
                        ci_high=iv.high, sd=iv.sd, n=iv.n)  # fmt: skip
        base = p.models[0]
        for m in p.models[1:]:
            for k in metrics:
                iv = metric_difference(k, values.get((m, k), []), values.get((base, k), []))
                _append(diff, point=p.index, **{q: p.params.get(q) for q in params})
                _append(diff, comparison=f"{m} - {base}", model=m, baseline=base, metric=k,
                        unit=unit_of(k), mean=iv.mean, ci_low=iv.low, ci_high=iv.high, sd=iv.sd,
                        n=iv.n)  # fmt: skip

    s, i, f = pl.String, pl.Int64, pl.Float64
    pcols = {k: _param_column(pvals[k]) for k in params}
    _write_frame(
        folder / "points.csv",
        {
            "point": (i, pts["point"]),
            "point_id": (s, pts["point_id"]),
            "source": (s, pts["source"]),
            **pcols,
            "replications": (i, tail["replications"]),
            "status": (s, tail["status"]),
            "error": (s, tail["error"]),
        },
    )
    _write_frame(
        folder / "replications.csv",
        {
            "point": (i, reps["point"]),
            "replication": (i, reps["replication"]),
            "model": (s, reps["model"]),
            "metric": (s, reps["metric"]),
            "value": (f, reps["value"]),
            "unit": (s, reps["unit"]),
        },
    )
    stat_cols = {"mean": f, "ci_low": f, "ci_high": f, "sd": f, "n": i}
    for name, table, text_cols in (
        ("summary.csv", summ, ("model", "metric", "unit")),
        ("differences.csv", diff, ("comparison", "model", "baseline", "metric", "unit")),
    ):
        cols: dict[str, tuple[Any, list[Any]]] = {"point": (i, table["point"])}
        for k in params:
            cols[k] = _param_column(table[k])
        for c in text_cols:
            cols[c] = (s, table[c])
        for c, dtype in stat_cols.items():
            cols[c] = (dtype, table[c])
        _write_frame(folder / name, cols)
    return counts


def _append(table: dict[str, list[Any]], **row: Any) -> None:
    for k, v in row.items():
        table[k].append(v)


# --------------------------------------------------------------------------- running


@dataclass
class SweepOutcome:
    """What a sweep did: its folder, the points it ran, skipped and lost."""

    folder: Path
    plan: SweepPlan
    ran: int
    skipped: int
    failed: list[tuple[Point, str]]
    wall_seconds: float
    counts: dict[str, int]


def _manifest(
    plan: SweepPlan,
    folder: Path,
    *,
    status: str,
    executor: str,
    command: Sequence[str],
    started: str,
    wall: float,
    counts: dict[str, int] | None = None,
    batch: int | None = None,
    checksums: dict[str, str] | None = None,
) -> dict[str, Any]:
    from sim.store.results import git_revision, package_versions

    first = plan.points[0].scenario if plan.points else None
    return {
        "kind": "sweep",
        "sweep": plan.name,
        "run_id": folder.name,
        "status": status,
        "created": started,
        "target": plan.target,
        "sources": list(plan.sources),
        "modes": plan.modes,
        "options": plan.options,
        "point_ids": [p.point_id for p in plan.points],
        "parameters": list(plan.parameters),
        "points": len(plan.points),
        "unique_points": len(plan.unique_points()),
        "counts": counts or {},
        "models": list(first.compare) if first else [],
        "replications": sorted({p.replications for p in plan.points}),
        "seeds": sorted({p.scenario.experiment.seed for p in plan.points}),
        "horizon_weeks": sorted({p.scenario.experiment.horizon_weeks for p in plan.points}),
        "warmup_weeks": sorted({p.scenario.experiment.warmup_weeks for p in plan.points}),
        "stream_key": "(point stream key, replication); see points/<id>/point.json",
        "executor": executor,
        "replications_per_task": batch,
        "versions": package_versions(),
        "git_revision": git_revision(),
        "command": list(command),
        "wall_seconds": round(wall, 3),
        **({"checksums": checksums} if checksums is not None else {}),
    }


def latest_sweep_folder(root: Path, name: str) -> Path | None:
    """The newest sweep folder under ``root/name`` (by run id), or None."""
    base = root / name
    if not base.is_dir():
        return None
    found = []
    for p in base.iterdir():
        meta = p / MANIFEST
        if p.is_dir() and meta.is_file():
            try:
                if json.loads(meta.read_text(encoding="utf-8")).get("kind") == "sweep":
                    found.append(p)
            except (OSError, ValueError):
                continue
    return sorted(found, key=lambda p: p.name)[-1] if found else None


def run_sweep(
    plan: SweepPlan,
    folder: Path,
    executor: Executor,
    *,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
    on_skip: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Run every point of ``plan`` whose results are not in ``folder`` yet, then write the tables.

    Points already stored (status ok) are skipped, so calling this again on the same folder
    resumes an interrupted sweep; failed points are retried. ``executor`` must not be entered
    yet. On Ctrl-C the folder keeps every finished point and the manifest says 'interrupted'.
    """
    start = time.perf_counter()
    started = dt.datetime.now().isoformat(timespec="seconds")
    describe = getattr(executor, "describe", lambda: type(executor).__name__)
    unique = plan.unique_points()
    todo = [p for p in unique if point_status(folder, p.point_id) != "ok"]
    skipped = len(unique) - len(todo)
    if on_skip is not None and skipped:
        on_skip(skipped)

    def write_manifest(
        status: str, counts: dict[str, int] | None = None, n: int = 0, final: bool = False
    ) -> None:
        from sim.store.integrity import table_checksums

        meta = _manifest(
            plan,
            folder,
            status=status,
            executor=describe(),
            command=command,
            started=started,
            wall=time.perf_counter() - start,
            counts=counts,
            batch=n or None,
            checksums=table_checksums(folder, SWEEP_TABLES) if final else None,
        )
        _atomic_text(folder / MANIFEST, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    failed: list[tuple[Point, str]] = []
    size = 0
    from sim.store.results import remove_stale_temporaries

    # Start the workers first: a cluster that cannot be reached leaves no folder behind.
    with executor if todo else contextlib.nullcontext():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / POINTS_DIR).mkdir(exist_ok=True)
        for place in (folder, folder / POINTS_DIR):  # leftovers of a killed sweep
            remove_stale_temporaries(place)
        try:
            if todo:
                for name in (*SWEEP_TABLES, "report.html"):  # tables only for a complete sweep
                    (folder / name).unlink(missing_ok=True)
                max_reps = max(p.replications for p in todo)
                size = batch or auto_batch(max_reps, len(todo), executor.workers)
            write_manifest("running", n=size)
            tasks = make_tasks(todo, size)
            by_id = {p.point_id: p for p in todo}
            expected = {pid: 0 for pid in by_id}
            for t in tasks:
                expected[t.point_id] += 1
            partial: dict[str, list[BatchResult]] = {pid: [] for pid in by_id}
            done = 0
            if progress is not None and todo:
                progress(0, len(todo))
            for i, out in executor.imap_unordered(run_batch, tasks) if tasks else ():
                task = tasks[i]
                result = (
                    out
                    if isinstance(out, BatchResult)
                    else BatchResult(
                        task.point_id,
                        (),
                        _error_text(out),
                        "".join(traceback.format_exception(out)),
                    )
                )
                got = partial[task.point_id]
                got.append(result)
                if len(got) < expected[task.point_id]:
                    continue
                point = by_id[task.point_id]
                errors = [g for g in got if g.error is not None]
                rows = [row for g in got for row in g.rows]
                seconds = sum(g.seconds for g in got)
                if errors:
                    first = min(errors, key=lambda g: g.error or "")
                    _write_point(folder, point, [], first.error, first.detail, seconds)
                    failed.append((point, first.error or ""))
                else:
                    _write_point(folder, point, rows, None, None, seconds)
                del partial[task.point_id]
                done += 1
                if progress is not None:
                    progress(done, len(todo))
            counts = assemble_tables(folder, plan)
        except BaseException:
            write_manifest("interrupted", n=size)
            raise
    status = "complete" if not counts["failed"] else "complete_with_failures"
    write_manifest(status, counts, size, final=True)
    return SweepOutcome(
        folder, plan, len(todo), skipped, failed, time.perf_counter() - start, counts
    )


# --------------------------------------------------------------------------- command-line helpers


def is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep (its manifest says so)."""
    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("kind") == "sweep"


def choose_folder(
    plan: SweepPlan, *, out: Path | None, resume: bool, root: Path = Path("results")
) -> Path:
    """The folder to write: ``out``, or with ``resume`` the newest sweep folder of this sweep,
    else a new ``root/<sweep>/<run-id>``. Raises FileExistsError for a folder that cannot be used.
    """
    from sim.store.results import new_run_dir

    if out is not None:
        if out.exists() and any(out.iterdir()):
            if not resume:
                raise FileExistsError(
                    f"{out} already exists; add --resume to complete it, or choose another --out"
                )
            if not is_sweep_folder(out):
                raise FileExistsError(f"{out} is not a sweep folder; choose another --out")
        return out
    if resume:
        latest = latest_sweep_folder(root, plan.name)
        if latest is not None:
            return latest
    return new_run_dir(root, plan.name)


def sweep_table(folder: Path, metric: str = "helped_per_year", limit: int = 40) -> Any:
    """A rich table of the sweep: each point's values, ``metric`` per model and the paired
    differences, mean [95 % CI]; at most ``limit`` rows."""
    import polars as pl
    from rich.table import Table

    from sim.model.metrics import Interval
    from sim.present.console import fmt

    points = pl.read_csv(folder / "points.csv", infer_schema_length=None)
    summary = pl.read_csv(folder / "summary.csv", infer_schema_length=None)
    diffs = pl.read_csv(folder / "differences.csv", infer_schema_length=None)
    meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    params = [p for p in meta.get("parameters", []) if p in points.columns]
    models = list(meta.get("models") or [])

    def stats(df: pl.DataFrame, key: str) -> dict[tuple[int, str], Interval]:
        out = {}
        for r in df.filter(pl.col("metric") == metric).iter_rows(named=True):
            vals = [
                math.nan if r[c] is None else float(r[c]) for c in ("mean", "ci_low", "ci_high")
            ]
            out[(int(r["point"]), r[key])] = Interval(*vals, math.nan, int(r["n"] or 0))
        return out

    s, d = stats(summary, "model"), stats(diffs, "comparison")
    comparisons = list(dict.fromkeys(diffs["comparison"].to_list()))
    digits = 3 if metric.endswith("_share") else 1
    table = Table(title=f"{meta.get('sweep')}: {metric}, mean [95 % CI]", title_justify="left")
    table.add_column("point", justify="right")
    for p in params:
        table.add_column(p, justify="right")
    for m in models:
        table.add_column(m, justify="right")
    for c in comparisons:
        table.add_column(c, justify="right")
    table.add_column("status")
    for r in points.head(limit).iter_rows(named=True):
        i = int(r["point"])
        cells = [str(i), *("" if r[p] is None else _show(r[p]) for p in params)]
        cells += [fmt(s[(i, m)], digits) if (i, m) in s else "" for m in models]
        cells += [fmt(d[(i, c)], digits) if (i, c) in d else "" for c in comparisons]
        cells.append(str(r["status"]))
        table.add_row(*cells)
    if points.height > limit:
        table.caption = f"first {limit} of {points.height} points; all are in points.csv"
    return table


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class SweepRequest:
    """The options of ``sim sweep``, as given on the command line."""

    target: Path
    jobs: int | None = None
    scheduler: str | None = None
    workers: int | None = None
    resume: bool = False
    reps: int | None = None
    overrides: list[str] | None = None
    out: Path | None = None
    batch: int | None = None
    metric: str = "helped_per_year"
    lang: str = "en"
    report: bool = True
    allow_outside_paths: bool = False
    force: bool = False
    command: Sequence[str] = ()


def _check_options(req: SweepRequest) -> None:
    """Exit 2 on options that cannot go together or name nothing known."""
    from sim.app import common
    from sim.present import i18n

    if req.lang not in ("en", "da"):
        common.refuse("--lang must be en or da")
    if req.scheduler is not None and req.workers is not None:
        common.refuse("give --scheduler or --workers, not both")
    if not i18n.has(f"metric.{req.metric}"):
        common.refuse(f"--metric: unknown metric '{req.metric}'")


def _plan(target: Path, sets: list[str], allow_outside_paths: bool = False) -> SweepPlan:
    """``plan_sweep``; a problem in a file becomes ``file:line:col: ...`` and exit 2."""
    from sim.app.common import EXIT_INVALID, CommandError

    try:
        return plan_sweep(target, sets, allow_outside_paths=allow_outside_paths)
    except ScenarioError as error:
        raise CommandError(error.format(), EXIT_INVALID) from None


def _flags(options: dict[str, object]) -> str:
    """``--reps 3 --set a=1`` for stored sweep options (``no options`` when there are none)."""
    parts = [f"--reps {options['reps']}"] if options.get("reps") is not None else []
    parts += [f"--set {s}" for s in options.get("set") or []]  # type: ignore[attr-defined]
    return " ".join(parts) or "no options"


def resume_plan(target: Path, folder: Path, plan: SweepPlan, given: dict[str, object]) -> SweepPlan:
    """The plan that completes the sweep in ``folder``: made with the options stored there.

    Options given now that change the points are refused (exit 2), and so is a sweep whose
    scenario files changed since it started (its points would not be the stored ones).
    """
    from dataclasses import replace

    from sim.app import common
    from sim.store.integrity import DamagedFolder, read_manifest

    try:
        meta = read_manifest(folder)
    except DamagedFolder as exc:
        common.refuse(str(exc))
    stored = meta.get("options")
    if isinstance(stored, dict):
        sets = common.settings(stored.get("set") or [], reps=stored.get("reps"))
        stored_plan = _plan(target, sets)
        same = [p.point_id for p in stored_plan.points] == [p.point_id for p in plan.points]
        if _flags(given) != "no options" and not same:
            common.refuse(
                f"--resume: {_flags(given)} contradicts the sweep in {folder}, made with "
                f"{_flags(stored)}; resume without these options, or choose another --out"
            )
        plan = replace(stored_plan, options=stored)
    ids = meta.get("point_ids")
    if isinstance(ids, list) and ids != [p.point_id for p in plan.points]:
        differ = len({p.point_id for p in plan.points} - set(ids))
        common.refuse(
            f"--resume: the scenario files or sim version changed since the sweep in "
            f"{folder} started ({differ} of {len(plan.points)} points differ); restore them, "
            "or choose another --out"
        )
    return plan


def sweep_size(plan: SweepPlan, workers: int) -> Any:
    """The estimated work and memory of every distinct point of a sweep, one after another."""
    from sim.run.estimate import combine, estimate_scenario

    return combine(
        [
            estimate_scenario(p.scenario, jobs=workers, base_dir=Path(p.base_dir))
            for p in plan.unique_points()
        ]
    )


def _executor(req: SweepRequest) -> DaskExecutor | LocalExecutor:
    """A Dask executor for --scheduler or --workers, else local processes (--jobs)."""
    from sim.app import common

    if req.scheduler is not None:
        return DaskExecutor(address=req.scheduler)
    if req.workers is not None:
        return DaskExecutor(workers=req.workers)
    return LocalExecutor(common.default_jobs(req.jobs))


def _prepare(req: SweepRequest) -> tuple[SweepPlan, Path]:
    """The plan (for --resume: the stored one) and the folder; exit 2 on anything wrong."""
    from dataclasses import replace

    from sim.app import common

    _check_options(req)
    sets = common.settings(req.overrides, reps=req.reps)
    plan = _plan(req.target, sets, req.allow_outside_paths)
    try:
        folder = choose_folder(plan, out=req.out, resume=req.resume)
    except FileExistsError as exc:
        common.refuse(str(exc))
    options = {"reps": req.reps, "set": list(req.overrides or [])}
    if req.resume and folder.is_dir():
        plan = resume_plan(req.target, folder, plan, options)
    else:
        plan = replace(plan, options=options)
    return plan, folder


def sweep(req: SweepRequest) -> None:
    """Check everything, run the points not yet stored, write tables and report, print the table.

    Exit 1 when a point failed (the others are kept); Ctrl-C keeps the finished points and says
    how to resume.
    """
    from sim.app import common
    from sim.present.console import Progress
    from sim.run.workers import interrupt_exit_code

    plan, folder = _prepare(req)
    executor = _executor(req)
    workers = req.workers or (1 if req.scheduler else executor.workers)
    common.check_size(sweep_size(plan, workers), req.force)
    common.check_out(folder)
    claimed = common.claim(folder)
    common.note(
        f"{plan.name}: {len(plan.points)} points, models {', '.join(plan.points[0].models)}; "
        f"{executor.describe()}; folder {folder}"
    )
    resume_hint = f"complete the sweep with: sim sweep {req.target} --resume --out {folder}"
    try:
        with claimed, Progress(f"{plan.name}: points", every_pct=5) as progress:
            outcome = run_sweep(
                plan,
                folder,
                executor,
                batch=req.batch,
                progress=progress,
                command=req.command,
                on_skip=_skipped,
            )
    except KeyboardInterrupt as exc:
        raise common.CommandError(
            f"\ninterrupted: finished points are kept in {folder}\n{resume_hint}",
            interrupt_exit_code(exc),
        ) from None
    except ExecutorError as exc:
        raise common.CommandError(f"error: {exc}", common.EXIT_FAILED) from None
    except OSError as exc:
        common.write_failed(
            f"cannot write {folder}: {exc.strerror or exc}; the finished points are kept there; "
            + resume_hint
        )
    _write_report(req, folder)
    _print_outcome(req, folder, outcome)


def _skipped(n: int) -> None:
    from sim.app import common

    common.note(f"resuming: {n} points already done, kept")


def _write_report(req: SweepRequest, folder: Path) -> None:
    """The sweep's report.html (unless --no-report); a write error ends the command, exit 1."""
    from sim.app import common

    if not req.report:
        return
    from sim.present.sweep_report import write_sweep_report

    try:
        write_sweep_report(folder, lang=req.lang, metric=req.metric)
    except OSError as exc:
        common.write_failed(f"cannot write {folder / 'report.html'}: {exc.strerror or exc}")


def _print_outcome(req: SweepRequest, folder: Path, outcome: SweepOutcome) -> None:
    """The sweep table and the count of points on the terminal; exit 1 if a point failed."""
    import sys

    from rich.console import Console

    from sim.app import common

    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(sweep_table(folder, req.metric))
    console.print(
        f"Points: {outcome.counts['ok']} ok, {outcome.counts['failed']} failed "
        f"({outcome.ran} run, {outcome.skipped} kept); {outcome.wall_seconds:.1f} s"
    )
    for point, error in outcome.failed:
        console.print(f"  point {point.index} ({point.label()}) failed: {error}")
    console.print(f"Results: {folder}")
    if req.report:
        console.print(f"Report:  {folder / 'report.html'}")
    if outcome.counts["failed"]:
        raise common.CommandError(None, common.EXIT_FAILED)
