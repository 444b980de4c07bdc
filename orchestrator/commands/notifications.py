"""`bots notifications`: the outbox of e-mail and webhook messages: list, deliver, test."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import (
    EXIT_ENVIRONMENT,
    TenantOption,
    echo,
    print_listing,
    service_context,
)
from orchestrator.states import NotificationStatus

app = typer.Typer(
    name="notifications",
    help="E-mail and webhook notifications: what was sent, what waits, and a test.",
    no_args_is_help=True,
)


@app.command("list")
def notifications_list(
    status: Annotated[
        NotificationStatus | None, typer.Option(help="Only messages in this status.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    tenant: Annotated[
        str | None,
        typer.Option(help="Only this tenant's messages (a user of one tenant: always its own)."),
    ] = None,
) -> None:
    """List notifications, newest first: event, what about, channel, delivery."""
    from orchestrator.services import notifications

    with service_context() as ctx:
        messages = notifications.list_notifications(ctx, status=status, limit=limit, tenant=tenant)
    print_listing(
        messages,
        as_json=as_json,
        to_json=presenters.notification_as_json,
        lines=presenters.notification_line,
        empty="no notifications" + (f" in status {status}" if status else ""),
    )


@app.command("deliver")
def notifications_deliver(
    now: Annotated[
        bool,
        typer.Option("--now", help="Also messages still waiting out their backoff (retry now)."),
    ] = False,
) -> None:
    """Send what is pending now (for cron where no orchestrator runs).

    SLA breaches and robots gone silent are queued first, and due daily digests put
    together. Exit 3 if a message could not be delivered (it stays pending, retried later).
    """
    from orchestrator.services import notifications

    with service_context() as ctx:
        done = notifications.deliver_notifications(ctx, due_only=not now)
    echo(f"sent {len(done.sent)}, not delivered {len(done.failed)}")
    for notification_id, why in done.failed:
        echo(f"  notification {notification_id}: {why}", err=True)
    if done.failed:
        raise typer.Exit(EXIT_ENVIRONMENT)


@app.command("test")
def notifications_test(
    tenant: TenantOption = None,
    channel: Annotated[
        str | None, typer.Option(help="Only this channel; default: every channel.")
    ] = None,
) -> None:
    """Send a test message on every channel of the tenant now.

    Exit 3, naming each channel that could not be reached and why.
    """
    from orchestrator.services import notifications

    with service_context() as ctx:
        outcome = notifications.send_test_messages(ctx, tenant, channel)
    for name, why in outcome.items():
        if why is None:
            echo(f"{name}: test message sent")
        else:
            echo(f"{name}: not delivered: {why}", err=True)
    if any(why is not None for why in outcome.values()):
        raise typer.Exit(EXIT_ENVIRONMENT)
