"""`sim app` in a real browser: Playwright driving Debian's chromium (no browser download).

The test starts `sim app` on a free loopback port and always stops it (SIGTERM to the command,
then SIGKILL to its process group), and checks that nothing it started is left. It loads the page,
moves the budget, sees the figures change and match `sim run` of the same inputs, pins and
compares, and downloads the what-if's YAML, which `sim validate` accepts. Screenshots go to
results/test-artefacts/ (git-ignored). Skipped when chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import psutil
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.loader import dump_resolved, load_scenario
from sim.present import i18n

from .test_whatif import free_port, start_app, wait_healthy

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "results" / "test-artefacts"
SHORT = [
    "experiment.horizon_weeks=130",
    "experiment.warmup_weeks=26",
    "experiment.replications=3",
    "staffing={mode: share, authority_share: 0.1}",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`sim app` on a small scenario, on a free loopback port; stopped whatever happens."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(dump_resolved(load_scenario(ROOT / "scenarios/odder.yaml", SHORT)))
    port = free_port()
    proc = start_app(scenario, port, "--jobs", "2")
    tree: list[psutil.Process] = []
    try:
        wait_healthy(port, proc)
        yield f"http://127.0.0.1:{port}", scenario
        tree = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 143
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.wait(timeout=10)
    _, alive = psutil.wait_procs(tree, timeout=15)
    assert not alive, f"left running: {alive}"


def cell(page: object, metric: str, model: str) -> str:
    """The key-figure table's cell (first table on the page)."""
    table = page.locator("table").first  # type: ignore[attr-defined]
    heads = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        if i18n.metric_label(metric, "en") in cells:
            return cells[heads.index(model)]
    raise AssertionError(f"{metric} not in the table")


def done(page: object, n: int = 3, timeout: float = 180) -> None:
    page.locator("#progress", has_text=f"Replications {n} of {n} done").wait_for(  # type: ignore[attr-defined]
        timeout=timeout * 1000
    )


def expected(scenario: Path, out: Path, *sets: str) -> str:
    """joint's citizens helped per year as `sim run` of the same inputs gives it."""
    args = ["run", str(scenario), "--out", str(out), "--no-report", "--jobs", "2"]
    res = CliRunner().invoke(app, [*args, *(a for s in sets for a in ("--set", s))])
    assert res.exit_code == 0, res.output
    df = pl.read_csv(out / "summary.csv")
    row = df.filter((pl.col("model") == "joint") & (pl.col("metric") == "helped_per_year"))
    m, lo, hi = row["mean"][0], row["ci_low"][0], row["ci_high"][0]
    return i18n.fmt_ci(m, lo, hi, "en", i18n.auto_digits(m))


def set_budget(page: object, value: int) -> None:
    box = page.get_by_label("Annual budget (DKK/year)")  # type: ignore[attr-defined]
    box.fill(str(value))
    box.press("Enter")


def test_the_page_in_a_browser(served: tuple[str, Path], tmp_path: Path) -> None:
    url, scenario = served
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            began = time.perf_counter()
            page.goto(url)
            page.locator("#progress").wait_for(timeout=120_000)
            first = time.perf_counter() - began
            done(page)
            print(f"first figures after {first:.1f} s")
            assert cell(page, "helped_per_year", "joint") == expected(scenario, tmp_path / "a")
            page.screenshot(path=str(ARTEFACTS / "app-loaded.png"), full_page=True)
            before = cell(page, "helped_per_year", "joint")

            set_budget(page, 17_500_000)
            want = expected(scenario, tmp_path / "b", "budget.annual_dkk=17500000")
            page.wait_for_function(
                "w => [...document.querySelectorAll('table')[0].querySelectorAll('td')]"
                ".some(td => td.innerText.trim() === w)",
                arg=want,
                timeout=180_000,
            )
            done(page)
            assert cell(page, "helped_per_year", "joint") == want != before

            page.get_by_role("button", name="Pin this what-if").click()
            page.get_by_text("Pinned and current what-if side by side").wait_for(timeout=60_000)
            set_budget(page, 15_500_000)
            lower = expected(scenario, tmp_path / "c", "budget.annual_dkk=15500000")
            page.wait_for_function(  # the comparison of the finished new what-if, fresh
                "w => document.querySelectorAll('table').length > 1"
                " && document.querySelectorAll('table')[1].innerText.includes(w)"
                " && !document.querySelector('[data-stale=\"true\"]')",
                arg=lower,
                timeout=180_000,
            )
            compare = page.locator("table").nth(1).inner_text()
            assert want in compare and lower in compare
            page.screenshot(path=str(ARTEFACTS / "app-compare.png"), full_page=True)

            with page.expect_download() as info:
                page.get_by_role("button", name="Download scenario.yaml").click()
            yaml_path = tmp_path / "whatif.yaml"
            shutil.copy(info.value.path(), yaml_path)
        finally:
            browser.close()
    text = yaml_path.read_text(encoding="utf-8")
    assert re.search(r"annual_dkk: 15500000(\.0)?\n", text)
    valid = CliRunner().invoke(app, ["validate", str(yaml_path)])
    assert valid.exit_code == 0, valid.output
