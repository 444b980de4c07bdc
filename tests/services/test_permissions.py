"""Permissions are decided once, at the service: every operation, for every role, is
allowed or refused as the roles table says, and a user of one tenant acts on no other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.errors import NotAllowed, NotAuthenticated
from orchestrator.identity import Identity, resolve_actor
from orchestrator.services import (
    Context,
    Permission,
    audit,
    catalog,
    notifications,
    queues,
    reports,
    retention,
    robots,
    runs,
    schedules,
    tenant_for,
    users,
)
from orchestrator.settings import Settings, load_settings
from orchestrator.states import Maturity
from orchestrator.store import Role, RunStore, open_store

P = Permission
Operation = Callable[[Context, str | None], Any]
MISSING = 999_999  # no run, item or user has this id

#: Each operation, called so that it changes nothing when allowed (unknown ids and names,
#: dry runs). The tenant argument is the one asked for (None: the actor's own).
OPERATIONS: dict[Permission, Operation] = {
    P.LIST_QUEUES: lambda ctx, t: queues.list_queues(ctx, t),
    P.SHOW_QUEUE: lambda ctx, t: queues.get_queue(ctx, "none", t),
    P.LIST_ITEMS: lambda ctx, t: queues.list_items(ctx, "none", status=None, limit=1, tenant=t),
    P.SHOW_ITEM: lambda ctx, t: queues.get_item(ctx, MISSING, t),
    P.CREATE_QUEUE: lambda ctx, t: queues.create_queue(ctx, "none", {}, update=True, tenant=t),
    P.SYNC_QUEUES: lambda ctx, t: queues.sync_queues(ctx, t),
    P.ADD_ITEMS: lambda ctx, t: queues.add_items(ctx, "none", [], priority=0, tenant=t),
    P.RETRY_ITEM: lambda ctx, t: queues.retry_item(ctx, MISSING, None, t),
    P.RESOLVE_ITEM: lambda ctx, t: queues.resolve_item(ctx, MISSING, "done", "checked", t),
    P.APPROVE_ITEM: lambda ctx, t: queues.approve_item(ctx, MISSING, None, t),
    P.PURGE_PAYLOADS: lambda ctx, t: queues.purge_payloads(ctx, dry_run=True, tenant=t),
    P.START_RUN: lambda ctx, t: runs.enqueue_run(ctx, "no-such-bot", {}, tenant=t),
    P.LIST_RUNS: lambda ctx, t: runs.list_runs(ctx, bot=None, status=None, limit=1, tenant=t),
    P.SHOW_RUN: lambda ctx, t: runs.get_run(ctx, MISSING, t),
    P.CANCEL_RUN: lambda ctx, t: runs.cancel_run(ctx, MISSING, t),
    P.RETRY_RUN: lambda ctx, t: runs.retry_run(ctx, MISSING, t),
    P.LIST_ROBOTS: lambda ctx, t: robots.list_robots(ctx),
    P.START_ROBOT: lambda ctx, t: robots.tenants_to_serve(ctx, [t] if t else None),
    P.LIST_SCHEDULES: lambda ctx, t: schedules.list_schedules(ctx, t),
    P.PAUSE_SCHEDULE: lambda ctx, t: schedules.set_paused(ctx, "none", t, paused=True),
    P.RESUME_SCHEDULE: lambda ctx, t: schedules.set_paused(ctx, "none", t, paused=False),
    P.VERIFY_AUDIT: lambda ctx, t: audit.verify_audit(ctx),
    P.ANCHOR_AUDIT: lambda ctx, t: audit.anchor_audit(ctx),
    P.EXPORT_AUDIT: lambda ctx, t: audit.export_audit(ctx, since=None, tenant=t),
    P.REPORT_RUN: lambda ctx, t: reports.write_run_report(
        ctx, MISSING, ctx.settings.data_dir, lang="de", pdf=False, tenant=t
    ),
    P.REPORT_PERIOD: lambda ctx, t: reports.period_report(
        ctx, date(2026, 1, 1), date(2026, 1, 31), fachamt=None, bot=None, tenant=t
    ),
    P.REPORT_KPIS: lambda ctx, t: reports.key_figures(ctx, date(2026, 1, 1), t),
    P.SHOW_RETENTION: lambda ctx, t: retention.retention_periods(ctx, t),
    P.APPLY_RETENTION: lambda ctx, t: retention.apply_retention(ctx, dry_run=True, tenant=t),
    P.LIST_NOTIFICATIONS: lambda ctx, t: notifications.list_notifications(
        ctx, status=None, limit=1, tenant=t
    ),
    P.DELIVER_NOTIFICATIONS: lambda ctx, t: notifications.deliver_notifications(ctx, due_only=True),
    P.TEST_NOTIFICATIONS: lambda ctx, t: notifications.send_test_messages(ctx, t, "none"),
    P.READ_CATALOG: lambda ctx, t: catalog.read_catalog(ctx),
    P.PROMOTE_BOT: lambda ctx, t: catalog.promote_bot(
        ctx, "no-such-bot", Maturity.PILOT, version=None, successor=None, overrides={}
    ),
    P.PUBLISH_BOT: lambda ctx, t: catalog.publish_bot(
        ctx,
        SimpleNamespace(id="no-such-bot"),
        Path("missing.bundle"),  # type: ignore[arg-type]
    ),
    P.VERIFY_BUNDLE: lambda ctx, t: catalog.verify_bundle(ctx, Path("missing.bundle"), t),
    P.INSTALL_BOT: lambda ctx, t: catalog.install_bot(ctx, "no-such-bot", tenant=t, into=None),
    P.UPGRADE_BOT: lambda ctx, t: catalog.upgrade_bot(
        ctx, "no-such-bot", to="9.9.9", tenant=t, bundle=None, into=None
    ),
    P.LIST_USERS: lambda ctx, t: users.visible_users(ctx),
    P.ADD_USER: lambda ctx, t: users.add_user(ctx, "new", ["no-such-role"], t),
    P.DISABLE_USER: lambda ctx, t: users.disable_user(ctx, "nobody", t),
}

#: Operations on no one tenant: only the role decides.
TENANTLESS = {
    P.LIST_ROBOTS,
    P.VERIFY_AUDIT,
    P.ANCHOR_AUDIT,
    P.DELIVER_NOTIFICATIONS,
    P.READ_CATALOG,
    P.PROMOTE_BOT,
    P.PUBLISH_BOT,
    P.LIST_USERS,
}

_EVERY = "ADOFP"
#: Who may do what, as docs/orchestrator.md's table says (A admin, D developer, O operator,
#: F fachamt, P approver), written out here so that a change of the table shows.
EXPECTED: dict[Permission, str] = {
    **dict.fromkeys([P.LIST_QUEUES, P.SHOW_QUEUE, P.LIST_ITEMS, P.SHOW_ITEM], _EVERY),
    **dict.fromkeys([P.CREATE_QUEUE, P.SYNC_QUEUES, P.PROMOTE_BOT, P.PUBLISH_BOT], "AD"),
    P.ADD_ITEMS: "ADOF",
    **dict.fromkeys([P.RETRY_ITEM, P.RESOLVE_ITEM], "AOF"),
    P.APPROVE_ITEM: "P",
    **dict.fromkeys([P.START_RUN, P.CANCEL_RUN, P.RETRY_RUN], "ADO"),
    **dict.fromkeys([P.LIST_RUNS, P.SHOW_RUN, P.LIST_ROBOTS, P.LIST_SCHEDULES], _EVERY),
    **dict.fromkeys([P.START_ROBOT, P.PAUSE_SCHEDULE, P.RESUME_SCHEDULE, P.ANCHOR_AUDIT], "AO"),
    **dict.fromkeys([P.DELIVER_NOTIFICATIONS, P.TEST_NOTIFICATIONS], "AO"),
    **dict.fromkeys([P.INSTALL_BOT, P.UPGRADE_BOT], "AO"),
    **dict.fromkeys([P.VERIFY_AUDIT, P.SHOW_RETENTION, P.LIST_NOTIFICATIONS], _EVERY),
    **dict.fromkeys([P.REPORT_RUN, P.REPORT_PERIOD, P.REPORT_KPIS], _EVERY),
    **dict.fromkeys([P.READ_CATALOG, P.VERIFY_BUNDLE], _EVERY),
    **dict.fromkeys([P.EXPORT_AUDIT, P.APPLY_RETENTION, P.PURGE_PAYLOADS], "A"),
    **dict.fromkeys([P.LIST_USERS, P.ADD_USER, P.DISABLE_USER], "A"),
}
LETTER = {"A": Role.ADMIN, "D": Role.DEVELOPER, "O": Role.OPERATOR, "F": Role.FACHAMT}
LETTER["P"] = Role.APPROVER


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One data directory for the module; a catalog that does not exist, so no operation
    could write into the repository's."""
    data = tmp_path_factory.mktemp("services")
    return load_settings(data_dir=data, catalog_file=data / "bot_catalog.yaml")


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[RunStore]:
    with open_store(settings.database) as opened:
        yield opened


