"""The channels as servers see them: a webhook's JSON and token, SMTP with STARTTLS and a
login from the secret store, and clear reasons when a channel cannot be used."""

from __future__ import annotations

import pytest
from _notify import (
    SECRET_VALUE,
    SMTP_PASSWORD,
    SMTP_USER,
    TENANT,
    MakeSettings,
    SmtpServer,
    Webhook,
    WriteBot,
    scan,
)

from orchestrator.engine import run_with_retries
from orchestrator.engine.run_end import tenant_secrets
from orchestrator.notifications import deliver, deliverer, try_channels
from orchestrator.states import NotificationStatus
from orchestrator.store import RunStore

TOKEN = "Chat-Token-93e1"


def test_a_webhook_gets_json_with_the_token_in_its_header(
    make_settings: MakeSettings,
    write_bot: WriteBot,
    store: RunStore,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOTS_SECRET_GIESSEN__CHAT_TOKEN", TOKEN)  # the tenant's own secret
    channel = {"kind": "webhook", "url": webhook.url, "token_secret": "chat_token"}
    settings = make_settings({"chat": channel}, [{"channels": ["chat"]}])

    record = run_with_retries(write_bot(attempts=1), settings=settings, store=store)

    [(headers, body)] = webhook.received
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert set(body) == {
        "event",
        "tenant",
        "lang",
        "title",
        "text",
        "facts",
        "notification",
        "created_at",
    }
    assert (body["event"], body["tenant"], body["lang"]) == ("run_failed", TENANT, "de")
    assert body["title"] == f"[RPA {TENANT}] Lauf {record.id} von gewerbe-melden fehlgeschlagen"
    assert body["text"].startswith(body["title"] + "\n\n")
    facts = body["facts"]
    assert (facts["run_id"], facts["bot"], facts["status"]) == (
        record.id,
        "gewerbe-melden",
        "failed",
    )
    assert (facts["attempt"], facts["max_attempts"], facts["error_step"]) == (1, 1, "steps[3]")
    as_sent = str(body)
    assert scan(as_sent, also=(TOKEN,)) == []


def test_a_webhook_that_answers_an_error_is_tried_again(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, webhook: Webhook
) -> None:
    settings = make_settings(
        {"chat": {"kind": "webhook", "url": webhook.url}},
        [{"channels": ["chat"]}],
        notify={"retry_after_s": 0},
    )
    webhook.status[0] = 503

    run_with_retries(write_bot(attempts=1), settings=settings, store=store)

    [waiting] = store.notifications.list_notifications()
    assert waiting.status is NotificationStatus.PENDING
    assert waiting.last_error == "webhook at 127.0.0.1 answered HTTP 503"  # not its path
    webhook.status[0] = 200
    done = deliver(store, settings, secrets=tenant_secrets, holder=deliverer("test"))
    assert done.sent == [waiting.id]
    # Refused right after the run and again when `bots run` ended; then delivered.
    assert len(webhook.received) == store.notifications.get(waiting.id).attempts == 3


def test_smtp_with_starttls_and_a_login_from_the_secret_store(
    make_settings: MakeSettings,
    store: RunStore,
    smtp_tls: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOTS_SECRET_SMTP_PASSWORD", SMTP_PASSWORD)
    channel = smtp_tls.channel(
        starttls="required",
        ca_file=str(smtp_tls.ca_file),
        username=SMTP_USER,
        password_secret="smtp_password",
    )
    settings = make_settings({"mail": channel}, [])

    outcome = try_channels(store, settings, TENANT, secrets=tenant_secrets, actor="user:test")

    assert outcome == {"mail": None}
    [mail] = smtp_tls.mails()
    assert mail["Subject"] == f"[RPA {TENANT}] Testnachricht an mail"
    assert SMTP_PASSWORD.encode() not in smtp_tls.raw[0]
    [entry] = [e for e in store.export_audit() if e["action"] == "notification test"]
    assert entry["data"] == {"channel": "mail", "kind": "email", "error": None}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"starttls": "required"},
            "offers no STARTTLS, and the channel requires it (starttls: required).",
        ),
        (
            {"username": SMTP_USER, "password_secret": "smtp_password"},
            f"offers no STARTTLS: the login of {SMTP_USER!r} is not sent unencrypted",
        ),
    ],
    ids=["starttls-required", "no-login-in-plain-text"],
)
def test_a_server_without_starttls_is_refused_where_encryption_is_needed(
    make_settings: MakeSettings,
    store: RunStore,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str],
    reason: str,
) -> None:
    monkeypatch.setenv("BOTS_SECRET_SMTP_PASSWORD", SMTP_PASSWORD)
    settings = make_settings({"mail": smtp.channel(**overrides)}, [])

    outcome = try_channels(store, settings, TENANT, secrets=tenant_secrets, actor="user:test")

    assert reason in (outcome["mail"] or "")
    assert f"SMTP server 127.0.0.1:{smtp.port}" in (outcome["mail"] or "")
    assert smtp.raw == []


def test_a_certificate_nobody_vouches_for_is_refused(
    make_settings: MakeSettings, store: RunStore, smtp_tls: SmtpServer
) -> None:
    settings = make_settings({"mail": smtp_tls.channel()}, [])  # no ca_file

    outcome = try_channels(store, settings, TENANT, secrets=tenant_secrets, actor="user:test")

    assert "certificate verify failed" in (outcome["mail"] or "")
    assert smtp_tls.raw == []


def test_a_missing_password_is_named_not_guessed(
    make_settings: MakeSettings, store: RunStore, smtp_tls: SmtpServer
) -> None:
    channel = smtp_tls.channel(
        ca_file=str(smtp_tls.ca_file), username=SMTP_USER, password_secret="smtp_password"
    )
    settings = make_settings({"mail": channel}, [])

    outcome = try_channels(store, settings, TENANT, secrets=tenant_secrets, actor="user:test")

    assert "secret 'smtp_password' has no value" in (outcome["mail"] or "")
    assert "BOTS_SECRET_SMTP_PASSWORD" in (outcome["mail"] or "")
    assert SECRET_VALUE not in (outcome["mail"] or "")
