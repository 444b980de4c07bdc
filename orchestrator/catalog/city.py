"""A city's overlay at run time: what a run of a catalog bot uses in that city.

When tenant T runs bot B and the catalog (setting ``catalog_file``) installs B for T, the run
plan (:func:`orchestrator.engine.plan.plan_run`) applies T's overlay: its targets override
the tenant's, its parameter values are the run's defaults (values given to the run still
win), secret and queue names are mapped to the city's own. The bot's files are untouched, so
every city's runs record the same digest::

    overlay = city_overlay(loaded, settings)     # NO_OVERLAY when B is not installed for T
    overlay.targets, overlay.parameters, overlay.queues
    overlay.secret_name("civento_password")      # "MARBURG_CIVENTO_RPA"
    schedules_for(settings, "marburg")           # the settings' schedules and the overlays'
    with_city_parameters(loaded, settings, "marburg", {"x": 1})   # for runs queued now

A city runs what it installed: a run is refused (:class:`~orchestrator.errors.ConfigError`)
when the bot's files are not the installed version's (another version, or changed files), or
when the overlay has problems (``bots validate --catalog`` shows them with their positions).
One bot directory holds one version of a bot: cities on different versions of a bot run it
from different bot directories (robots with their own ``bot_dirs``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Any

from orchestrator.catalog.files import directory_files
from orchestrator.catalog.loading import CatalogFile, read_catalog
from orchestrator.catalog.model import Installation
from orchestrator.catalog.overlays import Overlay, bot_facts, overlay_problems, read_overlay
from orchestrator.errors import ConfigError, DefinitionError
from orchestrator.model.loader import LoadedBot
from orchestrator.model.yaml_loader import read_yaml
from orchestrator.settings import ScheduleSettings, Settings


@dataclass(frozen=True)
class CityOverlay:
    """What a run of a catalog bot uses in its city (empty: the bot is not installed)."""

    tenant: str | None = None
    version: str | None = None
    path: Path | None = None
    fachamt: str | None = None
    targets: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)

    def secret_name(self, name: str) -> str:
        """The name in the secret store of the bot's secret ``name`` in this city."""
        return self.secrets.get(name, name)


#: A run of a bot no catalog installation concerns.
NO_OVERLAY = CityOverlay()


def city_overlay(bot: LoadedBot, settings: Settings) -> CityOverlay:
    """The overlay of ``settings.tenant`` for ``bot``, checked, or :data:`NO_OVERLAY`.

    Raises:
        ConfigError: the catalog cannot be read where it concerns this installation, the
            bot's files are not the installed version's, or the overlay has problems.
    """
    tenant = settings.tenant
    found = _installation(settings.catalog_file, bot.id, tenant)
    if found is None:
        return NO_OVERLAY
    catalog, installation = found
    _check_installed_files(catalog, bot, installation, tenant)
    path = catalog.base / installation.overlay
    overlay = _checked_overlay(path, installation, bot, tenant)
    return CityOverlay(
        tenant=tenant,
        version=installation.version,
        path=path,
        fachamt=overlay.fachamt,
        targets={name: url for name, url in overlay.targets.items() if url},
        secrets={name: mapped for name, mapped in overlay.secrets.items() if mapped},
        parameters=dict(overlay.parameters),
        queues={name: mapped for name, mapped in overlay.queues.items() if mapped},
    )


