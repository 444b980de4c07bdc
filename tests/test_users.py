"""`bots users` and `bots whoami`: named users with roles per tenant, tokens shown once,
refused when wrong, disabled, foreign or lying in a file others can read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.errors import NotAllowed
from orchestrator.identity import Identity
from orchestrator.services import PERMISSIONS, Permission
from orchestrator.services import authorise as require
from orchestrator.settings import load_settings
from orchestrator.store import Role, open_store


def bots(*args: str, token: str | None = None, env: dict[str, str] | None = None) -> Result:
    """``bots ARGS`` in this process, as the holder of ``token`` (None: no token)."""
    extra = dict(env or {})
    if token is not None:
        extra["BOTS_TOKEN"] = token
    return CliRunner().invoke(app, list(args), env=extra)


def refused(result: Result, needle: str) -> None:
    """Exit 2 with ``needle`` in the message and no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.fixture(autouse=True)
def no_home_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default token file points into tmp_path, never at the developer's own."""
    path = tmp_path / "token"
    monkeypatch.setenv("BOTS_TOKEN_FILE", str(path))
    return path


@pytest.fixture
def admin() -> str:
    """The token of ``boss``, first admin of giessen, added by the OS account."""
    result = bots("users", "add", "boss", "--tenant", "giessen", "--role", "admin")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def add(token: str, name: str, tenant: str, *roles: str) -> str:
    options = [part for role in roles for part in ("--role", role)]
    result = bots("users", "add", name, "--tenant", tenant, *options, token=token)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_without_users_the_os_account_acts_with_every_role() -> None:
    result = bots("whoami", "--json")
    assert result.exit_code == 0, result.stderr
    who = json.loads(result.stdout)
    assert who["kind"] == "os"
    assert who["tenant"] is None
    assert set(who["roles"]) == {role.value for role in Role}
    assert who["actor"].startswith("user:")


def test_the_first_user_must_be_an_admin() -> None:
    refused(bots("users", "add", "anna", "--tenant", "giessen", "--role", "fachamt"), "admin")
    assert bots("whoami").exit_code == 0  # nothing was added: still the OS account


def test_the_token_is_printed_once_alone_and_then_identifies_the_user(admin: str) -> None:
    assert admin.startswith("kb_")
    assert len(admin) > 40
    assert "\n" not in admin

    who = bots("whoami", "--json", token=admin)
    assert who.exit_code == 0, who.stderr
    assert json.loads(who.stdout) == {
        "name": "boss",
        "tenant": "giessen",
        "roles": ["admin"],
        "kind": "user",
        "actor": "user:boss@giessen",
    }
    listed = bots("users", "list", "--json", token=admin)
    assert listed.exit_code == 0, listed.stderr
    assert admin not in listed.output
    assert admin[3:11] not in listed.output  # not even its prefix
    assert not any("token" in key for user in json.loads(listed.stdout) for key in user)


def test_once_users_exist_a_token_is_required(admin: str) -> None:
    refused(bots("whoami"), "BOTS_TOKEN")
    refused(bots("users", "add", "eve", "--tenant", "giessen", "--role", "admin"), "token")


def test_a_wrong_token_is_refused_without_echoing_it(admin: str) -> None:
    wrong = admin[:-4] + ("AAAA" if not admin.endswith("AAAA") else "BBBB")
    result = bots("whoami", token=wrong)
    refused(result, "not valid")
    assert wrong not in result.output
    assert wrong[8:] not in result.output
    unknown = "kb_" + "x" * 43
    refused(bots("users", "list", token=unknown), "not valid")


def test_a_disabled_users_token_is_refused(admin: str) -> None:
    second = add(admin, "chef", "giessen", "admin")
    anna = add(admin, "anna", "giessen", "fachamt")
    assert bots("whoami", token=anna).exit_code == 0

    disabled = bots("users", "disable", "anna", "--tenant", "giessen", token=second)
    assert disabled.exit_code == 0, disabled.stderr
    result = bots("whoami", token=anna)
    refused(result, "disabled")
    assert anna not in result.output
    listed = json.loads(bots("users", "list", "--json", token=admin).stdout)
    assert {user["name"]: user["disabled"] for user in listed} == {
        "anna": True,
        "boss": False,
        "chef": False,
    }


