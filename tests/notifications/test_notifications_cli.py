"""`bots notifications list | deliver | test` as an administrator uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _notify import TENANT, SmtpServer, free_port
from ruamel.yaml import YAML
from typer.testing import CliRunner

from cli import app
from orchestrator.settings import load_settings
from orchestrator.store import NewNotification, open_store


def _configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channels: dict[str, Any]) -> None:
    config = {
        "tenant": TENANT,
        "notifications": {
            "channels": channels,
            "rules": [{"channels": sorted(channels)}] if channels else [],
            "retry_after_s": 600,
        },
    }
    path = tmp_path / "bots.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(config, handle)
    monkeypatch.setenv("BOTS_CONFIG", str(path))


def _queue_one() -> int:
    facts = {"bot": "gewerbe-melden", "version": "1.2.0", "run_id": 17, "status": "failed"}
    message = NewNotification(
        TENANT, "run_failed", "run:17", "mail", f"{TENANT}:run_failed:run:17:mail", "de", facts
    )
    with open_store(load_settings().database) as store:
        [new_id] = store.notifications.queue([message], actor="user:test")
    return new_id


def test_test_sends_on_every_channel_and_names_the_one_it_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    down = free_port()
    _configure(
        tmp_path,
        monkeypatch,
        {"mail": smtp.channel(), "notfall": smtp.channel(port=down)},
    )

    result = CliRunner().invoke(app, ["notifications", "test", "--tenant", TENANT])

    assert result.exit_code == 3, result.output
    assert "mail: test message sent" in result.stdout
    assert f"notfall: not delivered: SMTP server 127.0.0.1:{down} not reachable" in result.stderr
    assert len(smtp.raw) == 1
    assert "Traceback" not in result.output


def test_test_without_channels_says_what_to_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(tmp_path, monkeypatch, {})

    result = CliRunner().invoke(app, ["notifications", "test"])

    assert result.exit_code == 2
    assert f"tenant {TENANT!r} has no notification channels" in result.stderr


def test_list_and_deliver_once_the_server_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SmtpServer(free_port())
    _configure(tmp_path, monkeypatch, {"mail": smtp.channel()})
    new_id = _queue_one()
    runner = CliRunner()

    refused = runner.invoke(app, ["notifications", "deliver"])
    assert refused.exit_code == 3
    assert f"notification {new_id}: SMTP server 127.0.0.1:{smtp.port} not reachable" in (
        refused.stderr
    )
    waiting = runner.invoke(app, ["notifications", "list", "--status", "pending", "--json"])
    [listed] = json.loads(waiting.stdout)
    assert (listed["id"], listed["event"], listed["attempts"]) == (new_id, "run_failed", 1)
    assert listed["not_before"] is not None  # waits out its backoff ...

    smtp.start()
    try:
        not_yet = runner.invoke(app, ["notifications", "deliver"])
        now = runner.invoke(app, ["notifications", "deliver", "--now"])  # ... unless asked
    finally:
        smtp.stop()

    assert (not_yet.exit_code, not_yet.stdout) == (0, "sent 0, not delivered 0\n")
    assert (now.exit_code, now.stdout) == (0, "sent 1, not delivered 0\n")
    assert len(smtp.raw) == 1
    shown = runner.invoke(app, ["notifications", "list"])
    assert "sent      run_failed   run:17 -> mail  (sent " in shown.stdout
