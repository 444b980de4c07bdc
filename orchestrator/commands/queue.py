"""`bots queue`: work queues and their items, for operators and the people who decide.

A queue is created by ``bots queue create`` or declared in the configuration (``queues:``,
per tenant, like schedules) and made so by ``bots queue sync``. Items arrive one at a time
(``--reference --payload``) or from a file (``--from cases.csv|.xlsx|.json``): a file is
read and checked whole first, then added in one transaction, so a bad row adds nothing.
People act on items by id: ``retry``, ``resolve``, ``approve``. Each command parses, calls
its operation of :mod:`orchestrator.services.queues` (which checks the role and the tenant,
whose queues and items alone exist for the user) and prints the result. Every change is
audited under that user (``user:<name>@<tenant>``), or the operating-system account while no
users exist.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from orchestrator import presenters
from orchestrator.commands.shared import (
    TenantOption,
    echo,
    print_json,
    print_listing,
    service_context,
)
from orchestrator.errors import InputError
from orchestrator.queue_files import Row, json_object, read_rows, read_schema
from orchestrator.states import WorkItemStatus

app = typer.Typer(
    name="queue",
    help="Work queues: every case done once, people asked where people decide.",
    no_args_is_help=True,
)

#: Option values that clear a setting of ``bots queue create --update`` (the service's
#: ``CLEARED``).
_NONE = "none"

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ItemArgument = Annotated[int, typer.Argument(help="Id of the work item.")]


class Approval(StrEnum):
    """Whether a second person approves each item before robots act on it."""

    REQUIRED = "required"
    NONE = "none"


# --------------------------------------------------------------------------- queues


@app.command("create")
def queue_create(
    name: Annotated[str, typer.Argument(help="Queue name, unique in the tenant.")],
    max_attempts: Annotated[int | None, typer.Option(help="Takes per item [3].")] = None,
    retry_delay: Annotated[
        float | None, typer.Option(help="Seconds before the first retry [60].")
    ] = None,
    backoff: Annotated[float | None, typer.Option(help="Factor for each next retry [2].")] = None,
    schema: Annotated[
        str | None, typer.Option(help="JSON file with the payloads' JSON Schema; 'none' drops it.")
    ] = None,
    sla: Annotated[
        str | None, typer.Option(help="Deadline after adding: 3d, 36h, 90m; 'none': no deadline.")
    ] = None,
    retention_days: Annotated[
        int | None, typer.Option(help="Days after an item ended until its payload goes [365].")
    ] = None,
    next_on_success: Annotated[
        str | None, typer.Option(help="Queue receiving a done item's output; 'none': no queue.")
    ] = None,
    next_on_failure: Annotated[
        str | None, typer.Option(help="Queue receiving a failed item's payload; 'none'.")
    ] = None,
    approval: Annotated[
        Approval | None, typer.Option(help="required: four eyes before robots act [none].")
    ] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Change an existing queue; options not given stay.")
    ] = False,
    tenant: TenantOption = None,
) -> None:
    """Create a work queue (or change one with --update); audited."""
    from orchestrator.services import queues

    given: dict[str, Any] = {
        "max_attempts": max_attempts,
        "retry_delay_s": retry_delay,
        "backoff": backoff,
        "schema": _schema_option(schema),
        "sla_s": _sla_option(sla),
        "retention_days": retention_days,
        "next_on_success": next_on_success,
        "next_on_failure": next_on_failure,
        "approval_required": None if approval is None else approval is Approval.REQUIRED,
    }
    with service_context() as ctx:
        queue = queues.create_queue(ctx, name, given, update=update, tenant=tenant)
    echo(f"work queue {queue.name} {'changed' if update else 'created'}")
    for line in presenters.queue_details(queue)[1:]:
        echo(line)


@app.command("sync")
def queue_sync(tenant: TenantOption = None) -> None:
    """Create or change the tenant's queues as the configuration declares them (`queues:`).

    One transaction: all of them, or none if one is wrong. Queues the configuration does not
    name are left as they are (queues are never deleted: their references stay known).
    """
    from orchestrator.services import queues

    with service_context() as ctx:
        where, results = queues.sync_queues(ctx, tenant)
    if not results:
        echo(f"the configuration declares no work queues for tenant {where}")
        return
    for result in results:
        echo(f"{result.name:<24} {result}")


@app.command("list")
def queue_list(as_json: JsonOption = False, tenant: TenantOption = None) -> None:
    """List the tenant's work queues with their items counted per status."""
    from orchestrator.services import queues

    with service_context() as ctx:
        found = queues.list_queues(ctx, tenant)
    print_listing(
        found,
        as_json=as_json,
        to_json=presenters.queue_as_json,
        lines=presenters.queue_line,
        empty="no work queues yet: bots queue create NAME, or declare them and bots queue sync",
    )


