"""The ``sim`` command line.

Only typer is imported at module level: ``sim --help`` must stay fast (~0.2 s). Everything heavier
(pydantic, the scenario schema, numpy, simpy, plotly) is imported inside the command that needs it.
A scenario that cannot be loaded is reported as ``file:line:col: key.path: message`` on stderr with
exit code 2, never as a traceback.
"""

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from sim import __version__
from sim.app.common import CommandError

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


@contextmanager
def _exits() -> Iterator[None]:
    """A use case's ``CommandError`` as its line on stderr and its exit code (no traceback)."""
    try:
        yield
    except CommandError as exc:
        if exc.message:
            typer.echo(exc.message, err=True)
        raise typer.Exit(exc.code) from None


F = TypeVar("F", bound=Callable[..., Any])


def stops_cleanly(message: str) -> Callable[[F], F]:
    """For a command that runs simulations: SIGTERM is handled like Ctrl-C (the workers are
    stopped, temporary folders removed), then ``message`` is printed and the exit code is 130
    (Ctrl-C) or 143 (SIGTERM). A worker that died twice ends the command with one line, exit 1;
    a ``CommandError`` of the use case, with its line and exit code."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            from sim.run.workers import WorkerLost, interrupt_exit_code, sigterm_as_interrupt

            try:
                with _exits(), sigterm_as_interrupt():
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
LangOption = Annotated[
    str, typer.Option("--lang", help="Language: en, da or any locale in sim/present/locales.")
]
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
ScenarioArgument = Annotated[Path, typer.Argument(help="Scenario YAML file.")]
ReportOption = Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")]
LangReportOption = Annotated[
    bool, typer.Option("--report/--no-report", help="Write report.<lang>.html.")
]
PngOption = Annotated[
    bool, typer.Option("--png", help="Also write the figures as PNG (needs kaleido).")
]
EachPngOption = Annotated[
    bool,
    typer.Option(
        "--png",
        help="Also write each figure as PNG (needs the images extra: kaleido and chromium).",
    ),
]
"""Options shared by the simulation commands, declared once."""


def _out(kind: str) -> Any:
    """``--out`` of a command whose folder is results/<scenario>/<kind>-<id> by default."""
    return typer.Option("--out", help=f"Results folder (default results/<scenario>/{kind}-<id>).")


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
# Each command below parses its options and calls its use case in `sim.app` (run, sweep, explain,
# optimise; report and compare still work here). Conventions for them:
#   - import nothing heavy at module level: the use case is imported inside the command function;
#   - a use case stops with `sim.app.common.CommandError` (line on stderr, exit code), turned into
#     the exit by `stops_cleanly`;
#   - exit code 2 for invalid input, 1 for other failures;
#   - a command's parameters are named as the fields of its use case's request, which is built
#     from them by name (`dict(locals())` first thing in the body), plus the command line as typed.


def _typed() -> list[str]:
    """The command line as typed, for the folder's manifest."""
    return ["sim", *sys.argv[1:]]


@app.command()
@stops_cleanly(INTERRUPTED)
def run(
    scenario: ScenarioArgument,
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
    report: ReportOption = True,
    png: EachPngOption = False,
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
    screen: Annotated[  # u2-analysis; s4-screen: default runs it only when it costs little
        bool | None,
        typer.Option(
            "--screen/--no-screen",
            help="With the report: a quick one-way screen (each uncertain input at its low and "
            "high value, 2 replications, short horizon) to name what carries the difference. "
            "Default: only when it costs at most 1.5 times the run; --screen forces it.",
        ),
    ] = None,
    uncertainty: Annotated[  # u2-analysis
        Path | None,
        typer.Option(
            "--uncertainty",
            help="Take what carries the difference from this `sim uncertainty` folder "
            "(default: the newest one of the same scenario under results/, else the screen).",
        ),
    ] = None,
) -> None:
    """Run both models on the same citizens, print the tables, write the results folder."""
    options = dict(locals())  # before the imports: the parameters only
    from sim.app.run import RunRequest
    from sim.app.run import run as use_case

    use_case(RunRequest(**options, command=_typed()))


