"""What the period report and the key figures know of each bot besides its runs: name,
Fachamt and manual minutes per case from its definition, development effort from the catalog.

The catalog (``bot_catalog.yaml``) is read only by :func:`effort_hours_by_bot`, one small
function, so that a redesigned catalog replaces it alone. Example::

    profiles = bot_profiles(settings.bot_dirs, PROJECT_ROOT / "bot_catalog.yaml")
    profiles["gewerbe-uebertragung"].fachamt            # "Ordnungsamt"
    profiles["gewerbe-uebertragung"].effort_hours       # 160.0
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.catalog.loading import open_catalog
from orchestrator.errors import BotsError, ConfigError
from orchestrator.model.loader import find_bots, load_bot
from orchestrator.settings import PROJECT_ROOT

#: The catalog of shared bots at the project root.
CATALOG = PROJECT_ROOT / "bot_catalog.yaml"


@dataclass(frozen=True)
class BotProfile:
    """A bot as reports describe it; None where its definition or the catalog says nothing."""

    id: str
    name: str | None = None
    fachamt: str | None = None
    manual_minutes_per_case: float | None = None
    effort_hours: float | None = None


def effort_hours_by_bot(path: Path) -> dict[str, float]:
    """Bot id -> hours it took to build, from the catalog's optional ``effort_hours``.

    A missing catalog, or a bot without the field, gives nothing for that bot.

    Raises:
        ConfigError: the catalog is no valid YAML or does not fit its schema (an
            ``effort_hours`` that is no number >= 0, for one).
    """
    if not path.is_file():
        return {}
    try:
        catalog = open_catalog(path).catalog
    except BotsError as exc:
        raise ConfigError(f"the bot catalog {path} cannot be read: {exc}") from None
    return {
        bot_id: entry.effort_hours
        for bot_id, entry in catalog.bots.items()
        if entry.effort_hours is not None
    }


def bot_profiles(bot_dirs: list[Path], catalog: Path = CATALOG) -> dict[str, BotProfile]:
    """Every valid bot under ``bot_dirs`` by id, with its effort from ``catalog``.

    Invalid bots are left out (``bots validate`` reports them); bots only the catalog names
    get a profile with their effort alone.
    """
    efforts = effort_hours_by_bot(catalog)
    profiles: dict[str, BotProfile] = {
        bot_id: BotProfile(bot_id, effort_hours=hours) for bot_id, hours in efforts.items()
    }
    for directory in find_bots(bot_dirs):
        try:
            definition = load_bot(directory).definition
        except BotsError:
            continue
        profiles[definition.id] = BotProfile(
            definition.id,
            name=definition.name,
            fachamt=definition.owner.fachamt,
            manual_minutes_per_case=definition.manual_minutes_per_case,
            effort_hours=efforts.get(definition.id),
        )
    return profiles
