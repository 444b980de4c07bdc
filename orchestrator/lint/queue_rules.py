"""Rules for bots that work through a work queue: a case that cannot be done as it is must be
able to go to a person (a business failure), not be retried as if the system had failed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from orchestrator.lint.context import BotFiles
from orchestrator.lint.rule import Hit, Rule, flow_steps
from orchestrator.model import YamlDocument
from orchestrator.model.validation import iter_steps

#: The exception a hook raises for a business failure (orchestrator.errors.BusinessException).
BUSINESS_EXCEPTION = "BusinessException"


def _queue_handling(bot: BotFiles) -> Iterator[Hit]:
    for doc, visit in flow_steps(bot):
        if visit.kind != "for_each_item":
            continue
        if not _handles_business(bot, visit.get("do"), set()):
            queue = visit.get("for_each_item")
            yield Hit(
                doc, visit.at("for_each_item"),
                f"the bot works through the queue {queue!r}, but nothing in its steps marks a "
                "case as a business failure (a fail with kind: business, a hook raising "
                "BusinessException, or a try with on_error): a case that cannot be done as it "
                "is will be retried as an application error instead of going to a person",
                at_key=True,
            )  # fmt: skip


def _handles_business(bot: BotFiles, steps: Any, seen: set[str]) -> bool:
    """Whether ``steps`` (or the sub-flows and hooks they use) handle business failures."""
    for visit in iter_steps(steps, ()):
        kind = visit.kind
        if kind == "fail" and visit.get("kind") == "business":
            return True
        if kind == "try" and visit.get("on_error"):
            return True
        if kind == "call" and _hook_raises_business(bot, str(visit.get("call") or "")):
            return True
        if kind == "include" and (flow := _subflow(bot, visit.get("include"), seen)) is not None:
            if _handles_business(bot, flow.get(("steps",)), seen):
                return True
    return False


def _subflow(bot: BotFiles, ref: Any, seen: set[str]) -> YamlDocument | None:
    """The bot's sub-flow ``ref`` names, once per check (includes may repeat)."""
    if not isinstance(ref, str) or ref in seen:
        return None
    seen.add(ref)
    return bot.includes.get(ref)


def _hook_raises_business(bot: BotFiles, ref: str) -> bool:
    """Whether the hook's module raises or subclasses BusinessException anywhere.

    A module-level look, not one at the called function: a hook often raises through a
    helper or its own subclass (``class NichtZuordenbar(BusinessException)``).
    """
    module = bot.hook_module(ref.partition(":")[0])
    if module is None:
        return False
    for node in ast.walk(module):
        if isinstance(node, ast.Raise) and node.exc is not None and _names(node.exc):
            return True
        if isinstance(node, ast.ClassDef) and any(_names(base) for base in node.bases):
            return True
    return False


def _names(node: ast.AST) -> bool:
    """Whether ``node`` mentions BusinessException (``BusinessException(...)``,
    ``errors.BusinessException``)."""
    return any(
        (isinstance(sub, ast.Name) and sub.id == BUSINESS_EXCEPTION)
        or (isinstance(sub, ast.Attribute) and sub.attr == BUSINESS_EXCEPTION)
        for sub in ast.walk(node)
    )


RULES = (
    Rule(
        "queue-without-business-handling",
        "A bot works through a queue but never marks a case as a business failure.",
        "for_each_item hands a case to a person only on a business failure: a fail step with "
        "kind: business, a hook raising BusinessException, or a connector's refusal. Without "
        "one, a case that cannot be done as it is (data missing, a rule refuses it) is retried "
        "as an application error until it fails. Add a fail with kind: business for the "
        "cases a person must decide, raise BusinessException in a hook, or catch failures "
        "with try and on_error.",
        "warning",
        _queue_handling,
    ),
)
