"""Fault injection: HTTP 503 answers, changeable at runtime.

The share of 503s is ``fault_rate``. The draw is seeded, so a run is reproducible as long as
requests come in the same order. Two rules keep the apps usable, as with real flaky servers:

* static assets (``/static/``) and the ``/_sandbox`` control endpoints never fail;
* a request that just failed succeeds when repeated at once (an idempotent retry works).

A 503 is answered before the request reaches the app, so a failed POST changed nothing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from orchestrator.settings import SandboxSettings
from sandbox.breakpoints import held_outcome

#: The settings that can be changed while serving (``POST /_sandbox/faults``).
RUNTIME_FIELDS = (
    "fault_rate",
    "latency_ms",
    "late_elements_ms",
    "session_timeout_s",
    "expire_sessions_every",
)

UNAVAILABLE_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>503 Service Unavailable</title></head>
<body><h1>Service vorübergehend nicht verfügbar</h1>
<p>Der Server ist überlastet oder wird gewartet. Bitte versuchen Sie es in Kürze erneut.</p>
</body></html>"""


class FaultInjector:
    """The runtime fault settings and the seeded 503 draw.

    Example::

        faults = FaultInjector(SandboxSettings(fault_rate=0.2))
        faults.update({"fault_rate": 0.0})
    """

    def __init__(self, settings: SandboxSettings) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._rng = random.Random(settings.seed)
        self._last_failed: str | None = None

    @property
    def settings(self) -> SandboxSettings:
        """The settings now in force."""
        return self._settings

    def snapshot(self) -> dict[str, Any]:
        """The runtime-changeable settings as a dict."""
        data = self._settings.model_dump()
        return {name: data[name] for name in RUNTIME_FIELDS}

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change runtime settings; raises ``ValueError`` for unknown names or bad values."""
        unknown = sorted(set(changes) - set(RUNTIME_FIELDS))
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        with self._lock:
            merged = {**self._settings.model_dump(), **changes}
            self._settings = SandboxSettings.model_validate(merged)
            self._last_failed = None
        return self.snapshot()

    def should_fail(self, key: str) -> bool:
        """Draw whether the request ``key`` (method and path) gets a 503."""
        with self._lock:
            if self._settings.fault_rate <= 0:
                return False
            if key == self._last_failed:
                self._last_failed = None
                return False
            if self._rng.random() < self._settings.fault_rate:
                self._last_failed = key
                return True
            return False


def _exempt(path: str) -> bool:
    return "/static/" in path or path.startswith("/_sandbox") or path == "/favicon.ico"


async def fault_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Answer a share of requests with 503 before they reach the app; hold a request a
    breakpoint takes (:mod:`sandbox.breakpoints`) until it is released."""
    faults: FaultInjector = request.app.state.faults
    path = request.url.path
    held = None if _exempt(path) else await held_outcome(request)
    if held == "fail" or (
        held is None and not _exempt(path) and faults.should_fail(f"{request.method} {path}")
    ):
        if path.split("/")[2:3] == ["api"]:  # a stand-in's JSON calls: /NAME/api/...
            return Response(
                '{"error": "Service Unavailable"}',
                status_code=503,
                media_type="application/json",
                headers={"Retry-After": "1"},
            )
        return HTMLResponse(UNAVAILABLE_PAGE, status_code=503, headers={"Retry-After": "1"})
    return await call_next(request)
