"""Publish a packed bundle: its version into the catalog, a copy into ``catalog/bundles/``.

``bots catalog pack BOT --publish`` packs the working copy and publishes it here::

    result = publish(settings, loaded, Path("dist/x-1.2.0.bundle"), store=store, actor=who)
    result.version, result.copy     # "1.2.0", catalog/bundles/x-1.2.0.bundle

A published version never changes: publishing a version again with other files is refused
(raise the version), with the same files it only keeps the copy. The new version starts as
``experimental``; ``bots catalog promote`` moves it on. The catalog keeps every published
bundle, so that ``bots catalog diff`` and ``install BOT@VERSION`` find older versions.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from orchestrator.catalog.bundle import read_bundle
from orchestrator.catalog.editing import edit_catalog
from orchestrator.catalog.files import bundle_path
from orchestrator.catalog.loading import open_catalog
from orchestrator.catalog.semver import newer
from orchestrator.errors import BundleRefused, InputError
from orchestrator.model.loader import LoadedBot
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.store import RunStore


@dataclass(frozen=True)
class Published:
    """A version published (``new``) or found published with the same files already."""

    bot: str
    version: str
    digest: str
    copy: Path
    new: bool


def publish(
    settings: Settings, bot: LoadedBot, bundle: Path, *, store: RunStore, actor: str
) -> Published:
    """Record ``bot``'s version (packed into ``bundle``) in the catalog and keep a copy.

    Raises:
        InputError: that version is published with other files, or is not newer than the
            newest published one.
        BundleRefused: ``bundle`` is not intact, or holds another bot or other files.
    """
    catalog = open_catalog(settings.catalog_file)
    checked = read_bundle(bundle)
    version, digest = checked.version, checked.manifest.digest
    if (checked.bot, digest) != (bot.id, bot.digest):
        raise BundleRefused(
            f"bundle {bundle} holds {checked.bot} with digest {digest}, not {bot.id} as "
            f"{bot.directory} holds it (digest {bot.digest}): pack it again"
        )
    copy = bundle_path(catalog, bot.id, version)
    entry = catalog.catalog.bots.get(bot.id)
    known = entry.version(version) if entry is not None else None
    if known is not None:
        if known.digest != digest:
            raise InputError(
                f"{bot.id} {version} is published with digest {known.digest}; these files have "
                f"digest {digest}: a published version never changes, raise 'version' in "
                f"{bot.path}"
            )
        _keep_copy(checked.data, copy)
        return Published(bot.id, version, digest, copy, new=False)
    newest = entry.newest().version if entry is not None else None
    if newest is not None and not newer(version, newest):
        raise InputError(
            f"{bot.id} {version} is not newer than the newest published version "
            f"{newest}: raise 'version' in {bot.path}"
        )
    record = CommentedMap(
        [
            ("version", version),
            ("digest", digest),
            ("published", date.today()),
            ("maturity", "experimental"),
        ]
    )

    def change(data: Any) -> None:
        bots = data.setdefault("bots", CommentedMap())
        if bot.id in bots:
            bots[bot.id]["versions"].append(record)
            return
        path = Path(os.path.relpath(bot.directory, catalog.base.resolve())).as_posix()
        requires = CommentedMap()
        for key, values in (
            ("connectors", checked.manifest.requires.connectors),
            ("robot_labels", checked.manifest.requires.robot_labels),
        ):
            listed = CommentedSeq(values)
            listed.fa.set_flow_style()
            requires[key] = listed
        bots[bot.id] = CommentedMap(
            [("path", path), ("requires", requires), ("versions", [record])]
        )
        bots.fa.set_block_style()

    edit = edit_catalog(catalog.path, change)
    try:
        _keep_copy(checked.data, copy)
        store.audit(
            "catalog publish",
            tenant=None,
            actor=actor,
            data={"bot": bot.id, "version": version, "digest": digest, "signer": checked.key_id},
        )
        edit.commit()
    finally:
        edit.discard()
    return Published(bot.id, version, digest, copy, new=True)


def _keep_copy(data: bytes, copy: Path) -> None:
    """``data``, the checked bundle's bytes, written to ``copy`` (complete or not at all);
    nothing when it is there."""
    if copy.is_file() and copy.read_bytes() == data:
        return
    copy.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{copy.name}.", dir=copy.parent)
    try:
        with os.fdopen(handle, "wb") as written:
            written.write(data)
        os.chmod(name, 0o644)
        os.replace(name, copy)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
