"""Sweeps: expansion, located errors, identities, storage point by point, resume, executors
(local processes and a Dask cluster on loopback give the same bytes) and the sweep report."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.app import sweep as sweep_mod
from sim.app.sweep import run_sweep
from sim.cli import app
from sim.config.loader import ScenarioError
from sim.config.sweep_spec import expand, parameter_values, plan_sweep
from sim.model.scenario import SweepRange
from sim.present import i18n
from sim.run.sweep import LocalExecutor, auto_batch
from sim.store.sweep_folder import SWEEP_TABLES

from .conftest import odder_data

GRID = """sweep:
  parameters:
    budget.annual_dkk: [14000000, 18000000]
    arrivals.rate_per_week: {start: 2.5, stop: 3.5, step: 1}
"""


def base_text(**experiment: Any) -> str:
    """odder.yaml as YAML text: staff as a share of the budget, a tiny experiment."""
    data = odder_data()
    data["staffing"] = {"mode": "share", "authority_share": 0.1}
    data["experiment"] = {
        "seed": 11,
        "replications": 2,
        "horizon_weeks": 104,
        "warmup_weeks": 26,
        **experiment,
    }
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, buf)
    return buf.getvalue()


def write(folder: Path, sweep: str = GRID, name: str = "base.yaml", **experiment: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(base_text(**experiment) + sweep, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def sweep_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sweep", *args])
    return result.exit_code, result.output


def assert_same_tables(a: Path, b: Path) -> None:
    for name in SWEEP_TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("grid"))


@pytest.fixture(scope="module")
def reference(grid_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2 x 2 sweep run in this process (--jobs 1): the tables every other run must match."""
    out = tmp_path_factory.mktemp("ref") / "run"
    code, output = sweep_cli(str(grid_file), "--jobs", "1", "--out", str(out), "--no-report")
    assert code == 0, output
    return out


# --------------------------------------------------------------------------- expansion


