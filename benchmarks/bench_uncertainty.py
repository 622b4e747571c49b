"""Speed of `sim uncertainty`: a Latin hypercube x replications x the scenario's models.

    python -m benchmarks.bench_uncertainty [--scenario scenarios/odder.yaml] [--n 64] [--reps 10]
                                           [--jobs 2]

Issue 12 asks for a 64-point Latin hypercube x 10 replications x 2 models of Odder in a few
minutes on two cores. The run also has the base set, each uncertain input's low and high set and
the threshold searches' sets, so the figure is given per set as well: wall seconds, sets per
second, and the workers' CPU seconds per set (from the set files), which depend much less on what
else the machine runs than the wall time does. A scenario without its own `provenance:` section
is run from a copy with a range on the referral rate; the presets' assumptions are varied anyway.
Nothing is asserted: the figures are printed for the issue notes.
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

ROOT = Path(__file__).resolve().parent.parent

ARRIVALS_RANGE = """
provenance:
  arrivals.rate_per_week:
    source: "KL Momentum 2016: 0.7 % of the population in § 85 (inferred ~3/week)"
    uncertain: {kind: uniform, low: 2.5, high: 3.5}
"""


def scenario_copy(scenario: Path, folder: Path) -> Path:
    """The scenario itself when it has a provenance section, else a copy with one."""
    text = scenario.read_text(encoding="utf-8")
    if "\nprovenance:" in text:
        return scenario
    path = folder / scenario.name
    path.write_text(text + ARRIVALS_RANGE, encoding="utf-8")
    for extra in scenario.parent.glob("*.csv"):  # referral files the scenario may name
        (folder / extra.name).write_bytes(extra.read_bytes())
    return path


def measure(scenario: Path, n: int, reps: int, jobs: int) -> dict[str, float]:
    """Run the command once; its wall time and the per-set figures of its folder."""
    with tempfile.TemporaryDirectory() as tmp:
        path = scenario_copy(scenario, Path(tmp))
        out = Path(tmp) / "unc"
        args = [sys.executable, "-m", "sim.cli", "uncertainty", str(path), "--n", str(n)]
        args += ["--reps", str(reps), "--jobs", str(jobs), "--no-report", "--out", str(out)]
        start = time.perf_counter()
        subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        sets = [json.loads(p.read_text()) for p in (out / "sets").glob("*.json")]
        cpu = sum(s["worker_seconds"]["cpu"] for s in sets)
    return {
        "wall_s": wall,
        "sets": len(sets),
        "sets_per_s": len(sets) / wall,
        "cpu_s_per_set": cpu / max(len(sets), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "odder.yaml")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    a = parser.parse_args()
    got = measure(a.scenario, a.n, a.reps, a.jobs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"uncertainty {a.scenario.stem}: {a.n} LHS x {a.reps} reps, --jobs {a.jobs}: "
        f"{got['sets']:.0f} sets in {got['wall_s']:.1f} s ({got['sets_per_s']:.3f} sets/s), "
        f"{got['cpu_s_per_set']:.2f} CPU s per set; load average {load:.1f} "
        f"on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
