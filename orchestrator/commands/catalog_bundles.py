"""`bots catalog pack|verify|keygen|install|upgrade`: signed bundles and city installations.

Plain functions, registered in the ``catalog`` group (:mod:`orchestrator.commands.catalog`).
The library twins: :mod:`orchestrator.catalog.bundle` (pack, read), :mod:`orchestrator.catalog.
keys`, :mod:`orchestrator.catalog.installing` (verify, install, upgrade) and
:mod:`orchestrator.catalog.publishing`. A refused bundle exits 2 with a message naming the
problem; nothing is written then.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator.commands.shared import (
    TenantOption,
    echo,
    print_json,
    service_context,
    settings,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from orchestrator.catalog.installing import InstallResult
    from orchestrator.settings import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IntoOption = Annotated[
    Path | None,
    typer.Option(
        "--into",
        help="Bot directory to put a bundle's files in (as BOT/); default: the catalog's path "
        "of the bot.",
    ),
]
#: The secret holding the signing key when no --key file is given.
SIGNING_KEY_SECRET = "catalog_signing_key"


def pack(
    bot: Annotated[str, typer.Argument(help="Bot id, or path of a bot directory.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write BOT-VERSION.bundle into.")
    ] = Path("."),
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Signing key file (PEM, mode 0600; `bots catalog keygen`)."),
    ] = None,
    key_secret: Annotated[
        str,
        typer.Option(
            "--key-secret",
            help="Without --key: the signing key's name in the secret store (BOTS_SECRET_NAME).",
        ),
    ] = SIGNING_KEY_SECRET,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="Also publish the version: into the catalog (experimental) and a copy into "
            "catalog/bundles/.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pack a bot into a signed bundle: its files, a manifest with their sha256 and what
    the bot needs (connectors, Python packages, robot labels), an ed25519 signature."""
    from orchestrator.catalog.bundle import Limits
    from orchestrator.catalog.bundle import pack as pack_bundle
    from orchestrator.model.loader import resolve_bot

    effective = settings()
    loaded = resolve_bot(bot, effective.bot_dirs)
    signing_key = _signing_key(key, key_secret, effective)
    path = pack_bundle(loaded, signing_key, out, Limits.of(effective.catalog_trust))
    data: dict[str, Any] = {
        "bot": loaded.id,
        "version": loaded.definition.version,
        "digest": loaded.digest,
        "bundle": str(path),
    }
    if publish:
        data["published"] = _publish(loaded, path)
    if as_json:
        print_json(data)
        return
    echo(f"packed {loaded.id} {loaded.definition.version} -> {path} (digest {loaded.digest})")
    if publish:
        done = data["published"]
        how = "published as experimental" if done["new"] else "was published already"
        echo(f"{loaded.id} {loaded.definition.version} {how}; kept as {done['copy']}")


