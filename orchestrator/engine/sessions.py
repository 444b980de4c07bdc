"""The connectors' sessions of one run: each opened when a step first needs it.

The runner gives the pool one opener per connector that has a session (its own, a
third party's mailbox); the interpreter's handlers ask for them by name and the runner closes
what was opened when the run ends::

    pool = SessionPool({"mailbox": open_mailbox})
    pool.get("mailbox").fetch(...)  # opens it
    pool.opened()                   # {"mailbox": <MailboxSession>}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.errors import BotsError


class SessionPool:
    """Sessions by connector name, opened lazily, in the order they were opened."""

    def __init__(self, openers: Mapping[str, Callable[[], Any]]) -> None:
        self._openers = dict(openers)
        self._open: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        """The session of connector ``name``, opened on first use."""
        if name not in self._open:
            opener = self._openers.get(name)
            if opener is None:
                known = ", ".join(sorted(self._openers)) or "none"
                raise BotsError(f"no connector {name!r} with a session (installed: {known})")
            self._open[name] = opener()
        return self._open[name]

    def opened(self) -> dict[str, Any]:
        """The sessions a step has opened so far, by name."""
        return dict(self._open)

    def opened_one(self, name: str) -> Any | None:
        """The session ``name`` if a step has opened it."""
        return self._open.get(name)
