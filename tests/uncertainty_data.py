"""A synthetic uncertainty folder with a known answer (the files ``sim uncertainty`` writes).

Citizens helped per year: classic = 100 + shared_r (the same citizens in every set), joint =
classic + SLOPE * (demand - X0) + small set noise. Only ``arrivals.rate_per_week`` ("demand")
matters; the two other inputs do nothing. The true crossing is demand = X0.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

DEMAND = "arrivals.rate_per_week"
CADENCE = "models.joint.review.cadence_weeks"
COURSE = "models.joint.course_share"
INPUTS = [DEMAND, CADENCE, COURSE]
RANGES = {DEMAND: (2.0, 4.0), CADENCE: (8.0, 26.0), COURSE: (0.1, 0.5)}
BASE = {DEMAND: 3.0, CADENCE: 13.0, COURSE: 0.3}
SLOPE, X0 = 10.0, 2.6


def joint_minus_classic(demand: float, set_id: int, reps: int, eps: float) -> np.ndarray:
    own = np.random.default_rng([99, set_id]).normal(0, eps, reps)
    return SLOPE * (demand - X0) + own


def make_folder(
    folder: Path, n: int = 40, reps: int = 6, eps: float = 0.5, threshold: float = 2.0,
    search: tuple[float, ...] = (2.4, 2.55, 2.65, 2.8),
) -> Path:  # fmt: skip
    """Write design.csv, replications.csv and uncertainty.json; return the folder."""
    from scipy.stats import qmc

    folder.mkdir(parents=True, exist_ok=True)
    u = qmc.LatinHypercube(d=3, seed=5).random(n)
    rows = [dict(set_id=0, role="base", input="", **BASE)]
    for x in INPUTS:
        for role, v in (("low", RANGES[x][0]), ("high", RANGES[x][1])):
            rows.append(dict(set_id=len(rows), role=role, input=x, **{**BASE, x: v}))
    for i in range(n):
        vals = {
            x: RANGES[x][0] + u[i, j] * (RANGES[x][1] - RANGES[x][0]) for j, x in enumerate(INPUTS)
        }
        rows.append(dict(set_id=len(rows), role="sample", input="", **vals))
    for v in search:
        rows.append(dict(set_id=len(rows), role="threshold", input=DEMAND, **{**BASE, DEMAND: v}))
    design = pl.DataFrame(rows)
    shared = np.random.default_rng(7).normal(0, 3.0, reps)
    rep_rows = []
    for r in rows:
        d = joint_minus_classic(r[DEMAND], r["set_id"], reps, eps if r["role"] != "base" else 0.0)
        if r["role"] in ("low", "high") and r["input"] != DEMAND:
            d = joint_minus_classic(r[DEMAND], 0, reps, 0.0)  # same citizens, nothing changed
        for k in range(reps):
            classic = 100.0 + shared[k]
            for model, value in (("classic", classic), ("joint", classic + d[k])):
                rep_rows.append(
                    dict(set_id=r["set_id"], model=model, replication=k, helped_per_year=value)
                )
    design.write_csv(folder / "design.csv")
    pl.DataFrame(rep_rows).write_csv(folder / "replications.csv")
    meta = {
        "kind": "uncertainty",
        "scenario": "synthetic",
        "method": "lhs",
        "n": n,
        "replications": reps,
        "threshold": threshold,
        "baseline": "classic",
        "models": ["classic", "joint"],
        "inputs": [
            {
                "path": x,
                "base": BASE[x],
                "range": {"kind": "uniform", "low": RANGES[x][0], "high": RANGES[x][1]},
                **({"source": "KL Momentum 2016"} if x == DEMAND else {"assumption": "guess"}),
            }
            for x in INPUTS
        ],
        "versions": {"sim": "test"},
    }
    (folder / "uncertainty.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder
