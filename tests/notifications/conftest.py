"""Fixtures for notification tests (the servers and the bot are in ``_notify.py``).

``smtp``: a plain SMTP server, running; ``smtp_tls``: one that requires STARTTLS (self-signed
certificate, ``smtp_tls.ca_file``) and a login; ``webhook``: a receiver keeping each request's
headers and JSON body; ``write_bot``, ``make_settings`` and ``store`` for tenant giessen.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _notify import (
    BOT,
    HOOKS,
    SECRET_VALUE,
    TENANT,
    MakeSettings,
    SmtpServer,
    Webhook,
    WriteBot,
    authenticator,
    free_port,
    self_signed,
)

from orchestrator.model.loader import LoadedBot, resolve_bot
from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunStore, open_store


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server (no STARTTLS) on a free loopback port, running."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_tls(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS (self-signed certificate) and a login."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    options = {
        "tls_context": context,
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_required": True,
    }
    server = SmtpServer(free_port(), options=options, ca_file=cert_file)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    received: list[tuple[dict[str, str], Any]] = []
    status = [204]

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Webhook(f"http://127.0.0.1:{server.server_port}/hooks/rpa-7c1d", received, status)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def bot_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bot directory (empty until ``write_bot``); the bot's secret set in the environment."""
    directory = tmp_path / "bots"
    directory.mkdir()
    monkeypatch.setenv("BOTS_SECRET_REGISTER_PASSWORT", SECRET_VALUE)
    return directory


@pytest.fixture
def write_bot(bot_dir: Path) -> WriteBot:
    """``write_bot(attempts=3)``: write ``gewerbe-melden`` with that many attempts in all (no
    wait between them) into the bot directory, and load it."""

    def write(attempts: int = 1) -> LoadedBot:
        bot = bot_dir / str(BOT["id"])
        bot.mkdir(exist_ok=True)
        definition = {**BOT, "execution": {"retries": {"attempts": attempts, "backoff_s": 0}}}
        (bot / "bot.yaml").write_text(json.dumps(definition, ensure_ascii=False), "utf-8")
        (bot / "hooks.py").write_text(HOOKS, encoding="utf-8")
        return resolve_bot(str(BOT["id"]), [bot_dir])

    return write


@pytest.fixture
def make_settings(tmp_path: Path, bot_dir: Path) -> MakeSettings:
    """``make_settings(channels, rules, notify={...}, **settings)``: settings of tenant giessen
    with these notification channels and rules (and more ``notify`` options), no browser, the
    bot directory above."""

    def make(
        channels: dict[str, Any],
        rules: list[dict[str, Any]],
        notify: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "tenant": TENANT,
            "bot_dirs": [bot_dir],
            "targets": {},
            "chromium": Path("/nonexistent/chromium"),
            "notifications": {"channels": channels, "rules": rules, **(notify or {})},
        }
        return load_settings(**{**values, **overrides})

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    """The SQLite store of the settings ``make_settings`` makes."""
    with open_store(f"sqlite:///{tmp_path / 'data' / 'bots.sqlite'}") as opened:
        yield opened
