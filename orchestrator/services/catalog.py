"""The catalog of shared bots: read it, promote a version, publish, verify, install, upgrade.

Reading is everyone's; promoting and publishing need admin or developer, installing and
upgrading admin or operator of the tenant (the one tenant rule), whose trust decides whether
a bundle is verified. Example::

    with open_context(settings, token) as ctx:
        result = install_bot(ctx, "gewerbe-uebertragung@1.2.0", tenant="giessen", into=None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.services.access import Permission
from orchestrator.services.context import Context

if TYPE_CHECKING:
    from orchestrator.catalog.bundle import Bundle
    from orchestrator.catalog.diff import VersionDiff
    from orchestrator.catalog.installing import InstallResult
    from orchestrator.catalog.loading import CatalogFile
    from orchestrator.catalog.promotion import Promotion
    from orchestrator.catalog.publishing import Published
    from orchestrator.model.loader import LoadedBot
    from orchestrator.states import Maturity


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle the tenant accepts, and what of its needs are missing here."""

    bundle: Bundle
    missing: list[str]
    tenant: str


def read_catalog(ctx: Context) -> CatalogFile:
    """The catalog (setting ``catalog_file``), to list or show."""
    from orchestrator.catalog.loading import open_catalog

    ctx.allowed(Permission.READ_CATALOG)
    return open_catalog(ctx.settings.catalog_file)


def version_changes(ctx: Context, bot: str, old: str, new: str) -> VersionDiff:
    """What changed in ``bot`` from version ``old`` to ``new`` (published ones from their
    bundles, the working copy's from the bot's directory)."""
    from orchestrator.catalog.diff import diff_versions
    from orchestrator.catalog.files import version_files

    catalog = read_catalog(ctx)
    return diff_versions(version_files(catalog, bot, old), version_files(catalog, bot, new))


def promote_bot(
    ctx: Context,
    bot: str,
    target: Maturity,
    *,
    version: str | None,
    successor: str | None,
    overrides: Mapping[str, Any],
) -> Promotion:
    """Move a published version to ``target`` by the run history's evidence; an accepted
    move is written into the catalog and audited."""
    from orchestrator.catalog.promotion import promote

    ctx.allowed(Permission.PROMOTE_BOT)
    return promote(
        ctx.store,
        ctx.settings.catalog_file,
        bot,
        target,
        actor=ctx.actor.actor,
        version=version,
        successor=successor,
        overrides=overrides,
        lint_severities=ctx.settings.lint.rules,
    )


def publish_bot(ctx: Context, loaded: LoadedBot, bundle: Path) -> Published:
    """Record ``loaded``'s version (packed into ``bundle``) in the catalog as experimental,
    with a copy of the bundle."""
    from orchestrator.catalog.publishing import publish

    ctx.allowed(Permission.PUBLISH_BOT)
    return publish(ctx.settings, loaded, bundle, store=ctx.store, actor=ctx.actor.actor)


def verify_bundle(ctx: Context, file: Path, tenant: str | None) -> VerifiedBundle:
    """Check a bundle as install does, writing nothing.

    Raises:
        BundleRefused: unsigned, untrusted by the tenant, altered, unsafe or too large.
    """
    from orchestrator.catalog.installing import verify

    where = ctx.on_tenant(Permission.VERIFY_BUNDLE, tenant)
    bundle, missing = verify(ctx.settings, file, tenant=where)
    return VerifiedBundle(bundle, missing, where)


def install_bot(ctx: Context, ref: str, *, tenant: str | None, into: Path | None) -> InstallResult:
    """Install ``ref`` (BOT, BOT@VERSION or a bundle file) for the tenant."""
    from orchestrator.catalog.installing import install

    where = ctx.on_tenant(Permission.INSTALL_BOT, tenant)
    return install(
        ctx.settings, ref, tenant=where, store=ctx.store, actor=ctx.actor.actor, into=into
    )


def upgrade_bot(
    ctx: Context,
    bot: str,
    *,
    to: str,
    tenant: str | None,
    bundle: Path | None,
    into: Path | None,
) -> InstallResult:
    """Move the tenant's installation of ``bot`` to version ``to``, keeping its overlay."""
    from orchestrator.catalog.installing import upgrade

    where = ctx.on_tenant(Permission.UPGRADE_BOT, tenant)
    return upgrade(
        ctx.settings,
        bot,
        tenant=where,
        to=to,
        store=ctx.store,
        actor=ctx.actor.actor,
        bundle_file=bundle,
        into=into,
    )
