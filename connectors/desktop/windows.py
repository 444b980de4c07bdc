"""Top-level windows: which one a query means, and waiting for it to come or to go.

A query names a window by its exact title, a pattern its title matches, its process, or as a
dialog of an application (the current window's); each wait has a real deadline and its
timeout names what it waited for and the windows that were there::

    query = WindowQuery(title="Hundesteuer", pid=4711)
    window = wait_for_window(desktop.windows, query, timeout=10)
    wait_until_gone(desktop.windows, WindowQuery(title="Bitte warten"), timeout=30)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.base import AmbiguousLocator, ConnectorTimeout
from connectors.desktop.atspi import Node

POLL_S = 0.1
#: The windows there now, given a deadline (the accessibility tree's and X's, merged).
Windows = Callable[[float], list[Node]]


@dataclass(frozen=True)
class WindowQuery:
    """Which window (see the module docstring); ``owner`` is the bus name of the
    application whose dialog a ``dialog`` query means (None: any application's)."""

    title: str | None = None
    pattern: str | None = None
    pid: int | None = None
    dialog: bool = False
    owner: str | None = None

    def fits(self, window: Node) -> bool:
        if window.role not in ("window", "dialog"):
            return False
        if self.title is not None and window.name != self.title:
            return False
        if self.pattern is not None and not re.search(self.pattern, window.name):
            return False
        if self.pid is not None and window.pid != self.pid:
            return False
        if self.dialog:
            return window.role == "dialog" and self.owner in (None, window.bus)
        return True

    def describe(self) -> str:
        parts = []
        if self.title is not None:
            parts.append(f"title {self.title!r}")
        if self.pattern is not None:
            parts.append(f"title matching {self.pattern!r}")
        if self.pid is not None:
            parts.append(f"process {self.pid}")
        kind = "a dialog" if self.dialog else "a window"
        return f"{kind} with {' and '.join(parts)}" if parts else kind


def show(window: Node) -> str:
    """E.g. ``dialog 'Bestätigung' (process 4711)``."""
    return f"{window.role} {window.name!r} (process {window.pid})"


def wait_for_window(windows: Windows, query: WindowQuery, *, timeout: float) -> Node:
    """Wait for exactly one window fitting ``query``; several fail at once, naming them."""
    deadline = time.monotonic() + timeout
    wanted = query.describe()
    while True:
        try:
            seen = windows(deadline)
        except ConnectorTimeout:
            raise ConnectorTimeout(
                f"{wanted} did not appear within {timeout:g} s (an application did not "
                "answer the accessibility bus)"
            ) from None
        found = [window for window in seen if query.fits(window)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AmbiguousLocator(wanted, len(found), [show(w) for w in found[:5]])
        if time.monotonic() + POLL_S > deadline:
            there = ", ".join(show(w) for w in seen[:8]) or "none"
            raise ConnectorTimeout(
                f"{wanted} did not appear within {timeout:g} s; windows there: {there}"
            )
        time.sleep(POLL_S)


def wait_until_gone(windows: Windows, query: WindowQuery, *, timeout: float) -> None:
    """Wait until no window fits ``query``."""
    deadline = time.monotonic() + timeout
    while any(query.fits(window) for window in windows(deadline)):
        if time.monotonic() + POLL_S > deadline:
            raise ConnectorTimeout(f"{query.describe()} was still open after {timeout:g} s")
        time.sleep(POLL_S)