def as_user(store: RunStore, settings: Settings, *roles: Role, tenant: str = "giessen") -> Context:
    return Context(store, settings, Identity("anna", tenant, frozenset(roles), "user"))


def test_every_permission_has_an_operation_and_an_expectation() -> None:
    assert set(OPERATIONS) == set(Permission) == set(EXPECTED)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("permission", list(Permission), ids=str)
def test_each_role_is_allowed_or_refused_as_the_table_says(
    permission: Permission, role: Role, store: RunStore, settings: Settings
) -> None:
    ctx = as_user(store, settings, role)
    allowed = role in {LETTER[letter] for letter in EXPECTED[permission]}
    try:
        OPERATIONS[permission](ctx, None)
    except NotAllowed as refusal:
        assert not allowed, f"{role} was refused {permission}: {refusal}"
        assert f"may not {permission.value}" in str(refusal)
        assert role.value in str(refusal)  # (has: <role>)
    except Exception:  # allowed; then the missing id, name or file stops it
        assert allowed, f"{role} got past the check of {permission}"
    else:
        assert allowed, f"{role} was allowed {permission}"


@pytest.mark.parametrize("permission", [p for p in Permission if p not in TENANTLESS], ids=str)
def test_a_user_of_one_tenant_acts_on_no_other(
    permission: Permission, store: RunStore, settings: Settings
) -> None:
    ctx = as_user(store, settings, *Role)
    with pytest.raises(NotAllowed, match="belongs to tenant 'giessen' and cannot act on"):
        OPERATIONS[permission](ctx, "marburg")


