"""Breakpoints: hold a matching request until released, to stop a bot at an exact moment.

A training and test aid for "what happens if the bot dies right here?". A breakpoint names a
method, a path (regular expression, matched in full) and optionally a text the request body
must contain. The first request that matches is *held*: it neither reaches the app nor gets
an answer until the breakpoint is released. Meanwhile the test (or trainer) can kill the bot.
Released with ``then: fail``, the held request is answered 503 and changed nothing, as if
the server had gone away; with ``then: pass`` it goes on to the app. Control endpoints::

    POST   /_sandbox/breakpoints            {"method": "POST", "path": "/civento/api/vorgang/.*",
                                             "body": "Übertragen"}  -> {"id": 1, ...}
    GET    /_sandbox/breakpoints            every breakpoint: armed, held (a request waits), done
    POST   /_sandbox/breakpoints/1/release  {"then": "fail"}  (or "pass")
    DELETE /_sandbox/breakpoints            release all (503) and forget them

Example, from Python::

    app.state.breakpoints.add("POST", "/civento/api/vorgang/.*", body="Übertragen")
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

Outcome = Literal["fail", "pass"]
_POLL_S = 0.02


@dataclass
class Breakpoint:
    """One breakpoint; ``state`` goes ``armed -> held -> done``."""

    id: int
    method: str
    path: str
    body: str | None = None
    state: Literal["armed", "held", "done"] = "armed"
    held: str | None = None  # "METHOD path" of the request it holds or held
    outcome: Outcome | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str, body: str) -> bool:
        """Whether an armed breakpoint takes this request."""
        return (
            self.state == "armed"
            and method.upper() == self.method.upper()
            and self._pattern.fullmatch(path) is not None
            and (self.body is None or self.body in body)
        )

    def to_json(self) -> dict[str, Any]:
        """The breakpoint as the control endpoints show it."""
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "state": self.state,
            "held": self.held,
            "outcome": self.outcome,
        }


class Breakpoints:
    """The app's breakpoints; safe to use from the server's and the test's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, Breakpoint] = {}
        self._next_id = 1

    def add(self, method: str, path: str, body: str | None = None) -> Breakpoint:
        """Arm a breakpoint for the next request of ``method`` whose path matches ``path``.

        Raises:
            ValueError: ``path`` is not a valid regular expression.
        """
        try:
            re.compile(path)
        except re.error as exc:
            raise ValueError(f"path {path!r} is not a regular expression: {exc}") from None
        with self._lock:
            item = Breakpoint(self._next_id, method, path, body)
            self._items[item.id] = item
            self._next_id += 1
            return item

    def list(self) -> list[dict[str, Any]]:
        """Every breakpoint, as JSON-ready data."""
        with self._lock:
            return [item.to_json() for item in self._items.values()]

    def release(self, breakpoint_id: int, then: Outcome = "fail") -> dict[str, Any]:
        """Let the request a breakpoint holds go on (``pass``) or fail with 503 (``fail``).

        Releasing an armed breakpoint disarms it. Raises ``KeyError`` for an unknown id.
        """
        with self._lock:
            item = self._items[breakpoint_id]
            item.outcome = then
            if item.state == "armed":
                item.state = "done"
            return item.to_json()

    def clear(self) -> None:
        """Release every held request with 503 and forget all breakpoints."""
        with self._lock:
            for item in self._items.values():
                item.outcome = item.outcome or "fail"
            self._items.clear()

    def take(self, method: str, path: str, body: str) -> Breakpoint | None:
        """The armed breakpoint this request runs into (now held by it), if any."""
        with self._lock:
            for item in self._items.values():
                if item.matches(method, path, body):
                    item.state, item.held = "held", f"{method} {path}"
                    return item
        return None

    async def wait(self, item: Breakpoint) -> Outcome:
        """Wait until ``item`` is released; returns what to do with the held request."""
        while True:
            with self._lock:
                if item.outcome is not None:
                    item.state = "done"
                    return item.outcome
            await asyncio.sleep(_POLL_S)


async def held_outcome(request: Request) -> Outcome | None:
    """For the fault middleware: hold ``request`` if a breakpoint takes it.

    Returns None when no breakpoint matched, else how it was released.
    """
    breakpoints: Breakpoints | None = getattr(request.app.state, "breakpoints", None)
    if breakpoints is None or not breakpoints.list():
        return None
    body = (await request.body()).decode("utf-8", errors="replace")
    item = breakpoints.take(request.method, request.url.path, body)
    if item is None:
        return None
    return await breakpoints.wait(item)
