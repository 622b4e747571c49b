"""`make bench`: speed figures as ratios against a baseline measured in the same run.

1. Events per citizen: events scheduled per citizen referred, for one replication of each model
   of Odder (classic, joint) and for the M/M/c configuration, beside the textbook SimPy M/M/c's
   events per customer (the engine's clock counts its events; SimPy's are counted by a counting
   Environment used only here).
2. A bare SimPy M/M/c model (the baseline) against the engine in its M/M/c configuration on the
   same number of customers: customers per second of each and their ratio (target >= 1.0).
3. Wall time of `sim run` on the shipped scenarios with their defaults (targets: odder <= 3.5 s,
   large <= 20 s on a 2-core machine).
4. Peak memory of one replication at two horizons (target: flat when --events is off).
5. Sweep speed-up of --jobs 2 over --jobs 1, and the Dask path's per-task overhead against local
   processes (when `sim.run.sweep` and dask are installed).

The figures are kept in benchmarks/last.json; the next run prints each figure beside the last
one and their ratio (a ratio > 1 on a time is slower, on a rate faster). Nothing is asserted.
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
LAST = Path(__file__).resolve().parent / "last.json"


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events put on its queue (the bench's only)."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduled = 0

    def schedule(self, event: simpy.Event, priority: int = 1, delay: float = 0) -> None:
        self.scheduled += 1
        super().schedule(event, priority, delay)


def bare_simpy_mmc(
    customers: int,
    rate: float,
    servers: int,
    mean_service: float,
    env_class: type = simpy.Environment,
) -> tuple[float, simpy.Environment]:
    """The baseline: a textbook SimPy M/M/c (Resource with c servers); (seconds, environment)."""
    rng = np.random.default_rng(1)
    gaps = rng.exponential(1 / rate, customers).tolist()
    services = rng.exponential(mean_service, customers).tolist()
    env = env_class()
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
    return time.perf_counter() - start, env


def _mmc_simulation(customers: int, rate_per_week: float, servers: int, mean_weeks: float):  # type: ignore[no-untyped-def]
    from sim.model.pathway import Simulation
    from sim.model.theory import mmc_scenario

    weeks = customers / rate_per_week
    sc = mmc_scenario(rate_per_week, servers, 1.0, mean_weeks, horizon_weeks=weeks, warmup_weeks=0)
    return Simulation(sc, "mmc", 0, sc.staffing_fte())


def engine_mmc(customers: int, rate_per_week: float, servers: int, mean_weeks: float) -> float:
    """The engine in its M/M/c configuration with about ``customers`` arrivals; seconds."""
    sim = _mmc_simulation(customers, rate_per_week, servers, mean_weeks)
    start = time.perf_counter()
    sim.run()
    return time.perf_counter() - start


def count_events(sim) -> int:  # type: ignore[no-untyped-def]
    """Run a Simulation (not yet run); the events it scheduled (its clock counts every event put
    on its queue, as ``CountingEnvironment`` counts SimPy's)."""
    sim.run()
    return int(sim.env.scheduled)


def counted(sim):  # type: ignore[no-untyped-def]
    """Run a Simulation; events scheduled per citizen referred."""
    return count_events(sim) / max(sim.totals["referred"], 1)


def events_per_citizen(quick: bool) -> dict[str, float]:
    """Events per citizen of one replication of each Odder model and of the M/M/c configuration."""
    from sim.config.loader import load_scenario
    from sim.model.pathway import Simulation

    figures: dict[str, float] = {}
    sc = load_scenario(ROOT / "scenarios" / "odder.yaml", [])
    for model in ("classic", "joint"):
        figures[f"events_per_citizen_{model}"] = counted(
            Simulation(sc, model, 0, sc.staffing_fte())
        )
    n = 5_000 if quick else 20_000
    for servers, rate in ((10, 9.0), (100, 90.0)):
        figures[f"events_per_citizen_mmc_c{servers}"] = counted(
            _mmc_simulation(n, rate, servers, 1.0)
        )
    _, env = bare_simpy_mmc(n, 9.0, 10, 1.0, CountingEnvironment)
    figures["events_per_customer_bare_simpy"] = env.scheduled / n  # type: ignore[attr-defined]
    for k, v in figures.items():
        print(f"{k:36s}: {v:8.2f} events")
    return figures


PAIR_SNIPPET = """
import sys, time
from sim.config.loader import load_scenario
from sim.model import native
from sim.model.pathway import Simulation
sc = load_scenario(sys.argv[1], [])
best = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    for model in ("classic", "joint"):
        Simulation(sc, model, 0, sc.staffing_fte()).run()
    best = min(best, time.process_time() - start)
print(native.active, best)
"""


def pair_seconds(repeat: int, pure: bool) -> tuple[bool, float]:
    """CPU seconds of one Odder replication pair (classic + joint), best of ``repeat``, in a fresh
    process (``pure``: with SIM_PURE=1); (whether it ran compiled, seconds)."""
    env = {**os.environ, "SIM_PURE": "1"} if pure else os.environ.copy()
    if not pure:
        env.pop("SIM_PURE", None)
    out = subprocess.run(
        [sys.executable, "-c", PAIR_SNIPPET, "scenarios/odder.yaml", str(repeat)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    active, secs = out.stdout.split()
    return active == "True", float(secs)


def pair_figures(repeat: int) -> dict[str, float]:
    """One Odder replication pair, compiled (when built) and pure Python, side by side."""
    print("== one Odder replication pair (classic + joint, CPU seconds, best of each)")
    figures: dict[str, float] = {}
    for pure in (False, True):
        active, secs = pair_seconds(repeat, pure)
        label = "pair_compiled" if active else "pair_pure"
        if label not in figures:
            figures[label] = secs
            print(f"{label:36s}: {secs:8.3f} s")
    if len(figures) == 2:
        speedup = figures["pair_pure"] / figures["pair_compiled"]
        figures["compiled_speedup"] = speedup
        print(f"{'compiled_speedup':36s}: {speedup:8.2f}x")
    return figures


def best_of(n: int, fn, *args) -> float:  # type: ignore[no-untyped-def]
    return min(fn(*args) for _ in range(n))


def _bare_seconds(*args) -> float:  # type: ignore[no-untyped-def]
    return bare_simpy_mmc(*args)[0]


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


def mmc_figures(n: int, repeat: int) -> dict[str, float]:
    """Customers per second of the bare SimPy M/M/c and of the engine, side by side."""
    figures: dict[str, float] = {}
    for servers, rate in ((100, 90.0), (10, 9.0)):
        print(f"== M/M/c, c={servers}, rho=0.9, {n:,} customers (best of {repeat})")
        base = eng = float("inf")
        for _ in range(repeat):  # interleaved, so a busy moment hurts both alike
            base = min(base, _bare_seconds(n, rate, servers, 1.0))
            eng = min(eng, engine_mmc(n, rate, servers, 1.0))
        figures.update(
            {
                f"baseline_cps_c{servers}": n / base,
                f"engine_cps_c{servers}": n / eng,
                f"ratio_c{servers}": base / eng,
            }
        )
        print(f"bare SimPy baseline : {n / base:12,.0f} customers/s")
        print(f"sim engine          : {n / eng:12,.0f} customers/s")
        print(f"ratio engine/base   : {base / eng:12.2f}   (target >= 1.0)")
    return figures


def wall_figures(quick: bool, repeat: int) -> dict[str, float]:
    print("\n== sim run with the scenarios' defaults (wall, including start-up and report)")
    figures: dict[str, float] = {}
    for name, target in (("odder", 3.5), ("large", 20.0)):
        path = f"scenarios/{name}.yaml"
        if quick:
            secs = wall_of_run(path, ["--reps", "4"])
            print(f"sim run {path} --reps 4: {secs:6.2f} s (quick mode)")
        else:
            secs = best_of(repeat if name == "odder" else 1, wall_of_run, path, [])
            print(f"sim run {path}: {secs:6.2f} s   (target <= {target:g} s)")
        figures[f"wall_{name}"] = secs
    return figures


def memory_figures(quick: bool) -> dict[str, float]:
    print("\n== peak memory, one replication of classic, events off")
    h1, h2 = (260, 520) if quick else (572, 2288)
    m1, m2 = (
        peak_memory_mib("scenarios/large.yaml", h1),
        peak_memory_mib("scenarios/large.yaml", h2),
    )
    print(f"large.yaml, {h1} weeks: {m1:7.1f} MiB")
    print(f"large.yaml, {h2} weeks: {m2:7.1f} MiB   (ratio {m2 / m1:.2f}; flat = ~1.0)")
    return {"peak_mib_short": m1, "peak_mib_long": m2}


def compare_with_last(figures: dict[str, float], last: dict[str, float]) -> None:
    """Each figure beside the one kept from the last run, and their ratio (now / last)."""
    shared = [k for k in figures if isinstance(last.get(k), (int, float)) and last[k]]
    if not shared:
        return
    print(f"\n== against the last run ({LAST.relative_to(ROOT)})")
    for k in shared:
        print(
            f"{k:36s}: {figures[k]:12.3f}  last {last[k]:12.3f}  ratio {figures[k] / last[k]:6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--quick", action="store_true", help="smaller figures, for a smoke run")
    parser.add_argument(
        "--only",
        default="events,pair,mmc,wall,memory,sweep",
        help="comma-separated parts to run (events, pair, mmc, wall, memory, sweep)",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    n = 20_000 if args.quick else args.customers
    last = json.loads(LAST.read_text(encoding="utf-8")) if LAST.exists() else {}
    figures: dict[str, float] = {}
    from sim.model import native

    print(f"engine: {native.status} (SIM_PURE=1 forces pure Python; make install compiles)\n")
    if "events" in parts:
        print("== events per citizen (events scheduled / citizens referred)")
        figures.update(events_per_citizen(args.quick))
        print()
    if "pair" in parts:
        figures.update(pair_figures(args.repeat))
        print()
    if "mmc" in parts:
        figures.update(mmc_figures(n, args.repeat))
    if "wall" in parts:
        figures.update(wall_figures(args.quick, args.repeat))
    if "memory" in parts:
        figures.update(memory_figures(args.quick))
    if "sweep" in parts:
        try:
            from benchmarks.bench_sweep import sweep_figures
        except ImportError:
            sweep_figures = None
        if sweep_figures is not None:
            print("\n== sweeps")
            figures.update(sweep_figures(quick=args.quick))

    compare_with_last(figures, last)
    kept = {**last, **figures, "engine": native.status}  # a partial run keeps the rest
    LAST.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nfigures written to {LAST.relative_to(ROOT)} (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
