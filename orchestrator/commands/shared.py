"""What every command group shares: exit codes, common options, output, settings, and the
service context of a command that acts for a person."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.presenters import json_text

if TYPE_CHECKING:  # imported where used: the store is heavy for `bots --help`
    from orchestrator.services import Context
    from orchestrator.settings import Settings

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
    from orchestrator.settings import load_settings  # pydantic-settings: not for `--help`

    return load_settings(**overrides)


def csv(value: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; None for an option not given."""
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@contextmanager
def service_context(**overrides: Any) -> Iterator[Context]:
    """What a command hands the service layer (:mod:`orchestrator.services`): the effective
    settings (``overrides`` on top), the store, and who acts::

        with service_context() as ctx:
            item = queues.resolve_item(ctx, item_id, "done", comment, tenant)

    Who acts is the user of the token in ``BOTS_TOKEN`` or the token file, or, while no user
    exists, the operating-system account: a choice only the CLI on one machine makes.

    Raises:
        NotAuthenticated: users exist and no valid token was given.
    """
    from orchestrator.services import environment_token, open_context

    with open_context(settings(**overrides), environment_token, allow_os_account=True) as ctx:
        yield ctx
