"""Hostile input: every case exits 2 with one located message, no traceback, on one screen.

The corpus is ``tests/hostile/``: ``base.yaml`` is a small valid scenario and every other file is it
with one hostile change (its first line names the case). The table below holds the exact first
line each case must print; ``{dir}`` stands for the corpus folder. Cases that need a large or
generated file (50 MB, deep nesting, an alias bomb) build it in a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.model.scenario import read_referral_days

HOSTILE = Path(__file__).resolve().parent / "hostile"
BASE = HOSTILE / "base.yaml"
SCREEN = 40

runner = CliRunner()

TAGS = "write the plain value (a number, true/false, text, a list or a mapping) without a tag"
OUTSIDE = (
    "is outside the scenario's folder ({dir}); move it into that folder, or pass "
    "--allow-outside-paths"
)

# case file -> expected first line of `sim validate {dir}/<case>.yaml`
FILES = {
    # issue 10 item 5: a boolean, a text or a tag where a number belongs
    "bool_number": "{f}:14:18: arrivals.rate_per_week: expected a number, found the boolean true",
    "bool_count": "{f}:27:15: initial_caseload.in_support: expected a whole number, found the "
    "boolean true",
    "quoted_number": "{f}:14:18: arrivals.rate_per_week: expected a number, found the text '3.0'; "
    "remove the quotes: write 3.0",
    "bool_in_distribution": "{f}:21:41: segments.0.weeks_to_goal.value: expected a number, found "
    "the boolean true",
    "tag_local": f"{{f}}:3:9: YAML tags are not allowed, found '!budget'; {TAGS}",
    "tag_binary": f"{{f}}:14:18: YAML tags are not allowed, found '!!binary'; {TAGS}",
    "tag_core": f"{{f}}:4:15: YAML tags are not allowed, found '!!float'; {TAGS}",
    "tag_in_list": f"{{f}}:16:24: YAML tags are not allowed, found '!!int'; {TAGS}",
    # item 6: where the user typed it, and hints for realistic mistakes
    "empty_value": "{f}:4:3: budget.annual_dkk: expected a number, found nothing (the value is "
    "empty)",
    "decimal_comma": "{f}:14:18: arrivals.rate_per_week: expected a number, found the text '3,5'; "
    "use a point as decimal separator: write 3.5",
    "thousands_points": "{f}:4:15: budget.annual_dkk: expected a number, found the text "
    "'18.000.000'; use a point as decimal separator and no thousands separator: write 18000000",
    "share_whole_number": "{f}:19:12: segments.0.share: Input should be less than or equal to 1 "
    "(found 60); shares are 0-1: write 0.6 for 60 %",
    "share_percent": "{f}:23:12: segments.1.share: expected a number, found the text '40%'; "
    "shares are 0-1: write 0.4 for 40 %",
    "flag_danish": "{f}:31:28: models.hybrid.first_contact.joint: expected true or false, found "
    "the text 'nej'; write true or false",
    "eleven_factors": "{f}:16:20: arrivals.monthly_factors: expected 12 factors, one per month "
    "(January first), found 11",
    "factors_decimal_comma": "{f}:16:20: arrivals.monthly_factors: expected 12 factors, one per "
    "month (January first), found 21; a decimal comma splits a number in two: use a point "
    "(1.05, not 1,05)",
    "no_space_after_colon": "{f}:14:17: expected a space after 'rate_per_week:'; YAML reads "
    "'rate_per_week:3.5' as one piece of text",
    "unit_after_number": "{f}:25:20: segments.1.weeks_to_goal: expected a number or a mapping with "
    "a 'kind' key (fixed, exponential, lognormal, gamma, triangular, uniform, empirical), found "
    "the text '45 uger'; write the number alone (45); the unit is in the key's name",
    # item 9: names, paths and files
    "name_dots": "{f}:2:7: name: expected a name with a letter or digit, found '..' (a name made "
    "of dots would write results outside results/)",
    "name_dot": "{f}:2:7: name: expected a name with a letter or digit, found '.' (a name made of "
    "dots would write results outside results/)",
    "name_slash": "{f}:2:7: name: expected letters, digits, '_', '.' and '-' only (it names a "
    "folder), found '../results'",
    "csv_absolute": f"{{f}}:14:9: arrivals.path: referral file /etc/passwd {OUTSIDE}",
    "csv_parent": f"{{f}}:14:9: arrivals.path: referral file {{dir}}/../conftest.py {OUTSIDE}",
    "csv_folder": "{f}:14:9: arrivals.path: referral file {dir}/data is a folder, expected a CSV "
    "file",
    "csv_day_first": "{f}:14:9: arrivals.path: {dir}/data/excel_day_first.csv:2: expected a date "
    "YYYY-MM-DD, found '03-01-2024'; this looks like day-month-year: format the column as "
    "yyyy-mm-dd before saving (';'-separated)",
    "csv_binary": "{f}:14:9: arrivals.path: referral file {dir}/data/binary.csv is not a text "
    "file; expected a CSV file of dates",
}

# command-line options: arguments after `sim run {dir}/base.yaml` -> expected first line
OPTIONS = {
    "set_bool": (
        ["--set", "budget.annual_dkk=true"],
        "--set budget.annual_dkk=true: budget.annual_dkk: expected a number, found the boolean "
        "true",
    ),
    "set_tag": (
        ["--set", "budget.annual_dkk=!!float 3"],
        f"--set budget.annual_dkk=!!float 3: YAML tags are not allowed, found '!!float'; {TAGS} "
        "(at character 1)",
    ),
    "set_quoted": (
        ["--set", 'experiment.replications="5"'],
        '--set experiment.replications="5": experiment.replications: expected a whole number, '
        "found the text '5'; remove the quotes: write 5",
    ),
    "set_decimal_comma": (
        ["--set", "arrivals.rate_per_week=3,5"],
        "--set arrivals.rate_per_week=3,5: arrivals.rate_per_week: expected a number, found the "
        "text '3,5'; use a point as decimal separator: write 3.5",
    ),
    "set_unknown_key": (
        ["--set", "foo.bar=1"],
        "--set foo.bar=1: foo: unknown key 'foo'; expected one of: name, description, budget, "
        "staff, staffing, arrivals, segments, initial_caseload, exits, models, ...",
    ),
    "models_unknown": (
        ["--models", "classic,nosuch"],
        "--models classic,nosuch: unknown model 'nosuch'; expected one of: classic, hybrid, joint",
    ),
    "reps_zero": (
        ["--reps", "0"],
        "--reps 0: Input should be greater than or equal to 2 (found 0)",
    ),
    "seed_negative": (
        ["--seed", "-1"],
        "--seed -1: Input should be greater than or equal to 0 (found -1)",
    ),
}


def _check(result: object, expected: str) -> None:
    """Exit 2, the expected first line, no traceback, one screen."""
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, out  # type: ignore[attr-defined]
    assert out.splitlines()[0] == expected.format(dir=HOSTILE)
    assert "Traceback" not in out
    assert len(out.splitlines()) <= SCREEN


@pytest.mark.parametrize("case", sorted(FILES))
def test_hostile_file(case: str) -> None:
    path = HOSTILE / f"{case}.yaml"
    assert path.read_text(encoding="utf-8").startswith(f"# Hostile case '{case}'")
    result = runner.invoke(app, ["validate", str(path)])
    _check(result, FILES[case].replace("{f}", str(path)))


@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_hostile_option(case: str, tmp_path: Path) -> None:
    args, expected = OPTIONS[case]
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(BASE), "--no-report", "--out", str(out), *args])
    _check(result, expected)
    assert not out.exists()


def test_every_file_of_the_corpus_is_a_case() -> None:
    files = {p.stem for p in HOSTILE.glob("*.yaml")} - {"base"}
    excel = {"csv_excel_bom", "csv_excel_semicolon", "csv_excel_latin1"}
    assert files == set(FILES) | excel


def test_the_base_is_valid() -> None:
    result = runner.invoke(app, ["validate", str(BASE)])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- referral files


@pytest.mark.parametrize(
    ("case", "name", "column"),
    [
        ("csv_excel_bom", "excel_utf8_bom.csv", "date"),
        ("csv_excel_semicolon", "excel_semicolon.csv", "dato"),
        ("csv_excel_latin1", "excel_latin1.csv", "henvisningsdato"),
    ],
)
def test_csv_saved_by_excel_is_read(case: str, name: str, column: str) -> None:
    result = runner.invoke(app, ["validate", str(HOSTILE / f"{case}.yaml")])
    assert result.exit_code == 0, result.output
    # 2024-01-03, 2024-01-05, 2024-01-12: days 0, 2 and 9 (Excel's empty rows are skipped)
    assert read_referral_days(HOSTILE / "data" / name, column) == [0.0, 2.0, 9.0]


def _scenario_with_csv(folder: Path, csv_path: str) -> Path:
    text = BASE.read_text(encoding="utf-8")
    start = text.index("  kind: poisson")
    end = text.index("segments:")
    path = folder / "scenario.yaml"
    path.write_text(text[:start] + f"  kind: csv\n  path: {csv_path}\n" + text[end:], "utf-8")
    return path


def test_csv_outside_is_read_only_when_allowed_and_never_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("SECRET-HEADER,x\nSECRET-VALUE,1\n", encoding="utf-8")
    (tmp_path / "town").mkdir()
    scenario = _scenario_with_csv(tmp_path / "town", str(secret))
    refused = runner.invoke(app, ["validate", str(scenario)])
    assert refused.exit_code == 2
    assert "is outside the scenario's folder" in refused.output
    allowed = runner.invoke(app, ["validate", "--allow-outside-paths", str(scenario)])
    assert allowed.exit_code == 2
    assert "expected a header with a column 'date' (the header is not shown" in allowed.output
    for result in (refused, allowed):
        assert "SECRET" not in result.output
    secret.write_text("date\n2024-01-01\n2024-02-01\n", encoding="utf-8")
    ok = runner.invoke(app, ["validate", "--allow-outside-paths", str(scenario)])
    assert ok.exit_code == 0, ok.output


def test_symlink_out_of_the_folder_is_outside(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.csv").write_text("date\n2024-01-01\n", encoding="utf-8")
    (tmp_path / "town").mkdir()
    (tmp_path / "town" / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    result = runner.invoke(
        app, ["validate", str(_scenario_with_csv(tmp_path / "town", "link.csv"))]
    )
    assert result.exit_code == 2
    assert "is outside the scenario's folder" in result.output


# --------------------------------------------------------------------------- generated files


def _run_entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_50_mb_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    block = BASE.read_text(encoding="utf-8").replace("name: hostile", "name: huge")
    with path.open("w", encoding="utf-8") as fh:
        fh.write(block)
        line = "# " + "x" * 1021 + "\n"
        fh.write(line * (50 * 1024))
    assert path.stat().st_size > 50 * 2**20
    proc = _run_entry_point("validate", str(path))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"{path}: file is larger than 1 MB, the limit for scenario files"
    ]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_deep_nesting_is_located(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\nbudget: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    # level 1 is the top mapping; the 50th '[' of line 2, after "budget: ", opens level 51
    _check(result, f"{path}:2:58: nested deeper than 50 levels")


def test_deep_block_nesting_is_located(tmp_path: Path) -> None:
    path = tmp_path / "deep_block.yaml"
    lines = ["name: deep"] + [" " * i + f"k{i}:" for i in range(200)] + [" " * 200 + "v: 1"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    # the mapping that opens the 51st level starts at key k50, on line 52 (name is line 1)
    _check(result, f"{path}:52:51: nested deeper than 50 levels")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["name: bomb", "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    out = result.output
    assert result.exit_code == 2
    assert "aliases expand to more than 200,000 values" in out.splitlines()[0]
    assert out.startswith(f"{path}:7:")  # a5 holds 10^5 values; a6 passes the limit
    assert "Traceback" not in out


def test_a_folder_given_as_scenario(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(HOSTILE / "data")])
    _check(result, f"{HOSTILE / 'data'}: is a folder, expected a YAML scenario file")


def test_scenario_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.read_bytes())
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
