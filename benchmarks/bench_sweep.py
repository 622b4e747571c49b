"""Sweep figures for `make bench`: the speed-up of --jobs 2 over --jobs 1, and the cost of the Dask
path against local processes, all measured in the same run on this machine.

1. The example sweep (scenarios/sweeps/budget_and_demand.yaml, fewer replications) run with one
   process and with two: wall seconds and their ratio (target >= 1.7 on 2 cores).
2. The same sweep on a local Dask cluster of two workers, with its start-up, and the tables
   checked to be byte-identical to the local run's.
3. Per-task overhead: trivial tasks through each executor (after a warm-up, so worker start-up is
   not counted), in milliseconds per task.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "sweeps" / "budget_and_demand.yaml"


def _timed_sweep(overrides: list[str], executor: object, out: Path) -> float:
    from sim.app.sweep import run_sweep
    from sim.config.sweep_spec import plan_sweep

    plan = plan_sweep(EXAMPLE, overrides)
    start = time.perf_counter()
    run_sweep(plan, out, executor)  # type: ignore[arg-type]
    return time.perf_counter() - start


def _per_task_ms(executor: object, n: int) -> tuple[float, float]:
    """(start-up seconds, milliseconds per trivial task) of an executor; start-up runs until
    every worker has answered a first task (a process pool starts its workers lazily)."""
    start = time.perf_counter()
    with executor:  # type: ignore[attr-defined]
        warm = list(range(4 * executor.workers))  # type: ignore[attr-defined]
        for _ in executor.imap_unordered(abs, warm):  # type: ignore[attr-defined]
            pass
        ready = t0 = time.perf_counter()
        for _ in executor.imap_unordered(abs, list(range(n))):  # type: ignore[attr-defined]
            pass
        per_task = (time.perf_counter() - t0) / n * 1000
    return ready - start, per_task


def sweep_figures(quick: bool = False) -> dict[str, float]:
    """Measure and print the sweep figures; return them for results/bench.json."""
    from sim.run.sweep import DaskExecutor, LocalExecutor
    from sim.store.sweep_folder import SWEEP_TABLES

    if quick:
        overrides = [
            "experiment.replications=2",
            "experiment.horizon_weeks=156",
            # Sweep keys hold dots, so the whole mapping is replaced.
            "sweep.parameters={budget.annual_dkk: [12000000, 24000000], "
            "arrivals.rate_per_week: [2.0, 3.0, 4.0]}",
        ]
        n_tasks = 200
    else:
        overrides = ["experiment.replications=4"]
        n_tasks = 1000
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        t1 = _timed_sweep(overrides, LocalExecutor(1), base / "j1")
        t2 = _timed_sweep(overrides, LocalExecutor(2), base / "j2")
        speedup = t1 / t2
        figures.update(sweep_wall_jobs1=t1, sweep_wall_jobs2=t2, sweep_speedup_jobs2=speedup)
        what = "quick grid" if quick else f"{EXAMPLE.relative_to(ROOT)}, 4 replications"
        print(f"sweep ({what}), --jobs 1   : {t1:7.2f} s")
        print(f"sweep ({what}), --jobs 2   : {t2:7.2f} s")
        print(f"speed-up --jobs 2 / --jobs 1 : {speedup:7.2f}x   (target >= 1.7)")
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("Dask not installed (pip install 'sim[dask]'): Dask figures skipped")
            return figures
        td = _timed_sweep(overrides, DaskExecutor(workers=2), base / "dask")
        same = all(
            (base / "j1" / n).read_bytes() == (base / "dask" / n).read_bytes() for n in SWEEP_TABLES
        )
        figures.update(sweep_wall_dask2=td, dask_tables_identical=float(same))
        print(
            f"sweep, local Dask cluster, 2 workers: {td:7.2f} s "
            f"({td / t2:.2f}x --jobs 2, including cluster start-up); tables identical: {same}"
        )
    start_local, ms_local = _per_task_ms(LocalExecutor(2), n_tasks)
    start_dask, ms_dask = _per_task_ms(DaskExecutor(workers=2), n_tasks)
    figures.update(
        local_startup_s=start_local,
        dask_startup_s=start_dask,
        local_ms_per_task=ms_local,
        dask_ms_per_task=ms_dask,
        dask_overhead_ms_per_task=ms_dask - ms_local,
    )
    print(
        f"per-task overhead, {n_tasks} trivial tasks on 2 workers: local processes "
        f"{ms_local:.2f} ms, Dask {ms_dask:.2f} ms (+{ms_dask - ms_local:.2f} ms per task); "
        f"start-up {start_local:.2f} s vs {start_dask:.2f} s"
    )
    return figures


if __name__ == "__main__":
    import sys

    sweep_figures(quick="--quick" in sys.argv)
