"""Settings of the shared catalog: trusted bundle keys, and the `bots lint` severities."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
