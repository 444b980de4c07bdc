"""Fixtures for connector tests: the test site and one Chromium shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _site import Site, serve_site

from connectors.browser import BrowserSession
from orchestrator.settings import load_settings


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The test site on a free loopback port."""
    with serve_site() as running:
        yield running


@pytest.fixture(scope="module")
def browser_session() -> Iterator[BrowserSession]:
    """One headless Chromium per test module (10 s default timeout; failure tests set theirs).

    Module scope, not session: Playwright's sync API allows one running instance per thread,
    and the engine's tests start their own.
    """
    chromium = load_settings().chromium
    with BrowserSession(chromium, headless=True, timeout_s=10.0) as session:
        yield session


@pytest.fixture
def browser(browser_session: BrowserSession, site: Site) -> BrowserSession:
    """The shared browser, showing ``/locators``."""
    browser_session.goto(f"{site.base_url}/locators")
    return browser_session