def test_the_last_admin_cannot_be_disabled(admin: str) -> None:
    refused(bots("users", "disable", "boss", "--tenant", "giessen", token=admin), "last admin")


def test_a_fachamt_user_cannot_add_or_disable_users(admin: str) -> None:
    anna = add(admin, "anna", "giessen", "fachamt")
    refused(
        bots("users", "add", "eve", "--tenant", "giessen", "--role", "admin", token=anna),
        "may not users add",
    )
    refused(bots("users", "disable", "boss", "--tenant", "giessen", token=anna), "admin")
    refused(bots("users", "list", token=anna), "may not users list")


def test_a_user_of_one_tenant_cannot_see_or_act_on_another(admin: str) -> None:
    # A tenant's admin can add users neither of every tenant nor of another tenant.
    refused(
        bots("users", "add", "ops", "--tenant", "*", "--role", "admin", token=admin),
        "cannot act on tenant '*'",
    )
    refused(
        bots("users", "add", "mara", "--tenant", "marburg", "--role", "admin", token=admin),
        "cannot act on tenant 'marburg'",
    )

    # An admin of every tenant (added here through the library) adds Marburg's first admin.
    with open_store(load_settings().database) as store:
        _, ops = store.users.add_user("*", "ops", ["admin"], actor="test")
    marburg = add(ops, "mara", "marburg", "admin")
    refused(bots("users", "disable", "boss", "--tenant", "giessen", token=marburg), "giessen")
    seen = json.loads(bots("users", "list", "--json", token=marburg).stdout)
    assert [(user["tenant"], user["name"]) for user in seen] == [("marburg", "mara")]


def test_require_checks_the_role_table_and_the_tenant() -> None:
    anna = Identity("anna", "giessen", frozenset({Role.FACHAMT}), "user")
    require(anna, Permission.RESOLVE_ITEM, "giessen")
    with pytest.raises(NotAllowed, match="tenant 'marburg'"):
        require(anna, Permission.RESOLVE_ITEM, "marburg")
    with pytest.raises(NotAllowed, match="every tenant"):
        require(anna, Permission.PURGE_PAYLOADS, None)
    with pytest.raises(NotAllowed, match="approver"):
        require(anna, Permission.APPROVE_ITEM, "giessen")
    assert not anna.sees("marburg")
    everyone = Identity("ops", None, frozenset({Role.OPERATOR}), "user")
    require(everyone, Permission.CANCEL_RUN, "marburg")
    assert everyone.actor == "user:ops@*"
    assert all(PERMISSIONS[action] <= frozenset(Role) for action in PERMISSIONS)
    assert all(Role.ADMIN in roles for action, roles in PERMISSIONS.items() if "users" in action)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_token_file_others_can_read_is_refused(admin: str, no_home_token: Path) -> None:
    no_home_token.write_text(admin + "\n", encoding="utf-8")
    no_home_token.chmod(0o644)
    result = bots("whoami")
    refused(result, "chmod 600")
    assert admin not in result.output

    no_home_token.chmod(0o600)
    result = bots("whoami")
    assert result.exit_code == 0, result.stderr
    assert "user:boss@giessen" in result.stdout


def test_nothing_of_a_token_reaches_the_audit_trail_or_the_data_dir(
    admin: str, isolated_settings: Path
) -> None:
    anna = add(admin, "anna", "giessen", "fachamt")
    assert bots("users", "disable", "anna", "--tenant", "giessen", token=admin).exit_code == 0
    bots("whoami", token=anna)  # refused, and not logged either

    export = bots("audit", "export", token=admin)
    assert export.exit_code == 0, export.stderr
    entries = [json.loads(line) for line in export.stdout.splitlines()]
    users = [entry for entry in entries if entry["action"].startswith("user ")]
    assert [(entry["action"], entry["actor"], entry["data"]["user"]) for entry in users] == [
        ("user added", users[0]["actor"], "boss"),
        ("user added", "user:boss@giessen", "anna"),
        ("user disabled", "user:boss@giessen", "anna"),
    ]
    for token in (admin, anna):
        assert token not in export.stdout
        assert token[3:11] not in export.stdout
    assert "argon2" not in export.stdout
    for path in isolated_settings.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert admin.encode() not in content, path
            assert anna.encode() not in content, path
    assert bots("audit", "verify", token=admin).exit_code == 0
