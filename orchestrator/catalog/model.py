"""The bot catalog (``bot_catalog.yaml``) as pydantic models: what the cities have shared.

``bot.yaml`` says what a bot *is* (id, version of the working copy, owner, targets, manual
minutes); the catalog says what was *shared*: every published version with the digest of its
files and its maturity, which city (tenant) uses which version with which overlay, the
connectors and robot labels the bot needs, the target system versions it was proven against
and the hours it took to build. Nothing in it repeats ``bot.yaml``. Example::

    catalog_version: 2
    bots:
      gewerbe-uebertragung:
        path: bots/gewerbe-uebertragung
        effort_hours: 160
        versions:
          - {version: 1.2.0, digest: 3f0c..., published: 2026-11-30, maturity: pilot}
        installations:
          giessen: {version: 1.2.0, overlay: overlays/giessen/gewerbe-uebertragung.yaml}

The models check each value; :mod:`orchestrator.catalog.loading` checks what needs the files
(the bot exists, its digest, versions in order). ``docs/catalog.schema.json`` is generated
from them (:mod:`orchestrator.catalog.schema`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from orchestrator.catalog.semver import semver_key
from orchestrator.model.bot import SEMVER, SLUG
from orchestrator.states import Maturity

DIGEST = r"^[0-9a-f]{64}$"
#: ``other-bot`` or ``other-bot@2.0.0``.
SUCCESSOR = SLUG.removesuffix("$") + "(?:@" + SEMVER.removeprefix("^").removesuffix("$") + ")?$"
#: A tenant (city) as the catalog names it: lower-case letters, digits and dashes.
TENANT = SLUG

BotId = Annotated[str, StringConstraints(pattern=SLUG)]
TenantName = Annotated[str, StringConstraints(pattern=TENANT)]
Version = Annotated[str, StringConstraints(pattern=SEMVER)]


class PromotionDefaults(BaseModel):
    """What ``bots catalog promote BOT --to proven`` asks of the run history by default."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="promotion")

    min_runs: int = Field(
        20, ge=1, description="Successful runs needed in all, over the last `days` days."
    )
    min_cities: int = Field(
        2, ge=1, description="Cities (tenants) that must each have at least one successful run."
    )
    min_success_rate: float = Field(
        0.95,
        ge=0,
        le=1,
        description="Succeeded runs / runs that ended on their own (cancelled ones left out), "
        "e.g. 0.95 for 95 %.",
    )
    days: int = Field(90, ge=1, description="How many days of run history count.")


class Requirements(BaseModel):
    """What a city needs before it can run the bot."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="requires")

    connectors: list[str] = Field(
        default_factory=list,
        description="Connectors the bot uses (`bots connectors list`), e.g. [civento, queue].",
    )
    robot_labels: list[str] = Field(
        default_factory=list,
        description="Labels a robot must offer to run it, e.g. [browser] (robot.labels).",
    )


class PublishedVersion(BaseModel):
    """One published version of a bot: its files' digest and how far it is trusted."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="published version")

    version: Version = Field(description="Semantic version as in the bot.yaml published, '1.2.0'.")
    digest: str = Field(
        description="sha256 over the bot's files as published (`bots catalog show` prints it; "
        "every run records the digest of the files it ran).",
        json_schema_extra={"pattern": DIGEST},
    )
    published: date = Field(description="The day it was published, e.g. 2026-11-30.")
    maturity: Maturity = Field(
        description="experimental -> pilot -> proven -> deprecated; `proven` only by "
        "`bots catalog promote` with evidence from the run history."
    )
    successor: str | None = Field(
        None,
        description="What replaces a deprecated version: a bot of the catalog, optionally "
        "with its version ('other-bot@2.0.0'). Required when deprecated.",
        json_schema_extra={"pattern": SUCCESSOR},
    )

    @field_validator("digest")
    @classmethod
    def _digest_is_sha256(cls, value: str) -> str:
        if not re.match(DIGEST, value):
            raise ValueError(
                f"{value!r} is no sha256 digest (64 digits 0-9, a-f, as `bots catalog show` "
                "prints them)"
            )
        return value

    @field_validator("successor")
    @classmethod
    def _successor_names_a_bot(cls, value: str | None) -> str | None:
        if value is not None and not re.match(SUCCESSOR, value):
            raise ValueError(f"{value!r} names no bot: write 'other-bot' or 'other-bot@2.0.0'")
        return value

    @model_validator(mode="after")
    def _deprecated_names_successor(self) -> PublishedVersion:
        if self.maturity is Maturity.DEPRECATED and self.successor is None:
            raise ValueError(
                f"version {self.version} is deprecated: name its successor "
                "(successor: other-bot@2.0.0)"
            )
        if self.maturity is not Maturity.DEPRECATED and self.successor is not None:
            raise ValueError(
                f"version {self.version} is {self.maturity}: only a deprecated version has a "
                "successor"
            )
        return self


class Installation(BaseModel):
    """Which published version a city runs, with the file holding the city's own settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="installation")

    version: Version = Field(description="A published version of the bot, e.g. '1.2.0'.")
    overlay: str = Field(
        description="The city's overlay, relative to the catalog file: target URLs, Fachamt, "
        "secret names, parameter values, queue names, schedules "
        "(e.g. overlays/giessen/gewerbe-uebertragung.yaml)."
    )
    into: str | None = Field(
        None,
        description="The folder `install --into` put the bot's files in (relative to the "
        "catalog file, or absolute): the city's robots run INTO/BOT, and `upgrade` replaces the "
        "files there. Without it the city runs the bot's own path.",
    )


class CatalogBot(BaseModel):
    """A shared bot: where its working copy is, what it needs, its versions and their users.

    Name, owner, targets and the working copy's version are in the bot's ``bot.yaml``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="catalog bot")

    path: str = Field(
        description="The bot's working copy (its directory), relative to the catalog file, "
        "e.g. bots/gewerbe-uebertragung."
    )
    effort_hours: float | None = Field(
        None, ge=0, description="Hours it took to build (the period report's payback)."
    )
    requires: Requirements = Field(
        default_factory=Requirements, description="Connectors and robot labels it needs."
    )
    proven_against: dict[str, str] = Field(
        default_factory=dict,
        description="Target system -> the version it was proven against, e.g. {civento: '3.4'}.",
    )
    versions: list[PublishedVersion] = Field(
        min_length=1, description="Every published version, oldest first."
    )
    installations: dict[TenantName, Installation] = Field(
        default_factory=dict,
        description="Tenant (city) -> the version it runs and its overlay.",
    )

    def newest(self) -> PublishedVersion:
        """The newest published version (by semver, whatever the order written)."""
        return max(self.versions, key=lambda v: semver_key(v.version))

    def version(self, version: str) -> PublishedVersion | None:
        """The published version ``version``, or None."""
        return next((v for v in self.versions if v.version == version), None)


class Catalog(BaseModel):
    """``bot_catalog.yaml``: the bots the cities share, their versions and who uses them."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="bot catalog")

    catalog_version: Literal[2] = Field(description="The format of this file: 2.")
    promotion: PromotionDefaults = Field(
        default_factory=PromotionDefaults,
        description="What `bots catalog promote --to proven` asks of the run history by default.",
    )
    bots: dict[BotId, CatalogBot] = Field(
        default_factory=dict, description="Bot id (as in its bot.yaml) -> the shared bot."
    )
