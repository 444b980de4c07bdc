"""The rules: which events, which bots, after how many failures, at once or as a daily digest,
in which language; cases for a person are named by reference only."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from _notify import PAYLOADS, TENANT, MakeSettings, SmtpServer, WriteBot, scan

from orchestrator.engine import run_with_retries
from orchestrator.engine.run_end import tenant_secrets
from orchestrator.notifications import deliver, deliverer
from orchestrator.notifications.delivery import assemble_digests
from orchestrator.results import RunStatus
from orchestrator.states import NotificationStatus
from orchestrator.store import RunStore

MAIL = "ordnungsamt"


def test_after_failures_waits_for_that_many_failed_runs_in_a_row(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings({MAIL: smtp.channel()}, [{"channels": [MAIL], "after_failures": 2}])
    bot = write_bot(attempts=2)  # a run of two attempts counts once

    def run(*, fails: bool) -> int:
        record = run_with_retries(bot, settings=settings, store=store, params={"scheitern": fails})
        return record.id

    run(fails=True)
    assert smtp.raw == []  # one failed run: not yet
    second = run(fails=True)
    [mail] = smtp.mails()
    assert f"Lauf {second} " in mail["Subject"]
    assert "Gescheiterte Läufe in Folge: 2" in mail.get_content()

    run(fails=False)  # a success starts the count again
    run(fails=True)
    assert len(smtp.raw) == 1


def test_a_daily_digest_holds_the_messages_and_sends_one_mail_at_the_digest_hour(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()},
        [{"channels": [MAIL], "digest": "daily"}],
        notify={"digest_hour": 6},
    )
    bot = write_bot(attempts=1)
    runs = [run_with_retries(bot, settings=settings, store=store).id for _ in range(2)]

    assert smtp.raw == []
    held = store.notifications.list_notifications(status=NotificationStatus.HELD)
    assert len(held) == 2
    due = held[0].not_before
    assert due is not None and due.astimezone(ZoneInfo("Europe/Berlin")).hour == 6
    actor = deliverer("test")
    assert assemble_digests(store, settings, now=due - timedelta(seconds=1), actor=actor) == 0

    assert assemble_digests(store, settings, now=due + timedelta(seconds=1), actor=actor) == 1
    deliver(store, settings, secrets=tenant_secrets, holder=actor)
    assert assemble_digests(store, settings, now=due + timedelta(minutes=1), actor=actor) == 0

    [mail] = smtp.mails()
    assert mail["Subject"].startswith(f"[RPA {TENANT}] Tagesübersicht vom ")
    assert mail["Subject"].endswith(": 2 Meldungen")
    body = mail.get_content()
    for run_id in runs:
        assert f"- Lauf {run_id} von gewerbe-melden fehlgeschlagen" in body
    assert scan(smtp.raw[0]) == []
    statuses = {m.event: m.status for m in store.notifications.list_notifications()}
    assert statuses == {
        "run_failed": NotificationStatus.DIGESTED,
        "digest": NotificationStatus.SENT,
    }


def test_cases_for_a_person_are_named_by_reference_only_in_english_if_asked(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()},
        [{"channels": [MAIL], "events": ["needs_human"], "lang": "en"}],
    )

    record = run_with_retries(
        write_bot(attempts=1),
        settings=settings,
        store=store,
        params={"scheitern": False, "fachlich": True},
    )

    assert record.status is RunStatus.SUCCEEDED
    [mail] = smtp.mails()
    assert mail["Subject"] == (
        f"[RPA {TENANT}] 2 cases for a person (bot gewerbe-melden, run {record.id})"
    )
    body = mail.get_content()
    for payload in PAYLOADS:
        assert f"- {payload['nummer']} (queue eingang)" in body
    assert mail["Content-Language"] == "en"
    items = store.queues.list_items(TENANT, "eingang")
    assert all("passt nicht" in (item.last_error or "") for item in items)  # the reason ...
    assert scan(smtp.raw[0]) == []  # ... stays in the report


def test_cases_for_a_person_wait_for_the_last_attempt_too(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()}, [{"channels": [MAIL], "events": ["needs_human"]}]
    )
    mails_at_each_retry: list[int] = []

    record = run_with_retries(
        write_bot(attempts=3),
        settings=settings,
        store=store,
        params={"fachlich": True},  # the first attempt hands both cases to a person, then fails
        on_retry=lambda _record, _wait: mails_at_each_retry.append(len(smtp.raw)),
    )

    assert (record.status, record.attempt) == (RunStatus.FAILED, 3)
    assert mails_at_each_retry == [0, 0]
    [mail] = smtp.mails()
    assert mail["Subject"] == (
        f"[RPA {TENANT}] 2 Vorgänge für eine Person (Bot gewerbe-melden, Lauf {record.id})"
    )
    body = mail.get_content()
    assert f"- {PAYLOADS[0]['nummer']} (Warteschlange eingang)" in body
    assert f"(einschließlich der Versuche davor: Läufe {record.id - 1}, {record.id - 2})" in body
    assert scan(smtp.raw[0]) == []


def test_rules_for_other_bots_or_other_events_send_nothing(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()},
        [
            {"channels": [MAIL], "bots": ["eakte-ablage"]},
            {"channels": [MAIL], "events": ["sla_breach", "robot_gone"]},
        ],
    )

    record = run_with_retries(write_bot(attempts=1), settings=settings, store=store)

    assert record.status is RunStatus.FAILED
    assert smtp.raw == []
    assert store.notifications.list_notifications() == []


def test_a_tenant_with_its_own_notifications_uses_them_instead_of_the_global_ones(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    own = {
        "channels": {"eigene": smtp.channel(to=["it@giessen.de"])},
        "rules": [{"channels": ["eigene"]}],
    }
    settings = make_settings(
        {MAIL: smtp.channel(to=["zentrale@example.de"])},
        [{"channels": [MAIL]}],
        tenants={TENANT: {"notifications": own}},
    )

    run_with_retries(write_bot(attempts=1), settings=settings, store=store)

    [mail] = smtp.mails()
    assert mail["To"] == "it@giessen.de"
