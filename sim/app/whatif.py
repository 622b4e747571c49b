"""``sim app``: what-ifs in a meeting, the logic behind the page (testable without Streamlit).

A what-if is the scenario file with a few controls moved: the budget, the staffing, the referrals,
which preset each mechanism of each model takes its setting from, the replications. The controls
become ``--set``-style overrides, each naming its control, and the scenario is built through the
loader (``sim.config.loader``), so a control is validated exactly like the file and the command
line, with the same words. Unmoved controls add no override: the page's first what-if is the
scenario itself, and ``sim run`` of the same inputs gives the same tables byte for byte.

Replications stream in (``sim.run.stream``); a finished what-if is kept in a cache keyed by its
canonical scenario, replications and the version of sim, and its results folder (the report,
CSV tables and Excel workbook a run folder has) is written on demand into a temporary folder.
``serve`` starts the page (``streamlit run``) as a child process in its own process group and
stops the whole group when ``sim app`` is stopped.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import math
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.app import common

if TYPE_CHECKING:
    from sim.config.loader import Override
    from sim.model.scenario import Scenario
    from sim.run.experiment import ExperimentResult
    from sim.run.stream import Partial
    from sim.store.reader import Results

SCENARIO_SOURCE = "scenario"
"""A mechanism's setting as the scenario file has it (when it matches no preset)."""

KEY_FIGURES: tuple[str, ...] = (
    "helped_per_year",
    "s85_starts_per_year",
    "short_course_per_year",
    "time_to_start_median_weeks",
    "time_to_start_p90_weeks",
    "cost_per_helped_dkk",
    "core_task_share",
)
"""The figures the page shows as replications arrive: citizens helped, § 85 starts and short
courses, waits to support start, cost per citizen helped and the core-task share."""

MAX_REPLICATIONS = 500
"""Upper end of the page's replications control (the loader allows more; a meeting does not)."""


# --------------------------------------------------------------------------- controls


@dataclass(frozen=True)
class Controls:
    """The values of the page's controls (units: DKK/year, FTE, share 0-1, citizens/week)."""

    budget_dkk: float
    staffing_mode: str
    authority_fte: float
    provider_fte: float
    authority_share: float
    rate_per_week: float | None
    mechanisms: Mapping[tuple[str, str], str] = field(default_factory=dict)
    replications: int = 30


def mechanism_source(scenario: Scenario, model: str, mechanism: str) -> str:
    """The preset whose setting ``model`` has for ``mechanism`` (its own preset first), or
    ``SCENARIO_SOURCE`` when the scenario sets it otherwise."""
    from sim.model.scenario import PRESETS

    own = scenario.model(model).model_dump(mode="json")[mechanism]
    names = sorted(PRESETS, key=lambda p: p != model)
    for preset in names:
        if _preset_setting(preset, mechanism) == own:
            return preset
    return SCENARIO_SOURCE


def _preset_setting(preset: str, mechanism: str) -> Any:
    from sim.model.scenario import VisitationModel, preset_settings

    return VisitationModel.model_validate(preset_settings(preset)).model_dump(mode="json")[
        mechanism
    ]


def sources(start: str) -> list[str]:
    """The choices of a mechanism control: the presets, and the scenario's own setting when the
    scenario has one of its own."""
    from sim.model.scenario import PRESETS

    return [*([SCENARIO_SOURCE] if start == SCENARIO_SOURCE else []), *PRESETS]


def start_controls(scenario: Scenario) -> Controls:
    """The controls at the scenario's own values."""
    from sim.model.scenario import MECHANISMS, FixedStaffing, PoissonArrivals

    authority, provider = scenario.staffing_fte()
    s = scenario.staffing
    share = scenario.staff.authority.fte_cost_dkk_per_year * authority / scenario.budget.annual_dkk
    arrivals = scenario.arrivals
    return Controls(
        budget_dkk=scenario.budget.annual_dkk,
        staffing_mode="fixed" if isinstance(s, FixedStaffing) else "share",
        authority_fte=authority,
        provider_fte=provider,
        authority_share=getattr(s, "authority_share", None) or round(share, 4),
        rate_per_week=arrivals.rate_per_week if isinstance(arrivals, PoissonArrivals) else None,
        mechanisms={
            (m, k): mechanism_source(scenario, m, k) for m in scenario.compare for k in MECHANISMS
        },
        replications=scenario.experiment.replications,
    )