def test_the_one_tenant_rule() -> None:
    anna = Identity("anna", "giessen", frozenset(Role), "user")
    ops = Identity("ops", None, frozenset(Role), "user")
    assert tenant_for(anna, "marburg", "kassel") == "marburg"  # asked (and then refused)
    assert tenant_for(anna, None, "kassel") == "giessen"  # the user's own
    assert tenant_for(ops, None, "kassel") == "kassel"  # the setting `tenant`
    assert tenant_for(ops, None, None) is None  # every tenant


def test_only_an_explicit_choice_acts_as_the_os_account(store: RunStore) -> None:
    """Without users a web server refuses; only the CLI's choice acts as the OS account."""
    with pytest.raises(NotAuthenticated, match="no users exist"):
        resolve_actor(store, None)
    assert resolve_actor(store, None, allow_os_account=True).kind == "os"


def test_a_token_is_resolved_to_its_user_and_no_more_to_the_os_account(tmp_path: Path) -> None:
    with open_store(load_settings(data_dir=tmp_path).database) as store:
        _, token = store.users.add_user("giessen", "anna", ["fachamt"], actor="test")
        never_asked = lambda: pytest.fail("the token is read only once users exist")  # noqa: E731
        assert resolve_actor(store, token, allow_os_account=True).actor == "user:anna@giessen"
        assert resolve_actor(store, lambda: token).actor == "user:anna@giessen"
        with pytest.raises(NotAuthenticated, match="a token is needed"):
            resolve_actor(store, None, allow_os_account=True)
        with pytest.raises(NotAuthenticated, match="not valid"):
            resolve_actor(store, "kb_wrong")
    with open_store(load_settings(data_dir=tmp_path / "empty").database) as empty:
        assert resolve_actor(empty, never_asked, allow_os_account=True).kind == "os"
