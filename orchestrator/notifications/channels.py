"""Sending one message on one channel: e-mail over SMTP, or a JSON POST to a webhook.

Both wait a few seconds at most (the channel's ``timeout_s`` per network operation) and say
what went wrong as :class:`~orchestrator.errors.EnvironmentProblem`, naming the server but
never a password, a token or the webhook's path (chat webhooks carry their secret in it).
Passwords and tokens come from the secret store by name (``password_secret``,
``token_secret``), through the :class:`SecretSource` the caller hands in (the engine's
``EnvSecretProvider`` of the tenant). Example::

    send(channel, compose("test", "giessen", "de", {"channel": "mail"}, zone=zone), secrets)

E-mail: STARTTLS where the server offers it (``starttls: auto``), always (``required``:
a server without it is refused) or never (``off``); the certificate is checked against the
system's CAs plus ``ca_file``. A login is only sent over an encrypted connection.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

from orchestrator.errors import EnvironmentProblem
from orchestrator.notifications.messages import Message
from orchestrator.settings import EmailChannel, WebhookChannel


class SecretSource(Protocol):
    """Where passwords and tokens come from (the engine's secret providers fit)."""

    def get(self, name: str) -> str:
        """The value of secret ``name``; raises SecretMissing when there is none."""
        ...


#: A tenant's secret store, given its name.
SecretsFor = Callable[[str], SecretSource]


def send(channel: EmailChannel | WebhookChannel, message: Message, secrets: SecretSource) -> None:
    """Deliver ``message`` on ``channel``.

    Raises:
        EnvironmentProblem: the server or receiver cannot be reached, refuses the message, or
            (``starttls: required``) offers no encryption.
        SecretMissing: the password or token named has no value in the secret store.
    """
    if isinstance(channel, EmailChannel):
        send_email(channel, message, secrets)
    else:
        send_webhook(channel, message, secrets)


def email_of(channel: EmailChannel, message: Message) -> EmailMessage:
    """``message`` as the plain-text e-mail ``channel`` sends (UTF-8, marked automatic)."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=channel.sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    mail.set_content(message.text)  # clears Content-* headers: Content-Language after it
    mail["Content-Language"] = str(message.data.get("lang", "de"))
    return mail


def send_email(channel: EmailChannel, message: Message, secrets: SecretSource) -> None:
    """Send ``message`` as e-mail through ``channel``'s SMTP server (see :func:`send`)."""
    where = f"SMTP server {channel.host}:{channel.port}"
    mail = email_of(channel, message)
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s) as smtp:
            smtp.ehlo()
            encrypted = _starttls(smtp, channel, where)
            if channel.username is not None and channel.password_secret is not None:
                if not encrypted:
                    raise EnvironmentProblem(
                        f"{where} offers no STARTTLS: the login of {channel.username!r} is not "
                        "sent unencrypted (use a server with STARTTLS, or no login)."
                    )
                smtp.login(channel.username, secrets.get(channel.password_secret))
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused:
        raise EnvironmentProblem(f"{where} refused every recipient of the channel") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        raise EnvironmentProblem(f"{where} refused: {exc.smtp_code} {reply}".rstrip()) from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise EnvironmentProblem(f"{where} not reachable: {_reason(exc)}") from None


def _starttls(smtp: smtplib.SMTP, channel: EmailChannel, where: str) -> bool:
    """Switch to TLS as ``channel.starttls`` says; whether the connection is encrypted."""
    if channel.starttls == "off":
        return False
    if not smtp.has_extn("starttls"):
        if channel.starttls == "required":
            raise EnvironmentProblem(
                f"{where} offers no STARTTLS, and the channel requires it (starttls: required)."
            )
        return False
    context = ssl.create_default_context()
    if channel.ca_file is not None:
        context.load_verify_locations(cafile=str(channel.ca_file))
    smtp.starttls(context=context)
    smtp.ehlo()
    return True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: the token must not follow the message elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(channel: WebhookChannel, message: Message, secrets: SecretSource) -> None:
    """POST ``message.data`` as JSON to ``channel.url`` (see :func:`send`); any 2xx answer is
    delivered."""
    where = f"webhook at {urlsplit(channel.url).hostname}"
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "kommune-bots"}
    if channel.token_secret is not None:
        token = secrets.get(channel.token_secret)
        bearer = channel.token_header.lower() == "authorization"
        headers[channel.token_header] = f"Bearer {token}" if bearer else token
    body = json.dumps(message.data, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(channel.url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=channel.timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise EnvironmentProblem(f"{where} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise EnvironmentProblem(f"{where} not reachable: {_reason(exc.reason)}") from None
    except OSError as exc:  # a timeout while reading the answer
        raise EnvironmentProblem(f"{where} not reachable: {_reason(exc)}") from None


def _reason(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
