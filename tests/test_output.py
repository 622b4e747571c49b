"""Issue 10 item 3: output problems are found before the work, or reported in one line after it
with the results kept in a rescue folder; two commands writing one folder do not collide."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.store.output import lock_path

from .conftest import SCENARIOS

FAST = ["--reps", "2", "--set", "experiment.horizon_weeks=104",
        "--set", "experiment.warmup_weeks=26", "--jobs", "1", "--no-report"]  # fmt: skip
ODDER = str(SCENARIOS / "odder.yaml")
ROOT = os.geteuid() == 0


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def one_line_error(output: str) -> str:
    """The output's single error line (and assert there is no traceback)."""
    assert "Traceback" not in output
    errors = [x for x in output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import sim.run.experiment

    started: list[str] = []
    monkeypatch.setattr(sim.run.experiment, "execute", lambda *a, **k: started.append("x") or [])
    return started


@contextlib.contextmanager
def tmpfs(path: Path, size: str, readonly: bool = False) -> Iterator[Path]:
    """A small tmpfs at ``path`` (root only), unmounted afterwards."""
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        if readonly:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nobody may write: a read-only tmpfs as root, else chmod 0555."""
    if ROOT:
        with tmpfs(path, "1m", readonly=True):
            yield path
        return
    path.mkdir()
    path.chmod(0o555)
    try:
        yield path
    finally:
        path.chmod(0o755)


# --------------------------------------------------------------------------- before any work


def test_out_below_a_file_is_refused_before_the_work(
    tmp_path: Path, no_simulation: list[str]
) -> None:
    (tmp_path / "file").write_text("x")
    code, output = cli("run", ODDER, *FAST, "--out", str(tmp_path / "file" / "sub" / "r"))
    assert code == 2
    assert "is a file, not a folder" in one_line_error(output)
    assert no_simulation == []


def test_read_only_out_is_refused_before_the_work(tmp_path: Path, no_simulation: list[str]) -> None:
    with read_only_folder(tmp_path / "ro") as ro:
        code, output = cli("run", ODDER, *FAST, "--out", str(ro / "r"))
        assert code == 2
        line = one_line_error(output)
        assert f"cannot write {ro / 'r'}" in line
        assert "Read-only file system" in line or "Permission denied" in line
        assert no_simulation == []
        for command in (["explain", ODDER], ["optimise", ODDER]):
            code, output = cli(*command, "--reps", "2", "--out", str(ro / "x"))
            assert code == 2 and "cannot write" in one_line_error(output)
        sweep = str(SCENARIOS / "sweeps" / "budget_and_demand.yaml")
        code, output = cli("sweep", sweep, "--reps", "2", "--out", str(ro / "s"))
        assert code == 2 and "cannot write" in one_line_error(output)
        assert no_simulation == []


@pytest.mark.skipif(not ROOT, reason="a full disk needs a tiny tmpfs, which only root can mount")
def test_full_disk_is_found_before_the_work(tmp_path: Path, no_simulation: list[str]) -> None:
    with tmpfs(tmp_path / "full", "8k") as full:
        (full / "filler").write_bytes(b"\0" * 8192)
        code, output = cli("run", ODDER, *FAST, "--out", str(full / "r"))
        assert code == 2
        assert "No space left on device" in one_line_error(output)
        assert no_simulation == []


def test_compare_out_onto_a_folder_is_refused(tmp_path: Path) -> None:
    code, output = cli("compare", str(tmp_path), str(tmp_path), "--out", str(tmp_path))
    assert code == 2
    assert "is a folder; expected a file name" in one_line_error(output)


def test_report_into_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli("run", ODDER, *FAST, "--out", str(out))[0] == 0
    if ROOT:
        with tmpfs(tmp_path / "m", "4m") as m:
            subprocess.run(["cp", "-a", str(out), str(m / "r")], check=True)
            subprocess.run(["mount", "-o", "remount,ro", str(m)], check=True)
            code, output = cli("report", str(m / "r"))
    else:
        out.chmod(0o555)
        code, output = cli("report", str(out))
        out.chmod(0o755)
    assert code == 2 and "cannot write" in one_line_error(output)


# --------------------------------------------------------------------------- after the work


def _fail_outside_tmp(monkeypatch: pytest.MonkeyPatch, fail_in: Path) -> None:
    """Make writing tables into ``fail_in`` fail as a full disk does (ENOSPC), after the work."""
    import sim.store.results as results

    real = results.write_tables

    def write_tables(folder: Path, result: object) -> None:
        if fail_in in folder.parents:
            (folder / "summary.csv").write_text("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(folder, result)  # type: ignore[arg-type]

    monkeypatch.setattr(results, "write_tables", write_tables)


def _rescued(line: str) -> Path:
    assert "the results were saved in " in line and line.endswith(" instead")
    return Path(line.split("the results were saved in ")[1].removesuffix(" instead"))


def test_write_error_after_the_work_keeps_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_outside_tmp(monkeypatch, tmp_path)
    out = tmp_path / "r"
    code, output = cli("run", ODDER, *FAST, "--out", str(out))
    assert code == 1
    line = one_line_error(output)
    assert f"cannot write {out}: No space left on device" in line
    rescue = _rescued(line)
    try:
        assert rescue.parent == Path(tempfile.gettempdir())
        assert not out.exists() and not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
        summary = pl.read_csv(rescue / "summary.csv")
        assert set(summary["model"]) == {"classic", "joint"}
        # The rescued tables are those a run into a good folder writes.
        good = tmp_path / "good"
        monkeypatch.undo()
        assert cli("run", ODDER, *FAST, "--out", str(good))[0] == 0
        for name in ("summary.csv", "replications.csv", "differences.csv", "timeseries.csv"):
            assert (rescue / name).read_bytes() == (good / name).read_bytes(), name
    finally:
        subprocess.run(["rm", "-rf", str(rescue)], check=False)


@pytest.mark.skipif(not ROOT, reason="a full disk needs a tiny tmpfs, which only root can mount")
def test_disk_that_fills_during_the_run_keeps_the_results(tmp_path: Path) -> None:
    """A real full disk: room for the probe, not for the tables (timeseries.csv is ~90 KB)."""
    with tmpfs(tmp_path / "small", "96k") as small:
        code, output = cli("run", ODDER, *FAST, "--out", str(small / "r"))
        assert code == 1
        line = one_line_error(output)
        assert "No space left on device" in line
        rescue = _rescued(line)
        try:
            assert (rescue / "summary.csv").is_file() and (rescue / "manifest.json").is_file()
            assert not (small / "r").exists() and list(small.iterdir()) == []
        finally:
            subprocess.run(["rm", "-rf", str(rescue)], check=False)


# --------------------------------------------------------------------------- two at once


def test_a_folder_being_written_is_refused(
    tmp_path: Path, no_simulation: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "r"
    holder = subprocess.Popen(["sleep", "60"])
    try:
        lock_path(out).write_text(f"{holder.pid}\n")
        code, output = cli("run", ODDER, *FAST, "--out", str(out))
        assert code == 2
        assert f"being written by another sim command (pid {holder.pid})" in one_line_error(output)
        assert no_simulation == []
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone: its lock is stale and taken over, and so is a stale lock of another
    # folder beside it (a process killed with SIGKILL cannot clean up).
    monkeypatch.undo()
    other = lock_path(tmp_path / "other")
    other.write_text(f"{holder.pid}\n")
    code, output = cli("run", ODDER, *FAST, "--out", str(out))
    assert code == 0, output
    assert not lock_path(out).exists() and not other.exists()


def test_two_runs_into_one_out(tmp_path: Path) -> None:
    """Started together: one writes the folder, the other stops with one line and exit 2."""
    out = tmp_path / "r"
    args = [sys.executable, "-m", "sim.cli", "run", ODDER, *FAST, "--out", str(out)]
    args[args.index("2")] = "4"  # --reps 4: long enough to overlap
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    line = one_line_error(loser)
    assert "being written by another sim command" in line or "already exists" in line
    assert pl.read_csv(out / "summary.csv").height > 0
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_report_write_error_keeps_the_screen_and_the_report_in_the_rescue_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """o1-overhead: the screen is queued before the folder is written and the report prepared in
    two steps; when the report cannot be written in place, the rescue folder still gets the same
    carriers.json and a report (each step's result is kept for the second place)."""
    import json

    import sim.present.report as report
    from sim.model.provenance import uncertain_inputs
    from sim.run import screen

    from .conftest import make_scenario

    monkeypatch.setattr(screen, "SCREEN_COST_MULTIPLE", 1e9)
    path = "models.joint.routing.short_course_share"
    small = [p for p in uncertain_inputs(make_scenario()) if p.path == path]
    assert small
    monkeypatch.setattr("sim.model.provenance.uncertain_inputs", lambda sc: small)
    real = report.render_report

    def render(res, *args, **kwargs):  # type: ignore[no-untyped-def]
        if tmp_path in res.folder.parents:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(res, *args, **kwargs)

    monkeypatch.setattr(report, "render_report", render)
    out = tmp_path / "r"
    short = ["--reps", "2", "--set", "experiment.horizon_weeks=104",
             "--set", "experiment.warmup_weeks=26", "--jobs", "2"]  # fmt: skip
    code, output = cli("run", ODDER, *short, "--out", str(out))
    assert code == 1, output
    rescue = _rescued(one_line_error(output))
    try:
        assert not out.exists()
        data = json.loads((rescue / "carriers.json").read_text(encoding="utf-8"))
        assert data["origin"] == "screen" and data["runs"] == 3
        assert [c["path"] for c in data["carriers"]] == [small[0].path]
        assert "one-way screen" in (rescue / "report.html").read_text(encoding="utf-8")
    finally:
        subprocess.run(["rm", "-rf", str(rescue)], check=False)
