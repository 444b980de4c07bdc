"""`bots users` (add, list, disable) and `bots whoami`: people, roles and their tokens.

The library twins are in :mod:`orchestrator.services.users`. A token is printed once, alone on
stdout (the note about it goes to stderr), so it can go straight into the token file::

    bots users add anna --tenant giessen --role fachamt > ~/.config/kommune-bots/token
"""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrator import presenters
from orchestrator.commands.shared import TenantOption, echo, print_json, service_context

app = typer.Typer()  # `bots whoami` at the top level, `bots users ...` as a group
users_app = typer.Typer(
    name="users", help="People with roles per tenant and their tokens.", no_args_is_help=True
)
app.add_typer(users_app)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The person's user name, unique in the tenant.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="A role: admin, developer, operator, fachamt or approver; repeat for several.",
        ),
    ],
    tenant: TenantOption = None,
) -> None:
    """Add a user and print the personal token, once. The first user must be an admin and
    may be added by the operating-system account; after that, only an admin's token."""
    from orchestrator.services import token_file, users

    with service_context() as ctx:
        user, token = users.add_user(ctx, name, role, tenant)
    roles = ", ".join(user.roles)
    echo(f"user {user.name!r} of tenant {user.tenant!r} added (roles: {roles})", err=True)
    echo(
        "the token follows; it is shown only this once. Store it where only this person can "
        f"read it, e.g. {token_file()} (chmod 600), or pass it as BOTS_TOKEN",
        err=True,
    )
    echo(token)


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the users (an admin sees those of the own tenant): names, roles, status."""
    from orchestrator.services import users

    with service_context() as ctx:
        listed = users.visible_users(ctx)
    if as_json:
        print_json([user.to_json() for user in listed])
        return
    if not listed:
        echo(
            "no users: the operating-system account acts (add the first admin with "
            "`bots users add NAME --role admin`)"
        )
        return
    for user in listed:
        echo(presenters.user_line(user))


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")],
    tenant: TenantOption = None,
) -> None:
    """Disable a user: the token is refused from now on (the name stays taken)."""
    from orchestrator.services import users

    with service_context() as ctx:
        user = users.disable_user(ctx, name, tenant)
    echo(f"user {user.name!r} of tenant {user.tenant!r} disabled")


@app.command("whoami")
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show who the commands act as: a user (from the token) or the operating-system
    account (while no users exist), with roles and tenant."""
    with service_context() as ctx:
        who = ctx.actor
    if as_json:
        print_json(who.to_json())
        return
    echo(presenters.identity_line(who))
