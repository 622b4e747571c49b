"""The report on paper: `sim report --pdf`, the one-page summary, print CSS and no overlapping text.

The PDF is printed by the product path (Debian's chromium through a subprocess); the page counts
are read from the PDF itself (one ``/Type /Page`` object per page, A4 from its MediaBox). The
layout checks open the report in Playwright on the same chromium, with print media emulated, and
compare the bounding boxes of the text in the DOM. Skipped without chromium (or Playwright, for
the layout checks): `apt-get install chromium`.
"""

from __future__ import annotations

import _thread
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.present import pdf as pdfmod
from sim.present.page import PRINT_FIGURE_PX, PRINT_HEIGHT_PX
from sim.present.report import find_browser

from .report_data import build_results

pytestmark = pytest.mark.browser

BROWSER = find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="needs headless Chromium: apt-get install chromium (or BROWSER_PATH)"
)
A4_POINTS = (595.0, 842.0)
"""A4 in PDF points (1/72 inch): 210 x 297 mm."""


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page of a PDF as Chromium writes it (uncompressed page
    objects, each with its own /MediaBox)."""
    pages = []
    for m in re.finditer(rb"/Type\s*/Page(?![a-zA-Z])", data):
        start = data.rfind(b"obj", 0, m.start())
        end = data.find(b"endobj", m.end())
        box = re.search(
            rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", data[start:end]
        )
        assert box is not None, "a page without a MediaBox"
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        pages.append((x1 - x0, y1 - y0))
    return pages


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short Odder run (3 replications, 3 years): its warnings make the summary longest."""
    return build_results(tmp_path_factory.mktemp("print") / "odder")


def test_pdf_without_a_browser_says_how_and_exits_2(results: Path) -> None:
    before = sorted(p.name for p in results.iterdir())
    env = {"BROWSER_PATH": str(results / "no-such-browser")}
    out = CliRunner().invoke(app, ["report", str(results), "--lang", "da", "--pdf"], env=env)
    assert out.exit_code == 2, out.output
    assert "apt-get install chromium" in out.output
    assert "Traceback" not in out.output
    assert sorted(p.name for p in results.iterdir()) == before  # nothing written


@needs_browser
def test_danish_odder_report_prints_to_at_most_12_a4_pages(results: Path) -> None:
    out = CliRunner().invoke(app, ["report", str(results), "--lang", "da", "--pdf"])
    assert out.exit_code == 0, out.output
    pdf = results / "report.da.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = pdf_pages(data)
    assert 2 <= len(pages) <= 12, f"{len(pages)} pages"
    for w, h in pages:
        assert abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2, (w, h)
    assert not list(results.glob(".report.da.pdf.tmp-*"))


