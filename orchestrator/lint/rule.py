"""What a lint rule is: an id, descriptions, a default severity and a check over a bot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from orchestrator.lint.context import BotFiles
from orchestrator.lint.findings import Severity
from orchestrator.model import YamlDocument
from orchestrator.model.validation import StepVisit, iter_flow_steps
from orchestrator.model.yaml_loader import Loc


@dataclass(frozen=True)
class Hit:
    """What a check found: the YAML node (``loc`` in ``doc``) and what to say about it.

    ``at_key``: point at the key naming the node (``pause:``) rather than at its value.
    """

    doc: YamlDocument
    loc: Loc
    message: str
    at_key: bool = False


Check = Callable[[BotFiles], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    """A lint rule. Its id is kebab-case and stable (settings and comments name it); its
    section in ``docs/lint.md`` has the id as anchor.

    Attributes:
        id: e.g. ``fixed-pause``.
        short: One line: what the rule finds.
        full: Why it matters and what to do instead.
        default_severity: ``error``, ``warning`` or ``note`` (settings may change it).
        check: Yields a :class:`Hit` for every place the rule finds.
    """

    id: str
    short: str
    full: str
    default_severity: Severity
    check: Check


def flow_steps(bot: BotFiles) -> Iterator[tuple[YamlDocument, StepVisit]]:
    """Every step of the bot file and of its linted sub-flows, depth first, file by file."""
    for doc in bot.docs:
        for visit in iter_flow_steps(doc.data):
            yield doc, visit


def no_hits(bot: BotFiles) -> Iterator[Hit]:
    """The check of a rule that is reported by the linter itself (``invalid-bot``)."""
    return iter(())
