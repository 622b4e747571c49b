"""The compiled engine (mypyc, ``sim/model/native.py``): same tables as the sources, and never
built from sources other than the ones on disk."""

from __future__ import annotations

import copy
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.model import native
from sim.model.metrics import Interval, t_interval
from sim.model.pathway import Simulation
from tests.conftest import make_scenario

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import json, sys
from sim.model import native
from sim.model.metrics import Interval, t_interval
from sim.model.pathway import Simulation
from tests.conftest import make_scenario
from sim.cli import main
modules = {m: __import__(f"sim.model.{m}", fromlist=["x"]).__file__ for m in native.COMPILED}
with open(sys.argv[1], "w") as f:
    json.dump({"files": modules, "status": native.status}, f)
sys.argv = ["sim", *sys.argv[2:]]
main()
"""


def _env(pure: bool, pythonpath: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (native.PURE_ENV, native._SAID_ENV)}
    if pure:
        env[native.PURE_ENV] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _run(tmp: Path, name: str, pure: bool) -> tuple[dict[str, object], dict[str, bytes]]:
    """`sim run` of a short Odder in a fresh process; (what it imported, its CSVs' bytes)."""
    info, out = tmp / f"{name}.json", tmp / name
    args = ["run", str(ROOT / "scenarios" / "odder.yaml"), "--reps", "2", "--jobs", "1",
            "--no-report", "--set", "experiment.horizon_weeks=260",
            "--set", "experiment.warmup_weeks=52", "--out", str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(info), *args],
        env=_env(pure),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    tables = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}
    return json.loads(info.read_text()), tables


def _current_build() -> None:
    """Skip unless a compiled build of the current sources exists (``make install`` builds it)."""
    saved = os.environ.pop(native.PURE_ENV, None)
    try:
        ok, why = native.check()
    finally:
        if saved is not None:
            os.environ[native.PURE_ENV] = saved
    if ok:
        return
    if why == "not built" and _buildable():
        # ``make test`` builds first: with a compiler here, no build means the build failed
        # (say, an annotation mypyc rejects), which must not pass as a skip.
        pytest.fail("a C compiler is here but the engine is not compiled: see make install")
    pytest.skip(f"no compiled engine for these sources ({why}): run make install")


def _buildable() -> bool:
    """Whether this machine has what the build needs (``tools/build_native.missing``)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_native  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return build_native.missing() is None


def test_compiled_and_pure_engines_write_identical_tables(tmp_path: Path) -> None:
    _current_build()
    compiled, compiled_tables = _run(tmp_path, "compiled", pure=False)
    pure, pure_tables = _run(tmp_path, "pure", pure=True)
    suffix = native.library_path(Path(), "x").suffix
    files = compiled["files"]
    assert isinstance(files, dict)
    assert all(f.endswith(suffix) for f in files.values()), files
    assert all(f.endswith(".py") for f in pure["files"].values()), pure  # type: ignore[union-attr]
    assert compiled["status"] == "compiled (mypyc)"
    assert pure["status"] == f"pure Python ({native.PURE_ENV}=1)"
    assert compiled_tables, "sim run wrote no CSV"
    assert compiled_tables.keys() == pure_tables.keys()
    for name, data in compiled_tables.items():
        assert data == pure_tables[name], f"{name} differs between compiled and pure"


def _fake_build(root: Path, build: Path) -> None:
    """A build directory as the build script leaves it, for the sources in ``root`` (empty
    extension files: ``check`` decides without loading them)."""
    build.mkdir()
    for m in native.COMPILED:
        native.library_path(build, m).write_bytes(b"")
    manifest = {
        "modules": list(native.COMPILED),
        "suffix": native.library_path(build, "x").name[1:],
        "sources": native.source_hashes(root),
    }
    (build / native.MANIFEST).write_text(json.dumps(manifest))


def test_a_build_is_used_only_for_the_sources_it_was_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    root, build = tmp_path / "model", tmp_path / "build"
    shutil.copytree(native.HERE, root, ignore=shutil.ignore_patterns("_compiled", "__pycache__"))
    _fake_build(root, build)
    assert native.check(build, root) == (True, "")
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.check(build, root) == (False, f"{native.PURE_ENV}=1")
    monkeypatch.delenv(native.PURE_ENV)
    clock = root / "clock.py"
    clock.write_text(clock.read_text() + "\n# an edit\n")
    ok, why = native.check(build, root)
    assert not ok and why.startswith("stale") and "clock.py" in why
    clock.write_text(clock.read_text().removesuffix("\n# an edit\n"))
    assert native.check(build, root) == (True, "")
    (root / "scenario.py").write_text((root / "scenario.py").read_text() + " ")  # not compiled
    ok, why = native.check(build, root)
    assert not ok and "scenario.py" in why
    (root / "scenario.py").write_text((native.HERE / "scenario.py").read_text())
    (root / "new.py").write_text("")
    assert not native.check(build, root)[0]
    (root / "new.py").unlink()
    native.library_path(build, "engine").unlink()
    assert native.check(build, root) == (False, "build incomplete")
    (build / native.MANIFEST).unlink()
    assert native.check(build, root) == (False, "not built")


def _copy_package(dst: Path) -> Path:
    """A copy of the ``sim`` package with its compiled build, importable from ``dst``."""
    shutil.copytree(ROOT / "sim", dst / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    return dst / "sim" / "model"


IMPORT = "import sim.model.engine as e; print(e.__file__); print(getattr(e, 'EDITED', 'built'))"


def test_an_edited_source_runs_instead_of_its_stale_build(tmp_path: Path) -> None:
    _current_build()
    model = _copy_package(tmp_path)

    def imported() -> tuple[list[str], str]:
        done = subprocess.run(
            [sys.executable, "-c", IMPORT],
            env=_env(False, tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.splitlines(), done.stderr

    (file, mark), err = imported()
    assert file == str(native.library_path(model / "_compiled", "engine")) and not err
    assert mark == "built"
    engine = model / "engine.py"
    engine.write_text(engine.read_text() + '\nEDITED = "edited"\n')
    (file, mark), err = imported()
    assert file == str(engine)
    assert mark == "edited", "the edited source is what runs"
    assert err.count("\n") == 1 and "engine.py changed since the build" in err


def test_results_cross_processes_compiled_or_not() -> None:
    """What a worker sends back (a replication's result) and the intervals summaries keep pickle
    and copy as they are, in whichever form the engine runs here (compiled classes have no
    ``__dict__``; a frozen one cannot be filled field by field)."""
    sc = make_scenario(horizon_weeks=30, warmup_weeks=4, replications=2)
    result = Simulation(sc, "joint", 0, sc.staffing_fte()).run()
    back = pickle.loads(pickle.dumps(result))
    assert repr(back.metrics) == repr(result.metrics) and back.model == "joint"  # NaN too
    assert (back.timeseries == result.timeseries).all()
    interval = t_interval([1.0, 2.0, 4.0])
    for twin in (pickle.loads(pickle.dumps(interval)), copy.deepcopy(interval)):
        assert twin == interval and isinstance(twin, Interval)
        assert twin.half_width == (interval.high - interval.low) / 2
