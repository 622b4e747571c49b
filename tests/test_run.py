"""`sim run`: the results folder, reproducibility, and what bad input does."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.model import eventlog

from .conftest import SCENARIOS

FAST = [
    "--reps",
    "3",
    "--set",
    "experiment.horizon_weeks=156",
    "--set",
    "experiment.warmup_weeks=26",
    "--no-report",
]
TABLES = ("replications.csv", "summary.csv", "differences.csv", "timeseries.csv")


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *args])
    return result.exit_code, result.output


def test_results_folder_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, output = run([str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST])
    assert code == 0, output
    for name in (*TABLES, "scenario.yaml", "manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 20260101
    assert manifest["replications"] == 3
    assert manifest["versions"]["simpy"]
    assert manifest["git_revision"]
    assert manifest["queue_discipline"]["support"] == "fifo"
    assert "Helped" in output and "joint - classic" in output
    # The resolved scenario reruns to the same tables.
    out2 = tmp_path / "r2"
    code, output = run(
        [str(out / "scenario.yaml"), "--out", str(out2), "--jobs", "1", "--no-report"]
    )
    assert code == 0, output
    assert (out / "summary.csv").read_bytes() == (out2 / "summary.csv").read_bytes()
    summary = pl.read_csv(out / "summary.csv")
    assert set(summary["model"]) == {"classic", "joint"}
    assert summary.filter(pl.col("metric") == "helped_per_year")["unit"][0] == "citizens/year"


def test_same_seed_same_bytes_for_any_jobs(tmp_path: Path) -> None:
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}"
        code, output = run(
            [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", jobs, *FAST]
        )
        assert code == 0, output
        outs.append(out)
    for name in TABLES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_another_seed_gives_other_numbers(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run([str(SCENARIOS / "odder.yaml"), "--out", str(a), "--jobs", "1", *FAST])[0] == 0
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(b), "--jobs", "1", "--seed", "99", *FAST]
    assert run(args)[0] == 0
    assert (a / "replications.csv").read_bytes() != (b / "replications.csv").read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_event_log(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "r"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST]
    code, output = run([*args, "--events", "--events-format", fmt])
    assert code == 0, output
    path = out / f"events.{fmt}"
    df = pl.read_csv(path) if fmt == "csv" else pl.read_parquet(path)
    assert df.columns == [c.name for c in eventlog.COLUMNS]
    assert (df["end_day"] >= df["start_day"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["events"] == {"format": fmt, "start_date": "2026-01-01"}
    activities = set(df["activity"])
    assert {"joint meeting", "assessment meeting", "support"} <= activities
    assert set(df["model"]) == {"classic", "joint"}


def test_broken_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (SCENARIOS / "odder.yaml").read_text().replace("rate_per_week: 3.0", "rate_per_week: -3")
    bad.write_text(text)
    out = tmp_path / "results"
    code, output = run([str(bad), "--out", str(out / "x")])
    assert code == 2
    assert "bad.yaml:" in output and "rate_per_week" in output
    assert "Traceback" not in output
    assert not out.exists()


def test_bad_set_names_the_argument(tmp_path: Path) -> None:
    out = tmp_path / "x"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out)]
    code, output = run([*args, "--set", "experiment.warmup_weeks=9999"])
    assert code == 2
    assert "--set experiment.warmup_weeks=9999" in output
    assert not out.exists()


def test_failed_run_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that fails half-way leaves neither the folder nor its temporary twin."""
    import sim.store.results as results

    def boom(folder: Path, result: object) -> None:
        (folder / "replications.csv").write_text("partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(results, "write_tables", boom)
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app, ["run", str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST]
    )
    assert result.exit_code != 0
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_pairs_on_request(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST]
    models = "classic,joint,joint_meeting_only"
    code, output = run([*args, "--models", models, "--pairs", "joint:joint_meeting_only"])
    assert code == 0, output
    diffs = pl.read_csv(out / "differences.csv")
    assert set(diffs["comparison"]) == {"joint - joint_meeting_only"}
    code, output = run([*args, "--out", str(tmp_path / "x"), "--pairs", "joint:nope"])
    assert code == 2 and "nope" in output


def test_report_and_compare_commands(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = [str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST[:-1]]
    code, output = run([*args, "--lang", "da"])
    assert code == 0, output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'lang="da"' in html
    res = CliRunner().invoke(app, ["report", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    # The English report is a file of its own: the command's Danish report.html stays.
    assert 'lang="en"' in (out / "report.en.html").read_text(encoding="utf-8")
    assert (out / "report.html").read_text(encoding="utf-8") == html
    res = CliRunner().invoke(
        app, ["compare", str(out), str(out), "--out", str(tmp_path / "c.html")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c.html").stat().st_size > 1_000_000  # plotly.js inlined once
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a results folder" in res.output


def test_saved_scenario_spells_out_presets(tmp_path: Path) -> None:
    """The saved scenario holds the full settings of the presets it ran, not just their names."""
    out = tmp_path / "r"
    assert run([str(SCENARIOS / "odder.yaml"), "--out", str(out), "--jobs", "1", *FAST])[0] == 0
    from ruamel.yaml import YAML

    from sim.config.loader import load_scenario

    text = (out / "scenario.yaml").read_text(encoding="utf-8")
    spelled = YAML(typ="safe").load(text)["models"]
    assert {"classic", "joint"} <= set(spelled)
    assert spelled["joint"]["review"]["cadence_weeks"] == 13
    # Loaded back, a preset spelled out as it is today is that preset; one a later version has
    # changed keeps the settings it ran with.
    saved = load_scenario(out / "scenario.yaml")
    assert saved.model("joint") == load_scenario(SCENARIOS / "odder.yaml").model("joint")
    changed = text.replace("cadence_weeks: 13", "cadence_weeks: 12")
    assert changed != text
    (out / "later.yaml").write_text(changed, encoding="utf-8")
    assert load_scenario(out / "later.yaml").model("joint").review.cadence_weeks == 12


def test_replications_split_per_model_give_the_same_results_and_count_in_replications() -> None:
    """o1-overhead: on several workers each replication runs as one task per model (the last
    task idles a worker half as long). Each model's results are those of the pair task, field by
    field, and the progress still counts replications."""
    import numpy as np

    from sim.run.experiment import (
        per_model,
        replication_tasks,
        resolve_fte,
        run_experiment,
        run_task,
    )  # fmt: skip

    from .conftest import make_scenario

    sc = make_scenario(replications=3, horizon_weeks=60, warmup_weeks=10)
    names = tuple(sc.compare)
    pairs = replication_tasks(sc, names, 3, resolve_fte(sc, names))
    split = per_model(pairs)
    assert [(t.replication, t.models) for t in split] == [
        (r, (m,)) for r in range(3) for m in names
    ]
    together = [res for t in pairs for res in run_task(t)]
    alone = [res for t in split for res in run_task(t)]
    assert [(r.replication, r.model, r.metrics) for r in alone] == [
        (r.replication, r.model, r.metrics) for r in together
    ]
    assert all(
        np.array_equal(a.timeseries, b.timeseries) for a, b in zip(alone, together, strict=True)
    )
    seen: list[tuple[int, int]] = []
    res = run_experiment(sc, jobs=2, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(k, 3) for k in range(1, 4)]
    assert [(r.replication, r.model, r.metrics) for r in res.replications] == [
        (r.replication, r.model, r.metrics) for r in together
    ]
