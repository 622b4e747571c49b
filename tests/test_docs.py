"""The README's figures and console excerpts are never older than the code that makes them.

Cheap: nothing is simulated. `docs/stamp.json` (written by `make docs`) holds, per README block,
a hash of its inputs (the `sim/` sources, locales, `pyproject.toml`, the generator, the scenario)
and of its outputs; these tests recompute them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_build", ROOT / "docs" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _images(text: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\((docs/[^)\s]+)\)", text)


def test_every_image_the_readme_shows_exists() -> None:
    images = _images(README.read_text(encoding="utf-8"))
    assert images
    assert [i for i in images if not (ROOT / i).is_file()] == []


def test_every_image_under_docs_is_shown_in_the_readme() -> None:
    shown = set(_images(README.read_text(encoding="utf-8")))
    unused = [p.name for p in (ROOT / "docs").glob("*.png") if f"docs/{p.name}" not in shown]
    assert unused == []


def test_readme_shows_the_printed_summary_and_says_how_to_get_pdf_and_excel() -> None:
    text = README.read_text(encoding="utf-8")
    assert "docs/summary.png" in _images(text)
    assert "--pdf" in text and "tables.xlsx" in text


def test_every_generated_image_is_shown_and_every_block_is_marked() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = build.readme_blocks(text)
    assert sorted(blocks) == sorted(j.name for j in build.JOBS)
    made = {out for j in build.JOBS for out in j.outputs()}
    assert made <= set(_images(text))


def test_readme_figures_and_excerpts_are_not_older_than_the_code() -> None:
    problems = build.check()
    assert problems == [], "\n".join(problems) + "\nRun `make docs` to make them again."


# --------------------------------------------------------------------------- the check itself


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small project: code, a scenario, a README with one block and one image, and the stamp
    `make docs` would write for it."""
    (tmp_path / "sim" / "present" / "locales").mkdir(parents=True)
    (tmp_path / "sim" / "engine.py").write_text("RATE = 1\n")
    (tmp_path / "sim" / "present" / "locales" / "da.toml").write_text('a = "b"\n')
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "odder.yaml").write_text("name: odder\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "build.py").write_text("# generator\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "docs" / "fig.png").write_bytes(b"\x89PNG one")
    body = "```console\n$ sim run x\n1 2 3\n```\n"
    readme = f"# x\n\n<!-- docs:job -->\n{body}<!-- /docs -->\n\n![f](docs/fig.png)\n"
    (tmp_path / "README.md").write_text(readme)
    job = build.Job("job", "sim run x", ("run",), ("scenarios/odder.yaml",), {"f": "docs/fig.png"})
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "README", tmp_path / "README.md")
    monkeypatch.setattr(build, "STAMP", tmp_path / "docs" / "stamp.json")
    monkeypatch.setattr(build, "JOBS", (job,))
    import hashlib

    stamp = {
        "jobs": {
            "job": {
                "inputs": build.inputs_hash(job),
                "excerpt": hashlib.sha256(body.encode()).hexdigest(),
                "files": {"docs/fig.png": hashlib.sha256(b"\x89PNG one").hexdigest()},
            }
        }
    }
    (tmp_path / "docs" / "stamp.json").write_text(json.dumps(stamp))
    return tmp_path


def test_check_passes_a_fresh_tree(tree: Path) -> None:
    assert build.check() == []


@pytest.mark.parametrize(
    "changed", ["sim/engine.py", "sim/present/locales/da.toml", "scenarios/odder.yaml"]
)
def test_check_finds_artefacts_older_than_code_locales_or_scenario(
    tree: Path, changed: str
) -> None:
    path = tree / changed
    path.write_text(path.read_text() + "# changed\n")
    assert [p for p in build.check() if "older code or scenario" in p] != []


def test_check_finds_a_new_source_file(tree: Path) -> None:
    (tree / "sim" / "new.py").write_text("X = 2\n")
    assert build.check() != []


def test_check_ignores_bytecode(tree: Path) -> None:
    (tree / "sim" / "__pycache__").mkdir()
    (tree / "sim" / "__pycache__" / "engine.cpython-311.pyc").write_bytes(b"\0")
    assert build.check() == []


def test_check_finds_hand_edits_missing_blocks_and_images(tree: Path) -> None:
    readme = tree / "README.md"
    readme.write_text(readme.read_text().replace("1 2 3", "1 2 4"))
    assert any("edited by hand" in p for p in build.check())
    readme.write_text(
        re.sub(r"<!-- docs:job -->.*?<!-- /docs -->\n", "", readme.read_text(), flags=re.S)
    )
    assert any("has no block" in p for p in build.check())
    (tree / "docs" / "fig.png").write_bytes(b"\x89PNG two")
    assert any("not the one" in p for p in build.check())
    (tree / "docs" / "fig.png").unlink()
    assert any("missing" in p for p in build.check())


def test_abridge_drops_progress_and_cuts_long_tables_in_the_middle() -> None:
    lines = ["[odder: points] 1/40 done, 1 s elapsed", "title", "┏━┓", "┃h┃", "┡━┩"]
    lines += [f"│{i}│" for i in range(10)] + ["└─┘", "Results: x"]
    out = build.abridge(lines, max_rows=4)
    assert out == [
        "title",
        "┏━┓",
        "┃h┃",
        "┡━┩",
        "│0│",
        "│1│",
        " ...",
        "│8│",
        "│9│",
        "└─┘",
        "Results: x",
    ]
    assert build.abridge(lines, None) == lines[1:]
