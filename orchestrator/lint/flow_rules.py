"""Rules on the flow of steps: fixed pauses, steps that never run, raw browser steps where a
connector action exists, and the bot's time-saved figure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from orchestrator.lint.context import BotFiles
from orchestrator.lint.rule import Hit, Rule, flow_steps
from orchestrator.model import YamlDocument, step_kind
from orchestrator.model import registry as connector_registry
from orchestrator.model.steps import key_kind, step_key
from orchestrator.model.validation import FLOW_KEYS, StepVisit, child_keys, iter_flow_steps
from orchestrator.model.yaml_loader import Loc

_TARGET = re.compile(r"\btargets\.(\w+)")
_FALSE = frozenset({"false", "0", "none", "no"})
_TRUE = frozenset({"true", "1", "yes"})


def _fixed_pauses(bot: BotFiles) -> Iterator[Hit]:
    for doc, visit in flow_steps(bot):
        if visit.kind == "pause":
            seconds = visit.get("pause")
            yield Hit(
                doc, visit.at("pause"),
                f"pause waits a fixed {seconds} s, too short on a slow day and too long on a "
                "fast one; wait_for an element, a URL or a text instead",
                at_key=True,
            )  # fmt: skip


def literal_condition(value: Any) -> bool | None:
    """True/False for a condition that is a constant (``false``, ``"{{ False }}"``, ``0``),
    else None. Example: ``literal_condition("{{ false }}")`` -> False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2]
    text = text.strip().lower()
    return False if text in _FALSE else True if text in _TRUE else None


def ends_block(step: Any) -> bool:
    """Whether a raw step always fails its block: a ``fail`` or a constantly false
    ``assert`` without ``when``, or a block (if/try/retry/within) all of whose ways do."""
    if not isinstance(step, dict) or "when" in step:
        return False
    key = step_key(step)
    visit = StepVisit((), step, key_kind(key), frozenset(), False, key)
    kind, get = visit.kind, visit.get
    if kind == "fail":
        return True
    if kind == "assert":
        return literal_condition(get("assert")) is False
    if kind == "if":
        taken = literal_condition(get("if"))
        then, else_ = _ends(get("then")), _ends(get("else"))
        return then if taken is True else else_ if taken is False else then and else_
    if kind == "try":
        return _ends(get("try")) and _ends(get("on_error"))
    if kind in ("retry", "within"):
        return _ends(get("retry" if kind == "retry" else "do"))
    return False


def _ends(steps: Any) -> bool:
    return isinstance(steps, list) and any(ends_block(step) for step in steps)


def _step_lists(data: Any) -> Iterator[tuple[Loc, list[Any]]]:
    """Every step list of a flow file: ``steps``, ``finally`` and every nested block."""
    mapping = data if isinstance(data, dict) else {}
    for key in FLOW_KEYS:
        if isinstance(mapping.get(key), list):
            yield (key,), mapping[key]
    for visit in iter_flow_steps(data):
        for key in child_keys(visit.kind):
            if isinstance(visit.get(key), list):
                yield visit.at(key), visit.get(key)


def _unreachable(bot: BotFiles) -> Iterator[Hit]:
    for doc in bot.docs:
        for loc, steps in _step_lists(doc.data):
            yield from _after_end(doc, loc, steps)
        for visit in iter_flow_steps(doc.data):
            yield from _constant_branches(doc, visit)


def _after_end(doc: YamlDocument, loc: Loc, steps: list[Any]) -> Iterator[Hit]:
    for index, step in enumerate(steps[:-1]):
        if ends_block(step):
            line = doc.value_position((*loc, index))[0]
            rest = len(steps) - index - 1
            yield Hit(
                doc, (*loc, index + 1),
                f"{'this step never runs' if rest == 1 else f'these {rest} steps never run'}: "
                f"the {step_kind(step)} step at line {line} always ends the block",
            )  # fmt: skip
            return


def _constant_branches(doc: YamlDocument, visit: StepVisit) -> Iterator[Hit]:
    if literal_condition(visit.step.get("when", True)) is False:
        yield Hit(doc, visit.at("when"), "the step never runs: its `when` is always false", True)
    if visit.kind == "if":
        taken = literal_condition(visit.get("if"))
        dead = "then" if taken is False else "else" if taken is True else None
        if dead is not None and visit.get(dead):
            yield Hit(
                doc, visit.at(dead),
                f"the `{dead}` steps never run: the condition is always {str(taken).lower()}",
                at_key=True,
            )  # fmt: skip


