"""The desktop connector's registration: its step kinds, their handlers, its session."""

from __future__ import annotations

from connectors.base import Connector
from connectors.desktop import handlers
from connectors.desktop import steps as s
from orchestrator.model.registry import ConnectorSpec, SessionEnv, StepKind


def _session(env: SessionEnv) -> Connector:
    """The run's desktop: on the run's display (one is started when none is set)."""
    from connectors.desktop.session import DesktopSession

    return DesktopSession(env.display, timeout_s=env.timeout_s, run_dir=env.run_dir)


INTO = ("into",)

CONNECTOR = ConnectorSpec(
    name="desktop",
    description="Desktop applications (a Fachverfahren's thick client) on an X display: "
    "windows by title or process, controls by role and name through the accessibility tree "
    "(AT-SPI; UI Automation on Windows), by OCR text or by offset, keys and clicks; every "
    "action that a control can confirm is read back.",
    steps=(
        StepKind(s.StartAppStep, handlers.start_app, creates=INTO),
        StepKind(s.WindowStep, handlers.window, creates=INTO),
        StepKind(s.ClickStep, handlers.click, raw_interaction=True),
        StepKind(s.FillStep, handlers.fill, secret_fields=("value",), raw_interaction=True),
        StepKind(
            s.TypeTextStep, handlers.type_text, secret_fields=("type_text",), raw_interaction=True
        ),
        StepKind(s.HotkeyStep, handlers.hotkey, raw_interaction=True),
        StepKind(s.SelectStep, handlers.select, raw_interaction=True),
        StepKind(s.CheckStep, handlers.check, raw_interaction=True),
        StepKind(s.UncheckStep, handlers.uncheck, raw_interaction=True),
        StepKind(s.ExtractStep, handlers.extract, creates=INTO),
        StepKind(s.WaitForStep, handlers.wait_for, creates=INTO),
        StepKind(s.ScreenshotStep, handlers.screenshot),
        StepKind(s.CloseAppStep, handlers.close_app),
    ),
    session=_session,
    display=True,
    needs_display=True,
    labels=("desktop",),
)
