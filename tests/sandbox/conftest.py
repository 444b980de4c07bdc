"""Fixtures of the sandbox tests: a seeded sandbox served on loopback, an HTTP client, Chromium.

The sandbox runs in uvicorn on a free loopback port (as in production, no in-process shortcut);
starting it takes milliseconds.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from orchestrator.settings import SandboxSettings, load_settings
from sandbox.seed import seed
from sandbox.server import RunningSandbox, running_sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = SandboxSettings().password
USER = "rpa-gewerbe"


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Small, fault-free sandbox settings (3 new Gewerbeanmeldungen)."""
    return SandboxSettings(cases=3)


@pytest.fixture
def sandbox_dir(tmp_path: Path, sandbox_settings: SandboxSettings) -> Path:
    """A freshly seeded sandbox directory."""
    directory = tmp_path / "sandbox"
    seed(directory, sandbox_settings)
    return directory


@pytest.fixture
def sandbox(sandbox_dir: Path, sandbox_settings: SandboxSettings) -> Iterator[RunningSandbox]:
    """The seeded sandbox, serving on a free loopback port."""
    with running_sandbox(sandbox_dir, sandbox_settings) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client of the sandbox (not logged in) that follows redirects."""
    with httpx.Client(base_url=sandbox.base_url, follow_redirects=True) as http:
        yield http


def _csrf_of(page: str) -> str:
    """The CSRF token in a page: the hidden field ``csrf_token`` or ``<meta name="csrf-token">``."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page
    )
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def civento(client: httpx.Client) -> httpx.Client:
    """The client, logged into Civento as rpa-gewerbe; it sends the session's CSRF token in
    the header ``X-CSRF-Token`` with every request, as the Vorgang page's script does."""
    response = client.post("/civento/login", data={"benutzername": USER, "passwort": PASSWORD})
    assert response.status_code == 200 and "Posteingang" in response.text
    client.headers["X-CSRF-Token"] = _csrf_of(response.text)
    return client


@pytest.fixture
def register(client: httpx.Client) -> httpx.Client:
    """The client, logged into the Gewerberegister as rpa-gewerbe (through the login form)."""
    token = _csrf_of(client.get("/gewerberegister/login").text)
    response = client.post(
        "/gewerberegister/login",
        data={"kennung": USER, "kennwort": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 200 and "arbeitsbereich" in response.text
    return client


@pytest.fixture
def register_token(register: httpx.Client) -> str:
    """The CSRF token of the register session, as its forms carry it."""
    return _csrf_of(register.get("/gewerberegister/neu").text)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The Chromium the project drives (settings' default: Debian's chromium)."""
    return load_settings().chromium


@pytest.fixture(scope="session")
def handwritten() -> ModuleType:
    """``benchmarks/handwritten.py``, loaded by path (benchmarks is not an installed package)."""
    path = PROJECT_ROOT / "benchmarks" / "handwritten.py"
    spec = importlib.util.spec_from_file_location("benchmarks_handwritten", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def in_own_thread() -> Callable[..., Any]:
    """Run a function in a fresh thread and return its result (exceptions propagate).

    Playwright's sync API refuses to start in a thread where another sync Playwright is open
    (e.g. a session-scoped browser fixture of another test package); a fresh thread has none.
    """

    def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(function, *args, **kwargs).result()

    return run
