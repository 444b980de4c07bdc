"""Cookie sessions of both apps: login, idle timeout, expiry after N page views, CSRF tokens.

A request without a valid session raises :class:`LoginRequired`; the app turns it into a
redirect to the system's login page (``grund=abgelaufen`` shows "Sitzung abgelaufen") or, for
JSON calls, into HTTP 401.

Each session has a CSRF token, issued with it: the Gewerberegister's forms carry it in the
hidden field ``csrf_token``, Civento's pages in ``<meta name="csrf-token">``, from where the
Vorgang page's script sends it as the header ``X-CSRF-Token``. The Gewerberegister's login
form, shown before any session exists, carries a token of its own. Every session cookie value
and token issued is recorded in the table ``ausgegeben``, also after the session ended::

    issued_credentials(sandbox_dir)   # {"session_cookies": [...], "csrf_tokens": [...]}
"""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request

from orchestrator.settings import SandboxSettings
from sandbox.db import connect, transaction

COOKIES = {
    "civento": "CIVENTOSESSION",
    "gewerberegister": "GRSESSIONID",
    "hundesteuer": "HSTSITZUNG",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_REFUSED = (
    "Sicherheitsprüfung fehlgeschlagen: Das Sicherheitstoken (CSRF) fehlt oder ist ungültig. "
    "Bitte die Seite neu laden und erneut absenden; es wurde nichts gespeichert."
)


class LoginRequired(Exception):
    """The request needs a (new) login.

    Attributes:
        system: ``civento`` or ``gewerberegister``.
        next_url: Where to go after the login.
        expired: A session existed but timed out (shown as "Sitzung abgelaufen").
        api: The request was a JSON call (answered with 401 instead of a redirect).
    """

    def __init__(self, system: str, next_url: str, *, expired: bool, api: bool) -> None:
        super().__init__(f"login required for {system}")
        self.system = system
        self.next_url = next_url
        self.expired = expired
        self.api = api

    @property
    def login_url(self) -> str:
        """The login page with ``next`` and, if so, the expiry reason."""
        url = f"/{self.system}/login?next={quote(self.next_url, safe='')}"
        return url + ("&grund=abgelaufen" if self.expired else "")


def start_session(sandbox_dir: Path, system: str, user: str) -> str:
    """Create a session for ``user`` with its CSRF token; return the cookie value."""
    token = secrets.token_urlsafe(24)
    now = time.time()
    with connect(sandbox_dir) as conn, transaction(conn):
        conn.execute(
            "INSERT INTO sitzungen (token, system, benutzer, zuletzt) VALUES (?, ?, ?, ?)",
            (token, system, user, now),
        )
        conn.executemany(
            "INSERT INTO ausgegeben (wert, art, system, sitzung, zeit) VALUES (?, ?, ?, ?, ?)",
            [
                (token, "sitzung", system, token, now),
                (secrets.token_urlsafe(24), "csrf", system, token, now),
            ],
        )
    return token


def csrf_token(request: Request, system: str) -> str:
    """The CSRF token of the request's session ("" without a session)."""
    token = request.cookies.get(COOKIES[system])
    if not token:
        return ""
    with connect(request.app.state.sandbox_dir) as conn:
        row = conn.execute(
            "SELECT wert FROM ausgegeben WHERE sitzung = ? AND art = 'csrf' AND system = ?",
            (token, system),
        ).fetchone()
    return str(row["wert"]) if row else ""


def csrf_ok(request: Request, system: str, presented: str) -> bool:
    """Whether ``presented`` is the CSRF token of the request's session."""
    expected = csrf_token(request, system)
    return bool(expected) and hmac.compare_digest(expected.encode(), presented.encode())


def login_form_token(sandbox_dir: Path, system: str) -> str:
    """A new token for a login form (there is no session yet), recorded as issued."""
    token = secrets.token_urlsafe(24)
    with connect(sandbox_dir) as conn:
        conn.execute(
            "INSERT INTO ausgegeben (wert, art, system, zeit) VALUES (?, 'csrf-anmeldung', ?, ?)",
            (token, system, time.time()),
        )
    return token


def login_form_token_ok(sandbox_dir: Path, system: str, presented: str, max_age_s: float) -> bool:
    """Whether ``presented`` is a login form token of ``system`` issued within ``max_age_s``."""
    if not presented:
        return False
    with connect(sandbox_dir) as conn:
        row = conn.execute(
            "SELECT zeit FROM ausgegeben WHERE wert = ? AND art = 'csrf-anmeldung' AND system = ?",
            (presented, system),
        ).fetchone()
    return row is not None and time.time() - row["zeit"] <= max_age_s


def issued_credentials(sandbox_dir: Path) -> dict[str, list[str]]:
    """Every session cookie value and CSRF token both apps ever issued (sessions ended too)."""
    issued: dict[str, list[str]] = {"session_cookies": [], "csrf_tokens": []}
    with connect(sandbox_dir) as conn:
        for row in conn.execute("SELECT wert, art FROM ausgegeben ORDER BY zeit, rowid"):
            issued["session_cookies" if row["art"] == "sitzung" else "csrf_tokens"].append(
                str(row["wert"])
            )
    return issued


def end_session(sandbox_dir: Path, token: str | None) -> None:
    """Delete a session (logout)."""
    if token:
        with connect(sandbox_dir) as conn:
            conn.execute("DELETE FROM sitzungen WHERE token = ?", (token,))


def require_user(request: Request, system: str, *, count: bool = True, api: bool = False) -> str:
    """The logged-in user of ``system``, or raise :class:`LoginRequired`.

    Args:
        request: The current request (app state holds sandbox dir and fault settings).
        system: ``civento`` or ``gewerberegister``.
        count: The request is a page view (counts towards ``expire_sessions_every``).
        api: The request is a JSON call (answered with 401 instead of a redirect).
    """
    sandbox_dir: Path = request.app.state.sandbox_dir
    settings: SandboxSettings = request.app.state.faults.settings
    token = request.cookies.get(COOKIES[system])
    next_url = _next_url(request, system)
    if not token:
        raise LoginRequired(system, next_url, expired=False, api=api)
    now = time.time()
    with connect(sandbox_dir) as conn, transaction(conn):
        row = conn.execute(
            "SELECT benutzer, zuletzt, aufrufe FROM sitzungen WHERE token = ? AND system = ?",
            (token, system),
        ).fetchone()
        if row is not None:
            views = row["aufrufe"] + (1 if count else 0)
            every = settings.expire_sessions_every
            expired = now - row["zuletzt"] > settings.session_timeout_s or (
                every > 0 and views > every
            )
            if not expired:
                conn.execute(
                    "UPDATE sitzungen SET zuletzt = ?, aufrufe = ? WHERE token = ?",
                    (now, views, token),
                )
                return str(row["benutzer"])
            conn.execute("DELETE FROM sitzungen WHERE token = ?", (token,))
    # An unknown token (timed out and cleaned up, or a re-seed) also counts as expired.
    raise LoginRequired(system, next_url, expired=True, api=api)


def _next_url(request: Request, system: str) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    if request.method != "GET" or "/api/" in path:
        # After a login, go back to the page the form or call came from.
        referer = request.headers.get("referer", "")
        marker = f"/{system}/"
        path = referer[referer.index(marker) :] if marker in referer else f"/{system}/"
    if system == "gewerberegister" and request.headers.get("sec-fetch-dest") == "iframe":
        # A page of the work area: come back to it inside the frame set.
        return f"/gewerberegister/?seite={quote(path, safe='')}"
    return path
