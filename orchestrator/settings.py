"""Every setting in one documented place.

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
import re
import shutil
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from orchestrator.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


class ScheduleSettings(BaseModel):
    """When a bot runs by itself. Each firing becomes one queued run for the robots.

    Example (in the config file, under a tenant)::

        schedules:
          gewerbe-morgens:
            bot: gewerbe-uebertragung
            cron: "30 7 * * mon-fri"
            skip_holidays: true
            window: "06:00-18:00"
    """

    model_config = ConfigDict(extra="forbid")

    bot: str = Field(description="Id of the bot to run.")
    cron: str = Field(
        description="Crontab expression (minute hour day month day-of-week), Europe/Berlin time."
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Run parameters for every firing."
    )
    skip_holidays: bool = Field(
        False, description="Skip firings on Hessian public holidays (Feiertage in Hessen)."
    )
    window: str | None = Field(
        None,
        pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        description="Only fire inside this local time window, e.g. '06:00-18:00'.",
    )
    misfire_grace_s: int = Field(
        300, ge=1, description="A firing missed by up to this long (downtime) is still made up."
    )
    coalesce: bool = Field(
        True,
        description=(
            "Several missed firings (downtime, a takeover) become one run, at the latest of "
            "them; the others are audited as coalesced. False: each gets its own run."
        ),
    )
    enabled: bool = Field(True, description="False: the schedule exists but never fires.")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_s(text: str | float) -> float:
    """Seconds in a duration: ``"3d"``, ``"36h"``, ``"1d12h"``, ``"90m"``, ``"45s"`` or a
    plain number of seconds.

    Raises:
        ValueError: ``text`` is none of these, or not positive.
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        spoken = text.strip().replace(" ", "")
        try:
            seconds = float(spoken)
        except ValueError:
            parts = _DURATION.findall(spoken)
            if not parts or "".join(n + u for n, u in parts) != spoken:
                raise ValueError(
                    f"{text!r} is no duration: write e.g. 3d, 36h, 1d12h, 90m or seconds"
                ) from None
            seconds = sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is no duration: it must be longer than 0")
    return seconds


class QueueSettings(BaseModel):
    """A work queue declared in the configuration; `bots queue sync` creates it, or changes
    the stored one to match (the same policy as `bots queue create` takes).

    Example (in the config file, under a tenant)::

        queues:
          gewerbeanmeldungen:
            max_attempts: 3
            retry_delay_s: 60
            sla: 3d
            next_on_success: eakte-ablage
          eakte-ablage:
            approval: required
    """

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(3, ge=1, description="How often a robot may take an item.")
    retry_delay_s: float = Field(
        60.0, ge=0, description="Seconds before the first retry after an application exception."
    )
    backoff: float = Field(
        2.0, ge=1, description="Each further retry waits this many times longer."
    )
    payload_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema every item's payload must fit (inline)."
    )
    schema_file: Path | None = Field(
        None, description="A JSON file holding the payload's JSON Schema (instead of inline)."
    )
    sla: str | float | None = Field(
        None,
        description="Deadline of an item after it was added: 3d, 36h, 90m or seconds.",
    )
    retention_days: int = Field(
        365, ge=1, description="Days after an item ended until its payload and output are purged."
    )
    next_on_success: str | None = Field(
        None, description="Queue that receives a done item's output (same tenant)."
    )
    next_on_failure: str | None = Field(
        None, description="Queue that receives a failed item's payload (same tenant)."
    )
    approval: Literal["required", "none"] = Field(
        "none", description="required: a second person approves each item before robots act."
    )

    @model_validator(mode="after")
    def _one_schema_and_a_duration(self) -> QueueSettings:
        if self.payload_schema is not None and self.schema_file is not None:
            raise ValueError("give payload_schema or schema_file, not both")
        if self.sla is not None:
            duration_s(self.sla)
        return self

    @property
    def sla_s(self) -> float | None:
        """The SLA in seconds (None: no deadline)."""
        return duration_s(self.sla) if self.sla is not None else None


class RetentionSettings(BaseModel):
    """How long each kind of record of a run is kept, in days (`bots retention apply`).

    Screenshots, traces and page captures show personal data: they go first. Work-item
    payloads follow their queue's ``retention_days``. What a deletion leaves: the run's row,
    its steps, the audit trail (which records the deletion).
    """

    model_config = ConfigDict(extra="forbid")

    evidence_days: int = Field(
        30,
        ge=0,
        description="Screenshots, traces, page captures (HTML, URL), downloads and files kept "
        "by hooks (output) of a run.",
    )
    reports_days: int = Field(365, ge=0, description="Run reports (HTML and PDF).")
    logs_days: int = Field(365, ge=0, description="A run's log file (run.log.jsonl).")


class ReportSettings(BaseModel):
    """The run report written when a run ends (`bots report run` writes one at any time)."""

    model_config = ConfigDict(extra="forbid")

    on_run_end: bool = Field(
        True, description="Write each run's report into its run directory when it ends."
    )
    lang: Literal["de", "en"] = Field("de", description="Language of the reports.")
    pdf: bool = Field(
        False, description="Also write the report as PDF (through Chromium: takes a second)."
    )


