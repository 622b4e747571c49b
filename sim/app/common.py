"""What every use case (run, sweep, explain, optimise) checks before it works and how it stops.

A use case never exits the process: it raises ``CommandError`` with the line to print on stderr
and the exit code (2 for input refused before any work, 1 for a failure after it), and the command
line turns that into the message and the exit code. Notes that do not stop the command go to
stderr through ``note``. Heavy modules are imported inside the functions that need them.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from contextlib import ExitStack

    from sim.model.scenario import Scenario
    from sim.run.estimate import Estimate

EXIT_INVALID = 2
"""Exit code for a scenario that does not load (and for bad command-line input, as typer does)."""

EXIT_FAILED = 1
"""Exit code for a failure after the checks (a write error, a lost worker, a failed point)."""


class CommandError(Exception):
    """A command stops: ``message`` (if any) is printed on stderr, the exit code is ``code``."""

    def __init__(self, message: str | None, code: int = EXIT_INVALID) -> None:
        super().__init__(message or "")
        self.message = message
        self.code = code


def refuse(message: str) -> NoReturn:
    """Stop before any work: ``error: message``, exit 2."""
    raise CommandError(f"error: {message}", EXIT_INVALID)


def write_failed(exc: Exception | str) -> NoReturn:
    """A write error after the work: one line (naming the rescue folder, if any), exit 1."""
    raise CommandError(f"error: {exc}", EXIT_FAILED)


def note(message: str) -> None:
    """A line on stderr that does not stop the command (progress of a resume, a --force note).
    click is imported here, not at the top: ``sim --help`` does not need it."""
    import click

    click.echo(message, err=True)


def load(
    path: Path, overrides: list[str] | None = None, allow_outside_paths: bool = False
) -> Scenario:
    """Load a scenario; a problem becomes ``file:line:col: key.path: message`` and exit 2."""
    from sim.config.loader import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides or (), allow_outside_paths=allow_outside_paths)
    except ScenarioError as error:
        raise CommandError(error.format(), EXIT_INVALID) from None


def settings(
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


def check_lang(lang: str) -> None:
    """Exit 2 for a language that has no locale file (sim/present/locales)."""
    from sim.present.i18n import LANGS

    if lang not in LANGS:
        refuse(f"--lang must be one of {', '.join(LANGS)}, found '{lang}'")


def check_png() -> None:
    """Fail before any work when PNG export cannot run (no kaleido or no browser)."""
    from sim.present.report import ImageExportError, ensure_image_export

    try:
        ensure_image_export()
    except ImageExportError as exc:
        raise CommandError(f"error: {exc}", EXIT_FAILED) from None


def check_size(estimate: Estimate, force: bool) -> None:
    """Exit 2 before any work when the estimated run is above the limits (unless ``force``)."""
    from sim.run.estimate import default_limits, refusal

    reason = refusal(estimate, default_limits())
    if reason is None:
        return
    if force:
        note(f"note: {reason.split(';')[0]}; running it anyway (--force)")
        return
    refuse(reason)


def check_out(path: Path, *, file: bool = False) -> None:
    """Exit 2 before any work when ``path`` cannot be written (a file on the way, read-only)."""
    from sim.store.output import OutputError, check_output_place

    try:
        check_output_place(path, file=file)
    except OutputError as exc:
        refuse(str(exc))


def claim(folder: Path) -> ExitStack:
    """Hold the lock of ``folder`` (released when the returned stack closes, or at the latest when
    the process exits); exit 2 when another command is writing it."""
    import atexit
    from contextlib import ExitStack

    from sim.store.output import OutputError
    from sim.store.output import claim as claim_folder

    stack = ExitStack()
    try:
        stack.enter_context(claim_folder(folder))
    except OutputError as exc:
        refuse(str(exc))
    atexit.register(stack.close)
    return stack


def write_or_fail(write: Callable[[Path], object], folder: Path) -> None:
    """``write(folder)``; on a write error, into a rescue folder, then one line and exit 1."""
    from sim.store.output import OutputError, write_or_rescue

    try:
        write_or_rescue(write, folder)
    except OutputError as exc:
        write_failed(exc)


def new_dir(scenario_name: str, kind: str, out: Path | None) -> Path:
    """``out``, or a fresh results/<scenario>/<kind>-<timestamp>; exit 2 if ``out`` exists."""
    from sim.store.results import new_run_dir

    if out is not None:
        if out.exists():
            refuse(f"{out} already exists; choose another --out")
        return out
    stamp = new_run_dir(Path("results"), scenario_name)
    path, i = stamp.with_name(f"{kind}-{stamp.name}"), 2
    while path.exists():
        path = stamp.with_name(f"{kind}-{stamp.name}-{i}")
        i += 1
    return path


def check_model(sc: Scenario, option: str, name: str) -> None:
    """Exit 2 when ``name`` is neither a preset nor a model of the scenario."""
    from sim.model.scenario import PRESETS

    known = sorted(set(PRESETS) | set(sc.models))
    if name not in known:
        refuse(f"{option}: unknown model '{name}'; expected one of: {', '.join(known)}")


def parse_date(option: str, text: str) -> dt.date:
    """A YYYY-MM-DD date (else exit 2, naming the option)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        refuse(f"{option}: expected a date YYYY-MM-DD, found '{text}'")


def parse_pairs(text: str, models: list[str]) -> list[tuple[str, str]]:
    """``a:b,c:d`` as [(a, b), (c, d)], each name one of the models being run (else exit 2)."""
    out = []
    for item in text.split(","):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 2 or not all(parts):
            refuse(f"--pairs: expected model:baseline, found '{item}'")
        for name in parts:
            if name not in models:
                refuse(
                    f"--pairs: '{name}' is not among the models run "
                    f"({', '.join(models)}); add it with --models"
                )
        out.append((parts[0], parts[1]))
    return out


def default_jobs(jobs: int | None) -> int:
    """``jobs``, or all cores when it was not given."""
    from sim.run.experiment import default_jobs as all_cores

    return jobs if jobs is not None else all_cores()


def show_folder(
    folder: Path, lang: str, tables: Iterable[Any], headline: str | None = None
) -> None:
    """How ``explain`` and ``optimise`` end on the terminal: their tables, the headline, the
    folder's warnings (the same as its report shows) and where the folder and its report are."""
    from rich.console import Console

    from sim.present.warnings import folder_warnings, print_warnings

    console = Console(width=None if sys.stdout.isatty() else 140)
    for table in tables:
        console.print(table)
    if headline is not None:
        console.print(headline, highlight=False)
    print_warnings(folder_warnings(folder, lang), console, lang)
    console.print(f"Results: {folder}")
    console.print(f"Report:  {folder / 'report.html'}")
