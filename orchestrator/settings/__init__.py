"""Every setting in one documented place.

The feature settings live beside each other in this package (``scheduling``, ``outputs``,
``catalog``); :class:`Settings` composes them and is what the code reads.

Sources, highest priority first:

1. environment variables ``BOTS_<NAME>`` (nested with ``__``: ``BOTS_TARGETS__CIVENTO=...``,
   ``BOTS_SANDBOX__FAULT_RATE=0.2``);
2. the YAML file named by ``BOTS_CONFIG`` (keys as below, in lower case);
3. the defaults below, which work with no configuration at all: data in
   ``$XDG_DATA_HOME/bots`` (``~/.local/share/bots``), targets pointing at the sandbox.

Secret *values* are never settings: they come from the secret store (for now the environment
variables ``BOTS_SECRET_<NAME>``, see :mod:`orchestrator.engine.secrets`).

Example ``bots.yaml``::

    data_dir: /var/lib/bots
    tenant: giessen
    environment: produktion
    targets:
      civento: https://civento.example.de
    tenants:
      marburg:
        targets:
          civento: https://civento-mr.example.de
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from orchestrator.errors import ConfigError
from orchestrator.settings.catalog import CatalogTrust, LintSettings
from orchestrator.settings.outputs import (
    EmailChannel,
    NotificationRule,
    NotificationSettings,
    ReportSettings,
    RetentionSettings,
    WebhookChannel,
)
from orchestrator.settings.scheduling import (
    OrchestratorSettings,
    QueueSettings,
    RobotSettings,
    ScheduleSettings,
    duration_s,
)

__all__ = [
    "CHROMIUM_CANDIDATES",
    "DEFAULT_SANDBOX_PORT",
    "PROJECT_ROOT",
    "CatalogTrust",
    "EmailChannel",
    "LintSettings",
    "NotificationRule",
    "NotificationSettings",
    "OrchestratorSettings",
    "QueueSettings",
    "ReportSettings",
    "RetentionSettings",
    "RobotSettings",
    "SandboxSettings",
    "ScheduleSettings",
    "Settings",
    "TenantSettings",
    "WebhookChannel",
    "duration_s",
    "load_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SANDBOX_PORT = 8765
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bots"


def _default_chromium() -> Path:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    found = shutil.which("chromium")
    return Path(found) if found else Path(CHROMIUM_CANDIDATES[0])


def _sandbox_targets(port: int = DEFAULT_SANDBOX_PORT) -> dict[str, str]:
    return {
        "civento": f"http://127.0.0.1:{port}/civento",
        "gewerberegister": f"http://127.0.0.1:{port}/gewerberegister",
    }


class TenantSettings(BaseModel):
    """What differs per tenant (city): target addresses, pools, schedules and work queues."""

    model_config = ConfigDict(extra="forbid")

    targets: dict[str, str] = Field(
        default_factory=dict, description="Target name -> base URL, overriding the global ones."
    )
    pools: dict[str, int] = Field(
        default_factory=dict,
        description="Pool name -> most concurrent runs using it (e.g. licences of a "
        "Fachverfahren), overriding the global ones.",
    )
    schedules: dict[str, ScheduleSettings] = Field(
        default_factory=dict, description="Schedules of this tenant by name."
    )
    queues: dict[str, QueueSettings] = Field(
        default_factory=dict, description="Work queues of this tenant by name."
    )
    retention: RetentionSettings | None = Field(
        None, description="How long this tenant keeps run records (default: the global one)."
    )
    notifications: NotificationSettings | None = Field(
        None, description="This tenant's notifications (default: the global ones)."
    )
    catalog_trust: CatalogTrust | None = Field(
        None, description="Bundles this tenant accepts (default: the global `catalog_trust`)."
    )


class SandboxSettings(BaseModel):
    """The stand-in target systems (`bots sandbox serve`)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the sandbox listens on.")
    port: int = Field(DEFAULT_SANDBOX_PORT, description="Port the sandbox listens on.")
    fault_rate: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of requests answered with HTTP 503."
    )
    latency_ms: int = Field(0, ge=0, description="Extra delay of asynchronous loads, in ms.")
    late_elements_ms: int = Field(
        0, ge=0, description="Delay before some elements are added to pages, in ms."
    )
    session_timeout_s: int = Field(900, ge=1, description="Idle time before a login expires.")
    expire_sessions_every: int = Field(
        0, ge=0, description="Expire the session after every N-th page view (0: never)."
    )
    seed: int = Field(2026, description="Seed for the deterministic sample data.")
    cases: int = Field(12, ge=0, description="How many Gewerbeanmeldungen `seed` creates.")
    dog_cases: int = Field(
        3, ge=0, description="How many new Hundesteuer-Anmeldungen `seed` creates in Civento."
    )
    problem_cases: int = Field(
        0,
        ge=0,
        description="How many of the new Gewerbeanmeldungen hold a problem only a person can "
        "solve, in turn: a required field left empty, a legal form the register does not know, "
        "characters the register refuses (it accepts Latin-1 only, e.g. '€' or an emoji); and "
        "of the new Hundesteuer-Anmeldungen (at most two): a breed on the list of dangerous "
        "dogs, a dog's name the register cannot store (Latin-1 only).",
    )
    password: str = Field(
        "Sandbox-Training-1",
        description="Password of the sandbox's bot accounts (a training value, not a secret).",
    )
    data_attributes: bool = Field(
        True,
        description="Serve the pages with their data-* attributes (data-testid, data-anzahl, "
        "...). false: without any, as a real Civento serves them, so that locators must go by "
        "role, label and text (training; JSON, CSV and PDF answers are the same either way).",
    )
    standins: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Each stand-in's own settings, by its name (validated by the stand-in), "
        "e.g. BOTS_SANDBOX__STANDINS__NOTIZBLOCK__ANZAHL=5.",
    )


