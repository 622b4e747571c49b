"""What `sim run` does before any work (issue 16, o1-overhead): a call refused at once imports only
what its checks need, and says the same thing with the same exit code as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ODDER = ROOT / "scenarios" / "odder.yaml"

_PROBE = """
import sys
from sim.cli import main
sys.argv = ["sim", *{args!r}]
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("plotly", "polars", "xlsxwriter", "scipy", "SALib", "rich.progress")
               if m in sys.modules)
print("SCHEMA", sorted(m for m in ("numpy", "sim.model.scenario") if m in sys.modules),
      file=sys.stderr)
print("EXIT", code, "HEAVY", heavy, file=sys.stderr)
"""


def _refused(*args: str) -> tuple[str, str, str]:
    """Run the command line in a fresh interpreter; its stderr, and the probe's lines: the exit
    code with the writers' modules imported, and the schema's modules imported."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    lines = proc.stderr.strip().splitlines()
    return "\n".join(lines[:-2]), lines[-1], lines[-2]


def test_existing_out_is_refused_without_the_writers_imports(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    err, probe, schema = _refused("run", str(ODDER), "--out", str(out))
    assert err == f"error: {out} already exists; choose another --out"
    assert probe == "EXIT 2 HEAVY []"
    assert schema == "SCHEMA []"  # refused before the scenario is read


def test_taken_out_is_refused_before_the_scenario_is_read(tmp_path: Path) -> None:
    """A taken --out needs no scenario: it is the first refusal, even of a scenario that would be
    refused too."""
    out = tmp_path / "taken"
    out.mkdir()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nexperiment:\n  replications: -3\n", encoding="utf-8")
    err, probe, _ = _refused("run", str(bad), "--out", str(out))
    assert err == f"error: {out} already exists; choose another --out"
    assert probe.startswith("EXIT 2 ")


def test_bad_scenario_is_refused_without_the_writers_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nexperiment:\n  replications: -3\n", encoding="utf-8")
    err, probe, _ = _refused("run", str(bad), "--out", str(tmp_path / "o"))
    assert err.startswith(f"{bad}:")
    assert probe == "EXIT 2 HEAVY []"
    assert not (tmp_path / "o").exists()


def test_bad_option_keeps_its_message_and_exit_code(tmp_path: Path) -> None:
    err, probe, _ = _refused("run", str(ODDER), "--lang", "xx", "--out", str(tmp_path / "o"))
    assert err.startswith("error: --lang must be one of en, da")
    assert probe == "EXIT 2 HEAVY []"