def with_city_parameters(
    bot: LoadedBot, settings: Settings, tenant: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """``params`` on top of ``tenant``'s overlay values, for a run queued now and planned
    later (its record then shows every value, and a value only the overlay gives passes the
    check at queue time).

    Raises:
        ConfigError: as :func:`city_overlay`.
    """
    overlay = city_overlay(bot, settings.model_copy(update={"tenant": tenant}))
    return {**overlay.parameters, **params}


def schedules_for(settings: Settings, tenant: str) -> dict[str, ScheduleSettings]:
    """The schedules of ``tenant``: its settings' and those of its overlays, the latter
    named ``<bot>.<schedule>`` (a firing adds the overlay's parameter values, see
    :func:`with_city_parameters`).

    Raises:
        ConfigError: an overlay of the tenant cannot be read.
    """
    schedules = dict(settings.schedules_for(tenant))
    for bot_id, path, overlay in _tenant_overlays(settings.catalog_file, tenant):
        for name, schedule in overlay.schedules.items():
            fields = schedule.model_dump(exclude={"bot"})
            key = f"{bot_id}.{name}"
            if key in schedules:
                raise ConfigError(
                    f"schedule {key!r} of tenant {tenant!r} is configured twice: "
                    f"in the settings and in {path}"
                )
            schedules[key] = ScheduleSettings(**fields, bot=bot_id)
    return schedules


# --------------------------------------------------------------------------- internals


def _installation(path: Path, bot_id: str, tenant: str) -> tuple[CatalogFile, Installation] | None:
    """The catalog and the installation of ``bot_id`` for ``tenant``, or None."""
    catalog = _catalog(path, lambda data: _raw_installation(data, bot_id, tenant) is not None)
    if catalog is None:
        return None
    entry = catalog.catalog.bots.get(bot_id)
    installation = entry.installations.get(tenant) if entry is not None else None
    return (catalog, installation) if installation is not None else None


def _catalog(path: Path, concerned: Any) -> CatalogFile | None:
    """The catalog at ``path``; None when there is none, or when it has errors but
    ``concerned(raw_data)`` says they cannot matter here."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    try:
        catalog, problems = _read_catalog_cached(
            Path(path).resolve(), stat.st_mtime_ns, stat.st_size, stat.st_ino
        )
    except DefinitionError as exc:
        raise ConfigError(_catalog_broken(path, exc.problems)) from None
    if catalog is not None:
        return catalog
    if not concerned(read_yaml(Path(path)).data):
        return None
    raise ConfigError(_catalog_broken(path, problems))


@lru_cache(maxsize=8)
def _read_catalog_cached(
    path: Path, mtime_ns: int, size: int, inode: int
) -> tuple[CatalogFile | None, list[Any]]:
    """The catalog as read at this version of the file: every run plans with the catalog, so
    a robot parses it once per change, not once per run (the key changes with the file)."""
    del mtime_ns, size, inode  # the cache key only
    return read_catalog(path)


def _catalog_broken(path: Path, problems: list[Any]) -> str:
    lines = "\n  ".join(str(p) for p in problems if p.severity == "error")
    return (
        f"the bot catalog {path} has errors, so the city's installation cannot be "
        f"applied (bots validate --catalog):\n  {lines}"
    )


def _raw_installation(data: Any, bot_id: str, tenant: str) -> Any:
    bots = data.get("bots") if isinstance(data, dict) else None
    entry = bots.get(bot_id) if isinstance(bots, dict) else None
    installations = entry.get("installations") if isinstance(entry, dict) else None
    return installations.get(tenant) if isinstance(installations, dict) else None


def _check_installed_files(
    catalog: CatalogFile, bot: LoadedBot, installation: Installation, tenant: str
) -> None:
    """A city runs what it installed: the installed version, with its published digest."""
    version = installation.version
    here = bot.definition.version
    upgrade = f"bots catalog upgrade {bot.id} --tenant {tenant} --to {here}"
    if here != version:
        raise ConfigError(
            f"tenant {tenant!r} installed {bot.id} {version}, but {bot.directory} holds version "
            f"{here}: run `{upgrade}`, or run it from a bot directory holding {version}"
        )
    published = catalog.catalog.bots[bot.id].version(version)
    if published is not None and published.digest != bot.digest:
        raise ConfigError(
            f"tenant {tenant!r} installed {bot.id} {version} with digest {published.digest}, "
            f"but the files in {bot.directory} have digest {bot.digest}: they changed since "
            "they were published; publish a new version and upgrade"
        )


def _checked_overlay(
    path: Path, installation: Installation, bot: LoadedBot, tenant: str
) -> Overlay:
    try:
        file = read_overlay(path)
    except DefinitionError as exc:
        file_problems = list(exc.problems)
    else:
        facts = bot_facts(directory_files(bot.directory))
        file_problems = overlay_problems(file, facts, tenant=tenant, version=installation.version)
        if file.overlay is not None and not any(p.severity == "error" for p in file_problems):
            return file.overlay
    lines = "\n  ".join(str(p) for p in file_problems if p.severity == "error")
    raise ConfigError(
        f"the overlay of tenant {tenant!r} for {bot.id} has problems; fill it in or correct "
        f"it (bots validate --catalog):\n  {lines}"
    )


def _tenant_overlays(path: Path, tenant: str) -> Iterator[tuple[str, Path, Overlay]]:
    """Each overlay installed for ``tenant``: bot id, file, overlay (read, not yet checked
    against the bot: that happens when a run starts)."""

    def concerned(data: Any) -> bool:
        bots = data.get("bots") if isinstance(data, dict) else None
        ids = bots if isinstance(bots, dict) else {}
        return any(_raw_installation(data, bot_id, tenant) is not None for bot_id in ids)

    catalog = _catalog(path, concerned)
    if catalog is None:
        return
    for bot_id, entry in catalog.catalog.bots.items():
        installation = entry.installations.get(tenant)
        if installation is None:
            continue
        overlay_file = catalog.base / installation.overlay
        try:
            read = read_overlay(overlay_file)
        except DefinitionError as exc:
            read_problems = list(exc.problems)
        else:
            if read.overlay is not None:
                yield bot_id, overlay_file, read.overlay
                continue
            read_problems = read.problems
        lines = "\n  ".join(str(p) for p in read_problems)
        raise ConfigError(f"the overlay {overlay_file} of tenant {tenant!r} has errors:\n  {lines}")
