"""Bot bundles: a bot's files in one signed archive, to share between cities.

A bundle ``<bot>-<version>.bundle`` is a gzip-compressed tar holding, in this order:

- ``manifest.json``: the bot's id, version and digest (:func:`~orchestrator.model.bot_digest`),
  the sha256 and size of every file, and what the bot needs (connectors, Python packages,
  robot labels; :mod:`orchestrator.catalog.needs`);
- ``signature``: an ed25519 signature over the manifest's bytes, with the signing public key;
- ``bot/...``: every file of the bot directory the digest covers (``bot.yaml``, hooks, flows,
  test data), nothing else.

Packing is deterministic (sorted names, fixed times, owners and modes): the same bot and key
give the same bytes. Reading checks everything before a single file is written anywhere::

    path = pack(loaded, key, Path("dist"))                # dist/posteingang-export-1.1.0.bundle
    bundle = read_bundle(path, trusted=trusted_keys(trust.keys), limits=Limits.of(trust))
    bundle.files["bot.yaml"]                              # bytes, checked against the manifest
    files = read_bundle_files(path)                       # integrity only, for `catalog diff`

The format (members, manifest, limits, safe names) is :mod:`~orchestrator.catalog.
bundle_format`, the checks :mod:`~orchestrator.catalog.bundle_check`; this module makes
bundles and offers all three. A bundle is refused (:class:`~orchestrator.errors.BundleRefused`,
naming the problem) when it is unsigned; signed by a key not trusted; altered (a file's
sha256, the digest, or the signature over the manifest does not match); holds a path outside
its folder (``../``, absolute, a drive letter, a backslash), a link, device file, FIFO or
folder entry, two names that differ only in case, a file larger than the limit, more files
or bytes than the limits (counted while decompressing, not only as declared).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.catalog.bundle_check import read_bundle
from orchestrator.catalog.bundle_format import (
    FILES,
    FORMAT,
    MANIFEST,
    SIGNATURE,
    SUFFIX,
    Bundle,
    FileEntry,
    Limits,
    Manifest,
    bundle_name,
    unsafe_name,
)
from orchestrator.catalog.keys import key_id, public_key_text
from orchestrator.catalog.needs import bot_needs
from orchestrator.errors import BundleRefused
from orchestrator.model.loader import LoadedBot, bot_files, files_digest

__all__ = [
    "FILES",
    "MANIFEST",
    "SIGNATURE",
    "SUFFIX",
    "Bundle",
    "Limits",
    "Manifest",
    "bundle_bytes",
    "bundle_name",
    "pack",
    "read_bundle",
    "read_bundle_files",
    "unsafe_name",
]


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """The bot files of the bundle at ``path``: relative POSIX path -> content.

    Checks integrity and safety as :func:`read_bundle` does (signature over the manifest,
    every file's sha256, the digest, paths, links, limits), but not whom the signing key
    belongs to: for bundles the catalog keeps itself (``catalog/bundles/``), e.g. for
    ``bots catalog diff``. Installing uses :func:`read_bundle` with the tenant's trusted keys.

    Example: ``read_bundle_files(Path("catalog/bundles/x-1.0.0.bundle"))["bot.yaml"]``.

    Raises:
        BundleRefused: the bundle is unsigned, altered, unsafe or too large.
    """
    return read_bundle(path).files


def pack(
    bot: LoadedBot, key: Ed25519PrivateKey, out_dir: Path, limits: Limits | None = None
) -> Path:
    """Write the signed bundle of ``bot`` into ``out_dir``; returns its path.

    The file appears complete or not at all (written beside, then renamed).

    Raises:
        BundleRefused: the bot holds a link, includes flows outside its directory, changed
            since it was loaded, or exceeds the limits.
    """
    data = bundle_bytes(bot, key, limits or Limits.of())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / bundle_name(bot.id, bot.definition.version)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=out_dir)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def bundle_bytes(bot: LoadedBot, key: Ed25519PrivateKey, limits: Limits) -> bytes:
    """The bundle of ``bot`` signed with ``key``, as bytes (deterministic)."""
    files = _packable_files(bot, limits)
    manifest = Manifest(
        format=FORMAT,
        bot=bot.id,
        version=bot.definition.version,
        digest=bot.digest,
        files={
            name: FileEntry(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            for name, data in files.items()
        },
        requires=bot_needs(bot),
    )
    manifest_bytes = _canonical(manifest.model_dump(mode="json"))
    public = key.public_key()
    signature = {
        "algorithm": "ed25519",
        "key": public_key_text(public),
        "key_id": key_id(public),
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode("ascii"),
    }
    members = {MANIFEST: manifest_bytes, SIGNATURE: _canonical(signature)}
    members.update({FILES + name: data for name, data in files.items()})
    return _archive(members)


# --------------------------------------------------------------------------- writing


def _packable_files(bot: LoadedBot, limits: Limits) -> dict[str, bytes]:
    """The bot's files as the digest covers them; links, outside includes and sizes refused."""
    outside = sorted(ref for ref in bot.subflows if ref.startswith("_shared/"))
    if outside:
        raise BundleRefused(
            f"cannot pack {bot.id}: it includes {', '.join(outside)} from outside its directory; "
            "a bundle holds the bot's own directory only: copy the flow into the bot"
        )
    files: dict[str, bytes] = {}
    for name, file in bot_files(bot.directory).items():
        link = _link_in(bot.directory, file)
        if link is not None:
            raise BundleRefused(
                f"cannot pack {bot.id}: {link} is a symbolic link; a bundle holds plain files "
                "only: replace the link by the file"
            )
        problem = unsafe_name(name)
        if problem is not None:
            raise BundleRefused(f"cannot pack {bot.id}: the file name {name!r} has {problem}")
        files[name] = file.read_bytes()
    _check_sizes(f"cannot pack {bot.id}:", files, limits)
    if files_digest(files) != bot.digest:
        raise BundleRefused(f"cannot pack {bot.id}: its files changed while it was packed")
    return files


def _link_in(directory: Path, file: Path) -> Path | None:
    """``file`` or a folder between it and ``directory`` that is a symbolic link."""
    here = file
    while here != directory and here != here.parent:
        if here.is_symlink():
            return here
        here = here.parent
    return None


def _check_sizes(prefix: str, files: Mapping[str, bytes], limits: Limits) -> None:
    if len(files) > limits.max_files:
        raise BundleRefused(f"{prefix} {len(files)} files, more than {limits.max_files}")
    for name, data in files.items():
        if len(data) > limits.max_file_bytes:
            raise BundleRefused(
                f"{prefix} {name} has {len(data)} bytes, more than {limits.max_file_bytes}"
            )
    total = sum(len(data) for data in files.values())
    if total > limits.max_total_bytes:
        raise BundleRefused(f"{prefix} {total} bytes in all, more than {limits.max_total_bytes}")


def _canonical(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _archive(members: Mapping[str, bytes]) -> bytes:
    """A gzip'd tar of ``members`` in the given order, with fixed times, owners and modes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as zipped:
        zipped.write(raw.getvalue())
    return compressed.getvalue()
