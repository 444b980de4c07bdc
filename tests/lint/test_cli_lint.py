"""`bots lint` on the command line: text, JSON and SARIF output, and its exit codes
(0 no error, 1 an error finding, 2 bad input), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from cli import app
from orchestrator.lint import lint_paths
from orchestrator.model import find_bots

from bot_files import WriteBot

ROOT = Path(__file__).resolve().parents[2]


def bots(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def test_the_example_bots_have_no_error_findings() -> None:
    findings = lint_paths([ROOT / "bots"])
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_without_paths_it_lints_the_configured_bot_directories() -> None:
    result = bots("lint")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith(f"in {len(find_bots([ROOT / 'bots']))} bot(s)")


def test_warnings_alone_exit_0_and_print_path_line_col_severity_rule(
    write_bot: WriteBot,
) -> None:
    write_bot("demo", "steps:\n  - pause: 2\n")
    result = bots("lint", "demo")
    assert result.exit_code == 0
    assert result.stdout.startswith("demo/bot.yaml:7:5: warning fixed-pause pause waits")
    assert result.stderr.strip() == "1 warning(s) in 1 bot(s)"


def test_an_error_finding_exits_1(write_bot: WriteBot) -> None:
    write_bot("demo", "steps:\n  - fill: {label: Passwort}\n    value: Sommer2026\n")
    result = bots("lint", "demo")
    assert result.exit_code == 1
    assert "demo/bot.yaml:8:12: error secret-in-file" in result.stdout
    assert "Sommer2026" not in result.output


def test_a_bot_that_does_not_load_exits_1_with_its_problems(write_bot: WriteBot) -> None:
    write_bot("demo", "steps:\n  - clik: {text: Weiter}\n")
    result = bots("lint", "demo")
    assert result.exit_code == 1
    assert result.stdout.startswith("demo/bot.yaml:7:5: error invalid-bot")


def test_a_path_without_a_bot_exits_2_with_a_message(workdir: Path) -> None:
    result = bots("lint", "nirgendwo")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "no bot at nirgendwo" in result.stderr


def test_an_unwritable_output_file_exits_2(write_bot: WriteBot) -> None:
    write_bot("demo", "steps:\n  - pause: 2\n")
    result = bots("lint", "demo", "-o", "fehlt/lint.txt")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "cannot write fehlt/lint.txt" in result.stderr


def test_a_bad_severity_option_exits_2(write_bot: WriteBot) -> None:
    write_bot("demo", "steps:\n  - pause: 2\n")
    result = bots("lint", "demo", "--severity", "fixed-pause")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "RULE=LEVEL" in result.stderr


def test_json_output_lists_the_findings(write_bot: WriteBot, workdir: Path) -> None:
    write_bot("demo", "steps:\n  - pause: 2\n  - click: {role: row, nth: 2}\n")
    result = bots("lint", "demo", "--format", "json", "-o", "lint.json")
    assert result.exit_code == 0, result.output
    data = json.loads((workdir / "lint.json").read_text(encoding="utf-8"))
    assert [(f["rule"], f["path"], f["line"], f["column"]) for f in data["findings"]] == [
        ("fixed-pause", "demo/bot.yaml", 7, 5),
        ("nth-locator", "demo/bot.yaml", 8, 24),
    ]
