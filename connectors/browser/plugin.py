"""The browser connector's registration: its step kinds, their handlers, its session."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector
from connectors.browser import handlers
from connectors.browser import steps as s
from orchestrator.model.registry import ConnectorSpec, SessionEnv, StepKind


class BrowserSettings(BaseModel):
    """The browser's own settings (``connectors: {browser: {...}}``); ``headless``, ``trace``
    and ``step_timeout_s`` stay top-level settings, as they are the run's."""

    model_config = ConfigDict(extra="forbid")

    chromium: str | None = Field(
        None,
        description="Path of the Chromium executable; default: the top-level `chromium` "
        "setting (BOTS_CHROMIUM, or Debian's /usr/lib/chromium/chromium).",
    )


def _session(env: SessionEnv) -> Connector:
    """The run's browser: Chromium from this connector's settings (else the run's top-level
    ``chromium``), on the run's display, tracing as the run's trace mode says."""
    from connectors.browser.session import BrowserSession

    chromium = (
        getattr(env.settings, "chromium", None)
        or getattr(env.run_settings, "chromium", None)
        or "/usr/lib/chromium/chromium"
    )
    return BrowserSession(
        chromium,
        headless=env.headless,
        timeout_s=env.timeout_s,
        trace=env.trace,
        display=env.display,
    )


INTO = ("into",)

CONNECTOR = ConnectorSpec(
    name="browser",
    description="Chromium driven by Playwright: open pages, click, fill, read, download. "
    "Locators prefer what a person sees (role and name, label, text) over CSS and XPath.",
    steps=(
        StepKind(s.GotoStep, handlers.goto),
        StepKind(s.ClickStep, handlers.click, raw_interaction=True),
        StepKind(s.FillStep, handlers.fill, secret_fields=("value",), raw_interaction=True),
        StepKind(s.SelectStep, handlers.select, raw_interaction=True),
        StepKind(s.CheckStep, handlers.check, raw_interaction=True),
        StepKind(s.UncheckStep, handlers.uncheck, raw_interaction=True),
        StepKind(s.PressStep, handlers.press, raw_interaction=True),
        StepKind(s.WaitForStep, handlers.wait_for, creates=INTO),
        StepKind(s.ExtractStep, handlers.extract, creates=INTO),
        StepKind(s.ScreenshotStep, handlers.screenshot),
        StepKind(s.DownloadStep, handlers.download, creates=INTO, raw_interaction=True),
        StepKind(s.UploadStep, handlers.upload, raw_interaction=True),
    ),
    session=_session,
    settings=BrowserSettings,
    display=True,
    main_evidence=True,
    labels=("browser",),
)
