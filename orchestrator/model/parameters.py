"""A run's parameter values, checked and coerced against the bot's declarations.

The declarations (:class:`~orchestrator.model.bot.Parameter`) say each parameter's type,
default and choices; values come as strings from ``-p key=value`` or as JSON from the run
queue. Coercion is pure: it reads the declarations and the values, nothing else, so the
engine, the queue (:mod:`orchestrator.requests`) and the CLI check values the same way::

    coerce_params(bot.definition.parameters, {"max_cases": "10"})   # {"max_cases": 10}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from orchestrator.errors import ParameterError
from orchestrator.model.bot import Parameter

_TRUE = {"true", "yes", "ja", "on", "1"}
_FALSE = {"false", "no", "nein", "off", "0"}


def coerce_params(declared: dict[str, Parameter], given: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters: given values coerced to their types, defaults filled in.

    Strings (from ``-p key=value``) become integer, number, boolean (true/false, yes/no,
    ja/nein, 1/0), list (comma separated) or date (ISO, kept as ``YYYY-MM-DD``).

    Example: ``coerce_params({"n": Parameter(type="integer")}, {"n": "3"})`` is ``{"n": 3}``.

    Raises:
        ParameterError: unknown name, missing required value, wrong type or not a choice.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(
            f"unknown parameter {', '.join(repr(u) for u in unknown)}; the bot declares: {known}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            value = coerce_value(name, spec, given[name])
        elif spec.required:
            raise ParameterError(
                f"parameter {name!r} is required ({spec.type}): pass -p {name}=VALUE"
            )
        else:
            value = spec.default
        if spec.choices and value not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            raise ParameterError(f"parameter {name!r} must be one of {allowed}, got {value!r}")
        values[name] = value
    return values


def coerce_value(name: str, spec: Parameter, value: Any) -> Any:
    """``value`` as parameter ``name`` of type ``spec.type`` holds it (choices unchecked).

    Example: ``coerce_value("ok", Parameter(type="boolean"), "ja")`` is ``True``.

    Raises:
        ParameterError: the value does not fit the type.
    """
    kind = spec.type
    wrong = ParameterError(f"parameter {name!r} must be of type {kind}, got {value!r}")
    if kind == "string":
        if isinstance(value, bool | int | float | str):
            return str(value)
        raise wrong
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ParameterError(f"parameter {name!r} must be true or false, got {value!r}")
    if kind == "integer":
        if isinstance(value, bool) or isinstance(value, float):
            raise wrong
        try:
            return int(str(value).strip())
        except ValueError:
            raise wrong from None
    if kind == "number":
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int | float):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise wrong from None
    if kind == "list":
        if isinstance(value, list | tuple):
            return list(value)
        text = str(value).strip()
        return [part.strip() for part in text.split(",")] if text else []
    # date: kept as an ISO string, so it stores as JSON and renders as written
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ParameterError(
            f"parameter {name!r} must be a date as YYYY-MM-DD, got {value!r}"
        ) from None
