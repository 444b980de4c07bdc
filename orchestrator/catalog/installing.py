"""Install a catalog bot for a city, upgrade it, verify a bundle: the library side of
``bots catalog install|upgrade|verify``.

An installation says which version of a bot a city (tenant) runs with which overlay
(:mod:`orchestrator.catalog.overlays`)::

    result = install(settings, "posteingang-export@1.1.0", tenant="marburg", actor=who)
    result = install(settings, "dist/posteingang-export-1.1.0.bundle", tenant="marburg", ...)
    result = upgrade(settings, "posteingang-export", tenant="marburg", to="1.2.0", actor=who)
    result.overlay, result.added, result.to_fill, result.changes

The bot's files come from the catalog's working copy when it is that version, else from a
bundle (the catalog's own ``catalog/bundles/``, or a file given), verified with the tenant's
trusted keys before anything is written, its needs (connectors, packages) checked, its files
put in place all at once (:mod:`orchestrator.catalog.placing`). Then the overlay skeleton is
written or completed, and the installation recorded in the catalog (comments kept) and in
the audit trail. A refused install leaves everything as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from orchestrator.catalog.bundle import SUFFIX, Bundle, Limits, read_bundle
from orchestrator.catalog.diff import diff_lines, diff_versions
from orchestrator.catalog.editing import CatalogEdit, edit_catalog
from orchestrator.catalog.files import bundle_path, directory_files, version_files
from orchestrator.catalog.keys import trusted_keys
from orchestrator.catalog.loading import CatalogFile, open_catalog
from orchestrator.catalog.model import Installation
from orchestrator.catalog.needs import missing_needs
from orchestrator.catalog.overlays import (
    bot_facts,
    check_overlay_file,
    complete_overlay,
    overlay_path,
    overlay_problems,
    read_overlay,
)
from orchestrator.catalog.placing import Placed, place_bundle
from orchestrator.catalog.semver import newer
from orchestrator.errors import BotsError, BundleRefused, InputError, Problem
from orchestrator.model.loader import bot_digest, files_digest
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.store import RunStore


@dataclass(frozen=True)
class InstallResult:
    """What ``install`` or ``upgrade`` did."""

    bot: str
    version: str
    tenant: str
    directory: Path
    files: str  # "in place", "written" or "replaced"
    overlay: Path
    added: list[str] = field(default_factory=list)
    to_fill: list[Problem] = field(default_factory=list)
    previous: str | None = None
    changes: list[str] = field(default_factory=list)
    signer: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "bot": self.bot,
            "version": self.version,
            "previous": self.previous,
            "tenant": self.tenant,
            "directory": str(self.directory),
            "files": self.files,
            "signer": self.signer,
            "overlay": str(self.overlay),
            "added": self.added,
            "to_fill": [str(p) for p in self.to_fill],
            "changes": self.changes,
            "notes": self.notes,
        }


@dataclass
class _Source:
    """Where the files of the version to install come from, and where they go."""

    bot: str
    version: str
    files: Mapping[str, bytes]
    target: Path
    bundle: Bundle | None = None
    into: Path | None = None  # the folder given to --into, recorded with the installation


def trust_of(settings: Settings, tenant: str) -> tuple[dict[str, Ed25519PublicKey], Limits]:
    """The keys ``tenant`` trusts and its size limits (setting ``catalog_trust``)."""
    trust = settings.catalog_trust_for(tenant)
    return trusted_keys(trust.keys), Limits.of(trust)


def verify(settings: Settings, path: Path, *, tenant: str) -> tuple[Bundle, list[str]]:
    """The bundle at ``path`` if ``tenant`` accepts it, and what of its needs are missing here.

    Raises:
        BundleRefused: the bundle is unsigned, untrusted, altered, unsafe or too large.
    """
    trusted, limits = trust_of(settings, tenant)
    bundle = read_bundle(path, trusted=trusted, limits=limits, truster=f"tenant {tenant!r}")
    return bundle, missing_needs(bundle.manifest.requires)


def install(
    settings: Settings,
    ref: str,
    *,
    tenant: str,
    store: RunStore,
    actor: str,
    into: Path | None = None,
) -> InstallResult:
    """Install ``ref`` (``BOT``, ``BOT@VERSION`` or a bundle file) for ``tenant``.

    Raises:
        BundleRefused: the bundle is refused, its needs are missing, or the bot directory
            holds other files (``upgrade`` replaces them).
        BotNotFound: the catalog has no such bot or version.
        InputError: the tenant has another version installed, or the version's files are
            not available.
    """
    catalog = open_catalog(settings.catalog_file)
    if ref.endswith(SUFFIX) or Path(ref).is_file():
        source = _from_bundle_file(settings, catalog, Path(ref), tenant, into)
    else:
        bot_id, _, version = ref.partition("@")
        version = version or catalog.entry(bot_id).newest().version
        catalog.published(bot_id, version)  # BotNotFound: never published
        source = _from_catalog(settings, catalog, bot_id, version, tenant, into)
    installed = catalog.catalog.bots.get(source.bot)
    current = installed.installations.get(tenant) if installed is not None else None
    if current is not None and current.version != source.version:
        raise InputError(
            f"{tenant} runs {source.bot} {current.version}: change the version with `bots "
            f"catalog upgrade {source.bot} --tenant {tenant} --to {source.version}`"
        )
    files = _files_state(source, replace=False)
    return _apply(settings, catalog, source, tenant, store, actor, files=files, event="install")


def upgrade(
    settings: Settings,
    bot_id: str,
    *,
    tenant: str,
    to: str,
    store: RunStore,
    actor: str,
    bundle_file: Path | None = None,
    into: Path | None = None,
) -> InstallResult:
    """Move ``tenant``'s installation of ``bot_id`` to version ``to``, keeping its overlay
    (entries the new version needs are added, none removed); ``changes`` says what changed.

    Raises:
        InputError: the bot is not installed for ``tenant``, or already at ``to``.
        BundleRefused, BotNotFound: as :func:`install`.
    """
    catalog = open_catalog(settings.catalog_file)
    current = catalog.entry(bot_id).installations.get(tenant)
    if current is None:
        raise InputError(
            f"{bot_id} is not installed for {tenant}: use `bots catalog install "
            f"{bot_id}@{to} --tenant {tenant}`"
        )
    if current.version == to:
        raise InputError(f"{tenant} runs {bot_id} {to} already")
    if into is None and current.into is not None:  # where the city installed it
        into = catalog.base / current.into
    if bundle_file is not None:
        source = _from_bundle_file(settings, catalog, bundle_file, tenant, into)
        if (source.bot, source.version) != (bot_id, to):
            raise BundleRefused(
                f"bundle {bundle_file} holds {source.bot} {source.version}, not {bot_id} {to}"
            )
    else:
        catalog.published(bot_id, to)
        source = _from_catalog(settings, catalog, bot_id, to, tenant, into)
    files = _files_state(source, replace=True)
    changes = _changes(catalog, bot_id, current.version, source)  # before files are replaced
    result = _apply(settings, catalog, source, tenant, store, actor, files=files, event="upgrade")
    notes = result.notes + _others_left_behind(catalog, source, tenant, files)
    return replace(result, previous=current.version, changes=changes, notes=notes)


# --------------------------------------------------------------------------- sources


def _from_catalog(
    settings: Settings,
    catalog: CatalogFile,
    bot_id: str,
    version: str,
    tenant: str,
    into: Path | None,
) -> _Source:
    """The published ``version``: the working copy when it is that version, else its bundle."""
    published = catalog.published(bot_id, version)
    copy = catalog.working_copy(bot_id)
    if copy.version == version and copy.digest == published.digest and into is None:
        return _Source(bot_id, version, directory_files(copy.directory), copy.directory)
    path = bundle_path(catalog, bot_id, version)
    if not path.is_file():
        raise InputError(
            f"the files of {bot_id} {version} are not here: the working copy is "
            f"{copy.version} and the bundle {path} is missing"
        )
    bundle = verify_needs(*verify(settings, path, tenant=tenant))
    if bundle.manifest.digest != published.digest:
        raise BundleRefused(
            f"bundle {path} holds digest {bundle.manifest.digest}, the catalog "
            f"publishes {bot_id} {version} as {published.digest}"
        )
    if into is None and copy.version is not None and newer(copy.version, version):
        raise InputError(
            f"{bot_id} {version} is older than the working copy {copy.directory} "
            f"({copy.version}): give --into DIR, a bot directory for the robots of {tenant}"
        )
    target = Path(into) / bot_id if into is not None else copy.directory
    return _Source(bot_id, version, bundle.files, target, bundle, into)


def _from_bundle_file(
    settings: Settings, catalog: CatalogFile, path: Path, tenant: str, into: Path | None
) -> _Source:
    """A bundle file from elsewhere: verified, its needs checked, its version's digest the
    catalog's where the catalog publishes it."""
    bundle = verify_needs(*verify(settings, path, tenant=tenant))
    entry = catalog.catalog.bots.get(bundle.bot)
    published = entry.version(bundle.version) if entry is not None else None
    if published is not None and published.digest != bundle.manifest.digest:
        raise BundleRefused(
            f"bundle {path} holds {bundle.bot} {bundle.version} with digest "
            f"{bundle.manifest.digest}, but the catalog publishes that version with digest "
            f"{published.digest}: a published version never changes"
        )
    if into is not None:
        target = Path(into) / bundle.bot
    elif entry is not None:
        target = catalog.bot_dir(bundle.bot)
    else:
        target = settings.bot_dirs[0] / bundle.bot
    return _Source(bundle.bot, bundle.version, bundle.files, target, bundle, into)


