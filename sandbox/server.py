"""Serving the sandbox: blocking for ``bots sandbox serve``, in a thread for tests and demo.

Example::

    with running_sandbox(sandbox_dir, SandboxSettings(cases=3)) as sandbox:
        httpx.get(sandbox.base_url + "/_sandbox/health")
        sandbox.set_faults(fault_rate=0.2)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from orchestrator.settings import SandboxSettings
from sandbox.app import create_app
from sandbox.seed import seed

STARTUP_TIMEOUT_S = 15.0


def serve(sandbox_dir: Path, settings: SandboxSettings) -> None:
    """Serve both systems on ``settings.host:settings.port`` until interrupted."""
    app = create_app(sandbox_dir, settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


@dataclass
class RunningSandbox:
    """A sandbox serving in a background thread.

    Attributes:
        base_url: e.g. ``http://127.0.0.1:41234``; Civento is at ``base_url + "/civento"``.
        port: The port it listens on.
        app: The ASGI app (its ``state.faults`` holds the runtime fault settings).
    """

    base_url: str
    port: int
    app: FastAPI

    @property
    def civento_url(self) -> str:
        """Base URL of the Civento stand-in."""
        return f"{self.base_url}/civento"

    @property
    def gewerberegister_url(self) -> str:
        """Base URL of the Gewerberegister stand-in."""
        return f"{self.base_url}/gewerberegister"

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change fault settings now, e.g. ``set_faults(fault_rate=0.3, latency_ms=200)``."""
        return dict(self.app.state.faults.update(changes))


@contextmanager
def running_sandbox(
    sandbox_dir: Path, settings: SandboxSettings, port: int = 0
) -> Iterator[RunningSandbox]:
    """Serve the sandbox on loopback in a background thread while the block runs.

    Seeds the sandbox first when it holds no data yet.

    Args:
        sandbox_dir: Directory of the SQLite state.
        settings: Sandbox settings (``host`` is used, ``port`` is not: see ``port``).
        port: Port to listen on; 0 picks a free one.

    Yields:
        The running sandbox with its ``base_url``.
    """
    seed(sandbox_dir, settings, reset=False)
    app = create_app(sandbox_dir, settings)
    config = uvicorn.Config(
        app, host=settings.host, port=port, log_level="warning", lifespan="off",
        access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the sandbox did not start on {settings.host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningSandbox(base_url=f"http://{settings.host}:{bound}", port=bound, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
