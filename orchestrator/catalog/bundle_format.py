"""The bundle format: its members, the manifest, size limits, which names are safe.

See :mod:`orchestrator.catalog.bundle` for what a bundle holds and how it is made and checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.catalog.needs import Needs
from orchestrator.model.bot import SEMVER, SLUG
from orchestrator.settings import CatalogTrust

FORMAT = "kommune-bots-bundle/1"
SUFFIX = ".bundle"
MANIFEST = "manifest.json"
SIGNATURE = "signature"
#: The folder of the bundle holding the bot's files.
FILES = "bot/"
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
)
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    """How large a bundle may be: per file, in all, and how many files."""

    max_file_bytes: int
    max_total_bytes: int
    max_files: int

    @classmethod
    def of(cls, trust: CatalogTrust | None = None) -> Limits:
        """The limits a tenant's ``catalog_trust`` settings set (default: the defaults)."""
        trust = trust if trust is not None else CatalogTrust()
        return cls(trust.max_file_bytes, trust.max_total_bytes, trust.max_files)


class FileEntry(BaseModel):
    """One file of the bot as the manifest lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the content (hex).")
    size: int = Field(ge=0, description="Size in bytes.")


class Manifest(BaseModel):
    """``manifest.json``: what the bundle holds and what the bot needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["kommune-bots-bundle/1"] = Field(description="The bundle format.")
    # Checked as bot.yaml checks them: the id and version become folder and file names.
    bot: str = Field(pattern=SLUG, max_length=100, description="The bot's id.")
    version: str = Field(
        pattern=SEMVER, max_length=100, description="The bot's version (bot.yaml)."
    )
    digest: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="bot_digest over the files: what runs record."
    )
    files: dict[str, FileEntry] = Field(description="Relative path -> sha256 and size.")
    requires: Needs = Field(description="Connectors, Python packages and robot labels needed.")


@dataclass(frozen=True)
class Bundle:
    """A bundle that passed every check: its manifest, its files, who signed it."""

    path: Path
    manifest: Manifest
    files: dict[str, bytes]
    key_id: str
    #: The bundle file's bytes, as read and checked.
    data: bytes = field(repr=False)

    @property
    def bot(self) -> str:
        return self.manifest.bot

    @property
    def version(self) -> str:
        return self.manifest.version


def bundle_name(bot_id: str, version: str) -> str:
    """The file name of a bundle: ``posteingang-export-1.1.0.bundle``."""
    return f"{bot_id}-{version}{SUFFIX}"


def unsafe_name(name: str) -> str | None:
    """Why ``name`` is no safe relative path inside a folder, or None when it is.

    Example: ``unsafe_name("bot/../../etc/cron.d/x")`` is ``"'..' leads outside the folder"``.
    """
    if not name:
        return "an empty name"
    if any(ord(char) < 32 or char == "\x7f" for char in name):
        return "control characters in the name"
    if "\\" in name:
        return "a backslash (a Windows path separator)"
    if name.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(name):
        return "a drive letter"
    parts = name.split("/")
    if ".." in parts:
        return "'..' leads outside the folder"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' path segment"
    if any(":" in part for part in parts):
        return "a colon (a drive letter or a Windows stream)"
    if any(part.split(".")[0].upper() in _WINDOWS_RESERVED for part in parts):
        return "a name Windows reserves for devices"
    if any(part.endswith((".", " ")) for part in parts):
        return "a name ending in '.' or ' ' (Windows drops them: another file's name)"
    # Python would run compiled code in place of the signed source beside it.
    if "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
        return "compiled Python (__pycache__, .pyc): a bundle holds sources only"
    return None