def _popen_recorder(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def record(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(pdfmod.subprocess, "Popen", record)
    return started


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@needs_browser
def test_a_print_that_times_out_leaves_no_browser_and_no_file(
    results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _popen_recorder(monkeypatch)
    page = results / "report.html"
    out = tmp_path / "late.pdf"
    with pytest.raises(pdfmod.PdfError, match="did not finish"):
        pdfmod.print_pdf(page, out, timeout=0.3)
    assert len(started) == 1 and _group_gone(started[0].pid)
    assert list(tmp_path.iterdir()) == []


@needs_browser
def test_an_interrupted_print_kills_the_browser(
    results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _popen_recorder(monkeypatch)
    stop = threading.Event()

    def ctrl_c_while_printing() -> None:
        # Timed from the browser's start, not from the call: a fixed 0.5 s from the call could
        # land after a quick print had already finished (seen in CI: the browser exited 0).
        while not started and not stop.wait(0.01):
            pass
        if not stop.wait(0.1):
            _thread.interrupt_main()

    timer = threading.Thread(target=ctrl_c_while_printing, daemon=True)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pdfmod.print_pdf(results / "report.html", tmp_path / "x.pdf")
    finally:
        stop.set()
        timer.join()
    assert len(started) == 1 and _group_gone(started[0].pid)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- layout in the DOM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Playwright browser for the module (Debian's chromium; nothing downloaded)."""
    if BROWSER is None:
        pytest.skip("needs headless Chromium: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def printed(browser: Any, results: Path) -> Iterator[Any]:
    """The Danish report in print media, laid out as `sim report --pdf` lays it out."""
    from sim.present.rebuild import rebuild_report

    page_file = rebuild_report(results, "da")
    page = browser.new_page(viewport={"width": PRINT_FIGURE_PX, "height": PRINT_HEIGHT_PX})
    page.goto(page_file.resolve().as_uri())
    page.emulate_media(media="print")
    yield page
    page.close()


TEXT_BOXES = """(sel) => {
  const root = document.querySelector(sel);
  if (!root) return null;
  const out = [];
  const svgText = root.querySelectorAll('svg text');
  svgText.forEach(e => {
    const r = e.getBoundingClientRect();
    if (e.textContent.trim() && r.width > 0 && r.height > 0)
      out.push([e.textContent.trim(), r.left, r.top, r.right, r.bottom]);
  });
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || n.parentElement.closest('svg')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects())
      if (r.width > 0 && r.height > 0)
        out.push([n.textContent.trim().slice(0, 40), r.left, r.top, r.right, r.bottom]);
  }
  return out;
}"""


def overlaps(boxes: list[list[Any]], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of text boxes that intersect by more than ``slack`` pixels both ways."""
    found = []
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            w = min(ax1, bx1) - max(ax0, bx0)
            h = min(ay1, by1) - max(ay0, by0)
            if w > slack and h > slack:
                found.append((a, b))
    return found


def test_overlaps_finds_crossing_boxes_only() -> None:
    boxes = [["a", 0, 0, 10, 10], ["b", 9, 9, 20, 20], ["c", 10.2, 0, 30, 8]]
    assert overlaps(boxes) == [("a", "b")]


@needs_browser
def test_no_text_overlaps_in_the_summary(printed: Any) -> None:
    boxes = printed.evaluate(TEXT_BOXES, "section.summary")
    assert boxes, "the report has no summary section"
    assert len(boxes) > 40  # headline, table cells, the chart's labels
    assert overlaps(boxes) == []


@needs_browser
def test_no_text_overlaps_on_the_staff_hours_chart(printed: Any) -> None:
    boxes = printed.evaluate(TEXT_BOXES, "#figure-staff_hours")
    assert boxes and any("%" in b[0] for b in boxes)  # the core-task shares are there
    assert overlaps(boxes) == []


@needs_browser
def test_print_hides_chart_toolbars_and_keeps_figures_whole(printed: Any) -> None:
    state = printed.evaluate(
        """() => ({
          bars: [...document.querySelectorAll('.modebar-container')]
                  .map(e => getComputedStyle(e).display),
          figures: [...document.querySelectorAll('figure')]
                  .map(e => getComputedStyle(e).breakInside),
          summaryBreak: getComputedStyle(document.querySelector('section.summary')).breakAfter,
        })"""
    )
    assert state["bars"] and set(state["bars"]) == {"none"}
    assert state["figures"] and set(state["figures"]) == {"avoid"}
    assert state["summaryBreak"] == "page"


@needs_browser
def test_the_summary_prints_on_one_a4_page(browser: Any, results: Path, tmp_path: Path) -> None:
    """Print the summary followed by one short line: two A4 pages, the line alone on the second
    (a summary longer than a page would push it to a third)."""
    from sim.present.rebuild import rebuild_report

    page = browser.new_page(viewport={"width": PRINT_FIGURE_PX, "height": PRINT_HEIGHT_PX})
    try:
        page.goto(rebuild_report(results, "da").resolve().as_uri())
        kept = page.evaluate(
            """() => {
              const s = document.querySelector('section.summary');
              if (!s) return 0;
              let n = s.nextElementSibling;
              while (n) { const next = n.nextElementSibling; n.remove(); n = next; }
              s.insertAdjacentHTML('afterend', '<p id="after">after the summary</p>');
              return s.querySelectorAll('figure, table, .headline').length;
            }"""
        )
        assert kept >= 3  # the headline, the key figures and the forest chart
        out = tmp_path / "summary.pdf"
        page.pdf(path=str(out), prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    pages = pdf_pages(out.read_bytes())
    assert len(pages) == 2, f"the summary and one line take {len(pages)} pages"
    assert all(abs(h - A4_POINTS[1]) < 2 for _, h in pages)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@needs_browser
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_sigterm_during_pdf_kills_the_browser_and_writes_nothing(
    results: Path, tmp_path: Path
) -> None:
    import signal
    import sys
    import time

    folder = tmp_path / "odder"
    import shutil

    shutil.copytree(results, folder)
    for p in folder.glob("report.*"):
        if p.name != "report.html":
            p.unlink()
    cmd = [sys.executable, "-m", "sim.cli", "report", str(folder), "--lang", "da", "--pdf"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        browsers: list[int] = []
        deadline = time.monotonic() + 120
        while not browsers and time.monotonic() < deadline and proc.poll() is None:
            browsers = _children(proc.pid)
            time.sleep(0.05)
        assert browsers, "the browser never started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert all(_group_gone(pid) for pid in browsers)
    assert not (folder / "report.da.pdf").exists()
    assert not list(folder.glob(".report.da.pdf.tmp-*"))


@needs_browser
@pytest.mark.parametrize("window", [703, 1400])  # the A4 column itself, and a wide screen
def test_a_browsers_own_print_redraws_the_charts_for_the_page(
    browser: Any, results: Path, window: int
) -> None:
    """Printing from a browser window of any width: the page's script redraws every chart at the
    width the print CSS shrinks to the A4 column, and restores it after."""
    from sim.present.rebuild import rebuild_report

    page = browser.new_page(viewport={"width": window, "height": 900})
    try:
        page.goto(rebuild_report(results, "en").resolve().as_uri())
        widths = (
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g._fullLayout.width)"
        )
        screen = page.evaluate(widths)
        every = "([w, n]) => [...document.querySelectorAll('.js-plotly-plot')]"
        every += ".every(g => g._fullLayout.width === w)"
        page.emulate_media(media="print")  # the change event comes when the browser gets to it
        page.wait_for_function(every, arg=[PRINT_FIGURE_PX, 0], timeout=30_000)
        printed = page.evaluate(widths)
        page.emulate_media(media="screen")
        page.wait_for_function(every, arg=[screen[0], 0], timeout=30_000)
        after = page.evaluate(widths)
    finally:
        page.close()
    assert screen and PRINT_FIGURE_PX not in screen
    assert set(printed) == {PRINT_FIGURE_PX}, (screen, printed, after)
    assert after == screen
