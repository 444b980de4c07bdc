"""What page objects of web target systems share: robust page visits and a retry rule.

A target system's connector (``civento``, ``gewerberegister``) writes its actions as plain
functions over the browser session. Two things every one of them needs:

- :func:`attempts`: run an action again when the target system misbehaved (HTTP 503, a page
  that did not come, an expired session), up to 5 times in all with pauses of 0.5 s, 1 s,
  1.5 s, 2 s, logging in again first when the system sent the browser to its login page. A refusal
  (:class:`~connectors.base.BusinessRefusal`) is never retried.
- :class:`Login`: the account an ``anmelden`` action used, kept in the connector's run state
  so a later action can log in again on its own.

:class:`LoginPage` puts both together for a system with a login form: it logs in, knows its
own page, and makes an action robust or a page visit safe from an expired session::

    LOGIN = LoginPage(user="Benutzername", password="Passwort",
                      landed=role("heading", "Posteingang"))
    LOGIN.anmelden(ctx, benutzer, passwort)       # logs in (robustly) and remembers the account
    LOGIN.robust(ctx, "vorgang_lesen", read)      # read(), again after a failure
    LOGIN.visit(ctx, f"{ctx.target()}/posteingang")
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from connectors.base import ActionContext, BusinessRefusal, ConnectorError, LocatorSpec

T = TypeVar("T")
ATTEMPTS = 5
PAUSE_S = 0.5


@dataclass(frozen=True)
class Login:
    """An account's user name and password (revealed: never log or return it)."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"Login(user={self.user!r}, password=***)"


def remember(ctx: ActionContext, login: Login) -> None:
    ctx.state["login"] = login


def remembered(ctx: ActionContext) -> Login | None:
    login = ctx.state.get("login")
    return login if isinstance(login, Login) else None


