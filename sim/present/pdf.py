"""A report printed to PDF (A4) by the Chromium the PNG export already uses.

The browser runs headless as a child process in a session of its own, prints the page from
``file://`` with every host unresolvable (the report fetches nothing), and is killed with its
whole process group when it takes too long or when ``sim`` is interrupted (Ctrl-C, SIGTERM turned
into an interrupt by the command), so no browser outlives the command. The PDF is written to a
temporary name and renamed into place: a failed print leaves no half file.

The page is opened so that its figures are drawn ``PRINT_FIGURE_PX`` wide, the width at which the
print CSS of the page shell expects them before it shrinks them to the A4 column.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sim.present.page import PRINT_FIGURE_PX, PRINT_HEIGHT_PX

SCREEN_PADDING_PX = 76
"""The page's side padding on screen (2 rem each side at 19 px): a window this much wider than
``PRINT_FIGURE_PX`` draws the figures at that width before printing starts (the page's print
script would redraw them otherwise)."""

PDF_TIMEOUT_SECONDS = 180.0
"""Longest a print may take (a 20-page report takes ~5 s on a loaded 2-core machine)."""

NO_BROWSER_HINT = (
    "A PDF needs a Chromium browser; nothing is downloaded at run time. Install it with "
    "`apt-get install chromium` (or point BROWSER_PATH at a Chrome or Chromium executable). "
    "The HTML report does not need it: open it in a browser and print it to PDF from there."
)


class PdfError(RuntimeError):
    """The PDF cannot be made here (no browser, or the browser failed); the message says why."""


def pdf_name(lang: str) -> str:
    """The file name of a report printed in ``lang``."""
    return f"report.{lang}.pdf"


def browser_or_error() -> str:
    """The browser's path, or a PdfError saying how to get one (checked before any work)."""
    from sim.present.report import find_browser

    browser = find_browser()
    if browser is None:
        env = os.environ.get("BROWSER_PATH")
        where = f"BROWSER_PATH={env!r} is not an executable" if env else "no Chromium on the PATH"
        raise PdfError(f"{where}. {NO_BROWSER_HINT}")
    return browser


def chromium_command(browser: str, page: Path, pdf: Path, profile: Path) -> list[str]:
    """The command line that prints ``page`` to ``pdf`` (A4 from the page's ``@page`` rule, no
    header or footer lines, no network, a throw-away profile)."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--window-size={PRINT_FIGURE_PX + SCREEN_PADDING_PX},{PRINT_HEIGHT_PX}",
        "--virtual-time-budget=15000",
        f"--print-to-pdf={pdf}",
        page.resolve().as_uri(),
    ]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the browser and every process it started (they share its process group), and see
    them gone (at most 5 s) even when a Ctrl-C comes meanwhile: it is raised once they are."""
    with contextlib.suppress(ProcessLookupError):  # also children left after it exited
        os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            _see_group_gone(proc, deadline)
            break
        except KeyboardInterrupt as exc:  # the kill is sent: finish seeing it done, then go on
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _see_group_gone(proc: subprocess.Popen[bytes], deadline: float) -> None:
    proc.wait()
    while time.monotonic() < deadline:  # SIGKILL is delivered, not waited for: see them go
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def print_pdf(page: Path, out: Path, *, timeout: float = PDF_TIMEOUT_SECONDS) -> Path:
    """Print the HTML file ``page`` to ``out`` (A4) with headless Chromium; PdfError on failure.

    Whatever happens (timeout, Ctrl-C, an error), the browser's process group is killed before
    this returns, and ``out`` is either the whole PDF or untouched.
    """
    browser = browser_or_error()
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="sim-pdf-") as profile:
        cmd = chromium_command(browser, Path(page), tmp, Path(profile))
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group: killed whole, and not by the terminal's ^C
        )
        try:
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise PdfError(
                    f"{browser} did not finish printing {page} within {timeout:.0f} s"
                ) from None
            if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
                last = (err or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
                raise PdfError(
                    f"{browser} could not print {page} (exit {proc.returncode})"
                    + (f": {last[0]}" if last else "")
                )
            os.replace(tmp, out)
        finally:
            try:
                _kill_group(proc)
            finally:
                tmp.unlink(missing_ok=True)
    return out
