"""Helpers of the bundle tests: keys, a bot the catalog does not know, hand-made archives.

Bad bundles are built here the way an attacker or a broken tool would: real tar members
(links, devices, ``../`` names) around a manifest signed as the format says (docs/catalog.md),
so that each bundle has exactly one problem.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.model.loader import files_digest

ROOT = Path(__file__).resolve().parents[2]
#: The bot the bundle tests ship: a copy of posteingang-export under another id.
NEW_BOT = "meldung-export"
Member = tuple[tarfile.TarInfo, bytes | None]


def bots(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """``bots ARGS`` in this process, as the CLI runs it."""
    return CliRunner().invoke(app, list(args), env=dict(env or {}))


@dataclass(frozen=True)
class Keys:
    """A key pair as `bots catalog keygen` writes it, and the private key itself."""

    private_file: Path
    public_file: Path
    private: Ed25519PrivateKey

    @property
    def public_text(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()


def make_keys(directory: Path, name: str) -> Keys:
    """A key pair made with `bots catalog keygen -o DIRECTORY --name NAME`."""
    result = bots("catalog", "keygen", "-o", str(directory), "--name", name)
    assert result.exit_code == 0, result.output
    private_file = directory / f"{name}.key"
    key = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return Keys(private_file, directory / f"{name}.pub", key)


def new_bot(directory: Path, bot_id: str = NEW_BOT, version: str = "1.0.0") -> Path:
    """A bot no catalog knows: posteingang-export's files under ``bot_id`` and ``version``."""
    target = directory / bot_id
    shutil.copytree(
        ROOT / "bots" / "posteingang-export",
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    text = (target / "bot.yaml").read_text(encoding="utf-8")
    text = text.replace("id: posteingang-export", f"id: {bot_id}")
    text = text.replace("version: 1.1.0", f"version: {version}")
    (target / "bot.yaml").write_text(text, encoding="utf-8")
    return target


def read_members(bundle: Path) -> list[Member]:
    """The members of a (trusted, well-formed) bundle with their contents."""
    members: list[Member] = []
    with tarfile.open(bundle, "r:gz") as archive:
        for info in archive.getmembers():
            handle = archive.extractfile(info)
            members.append((info, handle.read() if handle is not None else None))
    return members


def write_bundle(path: Path, members: Iterable[Member]) -> Path:
    """A gzip'd tar of ``members`` (contents None: links, devices, FIFOs)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


def member(
    name: str, data: bytes | None = b"", kind: bytes = tarfile.REGTYPE, **fields: object
) -> Member:
    """One tar member: a file, or with ``kind`` a link, device or FIFO."""
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info, (data if kind == tarfile.REGTYPE else None)


def signed_members(
    files: Mapping[str, bytes],
    key: Ed25519PrivateKey,
    *,
    bot: str,
    version: str = "1.0.0",
    changes: Mapping[str, object] | None = None,
) -> list[Member]:
    """``manifest.json`` listing ``files`` and its ``signature``, made as the format says
    (with ``changes`` to its fields, signed all the same)."""
    manifest = {
        "format": "kommune-bots-bundle/1",
        "bot": bot,
        "version": version,
        "digest": files_digest(files),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in files.items()
        },
        "requires": {"connectors": ["civento"], "packages": [], "robot_labels": ["browser"]},
    }
    manifest.update(changes or {})
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signature = {
        "algorithm": "ed25519",
        "key": base64.b64encode(public).decode(),
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
    }
    return [
        member("manifest.json", manifest_bytes),
        member("signature", json.dumps(signature).encode()),
    ]


def bot_files(directory: Path) -> dict[str, bytes]:
    """The files of a bot directory, by relative path."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def snapshot(root: Path) -> dict[str, str]:
    """Every entry below ``root``: relative path -> sha256 of a file, ``dir`` or ``link``."""
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            seen[name] = "link"
        elif path.is_dir():
            seen[name] = "dir"
        else:
            seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen
