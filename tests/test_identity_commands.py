"""Once users exist, the queue, run, schedule, robot and audit commands act as the token's
user: its roles decide what it may do, its tenant what exists for it, and four eyes tell
two users apart. Without users the operating-system account does everything as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.identity import Identity
from orchestrator.settings import load_settings
from orchestrator.store import RunStore, open_store


def bots(*args: str, token: str | None = None) -> Result:
    """``bots ARGS`` in this process as the holder of ``token`` (None: no token); no
    exception may escape (no traceback)."""
    env = {"BOTS_TOKEN": token} if token is not None else None
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def ok(*args: str, token: str | None = None) -> Result:
    result = bots(*args, token=token)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def as_json(*args: str, token: str | None = None) -> Any:
    return json.loads(ok(*args, "--json", token=token).stdout)


def refused(result: Result, needle: str) -> str:
    """Exit 2 with ``needle`` in the message; returns the message."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert needle in result.stderr, result.stderr
    return result.stderr


def add_user(token: str | None, name: str, tenant: str, *roles: str) -> str:
    """Add a user as the holder of ``token``; returns the new user's token."""
    options = [part for role in roles for part in ("--role", role)]
    return ok("users", "add", name, "--tenant", tenant, *options, token=token).stdout.strip()


@pytest.fixture(autouse=True)
def no_home_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default token file points into tmp_path, never at the developer's own."""
    monkeypatch.setenv("BOTS_TOKEN_FILE", str(tmp_path / "token"))


@pytest.fixture
def store() -> Iterator[RunStore]:
    """The store the commands use (the test's own data directory)."""
    with open_store(load_settings().database) as opened:
        yield opened


@pytest.fixture
def root() -> str:
    """The token of an admin of every tenant, the first user (added by the OS account)."""
    return add_user(None, "root", "*", "admin")


def test_an_approval_item_waits_for_a_second_user_of_the_tenant(root: str) -> None:
    boss = add_user(root, "boss", "giessen", "admin")
    anna = add_user(boss, "anna", "giessen", "fachamt", "approver")
    bert = add_user(boss, "bert", "giessen", "approver")
    ok("queue", "create", "eakte", "--approval", "required", token=boss)
    ok("queue", "add", "eakte", "--reference", "GA-1", "--payload", "{}", token=anna)
    (item,) = as_json("queue", "items", "eakte", token=anna)
    assert item["status"] == "awaiting_approval"
    assert item["created_by"] == "user:anna@giessen"

    refused(bots("queue", "approve", str(item["id"]), token=anna), "second person")
    assert as_json("queue", "item", str(item["id"]), token=bert)["status"] == "awaiting_approval"

    approved = ok("queue", "approve", str(item["id"]), "--comment", "geprüft", token=bert)
    assert "approved by user:bert@giessen" in approved.stdout
    after = as_json("queue", "item", str(item["id"]), token=anna)
    assert after["status"] == "new"  # robots may claim it now
    assert after["approved_by"] == "user:bert@giessen"


def test_approving_needs_the_approver_role_even_for_an_admin(root: str) -> None:
    boss = add_user(root, "boss", "giessen", "admin")
    ok("queue", "create", "eakte", "--approval", "required", token=boss)
    clerk = add_user(boss, "clerk", "giessen", "fachamt")
    ok("queue", "add", "eakte", "--reference", "GA-1", "--payload", "{}", token=clerk)
    (item,) = as_json("queue", "items", "eakte", token=clerk)

    refused(bots("queue", "approve", str(item["id"]), token=boss), "needs the role approver")
    assert as_json("queue", "item", str(item["id"]), token=boss)["status"] == "awaiting_approval"


def test_a_fachamt_user_resolves_items_but_creates_no_queues_or_users(
    root: str, store: RunStore
) -> None:
    boss = add_user(root, "boss", "giessen", "admin")
    clerk = add_user(boss, "clerk", "giessen", "fachamt")
    ok("queue", "create", "gewerbe", token=boss)
    ok("queue", "add", "gewerbe", "--reference", "GA-1", "--payload", "{}", token=clerk)
    taken = store.queues.claim_item("giessen", "gewerbe", holder="robot-1", lease_s=60)
    assert taken is not None
    store.queues.fail_item(taken.id, holder="robot-1", kind="business", message="unklar")

    ok("queue", "resolve", str(taken.id), "--done", "--comment", "per Telefon", token=clerk)
    item = as_json("queue", "item", str(taken.id), token=clerk)
    assert item["status"] == "done"
    assert item["updated_by"] == "user:clerk@giessen"

    refused(bots("queue", "create", "neu", token=clerk), "may not queue create")
    refused(
        bots("users", "add", "eve", "--role", "admin", "--tenant", "giessen", token=clerk),
        "may not users add",
    )
    assert [queue["name"] for queue in as_json("queue", "list", token=clerk)] == ["gewerbe"]


