"""The report in a real headless Chromium, offline from file://, and PNG export through kaleido.

Skipped when no Chromium is found; enable with `apt-get install chromium` (or set BROWSER_PATH)
and, for PNG export, `pip install 'sim[images]'`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from sim.present.plots import load_results, report_figures
from sim.present.report import FIGURES_DIR, find_browser, write_report

from .report_data import build_results

pytestmark = pytest.mark.browser

BROWSER = find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None,
    reason="needs headless Chromium: apt-get install chromium (or set BROWSER_PATH)",
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_results(tmp_path_factory.mktemp("browser") / "run")


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` from file:// in headless Chromium with every host unresolvable."""
    assert BROWSER is not None
    cmd = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked for over the network (not the browser's own housekeeping)."""
    events = json.loads(netlog.read_text(encoding="utf-8")).get("events", [])
    urls = set()
    for e in events:
        p = e.get("params") or {}
        if str(p.get("network_isolation_key", "")).startswith("file://") and "url" in p:
            urls.add(p["url"])
    return sorted(u for u in urls if not u.startswith("file:"))


@needs_browser
@pytest.mark.parametrize("lang", ["en", "da"])
def test_report_renders_every_figure_offline(results: Path, tmp_path: Path, lang: str) -> None:
    report = write_report(results, lang)
    n_figs = len(report_figures(load_results(results), lang)) + 1  # + the summary's forest
    netlog = tmp_path / "netlog.json"
    run = chromium(
        report,
        tmp_path / "profile",
        "--dump-dom",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={netlog}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert dom.count('class="plot-container') == n_figs
    assert dom.count('class="main-svg"') >= 2 * n_figs
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    errors = [line for line in console if re.search(r"Uncaught|Error|error|Failed", line)]
    assert errors == [], errors
    assert page_requests(netlog) == [], "the report must fetch nothing"


@needs_browser
def test_report_screenshot(results: Path, tmp_path: Path) -> None:
    report = write_report(results, "en")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    run = chromium(
        report,
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1400,4000",
        f"--screenshot={shot}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 4000)
    assert len(data) > 100_000, "a rendered report, not a blank page"


@needs_browser
def test_png_export_writes_every_figure_with_one_browser(results: Path) -> None:
    pytest.importorskip("kaleido", reason="needs kaleido: pip install 'sim[images]'")
    write_report(results, "da", png=True)
    names = list(report_figures(load_results(results), "da"))
    pngs = sorted((results / FIGURES_DIR).glob("*.png"))
    assert sorted(p.stem for p in pngs) == sorted(names)
    for p in pngs:
        data = p.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert int.from_bytes(data[16:20], "big") == 2400, "1200 px wide at scale 2"