def _check_lang(lang: str) -> None:
    from sim.app.common import check_lang

    with _exits():
        check_lang(lang)


def _check_png() -> None:
    """Fail before any work when PNG export cannot run (no kaleido or no browser)."""
    from sim.app.common import check_png

    with _exits():
        check_png()


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


def _check_out(path: Path, *, file: bool = False) -> None:
    """Exit 2 before any work when ``path`` cannot be written (a file on the way, read-only)."""
    from sim.app.common import check_out

    with _exits():
        check_out(path, file=file)


def _write_failed(exc: Exception | str) -> NoReturn:
    """A write error after the work: one line (naming the rescue folder, if any), exit 1."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1) from None


@app.command()
@stops_cleanly(INTERRUPTED)
def report(
    results_dir: Annotated[
        Path,
        typer.Argument(help="A results folder of `sim run`, `sweep`, `explain` or `optimise`."),
    ],
    lang: LangOption = "en",
    png: EachPngOption = False,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf", help="Also print the report to report.<lang>.pdf (A4; needs chromium)."
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
    if pdf:
        _check_pdf()
    from sim.present.pdf import PdfError, pdf_name

    try:
        path = rebuild_report(results_dir, lang=lang, png=png, pdf=pdf)
    except OSError as exc:
        _write_failed(f"cannot write {out}: {exc.strerror or exc}")
    except PdfError as exc:
        _write_failed(exc)
    typer.echo(f"Report: {path}")
    if png:
        typer.echo(f"Figures: {results_dir / 'figures'}")
    if pdf:
        typer.echo(f"PDF:    {results_dir / pdf_name(lang)}")


def _check_pdf() -> None:
    """Exit 2 before any work when no browser can print the PDF, saying how to get one."""
    from sim.present.pdf import PdfError, browser_or_error

    try:
        browser_or_error()
    except PdfError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


@app.command()
def compare(
    results_dirs: Annotated[
        list[Path], typer.Argument(help="Two or more results folders to put side by side.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="The report file (default: compare.html beside the first folder)."
        ),
    ] = None,
    lang: LangOption = "en",
) -> None:
    """One report with several runs side by side (e.g. two budgets, or before and after); the
    table is printed too, with a warning when the runs differ in replications or seed."""
    _check_lang(lang)
    if len(results_dirs) < 2:
        typer.echo(
            f"error: sim compare needs two or more results folders, found {len(results_dirs)} "
            f"({', '.join(map(str, results_dirs))}); for one folder's report use `sim report`",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    out = out if out is not None else results_dirs[0].resolve().parent / "compare.html"
    _check_out(out, file=True)
    for d in results_dirs:
        _results_dir_or_exit(d)
    from rich.console import Console

    from sim.present.console import compare_table
    from sim.present.plots import load_results
    from sim.present.report import compare_warnings, write_compare_report

    runs = [load_results(d) for d in results_dirs]
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(compare_table(runs, lang))
    from sim.present.plots import run_labels
    from sim.present.warnings import folder_warnings, print_warnings

    warns = [f"{label}: {w}" for label, d in zip(run_labels(runs, lang), results_dirs, strict=True)
             for w in folder_warnings(d, lang)]  # fmt: skip
    print_warnings([*warns, *compare_warnings(runs, lang)], console, lang)
    try:
        path = write_compare_report(list(results_dirs), out, lang=lang)
    except OSError as exc:
        out.unlink(missing_ok=True)  # a half-written page is worse than none
        _write_failed(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"Report: {path}")


EXIT_INTERRUPTED = 130
"""Exit code of a sweep stopped with Ctrl-C (its folder is consistent; --resume completes it);
143 after SIGTERM (see ``stops_cleanly``)."""


SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on a Dask cluster: the scheduler's address, e.g. tcp://10.0.0.5:8786 "
        "(needs the dask extra, and sim installed on every worker).",
    ),
]
DaskWorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run on a local Dask cluster of N worker processes."),
]
ResumeOption = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Complete an interrupted sweep: keep the points already in the folder (--out, "
        "else the newest results/<sweep>/ folder) and run the rest.",
    ),
]
BatchOption = Annotated[
    int | None,
    typer.Option(
        "--batch",
        min=1,
        help="Replications per task; default: whole points when there are enough of them.",
    ),
]
"""Options of `sim sweep` (declared here to keep the command readable)."""


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
    scheduler: SchedulerOption = None,
    workers: DaskWorkersOption = None,
    resume: ResumeOption = False,
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
    batch: BatchOption = None,
    metric: Annotated[
        str, typer.Option("--metric", help="Metric of the printed table and the report.")
    ] = "helped_per_year",
    lang: LangOption = "en",
    report: ReportOption = True,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """Run every point of a sweep (local processes or a Dask cluster); write tables and report.

    Everything is checked before anything runs. Each point is stored as it finishes, so Ctrl-C
    loses at most the running points and --resume completes the sweep. The tables are the same,
    byte for byte, whatever ran them.
    """
    options = dict(locals())  # before the imports: the parameters only
    from sim.app.sweep import SweepRequest
    from sim.app.sweep import sweep as use_case

    use_case(SweepRequest(**options, command=_typed()))


@app.command()
@stops_cleanly(INTERRUPTED)
def explain(
    scenario: ScenarioArgument,
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
    out: Annotated[Path | None, _out("explain")] = None,
    lang: LangOption = "en",
    png: PngOption = False,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """Which mechanism makes the difference: switch the mechanisms one at a time from one model's
    settings to the other's, on the same citizens, and report each one's contribution with a CI."""
    options = dict(locals())  # before the imports: the parameters only
    from sim.app.explain import ExplainRequest
    from sim.app.explain import explain as use_case

    use_case(ExplainRequest(**options, command=_typed()))


@app.command()
@stops_cleanly(INTERRUPTED)
def optimise(
    scenario: ScenarioArgument,
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
    out: Annotated[Path | None, _out("optimise")] = None,
    lang: LangOption = "en",
    png: Annotated[
        bool, typer.Option("--png", help="Also write the figure as PNG (needs kaleido).")
    ] = False,
    allow_outside_paths: OutsideOption = False,
    force: ForceOption = False,
) -> None:
    """The authority/provider split of the budget that helps most citizens per year under the
    waiting-time limit (staffing: {mode: optimise, ...}; defaults for another staffing mode)."""
    options = dict(locals())  # before the imports: the parameters only
    from sim.app.optimise import OptimiseRequest
    from sim.app.optimise import optimise as use_case

    use_case(OptimiseRequest(**options, command=_typed()))


# --------------------------------------------------------------------------- c1-fit: sim fit


def _case_date(option: str, text: str | None) -> Any:
    """A date as the case files write them (dd-mm-yyyy, dd.mm.yyyy or ISO), else exit 2."""
    if text is None:
        return None
    from sim.config.cases import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        typer.echo(f"error: {option}: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


@app.command()
def fit(
    cases: Annotated[
        Path, typer.Argument(help="Case export (.csv or .xlsx; one row per case or per event).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Scenario YAML file to write.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Export date (default: the latest date in the file)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First day of the scenario: its caseload (default: the first day a case in the "
            "export closed, as in sim check).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Scenario name (default: the file's name).")
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option("--base", help="Scenario to copy what the data cannot give from (Odder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    no_calibrate: Annotated[
        bool,
        typer.Option(
            "--no-calibrate",
            help="Keep the closed-form delay before the decision (default: calibrated by a "
            "short simulation so the run's median time to decision matches the export's).",
        ),
    ] = False,
) -> None:
    """Fit a scenario to your municipality's case export; every number says where it comes from.

    Exit code 2 for a file with problems (each with its row and column); nothing is written.
    """
    from sim.app.fit import Request
    from sim.app.fit import fit as use_case

    request = Request(
        cases=cases,
        out=out,
        as_of=_case_date("--as-of", as_of),
        start=_case_date("--start", start),
        name=name,
        base=base,
        force=force,
        calibrate=not no_calibrate,
    )
    with _exits():
        result = use_case(request)
    if result.calibration is not None:  # f1-calib
        from sim.app.fit import calibration_lines

        for line in calibration_lines(result.calibration):
            typer.echo(line)
    for line in result.goal_lines:  # f3-goal
        typer.echo(line)
    season = "monthly factors" if result.seasonal else "no seasonality"
    typer.echo(
        f"wrote {result.out}: {result.cases} cases, {result.segments} segment(s), {season}; "
        f"check it with: sim validate {result.out}"
    )


# c2-check: sim check


@app.command()
@stops_cleanly(INTERRUPTED)
def check(
    scenario: ScenarioArgument,
    cases: Annotated[
        Path, typer.Argument(help="The municipality's case export (.csv or .xlsx; see README).")
    ],
    reps: Annotated[
        int | None,
        typer.Option("--reps", min=2, help="Replications of the baseline (default: 20)."),
    ] = None,
    jobs: JobsOption = None,
    overrides: SetOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Export date YYYY-MM-DD (default: latest date in CASES)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start of the observed period YYYY-MM-DD (default: the first day a case in "
            "the export closed; the export must hold every case open since then).",
        ),
    ] = None,
    out: Annotated[Path | None, _out("check")] = None,
    lang: LangOption = "en",
    report: LangReportOption = True,
) -> None:
    """Does the scenario's baseline reproduce your own last years? Runs the baseline model over the
    export's period and puts observed and simulated figures side by side with 95 % bands."""
    options = dict(locals())  # before the imports: the parameters only
    from sim.app.check import CheckRequest
    from sim.app.check import check as use_case

    use_case(CheckRequest(**options, command=_typed()))


