"""The `bots` command: assemble the command groups, map errors to exit codes.

Exit codes: 0 success, 1 the bot failed (or `bots audit verify` found tampering), 2 invalid
input or definition, 3 the machine lacks something (browser, writable data directory), 70 an
internal error (a bug: please report), 75 the bot is busy (another run holds it, or a pool it
needs is full: try again later; cron jobs may treat it as "skipped").
Each group is a module of ``orchestrator.commands``; every command has a library twin in
``orchestrator``. Tests drive ``app`` with ``typer.testing.CliRunner``.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from orchestrator import errors
from orchestrator.commands.shared import (
    EXIT_BUSY,
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    echo,
)

# Modules of orchestrator.commands, in the order `bots --help` lists their commands. A new
# group is one more line here.
COMMAND_GROUPS = (
    "run",  # validate, schema, run, history, show
    "demo",
    "doctor",
    "sandbox",
    "runs",
    "schedule",
    "audit",
    "report",  # reports for Fachämter
    "retention",  # deletion on time
    "robot",
    "scheduler",  # bots orchestrator start
    "connectors",
    "queue",  # work queues and their items
    "users",  # users and their tokens, whoami
    "notifications",  # e-mail and webhook messages: list, deliver, test
    "catalog",  # the bots the cities share: list, show, diff, promote
    "lint",  # bots lint: fragile or unsafe bot files, as text, JSON or SARIF
)


def exit_code(exc: errors.BotsError) -> int:
    """The exit code for an error the user can cause or meet (see the module docstring)."""
    if isinstance(exc, errors.BotBusy | errors.RobotNameTaken):
        return EXIT_BUSY
    if isinstance(exc, errors.RunFailed):
        return EXIT_FAILED
    if isinstance(exc, errors.EnvironmentProblem):
        return EXIT_ENVIRONMENT
    return EXIT_INPUT


class _BotsGroup(TyperGroup):
    """The top-level group: a ``BotsError`` from any command becomes a message and its code.

    Mapped here rather than in :func:`main` so that ``CliRunner`` sees what a shell sees.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except errors.BotsError as exc:
            echo(f"error: {exc}", err=True)
            raise typer.Exit(exit_code(exc)) from None


app = typer.Typer(
    cls=_BotsGroup,
    help="Run, check and inspect RPA bots for municipal casework.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for _group in COMMAND_GROUPS:
    app.add_typer(import_module(f"orchestrator.commands.{_group}").app)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: no traceback for anything the user can cause.

    Typer's standalone mode reports usage errors itself (exit 2) and exits via SystemExit.
    """
    try:
        app(args=argv)
    except errors.BotsError as exc:  # raised outside a command (none known): same mapping
        echo(f"error: {exc}", err=True)
        sys.exit(exit_code(exc))
    except KeyboardInterrupt:
        echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # our own bugs
        if os.environ.get("BOTS_DEBUG"):
            raise
        echo(f"internal error ({type(exc).__name__}): {exc}", err=True)
        echo("this is a bug; run again with BOTS_DEBUG=1 for details and report it", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