def verify_needs(bundle: Bundle, missing: list[str]) -> Bundle:
    """``bundle``, unless this installation lacks what it needs.

    Raises:
        BundleRefused: a connector or Python package the bot needs is missing.
    """
    if missing:
        raise BundleRefused(
            f"bundle {bundle.path}: {bundle.bot} {bundle.version} needs what "
            "is missing here: " + "; ".join(missing)
        )
    return bundle


def _files_state(source: _Source, *, replace: bool) -> str:
    """Whether the source's files are in place already, to be written, or replace others."""
    if source.bundle is None:
        return "in place"
    target = source.target
    if not target.exists():
        return "written"
    if target.is_dir() and bot_digest(target) == source.bundle.manifest.digest:
        return "in place"
    if not replace:
        raise BundleRefused(
            f"{target} holds other files of {source.bot}: `bots catalog upgrade {source.bot} "
            f"--tenant ... --to {source.version}` replaces them, or give --into DIR"
        )
    return "replaced"


# --------------------------------------------------------------------------- applying


def _apply(
    settings: Settings,
    catalog: CatalogFile,
    source: _Source,
    tenant: str,
    store: RunStore,
    actor: str,
    *,
    files: str,
    event: str,
) -> InstallResult:
    """Record, put the files in place, complete the overlay, audit, commit; or nothing."""
    existing = catalog.catalog.bots.get(source.bot)
    current = existing.installations.get(tenant) if existing is not None else None
    relative = current.overlay if current is not None else overlay_path(tenant, source.bot)
    check_overlay_file(catalog.base / relative)  # before anything is written
    edit = _stage_record(catalog, source, tenant, relative)
    overlay = catalog.base / relative
    overlay_before = overlay.read_bytes() if overlay.is_file() else None
    placed: Placed | None = None
    try:
        if files != "in place" and source.bundle is not None:
            placed = place_bundle(source.bundle, source.target)
        facts = bot_facts(source.files)
        added = complete_overlay(overlay, facts, tenant=tenant, version=source.version)
        store.audit(
            f"catalog {event}",
            tenant=tenant,
            actor=actor,
            data={
                "bot": source.bot,
                "version": source.version,
                "overlay": relative,
                "digest": files_digest(source.files),
                "files": files,
                "signer": source.bundle.key_id if source.bundle is not None else None,
            },
        )
        edit.commit()
    except BaseException:
        # Until the catalog records the change, the previous files and overlay are kept.
        if placed is not None:
            placed.undo()
        if overlay_before is None:
            overlay.unlink(missing_ok=True)
        else:
            overlay.write_bytes(overlay_before)
        raise
    finally:
        edit.discard()
    if placed is not None:
        placed.keep()
    to_fill = overlay_problems(read_overlay(overlay), facts, tenant=tenant, version=source.version)
    return InstallResult(
        bot=source.bot,
        version=source.version,
        tenant=tenant,
        directory=source.target,
        files=files,
        overlay=overlay,
        added=added,
        to_fill=to_fill,
        signer=source.bundle.key_id if source.bundle is not None else None,
        notes=_bot_dir_notes(settings, source.target),
    )


