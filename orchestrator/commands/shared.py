"""What every command group shares: exit codes, common options, output, settings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from orchestrator.presenters import json_text
from orchestrator.settings import Settings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 70
EXIT_BUSY = 75  # EX_TEMPFAIL from sysexits.h

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="The tenant (city); default: setting `tenant`.")
]


def echo(text: str = "", *, err: bool = False) -> None:
    """Print a line to stdout (or stderr)."""
    typer.echo(text, err=err)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON, as every ``--json`` option does."""
    typer.echo(json_text(data))


def settings(**overrides: Any) -> Settings:
    """The effective settings, with command-line ``overrides`` on top."""
    return load_settings(**overrides)


def csv(value: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; None for an option not given."""
    return [part.strip() for part in value.split(",") if part.strip()] if value else None
