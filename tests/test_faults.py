"""Faults: signals to `sim` and to its workers, killed workers, leftovers of killed runs.

Issue 10 items 1, 4 and 7. Each command runs as a real process in a session of its own (as a shell
or a batch scheduler starts it); the session lets the test find every process it started, also
those whose parent died. Every wait is bounded, and everything still alive is killed at the end.
No test asserts a duration: a signal is sent when a state is reached (workers running, a
replication done, the temporary folder written), not after a fixed delay.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from .conftest import odder_data

WAIT = 120.0
"""Upper bound of any wait, in seconds (the machine may be busy); reached only when a test fails."""
INTERRUPTED = "interrupted: nothing written"


def scenario_file(folder: Path, reps: int, horizon: int = 104, name: str = "tiny") -> Path:
    """Odder with a short horizon: a replication of both models takes a fraction of a second."""
    data = odder_data()
    data["name"] = name
    data["experiment"] = {
        "seed": 5,
        "replications": reps,
        "horizon_weeks": horizon,
        "warmup_weeks": 26,
    }
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    path = folder / f"{name}.yaml"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _live(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Sim:
    """A `sim` command started in a new session, its stdout and stderr in files."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.out_path = cwd / f"sim-{len(list(cwd.glob('sim-*.log')))}.log"
        self._log = self.out_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", *args],
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sid = self.proc.pid

    def session(self) -> list[psutil.Process]:
        """Every live process of the command's session, however deep or orphaned."""
        found = []
        for p in psutil.process_iter():
            try:
                if os.getsid(p.pid) == self.sid and _live(p):
                    found.append(p)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        return found

    def workers(self) -> list[psutil.Process]:
        """The worker processes: the forks of the command's fork server (``WorkerPool`` starts
        them with ``forkserver``), never a direct child of the command.

        Telling helpers by their command line alone is racy: a helper the command has forked but
        not yet exec'd (the fork server or resource tracker being started) still shows the
        command's own command line, and killing it as "a worker" broke the run in other ways
        (seen: a resource tracker killed while it started)."""
        try:
            children = psutil.Process(self.sid).children()
        except psutil.Error:
            return []
        workers = []
        for server in children:
            try:
                if "multiprocessing.forkserver import main" not in " ".join(server.cmdline()):
                    continue
                workers += [p for p in server.children() if _live(p)]
            except psutil.Error:
                continue
        return workers

    def output(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def done_any(self) -> bool:
        """A progress line says at least one task finished."""
        return any(" done, " in line for line in self.output().splitlines())

    def signal(self, sig: int, group: bool = False) -> None:
        if group:
            os.killpg(self.sid, sig)
        else:
            os.kill(self.sid, sig)

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=WAIT)
        finally:
            self._log.close()

    def kill_all(self) -> None:
        for p in self.session():
            with contextlib.suppress(psutil.Error):
                p.kill()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        self._log.close()


def no_session_left(sim: Sim) -> None:
    wait_until(lambda: not sim.session(), "every process of the command to exit")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    """Start `sim` commands; whatever they left running is killed after the test."""
    started: list[Sim] = []

    def launch(*args: str) -> Sim:
        sim = Sim(list(args), tmp_path)
        started.append(sim)
        return sim

    try:
        yield launch
    finally:
        for sim in started:
            sim.kill_all()


def messages(output: str) -> list[str]:
    """Lines other than progress lines ("[label] n/N done ...")."""
    return [line for line in output.splitlines() if line.strip() and not line.startswith("[")]


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


# --------------------------------------------------------------------------- signals to `run`


