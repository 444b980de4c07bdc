"""Settings of when and where runs happen: schedules, work queues, robots, leases."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
