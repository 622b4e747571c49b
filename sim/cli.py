"""The ``sim`` command line.

Only typer is imported at module level: ``sim --help`` must stay fast (~0.2 s). Everything heavier
(pydantic, the scenario schema, numpy, simpy, plotly) is imported inside the command that needs it.
A scenario that cannot be loaded is reported as ``file:line:col: key.path: message`` on stderr with
exit code 2, never as a traceback.
"""

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from sim import __version__

if TYPE_CHECKING:
    from contextlib import ExitStack

    from sim.app.sweep import SweepPlan
    from sim.config.loader import ScenarioError
    from sim.model.scenario import Scenario
    from sim.run.estimate import Estimate

EXIT_INVALID = 2
"""Exit code for a scenario that does not load (and for bad command-line input, as typer does)."""

app = typer.Typer(
    name="sim",
    help="Discrete-event simulation of classic versus joint visitation for Danish adult social "
    "support (Serviceloven § 85) under one fixed budget.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Simulate classic versus joint visitation for adult social support under one budget."""


def report_scenario_error(error: "ScenarioError") -> NoReturn:
    """Print a scenario error to stderr and exit with code 2."""
    typer.echo(error.format(), err=True)
    raise typer.Exit(EXIT_INVALID)


def load_or_exit(
    path: Path, overrides: list[str] | None = None, allow_outside_paths: bool = False
) -> "Scenario":
    """Load a scenario for a command; on any problem print it (no traceback) and exit 2."""
    from sim.config.loader import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides or (), allow_outside_paths=allow_outside_paths)
    except ScenarioError as error:
        report_scenario_error(error)


F = TypeVar("F", bound=Callable[..., Any])


