"""Every lint rule, by id, in the order ``bots lint --help`` and ``docs/lint.md`` list them.

Rule ids are kebab-case words saying what is found (``fixed-pause``, ``nth-locator``); they
are stable: settings (``lint: {rules: {fixed-pause: error}}``) and comments
(``# bots-lint: disable=fixed-pause``) name them, and ``docs/lint.md#<id>`` explains each.
"""

from __future__ import annotations

from orchestrator.lint import flow_rules, locator_rules, queue_rules, secret_rules
from orchestrator.lint.rule import Hit, Rule, no_hits

#: A bot that does not load: reported by the linter for every problem ``bots validate``
#: finds; always an error.
INVALID_BOT = Rule(
    "invalid-bot",
    "The bot does not load.",
    "The bot has errors that bots validate reports (YAML syntax, schema, includes, hooks, "
    "undeclared names): it cannot run, so the other rules are not checked. Fix what "
    "bots validate says. This rule is always an error.",
    "error",
    no_hits,
)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        *flow_rules.RULES[:1],  # fixed-pause first: the most common finding
        *locator_rules.RULES,
        *flow_rules.RULES[2:3],  # raw-step-with-action
        *secret_rules.RULES,
        *queue_rules.RULES,
        *flow_rules.RULES[3:],  # missing-manual-minutes
        *flow_rules.RULES[1:2],  # unreachable-step
    )
}

#: Every rule SARIF and the docs describe: the checks and ``invalid-bot``.
ALL_RULES: dict[str, Rule] = {**RULES, INVALID_BOT.id: INVALID_BOT}

__all__ = ["ALL_RULES", "INVALID_BOT", "RULES", "Hit", "Rule"]
