"""The command groups of `bots`, one module each; ``cli.py`` assembles them.

Each module offers ``app``, a ``typer.Typer``: named (``bots runs ...``) for a group,
unnamed for top-level commands (``bots run``, ``bots show``). A command parses its options,
calls the library (a command that acts for a person: its operation of
:mod:`orchestrator.services`, in :func:`~orchestrator.commands.shared.service_context`; it
imports neither the store nor the identity), prints through :mod:`orchestrator.presenters`
and raises ``typer.Exit``
with a code from :mod:`orchestrator.commands.shared`; a :class:`~orchestrator.errors.BotsError`
it lets through is mapped to its exit code by ``cli.py``. Only ``cli.py`` imports this package.
"""
