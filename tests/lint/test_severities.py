"""Severities are configurable per rule (settings, --severity), a line can silence a rule,
and a bot that does not load is an error that no setting turns off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from orchestrator.errors import ConfigError
from orchestrator.lint import lint_bot, lint_paths

WriteBot = Callable[..., Path]
PAUSE_AND_NTH = "steps:\n  - pause: 2\n  - click: {role: row, nth: 2}\n"


def rules_and_levels(findings: list) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in findings]


def test_a_rule_can_be_made_an_error_a_note_or_turned_off(write_bot: WriteBot) -> None:
    bot = write_bot("demo", PAUSE_AND_NTH)

    findings = lint_bot(bot, severities={"fixed-pause": "error", "nth-locator": "off"})
    assert rules_and_levels(findings) == [("fixed-pause", "error")]
    findings = lint_bot(bot, severities={"fixed-pause": "note"})
    assert rules_and_levels(findings) == [("fixed-pause", "note"), ("nth-locator", "warning")]


@pytest.mark.parametrize(
    ("severities", "needle"),
    [
        ({"fixd-pause": "error"}, "did you mean 'fixed-pause'"),
        ({"fixed-pause": "fatal"}, "one of: error, warning, note, off"),
        ({"invalid-bot": "off"}, "always an error"),
    ],
)
def test_unknown_rules_and_levels_are_refused(
    write_bot: WriteBot, severities: dict[str, str], needle: str
) -> None:
    bot = write_bot("demo", PAUSE_AND_NTH)
    with pytest.raises(ConfigError, match=needle):
        lint_paths([bot], severities=severities)


def test_a_comment_on_the_line_or_right_above_silences_the_rule_there(
    write_bot: WriteBot,
) -> None:
    bot = write_bot(
        "demo",
        "steps:\n"
        "  - pause: 2  # bots-lint: disable=fixed-pause\n"
        "  # Civento's list has no names; the second row is the newest. "
        "bots-lint: disable=nth-locator\n"
        "  - click: {role: row, nth: 2}\n"
        "  - pause: 3  # bots-lint: disable=nth-locator, unreachable-step\n",
    )
    findings = lint_bot(bot)
    assert [(f.rule, f.line) for f in findings] == [("fixed-pause", 10)]


def test_a_bot_that_does_not_load_gives_invalid_bot_errors(write_bot: WriteBot) -> None:
    bot = write_bot("demo", "steps:\n  - clik: {text: Weiter}\n")
    findings = lint_bot(bot)
    assert [(f.rule, f.severity, f.line) for f in findings] == [("invalid-bot", "error", 7)]


def test_the_settings_file_sets_the_severities(
    write_bot: WriteBot, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bot("demo", PAUSE_AND_NTH)
    config = workdir / "bots-settings.yaml"
    config.write_text("lint:\n  rules: {fixed-pause: error, nth-locator: 'off'}\n")
    monkeypatch.setenv("BOTS_CONFIG", str(config))

    result = CliRunner().invoke(app, ["lint", "demo"])

    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        "demo/bot.yaml:7:5: error fixed-pause pause waits a fixed 2 s, too short on a slow "
        "day and too long on a fast one; wait_for an element, a URL or a text instead"
    ]
    # --severity wins over the settings file
    result = CliRunner().invoke(app, ["lint", "demo", "--severity", "fixed-pause=warning"])
    assert result.exit_code == 0, result.output
