"""What a step handler may use of the run it is part of: :class:`StepRun`.

A connector's step kind is a model and a handler ``run(it, step, path)`` (see
:class:`orchestrator.model.registry.StepKind`): ``it`` is the run as this protocol describes
it, ``step`` the validated model, ``path`` where the step sits in the bot (``steps[3].do[1]``).
The engine's interpreter is the one implementation; handlers see nothing else of it, so a
connector imports nothing of the engine and its handlers are checked by mypy. Example, the
handler of a step ``notiz: "{{ vorgang.Nummer }} bearbeitet"``::

    def notiz(it: StepRun, step: NotizStep, path: str) -> None:
        it.session("notizblock").write(it.text(step.notiz), timeout=it.timeout(step))

What it offers, by topic:

- **Sessions**: :meth:`~StepRun.session` (opened on first use, closed by the run).
- **Values**: :attr:`~StepRun.vars` (the bot's variables, to read and set),
  :meth:`~StepRun.text`, :meth:`~StepRun.value`, :meth:`~StepRun.revealed` (templates;
  ``revealed`` only for values handed to the target system), :meth:`~StepRun.condition`,
  :meth:`~StepRun.locator`, :attr:`~StepRun.redactor` (scrub secrets from what is kept).
- **Time**: :meth:`~StepRun.timeout` (what the step may take), :meth:`~StepRun.remaining`,
  :meth:`~StepRun.sleep`, :attr:`~StepRun.cancel`.
- **Nested steps**: :meth:`~StepRun.run`, :meth:`~StepRun.iteration`,
  :meth:`~StepRun.scoped`, :meth:`~StepRun.subflow`, :meth:`~StepRun.use_action`,
  :meth:`~StepRun.call_hook`, :meth:`~StepRun.fork` (a parallel worker).
- **Failures and evidence**: :meth:`~StepRun.recovering`, :meth:`~StepRun.failure_mark`,
  :meth:`~StepRun.recovered`, :meth:`~StepRun.take_first_failure`.
- **Record and files**: :meth:`~StepRun.note`, :meth:`~StepRun.keep`,
  :attr:`~StepRun.run_dir`, :attr:`~StepRun.bot_dir`, :attr:`~StepRun.log`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from connectors.base import LocatorSpec
from orchestrator.results import ArtifactKind


class Redacts(Protocol):
    """Scrubs the run's secrets (and the credentials its sessions learnt) from values."""

    def redact(self, text: str) -> str: ...

    def redact_data(self, value: Any) -> Any: ...


class FailureMark(Protocol):
    """The open failure chain at some moment: where it started, why, and its evidence."""

    @property
    def step_path(self) -> str:
        """The step the chain started at (``steps[4][2].do[1]``)."""

    @property
    def reason(self) -> str:
        """Why it failed, redacted."""

    @property
    def evidence(self) -> Mapping[Path, ArtifactKind]:
        """The evidence taken at that moment: file -> kind (empty: no session was open)."""


class StepRun(Protocol):
    """The run as a step handler sees it (see the module docstring)."""

    @property
    def vars(self) -> dict[str, Any]:
        """The bot's variables: read them, set what the step creates (``into``)."""

    @property
    def redactor(self) -> Redacts:
        """Scrubs secrets from messages and from data kept with the run."""

    @property
    def cancel(self) -> threading.Event:
        """Set when the run is to stop (cancelled, or a parallel worker failed)."""

    @property
    def log(self) -> Any:
        """The run's structured logger (``it.log.info("event", key=value)``)."""

    @property
    def run_dir(self) -> Path:
        """The run's directory (artifacts, evidence)."""

    @property
    def bot_dir(self) -> Path:
        """The bot's directory (relative file names in steps)."""

    def session(self, name: str) -> Any:
        """The session of connector ``name``, opened on first use."""

    def text(self, template: str) -> str:
        """Render a template that must give text (URLs, names, options)."""

    def value(self, template: Any) -> Any:
        """Render a template of any type against the current scope."""

    def revealed(self, template: Any) -> Any:
        """Render with secrets as their values: only for what goes to the target system."""

    def condition(self, expression: str, path: str) -> bool:
        """Evaluate a condition (``when``, ``if``, ``assert``) in the current scope."""

    def locator(self, locator: Any) -> LocatorSpec:
        """A model's locator rendered, with the enclosing ``within`` blocks applied."""

    def timeout(self, step: Any) -> float:
        """Seconds ``step`` may take: its own timeout or the default, capped by the run's
        time and the enclosing blocks'."""

    def remaining(self) -> float:
        """Seconds left in the run."""

    def sleep(self, seconds: float, path: str) -> None:
        """Sleep, but not past the run's deadline or an enclosing block's."""

    def run(self, steps: list[Any], prefix: str = "steps") -> None:
        """Run nested ``steps``; their paths are ``prefix[0]``, ``prefix[1]``, ..."""

    def iteration(self, path: str, label: str) -> AbstractContextManager[None]:
        """Steps inside are one loop iteration at ``path`` naming its value (``label``)."""

    def scoped(self, scope: Any) -> AbstractContextManager[None]:
        """Locators inside use ``scope``'s frame and element (a ``within`` block)."""

    def subflow(self, ref: str) -> Any:
        """The sub-flow an ``include`` names, as loaded with the bot."""

    def use_action(self, ref: str, arguments: dict[str, Any], timeout: float, path: str) -> Any:
        """Call the connector action ``ref`` (``portal.vorgang_lesen``) with ``arguments``."""

    def call_hook(self, ref: str, kwargs: dict[str, Any], timeout: float, path: str) -> Any:
        """Call one of the bot's hooks with the run context, up to ``timeout`` seconds."""

    def fork(self, number: int) -> StepRun:
        """The run for parallel worker ``number``: its own sessions and a copy of the
        variables; call :meth:`release` in the worker's thread when it ends."""

    def release(self) -> None:
        """Close the sessions a forked run opened (nothing for the run itself)."""

    def recovering(self, active: bool = True) -> AbstractContextManager[None]:
        """Failures inside are recorded as ``recovered``: something around handles them."""

    def failure_mark(self) -> FailureMark | None:
        """The open failure chain as a ``try`` or ``retry`` starts: hand it to
        :meth:`recovered`."""

    def recovered(self, mark: object) -> None:
        """A block that started at ``mark`` handled its failure: a chain that started
        inside ends and its evidence is deleted."""

    def take_first_failure(self) -> FailureMark | None:
        """The open chain's first failure, handed over (e.g. to a work item)."""

    def note(
        self,
        path: str,
        kind: str,
        name: str,
        ok: bool,
        message: str,
        started: datetime,
    ) -> None:
        """Record an outcome that is not a step's (a work item's) in the history and log."""

    def keep(
        self, path: Path, kind: ArtifactKind, *, step_path: str, source: Path | None = None
    ) -> None:
        """Keep ``path`` (or a scrubbed copy of ``source`` there) as an artifact of the run."""
