"""`make bench`: speed figures as ratios against a baseline measured in the same run.

1. A bare SimPy M/M/c model (the baseline) against the engine in its M/M/c configuration on the
   same number of customers: customers per second of each and their ratio (target >= 0.6).
2. Wall time of `sim run` on the shipped scenarios with their defaults (targets: odder <= 5 s,
   large <= 40 s on a 2-core machine).
3. Peak memory of one replication at two horizons (target: flat when --events is off).
4. Sweep speed-up of --jobs 2 over --jobs 1, and the Dask path's per-task overhead against local
   processes (when `sim.run.sweep` and dask are installed).

Nothing here is asserted: the figures are printed for the issue notes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent


def bare_simpy_mmc(customers: int, rate: float, servers: int, mean_service: float) -> float:
    """The baseline: a textbook SimPy M/M/c (Resource with c servers); returns seconds."""
    rng = np.random.default_rng(1)
    gaps = rng.exponential(1 / rate, customers).tolist()
    services = rng.exponential(mean_service, customers).tolist()
    env = simpy.Environment()
    servers_res = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def customer(service: float):  # type: ignore[no-untyped-def]
        arrived = env.now
        with servers_res.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def source():  # type: ignore[no-untyped-def]
        for gap, service in zip(gaps, services, strict=True):
            yield env.timeout(gap)
            env.process(customer(service))

    start = time.perf_counter()
    env.process(source())
    env.run()
    return time.perf_counter() - start


def engine_mmc(customers: int, rate_per_week: float, servers: int, mean_weeks: float) -> float:
    """The engine in its M/M/c configuration with about ``customers`` arrivals; seconds."""
    from sim.model.pathway import Simulation
    from sim.model.theory import mmc_scenario

    weeks = customers / rate_per_week
    sc = mmc_scenario(rate_per_week, servers, 1.0, mean_weeks, horizon_weeks=weeks, warmup_weeks=0)
    sim = Simulation(sc, "mmc", 0, sc.staffing_fte())
    start = time.perf_counter()
    sim.run()
    return time.perf_counter() - start


def best_of(n: int, fn, *args) -> float:  # type: ignore[no-untyped-def]
    return min(fn(*args) for _ in range(n))


def wall_of_run(scenario: str, extra: list[str]) -> float:
    """Wall seconds of `sim run SCENARIO` with its defaults, as a user would run it."""
    sim = Path(sys.executable).with_name("sim")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [str(sim), "run", scenario, "--out", str(Path(tmp) / "r"), *extra],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


PEAK_SNIPPET = """
import resource, sys
from sim.config.loader import load_scenario
from sim.model.pathway import Simulation
sc = load_scenario(sys.argv[1], [f"experiment.horizon_weeks={sys.argv[2]}"])
Simulation(sc, "classic", 0, sc.staffing_fte()).run()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory_mib(scenario: str, horizon_weeks: int) -> float:
    """Peak resident memory of one replication of one model, in a fresh process (MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SNIPPET, scenario, str(horizon_weeks)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="smaller figures, for a smoke run")
    args = parser.parse_args()
    n = 20_000 if args.quick else args.customers
    figures: dict[str, float] = {}

    for servers, rate in ((100, 90.0), (10, 9.0)):
        print(f"== M/M/c, c={servers}, rho=0.9, {n:,} customers (best of 3)")
        base = best_of(3, bare_simpy_mmc, n, rate, servers, 1.0)
        eng = best_of(3, engine_mmc, n, rate, servers, 1.0)
        figures.update(
            {
                f"baseline_cps_c{servers}": n / base,
                f"engine_cps_c{servers}": n / eng,
                f"ratio_c{servers}": base / eng,
            }
        )
        print(f"bare SimPy baseline : {n / base:12,.0f} customers/s")
        print(f"sim engine          : {n / eng:12,.0f} customers/s")
        print(f"ratio engine/base   : {base / eng:12.2f}   (target >= 0.6)")

    print("\n== sim run with the scenarios' defaults (wall, including start-up and report)")
    for name, target in (("odder", 5.0), ("large", 40.0)):
        path = f"scenarios/{name}.yaml"
        if args.quick:
            secs = wall_of_run(path, ["--reps", "4"])
            print(f"sim run {path} --reps 4: {secs:6.2f} s (quick mode)")
        else:
            secs = wall_of_run(path, [])
            print(f"sim run {path}: {secs:6.2f} s   (target <= {target:g} s)")
        figures[f"wall_{name}"] = secs

    print("\n== peak memory, one replication of classic, events off")
    h1, h2 = (260, 520) if args.quick else (572, 2288)
    m1, m2 = (
        peak_memory_mib("scenarios/large.yaml", h1),
        peak_memory_mib("scenarios/large.yaml", h2),
    )
    figures.update(peak_mib_short=m1, peak_mib_long=m2)
    print(f"large.yaml, {h1} weeks: {m1:7.1f} MiB")
    print(f"large.yaml, {h2} weeks: {m2:7.1f} MiB   (ratio {m2 / m1:.2f}; flat = ~1.0)")

    try:
        from benchmarks.bench_sweep import sweep_figures
    except ImportError:
        sweep_figures = None
    if sweep_figures is not None:
        print("\n== sweeps")
        figures.update(sweep_figures(quick=args.quick))

    out = ROOT / "results" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures written to {out.relative_to(ROOT)} (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