def overrides(start: Controls, now: Controls, label: Callable[[str], str] = str) -> list[Override]:
    """The ``--set`` overrides that move the scenario from ``start`` to ``now``: one per moved
    control, each named after its control (``label(key)``) so a problem names what was moved."""
    from sim.config.loader import Override

    out: list[Override] = []

    def put(key: str, path: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False)
        out.append(Override(f"{path}={text}", f"{label(key)}: {path}={_shown(value)}"))

    if now.budget_dkk != start.budget_dkk:
        put("budget", "budget.annual_dkk", now.budget_dkk)
    if _staffing(now) != _staffing(start):
        put("staffing", "staffing", _staffing(now))
    if now.rate_per_week != start.rate_per_week and now.rate_per_week is not None:
        put("rate", "arrivals.rate_per_week", now.rate_per_week)
    for (model, mechanism), source in now.mechanisms.items():
        if source != start.mechanisms.get((model, mechanism)) and source != SCENARIO_SOURCE:
            value = _preset_setting(source, mechanism)
            put(f"mechanism.{mechanism}", f"models.{model}.{mechanism}", value)
    if now.replications != start.replications:
        put("replications", "experiment.replications", now.replications)
    return out


def _staffing(c: Controls) -> dict[str, Any]:
    if c.staffing_mode == "fixed":
        return {"mode": "fixed", "authority_fte": c.authority_fte, "provider_fte": c.provider_fte}
    return {"mode": "share", "authority_share": c.authority_share}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return format(value, ".12g") if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- the what-if


@dataclass(frozen=True)
class WhatIf:
    """A scenario built from the file and the moved controls, and the key of its results."""

    scenario: Scenario
    sets: tuple[str, ...]
    base_dir: Path
    key: str


def load(path: Path, sets: Sequence[str] = ()) -> WhatIf:
    """The what-if of ``path`` with ``sets`` laid on it, through the loader's validation.

    Raises ``sim.config.loader.ScenarioError`` with the loader's located problems."""
    from sim.config.loader import load_scenario

    scenario = load_scenario(path, list(sets))
    return WhatIf(scenario, tuple(sets), path.resolve().parent, whatif_key(scenario))


def whatif_key(scenario: Scenario) -> str:
    """What identifies a what-if's results: the canonical scenario (every default filled in,
    models resolved; the replications are part of it) and the version of sim."""
    canonical = scenario.model_dump_json(by_alias=True)
    text = f"sim {__version__}\nreplications {scenario.experiment.replications}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_yaml(whatif: WhatIf) -> str:
    """The what-if as a scenario file: the resolved scenario ``sim run`` writes in its folder, so
    ``sim validate`` accepts it and ``sim run`` reproduces the figures."""
    from sim.config.loader import dump_resolved

    return dump_resolved(whatif.scenario.with_presets_spelled_out())


# --------------------------------------------------------------------------- results


class ResultCache:
    """Finished what-ifs by key, the least recently used dropped beyond ``size``; one per page
    process, shared by its sessions (hence the lock)."""

    def __init__(self, size: int = 24) -> None:
        self.size = size
        self._items: OrderedDict[str, ExperimentResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> ExperimentResult | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: str, result: ExperimentResult) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


CACHE = ResultCache()


@dataclass(frozen=True)
class Update:
    """Replications of one what-if so far; ``key`` tags it, so figures of two what-ifs never mix."""

    key: str
    partial: Partial
    cached: bool = False


def sharpen(whatif: WhatIf, jobs: int, cache: ResultCache = CACHE) -> Iterator[Update]:
    """The what-if's results as its replications finish (one update when it is in the cache).

    Close the iterator (or leave it unfinished in a ``closing`` block) to abandon the run: its
    workers are terminated at once."""
    from sim.run.stream import Partial, stream_experiment

    done = cache.get(whatif.key)
    if done is not None:
        n = whatif.scenario.experiment.replications
        yield Update(whatif.key, Partial(n, n, done), cached=True)
        return
    with contextlib.closing(
        stream_experiment(whatif.scenario, jobs=jobs, base_dir=whatif.base_dir)
    ) as stream:
        for partial in stream:
            if partial.complete:
                cache.put(whatif.key, partial.result)
            yield Update(whatif.key, partial)


def run_manifest(result: ExperimentResult, jobs: int, command: Sequence[str]) -> dict[str, Any]:
    """The manifest of a run folder for the what-if (``sim.store.results.manifest``)."""
    from sim.store.results import manifest

    return manifest(result, run_id="whatif", command=list(command), wall_seconds=0.0, jobs=jobs)


