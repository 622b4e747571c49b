"""``sim uncertainty``: the answer under uncertain assumptions, and where it flips (issue 12).

The use case: the scenario's uncertain inputs (``sim.model.provenance``) give a design of parameter
sets (``sim.run.uncertainty``: base, a Latin hypercube or Sobol sample, each input's low and high);
every set runs every model on the same citizens on the sweep's executors; each set is stored as
it finishes (``sim.store.uncertainty_folder``), so ``--resume DIR`` runs only what is missing.
Then noise-aware threshold searches (``sim.run.uncertainty_stats.find_threshold``) run a few more
sets for the inputs that move the difference most, and the tables, the analysis and the report are
written from the stored sets, in set order: the same bytes whatever ran them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.run.sweep import (
    BatchResult,
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    as_result,
    auto_batch,
    run_batch,
)
from sim.run.uncertainty import METHODS, ParameterSet, design_sets, set_tasks
from sim.store.uncertainty_folder import (
    MANIFEST,
    StoredSet,
    assemble_tables,
    open_folder,
    read_sets,
    write_set,
)

if TYPE_CHECKING:
    from sim.model.provenance import Provenance
    from sim.model.scenario import Scenario

__all__ = ["UncertaintyPlan", "UncertaintyRequest", "plan_uncertainty", "run_uncertainty"]

METRIC = "helped_per_year"
"""The figure the answer is about: citizens helped per year (each model minus the baseline)."""
TOP_THRESHOLDS = 3
"""Threshold searches run for this many inputs, those with the widest one-way swing."""
MAX_SEARCH_EVALS = 8
"""Values of one input a threshold search may run (its low and high sets included)."""


@dataclass(frozen=True)
class UncertaintyRequest:
    """The options of ``sim uncertainty``, as given on the command line."""

    target: Path
    n: int = 64
    reps: int = 10
    method: str = "lhs"
    threshold: float = 0.0
    jobs: int | None = None
    dask: bool = False
    resume: Path | None = None
    out: Path | None = None
    lang: str = "en"
    report: bool = True
    png: bool = False
    overrides: list[str] | None = None
    batch: int | None = None
    allow_outside_paths: bool = False
    command: Sequence[str] = ()


@dataclass
class UncertaintyPlan:
    """What a run does: the scenario, its uncertain inputs and the design's sets."""

    scenario: Scenario
    inputs: list[Provenance]
    sets: list[ParameterSet]
    models: tuple[str, ...]
    reps: int
    method: str
    n: int
    threshold: float
    base_dir: str
    identity: str = ""


def plan_uncertainty(
    scenario: Scenario,
    *,
    n: int,
    reps: int,
    method: str = "lhs",
    threshold: float = 0.0,
    base_dir: Path = Path("."),
    inputs: Sequence[Provenance] | None = None,
) -> UncertaintyPlan:
    """The plan of a run over ``inputs`` (default: every uncertain input of the scenario and its
    presets); ``identity`` hashes everything that decides its numbers (``--resume`` refuses a
    folder made with another)."""
    from sim.model.provenance import uncertain_inputs

    inputs = list(inputs) if inputs is not None else uncertain_inputs(scenario)
    sets = design_sets(inputs, n, method, scenario.experiment.seed)
    models = tuple(scenario.compare)
    plan = UncertaintyPlan(
        scenario, inputs, sets, models, reps, method, n, threshold, str(base_dir)
    )
    key = {
        "scenario": scenario.model_dump(mode="json", by_alias=True, exclude={"provenance"}),
        "inputs": [_input_entry(p) for p in inputs],
        "sets": [[s.role, s.input, s.values] for s in sets],
        "reps": reps,
        "threshold": threshold,
    }
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    plan.identity = hashlib.sha256(text.encode()).hexdigest()[:16]
    return plan


def _input_entry(p: Provenance) -> dict[str, Any]:
    r = p.uncertain
    rng = None if r is None else {"kind": r.kind, "low": r.low, "mode": r.mode, "high": r.high}
    return {
        "path": p.path,
        "base": p.value,
        "range": rng,
        "source": p.source,
        "assumption": p.assumption,
        "origin": p.origin,
    }


# --------------------------------------------------------------------------- running sets