def stops_cleanly(message: str) -> Callable[[F], F]:
    """For a command that runs simulations: SIGTERM is handled like Ctrl-C (the workers are
    stopped, temporary folders removed), then ``message`` is printed and the exit code is 130
    (Ctrl-C) or 143 (SIGTERM). A worker that died twice ends the command with one line, exit 1."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            from sim.run.workers import WorkerLost, interrupt_exit_code, sigterm_as_interrupt

            try:
                with sigterm_as_interrupt():
                    return fn(*args, **kwargs)
            except KeyboardInterrupt as exc:
                typer.echo(message, err=True)
                raise typer.Exit(interrupt_exit_code(exc)) from None
            except WorkerLost as exc:
                typer.echo(f"error: {exc}; nothing written", err=True)
                raise typer.Exit(1) from None

        return command  # type: ignore[return-value]

    return wrap


INTERRUPTED = "interrupted: nothing written"
"""What `run`, `explain` and `optimise` print when stopped: their folder is written only whole."""


SeedOption = Annotated[int | None, typer.Option("--seed", help="Master seed (overrides the file).")]
JobsOption = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Worker processes; default: all cores."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting: key.path=value (repeatable)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Report language: en or da.")]
OutsideOption = Annotated[
    bool,
    typer.Option(
        "--allow-outside-paths",
        help="Let a scenario read files (a referral CSV) outside its own folder.",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Run even when the estimated memory or work is above the limits "
        "(SIM_MAX_MEMORY_MB, SIM_MAX_WORK).",
    ),
]
"""Options shared by the simulation commands, declared once."""


def _settings(
    overrides: list[str] | None, *, reps: int | None = None, seed: int | None = None
) -> list[str]:
    """``--set`` overrides plus those that ``--reps`` and ``--seed`` stand for (each naming its
    option, so a problem with it is reported as ``--reps 0``, not as a ``--set``)."""
    from sim.config.loader import Override

    sets = list(overrides or [])
    if reps is not None:
        sets.append(Override(f"experiment.replications={reps}", f"--reps {reps}"))
    if seed is not None:
        sets.append(Override(f"experiment.seed={seed}", f"--seed {seed}"))
    return sets


# --------------------------------------------------------------------------- scenario files


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.")],
    allow_outside_paths: OutsideOption = False,
) -> None:
    """Check scenario files; print every problem with its file, line and column.

    Exit code 0 when all are valid, 2 when any is not.
    """
    from sim.config.loader import ScenarioError, load_scenario

    invalid = 0
    for path in files:
        try:
            scenario = load_scenario(path, allow_outside_paths=allow_outside_paths)
        except ScenarioError as error:
            invalid += 1
            typer.echo(error.format(), err=True)
            continue
        names = list(dict.fromkeys(["classic", "joint", *scenario.models]))
        typer.echo(
            f"ok: {path} ({len(names)} models: {', '.join(names)}; "
            f"compare: {', '.join(scenario.compare)})"
        )
    if invalid:
        if len(files) > 1:
            typer.echo(f"{invalid} of {len(files)} files invalid", err=True)
        raise typer.Exit(EXIT_INVALID)


@app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editors and other tools)."""
    import json

    from sim.model.scenario import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {out}", err=True)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter scenario.")] = Path(
        "scenario.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter scenario to edit for your municipality."""
    from importlib.resources import files

    if path.exists() and not force:
        typer.echo(f"error: {path} already exists; use --force to overwrite it", err=True)
        raise typer.Exit(1)
    template = files("sim").joinpath("templates", "starter.yaml").read_text(encoding="utf-8")
    try:
        path.write_text(template, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {path}; check it with: sim validate {path}")


# --------------------------------------------------------------------------- simulation commands
#
# `run`, `report`, `compare`, `sweep`, `explain` and `optimise` are added here (by the engine and
# report work). Conventions for them:
#   - import numpy/simpy/plotly/polars inside the command function, never at module level;
#   - load scenarios with `load_or_exit(path, overrides)`; a `--set key.path=value` option is a
#     `list[str]` passed as `overrides` (see sim.config.loader.apply_overrides);
#   - exit code 2 for invalid input, 1 for other failures.


@app.command()
@stops_cleanly(INTERRUPTED)
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    reps: Annotated[
        int | None, typer.Option("--reps", help="Replications (overrides the file).")
    ] = None,
    seed: SeedOption = None,
    jobs: JobsOption = None,
    models: Annotated[
        str | None,
        typer.Option("--models", help="Models to compare, baseline first, e.g. classic,joint."),
    ] = None,
    overrides: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<scenario>/<run-id>)."),
    ] = None,
    events: Annotated[
        bool, typer.Option("--events", help="Also write the per-citizen event log.")
    ] = False,
    events_format: Annotated[str, typer.Option("--events-format", help="csv or parquet.")] = "csv",
    events_start: Annotated[
        str,
        typer.Option(
            "--events-start", help="Calendar date of day 0 for the event log's timestamps."
        ),
    ] = "2026-01-01",
    lang: LangOption = "en",
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    png: Annotated[
        bool,
        typer.Option(
            "--png",
            help="Also write each figure as PNG (needs the images extra: kaleido and chromium).",
        ),
    ] = False,
    pairs: Annotated[
        str | None,
        typer.Option(
            "--pairs",
            help="Differences to report as model:baseline pairs, e.g. joint:classic,hybrid:joint "
            "(default: each model minus the first).",
        ),
    ] = None,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """Run both models on the same citizens, print the tables, write the results folder."""
    from sim.config.loader import Override

    sets = _settings(overrides, reps=reps, seed=seed)
    if models is not None:
        sets.append(Override(f"compare=[{models}]", f"--models {models}"))
    if events_format not in ("csv", "parquet"):
        typer.echo("error: --events-format must be csv or parquet", err=True)
        raise typer.Exit(EXIT_INVALID)
    day0 = _parse_date("--events-start", events_start)
    _check_lang(lang)
    sc = load_or_exit(scenario, sets, allow_outside_paths)
    if png and report:
        _check_png()
    pair_list = _parse_pairs(pairs, sc.compare) if pairs else None
    if out is not None and out.exists():
        typer.echo(f"error: {out} already exists; choose another --out", err=True)
        raise typer.Exit(EXIT_INVALID)

    from rich.console import Console

    from sim.config.loader import dump_resolved
    from sim.present.console import Progress, print_result
    from sim.run.estimate import estimate_scenario
    from sim.run.experiment import default_jobs
    from sim.store.output import OutputError
    from sim.store.results import new_run_dir, run_to_folder

    n_jobs = jobs if jobs is not None else default_jobs()
    base_dir = scenario.resolve().parent
    size = estimate_scenario(sc, jobs=n_jobs, events=events, base_dir=base_dir)
    _check_size(size, force)
    folder = out if out is not None else new_run_dir(Path("results"), sc.name)
    _check_out(folder)
    writers = []
    if report:
        writers.append(_report_writer(lang, png))
    with _claim_or_exit(folder), Progress(f"{sc.name}: replications") as progress:
        if folder.exists():  # another command wrote it since the check above
            typer.echo(f"error: {folder} already exists; choose another --out", err=True)
            raise typer.Exit(EXIT_INVALID)
        try:
            folder, result = run_to_folder(
                sc,
                resolved_yaml=dump_resolved(sc.with_presets_spelled_out()),
                out=folder,
                jobs=n_jobs,
                command=["sim", *sys.argv[1:]],
                base_dir=base_dir,
                events_start=day0,
                events_format=events_format if events else None,
                writers=writers,
                pairs=pair_list,
                progress=progress,
            )
        except OutputError as exc:
            _write_failed(exc)
    console = Console(width=None if sys.stdout.isatty() else 120)
    print_result(result, console, lang)
    console.print(f"Results: {folder}")
    if report:
        console.print(f"Report:  {folder / 'report.html'}")


