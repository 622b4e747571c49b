"""The ``sim`` command line.

Only typer is imported at module level: ``sim --help`` must stay fast (~0.2 s). Everything heavier
(pydantic, the scenario schema, numpy, simpy, plotly) is imported inside the command that needs it.
A scenario that cannot be loaded is reported as ``file:line:col: key.path: message`` on stderr with
exit code 2, never as a traceback.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from sim import __version__

if TYPE_CHECKING:
    from sim.loader import ScenarioError
    from sim.scenario import Scenario

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


def load_or_exit(path: Path, overrides: list[str] | None = None) -> "Scenario":
    """Load a scenario for a command; on any problem print it (no traceback) and exit 2."""
    from sim.loader import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides or ())
    except ScenarioError as error:
        report_scenario_error(error)


# --------------------------------------------------------------------------- scenario files


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.")],
) -> None:
    """Check scenario files; print every problem with its file, line and column.

    Exit code 0 when all are valid, 2 when any is not.
    """
    from sim.loader import ScenarioError, load_scenario

    invalid = 0
    for path in files:
        try:
            scenario = load_scenario(path)
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

    from sim.scenario import json_schema

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
#     `list[str]` passed as `overrides` (see sim.loader.apply_overrides);
#   - exit code 2 for invalid input, 1 for other failures.


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    reps: Annotated[
        int | None, typer.Option("--reps", help="Replications (overrides the file).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Master seed (overrides the file).")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes; default: all cores.")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option("--models", help="Models to compare, baseline first, e.g. classic,joint."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a setting: key.path=value (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default results/<scenario>/<run-id>)."),
    ] = None,
    events: Annotated[
        bool, typer.Option("--events", help="Also write the per-citizen event log.")
    ] = False,
    events_format: Annotated[str, typer.Option("--events-format", help="csv or parquet.")] = "csv",
    lang: Annotated[str, typer.Option("--lang", help="Report language: en or da.")] = "en",
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    pairs: Annotated[
        str | None,
        typer.Option(
            "--pairs",
            help="Differences to report as model:baseline pairs, e.g. joint:classic,hybrid:joint "
            "(default: each model minus the first).",
        ),
    ] = None,
) -> None:
    """Run both models on the same citizens, print the tables, write the results folder."""
    sets = list(overrides or [])
    if reps is not None:
        sets.append(f"experiment.replications={reps}")
    if seed is not None:
        sets.append(f"experiment.seed={seed}")
    if models is not None:
        sets.append(f"compare=[{models}]")
    if events_format not in ("csv", "parquet"):
        typer.echo("error: --events-format must be csv or parquet", err=True)
        raise typer.Exit(EXIT_INVALID)
    if lang not in ("en", "da"):
        typer.echo("error: --lang must be en or da", err=True)
        raise typer.Exit(EXIT_INVALID)
    sc = load_or_exit(scenario, sets)
    pair_list = _parse_pairs(pairs, sc.compare) if pairs else None
    if out is not None and out.exists():
        typer.echo(f"error: {out} already exists; choose another --out", err=True)
        raise typer.Exit(EXIT_INVALID)

    from rich.console import Console

    from sim.console import Progress, print_result
    from sim.experiment import default_jobs
    from sim.loader import dump_resolved
    from sim.results import new_run_dir, run_to_folder

    n_jobs = jobs if jobs is not None else default_jobs()
    folder = out if out is not None else new_run_dir(Path("results"), sc.name)
    writers = []
    if report:
        writers.append(_report_writer(lang))
    with Progress(f"{sc.name}: replications") as progress:
        folder, result = run_to_folder(
            sc,
            resolved_yaml=dump_resolved(sc),
            out=folder,
            jobs=n_jobs,
            command=["sim", *sys.argv[1:]],
            base_dir=scenario.resolve().parent,
            events_format=events_format if events else None,
            writers=writers,
            pairs=pair_list,
            progress=progress,
        )
    console = Console(width=None if sys.stdout.isatty() else 120)
    print_result(result, console)
    console.print(f"Results: {folder}")
    if report:
        console.print(f"Report:  {folder / 'report.html'}")


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


def _report_writer(lang: str):  # type: ignore[no-untyped-def]
    """A writer that adds report.html to a results folder, if the report module is present."""

    def write(folder: Path) -> None:
        try:
            from sim.report import write_report
        except ImportError:  # pragma: no cover - the report module ships with the package
            return
        write_report(folder, lang=lang)

    return write


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console-script entry point (``sim``)."""
    try:
        app()
    except Exception as exc:
        from sim.loader import ScenarioError

        if isinstance(exc, ScenarioError):  # a command that did not catch it
            typer.echo(exc.format(), err=True)
            sys.exit(EXIT_INVALID)
        raise


if __name__ == "__main__":
    main()
