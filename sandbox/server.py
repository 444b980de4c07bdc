"""Serving the sandbox: blocking for ``bots sandbox serve``, in a thread for tests and demo.

Every registered stand-in is served: a router at ``/NAME`` of the one ASGI app, a process
started (with the environment given, e.g. a run's ``DISPLAY``) and stopped with the server.

Example::

    with running_sandbox(sandbox_dir, SandboxSettings(cases=3)) as sandbox:
        httpx.get(sandbox.base_url + "/_sandbox/health")
        sandbox.url("civento")        # or sandbox.civento_url: base_url + "/civento"
        sandbox.set_faults(fault_rate=0.2)
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from orchestrator.settings import SandboxSettings
from sandbox.app import create_app
from sandbox.seed import seed
from sandbox.standins import StandIn, StandInProcess, installed_standins

STARTUP_TIMEOUT_S = 15.0


def serve(
    sandbox_dir: Path,
    settings: SandboxSettings,
    *,
    announce: Callable[[str], None] | None = None,
    standins: Sequence[StandIn] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Serve every stand-in on ``settings.host:settings.port`` until interrupted.

    Args:
        sandbox_dir: Directory of the SQLite state.
        settings: Sandbox settings (port 0: a free one).
        announce: Told each stand-in's address once the port is bound and the processes run,
            one line each: ``Civento (Sachbearbeitung): http://127.0.0.1:8470/civento``.
        standins: The stand-ins (default: every registered one).
        env: The environment of the stand-ins' processes (default: this process's).
    """
    standins = installed_standins() if standins is None else tuple(standins)
    app = create_app(sandbox_dir, settings, standins)
    listening = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((settings.host, settings.port))
    listening.listen(2048)  # from now on, connections wait for uvicorn: the address is true
    base_url = f"http://{settings.host}:{listening.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    with _processes(standins, sandbox_dir, env) as processes:
        for line in addresses(standins, base_url, processes):
            if announce is not None:
                announce(line)
        server.run(sockets=[listening])


def addresses(
    standins: Sequence[StandIn], base_url: str, processes: Mapping[str, StandInProcess]
) -> list[str]:
    """One line per stand-in: its title and where it is (its URL, or its process's address)."""
    lines = []
    for standin in standins:
        process = processes.get(standin.name)
        where = process.address if process is not None else f"{base_url}/{standin.name}"
        lines.append(f"{standin.title}: {where}")
    return lines


@dataclass
class RunningSandbox:
    """A sandbox serving in a background thread.

    Attributes:
        base_url: e.g. ``http://127.0.0.1:41234``; Civento is at ``base_url + "/civento"``.
        port: The port it listens on.
        app: The ASGI app (its ``state.faults`` holds the runtime fault settings).
        urls: Each served stand-in's base URL, by name.
        processes: Each process stand-in's running process, by name.
    """

    base_url: str
    port: int
    app: FastAPI
    urls: dict[str, str] = field(default_factory=dict)
    processes: dict[str, StandInProcess] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """Base URL of the stand-in ``name``, e.g. ``url("civento")``.

        Raises:
            KeyError: No stand-in of that name is served here.
        """
        if name not in self.urls:
            raise KeyError(f"no stand-in {name!r} is served here: {', '.join(self.urls)}")
        return self.urls[name]

    def __getattr__(self, attribute: str) -> str:
        # `sandbox.civento_url` for `sandbox.url("civento")`, for every stand-in served.
        name = attribute.removesuffix("_url")
        urls = self.__dict__.get("urls", {})
        if attribute.endswith("_url") and name in urls:
            return str(urls[name])
        raise AttributeError(attribute)

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change fault settings now, e.g. ``set_faults(fault_rate=0.3, latency_ms=200)``."""
        return dict(self.app.state.faults.update(changes))


@contextmanager
def running_sandbox(
    sandbox_dir: Path,
    settings: SandboxSettings,
    port: int = 0,
    *,
    standins: Sequence[StandIn] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningSandbox]:
    """Serve the sandbox on loopback in a background thread while the block runs.

    Seeds the stand-ins first that hold no data yet.

    Args:
        sandbox_dir: Directory of the SQLite state.
        settings: Sandbox settings (``host`` is used, ``port`` is not: see ``port``).
        port: Port to listen on; 0 picks a free one.
        standins: The stand-ins (default: every registered one).
        env: The environment of the stand-ins' processes (default: this process's).

    Yields:
        The running sandbox with its ``base_url`` and each stand-in's URL.
    """
    standins = installed_standins() if standins is None else tuple(standins)
    seed(sandbox_dir, settings, reset=False, standins=standins)
    app = create_app(sandbox_dir, settings, standins)
    config = uvicorn.Config(
        app, host=settings.host, port=port, log_level="warning", lifespan="off",
        access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    with _processes(standins, sandbox_dir, env) as processes:
        thread = threading.Thread(target=server.run, name="sandbox-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the sandbox did not start on {settings.host}:{port}")
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://{settings.host}:{bound}"
        urls = {s.name: f"{base_url}/{s.name}" for s in standins if s.router is not None}
        try:
            yield RunningSandbox(base_url, bound, app, urls, dict(processes))
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@contextmanager
def _processes(
    standins: Sequence[StandIn], sandbox_dir: Path, env: Mapping[str, str] | None
) -> Iterator[dict[str, StandInProcess]]:
    """Start each process stand-in; stop them all (the last started first) at the end."""
    environment = dict(os.environ if env is None else env)
    started: dict[str, StandInProcess] = {}
    try:
        for standin in standins:
            if standin.process is not None:
                process = standin.process(Path(sandbox_dir))
                process.start(environment)
                started[standin.name] = process
        yield started
    finally:
        for process in reversed(started.values()):
            process.stop()