class Settings(BaseSettings):
    """All settings of the `bots` command and library."""

    model_config = SettingsConfigDict(
        env_prefix="BOTS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the SQLite file, run artifacts, reports and sandbox state go.",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the run history; default: SQLite in data_dir."
    )
    chromium: Path = Field(
        default_factory=_default_chromium, description="Path of the Chromium executable."
    )
    bot_dirs: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "bots"],
        description="Directories holding one sub-directory per bot.",
    )
    catalog_file: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "bot_catalog.yaml",
        description="The catalog of the bots the cities share (`bots catalog`); the paths "
        "in it are relative to its directory.",
    )
    audit_anchors: Path | None = Field(
        None,
        description="File outside the database where the audit trail's head is noted down, "
        "so `bots audit verify` sees the newest entries deleted; default: "
        "data_dir/audit-anchors.jsonl. Keep it where database administrators cannot write.",
    )
    tenant: str = Field("default", description="The tenant (city) runs belong to.")
    environment: str = Field("sandbox", description="Name of the environment (for reports).")
    targets: dict[str, str] = Field(
        default_factory=_sandbox_targets,
        description="Target system name -> base URL; bots refer to them as targets.NAME.",
    )
    tenants: dict[str, TenantSettings] = Field(
        default_factory=dict, description="Per-tenant overrides."
    )
    headless: bool = Field(True, description="Run browsers without a window.")
    trace: Literal["always", "on_failure", "never"] = Field(
        "on_failure", description="When to keep the Playwright trace of a run."
    )
    step_timeout_s: float = Field(30.0, gt=0, description="Default timeout of one step.")
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Settings per connector (an IMAP host, a desktop app's path), checked "
        "against the connector's settings model: `bots connectors show NAME` lists them.",
    )
    run_timeout_s: float = Field(3600.0, gt=0, description="Default timeout of a whole run.")
    log_level: str = Field("info", description="Console log level (the JSON log keeps all).")
    pools: dict[str, int] = Field(
        default_factory=dict,
        description="Pool name -> most concurrent runs using it, for every tenant (a tenant's "
        "own `pools` override it). A bot uses the pools it names, default its targets.",
    )
    schedules: dict[str, ScheduleSettings] = Field(
        default_factory=dict, description="Schedules of the default tenant (`tenant`) by name."
    )
    queues: dict[str, QueueSettings] = Field(
        default_factory=dict, description="Work queues of the default tenant (`tenant`) by name."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings,
        description="How long run records are kept, per kind (tenants may override).",
    )
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Run reports written when a run ends."
    )
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings,
        description="E-mail and webhook messages about failures (tenants may override).",
    )
    catalog_trust: CatalogTrust = Field(
        default_factory=CatalogTrust,
        description="Keys whose bot bundles are trusted, and size limits (tenants may override).",
    )
    robot: RobotSettings = Field(default_factory=RobotSettings, description="This robot.")
    orchestrator: OrchestratorSettings = Field(
        default_factory=OrchestratorSettings, description="Leases and scheduling."
    )
    sandbox: SandboxSettings = Field(
        default_factory=SandboxSettings, description="The stand-in target systems."
    )
    lint: LintSettings = Field(
        default_factory=LintSettings, description="Severities of the `bots lint` rules."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("BOTS_CONFIG")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @cached_property
    def database(self) -> str:
        """The effective database URL."""
        return self.database_url or f"sqlite:///{self.data_dir / 'bots.sqlite'}"

    @property
    def runs_dir(self) -> Path:
        """Where each run keeps its artifacts, one sub-directory per run id."""
        return self.data_dir / "runs"

    @property
    def audit_anchors_file(self) -> Path:
        """Where the audit trail's head is noted down (see ``audit_anchors``)."""
        return self.audit_anchors or self.data_dir / "audit-anchors.jsonl"

    @property
    def sandbox_dir(self) -> Path:
        """Where the sandbox keeps its state."""
        return self.data_dir / "sandbox"

    def targets_for(self, tenant: str | None = None) -> dict[str, str]:
        """The target URLs for a tenant: global ones overlaid with the tenant's own."""
        merged = dict(self.targets)
        overlay = self.tenants.get(tenant or self.tenant)
        if overlay:
            merged.update(overlay.targets)
        return merged

    def pools_for(self, tenant: str | None = None) -> dict[str, int]:
        """Pool capacities for a tenant: global ones overlaid with the tenant's own."""
        merged = dict(self.pools)
        overlay = self.tenants.get(tenant or self.tenant)
        if overlay:
            merged.update(overlay.pools)
        return merged

    def schedules_for(self, tenant: str) -> dict[str, ScheduleSettings]:
        """The schedules of ``tenant`` (top-level `schedules` belong to the default tenant)."""
        merged = dict(self.schedules) if tenant == self.tenant else {}
        overlay = self.tenants.get(tenant)
        if overlay:
            merged.update(overlay.schedules)
        return merged

    def queues_for(self, tenant: str) -> dict[str, QueueSettings]:
        """The work queues ``tenant`` declares (top-level `queues` belong to the default one)."""
        merged = dict(self.queues) if tenant == self.tenant else {}
        overlay = self.tenants.get(tenant)
        if overlay:
            merged.update(overlay.queues)
        return merged

    def retention_for(self, tenant: str) -> RetentionSettings:
        """How long ``tenant`` keeps its run records: its own setting, else the global one."""
        overlay = self.tenants.get(tenant)
        if overlay and overlay.retention is not None:
            return overlay.retention
        return self.retention

    def notifications_for(self, tenant: str) -> NotificationSettings:
        """Who ``tenant``'s events go to: its own notifications, else the global ones."""
        overlay = self.tenants.get(tenant)
        if overlay and overlay.notifications is not None:
            return overlay.notifications
        return self.notifications

    def catalog_trust_for(self, tenant: str) -> CatalogTrust:
        """Which bundles ``tenant`` accepts: its own `catalog_trust`, else the global one."""
        overlay = self.tenants.get(tenant)
        if overlay and overlay.catalog_trust is not None:
            return overlay.catalog_trust
        return self.catalog_trust

    def all_tenants(self) -> list[str]:
        """Every tenant the configuration knows: the default one and those under `tenants`."""
        return sorted({self.tenant, *self.tenants})


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from environment and config file; bad values raise ConfigError.

    Example: ``load_settings(data_dir=tmp_path)`` for a test with its own data directory.
    """
    config_file = os.environ.get("BOTS_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"BOTS_CONFIG names {config_file!r}, which is not a readable file.")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"setting {where!r}: {err['msg']}")
        source = f" (config file {config_file})" if config_file else ""
        raise ConfigError("invalid settings" + source + ":\n  " + "\n  ".join(lines)) from None
    except Exception as exc:  # a YAML syntax error in the config file
        where = f" from {config_file}" if config_file else ""
        raise ConfigError(f"cannot read settings{where}: {exc}") from None
