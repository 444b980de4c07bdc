"""What a run needs before it starts: typed parameters and target URLs.

Both are checked before a run is recorded, so a typo in ``-p`` or a missing target URL is an
input error (exit 2), not a failed run::

    coerce_params(bot.parameters, {"max_cases": "10"})   # {"max_cases": 10}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from orchestrator.errors import ConfigError, ParameterError
from orchestrator.model import BotDefinition, Parameter
from orchestrator.settings import Settings

_TRUE = {"true", "yes", "ja", "on", "1"}
_FALSE = {"false", "no", "nein", "off", "0"}


def _coerce(name: str, spec: Parameter, value: Any) -> Any:
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


def coerce_params(declared: dict[str, Parameter], given: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters: given values coerced to their types, defaults filled in.

    Strings (from ``-p key=value``) become integer, number, boolean (true/false, yes/no,
    ja/nein, 1/0), list (comma separated) or date (ISO, kept as ``YYYY-MM-DD``).

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
            value = _coerce(name, spec, given[name])
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


def resolve_targets(definition: BotDefinition, settings: Settings) -> dict[str, str]:
    """The base URLs of the targets the bot declares, for the configured tenant.

    Raises:
        ConfigError: a declared target has no URL in the configuration.
    """
    configured = settings.targets_for(settings.tenant)
    missing = [name for name in definition.targets if not configured.get(name)]
    if missing:
        names = ", ".join(missing)
        hint = "; ".join(f"set BOTS_TARGETS__{m.upper()} or targets.{m}" for m in missing)
        raise ConfigError(
            f"bot {definition.id!r} uses target {names}, which has no URL for tenant "
            f"{settings.tenant!r}: {hint} in the config file."
        )
    return {name: configured[name].rstrip("/") for name in definition.targets}