def _page_target(visit: StepVisit, current: str | None) -> str | None:
    """The target whose pages the browser shows after a step, as far as we can tell."""
    if visit.kind == "goto":
        match = _TARGET.search(str(visit.get("goto") or ""))
        return match.group(1) if match else None
    if visit.kind == "use":
        return str(visit.get("use") or "").partition(".")[0] or None
    if visit.kind == "include":
        return None  # a sub-flow may go anywhere
    return current


def _raw_steps(bot: BotFiles) -> Iterator[Hit]:
    """Raw element steps on the pages of a target that a connector with actions serves.

    Conservative: the browser is known to be on target X only after a ``goto`` to a URL
    built from ``targets.X`` or a ``use: X.ACTION``, until the next ``goto``, ``use`` or
    ``include`` (in the file's order); X must be a declared target of the bot and the name
    of an installed connector with actions (connectors serve the target of their name).
    """
    installed = connector_registry.installed()
    connectors, kinds = installed.connectors, installed.step_kinds()
    declared = bot.loaded.definition.targets
    for doc in bot.docs:
        current: str | None = None
        for visit in iter_flow_steps(doc.data):
            spec = connectors.get(current or "")
            kind = kinds.get(visit.kind or "")
            if (
                kind is not None
                and kind.raw_interaction
                and spec is not None
                and spec.actions
                and current in declared
                # only a step on the session those actions work on (a browser's click, not
                # a desktop's in another application)
                and kind.connector in (spec.name, *spec.uses)
            ):
                names = ", ".join(action.name for action in spec.actions)
                yield Hit(
                    doc, visit.at(kind.kind),
                    f"a raw {visit.kind} on {current}'s pages: the connector {current!r} has "
                    f"actions for this target ({names}; bots connectors show {current}); "
                    f"use: {current}.ACTION where one fits, which survives changes of the pages",
                    at_key=True,
                )  # fmt: skip
            current = _page_target(visit, current)


def _manual_minutes(bot: BotFiles) -> Iterator[Hit]:
    if bot.loaded.definition.manual_minutes_per_case is None:
        yield Hit(
            bot.bot_doc, ("id",),
            "manual_minutes_per_case is missing: the run reports cannot show the staff time "
            "the bot saves; add how many minutes one case takes by hand",
            at_key=True,
        )  # fmt: skip


RULES = (
    Rule(
        "fixed-pause",
        "A step waits a fixed time.",
        "pause waits the same time whether the target system is fast or slow: too short on a "
        "slow day (the run fails), too long on a fast one (the run dawdles). wait_for an "
        "element, a URL or a text waits only as long as needed.",
        "warning",
        _fixed_pauses,
    ),
    Rule(
        "unreachable-step",
        "Steps that can never run.",
        "Steps after a fail (or an assert that is always false) without when in the same "
        "block, the then of an if whose condition is always false (the else of one always "
        "true), and steps whose when is always false never run: a left-over of debugging, or "
        "a mistake in the flow. Remove them or fix the condition.",
        "warning",
        _unreachable,
    ),
    Rule(
        "raw-step-with-action",
        "A raw click or fill on a target system that a connector's actions cover.",
        "A connector's actions (use: civento.vorgang_lesen) are written once for every bot and "
        "city, retry after the target system's hiccups and are fixed in one place when its "
        "pages change; raw clicks in each bot are not. The rule is conservative: it fires only "
        "after a goto to targets.X or a use: X.ACTION, where X is a declared target served by "
        "an installed connector of that name with actions. Where no action fits, keep the raw "
        "step and silence the line with a bots-lint comment.",
        "warning",
        _raw_steps,
    ),
    Rule(
        "missing-manual-minutes",
        "The bot does not say how long one case takes by hand.",
        "manual_minutes_per_case gives the run reports and the period report their staff "
        "time saved (cases x minutes), the figure the cities compare bots by.",
        "warning",
        _manual_minutes,
    ),
)
