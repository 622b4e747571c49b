"""`make docs`: every figure and console excerpt of the README, made again by the current code.

Each job runs one `sim` command on a shipped scenario into a temporary folder, copies the figures
it names into `docs/`, and puts the command's console output (abridged by a fixed rule) between
the README's markers `<!-- docs:NAME -->` and `<!-- /docs -->`. `docs/stamp.json` then records,
per job, a hash of everything that made it (every file under `sim/`, `pyproject.toml`, this file
and the job's scenario files) and of what it made (the README block, each image), so a test can
tell, without running anything, that a figure or excerpt is older than the code that makes it
(`python docs/build.py --check`, `tests/test_docs.py`).

Usage: `make docs` (all jobs; the README says how long it takes),
`python docs/build.py --only run-odder,optimise`, `python docs/build.py --check`.
Nothing is written unless every chosen job succeeded: the README, images and stamp are replaced
together at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
STAMP = ROOT / "docs" / "stamp.json"
CODE = ("sim", "pyproject.toml", "docs/build.py")
"""What every artefact depends on besides its scenario: the package, its pinned dependencies and
this generator."""

BLOCK = re.compile(r"<!-- docs:(?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /docs -->\n", re.S)
PROGRESS = re.compile(r"^\[[^\]]*\] \d+/\d+ done")
COLUMNS = 120
"""Console width of the excerpts (the README's code blocks read well up to ~120 characters)."""


@dataclass(frozen=True)
class Job:
    """One command whose output the README shows."""

    name: str
    shown: str
    """The command as the README shows it (without the temporary --out)."""
    args: tuple[str, ...]
    scenarios: tuple[str, ...]
    figures: dict[str, str] = field(default_factory=dict)
    """Figure in the results folder -> image under docs/."""
    max_rows: int | None = None
    """Tables longer than this many lines are cut in the middle (marked with an ellipsis)."""
    report_png: bool = False
    """Figures come from `sim report --png` (the sweep has no --png of its own)."""
    summary_png: str | None = None
    """Also photograph the report's printed one-page summary into this image."""
    folder: str = "results/<name>/<run-id>"
    """How the excerpt names the results folder (the command wrote into a temporary one)."""

    def outputs(self) -> list[str]:
        return [*self.figures.values(), *([self.summary_png] if self.summary_png else [])]


ODDER = "scenarios/odder.yaml"
SWEEP = "scenarios/sweeps/budget_and_demand.yaml"
JOBS: tuple[Job, ...] = (
    Job(
        "run-odder",
        f"sim run {ODDER}",
        ("run", ODDER, "--png"),
        (ODDER,),
        {"figures/helped_per_year.png": "docs/helped_per_year.png"},
        summary_png="docs/summary.png",
        folder="results/odder/<run-id>",
    ),
    Job(
        "sweep",
        f"sim sweep {SWEEP} --jobs 2",
        ("sweep", SWEEP, "--jobs", "2"),
        (SWEEP,),
        {"figures/heatmap.png": "docs/sweep_heatmap.png"},
        max_rows=8,
        report_png=True,
        folder="results/budget_and_demand/<run-id>",
    ),
    Job(
        "explain",
        f"sim explain {ODDER} --shapley",
        ("explain", ODDER, "--shapley", "--png"),
        (ODDER,),
        {
            "figures/waterfall_helped_per_year.png": "docs/explain_waterfall.png",
            "figures/sequential_vs_shapley.png": "docs/explain_orders.png",
        },
        folder="results/odder/explain-<run-id>",
    ),
    Job(
        "optimise",
        f"sim optimise {ODDER}",
        ("optimise", ODDER, "--png"),
        (ODDER,),
        {"figures/optimise_curve.png": "docs/optimise_curve.png"},
        max_rows=12,
        folder="results/odder/optimise-<run-id>",
    ),
)


# --------------------------------------------------------------------------- hashes


BUILT = {"__pycache__", "_compiled"}
"""Folders of files made from the sources (bytecode; the compiled engine, ``sim.model.native``):
not inputs. The compiled engine's bytes differ between builds (paths), so hashing them made a
clean clone's stamp look stale."""


def _files(rel: str) -> Iterable[Path]:
    path = ROOT / rel
    if path.is_file():
        yield path
    elif path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and not BUILT.intersection(p.parts) and p.suffix != ".pyc":
                yield p


def inputs_hash(job: Job) -> str:
    """sha256 over the path and content of every file that makes the job's artefacts."""
    h = hashlib.sha256()
    for rel in (*CODE, *job.scenarios):
        for p in _files(rel):
            h.update(p.relative_to(ROOT).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def readme_blocks(text: str) -> dict[str, str]:
    """The body of every marked block of the README, by name."""
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


# --------------------------------------------------------------------------- the check


def check() -> list[str]:
    """What is stale or missing, one line each (empty when the README is up to date)."""
    text = README.read_text(encoding="utf-8")
    blocks = readme_blocks(text)
    stamp = json.loads(STAMP.read_text(encoding="utf-8")) if STAMP.is_file() else {}
    done = stamp.get("jobs", {})
    problems = []
    for job in JOBS:
        if job.name not in blocks:
            problems.append(f"README.md has no block <!-- docs:{job.name} --> ... <!-- /docs -->")
        rec = done.get(job.name)
        if rec is None:
            problems.append(f"{job.name}: never generated; run `make docs`")
            continue
        if rec.get("inputs") != inputs_hash(job):
            problems.append(
                f"{job.name}: made by older code or scenario than the current one; run `make docs`"
            )
        if job.name in blocks and _sha(blocks[job.name]) != rec.get("excerpt"):
            problems.append(f"{job.name}: the README block was edited by hand; run `make docs`")
        for out in job.outputs():
            path = ROOT / out
            if not path.is_file():
                problems.append(f"{job.name}: {out} is missing; run `make docs`")
            elif _sha(path.read_bytes()) != rec.get("files", {}).get(out):
                problems.append(f"{job.name}: {out} is not the one `make docs` made")
    return problems


# --------------------------------------------------------------------------- the build


def abridge(lines: list[str], max_rows: int | None) -> list[str]:
    """Drop progress lines; cut tables longer than ``max_rows`` lines in the middle."""
    lines = [ln.rstrip() for ln in lines if not PROGRESS.match(ln)]
    if max_rows is None:
        return lines
    out: list[str] = []
    body: list[str] | None = None
    for ln in lines:
        if body is None:
            out.append(ln)
            if ln.startswith(("┡", "├")):
                body = []
        elif ln.startswith("└"):
            if len(body) > max_rows:
                keep = max_rows - 2
                body = [*body[:keep], " ...", *body[-2:]]
            out += [*body, ln]
            body = None
        else:
            body.append(ln)
    return out + (body or [])


def _sim(args: Iterable[str], cwd: Path) -> str:
    env = dict(os.environ, COLUMNS=str(COLUMNS), NO_COLOR="1", TERM="dumb")
    cmd = [sys.executable, "-m", "sim.cli", *args]
    proc = subprocess.run(  # one stream, in the order a terminal shows it
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=7200,
    )
    if proc.returncode != 0:
        raise SystemExit(
            f"docs: `{' '.join(cmd[2:])}` failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
        )
    return proc.stdout


def summary_png(report: Path, out: Path) -> None:
    """The report's first printed page (the one-page summary) as a PNG of a whole A4 page, as the
    print CSS lays it out: a browser with print media at A4 size (Playwright, a test dependency),
    everything after the summary hidden, margins as printed."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from sim.present.page import PRINT_FIGURE_PX
    from sim.present.report import find_browser

    browser = find_browser()
    if browser is None:
        raise SystemExit("docs: the summary image needs chromium (apt-get install chromium)")
    a4 = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 px per inch
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        try:
            page = b.new_page(viewport=a4, device_scale_factor=2)
            page.goto(report.resolve().as_uri())
            page.add_style_tag(
                content="main { padding: 57px 45px 60px !important; }"
                " section.summary ~ * { display: none !important; }"
            )
            page.emulate_media(media="print")  # the page's print script redraws the charts
            page.wait_for_function(  # ... when the browser gets to it: wait, on a busy machine
                "w => [...document.querySelectorAll('.js-plotly-plot')]"
                ".every(g => g._fullLayout && g._fullLayout.width === w)",
                arg=PRINT_FIGURE_PX,
                timeout=60_000,
            )
            page.screenshot(path=str(out), clip={"x": 0, "y": 0, **a4})
        finally:
            b.close()


def run_job(job: Job, work: Path, docs: Path) -> str:
    """Run ``job`` in ``work``, put its images under ``docs``; the README block's body."""
    out = work / job.name / "20260101-120000"  # a run id, as the report's header shows it
    out.parent.mkdir()
    text = _sim([*job.args, "--out", str(out)], ROOT)
    if job.report_png:
        _sim(["report", str(out), "--png"], ROOT)
    for src, dst in job.figures.items():
        target = docs / Path(dst).name
        shutil.copyfile(out / src, target)
    if job.summary_png:
        summary_png(out / "report.html", docs / Path(job.summary_png).name)
    text = text.replace(str(out), job.folder)
    lines = abridge(text.splitlines(), job.max_rows)
    return "```console\n$ " + job.shown + "\n" + "\n".join(lines) + "\n```\n"


def replace_blocks(text: str, bodies: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        body = bodies.get(m["name"], m["body"])
        return f"<!-- docs:{m['name']} -->\n{body}<!-- /docs -->\n"

    return BLOCK.sub(sub, text)


def build(names: list[str]) -> None:
    jobs = [j for j in JOBS if j.name in names]
    text = README.read_text(encoding="utf-8")
    missing = [j.name for j in jobs if j.name not in readme_blocks(text)]
    if missing:
        raise SystemExit(f"docs: README.md lacks the block(s) {', '.join(missing)}")
    stamp = json.loads(STAMP.read_text(encoding="utf-8")) if STAMP.is_file() else {"jobs": {}}
    bodies: dict[str, str] = {}
    before = {j.name: inputs_hash(j) for j in jobs}  # what the artefacts are made from
    with tempfile.TemporaryDirectory(prefix="sim-docs-") as tmp:
        work, docs = Path(tmp) / "work", Path(tmp) / "docs"
        work.mkdir()
        docs.mkdir()
        for job in jobs:
            t0 = time.monotonic()
            print(f"docs: {job.name}: {job.shown} ...", flush=True)
            bodies[job.name] = run_job(job, work, docs)
            print(f"docs: {job.name}: done in {time.monotonic() - t0:.0f} s", flush=True)
        changed = [j.name for j in jobs if inputs_hash(j) != before[j.name]]
        if changed:
            raise SystemExit(
                f"docs: the code or a scenario changed while building ({', '.join(changed)}); "
                "nothing written, run `make docs` again"
            )
        for job in jobs:  # every job succeeded: now replace the artefacts together
            for out in job.outputs():
                os.replace(docs / Path(out).name, ROOT / out)
            stamp["jobs"][job.name] = {
                "command": job.shown,
                "inputs": before[job.name],
                "excerpt": _sha(bodies[job.name]),
                "files": {out: _sha((ROOT / out).read_bytes()) for out in job.outputs()},
            }
    README.write_text(replace_blocks(text, bodies), encoding="utf-8")
    STAMP.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated job names: " + ", ".join(j.name for j in JOBS))
    ap.add_argument("--check", action="store_true", help="only say what is stale (exit 1 if any)")
    ns = ap.parse_args(argv)
    if ns.check:
        problems = check()
        print("\n".join(problems) or "docs: up to date")
        return 1 if problems else 0
    names = ns.only.split(",") if ns.only else [j.name for j in JOBS]
    unknown = sorted(set(names) - {j.name for j in JOBS})
    if unknown:
        print(f"docs: unknown job(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    build(names)
    print(f"docs: {len(names)} job(s) in {time.monotonic() - t0:.0f} s; stamp in {STAMP}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
