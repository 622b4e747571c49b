"""The engine's compiled modules (mypyc), used only when they were built from the current sources.

``make install`` compiles the hot modules (``COMPILED``) with mypyc into ``sim/model/_compiled/``
(``tools/build_native.py``; git-ignored), beside a manifest with a hash of every source in
``sim/model``. They are not next to the sources, so Python's own import never picks them up: the
finder installed here (by ``sim/model/__init__.py``) loads them in place of the sources only when
the hash of the sources now is the one they were built from. Otherwise the sources run:

- ``SIM_PURE=1`` in the environment (pure Python on purpose, e.g. to compare);
- no build (no C compiler, or never built): nothing said;
- a source edited since the build, a build for another Python or a build without all its files:
  one line on stderr, once (child processes inherit the flag that it was said), then the sources
  run. ``make install`` (or any ``make`` target) rebuilds.

Every model source is in the hash, not only the compiled ones: compiled code may have inlined
what it imported. The compiled modules are all or none, as they share one library: a compiled
module calls another's compiled code directly, whatever ``sys.modules`` holds.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

COMPILED = ("citizens", "clock", "engine", "metrics", "pathway", "streams")
"""The modules of ``sim.model`` that are compiled (the engine's hot path)."""

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "_compiled"
MANIFEST = "manifest.json"
PURE_ENV = "SIM_PURE"
_SAID_ENV = "SIM_NATIVE_STALE_SAID"

status = "pure Python (not initialised)"
"""What runs, in words: 'compiled (mypyc)' or 'pure Python (why)'."""
active = False
"""Whether the compiled modules are used in this process."""


def source_hashes(root: Path = HERE) -> dict[str, str]:
    """sha256 of every ``*.py`` in ``root`` (the model package), by file name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("*.py"))}


def library_path(build_dir: Path, module: str) -> Path:
    """Where a compiled module's extension file lives in the build directory."""
    return build_dir / f"{module}{importlib.machinery.EXTENSION_SUFFIXES[0]}"


class _CompiledFinder(importlib.abc.MetaPathFinder):
    """Finds ``sim.model.<name>`` for the compiled names in the build directory."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        lib = self.paths.get(fullname)
        if lib is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(lib))
        return importlib.util.spec_from_file_location(fullname, lib, loader=loader)


def check(build_dir: Path = BUILD_DIR, root: Path = HERE) -> tuple[bool, str]:
    """Whether the build in ``build_dir`` may be used for the sources in ``root``, and why not."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return False, f"{PURE_ENV}={os.environ[PURE_ENV]}"
    try:
        built = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, "not built"
    if built.get("suffix") != importlib.machinery.EXTENSION_SUFFIXES[0]:
        return False, "built for another Python"
    if not all(library_path(build_dir, m).is_file() for m in built.get("modules", ())):
        return False, "build incomplete"
    now = source_hashes(root)
    changed = sorted(n for n in now.keys() | built["sources"].keys()
                     if now.get(n) != built["sources"].get(n))  # fmt: skip
    if changed:
        return False, f"stale: {', '.join(changed)} changed since the build (make install)"
    return True, ""


def install(build_dir: Path = BUILD_DIR, root: Path = HERE, package: str = "sim.model") -> bool:
    """Use the compiled modules for ``package`` if ``check`` allows it; say once if stale."""
    global status, active
    ok, why = check(build_dir, root)
    if ok:
        built = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
        paths = {f"{package}.{m}": library_path(build_dir, m) for m in built["modules"]}
        sys.meta_path.insert(0, _CompiledFinder(paths))
        status, active = "compiled (mypyc)", True
        return True
    status, active = f"pure Python ({why})", False
    quiet = why == "not built" or why.startswith(PURE_ENV)  # nothing to build, or on purpose
    if not quiet and not os.environ.get(_SAID_ENV):
        os.environ[_SAID_ENV] = "1"  # child processes inherit it: said once per run
        print(f"sim: compiled engine not used, running pure Python: {why}", file=sys.stderr)
    return False
