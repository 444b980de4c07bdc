"""Calling a connector action (``use: portal.vorgang_lesen``): check its arguments, run it.

The arguments a bot passes are checked against the action's pydantic model after their
templates were rendered; a missing or wrong one fails the step with the action's name and
the field, e.g. ``portal.vorgang_lesen: nummer: Field required``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from connectors.base import ActionContext
from orchestrator.errors import StepFailed
from orchestrator.model.registry import Action


def call_action(
    action: Action, context: ActionContext, arguments: dict[str, Any], *, ref: str, path: str
) -> Any:
    """Run ``action`` with ``arguments`` (validated by its model) and return its answer."""
    try:
        checked = action.arguments.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
            for error in exc.errors()
        )
        raise StepFailed(path, context.redact(f"{ref}: {problems}")) from None
    return action.run(context, **dict(checked))


__all__ = ["ActionContext", "call_action"]
