"""`bots lint`: warn about fragile or unsafe bot files, as text, JSON or SARIF.

Exit codes: 0 no finding of severity error, 1 at least one error (also a bot that does not
load), 2 bad input (a path with no bot, an unknown rule in settings, an unwritable -o file).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator import errors
from orchestrator.commands.shared import EXIT_FAILED, echo, settings

app = typer.Typer()


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Bot directories, bot.yaml files or directories of bots; default: the "
            "setting bot_dirs."
        ),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="text, json, or sarif (for code hosts).")
    ] = Format.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    severity: Annotated[
        list[str] | None,
        typer.Option(
            "--severity",
            help="RULE=LEVEL (off, note, warning, error), over the setting lint.rules; repeatable.",
        ),
    ] = None,
) -> None:
    """Warn about fixed pauses, fragile locators, secrets in files and more (docs/lint.md).

    Prints path:line:col: SEVERITY RULE message. Exit code 1 when a finding is an error.
    """
    from orchestrator.lint import bot_paths, lint_paths
    from orchestrator.model import find_bots

    effective = settings()
    targets = list(paths) if paths else find_bots(effective.bot_dirs)
    if not targets:
        raise errors.InputError(
            "no bots found (looked in: " + ", ".join(str(d) for d in effective.bot_dirs) + ")"
        )
    levels = {**effective.lint.rules, **_severity_options(severity or [])}
    findings = lint_paths(targets, severities=levels)
    _write(_render(findings, output_format), output)
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s}(s)" for s in ("error", "warning", "note") if counts[s])
    echo(f"{summary or 'no findings'} in {len(bot_paths(targets))} bot(s)", err=True)
    if counts["error"]:
        raise typer.Exit(EXIT_FAILED)


def _severity_options(pairs: list[str]) -> dict[str, str]:
    levels: dict[str, str] = {}
    for pair in pairs:
        rule, sep, level = pair.partition("=")
        if not sep or not rule.strip():
            raise errors.InputError(f"--severity {pair!r} is not of the form RULE=LEVEL")
        levels[rule.strip()] = level.strip()
    return levels


def _render(findings: list[Any], output_format: Format) -> str:
    if output_format is Format.SARIF:
        from orchestrator.lint.sarif import repository_root, to_sarif

        log = to_sarif(findings, root=repository_root(Path.cwd()))
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    if output_format is Format.JSON:
        data = {"findings": [asdict(f) for f in findings]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return "".join(f"{finding}\n" for finding in findings)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise errors.InputError(f"cannot write {output}: {exc.strerror}") from None