@dataclass
class _Runner:
    """Runs sets on an executor and stores each as soon as all its batches are back."""

    plan: UncertaintyPlan
    folder: Path
    executor: Executor
    batch: int
    stored: dict[int, StoredSet]
    progress: Callable[[int, int], None] | None = None
    done: int = 0
    total: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)

    def run(self, sets: Sequence[ParameterSet]) -> None:
        p = self.plan
        tasks = [
            t
            for s in sets
            for t in set_tasks(p.scenario, s, p.models, p.reps, self.batch, p.base_dir)
        ]
        by_id = {s.set_id: s for s in sets}
        expected = {s.set_id: 0 for s in sets}
        for t in tasks:
            expected[t.key] += 1
        got: dict[int, list[BatchResult[int]]] = {i: [] for i in by_id}
        for i, out in self.executor.imap_unordered(run_batch, tasks) if tasks else ():
            sid = tasks[i].key
            got[sid].append(as_result(sid, out))
            if len(got[sid]) == expected[sid]:
                self._store(by_id[sid], got.pop(sid))

    def _store(self, s: ParameterSet, results: list[BatchResult[int]]) -> None:
        errors = sorted(r.error or "" for r in results if r.error is not None)
        order = {m: i for i, m in enumerate(self.plan.models)}
        rows = sorted((row for r in results for row in r.rows), key=lambda x: (x[0], order[x[1]]))
        error = errors[0] if errors else None
        spent = (sum(r.seconds for r in results), sum(r.cpu_seconds for r in results))
        kept = [] if error else rows
        write_set(self.folder, s.set_id, s.role, s.input, s.values, kept, error, spent)
        self.stored[s.set_id] = StoredSet(s.set_id, s.role, s.input, s.values, rows, error)
        if error:
            self.failed.append((s.set_id, error))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))


def _diffs(s: StoredSet, model: str, baseline: str) -> np.ndarray:
    """The set's paired differences model - baseline of METRIC, in replication order."""
    by = {(r, m): v[METRIC] for r, m, v in s.rows}
    reps = sorted({r for r, _, _ in s.rows})
    return np.array([by[(r, model)] - by[(r, baseline)] for r in reps], dtype=float)


# --------------------------------------------------------------------------- thresholds


def _top_inputs(runner: _Runner, model: str, baseline: str) -> list[Provenance]:
    """The inputs with the widest one-way swing of the mean difference (their low and high ran)."""
    ends: dict[str, dict[str, float]] = {}
    for s in runner.stored.values():
        if s.role in ("low", "high") and s.error is None:
            ends.setdefault(s.input, {})[s.role] = float(np.mean(_diffs(s, model, baseline)))
    swing = {k: abs(v["high"] - v["low"]) for k, v in ends.items() if len(v) == 2}
    ranked = sorted(runner.plan.inputs, key=lambda p: -swing.get(p.path, -1.0))
    return [p for p in ranked if swing.get(p.path, 0.0) > 0][:TOP_THRESHOLDS]


def _search(runner: _Runner, p: Provenance, model: str, baseline: str) -> None:
    """A noise-aware threshold search along one input; each value it asks for is a set (role
    ``threshold``), reused when the folder has it already (``--resume``) or when it is the
    input's low or high set."""
    from sim.run.uncertainty_stats import find_threshold

    assert p.uncertain is not None
    base = {q.path: q.value for q in runner.plan.inputs}

    def evaluate(x: float) -> np.ndarray:
        for s in sorted(runner.stored.values(), key=lambda s: s.set_id):
            same = s.input == p.path and s.role in ("low", "high", "threshold")
            if same and s.values[p.path] == x and s.error is None:
                return _diffs(s, model, baseline)
        sid = max(runner.stored, default=-1) + 1
        runner.total += 1
        runner.run([ParameterSet(sid, "threshold", p.path, {**base, p.path: float(x)})])
        found = runner.stored[sid]
        if found.error is not None:
            raise RuntimeError(found.error)
        return _diffs(found, model, baseline)

    rng = np.random.default_rng(runner.plan.scenario.experiment.seed)
    r = p.uncertain
    find_threshold(
        evaluate, r.low, r.high, p.value, name=p.path, max_evals=MAX_SEARCH_EVALS, rng=rng
    )


def _thresholds(runner: _Runner) -> None:
    """Threshold searches for the top inputs, against the first model other than the baseline
    (named in the manifest's ``threshold_inputs``: a search whose ends keep one sign runs no set
    of its own, and its answer is "never within the range")."""
    models = runner.plan.models
    if len(models) < 2:
        return
    top = _top_inputs(runner, models[1], models[0])
    runner.searched = [p.path for p in top]
    for p in top:
        try:
            _search(runner, p, models[1], models[0])
        except RuntimeError as exc:  # a set failed: recorded; the other searches go on
            runner.failed.append((-1, f"threshold search of {p.path}: {exc}"))


# --------------------------------------------------------------------------- the run


@dataclass
class UncertaintyOutcome:
    """What a run did: its folder, the sets it ran and kept, and those that failed."""

    folder: Path
    ran: int
    kept: int
    failed: list[tuple[int, str]]
    wall_seconds: float


