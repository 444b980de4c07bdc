"""The ed25519 keys that sign bot bundles: make a pair, read keys, name a key by a short id.

A city signs the bundles it shares with its private key and gives the public key to the
cities that install them, who list it under ``catalog_trust.keys`` in their settings::

    paths = write_key_pair(Path("keys"), "giessen")   # keys/giessen.key (0600), .pub
    public_key_text(paths.public_key)                 # "c2Vj...=": base64, for the settings
    trusted = trusted_keys(settings.catalog_trust_for("marburg").keys)   # key id -> key
    key_id(public)                                    # "5f3a9c0e12ab34cd"

Public keys are accepted as base64 of the 32 raw bytes (what ``bots catalog keygen``
prints), as PEM text, or as the path of a file holding either. Private
keys are PEM (PKCS#8) files that nobody but their owner may read, or the same text in the
secret store. A private key never appears in any output, nor is it taken as a trusted key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from orchestrator.errors import BundleRefused, ConfigError

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"


@dataclass(frozen=True)
class KeyPair:
    """Where :func:`write_key_pair` wrote a key pair, and its public key."""

    private_file: Path
    public_file: Path
    public_key: Ed25519PublicKey


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: 16 hex digits of the sha256 of its raw bytes."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The public key as one line of base64 (its 32 raw bytes): what the settings list."""
    return base64.b64encode(_raw(public)).decode("ascii")


def write_key_pair(directory: Path, name: str) -> KeyPair:
    """Make a new key pair as ``directory/NAME.key`` (mode 0600) and ``NAME.pub``.

    Raises:
        BundleRefused: either file exists already (a key is never overwritten).
    """
    directory = Path(directory)
    private_file = directory / f"{name}{PRIVATE_SUFFIX}"
    public_file = directory / f"{name}{PUBLIC_SUFFIX}"
    for path in (private_file, public_file):
        if path.exists():
            raise BundleRefused(f"{path} exists already: a key is never overwritten")
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created with its final mode: the key is never readable by others, not even briefly.
    descriptor = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = private.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_file.write_bytes(public_pem)
    return KeyPair(private_file, public_file, public)


def read_private_key_file(path: Path) -> Ed25519PrivateKey:
    """The signing key in ``path``, a file only its owner may read.

    Raises:
        BundleRefused: the file is missing, readable by others, or holds no ed25519 key.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise BundleRefused(f"cannot read the signing key {path}: {exc.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BundleRefused(
            f"the signing key {path} can be read by others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); refusing it: run `chmod 600 {path}`"
        )
    return private_key_from(path.read_bytes(), f"the signing key {path}")


def private_key_from(data: bytes | str, where: str) -> Ed25519PrivateKey:
    """An ed25519 private key from PEM (PKCS#8) or base64 of its 32 raw bytes.

    ``where`` names the source in the error message (never the key itself).

    Raises:
        BundleRefused: ``data`` is no ed25519 private key.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        raise BundleRefused(
            f"{where} is no ed25519 private key (expected a PEM file as `bots catalog keygen` "
            "writes it)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleRefused(f"{where} is a {type(key).__name__}, not an ed25519 private key")
    return key


def public_key_from(entry: str, where: str = "catalog_trust key") -> Ed25519PublicKey:
    """A public key from base64 (raw or DER), PEM text, or the path of a file holding either.

    A path is absolute, starts with ``~``, or names a ``.pub`` file in the current directory.
    ``where`` names the entry in messages, which never quote it (it may
    be a private key pasted by mistake).

    Raises:
        ConfigError: ``entry`` is none of these, or is a private key.
    """
    text = entry.strip()
    if not text.startswith("-----BEGIN") and not _is_base64(text) and _looks_like_path(text):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
            raise ConfigError(f"trusted key file {path} cannot be read: {reason}") from None
        where = f"{where} (the file {path})"
    if "PRIVATE KEY" in text:
        raise ConfigError(
            f"{where} is a private key: list only public keys (the .pub file), and make a new "
            "key pair, as this one may have been seen"
        )
    if _is_base64(text) and _is_private_der(base64.b64decode(text)):
        raise ConfigError(
            f"{where} is a private key (PKCS#8 in base64): list only public keys (the .pub "
            "file), and make a new key pair, as this one may have been seen"
        )
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            raw = base64.b64decode(text, validate=True)
            key = (
                Ed25519PublicKey.from_public_bytes(raw)
                if len(raw) == 32
                else serialization.load_der_public_key(raw)
            )
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        raise ConfigError(
            f"{where} is no ed25519 public key: give the base64 text `bots catalog keygen` "
            "prints, PEM, or the path of a .pub file"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{where} is a {type(key).__name__}, not ed25519")
    return key


def trusted_keys(entries: list[str]) -> dict[str, Ed25519PublicKey]:
    """The keys of a ``catalog_trust.keys`` list, by :func:`key_id`.

    Raises:
        ConfigError: an entry is no ed25519 public key (named by its position, not quoted).
    """
    keys = [
        public_key_from(
            entry, f"catalog_trust.keys entry {number} ({len(entry.strip())} characters)"
        )
        for number, entry in enumerate(entries, start=1)
    ]
    return {key_id(key): key for key in keys}


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return False
    return bool(text)


def _is_private_der(raw: bytes) -> bool:
    try:
        serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _looks_like_path(text: str) -> bool:
    # Absolute, in the home directory, or a relative name of a .pub file (the current
    # directory's; the settings should name keys absolutely where others can write there).
    return text.startswith(("/", "~")) or text.endswith(PUBLIC_SUFFIX)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