def _parse_date(option: str, text: str) -> dt.date:
    """A YYYY-MM-DD date (else exit 2, naming the option)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: {option}: expected a date YYYY-MM-DD, found '{text}'", err=True)
        raise typer.Exit(EXIT_INVALID) from None


def _parse_pairs(text: str, models: list[str]) -> list[tuple[str, str]]:
    """``a:b,c:d`` as [(a, b), (c, d)], each name one of the models being run (else exit 2)."""
    out = []
    for item in text.split(","):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 2 or not all(parts):
            typer.echo(f"error: --pairs: expected model:baseline, found '{item}'", err=True)
            raise typer.Exit(EXIT_INVALID)
        for name in parts:
            if name not in models:
                typer.echo(
                    f"error: --pairs: '{name}' is not among the models run "
                    f"({', '.join(models)}); add it with --models",
                    err=True,
                )
                raise typer.Exit(EXIT_INVALID)
        out.append((parts[0], parts[1]))
    return out


def _report_writer(lang: str, png: bool = False):  # type: ignore[no-untyped-def]
    """A writer that adds report.html (and with ``png`` the figures as PNG) to a results folder."""

    def write(folder: Path) -> None:
        from sim.present.report import write_report

        write_report(folder, lang=lang, png=png)

    return write


def _check_lang(lang: str) -> None:
    if lang not in ("en", "da"):
        typer.echo(f"error: --lang must be en or da, found '{lang}'", err=True)
        raise typer.Exit(EXIT_INVALID)


def _check_png() -> None:
    """Fail before any work when PNG export cannot run (no kaleido or no browser)."""
    from sim.present.report import ImageExportError, ensure_image_export

    try:
        ensure_image_export()
    except ImageExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


RUN_TABLES = ("summary.csv", "differences.csv", "replications.csv")
"""The tables `sim report` and `sim compare` read from a run's folder."""


def _results_dir_or_exit(path: Path) -> Path:
    """A run's results folder, whole and unchanged since the run (checksums), else exit 2."""
    from sim.store.integrity import DamagedFolder, verify_folder

    if not (path / "summary.csv").is_file() and not (path / "manifest.json").is_file():
        typer.echo(
            f"error: {path} is not a results folder of `sim run` (expected {path / 'summary.csv'})",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    try:
        meta, note = verify_folder(path)
        kind = meta.get("kind")
        if kind in ("sweep", "explain", "optimise"):
            raise DamagedFolder(
                f"{path} is a {kind} folder, not a results folder of `sim run`; "
                f"its report is written by `sim {kind}`"
            )
        meta, note = verify_folder(path, RUN_TABLES)
    except DamagedFolder as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    if note:
        typer.echo(note, err=True)
    return path


def _check_size(estimate: "Estimate", force: bool) -> None:
    """Exit 2 before any work when the estimated run is above the limits (unless ``force``)."""
    from sim.run.estimate import default_limits, refusal

    reason = refusal(estimate, default_limits())
    if reason is None:
        return
    if force:
        typer.echo(f"note: {reason.split(';')[0]}; running it anyway (--force)", err=True)
        return
    typer.echo(f"error: {reason}", err=True)
    raise typer.Exit(EXIT_INVALID)


def _check_out(path: Path, *, file: bool = False) -> None:
    """Exit 2 before any work when ``path`` cannot be written (a file on the way, read-only)."""
    from sim.store.output import OutputError, check_output_place

    try:
        check_output_place(path, file=file)
    except OutputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


def _claim_or_exit(folder: Path) -> "ExitStack":
    """Hold the lock of ``folder`` (released when the returned stack closes, or at the latest when
    the process exits); exit 2 when another command is writing it."""
    import atexit
    from contextlib import ExitStack

    from sim.store.output import OutputError, claim

    stack = ExitStack()
    try:
        stack.enter_context(claim(folder))
    except OutputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    atexit.register(stack.close)
    return stack


def _write_failed(exc: Exception | str) -> NoReturn:
    """A write error after the work: one line (naming the rescue folder, if any), exit 1."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1) from None


@app.command()
def report(
    results_dir: Annotated[
        Path,
        typer.Argument(help="A results folder of `sim run`, `sweep`, `explain` or `optimise`."),
    ],
    lang: LangOption = "en",
    png: Annotated[
        bool,
        typer.Option(
            "--png",
            help="Also write each figure as PNG (needs the images extra: kaleido and chromium).",
        ),
    ] = False,
) -> None:
    """Rebuild the report of a results folder of any kind from its files, as report.<lang>.html
    (the command's own report.html, and other languages' reports, are left as they are)."""
    _check_lang(lang)
    from sim.present.rebuild import rebuild_report, report_name
    from sim.store.integrity import DamagedFolder
    from sim.store.reader import check_folder

    out = results_dir / report_name(lang)
    try:
        _, _, note = check_folder(results_dir)
    except DamagedFolder as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    if note:
        typer.echo(note, err=True)
    _check_out(out, file=True)
    if png:
        _check_png()
    try:
        path = rebuild_report(results_dir, lang=lang, png=png)
    except OSError as exc:
        _write_failed(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"Report: {path}")
    if png:
        typer.echo(f"Figures: {results_dir / 'figures'}")


@app.command()
def compare(
    results_dirs: Annotated[
        list[Path], typer.Argument(help="Two or more results folders to put side by side.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The report file to write.")] = Path(
        "compare.html"
    ),
    lang: LangOption = "en",
) -> None:
    """One report with several runs side by side (e.g. two budgets, or before and after)."""
    _check_lang(lang)
    _check_out(out, file=True)
    for d in results_dirs:
        _results_dir_or_exit(d)
    from sim.present.report import write_compare_report

    try:
        path = write_compare_report(list(results_dirs), out, lang=lang)
    except OSError as exc:
        out.unlink(missing_ok=True)  # a half-written page is worse than none
        _write_failed(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"Report: {path}")


EXIT_INTERRUPTED = 130
"""Exit code of a sweep stopped with Ctrl-C (its folder is consistent; --resume completes it);
143 after SIGTERM (see ``stops_cleanly``)."""


@app.command()
@stops_cleanly("interrupted")
def sweep(
    target: Annotated[
        Path,
        typer.Argument(help="Scenario file with a sweep: section, or a folder of scenario files."),
    ],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Local worker processes; default: all cores."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run on a Dask cluster: the scheduler's address, e.g. tcp://10.0.0.5:8786 "
            "(needs the dask extra, and sim installed on every worker).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Run on a local Dask cluster of N worker processes."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Complete an interrupted sweep: keep the points already in the folder (--out, "
            "else the newest results/<sweep>/ folder) and run the rest.",
        ),
    ] = False,
    reps: Annotated[
        int | None,
        typer.Option("--reps", min=2, help="Replications per point (overrides the files)."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a setting in every file: key.path=value."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Sweep folder (default results/<sweep>/<run-id>)."),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help="Replications per task; default: whole points when there are enough of them.",
        ),
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="Metric of the printed table and the report.")
    ] = "helped_per_year",
    lang: LangOption = "en",
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """Run every point of a sweep (local processes or a Dask cluster); write tables and report.

    Everything is checked before anything runs. Each point is stored as it finishes, so Ctrl-C
    loses at most the running points and --resume completes the sweep. The tables are the same,
    byte for byte, whatever ran them.
    """
    if lang not in ("en", "da"):
        typer.echo("error: --lang must be en or da", err=True)
        raise typer.Exit(EXIT_INVALID)
    if scheduler is not None and workers is not None:
        typer.echo("error: give --scheduler or --workers, not both", err=True)
        raise typer.Exit(EXIT_INVALID)
    from sim.present import i18n

    if not i18n.has(f"metric.{metric}"):
        typer.echo(f"error: --metric: unknown metric '{metric}'", err=True)
        raise typer.Exit(EXIT_INVALID)
    sets = _settings(overrides, reps=reps)

    from dataclasses import replace

    from rich.console import Console

    from sim.app.sweep import (
        DaskExecutor,
        ExecutorError,
        LocalExecutor,
        choose_folder,
        plan_sweep,
        run_sweep,
        sweep_table,
    )
    from sim.config.loader import ScenarioError
    from sim.present.console import Progress
    from sim.run.experiment import default_jobs

    try:
        plan = plan_sweep(target, sets, allow_outside_paths=allow_outside_paths)
    except ScenarioError as error:
        report_scenario_error(error)
    try:
        folder = choose_folder(plan, out=out, resume=resume)
    except FileExistsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    options = {"reps": reps, "set": list(overrides or [])}
    if resume and folder.is_dir():
        plan = _resume_plan(target, folder, plan, options)
    else:
        plan = replace(plan, options=options)
    if scheduler is not None:
        executor: DaskExecutor | LocalExecutor = DaskExecutor(address=scheduler)
    elif workers is not None:
        executor = DaskExecutor(workers=workers)
    else:
        executor = LocalExecutor(jobs if jobs is not None else default_jobs())
    _check_size(_sweep_size(plan, workers or (1 if scheduler else executor.workers)), force)
    _check_out(folder)
    claimed = _claim_or_exit(folder)
    typer.echo(
        f"{plan.name}: {len(plan.points)} points, models {', '.join(plan.points[0].models)}; "
        f"{executor.describe()}; folder {folder}",
        err=True,
    )

    def skipped(n: int) -> None:
        typer.echo(f"resuming: {n} points already done, kept", err=True)

    try:
        with claimed, Progress(f"{plan.name}: points", every_pct=5) as progress:
            outcome = run_sweep(
                plan,
                folder,
                executor,
                batch=batch,
                progress=progress,
                command=["sim", *sys.argv[1:]],
                on_skip=skipped,
            )
    except KeyboardInterrupt as exc:
        from sim.run.workers import interrupt_exit_code

        typer.echo(
            f"\ninterrupted: finished points are kept in {folder}\n"
            f"complete the sweep with: sim sweep {target} --resume --out {folder}",
            err=True,
        )
        raise typer.Exit(interrupt_exit_code(exc)) from None
    except ExecutorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        _write_failed(
            f"cannot write {folder}: {exc.strerror or exc}; the finished points are kept there; "
            f"complete the sweep with: sim sweep {target} --resume --out {folder}"
        )
    if report:
        from sim.present.sweep_report import write_sweep_report

        try:
            write_sweep_report(folder, lang=lang, metric=metric)
        except OSError as exc:
            _write_failed(f"cannot write {folder / 'report.html'}: {exc.strerror or exc}")
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(sweep_table(folder, metric))
    console.print(
        f"Points: {outcome.counts['ok']} ok, {outcome.counts['failed']} failed "
        f"({outcome.ran} run, {outcome.skipped} kept); {outcome.wall_seconds:.1f} s"
    )
    for point, error in outcome.failed:
        console.print(f"  point {point.index} ({point.label()}) failed: {error}")
    console.print(f"Results: {folder}")
    if report:
        console.print(f"Report:  {folder / 'report.html'}")
    if outcome.counts["failed"]:
        raise typer.Exit(1)


def _flags(options: dict[str, object]) -> str:
    """``--reps 3 --set a=1`` for stored sweep options (``no options`` when there are none)."""
    parts = [f"--reps {options['reps']}"] if options.get("reps") is not None else []
    parts += [f"--set {s}" for s in options.get("set") or []]  # type: ignore[attr-defined]
    return " ".join(parts) or "no options"


def _resume_plan(
    target: Path, folder: Path, plan: "SweepPlan", given: dict[str, object]
) -> "SweepPlan":
    """The plan that completes the sweep in ``folder``: made with the options stored there.

    Options given now that change the points are refused (exit 2), and so is a sweep whose
    scenario files changed since it started (its points would not be the stored ones).
    """
    from dataclasses import replace

    from sim.app.sweep import plan_sweep
    from sim.config.loader import ScenarioError
    from sim.store.integrity import DamagedFolder, read_manifest

    try:
        meta = read_manifest(folder)
    except DamagedFolder as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    stored = meta.get("options")
    if isinstance(stored, dict):
        sets = _settings(stored.get("set") or [], reps=stored.get("reps"))
        try:
            stored_plan = plan_sweep(target, sets)
        except ScenarioError as error:
            report_scenario_error(error)
        same = [p.point_id for p in stored_plan.points] == [p.point_id for p in plan.points]
        if _flags(given) != "no options" and not same:
            typer.echo(
                f"error: --resume: {_flags(given)} contradicts the sweep in {folder}, made with "
                f"{_flags(stored)}; resume without these options, or choose another --out",
                err=True,
            )
            raise typer.Exit(EXIT_INVALID)
        plan = replace(stored_plan, options=stored)
    ids = meta.get("point_ids")
    if isinstance(ids, list) and ids != [p.point_id for p in plan.points]:
        differ = len({p.point_id for p in plan.points} - set(ids))
        typer.echo(
            f"error: --resume: the scenario files or sim version changed since the sweep in "
            f"{folder} started ({differ} of {len(plan.points)} points differ); restore them, "
            "or choose another --out",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    return plan


def _sweep_size(plan: "SweepPlan", workers: int) -> "Estimate":
    """The estimated work and memory of every distinct point of a sweep, one after another."""
    from sim.run.estimate import combine, estimate_scenario

    return combine(
        [
            estimate_scenario(p.scenario, jobs=workers, base_dir=Path(p.base_dir))
            for p in plan.unique_points()
        ]
    )


def _write_or_exit(write, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """``write(folder)``; on a write error, into a rescue folder, then one line and exit 1."""
    from sim.store.output import OutputError, write_or_rescue

    try:
        write_or_rescue(write, folder)
    except OutputError as exc:
        _write_failed(exc)


def _explain_size(
    sc: "Scenario", a: str, b: str, shapley: bool, reps: int, jobs: int, path: Path
) -> "Estimate":
    """Estimated size of a decomposition: one model per switch (2^n with exact Shapley values,
    at most 64 sampled orders x n beyond)."""
    from sim.run.estimate import estimate_scenario
    from sim.run.explain import MAX_EXACT_PLAYERS, differing, mechanism_settings

    n = len(differing(mechanism_settings(sc, a), mechanism_settings(sc, b)))
    models = n + 1
    if shapley:
        models = 2**n if n <= MAX_EXACT_PLAYERS else 64 * n + 1
    return estimate_scenario(
        sc, replications=reps, models=models, jobs=jobs, base_dir=path.resolve().parent
    )


def _optimise_size(sc: "Scenario", names: list[str], reps: int | None, confirm: int | None,
                   jobs: int, path: Path) -> "Estimate":  # fmt: skip
    """Estimated size of the optimiser's passes: coarse grid, fine grid around the best share,
    and the confirmation of the best few (plus the current split) with fresh citizens."""
    from sim.run.estimate import combine, estimate_scenario
    from sim.run.optimise import settings_of, share_grid

    st, _ = settings_of(sc)
    coarse = len(share_grid(st.min_authority_share, st.max_authority_share, st.coarse_step))
    fine = 2 * int(st.coarse_step / st.fine_step) + 1
    base = path.resolve().parent
    search = estimate_scenario(
        sc, replications=reps, models=len(names) * (coarse + fine), jobs=jobs, base_dir=base
    )
    check = estimate_scenario(
        sc,
        replications=confirm or st.confirm_replications,
        models=len(names) * (st.top_k + 1),
        jobs=jobs,
        base_dir=base,
    )
    return combine([search, check])


def _new_dir(scenario_name: str, kind: str, out: Path | None) -> Path:
    """``out``, or a fresh results/<scenario>/<kind>-<timestamp>; exit 2 if ``out`` exists."""
    from sim.store.results import new_run_dir

    if out is not None:
        if out.exists():
            typer.echo(f"error: {out} already exists; choose another --out", err=True)
            raise typer.Exit(EXIT_INVALID)
        return out
    stamp = new_run_dir(Path("results"), scenario_name)
    path, i = stamp.with_name(f"{kind}-{stamp.name}"), 2
    while path.exists():
        path = stamp.with_name(f"{kind}-{stamp.name}-{i}")
        i += 1
    return path


def _check_model(sc: "Scenario", option: str, name: str) -> None:
    from sim.model.scenario import PRESETS

    known = sorted(set(PRESETS) | set(sc.models))
    if name not in known:
        typer.echo(
            f"error: {option}: unknown model '{name}'; expected one of: {', '.join(known)}",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)


@app.command()
@stops_cleanly(INTERRUPTED)
def explain(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    from_model: Annotated[
        str, typer.Option("--from", help="The model to start from (its settings switched off).")
    ] = "classic",
    to_model: Annotated[
        str, typer.Option("--to", help="The model whose settings are switched on.")
    ] = "joint",
    order: Annotated[
        str | None,
        typer.Option(
            "--order",
            help="Order of the switches, comma-separated (a+b switches a and b together); "
            "unlisted mechanisms follow in the order of docs/model.md §6. Default: that order.",
        ),
    ] = None,
    shapley: Annotated[
        bool,
        typer.Option(
            "--shapley/--sequential",
            help="Shapley values, averaged over all orders (the default; 2^n models, exact up to "
            "8 differing mechanisms), or only the sequential order (--order), with each "
            "mechanism also switched first and last to show how much the order matters.",
        ),
    ] = True,
    reps: Annotated[
        int | None,
        typer.Option(
            "--reps", min=2, help="Replications (default: 10; the file's with --sequential)."
        ),
    ] = None,
    seed: SeedOption = None,
    jobs: JobsOption = None,
    overrides: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<scenario>/explain-<id>)."),
    ] = None,
    lang: LangOption = "en",
    png: Annotated[
        bool, typer.Option("--png", help="Also write the figures as PNG (needs kaleido).")
    ] = False,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """Which mechanism makes the difference: switch the mechanisms one at a time from one model's
    settings to the other's, on the same citizens, and report each one's contribution with a CI."""
    _check_lang(lang)
    sc = load_or_exit(scenario, _settings(overrides, seed=seed), allow_outside_paths)
    _check_model(sc, "--from", from_model)
    _check_model(sc, "--to", to_model)
    if from_model == to_model:
        typer.echo("error: --from and --to name the same model; expected two models", err=True)
        raise typer.Exit(EXIT_INVALID)
    from sim.run.explain import Player, complete_order, parse_order

    players: list[Player] | None = None
    if order is not None:
        try:
            players = complete_order(parse_order(order))
        except ValueError as exc:
            typer.echo(f"error: --order: {exc}", err=True)
            raise typer.Exit(EXIT_INVALID) from None
    if png:
        _check_png()
    folder = _new_dir(sc.name, "explain", out)

    import time

    from rich.console import Console

    from sim.config.loader import dump_resolved
    from sim.present.console import Progress
    from sim.present.explain_report import (
        explain_headline,
        explain_tables,
        run_manifest,
        write_explain,
    )
    from sim.run.experiment import default_jobs
    from sim.run.explain import explain as run_explain

    n_jobs = jobs if jobs is not None else default_jobs()
    n_reps = reps if reps is not None else (10 if shapley else sc.experiment.replications)
    size = _explain_size(sc, from_model, to_model, shapley, n_reps, n_jobs, scenario)
    _check_size(size, force)
    _check_out(folder)
    claimed = _claim_or_exit(folder)
    start = time.perf_counter()
    with Progress(f"{sc.name}: explain {from_model} -> {to_model}") as progress:
        res = run_explain(
            sc,
            from_model,
            to_model,
            order=players,
            shapley=shapley,
            replications=n_reps,
            jobs=n_jobs,
            base_dir=scenario.resolve().parent,
            progress=progress,
        )
    meta = run_manifest(
        sc,
        run_id=folder.name,
        command=["sim", *sys.argv[1:]],
        wall_seconds=time.perf_counter() - start,
        jobs=n_jobs,
        extra={
            "kind": "explain",
            "from": from_model,
            "to": to_model,
            "order": [p.name for p in res.players],
            "differing": res.active,
            "methods": res.methods(),
            "shapley_exact": res.shapley_exact if shapley else None,
            "order_range_basis": res.range_basis,
            "replications": res.replications,
            "models_simulated": len(res.hybrid_means),
            "staff_fte": list(sc.staffing_fte()),
        },
    )
    with claimed:
        _write_or_exit(
            lambda f: write_explain(
                f, res, resolved_yaml=dump_resolved(sc), meta=meta, lang=lang, png=png
            ),
            folder,
        )
    console = Console(width=None if sys.stdout.isatty() else 140)
    for table in explain_tables(res):
        console.print(table)
    console.print(explain_headline(res, "en"), highlight=False)
    console.print(f"Results: {folder}")
    console.print(f"Report:  {folder / 'report.html'}")


@app.command()
@stops_cleanly(INTERRUPTED)
def optimise(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    models: Annotated[
        str | None,
        typer.Option("--models", help="Models to optimise, e.g. classic,joint (default: compare)."),
    ] = None,
    reps: Annotated[
        int | None,
        typer.Option("--reps", min=2, help="Replications of the search passes (default: file's)."),
    ] = None,
    confirm_reps: Annotated[
        int | None,
        typer.Option(
            "--confirm-reps",
            min=2,
            help="Replications of the re-run of the best few (default: confirm_replications).",
        ),
    ] = None,
    seed: SeedOption = None,
    jobs: JobsOption = None,
    overrides: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<scenario>/optimise-<id>)."),
    ] = None,
    lang: LangOption = "en",
    png: Annotated[
        bool, typer.Option("--png", help="Also write the figure as PNG (needs kaleido).")
    ] = False,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """The authority/provider split of the budget that helps most citizens per year under the
    waiting-time limit (staffing: {mode: optimise, ...}; defaults for another staffing mode)."""
    _check_lang(lang)
    sc = load_or_exit(scenario, _settings(overrides, seed=seed), allow_outside_paths)
    names = [m.strip() for m in models.split(",")] if models else list(sc.compare)
    for m in names:
        _check_model(sc, "--models", m)
    if len(set(names)) != len(names):
        typer.echo("error: --models: each model may be named once", err=True)
        raise typer.Exit(EXIT_INVALID)
    if png:
        _check_png()
    folder = _new_dir(sc.name, "optimise", out)

    import time

    from rich.console import Console

    from sim.config.loader import dump_resolved
    from sim.present.console import Progress
    from sim.present.explain_report import optimise_tables, run_manifest, write_optimise
    from sim.run.experiment import default_jobs
    from sim.run.optimise import optimise as run_optimise
    from sim.run.optimise import settings_of

    settings, own = settings_of(sc)
    if not own:
        typer.echo(
            f"note: staffing mode is '{sc.staffing.mode}', not 'optimise'; using the optimiser's "
            f"defaults (p90 <= {settings.max_p90_wait_weeks:g} weeks, authority share "
            f"{settings.min_authority_share:g}-{settings.max_authority_share:g})",
            err=True,
        )
    n_jobs = jobs if jobs is not None else default_jobs()
    _check_size(_optimise_size(sc, names, reps, confirm_reps, n_jobs, scenario), force)
    _check_out(folder)
    claimed = _claim_or_exit(folder)
    bars: dict[str, tuple[Progress, object]] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in bars:
            for bar, _ in bars.values():
                bar.__exit__(None, None, None)
            bar = Progress(f"{sc.name}: optimise, {label}")
            bars.clear()
            bars[label] = (bar, bar.__enter__())
        bars[label][1](done, total)  # type: ignore[operator]

    start = time.perf_counter()
    try:
        res = run_optimise(
            sc,
            models=names,
            replications=reps,
            confirm_replications=confirm_reps,
            jobs=n_jobs,
            base_dir=scenario.resolve().parent,
            progress=progress,
        )
    finally:
        for bar, _ in bars.values():
            bar.__exit__(None, None, None)
    meta = run_manifest(
        sc,
        run_id=folder.name,
        command=["sim", *sys.argv[1:]],
        wall_seconds=time.perf_counter() - start,
        jobs=n_jobs,
        extra={
            "kind": "optimise",
            "models": names,
            "settings": res.settings.model_dump(),
            "settings_from_scenario": res.from_scenario,
            "replications": res.replications,
            "chosen": {
                m: {"authority_share": o.chosen.share, "feasible": o.chosen.feasible}
                for m, o in res.optima.items()
            },
        },
    )
    with claimed:
        _write_or_exit(
            lambda f: write_optimise(
                f, res, resolved_yaml=dump_resolved(sc), meta=meta, lang=lang, png=png
            ),
            folder,
        )
    console = Console(width=None if sys.stdout.isatty() else 140)
    for table in optimise_tables(res):
        console.print(table)
    console.print(f"Results: {folder}")
    console.print(f"Report:  {folder / 'report.html'}")


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console-script entry point (``sim``)."""
    try:
        app()
    except Exception as exc:
        from sim.config.loader import ScenarioError

        if isinstance(exc, ScenarioError):  # a command that did not catch it
            typer.echo(exc.format(), err=True)
            sys.exit(EXIT_INVALID)
        raise


if __name__ == "__main__":
    main()