def _stage_record(catalog: CatalogFile, source: _Source, tenant: str, overlay: str) -> CatalogEdit:
    """The installation (and a version or bot the catalog lacks) in the catalog, staged."""
    entry = catalog.catalog.bots.get(source.bot)
    bundle = source.bundle

    def change(data: Any) -> None:
        bots = data.setdefault("bots", CommentedMap())
        if source.bot not in bots:
            assert bundle is not None  # catalog sources name catalog bots
            bots[source.bot] = _new_entry(catalog, source, bundle)
            bots.fa.set_block_style()
        elif entry is not None and entry.version(source.version) is None:
            assert bundle is not None
            bots[source.bot]["versions"].append(_new_version(bundle))
        record = CommentedMap([("version", source.version), ("overlay", overlay)])
        if source.into is not None:
            record["into"] = _catalog_relative(catalog, source.into)
        record.fa.set_flow_style()
        installations = bots[source.bot].setdefault("installations", CommentedMap())
        installations[tenant] = record
        installations.fa.set_block_style()

    return edit_catalog(catalog.path, change)


def _new_version(bundle: Bundle) -> CommentedMap:
    return CommentedMap(
        [
            ("version", bundle.version),
            ("digest", bundle.manifest.digest),
            ("published", date.today()),
            ("maturity", "experimental"),
        ]
    )


