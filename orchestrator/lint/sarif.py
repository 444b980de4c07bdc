"""Findings as SARIF 2.1.0, the format code hosting platforms show inline in a review.

::

    log = to_sarif(findings, root=Path.cwd())
    Path("lint.sarif").write_text(json.dumps(log, indent=2, ensure_ascii=False))

One run; ``tool.driver`` lists every rule with its descriptions, default level and a link to
its section of ``docs/lint.md``; each result names its file relative to ``root`` (the
repository, ``uriBaseId`` ``SRCROOT``) and the line and column of the offending YAML node.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from orchestrator.lint.findings import Finding
from orchestrator.lint.rules import ALL_RULES
from orchestrator.settings import PROJECT_ROOT

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: The tool's name in SARIF.
TOOL_NAME = "bots lint"
#: The page explaining every rule; each rule's section has the rule id as anchor.
DOCS_PAGE = PROJECT_ROOT / "docs" / "lint.md"
BASE_ID = "SRCROOT"


def to_sarif(
    findings: Iterable[Finding], *, root: Path, docs_uri: str | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of ``findings`` (plain data for ``json.dumps``).

    Args:
        findings: What lint found.
        root: The directory file URIs are relative to (the repository's root).
        docs_uri: Where ``docs/lint.md`` is read (default: the installed copy, as a file
            URI); each rule's ``helpUri`` is it plus ``#<rule id>``.
    """
    docs = docs_uri or DOCS_PAGE.resolve().as_uri()
    rule_ids = list(ALL_RULES)
    driver = {
        "name": TOOL_NAME,
        "version": _version(),
        "informationUri": docs,
        "rules": [_rule(rule_id, docs) for rule_id in rule_ids],
    }
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {BASE_ID: {"uri": _dir_uri(root)}},
                "results": [_result(f, rule_ids.index(f.rule), root) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def _rule(rule_id: str, docs: str) -> dict[str, Any]:
    rule = ALL_RULES[rule_id]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "defaultConfiguration": {"level": rule.default_severity},
        "helpUri": f"{docs}#{rule.id}",
        "help": {"text": f"{rule.full} See docs/lint.md#{rule.id}."},
    }


def _result(finding: Finding, rule_index: int, root: Path) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line is not None:
        region["endLine"] = finding.end_line
    if finding.end_column is not None:
        region["endColumn"] = finding.end_column
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding.severity,
        "message": {"text": finding.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": _artifact(finding.path, root),
                                  "region": region}}
        ],
    }  # fmt: skip


def _artifact(path: str, root: Path) -> dict[str, str]:
    """The file relative to ``root`` with the base id, or its absolute URI when outside."""
    file = Path(path).resolve()
    base = root.resolve()
    if file.is_relative_to(base):
        return {"uri": quote(file.relative_to(base).as_posix()), "uriBaseId": BASE_ID}
    return {"uri": file.as_uri()}


def _dir_uri(root: Path) -> str:
    uri = root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def repository_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``.git``, else ``start``: what
    code hosting platforms take file paths relative to."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def _version() -> str:
    """The installed project's version (``pyproject.toml``)."""
    try:
        return metadata.version("kommune-bots")
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        return "0.0.0"
