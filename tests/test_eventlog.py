"""The event log: exact times, every started activity, exits with reasons, and a log a
process-mining tool (pm4py) reads as it is. Counts are rebuilt from the log alone and compared with
the arrival stream, the hand-known pathway or the engine's own totals; never with StageBook."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pm4py
import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.model import eventlog
from sim.model.citizens import DAYS_PER_WEEK, WEEKS_PER_YEAR, referral_times
from sim.model.metrics import STAGES
from sim.model.pathway import Simulation
from sim.run.experiment import ExperimentResult, run_experiment
from sim.store.results import write_events

from .conftest import SCENARIOS, make_scenario

F = {name: i for i, name in enumerate(eventlog.RAW_FIELDS)}
EXIT_OF = {v: k for k, v in eventlog.EXIT.items()}


def _rows(parts: list[pl.DataFrame]) -> list[tuple[Any, ...]]:
    """The raw rows of the replications' event tables, in the engine's order."""
    return list(pl.concat(parts).iter_rows())


def _cases(rows: list[tuple[Any, ...]]) -> dict[tuple[str, int, int], list[tuple[Any, ...]]]:
    """The engine's raw rows grouped by case, each case's rows in the order they started."""
    out: dict[tuple[str, int, int], list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        out[(r[F["model"]], r[F["replication"]], r[F["citizen"]])].append(r)
    for case in out.values():
        case.sort(key=lambda r: r[F["start_day"]])  # stable: ties keep the engine's order
    return out


def _pm4py_log(path: Path) -> pd.DataFrame:
    """The written log as pm4py reads it (the README's two lines)."""
    if path.suffix == ".csv":
        df = pd.read_csv(path)
    else:  # pandas.read_parquet wants pyarrow; polars reads it without
        df = pd.DataFrame(pl.read_parquet(path).to_dict(as_series=False))
    return pm4py.format_dataframe(
        df, case_id="case_id", activity_key="activity", timestamp_key="start_time"
    )


@pytest.fixture(scope="module")
def odder_log() -> ExperimentResult:
    """Odder (initial caseload: the first rows are at day 0) for both models, short."""
    sc = make_scenario(replications=2, horizon_weeks=130, warmup_weeks=26)
    return run_experiment(sc, jobs=2, record_events=True)


@pytest.fixture(scope="module")
def engine_rows(odder_log: ExperimentResult) -> list[list[Any]]:
    """The same replications run here, their rows as the engine left them: Python floats."""
    sc = odder_log.scenario
    rows: list[list[Any]] = []
    for r in range(2):
        for m in odder_log.models:
            sim = Simulation(sc, m, r, odder_log.fte[m], record_events=True)
            sim.run()
            rows.extend(sim.events or [])
    return rows


# --------------------------------------------------------------------------- item 2: exact times


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_times_are_the_engines_to_the_last_bit(
    tmp_path: Path, fmt: str, odder_log: ExperimentResult, engine_rows: list[list[Any]]
) -> None:
    """Run in worker processes, written and read back, every start and end equals the engine's
    float exactly, although the first rows of the log are at day 0; the timestamps are the start
    date plus those days."""
    rows = engine_rows
    assert rows[0][F["start_day"]] == 0  # the case that used to cut times to whole days
    assert any(r[F["start_day"]] != math.floor(r[F["start_day"]]) for r in rows)
    path = write_events(tmp_path, odder_log, fmt, dt.date(2025, 3, 1))
    back = eventlog.read(path)
    assert back.schema == pl.Schema(eventlog.schema())
    # Without the declared schema too: a reader that guesses types still sees floats.
    guessed = pl.read_csv(path) if fmt == "csv" else pl.read_parquet(path)
    assert guessed.schema["start_day"] == pl.Float64
    key = ("model", "replication", "citizen", "activity", "start_day", "end_day")
    written = Counter(back.select(key).iter_rows())
    engine = Counter(tuple(r[F[k]] for k in key) for r in rows)
    assert written == engine
    day0 = dt.datetime(2025, 3, 1)
    for start, end, s_time, e_time in back.select(
        "start_day", "end_day", "start_time", "end_time"
    ).iter_rows():
        assert s_time == day0 + dt.timedelta(microseconds=round(start * 86_400_000_000))
        assert (e_time is None) == (end is None)


# --------------------------------------------------------------------------- item 12: contents


def _known_scenario(**experiment: Any):  # type: ignore[no-untyped-def]
    """Classic with every branch switched off: one segment of need 3 h/week reached in exactly
    10 weeks, all eligible, no rework, no short course, no reviews, no start-up meeting, no
    drop-out, no giving up, no re-referral. Its full pathway is known by hand."""
    over = {
        "segments": [
            {
                "name": "only",
                "share": 1.0,
                "need_hours_per_week": {"kind": "fixed", "value": 3.0},
                "weeks_to_goal": {"kind": "fixed", "value": 10.0},
                "eligible_probability": 1.0,
            }
        ],
        "initial_caseload": {"in_support": 0, "waiting": 0},
        "exits": {
            "abandon_waiting_per_year": 0,
            "dropout_per_year": 0,
            "rereferral_probability": 0,
        },
        "models": {
            "known": {
                "extends": "classic",
                "accuracy": {"error_sd": 0.0},
                "rework": {"probability": 0.0},
                "routing": {"short_course_share": 0.0},
                "review": {"cadence_weeks": 0},
                "startup_meeting": {"enabled": False},
            }
        },
        "compare": ["known"],
    }
    return make_scenario(over, **experiment)


KNOWN_PATHWAY = (
    "referral",
    "assessment meeting",
    "assessment",
    "first contact documentation",
    "hearing and statements",
    "waiting for committee",
    "decision",
    "order and handoff",
    "transfer to provider",
    "support waiting list",
    "support",
    "exit: completed",
)


def test_pm4py_reads_the_known_pathway(tmp_path: Path) -> None:
    """pm4py finds one case per referral (counted from the arrival stream) and only the known
    pathway or, for citizens still in it at the end, a beginning of it; every support episode
    shows its granted 3 h/week and lasts exactly the 10 weeks to the goal."""
    sc = _known_scenario(replications=2, horizon_weeks=78, warmup_weeks=0)
    res = run_experiment(sc, jobs=1, record_events=True)
    log = _pm4py_log(write_events(tmp_path, res, "csv"))
    seed = sc.experiment.seed
    referrals = sum(len(list(referral_times(sc, seed, (r,), None))) for r in range(2))
    assert log["case:concept:name"].nunique() == referrals
    variants = pm4py.get_variants(log)
    assert sum(variants.values()) == referrals
    for variant in variants:
        assert variant == KNOWN_PATHWAY[: len(variant)], variant
    years = sc.experiment.horizon_weeks / WEEKS_PER_YEAR
    completed = sum(res.values("known", "completed_per_year")) * years
    assert variants[KNOWN_PATHWAY] == pytest.approx(completed, abs=1e-6)
    assert completed > 50  # the check has something to count
    support = log[log["concept:name"] == "support"]
    assert (support["granted_hours_per_week"] == 3.0).all()
    done = support[support["lifecycle"] == "complete"]
    lengths = (done["end_day"] - done["start_day"]).tolist()
    assert lengths == pytest.approx([10 * DAYS_PER_WEEK] * len(lengths), abs=1e-9)
    assert set(done["resource"]) == {"provider"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_pm4py_cases_and_variants_match_the_engine(
    tmp_path: Path, fmt: str, odder_log: ExperimentResult
) -> None:
    """Odder, both models, two replications in one log: pm4py sees one case per citizen of each
    model and replication (case ids never collide), the variants rebuilt from the engine's own
    rows, and exits by reason equal to the engine's totals."""
    log = _pm4py_log(write_events(tmp_path, odder_log, fmt))
    cases = _cases(_rows(odder_log.events))
    reps = odder_log.replications
    assert len(cases) == sum(r.diagnostics["referred_total"] for r in reps)
    assert log["case:concept:name"].nunique() == len(cases)
    expected = Counter(tuple(r[F["activity"]] for r in rows) for rows in cases.values())
    assert pm4py.get_variants(log) == dict(expected)
    ends = Counter()
    for variant, n in pm4py.get_variants(log).items():
        ends[EXIT_OF.get(variant[-1], "open")] += n
    for reason in eventlog.EXIT:
        assert ends[reason] == sum(r.diagnostics["exited_total"][reason] for r in reps), reason
    assert ends["open"] == sum(r.diagnostics["active"] for r in reps)
    starts = pm4py.get_start_activities(log)
    initial = odder_log.scenario.initial_caseload
    n_models = len(odder_log.models)
    assert starts[eventlog.INITIAL] == (initial.in_support + initial.waiting) * 2 * n_models


def test_window_counts_match_the_replications_table(odder_log: ExperimentResult) -> None:
    """Referrals and exits by reason counted in the log after the warm-up equal the per-year
    figures of the replications table times the window's years, per model and replication."""
    df = eventlog.frame(odder_log.events)
    exp = odder_log.scenario.experiment
    warm = exp.warmup_weeks * DAYS_PER_WEEK
    years = (exp.horizon_weeks - exp.warmup_weeks) / WEEKS_PER_YEAR
    metric = {
        eventlog.REFERRAL: "referred_per_year",
        eventlog.EXIT["completed"]: "completed_per_year",
        eventlog.EXIT["dropout"]: "dropouts_per_year",
        eventlog.EXIT["abandoned"]: "abandoned_per_year",
        eventlog.EXIT["rejected"]: "rejected_per_year",
    }
    counted = Counter(
        df.filter(pl.col("start_day") >= warm)
        .select("model", "replication", "activity")
        .iter_rows()
    )
    for r in odder_log.replications:
        for activity, name in metric.items():
            n = counted[(r.model, r.replication, activity)]
            assert n == pytest.approx(r.metrics[name] * years, abs=1e-6), (r.model, activity)


def test_unfinished_activities_are_open(odder_log: ExperimentResult) -> None:
    """What had started but not finished at the horizon is in the log, open, with no end: each
    citizen still in support has an open support row, each still waiting an open waiting-list
    row, and no closed row ends after the horizon."""
    df = eventlog.frame(odder_log.events)
    end = odder_log.scenario.experiment.horizon_weeks * DAYS_PER_WEEK
    open_rows = df.filter(pl.col("lifecycle") == eventlog.OPEN)
    assert open_rows["end_day"].null_count() == open_rows.height > 0
    assert open_rows["end_time"].null_count() == open_rows.height
    assert (open_rows["start_day"] <= end).all()
    assert (df.filter(pl.col("lifecycle") == eventlog.COMPLETE)["end_day"] <= end).all()
    per_rep = Counter(open_rows.select("model", "replication", "activity").iter_rows())
    for r in odder_log.replications:
        in_stage = r.diagnostics["in_system"]
        supported = per_rep[(r.model, r.replication, eventlog.SUPPORT)]
        supported += per_rep[(r.model, r.replication, eventlog.SHORT_COURSE)]
        assert supported == in_stage["support"]
        waiting = per_rep[(r.model, r.replication, eventlog.WAITING_LIST)]
        assert waiting == in_stage["support_queue"]


def test_joint_activities_name_both_groups(odder_log: ExperimentResult) -> None:
    """An activity in which both groups put hours names both ('authority+provider'), including
    the joint review meeting whose provider hours come out of the citizen's support; one done by
    one group names that group only. Expected resources come from the scenario's settings."""
    df = eventlog.frame(odder_log.events)
    grouped = df.group_by("model", "activity").agg(pl.col("resource").unique())
    seen = {(m, a): set(res) for m, a, res in grouped.iter_rows()}
    sc = odder_log.scenario
    for model, activity, act in (
        ("joint", "joint meeting", sc.model("joint").first_contact.meeting),
        ("joint", "joint review meeting", sc.model("joint").review.meeting),
        ("classic", "assessment meeting", sc.model("classic").first_contact.meeting),
        ("classic", "review meeting", sc.model("classic").review.meeting),
        ("classic", "provider status report", sc.model("classic").review.report),
    ):
        groups = [g for g in ("authority", "provider") if getattr(act, f"{g}_hours") > 0]
        assert seen[(model, activity)] == {"+".join(groups)}, (model, activity)
    assert seen[("joint", "joint meeting")] == {"authority+provider"}


def test_grant_adjustments_close_the_gap_geometrically(odder_log: ExperimentResult) -> None:
    """The joint preset closes half the gap between grant and need at each review: successive
    grants of one episode (the support row's, then each 'grant adjusted') change by half the
    previous change, as far as the log shows them."""
    share = odder_log.scenario.model("joint").review.adjust_hours
    checked = 0
    for (model, _, _), rows in _cases(_rows(odder_log.events)).items():
        if model != "joint":
            continue
        grants = [
            r[F["granted_hours_per_week"]]
            for r in rows
            if r[F["activity"]] in (eventlog.SUPPORT, eventlog.GRANT_ADJUSTED)
        ]
        for g0, g1, g2 in zip(grants, grants[1:], grants[2:], strict=False):
            assert g2 - g1 == pytest.approx((1 - share) * (g1 - g0), abs=1e-9)
            checked += 1
    assert checked > 20


# --------------------------------------------------------------------------- from the log alone


def _area_and_entries(
    spans: list[tuple[float, float | None]], warm: float, end: float
) -> tuple[float, int, float]:
    """Time-integral of how many spans are open during [warm, end), the spans that begin in it,
    and their mean length (open ones cut at ``end``)."""
    area, entries, total = 0.0, 0, 0.0
    for s, e in spans:
        stop = end if e is None else min(e, end)
        area += max(0.0, stop - max(s, warm))
        if warm <= s < end:
            entries += 1
            total += stop - s
    return area, entries, total / entries if entries else math.nan


@pytest.mark.parametrize("model", ["classic", "joint"])
def test_littles_law_and_conservation_from_the_log(model: str) -> None:
    """From the event log alone: every case starts once and leaves at most once, as its last
    event; referred = exited by reason + still open at the end; and for the waiting list, support
    and the whole stay, the time-average number = entry rate x mean time (Little's law). Only then
    are the log's averages held against the engine's reported means, which its stage book made."""
    sc = make_scenario(horizon_weeks=52 * 30, warmup_weeks=104)
    sim = Simulation(sc, model, 0, sc.staffing_fte(), record_events=True)
    rep = sim.run()
    cases = _cases(_rows([rep.events]))
    starts = {eventlog.REFERRAL, eventlog.INITIAL}
    exits = Counter()
    stays: list[tuple[float, float | None]] = []
    for rows in cases.values():
        acts = [r[F["activity"]] for r in rows]
        assert acts[0] in starts and not starts & set(acts[1:])
        out = [a for a in acts if a in EXIT_OF]
        assert out in ([], [acts[-1]])
        exits[EXIT_OF[out[0]] if out else "open"] += 1
        stays.append((rows[0][F["start_day"]], rows[-1][F["end_day"]] if out else None))
    assert len(cases) == sum(exits.values())
    d = rep.diagnostics  # the engine's totals, kept apart from its stage book
    assert len(cases) == d["referred_total"]
    assert {k: exits[k] for k in eventlog.EXIT} == d["exited_total"]
    assert exits["open"] == d["active"]

    warm, end = sim.warmup, sim.end
    in_stage = {
        "support_queue": (eventlog.WAITING_LIST,),
        "support": (eventlog.SUPPORT, eventlog.SHORT_COURSE),
    }
    spans = {"stay": stays}
    for stage, acts in in_stage.items():
        spans[stage] = [
            (r[F["start_day"]], r[F["end_day"]])
            for rows in cases.values()
            for r in rows
            if r[F["activity"]] in acts
        ]
    window = end - warm
    stage_means = sum(rep.metrics[f"{stage}_mean_citizens"] for stage in STAGES)
    for name, s in spans.items():
        area, entries, mean_days = _area_and_entries(s, warm, end)
        assert entries > 200, name
        big_l, lam = area / window, entries / window
        assert big_l == pytest.approx(lam * mean_days, rel=0.06), (name, big_l, lam * mean_days)
        # The engine's reported mean (from its stage book) agrees with the log's.
        reported = stage_means if name == "stay" else rep.metrics[f"{name}_mean_citizens"]
        assert big_l == pytest.approx(reported, rel=1e-9), name


# --------------------------------------------------------------------------- the command line

SHORT = ["--reps", "2", "--set", "experiment.horizon_weeks=60", "--set",
         "experiment.warmup_weeks=8", "--no-report", "--events"]  # fmt: skip


def test_events_start_date_and_same_bytes_for_any_jobs(tmp_path: Path) -> None:
    """``--events-start`` sets the calendar date of day 0, and the log is byte-identical
    whether one or two workers ran the replications."""
    paths = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}"
        args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", jobs, *SHORT]
        result = CliRunner().invoke(app, ["run", *args, "--events-start", "2024-02-29"])
        assert result.exit_code == 0, result.output
        paths.append(out / "events.csv")
    assert paths[0].read_bytes() == paths[1].read_bytes()
    df = eventlog.read(paths[0])
    first = df.filter(pl.col("activity") == eventlog.INITIAL)["start_time"]
    assert set(first) == {dt.datetime(2024, 2, 29)}
    bad = tmp_path / "bad"
    args = [
        str(SCENARIOS / "odder.yaml"),
        "--out",
        str(bad),
        *SHORT,
        "--events-start",
        "2024-02-30",
    ]
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 2
    assert "--events-start" in result.output and "2024-02-30" in result.output
    assert "Traceback" not in result.output
    assert not bad.exists()


def test_readme_documents_every_column() -> None:
    """The README's event-log table names every column the log has, and only those."""
    readme = (SCENARIOS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### The event log", 1)[1].split("\n#", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    cells = [line.split("|")[1].replace("`", "") for line in table]
    named = {name.strip() for cell in cells for name in cell.split(",")}
    assert named == {c.name for c in eventlog.COLUMNS}
