"""The browser's step kinds: pydantic models, one per kind (their handlers: ``handlers``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from orchestrator.model.locators import Locator
from orchestrator.model.steps import VARIABLE, StepBase


class GotoStep(StepBase):
    """Open a URL in the browser."""

    KIND: ClassVar[str] = "goto"
    goto: str = Field(description="URL to open (template), e.g. '{{ targets.civento }}/login'.")
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = Field(
        "load", description="Which page event counts as loaded."
    )


class ClickStep(StepBase):
    """Click an element (waits until it is visible, enabled and stable)."""

    KIND: ClassVar[str] = "click"
    click: Locator = Field(description="The element to click.")
    button: Literal["left", "right", "middle"] = Field("left", description="Mouse button.")
    double: bool = Field(False, description="Double-click instead of a single click.")


class FillStep(StepBase):
    """Type a value into an input field, replacing its content."""

    KIND: ClassVar[str] = "fill"
    fill: Locator = Field(description="The input field.")
    value: str = Field(description="Value to enter (template; may be '{{ secrets.NAME }}').")


class SelectStep(StepBase):
    """Choose an option of a <select> element by label or value."""

    KIND: ClassVar[str] = "select"
    select: Locator = Field(description="The <select> element.")
    option: str = Field(description="Label or value of the option to choose (template).")


class CheckStep(StepBase):
    """Tick a checkbox or radio button."""

    KIND: ClassVar[str] = "check"
    check: Locator = Field(description="The checkbox or radio button.")


class UncheckStep(StepBase):
    """Clear a checkbox."""

    KIND: ClassVar[str] = "uncheck"
    uncheck: Locator = Field(description="The checkbox.")


class PressStep(StepBase):
    """Press a key or key combination on an element."""

    KIND: ClassVar[str] = "press"
    press: Locator = Field(description="The element that receives the key press.")
    key: str = Field(description="Key, e.g. 'Enter', 'Tab', 'Control+A'.")


class WaitCondition(BaseModel):
    """What to wait for: an element's state, a URL, or a text on the page."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="wait_for condition")

    element: Locator | None = Field(None, description="Wait for this element's state.")
    state: Literal["visible", "hidden", "attached", "detached"] = Field(
        "visible", description="The state to wait for (with `element`)."
    )
    url: str | None = Field(None, description="Wait until the URL matches this glob pattern.")
    text: str | None = Field(None, description="Wait until this text is visible on the page.")

    @model_validator(mode="after")
    def _one_condition(self) -> WaitCondition:
        given = [k for k in ("element", "url", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("wait_for needs exactly one of element, url, text")
        return self


class WaitForStep(StepBase):
    """Wait until a condition holds (up to the step timeout).

    With ``into`` the wait is optional: it stores whether the condition came true in time
    (True/False) instead of failing, for "wait up to N s for it, else go on"::

        - wait_for: {element: {role: dialog, name: Hinweis}}
          timeout: 3
          into: hinweis_da
    """

    KIND: ClassVar[str] = "wait_for"
    wait_for: WaitCondition = Field(description="The condition to wait for.")
    into: str | None = Field(
        None,
        description="Make the wait optional: this variable becomes true when the condition "
        "held within the timeout, false when not (instead of the step failing).",
        pattern=VARIABLE,
    )


class ExtractFields(BaseModel):
    """Several elements read by one ``extract`` into a mapping, each with the step's ``get``::

    - extract:
        fields:
          vorname: {label: Vorname}
          nachname: {label: Nachname}
      get: value
      into: antragsteller     # {"vorname": "...", "nachname": "..."}
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="extract fields")

    fields: dict[str, Locator] = Field(
        min_length=1, description="Key in the resulting mapping -> the element to read."
    )


def _extract_target(value: Any) -> str:
    """``fields`` when the mapping has that key (or is ExtractFields), else a locator."""
    if isinstance(value, ExtractFields) or (isinstance(value, dict) and "fields" in value):
        return "fields"
    return "locator"


class ExtractStep(StepBase):
    """Read data from the page into a variable."""

    KIND: ClassVar[str] = "extract"
    extract: Annotated[
        Annotated[Locator, Tag("locator")] | Annotated[ExtractFields, Tag("fields")],
        Discriminator(_extract_target),
    ] = Field(description="The element to read, or `fields`: several elements read into a mapping.")
    get: Literal["text", "texts", "count", "value", "attribute", "table", "fields"] = Field(
        "text",
        description="text: inner text; texts: list of texts of all matches ([] when none); "
        "count: number of matches (0 when none); value: an input's value; attribute: the "
        "attribute named by `attribute`; table: an HTML table as a list of rows keyed by column "
        "header; fields: every labelled form field inside the element as label -> value. "
        "texts and count answer at once, once the page has loaded: they do not wait "
        "for a match.",
    )
    attribute: str | None = Field(None, description="Attribute name (with get: attribute).")
    into: str = Field(description="Variable receiving the value.", pattern=VARIABLE)

    @model_validator(mode="after")
    def _attribute_given(self) -> ExtractStep:
        if (self.get == "attribute") != (self.attribute is not None):
            raise ValueError("`attribute` is required with get: attribute, and only then")
        return self


class ScreenshotStep(StepBase):
    """Save a screenshot of the page as an artifact of the run."""

    KIND: ClassVar[str] = "screenshot"
    screenshot: str = Field(
        description="Artifact name (template), e.g. 'posteingang'.", pattern=r"^[^/\\]+$"
    )
    full_page: bool = Field(True, description="Capture the whole scrollable page.")


class DownloadStep(StepBase):
    """Click an element that starts a download and keep the file as an artifact."""

    KIND: ClassVar[str] = "download"
    download: Locator = Field(description="The element whose click starts the download.")
    save_as: str | None = Field(None, description="File name (template); default: suggested.")
    into: str | None = Field(
        None, description="Variable receiving the saved file's path.", pattern=VARIABLE
    )


class UploadStep(StepBase):
    """Set the files of a file input."""

    KIND: ClassVar[str] = "upload"
    upload: Locator = Field(description="The <input type=file> element.")
    files: list[str] = Field(min_length=1, description="Paths of the files (templates).")