def _new_entry(catalog: CatalogFile, source: _Source, bundle: Bundle) -> CommentedMap:
    needs = bundle.manifest.requires
    requires = CommentedMap(
        [("connectors", list(needs.connectors)), ("robot_labels", list(needs.robot_labels))]
    )
    for key in ("connectors", "robot_labels"):
        requires[key] = _flow_list(requires[key])
    path = Path(os.path.relpath(source.target.resolve(), catalog.base.resolve())).as_posix()
    return CommentedMap(
        [("path", path), ("requires", requires), ("versions", [_new_version(bundle)])]
    )


def _flow_list(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _changes(catalog: CatalogFile, bot_id: str, old: str, source: _Source) -> list[str]:
    """What changed from ``old`` to the source's version, as ``bots catalog diff`` tells it."""
    try:
        before = version_files(catalog, bot_id, old)
    except BotsError as exc:
        return [f"(the files of {old} are not here to compare: {exc})"]
    return diff_lines(diff_versions(before, source.files))


def _others_left_behind(
    catalog: CatalogFile, source: _Source, tenant: str, files: str
) -> list[str]:
    """Cities whose installation ran from the files just replaced."""
    if files != "replaced":
        return []
    entry = catalog.catalog.bots.get(source.bot)
    replaced = source.target.resolve()
    others = {
        city: installed.version
        for city, installed in (entry.installations.items() if entry is not None else [])
        if city != tenant
        and installed.version != source.version
        and installed_dir(catalog, source.bot, installed).resolve() == replaced
    }
    return [
        f"{city} still has {source.bot} {version} installed: its runs are refused until "
        f"`bots catalog upgrade {source.bot} --tenant {city} --to {source.version}`"
        for city, version in sorted(others.items())
    ]


def installed_dir(catalog: CatalogFile, bot_id: str, installation: Installation) -> Path:
    """Where a city's robots find its installed files of ``bot_id``."""
    if installation.into is not None:
        return catalog.base / installation.into / bot_id
    return catalog.bot_dir(bot_id)


def _catalog_relative(catalog: CatalogFile, folder: Path) -> str:
    """``folder`` relative to the catalog file's directory when inside it, else absolute."""
    absolute = Path(folder).resolve()
    try:
        return absolute.relative_to(catalog.base.resolve()).as_posix()
    except ValueError:
        return str(absolute)


def _bot_dir_notes(settings: Settings, directory: Path) -> list[str]:
    resolved = directory.resolve().parent
    if any(Path(d).resolve() == resolved for d in settings.bot_dirs):
        return []
    dirs = ", ".join(str(d) for d in settings.bot_dirs)
    return [
        f"{directory.parent} is not among the bot directories ({dirs}): robots find the "
        "bot there only with that directory in their setting bot_dirs"
    ]
