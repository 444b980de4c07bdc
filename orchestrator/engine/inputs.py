"""What a run needs from the configuration before it starts: the targets' URLs.

Checked before a run is recorded, so a missing target URL is an input error (exit 2), not a
failed run::

    resolve_targets(bot.definition, settings)   # {"portal": "https://portal.example"}

Parameter values are the model's business: :func:`orchestrator.model.parameters.coerce_params`.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.errors import ConfigError
from orchestrator.model import BotDefinition
from orchestrator.settings import Settings


def resolve_targets(
    definition: BotDefinition, settings: Settings, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The base URLs of the targets the bot declares, for the configured tenant; ``overrides``
    (a city's overlay) win over the configuration.

    Raises:
        ConfigError: a declared target has no URL in the configuration.
    """
    configured = {**settings.targets_for(settings.tenant), **(overrides or {})}
    missing = [name for name in definition.targets if not configured.get(name)]
    if missing:
        names = ", ".join(missing)
        hint = "; ".join(f"set BOTS_TARGETS__{m.upper()} or targets.{m}" for m in missing)
        raise ConfigError(
            f"bot {definition.id!r} uses target {names}, which has no URL for tenant "
            f"{settings.tenant!r}: {hint} in the config file."
        )
    return {name: configured[name].rstrip("/") for name in definition.targets}