#: What a notification can be about (see docs/notifications.md).
NotificationEvent = Literal["run_failed", "needs_human", "sla_breach", "robot_gone"]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = (
    "run_failed",
    "needs_human",
    "sla_breach",
    "robot_gone",
)


class EmailChannel(BaseModel):
    """E-mail through an SMTP server: STARTTLS where the server offers it (``auto``).

    The password is never a setting: ``password_secret`` names it in the secret store
    (``BOTS_SECRET_<NAME>``, a tenant's own ``BOTS_SECRET_<TENANT>__<NAME>`` first).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["email"] = Field(description="An e-mail channel.")
    host: str = Field(min_length=1, description="SMTP server, e.g. 'smtp.giessen.de'.")
    port: int = Field(25, ge=1, le=65535, description="SMTP port (25, or 587 for submission).")
    sender: str = Field(
        alias="from", min_length=3, description="Sender address, e.g. 'rpa@giessen.de'."
    )
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    starttls: Literal["required", "auto", "off"] = Field(
        "auto",
        description="required: refuse a server without STARTTLS; auto: use it where the "
        "server offers it; off: never (a relay on the same host).",
    )
    ca_file: Path | None = Field(
        None, description="CA certificates (PEM) to trust besides the system's, e.g. a city CA."
    )
    username: str | None = Field(None, description="SMTP login, if the server wants one.")
    password_secret: str | None = Field(
        None, description="Name of the login's password in the secret store."
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Seconds to wait for the server.")

    @model_validator(mode="after")
    def _login_has_a_password(self) -> EmailChannel:
        if (self.username is None) != (self.password_secret is None):
            raise ValueError("give username and password_secret together, or neither")
        return self


class WebhookChannel(BaseModel):
    """A JSON POST to a URL, e.g. a chat system's incoming webhook."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook"] = Field(description="A webhook channel.")
    url: str = Field(pattern=r"^https?://", description="Where the JSON is POSTed.")
    token_secret: str | None = Field(
        None, description="Name of a token in the secret store, sent in `token_header`."
    )
    token_header: str = Field(
        "Authorization",
        description="Header carrying the token; `Authorization` gets 'Bearer <token>', any "
        "other header the token itself.",
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Seconds to wait for the receiver.")


NotificationChannel = Annotated[EmailChannel | WebhookChannel, Field(discriminator="kind")]


class NotificationRule(BaseModel):
    """Which events go to which channels, for which bots, how often and in which language."""

    model_config = ConfigDict(extra="forbid")

    channels: list[str] = Field(min_length=1, description="Names of channels (see `channels`).")
    events: list[NotificationEvent] = Field(
        default_factory=lambda: list(NOTIFICATION_EVENTS),
        description="run_failed (after the last retry), needs_human (cases a run left for a "
        "person), sla_breach (a case past its deadline), robot_gone (a robot stopped "
        "answering). Default: all.",
    )
    bots: list[str] | None = Field(
        None,
        description="Only events of these bots; sla_breach and robot_gone belong to no bot "
        "and go to rules without `bots` only. Default: every bot.",
    )
    after_failures: int = Field(
        1, ge=1, description="run_failed only once this many runs in a row have failed."
    )
    digest: Literal["daily"] | None = Field(
        None, description="daily: one message a day (at `digest_hour`) instead of one per event."
    )
    lang: Literal["de", "en"] | None = Field(
        None, description="Language of the messages; default: the notifications' `lang`."
    )


class NotificationSettings(BaseModel):
    """Who hears of failed runs, cases for a person, SLA breaches and lost robots, and how.

    Example (in the config file, at the top or under a tenant)::

        notifications:
          channels:
            ordnungsamt:
              kind: email
              host: smtp.giessen.de
              from: rpa@giessen.de
              to: [gewerbe@giessen.de]
          rules:
            - channels: [ordnungsamt]
              events: [run_failed, needs_human]
              after_failures: 2
    """

    model_config = ConfigDict(extra="forbid")

    channels: dict[str, NotificationChannel] = Field(
        default_factory=dict, description="Channels by name: e-mail or webhook."
    )
    rules: list[NotificationRule] = Field(
        default_factory=list, description="Which events go where; none: no notifications."
    )
    lang: Literal["de", "en"] = Field("de", description="Language of the messages.")
    digest_hour: int = Field(
        7, ge=0, le=23, description="Hour (orchestrator time zone) daily digests go out."
    )
    report_url: str | None = Field(
        None,
        description="Link to a run's report, with {run_id} and {tenant}, e.g. "
        "'https://rpa.giessen.de/berichte/{tenant}/{run_id}/bericht.html'; default: the "
        "report file's path.",
    )
    retry_after_s: float = Field(
        30.0, ge=0, description="Wait before the 2nd delivery attempt; doubles for each further."
    )
    retry_max_s: float = Field(3600.0, ge=0, description="Longest wait between two attempts.")
    max_attempts: int = Field(
        60, ge=1, description="Delivery attempts before a message is given up as failed."
    )
    deliver_every_s: float = Field(
        10.0,
        gt=0,
        description="How often the orchestrator's leader delivers and looks for SLA "
        "breaches and lost robots.",
    )

    @model_validator(mode="after")
    def _rules_name_channels(self) -> NotificationSettings:
        if self.report_url is not None:
            try:
                self.report_url.format(run_id=1, tenant="t")
            except (KeyError, IndexError, ValueError):
                raise ValueError(
                    "report_url may only use the placeholders {run_id} and {tenant}"
                ) from None
        for number, rule in enumerate(self.rules, 1):
            unknown = sorted(set(rule.channels) - set(self.channels))
            if unknown:
                known = ", ".join(sorted(self.channels)) or "none"
                raise ValueError(
                    f"rule {number} names unknown channels {', '.join(unknown)} (known: {known})"
                )
        return self


class CatalogTrust(BaseModel):
    """Which bot bundles a tenant accepts (`bots catalog verify|install`), and how large.

    Keys are ed25519 public keys as `bots catalog keygen` prints them (base64), PEM text, or
    the path of a ``.pub`` file. A bundle signed by any other key is refused. Example::

        catalog_trust:
          keys: [/etc/bots/keys/giessen.pub, "LS0tLS1CRUdJTi..."]
    """

    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(
        default_factory=list,
        description="Trusted public keys: base64 (as `bots catalog keygen` prints), PEM, or "
        "the path of a .pub file. None: every bundle is refused.",
    )
    max_file_bytes: int = Field(
        5_000_000, ge=1, description="Largest file a bundle may hold, in bytes."
    )
    max_total_bytes: int = Field(
        50_000_000, ge=1, description="Most bytes a bundle's files may hold together."
    )
    max_files: int = Field(1000, ge=1, description="Most files a bundle may hold.")


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


class RobotSettings(BaseModel):
    """A robot (`bots robot start`): a worker that claims queued runs and executes them."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Unique robot name; default: host name and pid.")
    labels: list[str] = Field(
        default_factory=lambda: ["browser"],
        description="What this machine offers (browser, desktop, a city, ...); a run is only "
        "claimed if its bot's labels are all here.",
    )
    tenants: list[str] | None = Field(
        None, description="Tenants this robot serves; default: the `tenant` setting."
    )
    concurrency: int = Field(1, ge=1, description="Runs executed at once.")
    poll_s: float = Field(0.25, gt=0, description="Seconds between looks at the queue when idle.")


class OrchestratorSettings(BaseModel):
    """Leases, the leader election of schedulers, and the search for lost runs."""

    model_config = ConfigDict(extra="forbid")

    lease_s: float = Field(
        30.0,
        gt=0,
        description="A claimed run's lease; the executing process renews it every third of "
        "this. A run whose lease ran out is re-queued (retry-safe bots) or marked lost.",
    )
    leader_lease_s: float = Field(
        10.0,
        gt=0,
        description="The scheduling orchestrator's lease; a standby takes over "
        "at most this long after the leader died.",
    )
    reap_every_s: float = Field(2.0, gt=0, description="Seconds between searches for lost runs.")
    max_robot_losses: int = Field(
        3,
        ge=0,
        description="How often a retry-safe run is re-queued after its robot was lost (lease "
        "expired, robot restarted); the next loss marks it lost with the reason 'robot lost N "
        "times'. Counted apart from the bot's retries.",
    )
    anchor_every_s: float = Field(
        60.0,
        ge=0,
        description="The leader notes the audit trail's head in `audit_anchors` when it starts "
        "leading and whenever the trail has grown, but at most once in this many seconds: an "
        "entry is noted down at most this long (plus a second) after it was written "
        "(0: never).",
    )
    timezone: str = Field("Europe/Berlin", description="Time zone of cron expressions.")


class LintSettings(BaseModel):
    """`bots lint`: the severity of each rule (docs/lint.md lists the rules). Example::

    lint:
      rules: {fixed-pause: error, raw-step-with-action: off}
    """

    model_config = ConfigDict(extra="forbid")

    rules: dict[str, Literal["off", "note", "warning", "error"]] = Field(
        default_factory=dict,
        description="Rule id -> off, note, warning or error; rules not named keep their "
        "default. An error fails `bots lint` (exit code 1) and blocks promotion.",
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
    problem_cases: int = Field(
        0,
        ge=0,
        description="How many of the new Gewerbeanmeldungen hold a problem only a person can "
        "solve, in turn: a required field left empty, a legal form the register does not know, "
        "characters the register refuses (it accepts Latin-1 only, e.g. '€' or an emoji).",
    )
    password: str = Field(
        "Sandbox-Training-1",
        description="Password of the sandbox's bot accounts (a training value, not a secret).",
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