def test_a_token_of_another_tenant_sees_nothing_of_its_queues(root: str) -> None:
    giessen = add_user(root, "gina", "giessen", "admin", "fachamt")
    marburg = add_user(root, "mara", "marburg", "admin", "fachamt")
    ok("queue", "create", "gewerbe", token=giessen)
    ok("queue", "add", "gewerbe", "--reference", "GA-1", "--payload", "{}", token=giessen)
    (item,) = as_json("queue", "items", "gewerbe", token=giessen)
    theirs = str(item["id"])

    assert as_json("queue", "list", token=marburg) == []
    assert "no work queues" in ok("queue", "list", token=marburg).stdout
    # Another tenant's queue and item are answered exactly like ones that do not exist.
    for command in (["show"], ["items"]):
        found = bots("queue", *command, "gewerbe", token=marburg)
        missing = bots("queue", *command, "gibtsnicht", token=marburg)
        message = refused(found, "no work queue named 'gewerbe'")
        assert message == missing.stderr.replace("gibtsnicht", "gewerbe")
    found = bots("queue", "item", theirs, token=marburg)
    missing = bots("queue", "item", "999", token=marburg)
    assert refused(found, "no work item").replace(theirs, "N") == missing.stderr.replace("999", "N")
    resolve = bots("queue", "resolve", theirs, "--abandon", "--comment", "x", token=marburg)
    refused(resolve, "no work item")
    refused(
        bots("queue", "add", "gewerbe", "--reference", "X", "--payload", "{}", token=marburg),
        "no work queue named 'gewerbe'",
    )
    # Naming the other tenant is refused outright.
    for command in (["list"], ["show", "gewerbe"], ["item", theirs]):
        refused(bots("queue", *command, "--tenant", "giessen", token=marburg), "belongs to")
    refused(bots("runs", "list", "--tenant", "giessen", token=marburg), "belongs to")
    refused(bots("audit", "export", "--tenant", "giessen", token=marburg), "belongs to")

    exported = ok("audit", "export", token=marburg).stdout.splitlines()
    assert all(json.loads(line)["tenant"] == "marburg" for line in exported)
    # Nothing changed for giessen.
    assert as_json("queue", "item", theirs, token=giessen)["status"] == "new"


def test_with_users_every_command_needs_a_token(root: str) -> None:
    for command in (
        ["queue", "list"],
        ["queue", "create", "q"],
        ["runs", "list"],
        ["history"],
        ["show", "1"],
        ["schedule", "list"],
        ["robot", "list"],
        ["audit", "verify"],
        ["audit", "export"],
    ):
        refused(bots(*command), "token")
    assert ok("audit", "verify", token=root).stdout.startswith("ok:")


def test_without_users_the_os_account_does_everything_as_before(store: RunStore) -> None:
    ok("queue", "create", "eakte", "--approval", "required")
    ok("queue", "add", "eakte", "--reference", "GA-1", "--payload", "{}")
    theirs = store.queues.add_item("default", "eakte", "GA-2", {}, actor="user:clerk@rathaus")
    ok("queue", "approve", str(theirs.item.id))
    me = Identity.of_os_account().actor
    assert as_json("queue", "item", str(theirs.item.id))["approved_by"] == me
    (mine,) = as_json("queue", "items", "eakte", "--status", "awaiting_approval")
    assert mine["created_by"] == me
    refused(bots("queue", "approve", str(mine["id"])), "second person")
    for command in (
        ["queue", "list"],
        ["runs", "list"],
        ["history"],
        ["schedule", "list"],
        ["robot", "list"],
        ["audit", "verify"],
        ["audit", "export"],
        ["whoami"],
    ):
        ok(*command)
