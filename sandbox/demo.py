"""`bots demo`: the whole path once, end to end, on this machine.

Seeds the sandbox, serves it, runs ``gewerbe-uebertragung`` in a real Chromium, and tells what
happened in both target systems and where the run's artifacts are. The sandbox's state stays in
the data directory, so ``bots sandbox serve`` and ``bots run gewerbe-uebertragung`` afterwards
continue where the demo stopped (and create no duplicates).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.errors import QueueNotFound
from orchestrator.model.loader import resolve_bot
from orchestrator.results import RunRecord, RunStatus
from orchestrator.settings import Settings
from orchestrator.store import open_store
from sandbox.seed import seed_each
from sandbox.server import running_sandbox
from sandbox.state import format_state, read_state

DEMO_BOT = "gewerbe-uebertragung"
#: The work queue the demo bot fills and works through.
DEMO_QUEUE = "gewerbeanmeldungen"


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo did: the run and the target systems' state afterwards."""

    run: RunRecord
    state: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        """The run succeeded and nothing was entered twice."""
        return self.run.status == RunStatus.SUCCEEDED and not self.state["duplicates"]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def run_demo(
    settings: Settings, *, headed: bool = False, echo: Callable[[str], None] = print
) -> DemoOutcome:
    """Seed and serve the sandbox, run the demo bot against it, report the outcome."""
    sandbox_settings = settings.sandbox
    if sandbox_settings.port and not _port_free(sandbox_settings.host, sandbox_settings.port):
        echo(f"port {sandbox_settings.port} is taken; the demo's sandbox uses a free port")
        sandbox_settings = sandbox_settings.model_copy(update={"port": 0})
    counts = seed_each(settings.sandbox_dir, sandbox_settings, reset=True)
    seeded = ", ".join(f"{name} {count}" for name, count in counts.items())
    echo(f"sandbox seeded ({seeded}) in {settings.sandbox_dir}")
    bot = resolve_bot(DEMO_BOT, settings.bot_dirs)
    password = sandbox_settings.password  # the sandbox's training password, not a real secret
    secrets = MappingSecretProvider(
        {"civento_password": password, "gewerberegister_password": password}
    )
    store = open_store(settings.database)
    try:
        # A sandbox seeded afresh is a new world with the same Civento numbers: the demo's
        # work queue forgets the cases of the last demo, or it would skip them all.
        try:
            store.queues.delete_queue(settings.tenant, DEMO_QUEUE, actor="demo")
        except QueueNotFound:
            pass
        with running_sandbox(
            settings.sandbox_dir, sandbox_settings, port=sandbox_settings.port
        ) as sandbox:
            echo(f"sandbox serving at {sandbox.base_url}")
            # Every stand-in served is the target of the connector of its name.
            targets = {**settings.targets, **sandbox.urls}
            run_settings = settings.model_copy(update={"targets": targets, "tenants": {}})
            echo(f"running {DEMO_BOT} {bot.definition.version} ...")
            record = run_bot(
                bot,
                settings=run_settings,
                store=store,
                trigger="demo",
                headed=headed or None,
                secrets=secrets,
            )
    finally:
        store.close()
    state = read_state(settings.sandbox_dir)
    echo("")
    echo(f"run {record.id}: {record.status}")
    if record.error:
        echo(f"  error at {record.error_step}: {record.error}")
    echo("")
    echo(format_state(state))
    echo("")
    echo(f"artifacts of the run: {settings.runs_dir / str(record.id)}")
    for artifact in record.artifacts:
        echo(f"  {artifact.kind}: {artifact.path}")
    echo(f"details: bots show {record.id}   history: bots history")
    echo("")
    echo("The sandbox's state stays in the data directory. To run the bot again yourself:")
    echo(f"  bots sandbox serve &    # Civento and Gewerberegister on port {settings.sandbox.port}")
    echo(f"  export BOTS_SECRET_CIVENTO_PASSWORD={password}")
    echo(f"  export BOTS_SECRET_GEWERBEREGISTER_PASSWORD={password}")
    echo(f"  bots run {DEMO_BOT}     # transfers only what is new: no duplicates")
    return DemoOutcome(run=record, state=state)
