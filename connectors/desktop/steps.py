"""The desktop's step kinds: pydantic models, one per kind (their handlers: ``handlers``).

A desktop step names a control with a :class:`Control` locator, in the same words on every
backend (``{role: button, name: Speichern}``). Kinds the browser also has are written with
the connector's name (``desktop.click``, ``desktop.fill``); the others are bare
(``start_app``, ``window``, ``type_text``, ``hotkey``, ``close_app``)::

    - start_app: hundesteuer-client
      args: ["--server", "{{ targets.hundesteuer }}"]
    - window: {title: Hundesteuer – Anmeldung}
    - desktop.fill: {role: textbox, name: Kennung}
      value: rpa-steuer
    - desktop.click: {role: button, name: Anmelden}
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.desktop.roles import known_roles
from orchestrator.model.steps import VARIABLE, StepBase

STRATEGIES = ("role", "automation_id", "name", "ocr", "offset")


class Control(BaseModel):
    """Finds one control in the current window. Every string value is a template.

    By the accessibility tree (``role`` with ``name``, ``automation_id``), by text on the
    screen (``ocr``), or by an ``offset`` from the window's (or ``from`` a control's) top
    left corner. Fallbacks are tried in order; the run log names the one that matched."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    role: str | None = Field(
        None,
        description="Our role name, the same on Linux and Windows: "
        + ", ".join(known_roles())
        + ".",
    )
    name: str | None = Field(None, description="Accessible name (the label a person reads).")
    exact: bool = Field(True, description="Match the name exactly; false: it contains it.")
    automation_id: str | None = Field(
        None, description="The control's automation id (AT-SPI AccessibleId, UIA AutomationId)."
    )
    ocr: str | None = Field(None, description="Text on the screen, read by OCR (German, English).")
    offset: tuple[int, int] | None = Field(
        None, description="[x, y] pixels from the window's top left corner (or from `from`)."
    )
    origin: Control | None = Field(
        None, alias="from", description="With `offset`: the control the offset starts at."
    )
    within: Control | None = Field(None, description="Search only inside this control.")
    nth: int | None = Field(
        None, ge=0, description="Take the n-th match (0-based) instead of requiring one."
    )
    fallbacks: list[Control] = Field(
        default_factory=list, description="Locators tried in order when this one finds nothing."
    )

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str | None) -> str | None:
        if role is not None and role not in known_roles():
            raise ValueError(f"unknown role {role!r}; known: {', '.join(known_roles())}")
        return role

    @model_validator(mode="after")
    def _one_strategy(self) -> Control:
        by_tree = any(getattr(self, key) is not None for key in ("role", "automation_id", "name"))
        used = [key for key in ("ocr", "offset") if getattr(self, key) is not None]
        if by_tree + len(used) != 1:
            raise ValueError(
                "a control needs role/name/automation_id, or ocr, or offset (one of them)"
            )
        if self.origin is not None and self.offset is None:
            raise ValueError("`from` belongs to an `offset` locator")
        return self


class StartAppStep(StepBase):
    """Start an application on the run's desktop (stopped when the run ends)."""

    KIND: ClassVar[str] = "start_app"
    start_app: str = Field(
        description="The program (template): a path, a command on PATH, or one installed "
        "beside the robot (e.g. hundesteuer-client)."
    )
    args: list[str] = Field(default_factory=list, description="Its arguments (templates).")
    env: dict[str, str] = Field(
        default_factory=dict, description="Environment variables it gets besides the desktop's."
    )
    cwd: str | None = Field(None, description="Its working directory (template).")
    accessible: bool = Field(
        True,
        description="Let it expose its accessibility tree; false: pixels and keys only (as "
        "through a terminal server).",
    )
    into: str | None = Field(
        None, description="Variable receiving its process id.", pattern=VARIABLE
    )


