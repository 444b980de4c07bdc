"""`bots catalog`: the bots the cities share, their versions, maturity and installations.

``list``, ``show`` and ``diff`` read the catalog (setting ``catalog_file``); ``promote``
changes a version's maturity by evidence from the run history, audited. ``install``,
``upgrade``, ``pack``, ``verify`` and ``keygen`` (signed bundles, city overlays) are the
functions of :mod:`orchestrator.commands.catalog_bundles`, registered here. The library twins
are in :mod:`orchestrator.catalog`, the use cases in :mod:`orchestrator.services.catalog`.
Who may do what: :data:`orchestrator.services.PERMISSIONS` (``catalog promote``: admin or
developer; reading: everyone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator import errors
from orchestrator.commands import catalog_bundles
from orchestrator.commands.shared import EXIT_FAILED, echo, print_json, service_context

if TYPE_CHECKING:
    from orchestrator.catalog.promotion import Promotion

app = typer.Typer(
    name="catalog",
    help="The bots the cities share: versions, maturity, installations, promotion by evidence.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
BotArgument = Annotated[str, typer.Argument(help="The bot's id in the catalog.")]


@app.command("list")
def catalog_list(as_json: JsonOption = False) -> None:
    """List the shared bots: newest version, its maturity, which city runs which version."""
    from orchestrator.catalog.listing import catalog_as_json, catalog_lines
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        catalog = shared.read_catalog(ctx)
    if as_json:
        print_json(catalog_as_json(catalog))
        return
    for line in catalog_lines(catalog):
        echo(line)


@app.command("show")
def catalog_show(bot: BotArgument, as_json: JsonOption = False) -> None:
    """Show a shared bot: every version with digest and maturity, installations,
    requirements, the target system versions it was proven against, its effort."""
    from orchestrator.catalog.listing import bot_as_json, bot_lines
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        catalog = shared.read_catalog(ctx)
    if as_json:
        print_json(bot_as_json(catalog, bot))
        return
    for line in bot_lines(catalog, bot):
        echo(line)


@app.command("diff")
def catalog_diff(
    bot: BotArgument,
    old: Annotated[str, typer.Argument(help="The older version, e.g. 1.1.0.")],
    new: Annotated[str, typer.Argument(help="The newer version (the working copy's, too).")],
    as_json: JsonOption = False,
) -> None:
    """Show what changed between two versions: steps, connector actions used, hook
    functions, definition keys, other files.

    A published version is read from its bundle (catalog/bundles/BOT-VERSION.bundle), the
    working copy's version from the bot's directory.
    """
    from orchestrator.catalog.diff import diff_lines
    from orchestrator.services import catalog as shared

    with service_context() as ctx:
        changes = shared.version_changes(ctx, bot, old, new)
    if as_json:
        print_json({"bot": bot, "old": old, "new": new, **changes.to_json()})
        return
    echo(f"{bot} {old} -> {new}")
    for line in diff_lines(changes):
        echo(line)


@app.command("promote")
def catalog_promote(
    bot: BotArgument,
    to: Annotated[str, typer.Option("--to", help="pilot, proven or deprecated.")],
    version: Annotated[
        str | None, typer.Option("--version", help="The version; default: the newest.")
    ] = None,
    successor: Annotated[
        str | None,
        typer.Option(
            "--successor", help="With --to deprecated: what replaces it, e.g. other-bot@2.0.0."
        ),
    ] = None,
    min_runs: Annotated[
        int | None, typer.Option("--min-runs", help="Successful runs needed (proven).")
    ] = None,
    min_cities: Annotated[
        int | None,
        typer.Option("--min-cities", help="Cities with successful runs needed (proven)."),
    ] = None,
    min_success_rate: Annotated[
        float | None,
        typer.Option("--min-success-rate", help="Success rate needed, e.g. 0.95 (proven)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Days of run history that count.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Move a published version to pilot, proven or deprecated.

    proven needs evidence from the run history: enough successful runs of its files in
    enough cities with a high enough success rate over the last days (defaults: the
    catalog's `promotion:` section), and no lint errors. The evidence is printed either way;
    a refusal names the numbers that fall short and exits 1. deprecated needs --successor.
    An accepted move is written into the catalog (comments kept) and audited.
    """
    from orchestrator.services import catalog as shared
    from orchestrator.states import Maturity

    try:
        target = Maturity(to)
    except ValueError:
        raise errors.InputError(f"--to must be pilot, proven or deprecated, not {to!r}") from None
    overrides = {
        "min_runs": min_runs,
        "min_cities": min_cities,
        "min_success_rate": min_success_rate,
        "days": days,
    }
    with service_context() as ctx:
        result = shared.promote_bot(
            ctx, bot, target, version=version, successor=successor, overrides=overrides
        )
    _print_promotion(result, as_json=as_json)
    if not result.accepted:
        raise typer.Exit(EXIT_FAILED)


def _print_promotion(result: Promotion, *, as_json: bool) -> None:
    from orchestrator.catalog.listing import promotion_lines

    if as_json:
        print_json(result.to_json())
        return
    lines = promotion_lines(result)
    refused = next((i for i, line in enumerate(lines) if line.startswith("refused: ")), len(lines))
    for line in lines[:refused]:
        echo(line)
    for line in lines[refused:]:
        echo(line, err=True)


@app.command("schema")
def catalog_schema() -> None:
    """Print the JSON Schema of bot_catalog.yaml (for editor autocompletion)."""
    from orchestrator.catalog.schema import catalog_json_schema

    print_json(catalog_json_schema())


# Signed bundles and the cities' installations (orchestrator/commands/catalog_bundles.py).
for _name in ("pack", "verify", "keygen", "install", "upgrade"):
    app.command(_name)(getattr(catalog_bundles, _name))
