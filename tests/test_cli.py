"""The `bots` command's contract: exit codes, and no traceback for anything a user can cause."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import app

ROOT = Path(__file__).resolve().parent.parent


def bots(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``bots ARGS`` in this process, with ``env`` on top of the environment."""
    return CliRunner().invoke(app, list(args), env=env)


def assert_no_traceback(result: Result) -> None:
    """No exception escaped the command: the user sees a message and an exit code."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["run"], {}, "Missing argument"),
        (["show", "abc"], {}, "Invalid value"),
        (["show", "4711"], {}, "4711"),
        (["history"], {"BOTS_TRACE": "sometimes"}, "trace"),
        (["history"], {"BOTS_CONFIG": "/nonexistent/bots.yaml"}, "/nonexistent/bots.yaml"),
        (["run", "no-such-bot"], {}, "no-such-bot"),
        (["run", "posteingang-export", "-p", "nokeyvalue"], {}, "key=value"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    args: list[str], env: dict[str, str], needle: str
) -> None:
    result = bots(*args, env=env)
    assert result.exit_code == 2, result.stderr
    assert needle in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["show", "abc"], "Invalid value"), (["run", "no-such-bot"], "no-such-bot")],
)
def test_the_installed_command_exits_2_without_a_traceback(args: list[str], needle: str) -> None:
    # The console script as cron runs it: a process of its own, no TTY, a foreign directory.
    result = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_config_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bots.yaml"
    config.write_text("data_dir: [unclosed\n", encoding="utf-8")
    result = bots("history", env={"BOTS_CONFIG": str(config)})
    assert result.exit_code == 2
    assert str(config) in result.stderr
    assert_no_traceback(result)


def test_unknown_setting_in_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bots.yaml"
    config.write_text("tennant: giessen\n", encoding="utf-8")
    result = bots("history", env={"BOTS_CONFIG": str(config)})
    assert result.exit_code == 2
    assert "tennant" in result.stderr
    assert_no_traceback(result)


def test_history_is_empty_on_a_fresh_data_dir() -> None:
    result = bots("history", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_schema_is_json_schema_of_bot_files() -> None:
    result = bots("schema")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "steps" in schema["properties"]
    assert "id" in schema["required"]


BROKEN_BOT = """\
id: kaputt
name: Kaputter Bot
version: 1.0.0
owner: {city: Marburg, fachamt: Bürgeramt}
secrets:
  portal_password: Passwort
parameters:
  limit: {type: integer, default: 3}
steps:
  - goto: "{{ targets.civento }}/login"
    timeout: soon
  - fill: {label: Kennwort}
    value: "{{ secrets.fachverfahren_password }}"
  - klick: {role: button, name: Anmelden}
  - set:
      anzahl: "{{ limit_typo + 1 }}"
  - call: hooks:does_not_exist
  - extract: {test_id: treffer}
    into: treffer
    colour: blue
"""


def test_validate_lists_every_problem_of_broken_bots_with_positions(tmp_path: Path) -> None:
    broken = tmp_path / "kaputt"
    broken.mkdir()
    (broken / "bot.yaml").write_text(BROKEN_BOT, encoding="utf-8")
    (broken / "hooks.py").write_text("def other(ctx):\n    return None\n", encoding="utf-8")
    syntax = tmp_path / "syntax"
    syntax.mkdir()
    (syntax / "bot.yaml").write_text("id: syntax\nsteps: [\n  - goto: x\n", encoding="utf-8")

    result = bots("validate", str(broken), str(syntax))

    assert result.exit_code == 2, result.stdout + result.stderr
    assert_no_traceback(result)
    lines = result.stderr.splitlines()

    def line_for(fragment: str, line: int) -> str:
        prefix = f"{broken / 'bot.yaml'}:{line}:"
        found = [x for x in lines if x.startswith(prefix) and fragment in x]
        assert found, f"no {fragment!r} problem at line {line} in:\n{result.stderr}"
        return found[0]

    line_for("steps[0].timeout: expected a number, got the string 'soon'", 11)  # wrong type
    line_for("fachverfahren_password", 13)  # undeclared secret
    line_for("klick", 14)  # unknown step kind
    line_for("limit_typo", 16)  # undeclared variable
    line_for("does_not_exist", 17)  # missing hook
    line_for("colour", 20)  # unknown key
    assert any(x.startswith(f"{syntax / 'bot.yaml'}:") for x in lines), result.stderr