def _manifest(
    plan: UncertaintyPlan,
    folder: Path,
    status: str,
    wall: float,
    how: dict[str, Any],
    stored: dict[int, StoredSet],
    searched: Sequence[str] = (),
) -> None:
    """Write ``uncertainty.json``: the common manifest fields plus the design, the inputs with
    their sources and ranges, and ``how`` (command, start time, executor)."""
    from sim.store.integrity import table_checksums
    from sim.store.manifest import build_manifest
    from sim.store.results import write_text_atomic
    from sim.store.uncertainty_folder import TABLES

    sets = stored
    extra = {
        "status": status,
        "identity": plan.identity,
        "inputs": [_input_entry(p) for p in plan.inputs],
        "method": plan.method,
        "n": plan.n,
        "replications": plan.reps,
        "threshold": plan.threshold,
        "threshold_metric": METRIC,
        "threshold_inputs": list(searched),
        "baseline": plan.models[0],
        "models": list(plan.models),
        "sets": len(sets),
        "failed_sets": sorted(i for i, s in sets.items() if s.error is not None),
        "stream_key": "the scenario's own (as `sim run`), the same for every set",
        "executor": how["executor"],
        **({"checksums": table_checksums(folder, TABLES)} if status == "complete" else {}),
    }
    meta = build_manifest(
        "uncertainty",
        plan.scenario,
        run_id=folder.name,
        command=how["command"],
        wall_seconds=wall,
        jobs=None,
        models=plan.models,
        created=how["started"],
        extra=extra,
    )
    text = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_text_atomic(folder / MANIFEST, text)


def run_uncertainty(
    plan: UncertaintyPlan,
    folder: Path,
    executor: Executor,
    *,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] = (),
) -> UncertaintyOutcome:
    """Run every set of ``plan`` not stored in ``folder`` yet, then the threshold searches, then
    write ``design.csv`` and ``replications.csv``. ``executor`` must not be entered yet. On
    Ctrl-C the folder keeps every finished set and the manifest says 'interrupted'."""
    start = time.perf_counter()
    started = dt.datetime.now().isoformat(timespec="seconds")
    describe = getattr(executor, "describe", lambda: type(executor).__name__)
    stored = {i: s for i, s in read_sets(folder).items() if s.error is None}
    todo = [s for s in plan.sets if s.set_id not in stored]
    kept = len(plan.sets) - len(todo)
    with executor:
        open_folder(folder)
        for name in ("design.csv", "replications.csv"):  # tables only for a complete run
            (folder / name).unlink(missing_ok=True)
        size = batch or auto_batch(plan.reps, max(len(todo), 1), executor.workers)
        runner = _Runner(plan, folder, executor, size, stored, progress, total=len(todo))
        how = {"command": command, "started": started, "executor": describe()}
        _manifest(plan, folder, "running", 0.0, how, stored)
        try:
            if progress is not None and todo:
                progress(0, len(todo))
            runner.run(todo)
            runner.batch = batch or auto_batch(plan.reps, 1, executor.workers)
            _thresholds(runner)
            assemble_tables(folder, runner.stored, [p.path for p in plan.inputs], plan.models)
        except BaseException:
            wall = time.perf_counter() - start
            _manifest(plan, folder, "interrupted", wall, how, stored, runner.searched)
            raise
    wall = time.perf_counter() - start
    _manifest(plan, folder, "complete", wall, how, runner.stored, runner.searched)
    return UncertaintyOutcome(folder, runner.done, kept, runner.failed, wall)


# --------------------------------------------------------------------------- the command


def _check_options(req: UncertaintyRequest) -> None:
    """Exit 2 on options that name nothing known or cannot go together."""
    from sim.app import common

    common.check_lang(req.lang)
    if req.method not in METHODS:
        common.refuse(f"--method must be one of {', '.join(METHODS)}, found '{req.method}'")
    if req.resume is not None and req.out is not None:
        common.refuse("give --resume DIR or --out DIR, not both")
    if req.png:
        common.check_png()


def _folder(req: UncertaintyRequest, plan: UncertaintyPlan) -> Path:
    """The folder to write: --resume DIR (made with the same plan), --out, or a new one."""
    from sim.app import common

    if req.resume is None:
        return common.new_dir(plan.scenario.name, "uncertainty", req.out)
    meta_path = req.resume / MANIFEST
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        common.refuse(f"--resume: {req.resume} is not an uncertainty folder (no {MANIFEST})")
    if not isinstance(meta, dict) or meta.get("identity") != plan.identity:
        common.refuse(
            f"--resume: {req.resume} was made with another scenario, design or options "
            f"(--n, --reps, --method, --threshold, --set); give the same ones, or leave out "
            "--resume to start a new run"
        )
    return req.resume


