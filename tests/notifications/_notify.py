"""What the notification tests share: a real SMTP server and a webhook receiver on loopback,
and a bot that handles cases (their payloads hold names and IBANs) and then fails, quoting
them and its secret. ``scan`` finds any of that in a message as sent.

The SMTP server is aiosmtpd on a free port; ``stop()`` and ``start()`` take it down and bring
it back on the same port.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from orchestrator.model.loader import LoadedBot
from orchestrator.settings import Settings

TENANT = "giessen"
#: What the bot's cases hold: none of it may appear in any notification.
PAYLOADS = [
    {"nummer": "GA-2026-0815", "name": "Erika Mustermann", "iban": "DE02120300000000202051"},
    {"nummer": "GA-2026-0816", "name": "Jürgen Wählerisch", "iban": "DE88100900001234567892"},
]
#: The bot's secret: never in a message.
SECRET_VALUE = "Geheim-Register-7f3a!"

BOT = {
    "id": "gewerbe-melden",
    "name": "Gewerbemeldungen an das Register",
    "version": "1.2.0",
    "owner": {"city": "Gießen", "fachamt": "Ordnungsamt"},
    "secrets": {"register_passwort": "Passwort des Registers"},
    "parameters": {
        "scheitern": {"type": "boolean", "default": True},
        "fachlich": {"type": "boolean", "default": False},
    },
    "steps": [
        {"set": {"faelle": PAYLOADS}},
        {
            "add_items": "eingang",
            "items": "{{ faelle }}",
            "reference": "{{ item.nummer }}",
        },
        {
            "for_each_item": "eingang",
            "as": "fall",
            "do": [
                {
                    "call": "hooks:pruefen",
                    "with": {"fall": "{{ fall }}", "fachlich": "{{ params.fachlich }}"},
                }
            ],
            "output": {"ok": True},
        },
        {
            "call": "hooks:melden",
            "with": {
                "scheitern": "{{ params.scheitern }}",
                "passwort": "{{ secrets.register_passwort }}",
            },
        },
    ],
}

HOOKS = f"""\
from orchestrator.errors import BusinessException

PAYLOADS = {PAYLOADS!r}


def pruefen(ctx, fall, fachlich):
    if fachlich:
        raise BusinessException(f"Name {{fall['name']}} passt nicht zu IBAN {{fall['iban']}}")


def melden(ctx, scheitern, passwort):
    if scheitern:
        names = ", ".join(f"{{p['name']}} ({{p['iban']}})" for p in PAYLOADS)
        raise RuntimeError(f"Register lehnt ab: {{names}}, Passwort {{passwort}}")
"""


def free_port() -> int:
    """A TCP port on loopback nobody listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    """aiosmtpd handler: keeps every message's raw bytes."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server on loopback; ``raw`` holds what it received, in order."""

    port: int
    options: dict[str, Any] = field(default_factory=dict)
    inbox: _Inbox = field(default_factory=_Inbox)
    ca_file: Path | None = None
    _controller: Controller | None = None

    def start(self) -> None:
        controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def raw(self) -> list[bytes]:
        return self.inbox.raw

    def mails(self) -> list[EmailMessage]:
        """The received messages, parsed."""
        return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]

    def channel(self, **overrides: Any) -> dict[str, Any]:
        """The settings of an e-mail channel sending here."""
        return {
            "kind": "email",
            "host": "127.0.0.1",
            "port": self.port,
            "from": "rpa@giessen.de",
            "to": ["gewerbe@giessen.de"],
            "timeout_s": 3,
            **overrides,
        }


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


SMTP_USER, SMTP_PASSWORD = "rpa-giessen", "Smtp-Passwort-41b2"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@dataclass
class Webhook:
    """A webhook receiver on loopback: every POST's headers and JSON body."""

    url: str
    received: list[tuple[dict[str, str], Any]]
    status: list[int]  # the status it answers with (first element)


WriteBot = Callable[..., LoadedBot]


MakeSettings = Callable[..., Settings]


def scan(raw: bytes | str, *, also: tuple[str, ...] = ()) -> list[str]:
    """Case data and secrets found in a message as sent (raw, so every encoding counts)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    decoded = text
    if isinstance(raw, bytes):
        mail = message_from_bytes(raw, policy=policy.default)
        decoded += "\n".join(
            part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"
        )
    forbidden = [SECRET_VALUE, *also]
    for payload in PAYLOADS:
        forbidden += [payload["name"], payload["iban"]]
    forbidden += ["Mustermann", "Register lehnt ab", "passt nicht"]
    return [value for value in forbidden if value in decoded]
