"""Compile the engine's hot modules with mypyc (`make install` runs this; see sim/model/native.py).

Builds in ``build/mypyc`` and copies the extension files to ``sim/model/_compiled`` with a
manifest of the sources' hashes, written last: a build that fails half-way leaves no manifest, and
the sources run. The extension modules are built by setuptools' ``build_ext`` command on a
``Distribution`` made here, not by ``setup()``: ``setup()`` would read pyproject.toml, which the
venv's setuptools (65, what ``python -m venv`` ships) rejects for its SPDX ``license = "MIT"``;
upgrading setuptools in every venv just to build four modules is a download for nothing.

When anything is missing (mypyc, a C compiler, Python's headers) or the build fails, it says so in
one line and exits 0: the engine runs as pure Python, only slower. ``--strict`` exits 1 instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path

os.environ["SIM_PURE"] = "1"  # this process must not load (or warn about) an old build
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model import native  # noqa: E402

WORK = ROOT / "build" / "mypyc"
GROUP = "sim.model._compiled.core"
"""The shared library's module name: inside the build directory, loaded by the module shims."""


def missing() -> str | None:
    """What the build needs and this machine lacks (None when nothing): checked before mypyc's
    minute of type analysis, so a machine without a compiler says so at once."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed (it comes with mypy, in the test extra)"
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc})"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return "no Python headers (Python.h; e.g. the python3-dev package)"
    return None


def compile_modules(opt_level: str) -> Path:
    """Run mypyc and the C compiler; the directory holding the built ``sim`` tree."""
    start = time.perf_counter()
    from mypyc.build import mypycify
    from setuptools import Distribution

    paths = [f"sim/model/{m}.py" for m in native.COMPILED]
    os.chdir(ROOT)  # mypyc names modules by their path and reads [tool.mypy] from here
    extensions = mypycify(
        paths, opt_level=opt_level, target_dir=str(WORK / "c"), group_name=GROUP, multi_file=True
    )
    for ext in extensions:  # multi_file puts the modules' C files outside the group's folder
        ext.include_dirs.append(str(WORK / "c" / Path(*GROUP.split(".")[:-1])))
    print(f"mypyc: {time.perf_counter() - start:.0f} s", flush=True)
    lib = WORK / "lib"
    dist = Distribution({"name": "sim-native", "ext_modules": extensions})
    cmd = dist.get_command_obj("build_ext")
    cmd.build_lib = str(lib)  # type: ignore[attr-defined]
    cmd.build_temp = str(WORK / "temp")  # type: ignore[attr-defined]
    cmd.parallel = os.cpu_count() or 1  # type: ignore[attr-defined]
    dist.run_command("build_ext")
    return lib


def install(lib: Path, sources: dict[str, str]) -> None:
    """Copy the built extension files into the package's build directory, then the manifest.

    Each file is copied under a temporary name and renamed into place, so a process that has the
    old one loaded keeps its copy intact."""
    out = native.BUILD_DIR
    (out / native.MANIFEST).unlink(missing_ok=True)
    out.mkdir(exist_ok=True)
    (out / "__init__.py").write_text('"""Compiled engine modules (built, git-ignored)."""\n')
    suffix = native.library_path(out, "x").name[1:]
    built = [lib / "sim" / "model" / f"{m}{suffix}" for m in native.COMPILED]
    shared = lib / Path(*GROUP.split(".")[:-1]) / f"{GROUP.split('.')[-1]}__mypyc{suffix}"
    for src in (*built, shared):
        dst = out / src.name
        tmp = dst.with_name(dst.name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    manifest = {"modules": list(native.COMPILED), "suffix": suffix, "sources": sources}
    tmp = out / (native.MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, out / native.MANIFEST)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when the build fails")
    parser.add_argument("--opt", default="3", help="C optimisation level (default 3)")
    args = parser.parse_args()
    start = time.perf_counter()
    sources = native.source_hashes()
    lacking = missing()
    if lacking:
        (native.BUILD_DIR / native.MANIFEST).unlink(missing_ok=True)
        print(f"sim: engine not compiled ({lacking}); it runs as pure Python, only slower",
              file=sys.stderr)  # fmt: skip
        return 1 if args.strict else 0
    try:
        lib = compile_modules(args.opt)
        if native.source_hashes() != sources:
            raise RuntimeError("sources changed during the build; run it again")
        install(lib, sources)
    except (Exception, SystemExit) as exc:  # distutils reports a compiler failure as SystemExit
        (native.BUILD_DIR / native.MANIFEST).unlink(missing_ok=True)
        print(f"sim: engine not compiled ({type(exc).__name__}: {str(exc).strip()[:200]}); "
              "it runs as pure Python, only slower", file=sys.stderr)  # fmt: skip
        return 1 if args.strict else 0
    print(f"sim: engine compiled with mypyc in {time.perf_counter() - start:.0f} s "
          f"({', '.join(native.COMPILED)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # everything is written; skips freeing mypy's analysis object by object
