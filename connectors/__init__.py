"""Connectors: sessions with target systems (browser, desktop, mail, e-Akte, ...).

:mod:`connectors.base` holds the interface and the errors every connector shares;
:mod:`connectors.browser` drives Chromium (the only module importing Playwright);
:mod:`connectors.display` provides an X display for headed sessions on servers.
Connectors never import the orchestrator.
"""