def in_memory(result: ExperimentResult, manifest: dict[str, Any], name: str) -> Results:
    """The tables of a results folder, built in memory by the writer's own row functions, for
    the report's figure functions (``sim.present.plots``) while replications arrive."""
    import polars as pl

    from sim.store.reader import Results
    from sim.store.results import difference_rows, replication_rows, summary_rows

    def frame(rows: list[dict[str, Any]], floats: Sequence[str]) -> pl.DataFrame:
        df = pl.DataFrame(rows, infer_schema_length=None)
        return df.with_columns([pl.col(c).cast(pl.Float64) for c in floats if c in df.columns])

    stats = ("mean", "ci_low", "ci_high", "sd")
    return Results(
        Path(name),
        manifest,
        frame(summary_rows(result.summary()), stats),
        frame(difference_rows(result.differences()), stats),
        frame(replication_rows(result), ("value",)),
        None,
    )


def warnings_of(res: Results, result: ExperimentResult, lang: str) -> list[str]:
    """The warnings the run's report gives for these results (growing waiting lists, few
    replications, unspent budget, series not settled after the warm-up); the warm-up check is
    made here, as ``sim run`` makes it for settling.csv."""
    from sim.present.report import cautions
    from sim.present.settling import warnings as settling_warnings
    from sim.run.settle import check_result

    rows = [v.row() for v in check_result(result)]
    return cautions(res, lang) + settling_warnings(rows, lang)


# --------------------------------------------------------------------------- downloads


class Folders:
    """Results folders of finished what-ifs, one per key and language, in a temporary folder
    removed when the page's process exits."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._root: Path | None = None
        self._made: OrderedDict[tuple[str, str], Path] = OrderedDict()
        self._lock = threading.Lock()

    def _place(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="sim-app-"))
            atexit.register(shutil.rmtree, self._root, True)
        return self._root

    def get(self, whatif: WhatIf, result: ExperimentResult, lang: str, jobs: int) -> Path:
        """The folder of ``whatif`` in ``lang`` (written the first time it is asked for)."""
        with self._lock:
            if (whatif.key, lang) not in self._made:
                final = self._place() / f"whatif-{whatif.key[:12]}-{lang}"
                write_folder(final, whatif, result, lang, jobs)
                self._made[(whatif.key, lang)] = final
                while len(self._made) > self.size:
                    shutil.rmtree(self._made.popitem(last=False)[1], ignore_errors=True)
            return self._made[(whatif.key, lang)]


FOLDERS = Folders()


def write_folder(
    final: Path, whatif: WhatIf, result: ExperimentResult, lang: str, jobs: int
) -> Path:
    """A run's results folder for the what-if, written by ``sim run``'s own writers: the scenario,
    the CSV tables, the manifest, the report (``report.html``) and the Excel workbook."""
    from sim.app.run import report_writer, workbook_writer
    from sim.store.results import write_results

    command = ["sim", "app", *(f"--set {s}" for s in whatif.sets)]
    meta = run_manifest(result, jobs, command)
    writers = [workbook_writer(lang), report_writer(lang)]  # the report links to the workbook
    return write_results(final, result, scenario_yaml(whatif), meta, extra_writers=writers)


DOWNLOADS: tuple[tuple[str, str], ...] = (
    ("scenario.yaml", "application/x-yaml"),
    ("report.html", "text/html"),
    ("tables.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("summary.csv", "text/csv"),
    ("differences.csv", "text/csv"),
    ("replications.csv", "text/csv"),
)
"""The files of a what-if's folder the page offers, in order, with their media types."""


def downloads(folder: Path) -> list[tuple[str, bytes, str]]:
    """(file name, content, media type) of each download the folder has."""
    return [
        (name, (folder / name).read_bytes(), mime)
        for name, mime in DOWNLOADS
        if (folder / name).is_file()
    ]


# --------------------------------------------------------------------------- figures as text


def figure_rows(res: Results, lang: str) -> list[dict[str, str]]:
    """The key figures as table rows: the figure and its unit, each model's mean with its 95 % CI,
    each paired difference with its CI."""
    from sim.present import i18n
    from sim.present.plots import pair_label, unit_key

    rows = []
    for metric in KEY_FIGURES:
        scale = i18n.metric_scale(metric)
        unit = i18n.unit_label(unit_key(res, metric), lang)
        if scale != 1:  # a share: shown in %, its differences in percentage points
            unit = i18n.t(
                "app.unit_share",
                lang,
                percent=i18n.unit_label("percent", lang),
                points=i18n.unit_label("percentage_points", lang),
            )
        row = {
            i18n.t("col.metric", lang): i18n.metric_label(metric, lang),
            i18n.t("col.unit", lang): unit,
        }
        for m in res.models:
            row[i18n.model_name(m, lang)] = _ci(res.stat(m, metric).scaled(scale), lang)
        for m, b in res.comparisons:
            diff = res.diff(m, metric, b).scaled(scale)
            row[pair_label(m, b, lang)] = _ci(diff, lang, sign=True)
        rows.append(row)
    return rows


