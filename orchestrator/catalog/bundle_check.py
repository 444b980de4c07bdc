"""Reading a bundle: every member checked while the archive is read, nothing written.

The library side of ``bots catalog verify`` (and the first step of ``install``); the checks
and their messages are listed in :mod:`orchestrator.catalog.bundle`::

    bundle = read_bundle(path, trusted=trusted_keys(trust.keys), limits=Limits.of(trust))
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from orchestrator.catalog.bundle_format import (
    FILES,
    MANIFEST,
    SIGNATURE,
    Bundle,
    Limits,
    Manifest,
    unsafe_name,
)
from orchestrator.catalog.keys import key_id, public_key_text
from orchestrator.errors import BundleRefused
from orchestrator.model.loader import files_digest

_CHUNK = 64 * 1024
#: Room for the manifest, the signature and a tar header per member, besides the files.
_OVERHEAD_BYTES = 1_000_000


def read_bundle(
    path: Path,
    *,
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
    limits: Limits | None = None,
    truster: str = "this tenant",
) -> Bundle:
    """Read and check the bundle at ``path`` in memory; nothing is written.

    Args:
        path: The bundle file.
        trusted: Key id -> public key of the keys whose signatures are accepted; None:
            any valid signature (integrity only, see :func:`read_bundle_files`).
        limits: Size limits (default: :class:`Limits`).
        truster: Who trusts the keys, for the message (``tenant 'marburg'``).

    Raises:
        BundleRefused: the message names the bundle and the problem (module docstring).
    """
    path = Path(path)
    limits = limits or Limits.of()
    members, data = _read_members(path, limits)
    manifest_bytes = members.pop(MANIFEST, None)
    if manifest_bytes is None:
        raise _refused(path, f"holds no {MANIFEST}: it is no bot bundle")
    signature = members.pop(SIGNATURE, None)
    if signature is None:
        raise _refused(path, "is unsigned (it has no signature): only signed bundles are used")
    public = _check_signature(path, manifest_bytes, signature)
    signer = key_id(public)
    if trusted is not None and not _is_trusted(public, trusted):
        known = ", ".join(sorted(trusted)) or "none"
        raise _refused(
            path,
            f"is signed by key {signer}, which {truster} does not trust (trusted keys: "
            f"{known}; add the signer's public key to catalog_trust.keys)",
        )
    manifest = _parse_manifest(path, manifest_bytes)
    files = {name.removeprefix(FILES): data for name, data in members.items()}
    _check_files(path, manifest, files)
    return Bundle(path, manifest, files, signer, data)


def _refused(path: Path, problem: str) -> BundleRefused:
    return BundleRefused(f"bundle {path}: {problem}")


class _Capped(io.RawIOBase):
    """A stream that refuses to give more than ``budget`` bytes: a decompression bomb stops
    here, whatever the archive's headers declare."""

    def __init__(self, source: gzip.GzipFile | BinaryIO, budget: int, path: Path) -> None:
        self._source, self._left, self._path = source, budget, path

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._source.read(wanted)
        self._left -= len(data)
        if self._left < 0:
            raise _refused(self._path, "unpacks to more bytes than the size limit allows")
        return data


def _read_members(path: Path, limits: Limits) -> tuple[dict[str, bytes], bytes]:
    """Every member's content, checked one by one while the archive is read, and the
    bundle file's bytes."""
    budget = limits.max_total_bytes + _OVERHEAD_BYTES + 1024 * (limits.max_files + 2)
    try:
        # Read once: what is checked is what the caller keeps (publish copies these bytes).
        with path.open("rb") as handle:
            data = handle.read(budget + 1)
    except OSError as exc:
        raise _refused(path, f"cannot be read: {exc.strerror}") from None
    if len(data) > budget:
        raise _refused(path, f"has more than {budget} bytes, more than the size limit allows")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as unzipped:
            stream = _Capped(unzipped, budget, path)
            with tarfile.open(fileobj=stream, mode="r|") as archive:
                members = _Members(path, limits).read(archive)
            while stream.read(_CHUNK):  # to the end: gzip checks its CRC there
                pass
    except BundleRefused:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _refused(path, f"is damaged or no bot bundle ({exc})") from None
    return members, data