def verify(
    file: Annotated[Path, typer.Argument(help="The bundle file.")],
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a bundle as install does, writing nothing: signed by a key the tenant trusts,
    unaltered, safe paths, no links or device files, within the size limits."""
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        verified = shared.verify_bundle(ctx, file, tenant)
    bundle, missing, where = verified.bundle, verified.missing, verified.tenant
    needs = bundle.manifest.requires
    if as_json:
        print_json(
            {
                "bundle": str(file),
                "bot": bundle.bot,
                "version": bundle.version,
                "digest": bundle.manifest.digest,
                "signer": bundle.key_id,
                "tenant": where,
                "files": sorted(bundle.files),
                "requires": needs.model_dump(),
                "missing": missing,
            }
        )
        return
    echo(
        f"ok: {file}: {bundle.bot} {bundle.version}, {len(bundle.files)} files, digest "
        f"{bundle.manifest.digest}, signed by key {bundle.key_id} (trusted by {where})"
    )
    echo(
        f"needs: connectors {', '.join(needs.connectors) or 'none'}; packages "
        f"{', '.join(needs.packages) or 'none'}; robot labels "
        f"{', '.join(needs.robot_labels) or 'none'}"
    )
    for line in missing:
        echo(f"warning: {line}", err=True)


def keygen(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for NAME.key and NAME.pub.")
    ] = Path("."),
    name: Annotated[str, typer.Option("--name", help="File name of the pair.")] = "catalog-signing",
) -> None:
    """Make an ed25519 key pair to sign bundles: NAME.key (mode 0600, never printed) and
    NAME.pub. Prints the public key for the installing cities' catalog_trust.keys."""
    from orchestrator.catalog.keys import key_id, public_key_text, write_key_pair

    pair = write_key_pair(out, name)
    echo(f"private key: {pair.private_file} (mode 0600: keep it secret, never share it)")
    echo(f"public key:  {pair.public_file}")
    echo(f"key id:      {key_id(pair.public_key)}")
    echo("cities that install your bundles trust it in their settings:")
    echo("  catalog_trust:")
    echo(f'    keys: ["{public_key_text(pair.public_key)}"]')


def install(
    ref: Annotated[
        str, typer.Argument(help="BOT, BOT@VERSION (from the catalog), or a .bundle file.")
    ],
    tenant: TenantOption = None,
    into: IntoOption = None,
    as_json: JsonOption = False,
) -> None:
    """Install a catalog bot for a city: its files (a bundle is verified first), the
    overlay skeleton for the city's own settings, the installation in the catalog."""
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        result = shared.install_bot(ctx, ref, tenant=tenant, into=into)
    _report(result, "installed", as_json=as_json)


def upgrade(
    bot: Annotated[str, typer.Argument(help="The bot's id in the catalog.")],
    to: Annotated[str, typer.Option("--to", help="The version to move to, e.g. 1.3.0.")],
    tenant: TenantOption = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="A .bundle file holding that version (from elsewhere)."),
    ] = None,
    into: IntoOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a city to another version of a bot: shows what changed, keeps the city's
    overlay (adding entries the new version needs, removing none)."""
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        result = shared.upgrade_bot(ctx, bot, to=to, tenant=tenant, bundle=bundle, into=into)
    _report(result, "upgraded", as_json=as_json)


# --------------------------------------------------------------------------- helpers


def _signing_key(key: Path | None, secret: str, effective: Settings) -> Ed25519PrivateKey:
    from orchestrator.catalog.keys import private_key_from, read_private_key_file
    from orchestrator.engine.secrets import EnvSecretProvider
    from orchestrator.errors import BundleRefused, SecretMissing

    if key is not None:
        return read_private_key_file(key)
    provider = EnvSecretProvider(tenant=effective.tenant)
    try:
        text = provider.get(secret)
    except SecretMissing:
        raise BundleRefused(
            f"no signing key: give --key FILE (`bots catalog keygen` makes one) or put the key "
            f"into the secret store as {EnvSecretProvider.variable(secret)}"
        ) from None
    return private_key_from(text, f"the secret {secret!r}")


def _publish(loaded: Any, path: Path) -> dict[str, Any]:
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        done = shared.publish_bot(ctx, loaded, path)
    return {"version": done.version, "digest": done.digest, "copy": str(done.copy), "new": done.new}


def _report(result: InstallResult, verb: str, *, as_json: bool) -> None:
    if as_json:
        print_json(result.to_json())
        return
    moved = f"{result.previous} -> {result.version}" if result.previous else result.version
    signed = f", signed by key {result.signer}" if result.signer else ""
    echo(
        f"{verb} {result.bot} {moved} for {result.tenant} (files {result.files} in "
        f"{result.directory}{signed})"
    )
    added = f" (added: {', '.join(result.added)})" if result.added else ""
    echo(f"overlay: {result.overlay}{added}")
    if result.previous:
        echo(f"changes from {result.previous} to {result.version}:")
        for line in result.changes or ["  (no change in steps, actions, hooks or files)"]:
            echo(line)
    if result.to_fill:
        echo("to fill in before the city's runs start (bots validate --catalog):")
        for problem in result.to_fill:
            echo(f"  {problem}")
    for note in result.notes:
        echo(f"note: {note}", err=True)
