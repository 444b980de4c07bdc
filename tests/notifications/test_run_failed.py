"""A bot that fails for good is notified once, after its last attempt, without case data; a
mail server that is down delays the message, never the run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from _notify import TENANT, MakeSettings, SmtpServer, WriteBot, free_port, scan

from orchestrator.engine import run_with_retries
from orchestrator.engine.run_end import tenant_secrets
from orchestrator.notifications import deliver, deliverer
from orchestrator.requests import run_request
from orchestrator.results import RunStatus
from orchestrator.robot import Robot
from orchestrator.settings import Settings
from orchestrator.states import NotificationStatus
from orchestrator.store import RunStore

MAIL = "ordnungsamt"
EVERY_EVENT = [{"channels": [MAIL]}]


def test_a_failing_bot_with_two_retries_sends_one_email_after_the_last_attempt(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings({MAIL: smtp.channel()}, EVERY_EVENT)
    mails_at_each_retry: list[int] = []

    record = run_with_retries(
        write_bot(attempts=3),
        settings=settings,
        store=store,
        on_retry=lambda _record, _wait: mails_at_each_retry.append(len(smtp.raw)),
    )

    assert (record.status, record.attempt) == (RunStatus.FAILED, 3)
    assert mails_at_each_retry == [0, 0]  # nothing while retries were due
    [mail] = smtp.mails()
    assert mail["Subject"] == f"[RPA {TENANT}] Lauf {record.id} von gewerbe-melden fehlgeschlagen"
    body = mail.get_content()
    assert "Versuch 3 von 3; es folgt kein weiterer Versuch." in body
    assert "Abgebrochen bei Schritt: steps[3]" in body
    assert "Mustermann" in (record.error or "")  # the failure quoted a case ...
    assert scan(smtp.raw[0]) == []  # ... the message does not


def test_in_robot_mode_too_one_email_after_the_last_attempt(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings(
        {MAIL: smtp.channel()}, EVERY_EVENT, robot={"poll_s": 0.05}, orchestrator={"lease_s": 5}
    )
    bot = write_bot(attempts=3)
    first = store.enqueue(
        run_request(
            bot, settings=settings, tenant=TENANT, params={}, trigger="api", actor="user:test"
        )
    )

    with _robot(settings, store):
        _wait_for(lambda: _ended(store) == 3 and len(smtp.raw) == 1)

    runs = sorted(store.list_runs(tenant=TENANT), key=lambda run: run.id)
    assert [(run.status, run.attempt) for run in runs] == [(RunStatus.FAILED, n) for n in (1, 2, 3)]
    assert runs[0].id == first
    [mail] = smtp.mails()
    assert f"Lauf {runs[-1].id} " in mail["Subject"]
    assert scan(smtp.raw[0]) == []
    [message] = store.notifications.list_notifications()
    assert (message.status, message.subject) == (NotificationStatus.SENT, f"run:{runs[-1].id}")


def test_with_the_mail_server_down_the_run_ends_and_the_mail_goes_out_once_it_is_back(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore
) -> None:
    smtp = SmtpServer(free_port())  # not started: nothing listens on its port
    settings = make_settings({MAIL: smtp.channel()}, EVERY_EVENT, notify={"retry_after_s": 0})

    record = run_with_retries(write_bot(attempts=3), settings=settings, store=store)

    assert (record.status, record.attempt) == (RunStatus.FAILED, 3)
    [waiting] = store.notifications.list_notifications()
    assert waiting.status is NotificationStatus.PENDING
    assert f"127.0.0.1:{smtp.port} not reachable" in (waiting.last_error or "")

    smtp.start()
    try:
        done = deliver(store, settings, secrets=tenant_secrets, holder=deliverer("test"))
        again = deliver(store, settings, secrets=tenant_secrets, holder=deliverer("test"))
    finally:
        smtp.stop()

    assert (done.sent, again.sent) == ([waiting.id], [])
    [mail] = smtp.mails()
    assert f"Lauf {record.id} " in mail["Subject"]
    assert store.notifications.get(waiting.id).status is NotificationStatus.SENT


def test_a_mail_server_that_never_answers_does_not_hold_the_run(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore
) -> None:
    with _silent_server() as port:
        channel = {
            "kind": "email",
            "host": "127.0.0.1",
            "port": port,
            "from": "rpa@giessen.de",
            "to": ["gewerbe@giessen.de"],
            "timeout_s": 0.5,
        }
        settings = make_settings({MAIL: channel}, EVERY_EVENT)
        record = run_with_retries(write_bot(attempts=1), settings=settings, store=store)

    assert record.status is RunStatus.FAILED
    [waiting] = store.notifications.list_notifications()
    assert waiting.status is NotificationStatus.PENDING
    assert "timed out" in (waiting.last_error or "")
    assert waiting.not_before is not None  # retried after the backoff


def test_a_run_that_succeeds_sends_nothing(
    make_settings: MakeSettings, write_bot: WriteBot, store: RunStore, smtp: SmtpServer
) -> None:
    settings = make_settings({MAIL: smtp.channel()}, EVERY_EVENT)

    record = run_with_retries(
        write_bot(attempts=3), settings=settings, store=store, params={"scheitern": False}
    )

    assert record.status is RunStatus.SUCCEEDED
    assert smtp.raw == []
    assert store.notifications.list_notifications() == []


# --------------------------------------------------------------------------- helpers


@contextmanager
def _robot(settings: Settings, store: RunStore) -> Iterator[Robot]:
    robot = Robot(settings, store, name="robot-notify")
    stop = threading.Event()
    thread = threading.Thread(target=robot.run, args=(stop,))
    thread.start()
    try:
        yield robot
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the robot did not stop"


@contextmanager
def _silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung mail server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def _ended(store: RunStore) -> int:
    return sum(run.status.is_terminal for run in store.list_runs(tenant=TENANT))


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
