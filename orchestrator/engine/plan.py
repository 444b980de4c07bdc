"""What a run of a bot will work with, prepared once before it is recorded or executed.

Both ways to run a bot (standalone, :func:`~orchestrator.engine.runner.run_bot`; a run a robot
claimed, :func:`~orchestrator.engine.runner.run_claimed`) start from the same plan::

    plan = plan_run(bot, settings=settings, params={"max_cases": "5"})
    plan.params      # {"max_cases": 5}: coerced to the declared types, defaults filled in
    plan.targets     # {"portal": "https://portal.giessen.example"}
    plan.redactor.redact(text)   # every secret value (and its encodings) as ***

When the catalog installs the bot for the tenant, the city's overlay applies here (and only
here, see :mod:`orchestrator.catalog.city`): its targets override the tenant's, its parameter
values are the defaults (values given to the run win), secret and queue names are the city's.

Preparing opens no session and touches no run history: anything wrong with the inputs raises here,
before a run exists (standalone) or before its steps start (claimed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.catalog.city import city_overlay
from orchestrator.engine.inputs import resolve_targets
from orchestrator.engine.secrets import EnvSecretProvider, Redactor, SecretProvider
from orchestrator.model.parameters import coerce_params
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot


@dataclass(frozen=True)
class RunPlan:
    """A bot with its inputs checked: parameter values, target URLs, secrets, the redactor."""

    bot: LoadedBot
    params: dict[str, Any]
    targets: dict[str, str]
    secret_values: dict[str, str]
    redactor: Redactor
    #: Queue name the bot uses -> the city's (its overlay's ``queues``).
    queue_names: Mapping[str, str] = field(default_factory=dict)


def plan_run(
    bot: LoadedBot,
    *,
    settings: Settings,
    params: dict[str, Any] | None = None,
    secrets: SecretProvider | None = None,
) -> RunPlan:
    """Check ``bot``'s inputs for a run with ``settings`` and prepare what the run needs.

    Args:
        bot: The loaded bot.
        settings: Effective settings: the tenant, its targets.
        params: Parameter values; strings are coerced to the declared types.
        secrets: Where secret values come from; default: ``BOTS_SECRET_<NAME>`` (tenant first).

    Raises:
        ParameterError: a parameter is unknown, missing or of the wrong type.
        ConfigError: a declared target has no URL, or the city's installation of the bot
            cannot apply (other files than installed, an overlay with problems).
        SecretMissing: a declared secret has no value.
    """
    definition = bot.definition
    overlay = city_overlay(bot, settings)
    values = coerce_params(definition.parameters, {**overlay.parameters, **(params or {})})
    targets = resolve_targets(definition, settings, overlay.targets)
    provider = secrets if secrets is not None else EnvSecretProvider(tenant=settings.tenant)
    secret_values = {name: provider.get(overlay.secret_name(name)) for name in definition.secrets}
    return RunPlan(
        bot=bot,
        params=values,
        targets=targets,
        secret_values=secret_values,
        redactor=Redactor(secret_values.values()),
        queue_names=overlay.queues,
    )
