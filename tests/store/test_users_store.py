"""The store's users: added with a token shown once and kept only hashed, authenticated,
disabled, audited without the token; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.errors import ConfigError, NotAuthenticated, UserExists, UserNotFound
from orchestrator.store import Role, RunStore


def test_a_new_store_has_no_users(store: RunStore) -> None:
    assert not store.users.any_users()
    assert store.users.list_users() == []


def test_an_added_user_is_found_by_the_token_only(
    store: RunStore, sql: Callable[..., list[Any]]
) -> None:
    user, token = store.users.add_user(
        "giessen", "anna", ["Approver", "fachamt"], actor="user:root@rpa-01"
    )
    assert store.users.any_users()
    assert (user.tenant, user.name) == ("giessen", "anna")
    assert user.roles == (Role.FACHAMT, Role.APPROVER)
    assert user.actor == "user:anna@giessen"
    assert user.created_by == "user:root@rpa-01"
    assert user.last_used_at is None and not user.disabled

    found = store.users.authenticate(f"  {token}\n")
    assert found.id == user.id
    assert found.last_used_at is not None
    ((token_hash, prefix),) = sql("SELECT token_hash, token_prefix FROM users")
    assert token_hash.startswith("$argon2id$")
    assert token not in token_hash
    assert prefix == token[:8]


def test_wrong_unknown_and_disabled_tokens_are_refused(store: RunStore) -> None:
    _, token = store.users.add_user("giessen", "anna", ["fachamt"], actor="test")
    store.users.add_user("giessen", "boss", ["admin"], actor="test")
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:8] + "x" * 40, ""):
        with pytest.raises(NotAuthenticated, match="not valid") as caught:
            store.users.authenticate(wrong)
        assert not wrong or wrong not in str(caught.value)

    disabled = store.users.disable_user("giessen", "anna", actor="user:boss@giessen")
    assert disabled.disabled
    with pytest.raises(NotAuthenticated, match="disabled") as caught:
        store.users.authenticate(token)
    assert token not in str(caught.value)
    # Disabling again records nothing more.
    store.users.disable_user("giessen", "anna", actor="user:boss@giessen")
    actions = [entry["action"] for entry in store.export_audit()]
    assert actions.count("user disabled") == 1


def test_names_are_unique_per_tenant_and_roles_are_checked(store: RunStore) -> None:
    store.users.add_user("giessen", "anna", ["fachamt"], actor="test")
    with pytest.raises(UserExists, match="anna"):
        store.users.add_user("giessen", "anna", ["admin"], actor="test")
    other, _ = store.users.add_user("marburg", "anna", ["operator"], actor="test")
    assert other.tenant == "marburg"
    with pytest.raises(ConfigError, match="'chef'"):
        store.users.add_user("giessen", "bert", ["chef"], actor="test")
    with pytest.raises(ConfigError, match="no role"):
        store.users.add_user("giessen", "bert", [], actor="test")
    with pytest.raises(UserNotFound):
        store.users.disable_user("giessen", "nobody", actor="test")
    assert [(u.tenant, u.name) for u in store.users.list_users()] == [
        ("giessen", "anna"),
        ("marburg", "anna"),
    ]
    assert [u.tenant for u in store.users.list_users("marburg")] == ["marburg"]


def test_the_audit_trail_names_the_user_and_never_the_token(store: RunStore) -> None:
    _, token = store.users.add_user("giessen", "anna", ["fachamt"], actor="user:root@rpa-01")
    store.users.disable_user("giessen", "anna", actor="user:boss@giessen")
    entries = [entry for entry in store.export_audit() if entry["action"].startswith("user ")]
    assert [(e["action"], e["tenant"], e["actor"], e["data"]) for e in entries] == [
        ("user added", "giessen", "user:root@rpa-01", {"user": "anna", "roles": ["fachamt"]}),
        ("user disabled", "giessen", "user:boss@giessen", {"user": "anna"}),
    ]
    text = json.dumps(list(store.export_audit()))
    assert token not in text and token[:8] not in text and "argon2" not in text
    assert store.verify_audit().ok