# --------------------------------------------------------------------------- a1-app: sim app


@app.command("app")
@stops_cleanly("sim app stopped")
def app_(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file the page opens on.")] = Path(
        "scenarios/odder.yaml"
    ),
    port: Annotated[int, typer.Option("--port", help="Port of the page.")] = 8501,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; only this machine by default."),
    ] = "127.0.0.1",
    lang: Annotated[str, typer.Option("--lang", help="Language of the page: da or en.")] = "en",
    overrides: SetOption = None,
    jobs: JobsOption = None,
) -> None:
    """Start a local page to try what-ifs live (Streamlit; needs the app extra)."""
    from sim.app.whatif import AppRequest, serve

    code = serve(AppRequest(scenario, port, host, lang, tuple(overrides or ()), jobs))
    if code:
        raise typer.Exit(code)


# --------------------------------------------------------------------------- u1-design: uncertainty


@app.command()
@stops_cleanly("interrupted")
def uncertainty(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with uncertain inputs.")],
    n: Annotated[
        int, typer.Option("--n", min=0, max=100_000, help="Parameter sets drawn from the ranges.")
    ] = 64,
    reps: Annotated[
        int, typer.Option("--reps", min=2, max=100_000, help="Replications of every set.")
    ] = 10,
    method: Annotated[
        str, typer.Option("--method", help="Design: lhs (Latin hypercube) or sobol.")
    ] = "lhs",
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="Also the probability of helping at least this many more a year."
        ),
    ] = 0.0,
    jobs: JobsOption = None,
    dask: Annotated[
        bool, typer.Option("--dask", help="Run on a local Dask cluster of --jobs workers.")
    ] = False,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="Complete the interrupted run in this folder."),
    ] = None,
    out: Annotated[Path | None, _out("uncertainty")] = None,
    overrides: SetOption = None,
    lang: LangOption = "en",
    report: LangReportOption = True,
    png: PngOption = False,
    allow_outside_paths: OutsideOption = False,
) -> None:
    """How sure is the answer? Every model on parameter sets drawn from the scenario's uncertain
    inputs (and the presets' assumptions), on the same citizens: probability, tornado,
    sensitivity and thresholds. Each set is stored as it finishes; --resume DIR completes a run.
    """
    options = dict(locals())  # before the imports: the parameters only
    options["target"] = options.pop("scenario")
    from sim.app.uncertainty import UncertaintyRequest
    from sim.app.uncertainty import uncertainty as use_case

    use_case(UncertaintyRequest(**options, command=_typed()))


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
