"""The what-if use case of `sim app` (sim.app.whatif), without Streamlit: controls become validated
overrides, replications stream in and end in the tables of `sim run`, a stale run is abandoned
with its workers, finished what-ifs come from the cache, and `sim app` stops its whole process
group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import psutil
import pytest
from typer.testing import CliRunner

from sim.app import whatif
from sim.cli import app
from sim.config.loader import ScenarioError, dump_resolved, load_scenario, load_scenario_text
from sim.model.scenario import MECHANISMS, VisitationModel, preset_settings

from .conftest import TEST_BASE

ROOT = Path(__file__).resolve().parent.parent
ODDER = ROOT / "scenarios" / "odder.yaml"
SHORT = ["experiment.horizon_weeks=130", "experiment.warmup_weeks=26", "experiment.replications=3"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' frozen Odder-like base (budget 16.5 M DKK, 2.5 + 28 FTE, no model settings of its
    own) with a short horizon and 3 replications, as a scenario file of its own."""
    sc = load_scenario(TEST_BASE, SHORT)
    path = tmp_path_factory.mktemp("whatif") / "small.yaml"
    path.write_text(dump_resolved(sc), encoding="utf-8")
    return path


def sim_run(scenario: Path, out: Path, *sets: str) -> Path:
    args = ["run", str(scenario), "--out", str(out), "--no-report", "--jobs", "2"]
    result = CliRunner().invoke(app, [*args, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.output
    return out


# --------------------------------------------------------------------------- controls


def test_unmoved_controls_give_the_scenario_itself(small: Path) -> None:
    base = whatif.load(small)
    start = whatif.start_controls(base.scenario)
    assert start.budget_dkk == 16_500_000 and start.replications == 3
    assert (start.authority_fte, start.provider_fte, start.rate_per_week) == (2.5, 28, 3.0)
    assert whatif.overrides(start, start) == []
    assert whatif.load(small, whatif.overrides(start, start)).key == base.key


def test_each_moved_control_is_one_override_naming_its_control(small: Path) -> None:
    base = whatif.load(small)
    start = whatif.start_controls(base.scenario)
    now = replace(start, budget_dkk=17e6, rate_per_week=3.6, replications=4)
    sets = whatif.overrides(start, now, lambda k: f"<{k}>")
    assert [s.option for s in sets] == [
        "<budget>: budget.annual_dkk=17000000",
        "<rate>: arrivals.rate_per_week=3.6",
        "<replications>: experiment.replications=4",
    ]
    sc = whatif.load(small, sets).scenario
    assert sc.budget.annual_dkk == 17e6 and sc.arrivals.rate_per_week == 3.6
    assert sc.experiment.replications == 4


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ({"budget_dkk": -5.0}, "<budget>: budget.annual_dkk=-5", "Input should be greater than 0"),
        ({"budget_dkk": 10e6}, "small.yaml:", "staff cost 16,185,000 DKK/year exceeds the budget"),
        ({"replications": 1}, "<replications>: experiment.replications=1", "or equal to 2"),
        (
            {"staffing_mode": "share", "authority_share": 1.5},
            "<staffing>: staffing={mode: share, authority_share: 1.5}",
            "Input should be less than or equal to 1 (found 1.5); shares are 0-1",
        ),
        ({"rate_per_week": -1.0}, "<rate>: arrivals.rate_per_week=-1", "greater than 0"),
    ],
)
def test_a_bad_control_gets_the_loaders_words(
    small: Path, change: dict[str, object], where: str, words: str
) -> None:
    start = whatif.start_controls(whatif.load(small).scenario)
    sets = whatif.overrides(start, replace(start, **change), lambda k: f"<{k}>")
    with pytest.raises(ScenarioError) as err:
        whatif.load(small, sets)
    text = err.value.format()
    assert words in text and where in text
    # the same override on the command line gets the same words from `sim run --set`
    cli = CliRunner().invoke(app, ["run", str(small), "--set", str(sets[0]), "--no-report"])
    assert cli.exit_code == 2 and words in cli.output


def test_switching_one_mechanism_builds_a_hybrid_of_the_presets(small: Path) -> None:
    base = whatif.load(small)
    start = whatif.start_controls(base.scenario)
    assert {start.mechanisms[("joint", m)] for m in MECHANISMS} == {"joint"}
    mechanisms = dict(start.mechanisms)
    mechanisms[("joint", "review")] = "classic"
    sc = whatif.load(small, whatif.overrides(start, replace(start, mechanisms=mechanisms))).scenario
    joint = sc.model("joint").model_dump(mode="json")
    classic = VisitationModel.model_validate(preset_settings("classic")).model_dump(mode="json")
    preset = VisitationModel.model_validate(preset_settings("joint")).model_dump(mode="json")
    assert joint["review"] == classic["review"] != preset["review"]
    assert all(joint[m] == preset[m] for m in MECHANISMS if m != "review")
    assert whatif.mechanism_source(sc, "joint", "review") == "classic"
    assert sc.model("classic").model_dump(mode="json") == classic


