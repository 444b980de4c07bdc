"""One exception tree for the whole orchestrator.

Every error a user can cause or meet derives from :class:`BotsError`; the CLI maps the branches
to exit codes and never shows a traceback for them::

    BotsError
    ├── InputError                    exit 2: the user's input is wrong
    │   ├── ConfigError               settings file or BOTS_* variable is invalid
    │   ├── DefinitionError           one or more bot files are invalid (carries Problems)
    │   ├── BotNotFound               no bot with that id under the bot directories
    │   ├── ParameterError            a -p key=value does not fit the bot's parameters
    │   ├── RunNotFound               `bots show` of an unknown run id
    │   ├── QueueNotFound             no work queue of that name for the tenant
    │   ├── QueueExists               `bots queue create` of a name the tenant already has
    │   ├── ItemNotFound              no work item with that id (for the tenant)
    │   ├── PayloadInvalid            an item's payload does not fit its queue's JSON Schema
    │   ├── ApprovalRefused           four eyes: the item's creator or last editor approves it
    │   ├── InvalidTransition         a status change the entity's state machine refuses
    │   ├── UserExists                `bots users add` of a name the tenant already has
    │   ├── UserNotFound              no user of that name for the tenant
    │   ├── BundleRefused             a catalog bundle cannot be packed, or verify/install
    │   │                             refuses it (unsigned, untrusted key, altered, unsafe)
    │   ├── NotAuthenticated          users exist and no valid token was given (or it is
    │   │                             unknown, disabled, or in a file others can read)
    │   └── NotAllowed                the identity's roles or tenant do not allow the action
    ├── BotBusy                       exit 75: another run holds the bot, or a pool is full
    ├── RobotNameTaken                exit 75: a live robot already runs under that name
    ├── SecretMissing                 exit 2: a declared secret has no value in the secret store
    ├── RunFailed                     exit 1: the bot ran and failed (carries the run id)
    │   └── StepFailed                a step failed; names the step path and the cause
    │       ├── ExpressionError       a template or condition could not be evaluated
    │       ├── AssertionFailed       an ``assert`` step was false
    │       ├── DeliberateFailure     a ``fail`` step ran (its ``kind``: business or application)
    │       └── HookError             a Python hook raised
    └── EnvironmentProblem            exit 3: Chromium missing, data dir not writable, ...

Messages are complete sentences that say where and what; secret values never appear in them
(the engine redacts every message before it leaves a run). Every :class:`StepFailed` has a
``kind`` (:class:`FailureKind`): ``application`` unless a ``fail`` step said ``business``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Problem:
    """One problem found in a bot file, pointing at the offending YAML node.

    Example: ``Problem("bots/x/bot.yaml", 12, 5, "unknown step kind 'clik'")`` renders as
    ``bots/x/bot.yaml:12:5: unknown step kind 'clik'``. Lines and columns are 1-based.
    """

    path: str
    line: int
    column: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.path}:{self.line}:{self.column}: {prefix}{self.message}"


class BotsError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(BotsError):
    """The user's input (files, arguments, configuration) is wrong."""


class ConfigError(InputError):
    """The settings file or a ``BOTS_*`` environment variable is invalid."""


