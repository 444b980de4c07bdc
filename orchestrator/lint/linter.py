"""Run the lint rules over bots: the library side of ``bots lint``.

::

    findings = lint_bot(Path("bots/gewerbe-uebertragung"))
    [str(f) for f in findings]
    # ['bots/gewerbe-uebertragung/bot.yaml:40:7: warning fixed-pause pause waits 5 s ...']
    blocking = [f for f in findings if f.severity == "error"]   # what blocks promotion

    lint_paths([Path("bots")], severities={"fixed-pause": "error", "missing-manual-minutes": "off"})

A bot that does not load (``bots validate`` fails) gives one ``invalid-bot`` finding (an
error) per problem instead: lint never raises for a broken bot, so a catalog refuses it like
any other bot with errors. A finding can be silenced at its line with a comment on that
line, or on a comment line of its own right above: ``# bots-lint: disable=fixed-pause``
(several ids separated by commas).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestrator.errors import BotNotFound, ConfigError, DefinitionError
from orchestrator.lint.context import BotFiles, read_bot_files
from orchestrator.lint.findings import LEVELS, SEVERITIES, Finding, Severity
from orchestrator.lint.rules import INVALID_BOT, RULES, Hit, Rule
from orchestrator.model import find_bots
from orchestrator.model.loader import BOT_FILE
from orchestrator.model.schema_errors import did_you_mean

_DISABLE = re.compile(r"#.*\bbots-lint:\s*disable=([\w\-, ]+)")


def lint_bot(directory: Path, *, severities: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding of every rule for the bot at ``directory`` (or its ``bot.yaml``).

    Args:
        directory: A bot directory or its ``bot.yaml``; findings name files under it as
            given (``bots/x/bot.yaml``), sub-flows the bot includes too.
        severities: Rule id -> ``off``, ``note``, ``warning`` or ``error``, overriding the
            rules' defaults (settings ``lint.rules``); rules not named keep their default.

    Returns:
        Findings sorted by file and position. ``severity == "error"`` ones block promotion;
        a bot that does not load gives ``invalid-bot`` errors.

    Raises:
        BotNotFound: There is no bot at ``directory``.
        ConfigError: ``severities`` names an unknown rule or level.
    """
    levels = effective_severities(severities)
    try:
        bot = read_bot_files(Path(directory))
    except DefinitionError as exc:
        return sorted(_invalid(exc), key=lambda f: f.sort_key)
    findings = [
        finding
        for rule in RULES.values()
        if levels[rule.id] != "off"
        for hit in rule.check(bot)
        if not _silenced(bot, finding := _finding(rule, levels[rule.id], hit))
    ]
    return sorted(dict.fromkeys(findings), key=lambda f: f.sort_key)


def lint_paths(
    paths: Iterable[Path], *, severities: Mapping[str, str] | None = None
) -> list[Finding]:
    """Findings for every bot named by ``paths``: bot directories, ``bot.yaml`` files or
    directories of bots (as ``bots validate`` takes them).

    Raises:
        BotNotFound: A path does not exist or holds no bot.
        ConfigError: ``severities`` names an unknown rule or level.
    """
    effective_severities(severities)  # refuse bad settings before any work
    findings: list[Finding] = []
    for bot in bot_paths(paths):
        findings.extend(lint_bot(bot, severities=severities))
    return list(dict.fromkeys(findings))  # a shared flow included by two bots: once


def bot_paths(paths: Iterable[Path]) -> list[Path]:
    """The bot directories ``paths`` name, in order, each once.

    Raises:
        BotNotFound: A path does not exist or holds no bot.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            found.append(path.parent if path.name == BOT_FILE else path)
        elif (path / BOT_FILE).is_file():
            found.append(path)
        elif path.is_dir() and (bots := find_bots([path])):
            found.extend(bots)
        else:
            raise BotNotFound(f"no bot at {path}: expected a {BOT_FILE} or a directory of bots")
    return list({bot.resolve(): bot for bot in found}.values())


def effective_severities(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Rule id -> level (``off`` or a severity): the defaults with ``overrides`` applied.

    Raises:
        ConfigError: An override names an unknown rule or level, or tries to change
            ``invalid-bot`` (a bot that does not load always blocks).
    """
    levels = {rule.id: str(rule.default_severity) for rule in (*RULES.values(), INVALID_BOT)}
    for rule_id, level in (overrides or {}).items():
        if rule_id not in levels:
            raise ConfigError(
                f"lint: unknown rule {rule_id!r} (rules: {', '.join(sorted(RULES))})"
                f"{did_you_mean(rule_id, RULES)}"
            )
        if level not in LEVELS:
            raise ConfigError(
                f"lint: rule {rule_id!r} cannot be {level!r} (one of: {', '.join(LEVELS)})"
            )
        if rule_id == INVALID_BOT.id and level != "error":
            raise ConfigError("lint: invalid-bot is always an error (a broken bot cannot run)")
        levels[rule_id] = level
    return levels


def _finding(rule: Rule, level: str, hit: Hit) -> Finding:
    severity: Severity = next(s for s in SEVERITIES if s == level)
    doc = hit.doc
    line, column = doc.key_position(hit.loc) if hit.at_key else doc.value_position(hit.loc)
    return Finding(rule.id, severity, hit.message, doc.path, line, column)


def _silenced(bot: BotFiles, finding: Finding) -> bool:
    lines = bot.lines(finding.path)
    candidates = [finding.line]
    above = finding.line - 1
    if 1 <= above <= len(lines) and lines[above - 1].lstrip().startswith("#"):
        candidates.append(above)
    for number in candidates:
        if 1 <= number <= len(lines) and (match := _DISABLE.search(lines[number - 1])):
            if finding.rule in {part.strip() for part in match.group(1).split(",")}:
                return True
    return False


def _invalid(exc: DefinitionError) -> list[Finding]:
    return [
        Finding(INVALID_BOT.id, "error", problem.message, problem.path, problem.line,
                problem.column)
        for problem in exc.problems
        if problem.severity == "error"
    ]  # fmt: skip