def _set_in_file(path: Path) -> set[tuple[str, str]]:
    """(model, mechanism) pairs that the file's own ``models:`` section sets, read from its text."""
    from ruamel.yaml import YAML

    models = YAML(typ="safe").load(path.read_text(encoding="utf-8")).get("models", {})
    return {(m, k) for m, body in models.items() for k in MECHANISMS if k in body}


def test_the_shipped_odders_own_mechanism_settings_are_the_starting_point() -> None:
    """Odder sets some step hours of its classic and joint models: those mechanisms start at
    "scenario" (its own settings, no override), the others at their model's preset."""
    base = whatif.load(ODDER)
    start = whatif.start_controls(base.scenario)
    own = _set_in_file(ODDER) & set(start.mechanisms)
    assert own, "the shipped Odder sets no mechanism of a compared model"
    for (model, mechanism), source in start.mechanisms.items():
        assert source == ("scenario" if (model, mechanism) in own else model), (model, mechanism)
        assert ("scenario" in whatif.sources(source)) is (source == "scenario")
    assert whatif.overrides(start, start) == []
    # switching one of them to a preset gives that preset's setting, the rest stays Odder's; the
    # file's uncertainty ranges for the joint review's hours do not stop the switch (a --set moves
    # a value out of its range on purpose)
    model, mechanism, other = "joint", "review", "classic"
    assert (model, mechanism) in own
    assert any(p.startswith("models.joint.review.") for p in base.scenario.provenance or {})
    now = replace(start, mechanisms={**start.mechanisms, (model, mechanism): other})
    sc = whatif.load(ODDER, whatif.overrides(start, now)).scenario
    preset = VisitationModel.model_validate(preset_settings(other)).model_dump(mode="json")
    mine, before = sc.model(model).model_dump(mode="json"), base.scenario.model(model)
    assert mine[mechanism] == preset[mechanism] != before.model_dump(mode="json")[mechanism]
    assert all(mine[k] == before.model_dump(mode="json")[k] for k in MECHANISMS if k != mechanism)


def test_the_downloaded_yaml_validates_and_is_the_same_what_if(small: Path) -> None:
    base = whatif.load(small)
    start = whatif.start_controls(base.scenario)
    mechanisms = {**start.mechanisms, ("classic", "first_contact"): "joint"}
    now = replace(start, budget_dkk=17.5e6, mechanisms=mechanisms)
    wi = whatif.load(small, whatif.overrides(start, now))
    text = whatif.scenario_yaml(wi)
    again = load_scenario_text(text, "downloaded.yaml", small.parent)
    assert whatif.whatif_key(again) == wi.key
    path = small.parent / "downloaded.yaml"
    path.write_text(text, encoding="utf-8")
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0


def test_the_key_changes_with_every_input_and_only_then(small: Path) -> None:
    a, b = whatif.load(small), whatif.load(small, ["experiment.replications=4"])
    c = whatif.load(small, ["budget.annual_dkk=16500001"])
    assert len({a.key, b.key, c.key}) == 3
    assert whatif.load(small, ["budget.annual_dkk=16500000.0"]).key == a.key


# --------------------------------------------------------------------------- streaming


def test_replications_sharpen_and_end_in_the_tables_of_sim_run(small: Path, tmp_path: Path) -> None:
    sets = ["budget.annual_dkk=17000000"]
    run = pl.read_csv(sim_run(small, tmp_path / "run", *sets) / "replications.csv")
    wi = whatif.load(small, sets)
    updates = list(whatif.sharpen(wi, jobs=2, cache=whatif.ResultCache()))
    assert [u.partial.done for u in updates] == [1, 2, 3]
    assert {u.key for u in updates} == {wi.key}
    for u in updates:  # each partial mean is the mean of the replications finished so far
        reps = sorted({r.replication for r in u.partial.result.replications})
        helped = run.filter(
            (pl.col("model") == "joint")
            & (pl.col("metric") == "helped_per_year")
            & pl.col("replication").is_in(reps)
        )["value"]
        assert len(reps) == u.partial.done
        mean = u.partial.result.summary()["joint"]["helped_per_year"].mean
        assert mean == pytest.approx(float(np.mean(helped.to_numpy())), rel=1e-12)
    folder = whatif.write_folder(tmp_path / "app", wi, updates[-1].partial.result, "en", 2)
    for name in ("summary.csv", "differences.csv", "replications.csv", "timeseries.csv"):
        assert (folder / name).read_bytes() == (tmp_path / "run" / name).read_bytes(), name
    assert (folder / "report.html").is_file()
    book = openpyxl.load_workbook(folder / "tables.xlsx", read_only=True)
    cells = {c for ws in book for row in ws.iter_rows(values_only=True) for c in row}
    summary = pl.read_csv(tmp_path / "run" / "summary.csv")
    helped = summary.filter((pl.col("model") == "joint") & (pl.col("metric") == "helped_per_year"))
    numbers = [c for c in cells if isinstance(c, float)]  # numbers stored as numbers
    assert any(c == pytest.approx(helped["mean"][0], rel=1e-12) for c in numbers)