class WindowQuery(BaseModel):
    """Which window: by title (exact or pattern), process, or a dialog of the current one."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="window query")

    title: str | None = Field(None, description="The window's exact title (template).")
    pattern: str | None = Field(
        None, description="A regular expression its title matches (template)."
    )
    process: str | None = Field(None, description="Its process id (template).")
    dialog: bool = Field(False, description="A dialog of the current window's application.")

    @model_validator(mode="after")
    def _something(self) -> WindowQuery:
        if self.title is None and self.pattern is None and self.process is None:
            if not self.dialog:
                raise ValueError("a window needs title, pattern, process or dialog: true")
        return self


class WindowStep(StepBase):
    """Wait for a window (with the step's timeout) and work in it from now on."""

    KIND: ClassVar[str] = "window"
    window: WindowQuery = Field(description="The window to wait for.")
    maximise: bool = Field(False, description="Maximise it once found.")
    into: str | None = Field(
        None,
        description="Variable receiving its title (which one came, with a `pattern` such as "
        "'^(Gespeichert|Fehler)$').",
        pattern=VARIABLE,
    )


class ClickStep(StepBase):
    """Click a control: through its accessibility action where it has one, else with the
    pointer after bringing its window to the front."""

    KIND: ClassVar[str] = "click"
    click: Control = Field(description="The control to click.")
    button: Literal["left", "right", "middle"] = Field("left", description="Mouse button.")
    double: bool = Field(False, description="Double-click instead of a single click.")


class FillStep(StepBase):
    """Replace a text field's content, and read it back."""

    KIND: ClassVar[str] = "fill"
    fill: Control = Field(description="The text field.")
    value: str = Field(description="Value to enter (template; may be '{{ secrets.NAME }}').")
    by: Literal["value", "keys"] = Field(
        "value",
        description="value: set it through the accessibility interface (read back); keys: "
        "type it key by key (for controls without one, and terminal servers).",
    )


class TypeTextStep(StepBase):
    """Type a text key by key into a control, or into whatever has the focus."""

    KIND: ClassVar[str] = "type_text"
    type_text: str = Field(description="The text (template); umlauts and ß are typed as such.")
    control: Control | None = Field(None, description="Focus this control first.")


class HotkeyStep(StepBase):
    """Press a key or a combination in the current window."""

    KIND: ClassVar[str] = "hotkey"
    hotkey: str = Field(description="E.g. 'Return', 'Tab', 'ctrl+s', 'alt+F4'.")


class SelectStep(StepBase):
    """Choose an entry of a combo box or list by its text, and read the choice back."""

    KIND: ClassVar[str] = "select"
    select: Control = Field(description="The combo box or list.")
    option: str = Field(description="The entry's text (template).")


class CheckStep(StepBase):
    """Tick a check box (read back)."""

    KIND: ClassVar[str] = "check"
    check: Control = Field(description="The check box.")


class UncheckStep(StepBase):
    """Clear a check box (read back)."""

    KIND: ClassVar[str] = "uncheck"
    uncheck: Control = Field(description="The check box.")


class ExtractStep(StepBase):
    """Read a control into a variable."""

    KIND: ClassVar[str] = "extract"
    extract: Control = Field(description="The control to read.")
    get: Literal["text", "count", "exists", "checked", "rows"] = Field(
        "text",
        description="text: its text or value; count: how many controls match now; exists: "
        "whether one does; checked: a check box's state; rows: a list's or table's rows as "
        "lists of cell texts. count and exists answer at once.",
    )
    into: str = Field(description="Variable receiving the value.", pattern=VARIABLE)


class DesktopWait(BaseModel):
    """What to wait for: a control, a window, or a text on the screen; to appear or to go."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="desktop wait_for condition")

    control: Control | None = Field(None, description="A control of the current window.")
    window: WindowQuery | None = Field(None, description="A window.")
    text: str | None = Field(None, description="A text on the screen (OCR).")
    state: Literal["present", "gone"] = Field(
        "present", description="present: until it is there; gone: until it is not."
    )

    @model_validator(mode="after")
    def _one(self) -> DesktopWait:
        given = [k for k in ("control", "window", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("wait_for needs exactly one of control, window, text")
        return self


class WaitForStep(StepBase):
    """Wait until a control, a window or a text appears or goes (e.g. "Bitte warten").

    With ``into`` the wait is optional: it stores whether the condition came true in time."""

    KIND: ClassVar[str] = "wait_for"
    wait_for: DesktopWait = Field(description="The condition to wait for.")
    into: str | None = Field(
        None,
        description="Make the wait optional: this variable becomes true when the condition "
        "held within the timeout, false when not.",
        pattern=VARIABLE,
    )


class ScreenshotStep(StepBase):
    """Save a screenshot of the display, or of the current window, as an artifact."""

    KIND: ClassVar[str] = "screenshot"
    screenshot: str = Field(
        description="Artifact name (template), e.g. 'eingetragen'.", pattern=r"^[^/\\]+$"
    )
    of: Literal["display", "window"] = Field("display", description="What to capture.")


class CloseAppStep(StepBase):
    """Close an application started by ``start_app``: its windows as a person would
    (Alt+F4), then its process ends, or is ended when the timeout is up."""

    KIND: ClassVar[str] = "close_app"
    close_app: str = Field(
        description="The program as `start_app` named it (its file name, e.g. "
        "hundesteuer-client), or 'all'."
    )


def control_fields(control: Control) -> dict[str, Any]:
    """The locator's own values (no nested locators), for :class:`ControlSpec`."""
    return {
        key: getattr(control, key)
        for key in ("role", "name", "exact", "automation_id", "ocr", "offset", "nth")
    }
