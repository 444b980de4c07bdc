"""The bot definition: metadata, parameters, secrets, targets, steps and ``finally`` steps.

A definition is inert data: loading it does no IO beyond reading its files, and running it
is the engine's business (:mod:`orchestrator.engine`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.model.steps import Step

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SEMVER = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

ParameterType = Literal["string", "integer", "number", "boolean", "list", "date"]
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "list": (list,),
    "date": (str,),
}


class Owner(BaseModel):
    """Who answers for the bot: a city and its Fachamt (a team, never one person)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    city: str = Field(description="City (tenant) that maintains the bot, e.g. 'Gießen'.")
    fachamt: str = Field(description="Fachamt the bot works for, e.g. 'Ordnungsamt'.")
    contact: str | None = Field(None, description="Team mailbox for questions about the bot.")


class Parameter(BaseModel):
    """A typed run parameter, set with `bots run BOT -p name=value`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParameterType = Field("string", description="The value's type.")
    default: Any = Field(None, description="Value when none is given; none: required.")
    description: str = Field("", description="What the parameter controls.")
    choices: list[Any] | None = Field(None, description="The only values allowed.")

    @model_validator(mode="after")
    def _default_fits(self) -> Parameter:
        if self.default is not None and not _fits(self.type, self.default):
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        if self.choices and self.default is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of the choices")
        return self

    @property
    def required(self) -> bool:
        """A parameter without default must be given."""
        return self.default is None


def _fits(kind: str, value: Any) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


class Retries(BaseModel):
    """Automatic new attempts after an application error (a failed or timed-out run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(1, ge=1, le=10, description="Attempts in all; 1: no retry.")
    backoff_s: float = Field(
        60.0, ge=0, description="Wait before the 2nd attempt; doubles for each further one."
    )


class Execution(BaseModel):
    """How the orchestrator may run the bot: where, how many at once, what to do on loss."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str] = Field(
        default_factory=list,
        description="Labels a robot must have to run the bot, e.g. [desktop] for a Windows "
        "Fachverfahren or [giessen] for a city's network.",
    )
    max_parallel: int = Field(
        1, ge=0, description="Runs of this bot at once per tenant; 0: no limit."
    )
    pools: list[str] | None = Field(
        None,
        description="Pools whose capacity a run takes (see settings `pools`); default: the "
        "bot's targets.",
    )
    retry_safe: bool = Field(
        False,
        description="The bot may simply be run again after its robot vanished mid-run (it "
        "checks before it acts); otherwise such a run is marked lost for a person to check.",
    )
    retries: Retries = Field(default_factory=Retries, description="Retries after errors.")


class BotDefinition(BaseModel):
    """A bot as written in ``bots/<id>/bot.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    id: str = Field(pattern=SLUG, description="Unique slug, e.g. 'gewerbe-uebertragung'.")
    name: str = Field(min_length=1, description="Human name of the bot.")
    version: str = Field(pattern=SEMVER, description="Semantic version, e.g. '1.2.0'.")
    owner: Owner = Field(description="City and Fachamt answering for the bot.")
    description: str = Field("", description="What the bot does and for whom.")
    tags: list[str] = Field(default_factory=list, description="Free tags for the catalog.")
    manual_minutes_per_case: float | None = Field(
        None, ge=0, description="Staff minutes one case takes by hand (for time-saved figures)."
    )
    data_categories: list[str] = Field(
        default_factory=list,
        description="Categories of personal data the bot processes, as its run reports name "
        "them for the Fachamt, e.g. 'Name und Anschrift der Gewerbetreibenden'.",
    )
    targets: list[str] = Field(
        default_factory=list,
        description="Target systems used, by name; their URLs come from configuration.",
    )
    parameters: dict[str, Parameter] = Field(
        default_factory=dict, description="Typed run parameters by name."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secrets by name -> description. Values never go here: they come from the "
        "secret store (environment variable BOTS_SECRET_<NAME>).",
    )
    timeout: float | None = Field(
        None, gt=0, description="Seconds the whole run may take (default: settings)."
    )
    trace: Literal["always", "on_failure", "never"] | None = Field(
        None, description="When to keep the Playwright trace (default: settings)."
    )
    execution: Execution = Field(
        default_factory=Execution, description="Robots, parallel runs, pools and retries."
    )
    steps: list[Step] = Field(min_length=1, description="What the bot does, in order.")
    finally_: list[Step] = Field(
        default_factory=list,
        alias="finally",
        description="Steps run after `steps`, whether they succeeded or failed, e.g. logging "
        "out of the target systems; after a timeout or cancellation with 10 s of their own, "
        "not after Ctrl-C or SIGTERM. Each runs even if one before it failed. A failure here "
        "fails a run that had succeeded; a run that had failed keeps its error and evidence.",
    )

    @field_validator("secrets", mode="before")
    @classmethod
    def _secret_names(cls, value: Any) -> Any:
        # `secrets: [a, b]` is a shorthand for names without descriptions.
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return dict.fromkeys(value, "")
        return value

    @field_validator("parameters", "secrets")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for key in value:
            if not re.match(NAME, key):
                raise ValueError(f"{key!r} is not a valid name (letters, digits, _)")
        return value

    @field_validator("targets")
    @classmethod
    def _target_names(cls, value: list[str]) -> list[str]:
        import re

        for key in value:
            if not re.match(NAME, key):
                raise ValueError(f"{key!r} is not a valid target name (letters, digits, _)")
        return value


class SubFlow(BaseModel):
    """A reusable sub-flow file, run by an ``include`` step."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    description: str = Field("", description="What the sub-flow does.")
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Variables the includer passes with `with`: name -> text."
    )
    steps: list[Step] = Field(min_length=1, description="The sub-flow's steps.")