class DefinitionError(InputError):
    """One or more bot files are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class BotNotFound(InputError):
    """No bot with the requested id exists."""


class ParameterError(InputError):
    """A run parameter is unknown or does not fit its declared type."""


class RunNotFound(InputError):
    """No run with the requested id exists."""


class QueueNotFound(InputError):
    """No work queue of the requested name exists for the tenant."""


class QueueExists(InputError):
    """A work queue of that name exists for the tenant already (change it with ``update``)."""


class ItemNotFound(InputError):
    """No work item with the requested id exists (for the tenant asked about)."""


class PayloadInvalid(InputError):
    """An item's payload does not fit its queue's JSON Schema; the message names the field.

    Example: ``payload of item 'GA-2026-0815' does not fit queue 'gewerbe' at 'betrieb/name':
    'Müller GmbH €' is too long``. Also raised for a queue's schema that is no JSON Schema,
    and for a retry of an item whose payload was purged.
    """


class ApprovalRefused(InputError):
    """Four eyes: the person who created or last changed a work item cannot approve it."""


class InvalidTransition(InputError):
    """An entity cannot move to the requested status from the one it is in (e.g. cancel a
    finished run); ``entity``, ``entity_id`` (also ``run_id``), ``current`` and
    ``requested`` say which. ``allowed``, where given, lists the moves it has from there.

    Example: ``InvalidTransition(17, "succeeded", "running", allowed=[])`` reads
    ``run 17 is succeeded; it cannot become running (succeeded is final)``.
    """

    def __init__(
        self,
        entity_id: int | None,
        current: str,
        requested: str,
        *,
        entity: str = "run",
        allowed: Sequence[str] | None = None,
    ) -> None:
        self.entity, self.entity_id = entity, entity_id
        self.current, self.requested = current, requested
        self.run_id = entity_id  # the name the callers handling runs know
        which = f"{entity} {entity_id}" if entity_id is not None else f"the {entity}"
        message = f"{which} is {current}; it cannot become {requested}"
        if allowed is not None:
            moves = f"from {current}: {', '.join(allowed)}" if allowed else f"{current} is final"
            message = f"{message} ({moves})"
        super().__init__(message)


class BotBusy(BotsError):
    """Another run holds the bot (no-overlap rule) or a pool it needs is full.

    ``bots run`` exits 75 (EX_TEMPFAIL): try again later; nothing was touched.
    """


class RobotNameTaken(BotsError):
    """A robot cannot start: a live process already runs under its name.

    ``bots robot start`` exits 75 (EX_TEMPFAIL): the name is free again once that process
    stopped, or its heartbeat is older than the lease. Nothing was changed.
    """


class SecretMissing(BotsError):
    """A secret the bot declares has no value in the configured secret store."""


class RunFailed(BotsError):
    """The bot ran and failed; ``run_id`` names the stored run."""

    def __init__(self, message: str, run_id: int | None = None) -> None:
        self.run_id = run_id
        super().__init__(message)


class FailureKind(StrEnum):
    """Whose failure it is, for the work queues: retry the case later, or hand it to a person.

    ``application``: the target system or the bot misbehaved (a page did not load, an element
    is missing); another attempt may succeed. ``business``: the case itself cannot be done as
    it is (data missing, a rule refuses it); another attempt gives the same answer.
    """

    BUSINESS = "business"
    APPLICATION = "application"


class StepFailed(RunFailed):
    """A step failed; ``step_path`` says which one (e.g. ``steps[3].for_each[1]``).

    ``kind`` is :attr:`FailureKind.APPLICATION` for every failure but a ``fail`` step's.
    """

    kind: FailureKind = FailureKind.APPLICATION

    def __init__(self, step_path: str, message: str) -> None:
        self.step_path = step_path
        self.reason = message
        super().__init__(f"{step_path}: {message}")


class ExpressionError(StepFailed):
    """A Jinja expression or template could not be evaluated."""


class AssertionFailed(StepFailed):
    """An ``assert`` step evaluated to false."""


class DeliberateFailure(StepFailed):
    """A ``fail`` step ran: the bot ends the run (or its ``try``) on purpose.

    Example: ``DeliberateFailure("steps[4]", "GA-7: keine Gewerbedaten", FailureKind.BUSINESS)``;
    ``reason`` is the step's rendered message, ``kind`` says whose failure it is.
    """

    def __init__(self, step_path: str, message: str, kind: FailureKind) -> None:
        super().__init__(step_path, message)
        self.kind = kind


class HookError(StepFailed):
    """A Python hook raised an exception."""


class EnvironmentProblem(BotsError):
    """The machine lacks something the run needs (browser, display, writable data dir)."""


class BusinessException(Exception):
    """Raised by a hook: the case cannot be done as it is (data incomplete, outside the rules,
    a person must decide). The step fails as a *business* failure: a work item goes to a
    person with this message (German, for the Fachamt) and is not retried::

        from orchestrator.errors import BusinessException
        raise BusinessException("Rechtsform „Verein“ ist dem Gewerberegister unbekannt.")
    """


class UserExists(InputError):
    """A user of that name exists for the tenant already (names are never reused)."""


class UserNotFound(InputError):
    """No user of the requested name exists for the tenant."""


class NotAuthenticated(InputError):
    """Users are configured and no valid token was given: none in ``BOTS_TOKEN`` or the token
    file, a token no user has, a disabled user's token, or a token file others can read.
    The message never contains the token."""


class BundleRefused(InputError):
    """A bot bundle (``bots catalog pack|verify|install``) is refused, or cannot be made:
    unsigned, signed by a key the tenant does not trust, altered after signing, a path
    outside its folder, a link or device file, duplicate names, too large or too many files.
    The message names the bundle and the problem; nothing was written.

    Example: ``posteingang-export-1.1.0.bundle: bot/hooks.py was altered after signing
    (its sha256 differs from the manifest's)``.
    """


class NotAllowed(InputError):
    """The identity may not do this: none of its roles allows the action, or the action
    concerns another tenant than the user's own."""
