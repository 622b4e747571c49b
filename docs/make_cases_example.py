"""Write a synthetic case export from a scenario: test data no one can mistake for real.

    python docs/make_cases_example.py scenarios/odder.yaml docs/cases-example.csv

Runs the scenario's baseline model (with its warm-up) and writes, from the event log, what a case
system would export on the export date: one row per case open at some time in the period, open
cases cut at that date, every id starting with ``SYN-``. By default as messy as a Danish export
(``;``, dd-mm-yyyy, decimal commas, a BOM, shuffled columns, stray spaces); ``--tidy`` for ISO.

A script, not a `sim` command: a planner has real data and never needs it; it exists for the
README's walk-through and the round-trip tests (which call ``sim.run.casegen`` directly). The
output's file name must say what it is (it must contain "example" or "synthetic").
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sim.config.loader import ScenarioError, load_scenario
from sim.run.casegen import MESSY, ExportStyle, synthetic_export, write_export


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--start", default="2023-01-01", help="first day of the period (ISO)")
    p.add_argument("--years", type=int, default=3, help="length of the period in years")
    p.add_argument("--seed", type=int, default=None, help="default: the scenario's seed + 1")
    p.add_argument("--tidy", action="store_true", help="ISO dates, ',' and decimal points")
    a = p.parse_args(argv)
    if not any(word in a.out.name.lower() for word in ("example", "synthetic")):
        print(f"error: {a.out.name}: the name must say it is synthetic ('example' or "
              "'synthetic' in it)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        sc = load_scenario(a.scenario)
        start = dt.date.fromisoformat(a.start)
    except ScenarioError as exc:
        print(exc.format(), file=sys.stderr)
        return 2
    except ValueError:
        print(f"error: --start: expected YYYY-MM-DD, found '{a.start}'", file=sys.stderr)
        return 2
    as_of = dt.date(start.year + a.years, start.month, start.day) - dt.timedelta(days=1)
    cases = synthetic_export(sc, start, as_of, seed=a.seed, base_dir=a.scenario.resolve().parent)
    write_export(cases, a.out, ExportStyle() if a.tidy else MESSY)
    print(f"{a.out}: {cases.height} synthetic cases, {start} to {as_of}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
