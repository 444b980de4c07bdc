"""What a lint rule reports: :class:`Finding`, and the severities a rule can have."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]
#: Severities, most severe first. ``off`` (in settings) turns a rule off instead.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
#: What settings may give a rule: a severity, or ``off``.
LEVELS = (*SEVERITIES, "off")


@dataclass(frozen=True)
class Finding:
    """One finding of one rule in one bot file, at a 1-based line and column.

    Example: ``Finding("fixed-pause", "warning", "pause waits ...", "bots/x/bot.yaml", 12, 7)``
    renders as ``bots/x/bot.yaml:12:7: warning fixed-pause pause waits ...``.

    Attributes:
        rule: The rule's id, e.g. ``fixed-pause`` (see ``docs/lint.md``).
        severity: ``error`` (blocks promotion, exit code 1), ``warning`` or ``note``.
        message: What is wrong and what to do instead; never a secret value.
        path: The file, as the user named it (``bots/x/bot.yaml``, ``bots/x/flows/a.yaml``).
        line: 1-based line of the offending YAML node.
        column: 1-based column of the offending YAML node.
        end_line: Optional 1-based last line of the offending node.
        end_column: Optional 1-based column just after the offending node.
    """

    rule: str
    severity: Severity
    message: str
    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity} {self.rule} {self.message}"

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        """File, then position, then rule: the order findings are shown in."""
        return self.path, self.line, self.column, self.rule