@app.command("show")
def queue_show(
    name: Annotated[str, typer.Argument(help="Queue name.")],
    as_json: JsonOption = False,
    tenant: TenantOption = None,
) -> None:
    """Show a queue's policy and its items counted per status."""
    from orchestrator.services import queues

    with service_context() as ctx:
        queue = queues.get_queue(ctx, name, tenant)
    if as_json:
        print_json(presenters.queue_as_json(queue))
        return
    for line in presenters.queue_details(queue):
        echo(line)


# --------------------------------------------------------------------------- items


@app.command("add")
def queue_add(
    queue: Annotated[str, typer.Argument(help="Queue name.")],
    reference: Annotated[
        str | None, typer.Option(help="The case's reference, unique in the queue.")
    ] = None,
    payload: Annotated[str | None, typer.Option(help="The case's data as a JSON object.")] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="A .csv, .xlsx or .json file: one item per row."),
    ] = None,
    reference_column: Annotated[
        str | None, typer.Option(help="Column holding the reference [reference, or Nummer].")
    ] = None,
    priority: Annotated[int, typer.Option(help="Higher is taken first.")] = 0,
    as_json: JsonOption = False,
    tenant: TenantOption = None,
) -> None:
    """Add items; a reference the queue knows already is left alone and named."""
    if source is not None:
        if reference is not None or payload is not None:
            raise InputError("give either --from FILE or --reference with --payload, not both")
        rows = read_rows(source, reference_column)
    elif reference is not None and payload is not None:
        rows = [Row("--payload", reference, json_object(payload, "--payload"))]
    else:
        raise InputError("give --reference REF with --payload JSON, or --from FILE")
    from orchestrator.services import queues

    with service_context() as ctx:
        added = queues.add_items(ctx, queue, rows, priority=priority, tenant=tenant)
    new = sum(result.created for result in added)
    if as_json:
        print_json(
            {
                "queue": queue,
                "created": new,
                "known": len(added) - new,
                "items": [
                    {"row": row.where, "created": result.created, **result.item.to_json()}
                    for row, result in zip(rows, added, strict=True)
                ],
            }
        )
        return
    for result in added:
        item = result.item
        if result.created:
            echo(f"created  item {item.id}  {item.reference}  ({item.status.value})")
        else:
            echo(
                f"known    item {item.id}  {item.reference}  ({item.status.value}, added "
                f"{item.created_at:%Y-%m-%d}): not added again"
            )
    if len(added) > 1:
        echo(f"{new} created, {len(added) - new} known already")


