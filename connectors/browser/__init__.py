"""The browser connector: Chromium driven by Playwright, and the browser step kinds.

:mod:`.session` holds :class:`BrowserSession` (with :mod:`.locators`, :mod:`.errors` and
:mod:`.chromium` the only modules importing Playwright), :mod:`.steps` the step models
(``goto``, ``click``, ``fill``, ``extract``, ...) and :mod:`.handlers` the functions running
them; :data:`CONNECTOR` registers all of it through the entry point group
``kommune_bots.connectors`` (see :mod:`orchestrator.model.registry`).
Importing this package does not import Playwright: the session is built when a run first
needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.browser.chromium import chromium_version
    from connectors.browser.session import BrowserSession

__all__ = ["BrowserSession", "chromium_version"]


def __getattr__(name: str) -> Any:
    # `from connectors.browser import BrowserSession` imports Playwright only then.
    if name == "BrowserSession":
        from connectors.browser.session import BrowserSession

        return BrowserSession
    if name == "chromium_version":
        from connectors.browser.chromium import chromium_version

        return chromium_version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
