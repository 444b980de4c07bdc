"""The interpreter: runs a bot's steps one by one and records each as a StepRecord.

The interpreter knows no concrete step: it is given the step kinds by model type (each with
its handler, from the connectors' registry, :mod:`orchestrator.model.registry`), the
connectors' actions and a pool of sessions opened on first use. A handler gets the
interpreter as ``it`` and may use only what :class:`connectors.step_run.StepRun` describes
(mypy holds it to that protocol).
Step paths name where a step sits in the bot: ``steps[3].do[1]``, ``steps[0].include[2]``,
``steps[5].on_error[0]``.

Timeouts are cooperative (:meth:`~Interpreter.timeout`); failures that a ``try`` or a
``retry`` will handle are recorded as ``recovered``.

Failure chains (the first failure and its evidence): see :mod:`orchestrator.engine.failures`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from connectors.base import BusinessRefusal, ConnectorError, LocatorSpec
from orchestrator.engine import expressions
from orchestrator.engine.actions import ActionContext, call_action
from orchestrator.engine.artifacts import ArtifactKeeper
from orchestrator.engine.context import RunContext
from orchestrator.engine.failures import FailureChain, FirstFailure, RunCancelled, RunTimedOut
from orchestrator.engine.hook_calls import HookCaller, HookTimedOut
from orchestrator.engine.locating import to_spec
from orchestrator.engine.secrets import Redactor, reveal
from orchestrator.engine.sessions import SessionPool
from orchestrator.errors import (
    BotsError,
    DeliberateFailure,
    ExpressionError,
    FailureKind,
    HookError,
    StepFailed,
)
from orchestrator.model import Locator
from orchestrator.model.registry import Action, StepKind
from orchestrator.model.steps import Scope
from orchestrator.results import ArtifactKind, StepRecord, StepStatus
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot

#: Captures the open sessions' evidence (screenshot, HTML, URL) into the run directory as
#: file -> kind; never raises, leaves out what it cannot capture.
CaptureEvidence = Callable[[SessionPool], dict[Path, ArtifactKind]]
#: ``workers(n)``: the sessions of parallel worker ``n`` (forks of the run's), how to capture
#: its evidence, and how to close what it opened (in its thread); None: no parallel work.
WorkerSessions = Callable[[int], tuple[SessionPool, CaptureEvidence, Callable[[], None]]]


class Interpreter:
    """Executes steps against lazily opened connector sessions, hooks and the run's variables.

    Args:
        bot: The loaded bot (definition, directory, sub-flows).
        settings: Effective settings (step timeout).
        ctx: The run context; ``ctx.vars`` holds the variables.
        base_scope: Names every template sees: params, secrets, targets, run.
        redactor: Scrubs secrets from messages.
        keeper: Keeps artifact files (screenshots, downloads).
        steps: A validated step's model type -> its step kind, whose ``run`` runs it and whose
            ``name`` the history records (``Registry.by_model()``).
        sessions: The connectors' sessions, each opened on first use.
        actions: ``connector.action`` -> action (``Registry.actions()``).
        record: Receives every finished step.
        run_deadline: ``time.monotonic()`` value when the run's time is up.
        run_timeout: The run timeout in seconds (for messages).
        cancel: Set when the run is to stop; checked before every step and during pauses.
        hook_resolver: ``(bot_dir, ref, bot_id) -> callable``; default: the loader's.
        capture: Captures the page's evidence when a failure chain starts (and a session is
            open); None: no evidence, the chain notes only path and reason.
    """

    def __init__(
        self,
        *,
        bot: LoadedBot,
        settings: Settings,
        ctx: RunContext,
        base_scope: dict[str, Any],
        redactor: Redactor,
        keeper: ArtifactKeeper,
        steps: Mapping[type[BaseModel], StepKind],
        sessions: SessionPool,
        actions: Mapping[str, Action] | None = None,
        record: Callable[[StepRecord], None],
        run_deadline: float,
        run_timeout: float,
        cancel: threading.Event | None = None,
        hook_resolver: Callable[[Path, str, str], Callable[..., Any]] | None = None,
        capture: CaptureEvidence | None = None,
        workers: WorkerSessions | None = None,
    ) -> None:
        self.bot, self.settings, self.ctx, self.vars = bot, settings, ctx, ctx.vars
        self.base_scope, self.redactor, self.keeper = base_scope, redactor, keeper
        self._steps, self.sessions = steps, sessions
        self._actions = actions or {}
        self._scopes: list[Scope] = []
        self._loops: list[str] = []  # "steps[3][2]: vorgang.Nummer = GA-...", innermost last
        self._action_state: dict[str, dict[str, Any]] = {}
        self._record = record
        self.run_deadline, self.run_timeout = run_deadline, run_timeout
        self.cancel = cancel if cancel is not None else threading.Event()
        self._hooks = HookCaller(bot, ctx, redactor, hook_resolver)
        self._blocks: list[tuple[float, str, float]] = []  # (deadline, path, seconds)
        self._capture = capture
        self._chain = FailureChain(
            None if capture is None else lambda: capture(sessions) if sessions.opened() else {},
            ctx.log,
        )
        self._hook_resolver = hook_resolver
        self._workers = workers
        self._release: Callable[[], None] = lambda: None

    # ----------------------------------------------------------------- helpers for handlers

    @property
    def log(self) -> Any:
        """The run's structured logger."""
        return self.ctx.log

    def session(self, name: str) -> Any:
        """The session of connector ``name``, opened on first use."""
        return self.sessions.get(name)

    @property
    def run_dir(self) -> Path:
        """The run's directory (artifacts, evidence)."""
        return self.ctx.run_dir

    @property
    def bot_dir(self) -> Path:
        """The bot's directory (relative file names in steps)."""
        return self.bot.directory

    def keep(
        self, path: Path, kind: ArtifactKind, *, step_path: str, source: Path | None = None
    ) -> None:
        """Keep ``path`` (or a scrubbed copy of ``source`` there) as an artifact of the run."""
        self.keeper.keep(path, kind, step_path=step_path, source=source)

    def subflow(self, ref: str) -> Any:
        """The sub-flow an ``include`` names, as loaded with the bot."""
        return self.bot.subflows.get(ref)

    def scope(self) -> dict[str, Any]:
        """The names templates see: variables, then params, secrets, targets, run."""
        return {**self.vars, **self.base_scope}

    def value(self, template: Any) -> Any:
        """Render a template (any type) against the current scope."""
        return expressions.render(template, self.scope())

    def text(self, template: str) -> str:
        """Render a template that must give text (URLs, names, options)."""
        return expressions.render_text(template, self.scope())

    def revealed(self, template: Any) -> Any:
        """Render a template with secrets as their values: for handlers that hand a value to
        the target system (a fill, a hook, an action), never for logs or messages."""
        return reveal(self.value(template))

    @contextmanager
    def scoped(self, scope: Scope) -> Iterator[None]:
        """Locators inside use ``scope``'s frame and element (a ``within`` block)."""
        self._scopes.append(scope)
        try:
            yield
        finally:
            self._scopes.pop()

    def fork(self, number: int) -> Interpreter:
        """An interpreter for parallel worker ``number`` (``for_each_item`` with
        ``parallel``): the same bot, run, deadlines and handlers; a copy of the variables and
        of the enclosing blocks; sessions of its own (forks of the run's); the connectors'
        remembered logins, so its actions log in again by themselves."""
        if self._workers is None:
            raise BotsError("this run cannot work in parallel (no worker sessions)")
        sessions, capture, release = self._workers(number)
        child = Interpreter(
            bot=self.bot,
            settings=self.settings,
            ctx=dataclasses.replace(self.ctx, vars=dict(self.vars)),
            base_scope=self.base_scope,
            redactor=self.redactor,
            keeper=self.keeper,
            steps=self._steps,
            sessions=sessions,
            actions=self._actions,
            record=self._record,
            run_deadline=self.run_deadline,
            run_timeout=self.run_timeout,
            cancel=self.cancel,
            hook_resolver=self._hook_resolver,
            capture=capture if self._capture is not None else None,
        )
        child._scopes = list(self._scopes)
        child._loops = list(self._loops)
        child._blocks = list(self._blocks)
        child._chain.protected = self._chain.protected
        child._action_state = {name: dict(state) for name, state in self._action_state.items()}
        child._release = release
        return child

    def release(self) -> None:
        """Close the sessions a forked interpreter opened (call it in its thread); nothing for
        the run's own interpreter, whose sessions the runner closes."""
        self._release()

    @contextmanager
    def iteration(self, path: str, label: str) -> Iterator[None]:
        """Steps inside run in a loop iteration: ``path`` is its own (``steps[3][2]``),
        ``label`` names its value (``vorgang.Nummer = GA-2026-000231``); a failure inside
        names both."""
        self._loops.append(f"{path}: {self.redactor.redact(label)}")
        try:
            yield
        finally:
            self._loops.pop()

    def locator(self, locator: Locator) -> LocatorSpec:
        """The model's locator with every template rendered and the enclosing ``within``
        blocks applied, as the connector's spec."""
        return to_spec(locator, self._scopes, self.scope())

    def timeout(self, step: Any) -> float:
        """Seconds the step may take: its own timeout (else the innermost ``within`` block's,
        else the settings'), capped by the run and enclosing blocks."""
        shared = [scope.timeout for scope in self._scopes if scope.timeout is not None]
        default = shared[-1] if shared else self.settings.step_timeout_s
        own = step.timeout if step.timeout is not None else default
        limit = min([self.run_deadline, *(block[0] for block in self._blocks)])
        return max(min(own, limit - time.monotonic()), 0.001)

    def remaining(self) -> float:
        """Seconds left in the run."""
        return self.run_deadline - time.monotonic()

    def sleep(self, seconds: float, path: str) -> None:
        """Sleep, but not past the run's deadline or an enclosing block's."""
        limit = min([self.run_deadline, *(block[0] for block in self._blocks)])
        self.cancel.wait(max(0.0, min(seconds, limit - time.monotonic())))
        self._check_deadlines(path)

    # ----------------------------------------------------------------- running steps

    def run(self, steps: list[Any], prefix: str = "steps") -> None:
        """Run ``steps`` in order; their paths are ``prefix[0]``, ``prefix[1]``, ..."""
        for index, step in enumerate(steps):
            self.run_step(step, f"{prefix}[{index}]")

    def run_step(self, step: Any, path: str) -> None:
        """Run one step (and its children) and record it."""
        self._check_deadlines(path)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        pushed = step.timeout is not None and step.is_container()
        if pushed:
            self._blocks.append((time.monotonic() + step.timeout, path, step.timeout))
        try:
            if step.when is not None and not self.condition(step.when, path):
                self._finish(step, path, StepStatus.SKIPPED, started, clock, "condition false")
                return
            self._steps[type(step)].run(self, step, path)
        except StepFailed as exc:
            message = exc.reason if exc.step_path == path else f"failed at {exc.step_path}"
            self._finish(step, path, self._chain.failed_status(), started, clock, message)
            self._note_failure(exc)
            raise
        except BusinessRefusal as exc:
            refusal = DeliberateFailure(path, self.redactor.redact(str(exc)), FailureKind.BUSINESS)
            self._finish(step, path, self._chain.failed_status(), started, clock, refusal.reason)
            self._note_failure(refusal)
            raise refusal from None
        except ConnectorError as exc:
            if self.remaining() <= 0:
                self._finish(step, path, StepStatus.FAILED, started, clock, "run timed out")
                raise RunTimedOut(path, self.run_timeout) from None
            failure = StepFailed(path, self.redactor.redact(str(exc)))
            self._finish(step, path, self._chain.failed_status(), started, clock, failure.reason)
            self._note_failure(failure)
            raise failure from None
        except expressions.TemplateProblem as exc:
            failure = ExpressionError(path, self.redactor.redact(str(exc)))
            self._finish(step, path, self._chain.failed_status(), started, clock, failure.reason)
            self._note_failure(failure)
            raise failure from None
        except RunTimedOut:
            self._finish(step, path, StepStatus.FAILED, started, clock, "run timed out")
            raise
        except RunCancelled:
            self._finish(step, path, StepStatus.FAILED, started, clock, "cancelled")
            raise
        except (BotsError, KeyboardInterrupt) as exc:
            reason = "cancelled" if isinstance(exc, KeyboardInterrupt) else str(exc)
            self._finish(step, path, StepStatus.FAILED, started, clock, reason)
            raise
        finally:
            if pushed:
                self._blocks.pop()
        self._finish(step, path, StepStatus.OK, started, clock, None)

    def run_finally(
        self, steps: list[Any], *, deadline: float, cancel: threading.Event, evidence: bool
    ) -> None:
        """Run the bot's ``finally`` steps (paths ``finally[0]``, ...), each even if one before
        it failed, as a suite teardown in Robot Framework does.

        Args:
            steps: The ``finally`` steps.
            deadline: ``time.monotonic()`` value when their time is up (replaces the run's).
            cancel: Stops them when set (replaces the run's event: after a cancellation the
                ``finally`` steps still run, within ``deadline``).
            evidence: Capture evidence when a failure chain starts; False after a failed run,
                whose evidence stands.

        Raises:
            The first failure (``StepFailed`` or another ``BotsError``) once every step has had
            its turn; a timeout, cancellation or Ctrl-C stops the remaining steps.
        """
        self.run_deadline, self.cancel = deadline, cancel
        self._chain.capturing = evidence and self._capture is not None
        failure: BaseException | None = None
        for index, step in enumerate(steps):
            try:
                self.run_step(step, f"finally[{index}]")
            except (RunTimedOut, RunCancelled) as exc:
                failure = failure or exc
                break
            except BotsError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def condition(self, expression: str, path: str) -> bool:
        """Evaluate a condition (``when``, ``if``, ``assert``) in the current scope."""
        return expressions.condition(expression, self.scope())

    def recovering(self, active: bool = True) -> AbstractContextManager[None]:
        """Record failures inside as ``recovered``: a ``try`` body, or a retry attempt that
        will be repeated, handles them."""
        return self._chain.recovering(active)

    # ----------------------------------------------------------------- failure chains

    def failure_mark(self) -> FirstFailure | None:
        """The open chain as a ``try`` or ``retry`` starts; hand it to :meth:`recovered`."""
        return self._chain.first

    def recovered(self, mark: object) -> None:
        """A ``try`` or ``retry`` that started at ``mark`` handled its failure (see
        :meth:`.failures.FailureChain.recovered`)."""
        self._chain.recovered(mark)

    def take_first_failure(self) -> FirstFailure | None:
        """The open chain's first failure, handed over (the run ended); no chain stays open."""
        return self._chain.take()

    def _note_failure(self, failure: StepFailed) -> None:
        """Start a chain at ``failure`` unless one is open, capturing the page right now."""
        inside = [lp for lp in self._loops if failure.step_path.startswith(lp.split(": ")[0])]
        reason = self.redactor.redact(failure.reason)
        self._chain.start(failure.step_path, reason, inside[-1] if inside else None)

    def _check_deadlines(self, path: str) -> None:
        if self.cancel.is_set():
            raise RunCancelled(path)
        now = time.monotonic()
        if now >= self.run_deadline:
            raise RunTimedOut(path, self.run_timeout)
        for deadline, block_path, seconds in self._blocks:
            if now >= deadline:
                raise StepFailed(block_path, f"did not finish within its timeout of {seconds:g} s")

    def _finish(
        self,
        step: Any,
        path: str,
        status: StepStatus,
        started: datetime,
        clock: float,
        message: str | None,
    ) -> None:
        name = step.name
        if name is not None and "{" in name:
            try:
                name = self.text(name)
            except expressions.TemplateProblem:
                pass  # the raw name is still a good label
        redact = self.redactor.redact
        inside = [lp for lp in self._loops if path.startswith(lp.split(": ")[0])]
        if message and inside and status in (StepStatus.FAILED, StepStatus.RECOVERED):
            message = f"{message} [{inside[-1]}]"
        self._record(
            StepRecord(
                path=path,
                kind=self._steps[type(step)].name if type(step) in self._steps else step.KIND,
                name=redact(name) if name else name,
                status=status,
                started_at=started,
                duration_ms=int((time.perf_counter() - clock) * 1000),
                message=redact(message) if message else message,
            )
        )

    def note(
        self, path: str, kind: str, name: str, ok: bool, message: str, started: datetime
    ) -> None:
        """Record an outcome that is not a step's, e.g. a work item's (``kind="work_item"``,
        ``message="done (3 left)"``), in the history, log and progress display."""
        self._record(
            StepRecord(
                path=path,
                kind=kind,
                name=self.redactor.redact(name),
                status=StepStatus.OK if ok else StepStatus.RECOVERED,
                started_at=started,
                duration_ms=int((datetime.now(UTC) - started).total_seconds() * 1000),
                message=self.redactor.redact(message),
            )
        )

    # ----------------------------------------------------------------- actions

    def use_action(self, ref: str, arguments: dict[str, Any], timeout: float, path: str) -> Any:
        """Call the connector action ``ref`` (``portal.vorgang_lesen``) with ``arguments``;
        each call it makes into a session gets at most the step timeout, all of them
        together at most the run's time (or an enclosing block's)."""
        action = self._actions.get(ref)
        if action is None:
            known = ", ".join(sorted(self._actions)) or "none"
            raise StepFailed(path, f"unknown action {ref!r} (installed: {known})")
        connector = ref.partition(".")[0]
        state = self._action_state.setdefault(connector, {})
        limit = min([self.run_deadline, *(block[0] for block in self._blocks)])
        context = ActionContext(
            connector=connector,
            sessions=self.sessions,
            targets=dict(self.base_scope.get("targets") or {}),
            state=state,
            log=self.ctx.log,
            call_timeout=timeout,
            deadline=limit,
            redact=self.redactor.redact,
        )
        return call_action(action, context, arguments, ref=ref, path=path)

    # ----------------------------------------------------------------- hooks

    def call_hook(self, ref: str, kwargs: dict[str, Any], timeout: float, path: str) -> Any:
        """Call a hook with the run context, up to ``timeout`` seconds (see
        :class:`~orchestrator.engine.hook_calls.HookCaller`)."""
        try:
            return self._hooks.call(ref, kwargs, timeout, path)
        except HookTimedOut:
            if self.remaining() <= 0:
                raise RunTimedOut(path, self.run_timeout) from None
            raise HookError(path, f"hook {ref} did not return within {timeout:g} s") from None


__all__ = [
    "CaptureEvidence",
    "FirstFailure",
    "Interpreter",
    "RunCancelled",
    "RunTimedOut",
]
