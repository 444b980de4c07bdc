"""The step kinds of a bot, as a discriminated union.

Every step is a mapping with exactly one *kind key* (``click``, ``fill``, ``for_each``, ...)
holding its main argument; sibling keys are its options::

    - fill: {label: Benutzername}
      value: rpa-gewerbe
    - for_each: "{{ vorgaenge }}"
      as: vorgang
      do:
        - click: {role: link, name: "{{ vorgang.Nummer }}"}

String values are Jinja templates (see :mod:`orchestrator.engine.expressions`); conditions
(``if``, ``when``, ``assert``) are bare expressions or ``{{ ... }}``. ``into`` names the variable
a step's answer goes to; only steps that answer something have it (``extract``, ``wait_for``,
``download``, ``call``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from orchestrator.errors import FailureKind
from orchestrator.model.locators import Locator

#: A variable name, as ``into`` and ``as`` take it.
VARIABLE = r"^[A-Za-z_]\w*$"


class StepBase(BaseModel):
    """Options every step has."""

    # A PLZ or a number typed into a field is text to the browser: `value: 35390` is fine.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    KIND: ClassVar[str] = ""

    name: str | None = Field(None, description="What the step does, shown in logs and history.")
    when: str | None = Field(None, description="Condition; the step is skipped when false.")
    timeout: float | None = Field(
        None, gt=0, description="Seconds before the step fails (default: settings)."
    )

    def children(self) -> list[tuple[str, list[Step]]]:
        """Nested step lists with their key, e.g. ``[("then", [...]), ("else", [...])]``."""
        return []


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

    model_config = ConfigDict(extra="forbid", frozen=True)

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


class PauseStep(StepBase):
    """Wait a fixed time. Prefer `wait_for`: fixed waits are slow and still flaky."""

    KIND: ClassVar[str] = "pause"
    pause: float = Field(gt=0, le=3600, description="Seconds to wait.")


class ExtractStep(StepBase):
    """Read data from the page into a variable."""

    KIND: ClassVar[str] = "extract"
    extract: Locator = Field(description="The element to read.")
    get: Literal["text", "texts", "count", "value", "attribute", "table"] = Field(
        "text",
        description="text: inner text; texts: list of texts of all matches ([] when none); "
        "count: number of matches (0 when none); value: an input's value; attribute: the "
        "attribute named by `attribute`; table: an HTML table as a list of rows keyed by column "
        "header. texts and count answer at once, once the page has loaded: they do not wait "
        "for a match.",
    )
    attribute: str | None = Field(None, description="Attribute name (with get: attribute).")
    into: str = Field(description="Variable receiving the value.", pattern=VARIABLE)

    @model_validator(mode="after")
    def _attribute_given(self) -> ExtractStep:
        if (self.get == "attribute") != (self.attribute is not None):
            raise ValueError("`attribute` is required with get: attribute, and only then")
        return self


class AssertStep(StepBase):
    """Fail the run (or the enclosing try/retry) unless a condition holds."""

    KIND: ClassVar[str] = "assert"
    assert_: str = Field(alias="assert", description="Condition that must be true.")
    message: str | None = Field(None, description="Message when it is false (template).")


class FailStep(StepBase):
    """Fail the run (or the enclosing try/retry) on purpose, with a message and a kind."""

    KIND: ClassVar[str] = "fail"
    fail: str = Field(
        description="The error message (template), e.g. '{{ vorgang.Nummer }}: keine Gewerbedaten'."
    )
    kind: FailureKind = Field(
        FailureKind.APPLICATION,
        description="business: the case cannot be done as it is (another attempt gives the same "
        "answer); application: the target system or the bot misbehaved (another attempt may "
        "succeed).",
    )


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


class SetStep(StepBase):
    """Set variables from templates."""

    KIND: ClassVar[str] = "set"
    set_: dict[str, Any] = Field(
        alias="set", min_length=1, description="Variable name -> value (templates)."
    )


class IfStep(StepBase):
    """Run `then` when the condition holds, else `else`."""

    KIND: ClassVar[str] = "if"
    if_: str = Field(alias="if", description="The condition.")
    then: list[Step] = Field(min_length=1, description="Steps when the condition is true.")
    else_: list[Step] = Field(
        default_factory=list, alias="else", description="Steps when it is false."
    )

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("then", self.then), ("else", self.else_)]


class ForEachStep(StepBase):
    """Run `do` once for every item of a list."""

    KIND: ClassVar[str] = "for_each"
    for_each: str = Field(description="Template yielding a list (e.g. extracted table rows).")
    as_: str = Field(
        "item",
        alias="as",
        description="Variable holding the current item.",
        pattern=VARIABLE,
    )
    do: list[Step] = Field(min_length=1, description="Steps run for every item.")

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("do", self.do)]


class RetryStep(StepBase):
    """Run a block again when it fails, with growing pauses between attempts.

    ``before_retry`` steps run before every attempt but the first (e.g. log in again)::

        - retry: [{click: {role: button, name: Speichern}}]
          before_retry: [{include: flows/login.yaml}]
    """

    KIND: ClassVar[str] = "retry"
    retry: list[Step] = Field(min_length=1, description="The steps to retry as one block.")
    attempts: int = Field(3, ge=1, le=100, description="How often to try in all.")
    backoff: float = Field(
        1.0, ge=0, description="Seconds before the second attempt; doubled for each further one."
    )
    before_retry: list[Step] = Field(
        default_factory=list,
        description="Steps run before each further attempt, not before the first (e.g. log in "
        "again); they belong to the attempt: when they fail, the attempt failed.",
    )

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("retry", self.retry), ("before_retry", self.before_retry)]


class TryStep(StepBase):
    """Run a block; when it fails, run `on_error` instead of failing the run."""

    KIND: ClassVar[str] = "try"
    try_: list[Step] = Field(alias="try", min_length=1, description="The steps to try.")
    on_error: list[Step] = Field(
        default_factory=list,
        description="Steps run after a failure; `error.message` and `error.step` describe it.",
    )

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("try", self.try_), ("on_error", self.on_error)]


class CallStep(StepBase):
    """Call a Python hook ``module:function`` with the run context and arguments."""

    KIND: ClassVar[str] = "call"
    call: str = Field(
        description="Hook reference, e.g. 'hooks:map_rechtsform' (module relative to the bot).",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
    )
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="Keyword arguments (templates)."
    )
    into: str | None = Field(
        None, description="Variable receiving the return value.", pattern=VARIABLE
    )


class IncludeStep(StepBase):
    """Run the steps of a reusable sub-flow file."""

    KIND: ClassVar[str] = "include"
    include: str = Field(description="Path of the sub-flow file, relative to the bot directory.")
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="Variables set for the sub-flow."
    )


STEP_TYPES: tuple[type[StepBase], ...] = (
    GotoStep, ClickStep, FillStep, SelectStep, CheckStep, UncheckStep, PressStep, WaitForStep,
    PauseStep, ExtractStep, AssertStep, FailStep, ScreenshotStep, DownloadStep, UploadStep,
    SetStep, IfStep, ForEachStep, RetryStep, TryStep, CallStep, IncludeStep,
)  # fmt: skip

#: kind key -> step class
STEP_KINDS: dict[str, type[StepBase]] = {cls.KIND: cls for cls in STEP_TYPES}


def step_kind(value: Any) -> str | None:
    """The kind of a raw step mapping or a step model; None when not exactly one kind key."""
    if isinstance(value, StepBase):
        return value.KIND
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_KINDS]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[
    Annotated[GotoStep, Tag("goto")]
    | Annotated[ClickStep, Tag("click")]
    | Annotated[FillStep, Tag("fill")]
    | Annotated[SelectStep, Tag("select")]
    | Annotated[CheckStep, Tag("check")]
    | Annotated[UncheckStep, Tag("uncheck")]
    | Annotated[PressStep, Tag("press")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[PauseStep, Tag("pause")]
    | Annotated[ExtractStep, Tag("extract")]
    | Annotated[AssertStep, Tag("assert")]
    | Annotated[FailStep, Tag("fail")]
    | Annotated[ScreenshotStep, Tag("screenshot")]
    | Annotated[DownloadStep, Tag("download")]
    | Annotated[UploadStep, Tag("upload")]
    | Annotated[SetStep, Tag("set")]
    | Annotated[IfStep, Tag("if")]
    | Annotated[ForEachStep, Tag("for_each")]
    | Annotated[RetryStep, Tag("retry")]
    | Annotated[TryStep, Tag("try")]
    | Annotated[CallStep, Tag("call")]
    | Annotated[IncludeStep, Tag("include")],
    Discriminator(
        step_kind,
        custom_error_type="unknown_step_kind",
        custom_error_message="a step needs exactly one kind key",
    ),
]

for _cls in STEP_TYPES:
    _cls.model_rebuild()