@pytest.mark.parametrize(
    ("sig", "group", "code"),
    [(signal.SIGTERM, False, 143), (signal.SIGINT, True, 130)],
    ids=["sigterm", "ctrl-c"],
)
def test_run_stopped_by_a_signal_stops_its_workers_and_writes_nothing(
    start: Callable[..., Sim], tmp_path: Path, sig: int, group: bool, code: int
) -> None:
    """SIGTERM (to the parent, as `kill` and `timeout` send it) and Ctrl-C (to the whole process
    group, as a terminal sends it): one line, the documented exit code, nothing written, no
    process left, although most replications were still to run."""
    sc = scenario_file(tmp_path, reps=60)
    out = tmp_path / "out"
    sim = start("run", str(sc), "--jobs", "2", "--out", str(out))
    wait_until(lambda: len(sim.workers()) == 2 and sim.done_any(), "workers and a replication")
    sim.signal(sig, group)
    assert sim.wait() == code, sim.output()
    assert messages(sim.output()) == [INTERRUPTED], sim.output()
    assert not out.exists()
    assert not leftovers(tmp_path)
    no_session_left(sim)


def test_run_killed_leaves_no_worker_running(start: Callable[..., Sim], tmp_path: Path) -> None:
    """SIGKILL cannot be handled: the workers notice their parent is gone and exit by themselves
    (the fork server and the resource tracker follow)."""
    sc = scenario_file(tmp_path, reps=60)
    sim = start("run", str(sc), "--jobs", "2", "--out", str(tmp_path / "out"))
    workers = wait_until(lambda: len(sim.workers()) == 2 and sim.workers(), "two workers")
    sim.signal(signal.SIGKILL)
    assert sim.wait() == -signal.SIGKILL
    no_session_left(sim)
    assert not any(_live(w) for w in workers)
    assert not (tmp_path / "out").exists()


def test_explain_stopped_by_sigterm(start: Callable[..., Sim], tmp_path: Path) -> None:
    sc = scenario_file(tmp_path, reps=8)
    out = tmp_path / "explain"
    sim = start("explain", str(sc), "--jobs", "2", "--out", str(out))
    wait_until(lambda: len(sim.workers()) == 2, "two workers")
    sim.signal(signal.SIGTERM)
    assert sim.wait() == 143, sim.output()
    assert messages(sim.output()) == [INTERRUPTED], sim.output()
    assert not out.exists()
    no_session_left(sim)


# --------------------------------------------------------------------------- the write phase


def test_sigterm_while_writing_leaves_no_folder(start: Callable[..., Sim], tmp_path: Path) -> None:
    """Stopped while the results folder is being written (its hidden temporary exists): the
    temporary is removed, the folder never appears."""
    sc = scenario_file(tmp_path, reps=2)
    parent = tmp_path / "results"
    sim = start("run", str(sc), "--jobs", "1", "--out", str(parent / "run"))
    wait_until(lambda: list(parent.glob(".tmp-*")), "the temporary folder", timeout=WAIT)
    sim.signal(signal.SIGTERM)
    assert sim.wait() == 143, sim.output()
    assert messages(sim.output()) == [INTERRUPTED], sim.output()
    assert list(parent.iterdir()) == []
    no_session_left(sim)