def _ci(s: Any, lang: str, sign: bool = False) -> str:
    from sim.present import i18n

    if not math.isfinite(s.mean):
        return i18n.t("num.na", lang)
    return i18n.fmt_ci(s.mean, s.low, s.high, lang, i18n.auto_digits(s.mean), sign=sign)


def compare_rows(pinned: Results, current: Results, lang: str) -> list[dict[str, str]]:
    """Pinned and current what-if side by side: each key figure of each model in both, and the
    change from the pinned one (a difference of means; the two are not paired)."""
    from sim.present import i18n

    rows = []
    for metric in KEY_FIGURES:
        scale = i18n.metric_scale(metric)
        for m in current.models:
            a, b = pinned.stat(m, metric).scaled(scale), current.stat(m, metric).scaled(scale)
            rows.append(
                {
                    i18n.t("col.metric", lang): i18n.metric_label(metric, lang),
                    i18n.t("col.model", lang): i18n.model_name(m, lang),
                    i18n.t("app.pinned", lang): _ci(a, lang),
                    i18n.t("app.current", lang): _ci(b, lang),
                    i18n.t("app.change", lang): i18n.fmt_num(
                        b.mean - a.mean, lang, i18n.auto_digits(b.mean - a.mean), sign=True
                    )
                    if math.isfinite(a.mean) and math.isfinite(b.mean)
                    else i18n.t("num.na", lang),
                }
            )
    return rows


# --------------------------------------------------------------------------- serving the page


@dataclass(frozen=True)
class AppRequest:
    """The options of ``sim app``."""

    scenario: Path = Path("scenarios/odder.yaml")
    port: int = 8501
    host: str = "127.0.0.1"
    lang: str = "en"
    overrides: tuple[str, ...] = ()
    jobs: int | None = None


def page_command(req: AppRequest) -> list[str]:
    """``streamlit run`` of the page module, headless, on ``host:port``, the options after
    ``--`` for the page to read."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("sim.web.app")
    assert spec is not None and spec.origin is not None
    args = ["--scenario", str(req.scenario), "--lang", req.lang]
    args += [a for s in req.overrides for a in ("--set", s)]
    if req.jobs is not None:
        args += ["--jobs", str(req.jobs)]
    return [
        sys.executable, "-m", "streamlit", "run", spec.origin,
        "--server.headless", "true",
        "--server.address", req.host,
        "--server.port", str(req.port),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--", *args,
    ]  # fmt: skip


def check(req: AppRequest) -> str | None:
    """Refuse (exit 2) what the page cannot start with; the scenario's problems, if any, as
    ``sim validate`` prints them (the page shows them too, so they are returned, not raised)."""
    import importlib.util

    from sim.config.loader import ScenarioError

    common.check_lang(req.lang)
    if not 0 < req.port < 65536:
        common.refuse(f"--port must be between 1 and 65535, found {req.port}")
    if importlib.util.find_spec("streamlit") is None:
        common.refuse("sim app needs Streamlit: pip install 'sim[app]'")
    try:
        load(req.scenario, req.overrides)
    except ScenarioError as error:
        return error.format()
    return None


def serve(req: AppRequest, started: Callable[[str], None] = common.note) -> int:
    """Start the page as a child process and wait for it; on Ctrl-C or SIGTERM (raised here as
    KeyboardInterrupt by the CLI) stop its whole process group, workers included, then re-raise.
    Returns the page's exit code."""
    import subprocess

    problems = check(req)
    if problems:
        common.note(problems)
        common.note("note: the page shows these problems too; fix the file and reload the page")
    child = subprocess.Popen(page_command(req), start_new_session=True)
    started(f"sim app: http://{req.host}:{req.port} (Ctrl-C stops it)")
    try:
        return child.wait()
    finally:
        stop_group(child)


def stop_group(child: Any, grace: float = 5.0) -> None:
    """SIGTERM to the child's process group, SIGKILL to what is left after ``grace`` seconds."""
    import os
    import signal
    import subprocess

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
        try:
            child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if not _group_alive(child.pid):
            return


def _group_alive(pgid: int) -> bool:
    import os

    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def with_replications(c: Controls, n: int) -> Controls:
    """``c`` with ``n`` replications (a small helper for tests and the page)."""
    return replace(c, replications=n)