def _prepare(req: UncertaintyRequest) -> tuple[UncertaintyPlan, Path]:
    """The plan and its folder; exit 2 on anything wrong, before any work."""
    from sim.app import common

    _check_options(req)
    scenario = common.load(req.target, req.overrides, req.allow_outside_paths)
    plan = plan_uncertainty(
        scenario,
        n=req.n,
        reps=req.reps,
        method=req.method,
        threshold=req.threshold,
        base_dir=req.target.parent,
    )
    if not plan.inputs:
        common.refuse(
            f"{req.target}: no uncertain inputs; give ranges under `provenance:` "
            "(e.g. uncertain: {kind: uniform, low: 2.5, high: 3.5}) or compare a preset model"
        )
    folder = _folder(req, plan)
    common.check_out(folder)
    return plan, folder


def _executor(req: UncertaintyRequest) -> DaskExecutor | LocalExecutor:
    from sim.app import common

    if req.dask:
        return DaskExecutor(workers=common.default_jobs(req.jobs))
    return LocalExecutor(common.default_jobs(req.jobs))


def uncertainty(req: UncertaintyRequest) -> UncertaintyOutcome:
    """Check everything, run the sets not yet stored, write tables, analysis and report.

    Exit 1 when a set failed (the others are kept); Ctrl-C or SIGTERM keeps the finished sets
    and says how to resume."""
    from sim.app import common
    from sim.present.console import Progress
    from sim.run.workers import interrupt_exit_code

    plan, folder = _prepare(req)
    executor = _executor(req)
    claimed = common.claim(folder)
    common.note(
        f"{plan.scenario.name}: {len(plan.inputs)} uncertain inputs, {len(plan.sets)} sets "
        f"({plan.n} {plan.method} samples) x {plan.reps} replications x {len(plan.models)} "
        f"models; {executor.describe()}; folder {folder}"
    )
    hint = f"complete it with: {_resume_command(req, folder)}"
    kept = sum(s.error is None for s in read_sets(folder).values()) if req.resume else 0
    if kept:
        common.note(f"resuming: {kept} sets already done, kept")
    try:
        with claimed, Progress(f"{plan.scenario.name}: sets", every_pct=5) as progress:
            outcome = run_uncertainty(
                plan, folder, executor, batch=req.batch, progress=progress, command=req.command
            )
            _analyse(req, folder)
    except KeyboardInterrupt as exc:
        raise common.CommandError(
            f"\ninterrupted: finished sets are kept in {folder}\n{hint}", interrupt_exit_code(exc)
        ) from None
    except ExecutorError as exc:
        raise common.CommandError(f"error: {exc}", common.EXIT_FAILED) from None
    except OSError as exc:
        common.write_failed(f"cannot write {folder}: {exc.strerror or exc}; {hint}")
    _print_outcome(req, plan, outcome)
    return outcome


def _resume_command(req: UncertaintyRequest, folder: Path) -> str:
    """The command that completes the run in ``folder``: the options that decide its sets."""
    import shlex

    args = ["sim", "uncertainty", str(req.target), "--n", str(req.n), "--reps", str(req.reps)]
    args += ["--method", req.method, "--threshold", f"{req.threshold:g}"]
    for s in req.overrides or []:
        args += ["--set", str(s)]
    return shlex.join([*args, "--resume", str(folder)])


def _analyse(req: UncertaintyRequest, folder: Path) -> None:
    """The analysis tables (u2-analysis) and, unless --no-report, the report."""
    from sim.store.uncertainty_tables import write_analysis

    write_analysis(folder)
    if req.report:
        from sim.present.uncertainty_report import write_uncertainty_report

        write_uncertainty_report(folder, req.lang, req.png)


def _print_outcome(req: UncertaintyRequest, plan: UncertaintyPlan, out: UncertaintyOutcome) -> None:
    """The probability lines and the counts of sets on the terminal; exit 1 if a set failed."""
    import polars as pl
    from rich.console import Console

    from sim.app import common

    console = Console()
    prob = out.folder / "probability.csv"
    if prob.is_file():
        for r in pl.read_csv(prob).iter_rows(named=True):
            console.print(
                f"P({r['model']} - {r['baseline']} > {r['threshold']:g} {r['unit']}) = "
                f"{r['probability']:.2f} [{r['probability_low']:.2f}, {r['probability_high']:.2f}]"
            )
    sets = out.ran + out.kept
    console.print(
        f"Sets: {sets} ({out.ran} run, {out.kept} kept, {len(out.failed)} failed); "
        f"{out.wall_seconds:.1f} s, {out.ran / max(out.wall_seconds, 1e-9):.2f} sets/s"
    )
    for sid, error in out.failed:
        console.print(f"  set {sid} failed: {error}" if sid >= 0 else f"  {error}")
    console.print(f"Results: {out.folder}")
    if req.report:
        console.print(f"Report:  {out.folder / f'report.{req.lang}.html'}")
    if out.failed:
        raise common.CommandError(None, common.EXIT_FAILED)
