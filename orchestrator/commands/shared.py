"""What every command group shares: exit codes, common options, output, settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.presenters import json_text
from orchestrator.settings import Settings, load_settings

if TYPE_CHECKING:  # imported where used: the store is heavy for `bots --help`
    from orchestrator.identity import Identity
    from orchestrator.store import RunStore

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 70
EXIT_BUSY = 75  # EX_TEMPFAIL from sysexits.h
T = TypeVar("T")

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="The tenant (city); default: setting `tenant`.")
]


def echo(text: str = "", *, err: bool = False) -> None:
    """Print a line to stdout (or stderr)."""
    typer.echo(text, err=err)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON, as every ``--json`` option does."""
    typer.echo(json_text(data))


def print_listing(
    records: Sequence[T],
    *,
    as_json: bool,
    to_json: Callable[[T], Any],
    lines: Callable[[T], str | Iterable[str]],
    empty: str,
) -> None:
    """What a ``list`` command prints: a JSON array, or the lines of each record, or
    ``empty`` when there is none::

        print_listing(runs, as_json=as_json, to_json=presenters.run_as_json,
                      lines=presenters.run_line, empty="no runs yet")
    """
    if as_json:
        print_json([to_json(record) for record in records])
        return
    if not records:
        echo(empty)
    for record in records:
        shown = lines(record)
        for line in [shown] if isinstance(shown, str) else shown:
            echo(line)


def settings(**overrides: Any) -> Settings:
    """The effective settings, with command-line ``overrides`` on top."""
    return load_settings(**overrides)


def csv(value: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; None for an option not given."""
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


def identity(store: RunStore, settings: Settings) -> Identity:
    """Who runs this command: the OS account while no user exists, else the user of the
    token in ``BOTS_TOKEN`` or the token file (see :mod:`orchestrator.identity`).

    Raises:
        NotAuthenticated: users exist and no valid token was given.
    """
    from orchestrator.identity import current_identity

    return current_identity(store)  # ``settings``: for a token file setting, none yet


def permitted(
    store: RunStore, settings: Settings, action: str, tenant: str | None
) -> tuple[Identity, str]:
    """Who does ``action`` and on which tenant, after checking that they may::

        who, tenant = permitted(store, effective, "queue list", tenant)

    The tenant is ``tenant`` (``--tenant``), else the user's own (a user bound to one
    tenant), else the setting ``tenant``. A user bound to one tenant may use no other.

    Raises:
        NotAuthenticated: users exist and no valid token was given.
        NotAllowed: the identity's roles or tenant do not allow the action.
    """
    from orchestrator.identity import require

    who = identity(store, settings)
    where = tenant or who.tenant or settings.tenant
    require(who, action, where)
    return who, where


def acting(store: RunStore, settings: Settings, action: str, tenant: str | None) -> str:
    """The audit actor for ``action`` on ``tenant`` (default as :func:`permitted` says),
    after checking that the current identity may do it::

        actor = acting(store, effective, "queue resolve", tenant)

    Raises:
        NotAuthenticated: users exist and no valid token was given.
        NotAllowed: the identity's roles or tenant do not allow the action.
    """
    return permitted(store, settings, action, tenant)[0].actor