def attempts(
    ctx: ActionContext,
    what: str,
    body: Callable[[], T],
    *,
    relogin: Callable[[Login], None] | None = None,
    on_login_page: Callable[[], bool] | None = None,
) -> T:
    """``body()``, again after an application failure (see the module docstring)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return body()
        except BusinessRefusal:
            raise
        except ConnectorError as exc:
            if attempt == ATTEMPTS or time.monotonic() >= ctx.deadline:
                raise
            ctx.log.warning(
                "action attempt failed; trying again",
                action=f"{ctx.connector}.{what}",
                try_number=attempt,
                tries=ATTEMPTS,
                error=ctx.redact(str(exc)),
            )
            time.sleep(max(0.0, min(PAUSE_S * attempt, ctx.deadline - time.monotonic())))
            login = remembered(ctx)
            if relogin is not None and login is not None and on_login_page is not None:
                try:
                    if on_login_page():
                        ctx.log.info("session expired; logging in again", connector=ctx.connector)
                        relogin(login)
                except ConnectorError as again:  # the next attempt meets it again
                    ctx.log.warning("login again failed", error=ctx.redact(str(again)))
    raise AssertionError("unreachable")


def visit(
    ctx: ActionContext,
    browser: Any,
    url: str,
    *,
    on_login_page: Callable[[], bool],
    relogin: Callable[[Login], None],
) -> None:
    """Open ``url``; when the system answers with its login page (the session expired) and
    an account is remembered, log in again and open ``url`` once more, at once instead of
    after a timeout."""
    browser.goto(url, timeout=ctx.timeout())
    login = remembered(ctx)
    if login is not None and on_login_page():
        ctx.log.info("session expired; logging in again", connector=ctx.connector)
        relogin(login)
        browser.goto(url, timeout=ctx.timeout())


@dataclass(frozen=True)
class LoginPage:
    """A target system's login form at ``{target}{path}``: the labels of its fields, its
    button, and what shows once logged in."""

    user: str
    password: str
    landed: LocatorSpec
    path: str = "/login"
    button: str = "Anmelden"
    #: The system's own page when it is down (its 503 page): a failure at once, tried again,
    #: instead of waiting out the timeout for ``landed``.
    unavailable: LocatorSpec | None = None

    def log_in(self, ctx: ActionContext, login: Login) -> None:
        browser, timeout = tab(ctx), ctx.timeout
        browser.goto(f"{ctx.target()}{self.path}", timeout=timeout())
        browser.fill(label(self.user), login.user, timeout=timeout())
        browser.fill(label(self.password), login.password, timeout=timeout())
        browser.click(role("button", self.button), timeout=timeout())
        if self.unavailable is None:
            browser.wait_for_element(self.landed, "visible", timeout=timeout())
            return
        either = replace(self.landed, fallbacks=(self.unavailable,))
        browser.wait_for_element(either, "visible", timeout=timeout())
        if browser.count(self.unavailable, timeout=timeout()):
            raise ConnectorError(f"{ctx.connector}: the system is not available after logging in")

    def shown(self, ctx: ActionContext) -> bool:
        """Whether the connector's tab shows this login page (the session expired): its path,
        whatever the query or the host name the system redirected to."""
        return urlsplit(tab(ctx).url).path == urlsplit(f"{ctx.target()}{self.path}").path

    def anmelden(self, ctx: ActionContext, user: str, password: str) -> None:
        """Log in with this account and remember it for logging in again."""
        login = Login(user, password)
        self.robust(ctx, "anmelden", lambda: self.log_in(ctx, login))
        remember(ctx, login)

    def robust(self, ctx: ActionContext, what: str, body: Callable[[], T]) -> T:
        """``body()`` under :func:`attempts`, logging in again where the session expired."""
        return attempts(
            ctx,
            what,
            body,
            relogin=lambda login: self.log_in(ctx, login),
            on_login_page=lambda: self.shown(ctx),
        )

    def visit(self, ctx: ActionContext, url: str) -> None:
        """Open ``url`` as :func:`visit` does, logging in again through this page."""
        visit(
            ctx,
            tab(ctx),
            url,
            on_login_page=lambda: self.shown(ctx),
            relogin=lambda login: self.log_in(ctx, login),
        )


def log_out(ctx: ActionContext, path: str) -> None:
    """Open ``path`` on the target and press "Abmelden" if it is there; a session that
    already ended (or never began, or a bot without this target) is not an error. The
    remembered login is forgotten either way."""
    browser, timeout = tab(ctx), ctx.timeout
    try:
        browser.goto(f"{ctx.target()}{path}", timeout=min(timeout(), 10))
        if browser.count(role("button", "Abmelden"), timeout=min(timeout(), 5)):
            browser.click(role("button", "Abmelden"), timeout=min(timeout(), 5))
            browser.wait_for_element(role("button", "Anmelden"), "visible", timeout=5)
    except ConnectorError as exc:
        ctx.log.info(f"{ctx.connector}: logout not confirmed", error=ctx.redact(str(exc)))
    ctx.state.pop("login", None)


def tab(ctx: ActionContext) -> Any:
    """The browser, switched to this connector's own tab."""
    browser = ctx.session("browser")
    browser.use_page(ctx.connector)
    return browser


def number_in(text: str, pattern: re.Pattern[str], what: str) -> int:
    """The number ``pattern`` finds (its first group) in a text the page shows, with its
    whitespace made single spaces; no match is a :class:`ConnectorError` (tried again),
    never a silent 0. Example::

        number_in("23 Vorgänge, Seite 1 von 3", re.compile(r"(\\d+) Vorgänge"), "hits")  # 23
    """
    shown = " ".join(text.split())
    found = pattern.search(shown)
    if found is None:
        raise ConnectorError(f"{what} is not shown as expected: {shown!r}")
    return int(found[1])


def role(kind: str, name: str, **options: Any) -> LocatorSpec:
    return LocatorSpec(role=kind, name=name, **options)


def label(text: str, **options: Any) -> LocatorSpec:
    return LocatorSpec(label=text, **options)
