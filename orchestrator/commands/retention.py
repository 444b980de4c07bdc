"""`bots retention`: delete run evidence, reports, logs and work-item payloads on time.

``apply`` deletes what has expired (``--dry-run``: only says what it would delete), audited
under the user; ``show`` prints the periods in force. Without ``--tenant`` both cover every
tenant the identity may see: all of them for the OS account and users of tenant ``*``, the
user's own otherwise. Deleting needs the role admin (:data:`orchestrator.identity.PERMISSIONS`).
The orchestrator's leader does the same as ``apply`` once a day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import EXIT_FAILED, echo, identity, print_json, settings

if TYPE_CHECKING:
    from orchestrator.store import RunStore

app = typer.Typer(
    name="retention",
    help="Deletion on time: screenshots, traces, reports, logs and payloads past their period.",
    no_args_is_help=True,
)

TenantOption = Annotated[
    str | None,
    typer.Option("--tenant", help="Only this tenant; default: every tenant you may see."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("apply")
def retention_apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Delete nothing; say what would be deleted.")
    ] = False,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete what has expired, per tenant and kind; each deletion is audited.

    Exits 1 if a file could not be deleted (it is named; the next run tries again).
    """
    from orchestrator.engine.run_end import expire_records
    from orchestrator.identity import require
    from orchestrator.store import open_store

    effective = settings()
    with open_store(effective.database) as store:
        who = identity(store, effective)
        where = tenant or who.tenant  # None: every tenant
        require(who, "retention apply", where)
        outcome = expire_records(store, effective, actor=who.actor, tenant=where, dry_run=dry_run)
    if as_json:
        print_json(outcome.to_json())
    else:
        for line in presenters.retention_lines(outcome):
            echo(line, err=line.startswith("left alone: "))
    if outcome.left_alone:
        raise typer.Exit(EXIT_FAILED)


@app.command("show")
def retention_show(tenant: TenantOption = None, as_json: JsonOption = False) -> None:
    """Show how long each kind of record is kept, per tenant, and each work queue's period."""
    from orchestrator.identity import require
    from orchestrator.retention import periods_as_json
    from orchestrator.store import open_store

    effective = settings()
    with open_store(effective.database) as store:
        who = identity(store, effective)
        where = tenant or who.tenant
        require(who, "retention show", where)
        tenants = [where] if where else _known_tenants(effective.all_tenants(), store)
        shown = [
            periods_as_json(
                effective,
                name,
                {queue.name: queue.retention_days for queue in store.queues.list_queues(name)},
            )
            for name in tenants
        ]
    if as_json:
        print_json(shown)
        return
    for periods in shown:
        for line in presenters.retention_period_lines(periods):
            echo(line)


def _known_tenants(configured: list[str], store: RunStore) -> list[str]:
    """The configured tenants and those with work queues."""
    return sorted({*configured, *store.retention.queue_tenants()})
