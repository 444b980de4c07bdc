"""The step kinds of the bot language's core, and the open union of every step kind.

Every step is a mapping with exactly one *kind key* (``click``, ``fill``, ``for_each``, ...)
holding its main argument; sibling keys are its options::

    - fill: {label: Benutzername}
      value: rpa-gewerbe
    - for_each: "{{ vorgaenge }}"
      as: vorgang
      do:
        - click: {role: link, name: "{{ vorgang.Nummer }}"}

The kinds come from the installed connectors (:mod:`orchestrator.model.registry`): this module
defines the flow-control kinds (``set``, ``if``, ``for_each``, ``retry``, ``try``, ``within``,
``use``, ...), which the ``flow`` connector registers, and :data:`Step`, the union of every
registered kind, built when a bot is first validated. Browser kinds live in
:mod:`connectors.browser.steps`.

String values are Jinja templates (see :mod:`orchestrator.engine.expressions`); conditions
(``if``, ``when``, ``assert``) are bare expressions or ``{{ ... }}``. ``into`` names the variable
a step's answer goes to; only steps that answer something have it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema, core_schema

from orchestrator.errors import FailureKind
from orchestrator.model import registry
from orchestrator.model.locators import Locator

#: A variable name, as ``into`` and ``as`` take it.
VARIABLE = r"^[A-Za-z_]\w*$"
#: ``connector.action``, as ``use`` takes it.
ACTION_REF = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class _AnyStep:
    """The union of every registered step kind, discriminated by the kind key as written.

    ``click:`` and ``browser.click:`` are two tags of the browser's click (the second
    validated by the model with its kind field under the qualified key, so that errors point
    at the key the author wrote); ``notiz.click:`` is a third connector's. Built from
    :func:`orchestrator.model.registry.installed` when pydantic first needs the schema (every
    step model defers building), so connectors' kinds may contain steps too.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        choices: dict[Any, CoreSchema] = {
            key: handler.generate_schema(model) for key, model in step_key_models().items()
        }
        return core_schema.tagged_union_schema(
            choices,
            discriminator=step_key,
            custom_error_type="unknown_step_kind",
            custom_error_message="a step needs exactly one kind key",
        )


def step_kinds() -> dict[str, type[StepBase]]:
    """name -> step model, one per kind of every installed connector (``click``,
    ``notiz.click``)."""
    return registry.installed().step_models()


def step_key_models() -> Mapping[str, type[StepBase]]:
    """Every kind key a bot may write (``click``, ``browser.click``, ``notiz.click``) ->
    the model validating a step written with it."""
    return registry.installed().key_models()


def step_key(value: Any) -> str | None:
    """The kind key of a raw step mapping as written (``browser.click``); None when it has
    not exactly one kind key."""
    if isinstance(value, dict):
        known = registry.installed().step_keys()
        keys = [key for key in value if key in known]
        return keys[0] if len(keys) == 1 else None
    return None


def step_kind(value: Any) -> str | None:
    """The name of a raw step mapping's or a step model's kind (``click`` for ``click:``
    and ``browser.click:``, ``notiz.click``); None when not exactly one kind key."""
    if isinstance(value, StepBase):
        known = registry.installed().by_model().get(type(value))
        return known.name if known is not None else value.KIND
    return key_kind(step_key(value))


def key_kind(key: str | None) -> str | None:
    """The name of the kind a kind key as written stands for (``browser.click`` -> ``click``)."""
    return registry.installed().step_keys()[key].name if key is not None else None


class StepBase(BaseModel):
    """Options every step has."""

    # A PLZ or a number typed into a field is text to the browser: `value: 35390` is fine.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        defer_build=True,
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

    @classmethod
    def is_container(cls) -> bool:
        """Whether the kind holds nested steps (its ``timeout`` then bounds the block)."""
        return any(_holds_steps(info.annotation) for info in cls.model_fields.values())


#: Any step of any installed connector.
Step = Annotated[StepBase, _AnyStep]


def _holds_steps(annotation: Any) -> bool:
    return annotation == list[Step]


class PauseStep(StepBase):
    """Wait a fixed time. Prefer `wait_for`: fixed waits are slow and still flaky."""

    KIND: ClassVar[str] = "pause"
    pause: float = Field(gt=0, le=3600, description="Seconds to wait.")


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
    """Run `do` once for every item of a list.

    The steps of iteration 2 have paths ``steps[3][2].do[0]``, ...; a failure inside names
    the iteration and its value (``[steps[3][2]: vorgang.Nummer = GA-2026-000231]``)."""

    KIND: ClassVar[str] = "for_each"
    for_each: str = Field(description="Template yielding a list (e.g. extracted table rows).")
    as_: str = Field(
        "item",
        alias="as",
        description="Variable holding the current item.",
        pattern=VARIABLE,
    )
    do: list[Step] = Field(min_length=1, description="Steps run for every item.")
    label: str | None = Field(
        None,
        description="What names an iteration in step messages, errors and `bots show` "
        "(template), e.g. '{{ vorgang.Nummer }}'; default: the item's first field.",
    )

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
    include: str = Field(
        description="The sub-flow file: a path relative to the bot directory "
        "(flows/login.yaml), a shared flow beside the bots (_shared/abmelden.yaml), or a "
        "connector's flow (civento:NAME.yaml)."
    )
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="Variables set for the sub-flow."
    )


class Scope(BaseModel):
    """What the steps of a ``within`` block share: an iframe, an element, a step timeout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frame: str | None = Field(
        None, description="CSS selector of an iframe every locator in the block searches inside."
    )
    element: Locator | None = Field(
        None, description="An element every locator in the block searches inside."
    )
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds each step inside may take unless it says otherwise (the block's "
        "own `timeout` bounds the whole block).",
    )

    @model_validator(mode="after")
    def _something(self) -> Scope:
        if self.frame is None and self.element is None and self.timeout is None:
            raise ValueError("within needs frame, element or timeout")
        return self


class WithinStep(StepBase):
    """Run steps with shared options: every locator inside looks in the same frame or element.

    A frame-based Fachverfahren is named once, not on every step; ``timeout`` bounds the
    whole block::

        - within: {frame: "iframe[name=arbeitsbereich]"}
          do:
            - fill: {label: Bezugszeichen}
              value: "{{ vorgang.Nummer }}"
            - click: {role: button, name: Suchen}

    A locator that names its own ``frame`` keeps it; blocks nest (the inner one wins).
    ``within: {timeout: 5}`` gives every step inside 5 s unless it names its own timeout.
    """

    KIND: ClassVar[str] = "within"
    within: Scope = Field(description="The frame and/or element the block's locators use.")
    do: list[Step] = Field(min_length=1, description="The steps of the block.")

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("do", self.do)]


class UseStep(StepBase):
    """Call a connector's action: a page object written once for a target system.

    ``bots connectors show NAME`` lists the actions with their arguments::

        - use: civento.vorgang_lesen
          with: {nummer: "{{ vorgang.Nummer }}"}
          into: akte
    """

    KIND: ClassVar[str] = "use"
    use: str = Field(
        description="The action, as connector.action (e.g. civento.vorgang_lesen).",
        pattern=ACTION_REF,
    )
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="The action's arguments (templates)."
    )
    into: str | None = Field(
        None, description="Variable receiving what the action returns.", pattern=VARIABLE
    )
