"""Signed bundles: `bots catalog keygen|pack|verify`, and every kind of bad bundle refused by
`verify` and `install` with a message naming the problem, nothing written anywhere."""

from __future__ import annotations

import gzip
import json
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from _bundles import (
    NEW_BOT,
    Keys,
    Member,
    bot_files,
    bots,
    make_keys,
    member,
    new_bot,
    read_members,
    signed_members,
    snapshot,
    write_bundle,
)
from _catalog_project import Project

from orchestrator.catalog.bundle import read_bundle, read_bundle_files
from orchestrator.catalog.needs import Needs, missing_needs
from orchestrator.catalog.publishing import publish
from orchestrator.errors import BundleRefused
from orchestrator.model.loader import load_bot
from orchestrator.settings import load_settings
from orchestrator.store import open_store


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    """The signing key of Gießen, trusted by every tenant of the project (see ``trust``)."""
    return make_keys(tmp_path / "keys", "giessen")


def trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: list[str], **limits: int) -> None:
    """The settings file: ``catalog_trust`` with these keys and limits."""
    config = tmp_path / "bots.yaml"
    lines = ["catalog_trust:", f"  keys: {json.dumps(keys)}"]
    lines += [f"  {name}: {value}" for name, value in limits.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("BOTS_CONFIG", str(config))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A bot the project's catalog does not know, outside the project."""
    return new_bot(tmp_path / "elsewhere")


@pytest.fixture
def good(
    project: Project, keys: Keys, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The source bot packed and signed with Gießen's key, which the project trusts."""
    trust(tmp_path, monkeypatch, [str(keys.public_file)])
    result = bots(
        "catalog",
        "pack",
        str(source),
        "-o",
        str(tmp_path / "dist"),
        "--key",
        str(keys.private_file),
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "dist" / f"{NEW_BOT}-1.0.0.bundle"


def test_keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_public_key(
    tmp_path: Path,
) -> None:
    result = bots("catalog", "keygen", "-o", str(tmp_path), "--name", "marburg")

    assert result.exit_code == 0, result.output
    private = tmp_path / "marburg.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    body = "".join(private.read_text().splitlines()[1:-1])
    assert body not in result.output  # the private key is never printed
    keys = make_keys(tmp_path, "other")
    assert keys.public_text not in result.output
    assert (tmp_path / "marburg.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "catalog_trust:" in result.output
    again = bots("catalog", "keygen", "-o", str(tmp_path), "--name", "marburg")
    assert again.exit_code == 2
    assert "exists already" in again.output


def test_pack_is_deterministic_and_lists_files_needs_and_digest(
    good: Path, source: Path, keys: Keys, tmp_path: Path
) -> None:
    again = bots(
        "catalog",
        "pack",
        str(source),
        "-o",
        str(tmp_path / "again"),
        "--key",
        str(keys.private_file),
        "--json",
    )
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / good.name).read_bytes() == good.read_bytes()
    names = [info.name for info, _ in read_members(good)]
    assert names == ["manifest.json", "signature", "bot/bot.yaml", "bot/hooks.py"]
    assert all(info.mtime == 0 and info.uid == 0 for info, _ in read_members(good))
    manifest = json.loads({i.name: d for i, d in read_members(good)}["manifest.json"])
    assert manifest["bot"] == NEW_BOT and manifest["version"] == "1.0.0"
    assert manifest["digest"] == json.loads(again.stdout)["digest"]
    assert set(manifest["files"]) == {"bot.yaml", "hooks.py"}
    assert manifest["requires"] == {
        "connectors": ["civento"],
        "packages": [],
        "robot_labels": ["browser"],
    }
    assert read_bundle_files(good) == bot_files(source)


def test_verify_accepts_a_bundle_signed_by_a_trusted_key(good: Path, keys: Keys) -> None:
    result = bots("catalog", "verify", str(good), "--tenant", "marburg")

    assert result.exit_code == 0, result.output
    assert f"ok: {good}: {NEW_BOT} 1.0.0, 2 files" in result.output
    assert "signed by key" in result.output and "(trusted by marburg)" in result.output


def test_trust_is_per_tenant(
    good: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tenants.yaml"
    config.write_text(
        f"catalog_trust:\n  keys: [{keys.public_text}]\n"
        "tenants:\n  kassel:\n    catalog_trust:\n      keys: []\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BOTS_CONFIG", str(config))

    assert bots("catalog", "verify", str(good), "--tenant", "marburg").exit_code == 0
    refused = bots("catalog", "verify", str(good), "--tenant", "kassel")
    assert refused.exit_code == 2
    assert "which tenant 'kassel' does not trust" in refused.output


def _changed_file(keys: Keys, members: list[Member]) -> list[Member]:
    """One byte of hooks.py changed after signing."""
    out = []
    for info, data in members:
        if info.name == "bot/hooks.py" and data is not None:
            data = data.replace(b"Semicolons", b"Semicolonz")
        out.append((info, data))
    return out


def _changed_manifest(keys: Keys, members: list[Member]) -> list[Member]:
    """One byte of the manifest changed after signing."""
    return [
        (
            info,
            data.replace(b'"1.0.0"', b'"1.0.1"') if info.name == "manifest.json" and data else data,
        )
        for info, data in members
    ]


def _with_signed(extra: Callable[[dict[str, bytes]], list[Member]]) -> Callable[..., list[Member]]:
    """A bundle whose manifest is signed properly, with ``extra`` members besides the files."""

    def build(keys: Keys, members: list[Member]) -> list[Member]:
        files = {i.name.removeprefix("bot/"): d for i, d in members if i.name.startswith("bot/")}
        added = extra(files)
        listed = dict(files)
        for info, data in added:
            if data is not None and info.name.startswith("bot/"):
                listed[info.name.removeprefix("bot/")] = data
        head = signed_members(listed, keys.private, bot=NEW_BOT)
        return [*head, *[member(f"bot/{n}", d) for n, d in files.items()], *added]

    return build


def _unsigned(keys: Keys, members: list[Member]) -> list[Member]:
    return [(info, data) for info, data in members if info.name != "signature"]


def _unknown_key(keys: Keys, members: list[Member]) -> list[Member]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Keys(keys.private_file, keys.public_file, Ed25519PrivateKey.generate())
    return _with_signed(lambda files: [])(stranger, members)


def _not_listed(keys: Keys, members: list[Member]) -> list[Member]:
    return [*members, member("bot/extra.py", b"import os\n")]


BAD: dict[str, tuple[Callable[..., list[Member]], str]] = {
    "one byte changed": (_changed_file, "bot/hooks.py was altered after signing"),
    "manifest changed": (_changed_manifest, "its signature does not match its manifest.json"),
    "file added": (_not_listed, "holds bot/extra.py, which its manifest does not list"),
    "dot-dot path": (
        _with_signed(lambda f: [member("bot/../../evil.py", b"x")]),
        "the unsafe path 'bot/../../evil.py': '..' leads outside the folder",
    ),
    "absolute path": (
        _with_signed(lambda f: [member("/tmp/evil.py", b"x")]),
        "the unsafe path '/tmp/evil.py': an absolute path",
    ),
    "drive letter": (
        _with_signed(lambda f: [member("C:/evil.py", b"x")]),
        "the unsafe path 'C:/evil.py': a drive letter",
    ),
    "backslash": (
        _with_signed(lambda f: [member("bot\\..\\evil.py", b"x")]),
        "the unsafe path 'bot\\\\..\\\\evil.py': a backslash",
    ),
    "symlink": (
        _with_signed(
            lambda f: [member("bot/flows.yaml", kind=tarfile.SYMTYPE, linkname="/etc/passwd")]
        ),
        "holds a symbolic link 'bot/flows.yaml' -> '/etc/passwd'",
    ),
    "hard link": (
        _with_signed(
            lambda f: [member("bot/copy.yaml", kind=tarfile.LNKTYPE, linkname="bot/bot.yaml")]
        ),
        "holds a hard link 'bot/copy.yaml'",
    ),
    "device file": (
        _with_signed(lambda f: [member("bot/null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3)]),
        "holds a device file 'bot/null'",
    ),
    "fifo": (
        _with_signed(lambda f: [member("bot/pipe", kind=tarfile.FIFOTYPE)]),
        "holds a FIFO (named pipe) 'bot/pipe'",
    ),
    "duplicate name": (
        _with_signed(lambda f: [member("bot/hooks.py", f["hooks.py"])]),
        "holds 'bot/hooks.py' twice",
    ),
    "names differing in case": (
        _with_signed(lambda f: [member("bot/HOOKS.py", b"x = 1\n")]),
        "holds 'bot/HOOKS.py' and 'bot/hooks.py', which differ only in case",
    ),
    "compiled python": (
        _with_signed(lambda f: [member("bot/__pycache__/hooks.cpython-312.pyc", b"x")]),
        "compiled Python (__pycache__, .pyc)",
    ),
    "name ending in a dot": (
        _with_signed(lambda f: [member("bot/hooks.py.", b"x")]),
        "a name ending in '.' or ' '",
    ),
    "deeply nested signature": (
        lambda keys, members: [
            (i, b"[" * 100_000 if i.name == "signature" else d) for i, d in members
        ],
        "its signature is unreadable (nested too deeply)",
    ),
    "unsigned": (_unsigned, "is unsigned"),
    "unknown key": (_unknown_key, "which tenant 'marburg' does not trust"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_bundle_is_refused_naming_the_problem_and_nothing_is_written(
    kind: str, project: Project, good: Path, keys: Keys, tmp_path: Path
) -> None:
    build, message = BAD[kind]
    bad = write_bundle(tmp_path / f"{NEW_BOT}-1.0.0.bundle", build(keys, read_members(good)))
    before = snapshot(project.root)

    verified = bots("catalog", "verify", str(bad), "--tenant", "marburg")
    installed = bots("catalog", "install", str(bad), "--tenant", "marburg")

    for result in (verified, installed):
        assert result.exit_code == 2, result.output
        assert f"error: bundle {bad}: " in result.output
        assert message in result.output
        assert "Traceback" not in result.output
    assert snapshot(project.root) == before  # no bot directory, overlay, catalog entry
    assert not (project.root / "bots" / NEW_BOT).exists()
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/evil.py").exists()


MANIFEST_FIELDS: dict[str, tuple[dict[str, object], str]] = {
    "bot id leading outside": ({"bot": "../../x"}, "manifest.json is invalid at bot"),
    "version with a slash": ({"version": "1.0.0/../../x"}, "manifest.json is invalid at version"),
    "digest no hex": ({"digest": "../" * 22}, "manifest.json is invalid at digest"),
    "connector with a path": (
        {"requires": {"connectors": ["../x"], "packages": [], "robot_labels": []}},
        "manifest.json is invalid at requires.connectors.0",
    ),
    "package with a newline": (
        {"requires": {"connectors": [], "packages": ["x\nimport os"], "robot_labels": []}},
        "manifest.json is invalid at requires.packages.0",
    ),
}


@pytest.mark.parametrize("kind", list(MANIFEST_FIELDS))
def test_a_trusted_manifest_with_unsafe_fields_is_refused_before_anything_is_written(
    kind: str, project: Project, good: Path, keys: Keys, tmp_path: Path
) -> None:
    changes, message = MANIFEST_FIELDS[kind]
    files = {i.name.removeprefix("bot/"): d for i, d in read_members(good) if d is not None}
    files.pop("manifest.json"), files.pop("signature")
    head = signed_members(files, keys.private, bot=NEW_BOT, changes=changes)
    bad = write_bundle(
        tmp_path / "bad.bundle", [*head, *[member(f"bot/{n}", d) for n, d in files.items()]]
    )
    before = snapshot(project.root)

    result = bots("catalog", "install", str(bad), "--tenant", "marburg")

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert snapshot(project.root) == before
    assert not (project.root / "x").exists() and not (tmp_path / "x").exists()


def test_a_private_key_among_the_trusted_keys_is_refused_without_showing_it(
    project: Project, good: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = keys.private_file.read_text(encoding="ascii")
    body = "".join(pem.strip().splitlines()[1:-1])  # the PEM's base64, without its lines
    for entry in (pem, body):
        trust(tmp_path, monkeypatch, [keys.public_text, entry])

        result = bots("catalog", "verify", str(good), "--tenant", "marburg")

        assert result.exit_code == 2, result.output
        assert "catalog_trust.keys entry 2" in result.output
        assert "is a private key" in result.output
        assert not any(line[:8] in result.output for line in pem.splitlines()[1:-1])


def test_checking_needs_runs_no_code_of_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site" / "spy_needs_pkg"
    package.mkdir(parents=True)
    ran = tmp_path / "ran"
    (package / "__init__.py").write_text(f"open({str(ran)!r}, 'w').close()\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    missing = missing_needs(Needs(packages=["spy_needs_pkg.sub"]))

    assert missing and not ran.exists()


def test_publish_refuses_a_bundle_of_other_files_than_the_bot_s(
    project: Project, good: Path, source: Path
) -> None:
    (source / "vorlage.txt").write_text("changed after packing\n", encoding="utf-8")
    settings = load_settings()

    with open_store(settings.database) as store, pytest.raises(BundleRefused, match="pack it"):
        publish(settings, load_bot(source), good, store=store, actor="test")
    assert not list(project.root.glob("**/*.bundle"))


def test_a_byte_flipped_anywhere_in_the_file_is_refused(project: Project, good: Path) -> None:
    data = bytearray(good.read_bytes())
    refused = 0
    for offset in range(10, len(data), max(1, len(data) // 40)):
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        good.write_bytes(bytes(flipped))
        with pytest.raises(BundleRefused):
            read_bundle(good)
        refused += 1
    assert refused >= 30


LIMITS: dict[str, tuple[dict[str, int], Callable[[Keys, list[Member]], list[Member]], str]] = {
    "a file over the size limit": (
        {"max_file_bytes": 100_000},
        _with_signed(lambda f: [member("bot/big.csv", b"0" * 200_000)]),
        "bot/big.csv has 200000 bytes, more than the limit of 100000",
    ),
    "too many files": (
        {"max_files": 3},
        _with_signed(lambda f: [member(f"bot/data{n}.csv", b"1") for n in range(3)]),
        "holds more than 3 files",
    ),
    "too large in total": (
        {"max_total_bytes": 150_000, "max_file_bytes": 100_000},
        _with_signed(lambda f: [member(f"bot/part{n}.csv", b"0" * 60_000) for n in range(3)]),
        "its files hold more than the limit of 150000 bytes",
    ),
}


@pytest.mark.parametrize("kind", list(LIMITS))
def test_size_limits_refuse_large_bundles(
    kind: str,
    project: Project,
    good: Path,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits, build, message = LIMITS[kind]
    trust(tmp_path, monkeypatch, [str(keys.public_file)], **limits)
    bad = write_bundle(tmp_path / "large.bundle", build(keys, read_members(good)))
    before = snapshot(project.root)

    result = bots("catalog", "install", str(bad), "--tenant", "marburg")

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert snapshot(project.root) == before


def test_a_decompression_bomb_is_stopped_while_unpacking(
    project: Project, good: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tar header the declared sizes do not count (a PAX record of megabytes) is cut off by
    counting the bytes unpacked, whatever the headers say."""
    trust(tmp_path, monkeypatch, [str(keys.public_file)], max_total_bytes=100_000)
    info, data = member("bot/note.txt", b"x")
    info.pax_headers = {"comment": "0" * 5_000_000}
    bad = write_bundle(tmp_path / "bomb.bundle", [*read_members(good), (info, data)])
    assert bad.stat().st_size < 100_000  # small on disk

    result = bots("catalog", "verify", str(bad), "--tenant", "marburg")

    assert result.exit_code == 2, result.output
    assert "unpacks to more bytes than the size limit allows" in result.output


def test_something_else_than_a_bundle_is_refused(project: Project, tmp_path: Path) -> None:
    not_gzip = tmp_path / "notes.bundle"
    not_gzip.write_text("no archive", encoding="utf-8")
    not_tar = tmp_path / "zipped.bundle"
    not_tar.write_bytes(gzip.compress(b"no tar either" * 100))

    for path in (not_gzip, not_tar):
        result = bots("catalog", "verify", str(path), "--tenant", "marburg")
        assert result.exit_code == 2, result.output
        assert "is damaged or no bot bundle" in result.output


def test_pack_refuses_a_bot_holding_a_link(source: Path, keys: Keys, tmp_path: Path) -> None:
    (source / "daten.csv").symlink_to("/etc/hostname")

    result = bots(
        "catalog",
        "pack",
        str(source),
        "-o",
        str(tmp_path / "dist"),
        "--key",
        str(keys.private_file),
    )

    assert result.exit_code == 2
    assert "daten.csv is a symbolic link" in result.output
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_pack_takes_its_key_from_the_secret_store_and_refuses_a_readable_key_file(
    source: Path, keys: Keys, tmp_path: Path
) -> None:
    pem = keys.private_file.read_text()
    from_store = bots(
        "catalog",
        "pack",
        str(source),
        "-o",
        str(tmp_path / "dist"),
        env={"BOTS_SECRET_CATALOG_SIGNING_KEY": pem},
    )
    assert from_store.exit_code == 0, from_store.output
    assert pem.splitlines()[1] not in from_store.output

    missing = bots("catalog", "pack", str(source), "-o", str(tmp_path / "dist"))
    assert missing.exit_code == 2
    assert "no signing key: give --key FILE" in missing.output
    assert "BOTS_SECRET_CATALOG_SIGNING_KEY" in missing.output

    keys.private_file.chmod(0o644)
    readable = bots("catalog", "pack", str(source), "--key", str(keys.private_file))
    assert readable.exit_code == 2
    assert "can be read by others (mode 0644)" in readable.output