def test_grid_varies_the_first_key_slowest_and_zip_pairs() -> None:
    params = {"a": [1, 2], "b": ["x", "y", "z"]}
    grid = expand("grid", params)
    assert len(grid) == 6
    assert grid[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    assert expand("zip", {"a": [1, 2], "b": [3, 4]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(ValueError, match="same length"):
        expand("zip", params)


def test_ranges_are_inclusive_and_whole_numbers_stay_ints() -> None:
    assert parameter_values(SweepRange(start=12e6, stop=24e6, step=4e6)) == [
        12_000_000,
        16_000_000,
        20_000_000,
        24_000_000,
    ]
    assert all(isinstance(v, int) for v in parameter_values(SweepRange(start=2, stop=6, step=2)))
    assert parameter_values(SweepRange(start=2, stop=4.5, step=0.5)) == [2, 2.5, 3, 3.5, 4, 4.5]
    assert parameter_values(SweepRange(start=0.1, stop=0.3, step=0.1)) == [0.1, 0.2, 0.3]
    assert parameter_values([3, "x"]) == [3, "x"]


def test_batches_keep_two_workers_busy() -> None:
    assert auto_batch(10, 40, 2) == 10  # enough points: one task per point
    assert auto_batch(10, 1, 2) == 2  # one point: split into ~8 tasks
    assert auto_batch(10, 3, 1) == 10  # in-process: no need to split


# --------------------------------------------------------------------------- the plan


def test_plan_lists_points_with_stable_independent_identities(grid_file: Path) -> None:
    plan = plan_sweep(grid_file)
    assert plan.parameters == ("budget.annual_dkk", "arrivals.rate_per_week")
    assert [p.params for p in plan.points] == [
        {"budget.annual_dkk": 14_000_000, "arrivals.rate_per_week": 2.5},
        {"budget.annual_dkk": 14_000_000, "arrivals.rate_per_week": 3.5},
        {"budget.annual_dkk": 18_000_000, "arrivals.rate_per_week": 2.5},
        {"budget.annual_dkk": 18_000_000, "arrivals.rate_per_week": 3.5},
    ]
    assert plan.points[3].scenario.budget.annual_dkk == 18_000_000
    assert plan.points[3].scenario.arrivals.rate_per_week == 3.5
    assert plan.points[3].scenario.sweep is None
    assert len({p.point_id for p in plan.points}) == 4
    assert len({p.stream_key for p in plan.points}) == 4
    again = plan_sweep(grid_file)
    assert [p.point_id for p in again.points] == [p.point_id for p in plan.points]
    # More replications: another results key, the same streams (replication r is unchanged).
    more = plan_sweep(grid_file, ["experiment.replications=5"])
    assert more.points[0].point_id != plan.points[0].point_id
    assert more.points[0].stream_key == plan.points[0].stream_key
    # Another seed: other streams.
    seeded = plan_sweep(grid_file, ["experiment.seed=12"])
    assert seeded.points[0].stream_key != plan.points[0].stream_key


def test_a_preset_setting_is_swept_on_the_preset(tmp_path: Path) -> None:
    path = write(
        tmp_path, "sweep:\n  parameters:\n    models.joint.review.cadence_weeks: [13, 26]\n"
    )
    plan = plan_sweep(path)
    joint = plan.points[1].scenario.model("joint")
    assert joint.review.cadence_weeks == 26
    assert joint.first_contact.joint  # the rest of the joint preset is kept
    assert not plan.points[1].scenario.model("classic").first_contact.joint


def test_zip_mode(tmp_path: Path) -> None:
    sweep = (
        "sweep:\n  mode: zip\n  parameters:\n    budget.annual_dkk: [14000000, 18000000]\n"
        "    arrivals.rate_per_week: [2.5, 3.5]\n"
    )
    plan = plan_sweep(write(tmp_path, sweep))
    assert [tuple(p.params.values()) for p in plan.points] == [(14e6, 2.5), (18e6, 3.5)]


# --------------------------------------------------------------------------- located errors


@pytest.mark.parametrize(
    ("sweep", "needle", "expect", "column"),
    [
        (
            "sweep:\n  parameters:\n    budget.anual_dkk: [14000000, 18000000]\n",
            "budget.anual_dkk",
            "did you mean 'annual_dkk'",
            5,
        ),
        (
            "sweep:\n  parameters:\n    budget.annual_dkk: [14000000, -5]\n",
            "budget.annual_dkk",
            "value -5: Input should be greater than 0",
            35,
        ),
        (
            "sweep:\n  parameters:\n    segments.7.share: [0.5]\n",
            "segments.7.share",
            "index 7 is out of range",
            5,
        ),
        (
            "sweep:\n  parameters:\n    arrivals.rate_per_week: {start: 4, stop: 2, step: 1}\n",
            "arrivals.rate_per_week",
            "expected stop >= start",
            5,
        ),
        (
            "sweep:\n  mode: zip\n  parameters:\n    budget.annual_dkk: [14000000, 18000000]\n"
            "    arrivals.rate_per_week: [2.5]\n",
            "mode: zip",
            "zip needs lists of the same length",
            3,
        ),
    ],
    ids=["unknown-key", "bad-value", "bad-index", "empty-range", "zip-lengths"],
)
def test_invalid_sweep_is_located_and_nothing_runs(
    tmp_path: Path, sweep: str, needle: str, expect: str, column: int
) -> None:
    path = write(tmp_path, sweep)
    out = tmp_path / "out"
    code, output = sweep_cli(str(path), "--jobs", "1", "--out", str(out))
    assert code == 2, output
    assert f"{path}:{line_of(path, needle)}:{column}:" in output
    assert expect in output
    assert "Traceback" not in output
    assert not out.exists()


def test_a_value_that_breaks_a_rule_elsewhere_points_at_the_value(tmp_path: Path) -> None:
    # Fixed staff cost 2.5 x 650,000 + 28 x 520,000 = 16.19 M DKK: a 12 M budget cannot pay it.
    sweep = "sweep:\n  parameters:\n    budget.annual_dkk: [17000000, 12000000]\n"
    path = write(tmp_path, sweep)
    text = path.read_text().replace(
        "staffing:\n  authority_share: 0.1\n  mode: share\n",
        "staffing:\n  mode: fixed\n  authority_fte: 2.5\n  provider_fte: 28\n",
    )
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        plan_sweep(path)
    report = info.value.format()
    assert f"{path}:{line_of(path, 'budget.annual_dkk: [')}:35:" in report
    assert "value 12000000 makes staffing invalid" in report
    assert "exceeds the budget" in report


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    sweep = (
        "sweep:\n  parameters:\n    budget.anual_dkk: [1]\n    arrivals.rate_per_week: [3, -1]\n"
    )
    with pytest.raises(ScenarioError) as info:
        plan_sweep(write(tmp_path, sweep))
    assert len(info.value.problems) == 2


# --------------------------------------------------------------------------- running


def test_results_folder_is_complete(reference: Path) -> None:
    for name in (*SWEEP_TABLES, "manifest.json"):
        assert (reference / name).is_file(), name
    points = pl.read_csv(reference / "points.csv")
    assert points.columns == [
        "point",
        "point_id",
        "source",
        "budget.annual_dkk",
        "arrivals.rate_per_week",
        "replications",
        "status",
        "error",
    ]
    assert points["status"].to_list() == ["ok"] * 4
    for pid in points["point_id"]:
        stored = reference / "points" / pid
        assert {p.name for p in stored.iterdir()} == {
            "scenario.yaml",
            "replications.csv",
            "point.json",
        }
    summary = pl.read_csv(reference / "summary.csv")
    assert set(summary["model"]) == {"classic", "joint"}
    assert summary.filter(pl.col("metric") == "helped_per_year").height == 8
    assert (summary["n"] == 2).all()
    diffs = pl.read_csv(reference / "differences.csv")
    assert set(diffs["comparison"]) == {"joint - classic"}
    reps = pl.read_csv(reference / "replications.csv")
    assert reps.select("point", "replication", "model").unique().height == 4 * 2 * 2
    meta = json.loads((reference / "manifest.json").read_text())
    assert meta["kind"] == "sweep" and meta["status"] == "complete"
    assert meta["counts"] == {"ok": 4, "failed": 0, "missing": 0}


def test_a_point_reruns_alone_with_sim_run(reference: Path, tmp_path: Path) -> None:
    pid = pl.read_csv(reference / "points.csv")["point_id"][3]
    scenario = reference / "points" / pid / "scenario.yaml"
    out = tmp_path / "one"
    result = CliRunner().invoke(
        app, ["run", str(scenario), "--out", str(out), "--jobs", "1", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    summary = pl.read_csv(out / "summary.csv")
    assert summary["n"].max() == 2
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["budget_dkk_per_year"] == 18_000_000
    # The point's own stream key is in its scenario.yaml: the rerun gives the same numbers.
    points = pl.read_csv(reference / "points.csv")
    swept = (
        pl.read_csv(reference / "replications.csv")
        .filter(pl.col("point") == int(points.filter(pl.col("point_id") == pid)["point"][0]))
        .select("replication", "model", "metric", "value")
        .sort("replication", "model", "metric")
    )
    alone = (
        pl.read_csv(out / "replications.csv")
        .select("replication", "model", "metric", "value")
        .sort("replication", "model", "metric")
    )
    assert swept.height > 0
    assert swept.equals(alone)


def test_jobs_2_gives_the_same_bytes_and_a_report(
    reference: Path, grid_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "j2"
    code, output = sweep_cli(str(grid_file), "--jobs", "2", "--out", str(out), "--lang", "da")
    assert code == 0, output
    assert_same_tables(reference, out)
    assert "4/4 done" in output  # plain progress lines when not on a terminal
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('<script id="plotlyjs"') == 1
    rest = re.sub(r'<script id="plotlyjs"[^>]*>.*?</script>', "", html, count=1, flags=re.S)
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=", rest)
    assert 'lang="da"' in html and "fig-heatmap" in html


def test_batching_does_not_change_the_numbers(
    reference: Path, grid_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b1"
    code, output = sweep_cli(
        str(grid_file), "--jobs", "2", "--batch", "1", "--out", str(out), "--no-report"
    )
    assert code == 0, output
    assert_same_tables(reference, out)


def test_interrupted_sweep_resumes_to_the_same_bytes(
    reference: Path, grid_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "int"
    plan = plan_sweep(grid_file)

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out, LocalExecutor(1), progress=stop_after_two)
    stored = [p for p in (out / "points").iterdir() if not p.name.startswith(".")]
    assert len(stored) == 2
    assert not any((out / name).exists() for name in SWEEP_TABLES)
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"

    code, output = sweep_cli(str(grid_file), "--out", str(out), "--jobs", "1", "--no-report")
    assert code == 2 and "--resume" in output  # an existing folder needs --resume

    code, output = sweep_cli(
        str(grid_file), "--resume", "--out", str(out), "--jobs", "2", "--no-report"
    )
    assert code == 0, output
    assert "2 points already done" in output
    assert_same_tables(reference, out)


def test_resume_reruns_a_lost_point_only(reference: Path, tmp_path: Path) -> None:
    out = Path(shutil.copytree(reference, tmp_path / "copy"))
    lost = pl.read_csv(out / "points.csv")["point_id"][1]
    shutil.rmtree(out / "points" / lost)
    for name in SWEEP_TABLES:
        (out / name).unlink()
    plan = plan_sweep(json.loads((out / "manifest.json").read_text())["target"])
    outcome = run_sweep(plan, out, LocalExecutor(1))
    assert (outcome.ran, outcome.skipped) == (1, 3)
    assert_same_tables(reference, out)


def test_a_failing_point_is_recorded_and_the_others_complete(
    reference: Path, grid_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_sweep(grid_file)
    bad = plan.points[2].point_id
    real = sweep_mod.run_batch

    def flaky(task: sweep_mod.BatchTask) -> sweep_mod.BatchResult:
        if task.key == bad:
            raise RuntimeError("engine exploded")
        return real(task)

    monkeypatch.setattr(sweep_mod, "run_batch", flaky)
    out = tmp_path / "fail"
    outcome = run_sweep(plan, out, LocalExecutor(1))
    assert outcome.counts == {"ok": 3, "failed": 1, "missing": 0}
    assert [p.index for p, _ in outcome.failed] == [2]
    points = pl.read_csv(out / "points.csv")
    assert points["status"].to_list() == ["ok", "ok", "failed", "ok"]
    assert points["error"][2] == "RuntimeError: engine exploded"
    assert set(pl.read_csv(out / "summary.csv")["point"]) == {0, 1, 3}
    assert "engine exploded" in (out / "points" / bad / "error.txt").read_text()
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "complete_with_failures"

    monkeypatch.setattr(sweep_mod, "run_batch", real)  # resume retries the failed point
    outcome = run_sweep(plan, out, LocalExecutor(1))
    assert (outcome.ran, outcome.skipped) == (1, 3)
    assert_same_tables(reference, out)


def test_a_folder_of_scenario_files(tmp_path: Path) -> None:
    folder = tmp_path / "variants"
    write(folder, "sweep:\n  parameters:\n    arrivals.rate_per_week: [2.5, 3]\n", "a.yaml")
    write(folder, "", "b.yaml", seed=99)
    (folder / "notes.txt").write_text("not a scenario")
    out = tmp_path / "out"
    code, output = sweep_cli(str(folder), "--jobs", "2", "--out", str(out), "--no-report")
    assert code == 0, output
    points = pl.read_csv(out / "points.csv")
    assert [Path(s).name for s in points["source"]] == ["a.yaml", "a.yaml", "b.yaml"]
    assert points["arrivals.rate_per_week"].to_list()[:2] == [2.5, 3.0]
    assert points["arrivals.rate_per_week"][2] is None
    assert json.loads((out / "manifest.json").read_text())["sweep"] == "variants"


# --------------------------------------------------------------------------- Dask on loopback


def _free_scheduler(tmp: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A Dask scheduler and two single-thread workers on 127.0.0.1, always stopped after."""
    bin_dir = Path(sys.executable).parent
    dask = str(bin_dir / "dask")
    sched_file = tmp / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    logs = (tmp / "dask.log").open("wb")
    procs: list[subprocess.Popen[bytes]] = []
    common = ["--no-dashboard"]
    try:
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--scheduler-file",
                    str(sched_file),
                    *common,
                ],
                stdout=logs,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.is_file(), "the Dask scheduler did not start"
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--local-directory",
                        str(tmp / f"w{i}"),
                        "--name",
                        f"w{i}",
                        *common,
                    ],
                    stdout=logs,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        logs.close()


@pytest.mark.dask
def test_dask_scheduler_on_loopback_gives_the_same_bytes(
    reference: Path, grid_file: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    for address, _procs in _free_scheduler(tmp_path):
        code, output = sweep_cli(
            str(grid_file), "--scheduler", address, "--out", str(out), "--no-report"
        )
        assert code == 0, output
    assert_same_tables(reference, out)
    assert (
        "Dask scheduler tcp://127.0.0.1:"
        in json.loads((out / "manifest.json").read_text())["executor"]
    )


@pytest.mark.dask
def test_local_dask_cluster_gives_the_same_bytes(
    reference: Path, grid_file: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "local-dask"
    code, output = sweep_cli(str(grid_file), "--workers", "2", "--out", str(out), "--no-report")
    assert code == 0, output
    assert_same_tables(reference, out)


@pytest.mark.dask
def test_scheduler_that_does_not_answer_is_a_clear_error(grid_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a free loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, output = sweep_cli(
            str(grid_file),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--out",
            str(tmp_path / "x"),
            "--no-report",
        )
    assert code == 1, output
    assert "cannot use the Dask cluster" in output
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- the report


def synthetic_sweep(folder: Path, shift: float) -> Path:
    """A 3 x 3 sweep folder whose joint - classic difference is ``x - shift`` with CI +-1."""
    from sim.present.sweep_report import load_sweep

    del load_sweep
    folder.mkdir(parents=True)
    xs, ys = [12_000_000, 16_000_000, 20_000_000], [2.0, 3.0, 4.0]
    pts, summ, diff = [], [], []
    for i, (x, y) in enumerate((x, y) for x in xs for y in ys):
        pts.append(
            {"point": i, "point_id": f"p{i}", "source": "s.yaml", "budget.annual_dkk": x,
             "arrivals.rate_per_week": y, "replications": 5, "status": "ok", "error": None}
        )  # fmt: skip
        d = (x / 4e6 - 4) - shift + (y - 3) * 0.5
        keys = {"point": i, "budget.annual_dkk": x, "arrivals.rate_per_week": y}
        stat = {"metric": "helped_per_year", "unit": "citizens/year", "sd": 1.0, "n": 5}
        for m, v in (("classic", 100.0), ("joint", 100.0 + d)):
            summ.append({**keys, "model": m, **stat, "mean": v, "ci_low": v - 5, "ci_high": v + 5})
        diff.append(
            {**keys, "comparison": "joint - classic", "model": "joint", "baseline": "classic",
             **stat, "mean": d, "ci_low": d - 1, "ci_high": d + 1}
        )  # fmt: skip
    pl.DataFrame(pts).write_csv(folder / "points.csv")
    pl.DataFrame(summ).write_csv(folder / "summary.csv")
    pl.DataFrame(diff).write_csv(folder / "differences.csv")
    meta = {
        "kind": "sweep",
        "sweep": "synthetic",
        "run_id": "r",
        "models": ["classic", "joint"],
        "parameters": ["budget.annual_dkk", "arrivals.rate_per_week"],
        "replications": [5],
    }
    (folder / "manifest.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize(("shift", "contours"), [(0.0, 2), (-20.0, 0)])
def test_heatmap_draws_break_even_contours_only_where_the_ci_crosses_zero(
    tmp_path: Path, shift: float, contours: int
) -> None:
    from sim.present.sweep_report import load_sweep, render_sweep_report, sweep_figures

    res = load_sweep(synthetic_sweep(tmp_path / "s", shift))
    for lang in ("en", "da"):
        figs = sweep_figures(res, lang)
        assert set(figs) == {"lines", "heatmap", "per_million"}
        heat = figs["heatmap"]
        assert heat.data[0].type == "heatmap"
        found = [tr for tr in heat.data if tr.type == "contour"]
        assert len(found) == contours
        for tr in found:  # the zero level of the mean, or the region where the CI includes 0
            c = tr.contours
            assert (c.start, c.end) == (0, 0) or (c.type, c.value) == ("constraint", 0)
        no_crossing = i18n.t("sweep.fig.heatmap.no_crossing", lang)
        assert (no_crossing in heat.layout.title.subtitle.text) == (contours == 0)
        html = render_sweep_report(res, lang, figs=figs)
        assert "fig-heatmap" in html and f'lang="{lang}"' in html
    # Helped per million DKK: the budget is the swept value, 100 / 12 at 12 M DKK.
    per_million = figs["per_million"]
    first = next(tr for tr in per_million.data if tr.mode == "lines+markers")
    assert math.isclose(first.y[0], 100 / 12)


def test_one_parameter_sweep_has_lines_but_no_heatmap(tmp_path: Path) -> None:
    from sim.present.sweep_report import load_sweep, render_sweep_report, sweep_figures

    folder = synthetic_sweep(tmp_path / "s", 0.0)
    points = pl.read_csv(folder / "points.csv")
    points = points.with_columns(pl.lit(3.0).alias("arrivals.rate_per_week"))
    points.write_csv(folder / "points.csv")
    res = load_sweep(folder)
    figs = sweep_figures(res, "en")
    assert set(figs) == {"lines", "per_million"}
    assert "needs two swept numeric parameters" in render_sweep_report(res, "en", figs=figs)