class _Members:
    """Reads a tar stream member by member, refusing the first unsafe one."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self.contents: dict[str, bytes] = {}
        self.files: dict[str, str] = {}  # case-folded name -> name
        self.folders: dict[str, str] = {}  # case-folded folder -> a file below it
        self.total = 0

    def read(self, archive: tarfile.TarFile) -> dict[str, bytes]:
        for member in archive:
            self._check(member)
            self.contents[member.name] = self._content(archive, member)
        return self.contents

    def _check(self, member: tarfile.TarInfo) -> None:
        name = member.name
        if len(self.contents) >= self.limits.max_files + 2:  # + manifest and signature
            raise self._refused(f"holds more than {self.limits.max_files} files")
        problem = unsafe_name(name)
        if problem is not None:
            raise self._refused(f"holds the unsafe path {name!r}: {problem}")
        if not member.isreg():
            raise self._refused(f"{_kind(member)}: a bundle holds plain files only")
        if name not in (MANIFEST, SIGNATURE) and not name.startswith(FILES):
            raise self._refused(f"holds {name!r} outside its folder {FILES}")
        self._check_unique(name)
        if member.size > self.limits.max_file_bytes:
            raise self._refused(
                f"{name} has {member.size} bytes, more than the limit of "
                f"{self.limits.max_file_bytes}"
            )
        self.total += member.size
        if self.total > self.limits.max_total_bytes:
            raise self._refused(
                f"its files hold more than the limit of {self.limits.max_total_bytes} bytes"
            )

    def _check_unique(self, name: str) -> None:
        folded = name.casefold()
        if folded in self.files:
            other = self.files[folded]
            how = "twice" if other == name else f"and {other!r}, which differ only in case"
            raise self._refused(f"holds {name!r} {how}")
        if folded in self.folders:
            raise self._refused(f"holds {name!r} both as a file and as a folder")
        parts = folded.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in self.files:
                raise self._refused(f"holds {self.files[folder]!r} both as a file and a folder")
            self.folders.setdefault(folder, name)
        self.files[folded] = name

    def _content(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
        handle = archive.extractfile(member)
        if handle is None:
            raise self._refused(f"{member.name} cannot be read")
        chunks: list[bytes] = []
        read = 0
        while chunk := handle.read(_CHUNK):
            read += len(chunk)
            if read > member.size or read > self.limits.max_file_bytes:
                raise self._refused(f"{member.name} holds more bytes than it declares")
            chunks.append(chunk)
        if read != member.size:
            raise self._refused(f"{member.name} is cut short")
        return b"".join(chunks)

    def _refused(self, problem: str) -> BundleRefused:
        return _refused(self.path, problem)


def _kind(member: tarfile.TarInfo) -> str:
    name = member.name
    if member.issym():
        return f"holds a symbolic link {name!r} -> {member.linkname!r}"
    if member.islnk():
        return f"holds a hard link {name!r} -> {member.linkname!r}"
    if member.ischr() or member.isblk():
        return f"holds a device file {name!r}"
    if member.isfifo():
        return f"holds a FIFO (named pipe) {name!r}"
    if member.isdir():
        return f"holds a folder entry {name!r}"
    return f"holds {name!r} of the special tar type {member.type!r}"


def _check_signature(path: Path, manifest: bytes, signature: bytes) -> Ed25519PublicKey:
    """The public key that signed ``manifest``; refused when the signature does not match."""
    try:
        data = json.loads(signature)  # RecursionError: nested too deeply
        if data.get("algorithm") != "ed25519":
            raise ValueError(f"algorithm {data.get('algorithm')!r}")
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["key"], validate=True))
        signed = base64.b64decode(data["signature"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise _refused(
            path, f"its signature is unreadable ({exc}): it is no signed bundle"
        ) from None
    except RecursionError:
        raise _refused(
            path, "its signature is unreadable (nested too deeply): it is no signed bundle"
        ) from None
    try:
        public.verify(signed, manifest)
    except InvalidSignature:
        raise _refused(
            path,
            f"its signature does not match its {MANIFEST}: the bundle was altered after signing",
        ) from None
    return public


def _is_trusted(public: Ed25519PublicKey, trusted: Mapping[str, Ed25519PublicKey]) -> bool:
    raw = public_key_text(public)
    return any(public_key_text(key) == raw for key in trusted.values())


def _parse_manifest(path: Path, data: bytes) -> Manifest:
    try:
        return Manifest.model_validate_json(data)
    except RecursionError:
        raise _refused(path, f"its {MANIFEST} is nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the manifest"
        raise _refused(path, f"its {MANIFEST} is invalid at {where}: {first['msg']}") from None


def _check_files(path: Path, manifest: Manifest, files: Mapping[str, bytes]) -> None:
    """Every file as the signed manifest lists it, no more, no less."""
    added = sorted(set(files) - set(manifest.files))
    if added:
        raise _refused(
            path, f"holds {FILES}{added[0]}, which its manifest does not list (added after signing)"
        )
    removed = sorted(set(manifest.files) - set(files))
    if removed:
        raise _refused(
            path, f"lacks {FILES}{removed[0]}, which its manifest lists (removed after signing)"
        )
    for name, entry in sorted(manifest.files.items()):
        data = files[name]
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise _refused(
                path,
                f"{FILES}{name} was altered after signing (its sha256 differs from the manifest's)",
            )
    digest = files_digest(files)
    if digest != manifest.digest:
        raise _refused(path, f"its files have digest {digest}, its manifest says {manifest.digest}")