@app.command("items")
def queue_items(
    queue: Annotated[str, typer.Argument(help="Queue name.")],
    status: Annotated[
        list[WorkItemStatus] | None,
        typer.Option(help="Only items in this status (repeat for several)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 100,
    as_json: JsonOption = False,
    tenant: TenantOption = None,
) -> None:
    """List a queue's items (e.g. --status needs_human: what needs a person)."""
    from orchestrator.services import queues

    with service_context() as ctx:
        items = queues.list_items(ctx, queue, status=status, limit=limit, tenant=tenant)
    print_listing(
        items,
        as_json=as_json,
        to_json=presenters.item_as_json,
        lines=presenters.item_line,
        empty="no items" + (f" in status {', '.join(status)}" if status else ""),
    )


@app.command("item")
def queue_item(
    item_id: ItemArgument, as_json: JsonOption = False, tenant: TenantOption = None
) -> None:
    """Show one item: payload, output, last error, evidence and the runs that touched it."""
    from orchestrator.services import queues

    with service_context() as ctx:
        item = queues.get_item(ctx, item_id, tenant)
    if as_json:
        print_json(presenters.item_as_json(item))
        return
    for line in presenters.item_details(item):
        echo(line)


@app.command("retry")
def queue_retry(
    item_id: ItemArgument,
    comment: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    tenant: TenantOption = None,
) -> None:
    """Queue a done, failed or needs_human item again under its reference (attempts reset)."""
    from orchestrator.services import queues

    with service_context() as ctx:
        item = queues.retry_item(ctx, item_id, comment, tenant)
    echo(f"item {item.id} ({item.reference}) is {item.status.value} again: robots take it")


@app.command("resolve")
def queue_resolve(
    item_id: ItemArgument,
    comment: Annotated[str, typer.Option(help="What was decided, for the audit trail.")],
    retry: Annotated[bool, typer.Option("--retry", help="Give it back to the robots.")] = False,
    done: Annotated[bool, typer.Option("--done", help="It was finished by hand.")] = False,
    abandon: Annotated[bool, typer.Option("--abandon", help="Drop the case.")] = False,
    tenant: TenantOption = None,
) -> None:
    """Settle an item a person looked at (typically needs_human): --retry, --done or --abandon."""
    flags: dict[Literal["retry", "done", "abandon"], bool] = {
        "retry": retry,
        "done": done,
        "abandon": abandon,
    }
    chosen = [action for action, flag in flags.items() if flag]
    if len(chosen) != 1:
        raise InputError("give exactly one of --retry, --done, --abandon")
    if not comment.strip():
        raise InputError("--comment must say what was decided")
    from orchestrator.services import queues

    with service_context() as ctx:
        item = queues.resolve_item(ctx, item_id, chosen[0], comment, tenant)
    echo(f"item {item.id} ({item.reference}) is {item.status.value}")


@app.command("approve")
def queue_approve(
    item_id: ItemArgument,
    comment: Annotated[str | None, typer.Option(help="For the audit trail.")] = None,
    tenant: TenantOption = None,
) -> None:
    """Approve an item awaiting approval (four eyes: not by who created or last changed it)."""
    from orchestrator.services import queues

    with service_context() as ctx:
        item = queues.approve_item(ctx, item_id, comment, tenant)
    echo(f"item {item.id} ({item.reference}) approved by {ctx.actor.actor}: robots may take it")


@app.command("purge")
def queue_purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say which items would be purged.")
    ] = False,
    tenant: TenantOption = None,
) -> None:
    """Delete payload and output of items that ended longer ago than their queue's retention.

    Reference, status and history stay (a purged reference is still refused as known). Audited.
    """
    from orchestrator.services import queues

    with service_context() as ctx:
        ids = queues.purge_payloads(ctx, dry_run=dry_run, tenant=tenant)
    listed = ", ".join(map(str, ids))
    if not ids:
        echo("no payloads are past their retention")
    elif dry_run:
        echo(f"would purge the payloads of {len(ids)} items: {listed}")
    else:
        echo(f"purged the payloads of {len(ids)} items: {listed}")


def _schema_option(value: str | None) -> dict[str, Any] | str | None:
    return value if value in (None, _NONE) else read_schema(Path(value))


def _sla_option(value: str | None) -> float | str | None:
    if value in (None, _NONE):
        return value
    from orchestrator.settings import duration_s

    try:
        return duration_s(value)
    except ValueError as exc:
        raise InputError(f"--sla: {exc}") from None