def test_temporary_of_a_killed_run_is_removed_by_the_next(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    """SIGKILL in the write phase leaves the hidden temporary (nothing can remove it then); the
    next run into the same place removes it, once it is old enough."""
    from sim.cli import app
    from sim.store.results import STALE_TEMP_SECONDS

    sc = scenario_file(tmp_path, reps=2)
    parent = tmp_path / "results"
    sim = start("run", str(sc), "--jobs", "1", "--out", str(parent / "first"))
    tmp = wait_until(lambda: list(parent.glob(".tmp-*")), "the temporary folder")[0]
    sim.signal(signal.SIGKILL)
    assert sim.wait() == -signal.SIGKILL
    assert tmp.is_dir() and not (parent / "first").exists()
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(tmp, (old, old))

    result = CliRunner().invoke(
        app, ["run", str(sc), "--jobs", "1", "--no-report", "--out", str(parent / "second")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in parent.iterdir()) == ["second"]


def test_only_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    from sim.store.results import STALE_TEMP_SECONDS, remove_stale_temporaries

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        made = {
            "dead_old": tmp_path / f".tmp-run-{gone.pid}",
            "dead_young": tmp_path / f".tmp-young-{gone.pid}",
            "alive_old": tmp_path / f".tmp-run-{alive.pid}",
            "file_dead_old": tmp_path / f".manifest.json.tmp-{gone.pid}",
            "visible": tmp_path / f"run-{gone.pid}",
        }
        for key, path in made.items():
            if key.startswith("file"):
                path.write_text("{}")
            else:
                path.mkdir()
                (path / "summary.csv").write_text("x\n")
        old = time.time() - STALE_TEMP_SECONDS - 1
        for key in ("dead_old", "alive_old", "file_dead_old", "visible"):
            os.utime(made[key], (old, old))

        removed = remove_stale_temporaries(tmp_path)

        assert sorted(removed) == sorted([made["dead_old"], made["file_dead_old"]])
        assert {k for k, p in made.items() if p.exists()} == {"dead_young", "alive_old", "visible"}
    finally:
        alive.kill()
        alive.wait(timeout=WAIT)


# --------------------------------------------------------------------------- killed workers


def _first_worker_killed(sim: Sim, killed: list[int]) -> bool:
    """Kill one worker not killed before, once there is one; True when done."""
    fresh = [w for w in sim.workers() if w.pid not in killed]
    if not fresh:
        return False
    killed.append(fresh[0].pid)
    fresh[0].kill()
    return True


@pytest.mark.slow
def test_killed_worker_tasks_run_again_to_the_same_tables(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    """A worker killed (as the out-of-memory killer does): its replications run again in a fresh
    pool, with one warning line, and the tables are those of a run in one process, byte for
    byte."""
    sc = scenario_file(tmp_path, reps=6)
    sim = start("run", str(sc), "--jobs", "2", "--no-report", "--out", str(tmp_path / "two"))
    killed: list[int] = []
    wait_until(lambda: _first_worker_killed(sim, killed), "a worker to kill")
    assert sim.wait() == 0, sim.output()
    warnings = [m for m in messages(sim.output()) if m.startswith("warning:")]
    assert len(warnings) == 1 and "SIGKILL" in warnings[0], sim.output()
    assert "Traceback" not in sim.output()

    one = start("run", str(sc), "--jobs", "1", "--no-report", "--out", str(tmp_path / "one"))
    assert one.wait() == 0, one.output()
    for table in ("replications.csv", "summary.csv", "differences.csv"):
        assert (tmp_path / "two" / table).read_bytes() == (tmp_path / "one" / table).read_bytes()
    no_session_left(sim)


@pytest.mark.slow
def test_worker_killed_twice_ends_in_one_line(start: Callable[..., Sim], tmp_path: Path) -> None:
    sc = scenario_file(tmp_path, reps=40)
    out = tmp_path / "out"
    sim = start("run", str(sc), "--jobs", "2", "--out", str(out))
    killed: list[int] = []
    wait_until(lambda: _first_worker_killed(sim, killed), "a worker to kill")
    wait_until(lambda: "warning:" in sim.output(), "the fresh pool")  # the old one is gone now
    wait_until(lambda: _first_worker_killed(sim, killed), "a worker of the fresh pool")
    assert sim.wait() == 1, sim.output()
    errors = [m for m in messages(sim.output()) if not m.startswith("warning:")]
    assert len(errors) == 1, sim.output()
    assert errors[0].startswith("error: a worker process was killed (SIGKILL")
    assert errors[0].endswith("nothing written")
    assert not out.exists() and not leftovers(tmp_path)
    no_session_left(sim)


# --------------------------------------------------------------------------- sweeps


SWEEP = """sweep:
  parameters:
    arrivals.rate_per_week: [2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
"""


def sweep_file(tmp_path: Path) -> Path:
    path = scenario_file(tmp_path, reps=4, name="grid")
    path.write_text(path.read_text(encoding="utf-8") + SWEEP, encoding="utf-8")
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_sweep_stopped_by_a_signal(start: Callable[..., Sim], tmp_path: Path, sig: int) -> None:
    """A local sweep: SIGTERM is handled like Ctrl-C (manifest 'interrupted', exit 143, how to
    resume); after SIGKILL, too, no process is left."""
    import json

    out = tmp_path / "sweep"
    sim = start("sweep", str(sweep_file(tmp_path)), "--jobs", "2", "--no-report", "--out", str(out))
    wait_until(lambda: len(sim.workers()) == 2, "two workers")
    sim.signal(sig)
    code = sim.wait()
    no_session_left(sim)
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    assert code == 143, sim.output()
    assert "Traceback" not in sim.output()
    assert "interrupted: finished points are kept in" in sim.output()
    assert "--resume" in messages(sim.output())[-1]
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert not leftovers(out)


# --------------------------------------------------------------------------- the pool itself


def _dies_once(item: tuple[int, str]) -> int:
    """In a worker: the first call for a marked item kills its own process (as SIGKILL from
    outside would); later calls return the square. ``item`` is (value, marker file, 'always' or
    '')."""
    value, marker = item
    if marker == "always":
        os.kill(os.getpid(), signal.SIGKILL)
    if marker and not os.path.exists(marker):
        Path(marker).write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return value * value


def test_pool_runs_lost_tasks_again_once(tmp_path: Path) -> None:
    """Tasks lost with a killed worker run again in a fresh pool; lost twice, they end as
    WorkerLost, which a sweep records as its points' error (the sweep's local executor is this
    pool, the second case goes through it)."""
    from sim.run.sweep import LocalExecutor
    from sim.run.workers import WorkerLost, WorkerPool

    notes: list[str] = []
    items = [(v, str(tmp_path / "marker") if v == 3 else "") for v in range(8)]
    with WorkerPool(2, preload=[], notice=notes.append) as pool:
        got = dict(pool.imap_unordered(_dies_once, items))
    assert got == {v: v * v for v in range(8)}
    assert len(notes) == 1 and "SIGKILL" in notes[0]

    items = [(v, "always" if v == 3 else "") for v in range(8)]
    with LocalExecutor(2) as executor:
        got = dict(executor.imap_unordered(_dies_once, items))
    assert isinstance(got[3], WorkerLost)
    assert "second try" in str(got[3])
    lost = [v for v, out in got.items() if isinstance(out, WorkerLost)]
    assert all(got[v] == v * v for v in range(8) if v not in lost)


def test_why_a_pool_broke_ignores_the_pools_own_sigterm_and_the_lost_status() -> None:
    """The survivors the pool terminated show -15 or, when forkserver could not pass their
    status on, 255 (seen in about one run in five); the killed worker's signal is the reason."""
    from types import SimpleNamespace

    from sim.run.workers import _death

    def died(*codes: int | None) -> str:
        return _death(SimpleNamespace(exitcode=c) for c in codes)

    for codes in [(255, -9), (-9, 255), (-15, -9), (-9, -15), (0, 255, -9)]:
        assert "SIGKILL" in died(*codes), codes
    assert died(-15, 3) == "a worker process exited with code 3"
    assert died(255) == "a worker process stopped unexpectedly"
    assert died(None, 0) == "a worker process stopped unexpectedly"
    assert "SIGTERM" in died(-15, 0)


def test_sigterm_becomes_an_interruption_with_exit_code_143() -> None:
    from sim.run.workers import Terminated, interrupt_exit_code, sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as caught, sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert isinstance(caught.value, KeyboardInterrupt)
    assert interrupt_exit_code(caught.value) == 143
    assert interrupt_exit_code(KeyboardInterrupt()) == 130
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.dask
def test_sweep_on_a_local_dask_cluster_killed_leaves_no_process(
    start: Callable[..., Sim], tmp_path: Path
) -> None:
    """The local Dask cluster's workers watch their parent too (Dask's own pipe)."""
    pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    sim = start(
        "sweep", str(sweep_file(tmp_path)), "--workers", "2", "--no-report", "--out", str(out)
    )
    wait_until(lambda: (out / "manifest.json").is_file(), "the sweep to start")
    assert len(sim.session()) > 1  # the cluster's processes are running
    sim.signal(signal.SIGKILL)
    assert sim.wait() == -signal.SIGKILL
    no_session_left(sim)


# --------------------------------------------------------------------------- o1-overhead: batches


def _marks(item: tuple[int, str]) -> int:
    """In a worker: leave a file saying this task ran, return the square."""
    value, folder = item
    Path(folder, f"ran-{value}").write_text("ran")
    return value * value


def _wait_for(paths: list[Path], seconds: float = 120.0) -> None:
    import time

    end = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        assert time.monotonic() < end, "the workers never ran the submitted tasks"
        time.sleep(0.05)


def test_submitted_tasks_run_while_this_process_does_other_work(tmp_path: Path) -> None:
    """``submit`` hands the tasks to the workers at once: they run before anyone collects them
    (this process only waits for their files), and ``finished_at`` is when the last one finished,
    not when they were collected."""
    import time

    from sim.run.workers import WorkerPool

    items = [(v, str(tmp_path)) for v in range(6)]
    with WorkerPool(2, preload=[]) as pool:
        batch = pool.submit(_marks, items)
        _wait_for([tmp_path / f"ran-{v}" for v in range(6)])
        time.sleep(0.2)  # the pool's thread marks the last future done
        before = time.monotonic()
        got = dict(batch.results())
        assert batch.finished_at <= before
        assert dict(pool.submit(_marks, items[:2]).results()) == {0: 0, 1: 1}  # the same pool
    assert got == {v: v * v for v in range(6)}


def test_serial_batch_runs_when_collected(tmp_path: Path) -> None:
    """With one job nothing runs in the background: the tasks run here, as they are collected."""
    from sim.run.workers import WorkerPool

    with WorkerPool(1) as pool:
        batch = pool.submit(_marks, [(v, str(tmp_path)) for v in range(3)])
        assert not list(tmp_path.iterdir())
        assert dict(batch.results()) == {0: 0, 1: 1, 2: 4}


def test_worker_killed_before_the_batch_is_collected(tmp_path: Path) -> None:
    """A worker that dies while this process is busy elsewhere: its tasks run again when the
    batch is collected, on a fresh pool, with the same results."""
    from sim.run.workers import WorkerPool

    notes: list[str] = []
    marker = tmp_path / "marker"
    items = [(v, str(marker) if v == 2 else "") for v in range(6)]
    with WorkerPool(2, preload=[], notice=notes.append) as pool:
        batch = pool.submit(_dies_once, items)
        _wait_for([marker])
        got = dict(batch.results())
    assert got == {v: v * v for v in range(6)}
    assert len(notes) == 1 and "SIGKILL" in notes[0]


def _half_a_result(folder: str) -> None:
    """Write the first bytes of a 1 MB result message to the pool's result pipe and stop there:
    the state a worker terminated in the middle of writing a large result leaves behind (made
    on purpose here, as a real one depends on timing). The pipe is the worker loop's
    ``result_queue`` (CPython's ``concurrent.futures.process._process_worker``)."""
    import struct
    import sys
    import time

    frame = sys._getframe(1)
    while "result_queue" not in frame.f_locals:
        frame = frame.f_back  # type: ignore[assignment]
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1_000_000) + bytes(10))
    (Path(folder) / "half-written").write_text("")
    time.sleep(600)


LEAVE_A_HALF_WRITTEN_POOL = """
import contextlib, sys, time
from pathlib import Path
from sim.run.workers import WorkerPool
from tests.test_faults import _half_a_result
if __name__ == "__main__":
    folder = Path(sys.argv[1])
    with contextlib.suppress(RuntimeError):
        with WorkerPool(2, preload=[]) as pool:
            pool.submit(_half_a_result, [str(folder)])
            while not (folder / "half-written").exists():
                time.sleep(0.01)
            time.sleep(0.5)  # the pool's thread is reading the rest of the message
            raise RuntimeError("leave the pool as Ctrl-C does")
    print("left the pool", flush=True)
"""


def test_a_worker_stopped_while_writing_a_result_leaves_nothing_waiting(tmp_path: Path) -> None:
    """Leaving a pool (Ctrl-C, an abandoned what-if) while a worker is in the middle of writing a
    result: the pool's thread must not wait for the rest for ever (it did: the process never
    exited). Run in a process of its own, so that a hang fails this test instead of pytest."""
    script = tmp_path / "leave.py"
    script.write_text(LEAVE_A_HALF_WRITTEN_POOL, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the process never exited after leaving the pool")
    assert proc.returncode == 0, out
    assert b"left the pool" in out
