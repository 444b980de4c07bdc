"""Templates and conditions: Jinja2 in a sandbox, as in Ansible.

String values of a step are templates; a string that is exactly one ``{{ ... }}`` keeps the
type of its value (a list stays a list), everything else renders to a string::

    render("{{ vorgaenge }}", {"vorgaenge": [1, 2]})          # [1, 2]
    render("Fall {{ n }} von {{ total }}", {"n": 1, "total": 2})  # "Fall 1 von 2"
    condition("vorgaenge | length > 0", {"vorgaenge": [1]})    # True

Undefined names are errors (StrictUndefined), never empty strings. Errors are raised as
:class:`TemplateProblem` with a readable message; the interpreter turns them into
:class:`~orchestrator.errors.ExpressionError` naming the step.

A secret (:class:`~orchestrator.engine.secrets.SecretValue`) may only be a template's whole
value: embedding it in a larger string is refused, and its ``str()`` is ``***`` anyway.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined as _StrictUndefined
from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from orchestrator.engine.secrets import SecretValue

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


class TemplateProblem(ValueError):
    """A template or condition could not be evaluated; the message says which and why."""


def _finalize(value: Any) -> Any:
    if isinstance(value, SecretValue):
        raise TemplateProblem(
            f"secrets.{value.name} can only be used as a whole value (a fill value or a hook "
            "argument), not inside a longer text"
        )
    return value


_ENV = SandboxedEnvironment(
    undefined=_StrictUndefined,
    autoescape=False,
    finalize=_finalize,
    keep_trailing_newline=True,
)


@lru_cache(maxsize=2048)
def _compiled_template(source: str) -> Any:
    return _ENV.from_string(source)


@lru_cache(maxsize=2048)
def _compiled_expression(source: str) -> Any:
    return _ENV.compile_expression(source, undefined_to_none=False)


def _describe(source: str, exc: Exception) -> str:
    reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"cannot evaluate {source!r}: {reason}"


def evaluate(expression: str, scope: dict[str, Any], shown: str | None = None) -> Any:
    """The native value of a bare Jinja expression, e.g. ``vorgaenge | length``.

    ``shown`` is the text as the user wrote it, for error messages (default: ``expression``).
    """
    try:
        value = _compiled_expression(expression.strip())(**scope)
        if isinstance(value, Undefined):
            str(value)  # StrictUndefined raises with "'x' is undefined"
    except TemplateProblem:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateProblem(_describe(shown or expression.strip(), exc)) from None
    return value


def render_string(template: str, scope: dict[str, Any]) -> Any:
    """Render one string: exactly one ``{{ expr }}`` keeps its type, anything else is text."""
    if "{" not in template:  # most strings are plain text: skip Jinja entirely
        return template
    single = _SINGLE_EXPRESSION.match(template)
    if single:
        return evaluate(single.group("expr"), scope, template.strip())
    try:
        return _compiled_template(template).render(scope)
    except TemplateProblem:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateProblem(_describe(template, exc)) from None


def render(value: Any, scope: dict[str, Any]) -> Any:
    """Render every string inside ``value`` (recursively through dicts and lists)."""
    if isinstance(value, str):
        return render_string(value, scope)
    if isinstance(value, dict):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    return value


def render_text(value: str, scope: dict[str, Any]) -> str:
    """Render a template that must give text (URLs, names): the value as a string.

    A secret as the whole value is refused: it may only be a fill value or a hook argument.
    """
    result = render_string(value, scope)
    _finalize(result)
    return result if isinstance(result, str) else str(result)


def condition(expression: str, scope: dict[str, Any]) -> bool:
    """Evaluate a condition: a bare expression or one ``{{ ... }}``; the result's truth."""
    single = _SINGLE_EXPRESSION.match(expression)
    source = single.group("expr") if single else expression
    value = evaluate(source, scope, expression.strip())
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", ""):
        return False  # a rendered "False" from a variable set as text
    return bool(value)
