"""The files of a catalog bot's version: the working copy, or a published version's bundle.

The working copy (the bot's directory) is the newest version, or a new one not yet
published; older published versions are kept as bundles in ``catalog/bundles/`` beside the
catalog file (``bots catalog pack`` writes them). Both come back as one map, relative POSIX
path -> content, checked against the digest the catalog gives the version::

    files = version_files(catalog, "gewerbe-uebertragung", "1.1.0")
    files["bot.yaml"].decode()

:func:`materialize` writes such a map into a directory, for tools that read bot directories
(the linter).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from orchestrator.catalog.bundle import bundle_name, read_bundle_files
from orchestrator.catalog.loading import CatalogFile
from orchestrator.errors import InputError
from orchestrator.model.loader import bot_files, files_digest

#: Where published versions' bundles lie, relative to the catalog file's directory.
BUNDLES_DIR = PurePosixPath("catalog/bundles")


def directory_files(directory: Path) -> dict[str, bytes]:
    """The files of a bot directory that its digest covers, by relative POSIX path."""
    return {name: file.read_bytes() for name, file in bot_files(directory).items()}


def bundle_path(catalog: CatalogFile, bot_id: str, version: str) -> Path:
    """Where the bundle of ``bot_id`` ``version`` lies: ``catalog/bundles/BOT-VERSION.bundle``."""
    return catalog.base / BUNDLES_DIR / bundle_name(bot_id, version)


def version_files(catalog: CatalogFile, bot_id: str, version: str) -> dict[str, bytes]:
    """The files of ``bot_id`` at ``version``: the working copy's when it is that version
    (published with its digest, or not yet published), else the version's bundle.

    Raises:
        BotNotFound: the catalog has no such bot, or neither the working copy nor a published
            version is ``version``.
        InputError: the version's bundle is missing, or its files do not have the digest the
            catalog gives the version.
        BundleRefused: the bundle is unsigned, untrusted, altered or unsafe.
    """
    copy = catalog.working_copy(bot_id)
    if copy.version == version:
        known = catalog.entry(bot_id).version(version)
        if known is None or known.digest == copy.digest:
            return directory_files(copy.directory)
    published = catalog.published(bot_id, version)  # BotNotFound: never published
    path = bundle_path(catalog, bot_id, version)
    if not path.is_file():
        raise InputError(
            f"the files of {bot_id} {version} are not here: its bundle {path} is missing "
            f"(the working copy is {copy.version}; `bots catalog pack` writes a bundle)"
        )
    files = read_bundle_files(path)
    digest = files_digest(files)
    if digest != published.digest:
        raise InputError(
            f"the bundle {path} holds files with digest {digest}, but the catalog publishes "
            f"{bot_id} {version} with digest {published.digest}"
        )
    return files


def materialize(files: Mapping[str, bytes], directory: Path) -> Path:
    """Write ``files`` (relative POSIX path -> content) into ``directory``; returns it.

    Raises:
        InputError: a path leads outside ``directory`` (absolute, or with ``..``).
    """
    for name, content in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise InputError(f"{name!r} is no path inside a bot directory")
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return directory
