"""`bots lint`: rules that warn about fragile or unsafe bot files, with rule ids, positions and
SARIF output.

::

    from orchestrator.lint import lint_bot
    findings = lint_bot(Path("bots/gewerbe-uebertragung"), severities={"fixed-pause": "error"})
    if any(f.severity == "error" for f in findings): ...    # blocks promotion

Sits below the catalog and above the model: it reads bots with :mod:`orchestrator.model` and
never runs them. Rules and their ids: :mod:`orchestrator.lint.rules` and ``docs/lint.md``.
"""

from orchestrator.lint.findings import LEVELS, SEVERITIES, Finding, Severity
from orchestrator.lint.linter import bot_paths, effective_severities, lint_bot, lint_paths
from orchestrator.lint.rules import ALL_RULES, INVALID_BOT, RULES, Rule

__all__ = [
    "ALL_RULES",
    "INVALID_BOT",
    "LEVELS",
    "RULES",
    "SEVERITIES",
    "Finding",
    "Rule",
    "Severity",
    "bot_paths",
    "effective_severities",
    "lint_bot",
    "lint_paths",
]
