"""Playwright's errors as the connector errors of :mod:`connectors.base`.

Playwright reports a failed action as a message followed by its call log; the connector
errors carry one readable line instead, and for a timeout the call log's last state::

    try:
        loc.click(timeout=ms)
    except PlaywrightTimeout as exc:
        raise timeout_error(spec, loc, "click", exc) from None
    # ConnectorTimeout: click button "Speichern": Timeout 5000ms exceeded.;
    #   last state: element is not enabled

Which error a failure becomes:

- a strict mode violation (several matches): :class:`AmbiguousLocator`, naming up to
  :data:`MAX_CANDIDATES` of the elements found;
- a timeout while nothing matches: :class:`ElementNotFound`;
- a timeout on an element that is there: :class:`ConnectorTimeout`;
- anything else: :class:`ConnectorError`.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator as PwLocator

from connectors.base import (
    AmbiguousLocator,
    ConnectorError,
    ConnectorTimeout,
    ElementNotFound,
    LocatorSpec,
)
from connectors.browser.scripts import CANDIDATES_JS

#: How many of the elements an ambiguous locator matches its error describes.
MAX_CANDIDATES = 5


def first_line(exc: BaseException) -> str:
    """The first non-blank line of the error's message (its type name if there is none)."""
    message = getattr(exc, "message", None) or str(exc)
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def last_call_log_line(exc: BaseException) -> str | None:
    """The last line of Playwright's call log, e.g. ``element is not enabled``."""
    message = getattr(exc, "message", None) or str(exc)
    _, _, log = message.partition("Call log:")
    lines = [line.strip().lstrip("-").strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else None


def candidates(loc: PwLocator) -> tuple[int, list[str]]:
    """How many elements ``loc`` matches and a description of up to five of them."""
    count = loc.count()
    described: list[str] = loc.evaluate_all(CANDIDATES_JS, MAX_CANDIDATES)
    return count, described


def action_error(
    spec: LocatorSpec, loc: PwLocator, what: str, exc: PlaywrightError
) -> ConnectorError:
    """The error for ``what`` (``click``, ``fill``, ...) failing on ``loc`` other than by
    timeout: :class:`AmbiguousLocator` when several elements match, else ConnectorError."""
    if "strict mode violation" in (exc.message or ""):
        try:
            count, described = candidates(loc)
        except PlaywrightError:
            count, described = 2, []
        return AmbiguousLocator(spec.describe(), count, described)
    return ConnectorError(f"{what} {spec.describe_all()}: {first_line(exc)}")


def timeout_error(
    spec: LocatorSpec, loc: PwLocator, what: str, exc: PlaywrightError
) -> ConnectorError:
    """The error for ``what`` timing out on ``loc``: :class:`ElementNotFound` when nothing
    matches, else :class:`ConnectorTimeout` with the element's last state."""
    try:
        found = loc.count()
    except PlaywrightError:
        found = -1
    if found == 0:
        return ElementNotFound(
            f"{what}: no element matches {spec.describe_all()} ({first_line(exc)})"
        )
    reason = last_call_log_line(exc)
    detail = f"; last state: {reason}" if reason else ""
    return ConnectorTimeout(f"{what} {spec.describe()}: {first_line(exc)}{detail}")