def test_the_page_warns_like_the_report(small: Path, tmp_path: Path) -> None:
    """Every warning the run's report shows for these results, the page shows too."""
    from sim.present.report import cautions
    from sim.store.reader import load_results

    wi = whatif.load(small)
    result = list(whatif.sharpen(wi, jobs=1, cache=whatif.ResultCache()))[-1].partial.result
    folder = whatif.write_folder(tmp_path / "w", wi, result, "da", 1)
    res = whatif.in_memory(result, whatif.run_manifest(result, 1, ["sim"]), "w")
    expected = cautions(load_results(folder), "da")
    assert expected and sorted(whatif.warnings_of(res, result, "da")) == sorted(expected)


def test_a_finished_what_if_comes_from_the_cache(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = whatif.ResultCache()
    wi = whatif.load(small)
    first = list(whatif.sharpen(wi, jobs=1, cache=cache))
    import sim.run.stream

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("ran again")

    monkeypatch.setattr(sim.run.stream, "stream_experiment", no_run)
    again = list(whatif.sharpen(wi, jobs=1, cache=cache))
    assert len(again) == 1 and again[0].cached and again[0].partial.complete
    assert again[0].partial.result is first[-1].partial.result
    other = whatif.load(small, ["experiment.replications=4"])
    with pytest.raises(AssertionError, match="ran again"):
        next(whatif.sharpen(other, jobs=1, cache=cache))


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = whatif.ResultCache(size=2)
    cache.put("a", "A")  # type: ignore[arg-type]
    cache.put("b", "B")  # type: ignore[arg-type]
    assert cache.get("a") == "A"
    cache.put("c", "C")  # type: ignore[arg-type]
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"


def _workers() -> list[psutil.Process]:
    """Worker processes: the children of this process's fork server."""
    servers = [
        p
        for p in psutil.Process().children()
        if "multiprocessing.forkserver" in " ".join(p.cmdline())
    ]
    return [w for s in servers for w in s.children()]


def test_abandoning_a_run_terminates_its_workers_at_once(small: Path) -> None:
    wi = whatif.load(small, ["experiment.replications=40"])
    updates = whatif.sharpen(wi, jobs=2, cache=whatif.ResultCache())
    first = next(updates)
    workers = _workers()
    assert first.partial.done == 1 and workers
    began = time.perf_counter()
    updates.close()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
    assert time.perf_counter() - began < 10
    assert not [p for p in _workers() if p.status() != psutil.STATUS_ZOMBIE]
    with pytest.raises(StopIteration):  # closed: nothing more comes, nothing half-mixed
        next(updates)


# --------------------------------------------------------------------------- sim app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(scenario: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "sim.cli", "app", str(scenario), "--port", str(port), *extra]
    return subprocess.Popen(
        cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        url = f"http://127.0.0.1:{port}/_stcore/health"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.3)
    raise AssertionError("the page did not come up")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sim_app_stops_the_page_and_everything_under_it(
    small: Path, sig: signal.Signals, code: int
) -> None:
    port = free_port()
    proc = start_app(small, port)
    try:
        wait_healthy(port, proc)
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert any("streamlit" in " ".join(p.cmdline()) for p in tree)
        listening = [c for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port]
        assert {c.laddr.ip for c in listening if c.status == "LISTEN"} == {"127.0.0.1"}
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) == code
        _, alive = psutil.wait_procs(tree, timeout=15)
        assert not alive, alive
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_sim_app_prints_an_invalid_scenarios_problems_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = TEST_BASE.read_text(encoding="utf-8")
    assert "annual_dkk: 16500000" in text
    bad.write_text(text.replace("annual_dkk: 16500000", "annual_dkk: -5"), encoding="utf-8")
    port = free_port()
    proc = start_app(bad, port)
    try:
        wait_healthy(port, proc)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "annual_dkk:" in s)
    assert f"bad.yaml:{line}:" in err and "budget.annual_dkk" in err
    valid = CliRunner().invoke(app, ["validate", str(bad)])
    assert valid.output.strip().splitlines()[0] in err


def test_sim_app_refuses_a_bad_language_or_port() -> None:
    res = CliRunner().invoke(app, ["app", "--lang", "xx"])
    assert res.exit_code == 2 and "--lang" in res.output
    res = CliRunner().invoke(app, ["app", "--port", "70000"])
    assert res.exit_code == 2 and "--port" in res.output
