"""What `bots lint` must show: a fixed pause and an nth locator in a test bot are found with
their rule ids and positions, and the SARIF written for them is valid SARIF 2.1.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from typer.testing import CliRunner

from cli import app
from orchestrator.lint import RULES, lint_bot
from orchestrator.lint.sarif import to_sarif

from bot_files import WriteBot

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ROOT = Path(__file__).resolve().parents[2]

PAUSE_AND_NTH = """\
steps:
  - goto: https://gewerbe.example.invalid/liste
  - pause: 2
  - click: {role: row, nth: 2}
"""


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """``log`` validates against the official SARIF 2.1.0 schema (draft-04)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_a_fixed_pause_and_an_nth_locator_are_found_at_their_positions(
    write_bot: WriteBot,
) -> None:
    bot = write_bot("demo", PAUSE_AND_NTH)

    findings = lint_bot(bot)

    assert [str(f) for f in findings] == [
        "demo/bot.yaml:8:5: warning fixed-pause pause waits a fixed 2 s, too short on a slow "
        "day and too long on a fast one; wait_for an element, a URL or a text instead",
        "demo/bot.yaml:9:24: warning nth-locator nth: 2 takes a match by its position, which "
        "changes when the page changes; name the element (role and name, label, test_id) or "
        "narrow the matches with has_text or within",
    ]


def test_the_sarif_of_those_findings_is_valid_and_points_at_them(
    write_bot: WriteBot, workdir: Path
) -> None:
    findings = lint_bot(write_bot("demo", PAUSE_AND_NTH))

    log = to_sarif(findings, root=workdir)

    assert_valid_sarif(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == workdir.resolve().as_uri() + "/"
    located = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"],
            r["locations"][0]["physicalLocation"]["region"],
        )
        for r in run["results"]
    ]
    where = {"uri": "demo/bot.yaml", "uriBaseId": "SRCROOT"}
    assert located == [
        ("fixed-pause", "warning", where, {"startLine": 8, "startColumn": 5}),
        ("nth-locator", "warning", where, {"startLine": 9, "startColumn": 24}),
    ]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_describes_every_rule_with_a_link_to_its_section_in_the_docs() -> None:
    log = to_sarif([], root=ROOT)

    assert_valid_sarif(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert {rule["id"] for rule in rules} >= set(RULES)
    docs = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    for rule in rules:
        anchor = rule["helpUri"].partition("#")[2]
        assert anchor == rule["id"]
        assert f'<a id="{anchor}"></a>' in docs, f"docs/lint.md has no anchor for {anchor}"
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]


def test_bots_lint_writes_the_sarif_file(write_bot: WriteBot, workdir: Path) -> None:
    write_bot("bots/demo", PAUSE_AND_NTH)
    (workdir / ".git").mkdir()  # the repository root SARIF paths are relative to

    result = CliRunner().invoke(app, ["lint", "bots", "--format", "sarif", "-o", "lint.sarif"])

    assert result.exit_code == 0, result.output
    log = json.loads((workdir / "lint.sarif").read_text(encoding="utf-8"))
    assert_valid_sarif(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"bots/demo/bot.yaml"}
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["fixed-pause", "nth-locator"]
