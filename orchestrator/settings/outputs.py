"""Settings of what runs leave behind: retention, run reports and notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
