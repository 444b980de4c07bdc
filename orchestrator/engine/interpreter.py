"""The interpreter: runs a bot's steps one by one and records each as a StepRecord.

One function per step kind, found through a dispatch table keyed by the model's ``KIND``
(:data:`HANDLERS`): browser kinds in :mod:`orchestrator.engine.browser_steps`, control flow
and hooks in :mod:`orchestrator.engine.flow_steps`. Step paths name where a step sits in the
bot: ``steps[3].do[1]``, ``steps[0].include[2]``, ``steps[5].on_error[0]``.

Timeouts are cooperative: every browser action gets the smaller of its step timeout and the
time left in the run (or in an enclosing block with a ``timeout``), so nothing needs to be
interrupted from outside. Failures inside ``try`` and inside a ``retry`` attempt that will be
repeated are recorded as ``recovered``.

Failure chains: when a step fails while no chain is open, a chain starts and its
:class:`FirstFailure` is noted: the failing step's path, its reason, and the page's evidence
captured right then, before ``on_error`` steps or further ``retry`` attempts change the page.
Failures while the chain is open (in ``on_error``, in later attempts) capture nothing. The
chain ends when the ``try`` or ``retry`` it started in recovers (the evidence is deleted) or
when the run ends (the runner keeps it as the run's failure evidence)::

    - retry: [{goto: ...}, {click: ...}]   # attempt 1: the click fails: evidence captured
                                           # attempt 2: the click fails: same chain, no capture
                                           # attempt 3: succeeds: chain over, evidence deleted
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorError, LocatorSpec
from orchestrator.engine import expressions
from orchestrator.engine.artifacts import ArtifactKeeper
from orchestrator.engine.context import RunContext
from orchestrator.engine.secrets import Redactor
from orchestrator.errors import BotsError, ExpressionError, HookError, StepFailed
from orchestrator.model import Locator
from orchestrator.results import ArtifactKind, StepRecord, StepStatus
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from connectors.browser import BrowserSession
    from orchestrator.model.loader import LoadedBot

CONTAINERS = frozenset({"if", "for_each", "retry", "try", "include"})
Handler = Callable[["Interpreter", Any, str], None]
#: Captures the open page's evidence (screenshot, HTML, URL) into the run directory; never
#: raises, leaves out what it cannot capture.
CaptureEvidence = Callable[["BrowserSession"], dict[ArtifactKind, Path]]


@dataclass
class FirstFailure:
    """The first failure of a failure chain: where, why, and the evidence of that moment.

    Example: ``FirstFailure("steps[2].try[0]", "no element matches text='Weiter'",
    {ArtifactKind.URL: run_dir / "failure-url.txt", ...})``; ``evidence`` is empty when no
    browser was open.
    """

    step_path: str
    reason: str
    evidence: dict[ArtifactKind, Path] = field(default_factory=dict)

    def discard(self) -> None:
        """Delete the evidence files: the failure was handled."""
        for path in self.evidence.values():
            path.unlink(missing_ok=True)
        self.evidence.clear()


class RunTimedOut(Exception):
    """The run's time is up; not catchable by ``try`` or ``retry``."""

    def __init__(self, step_path: str, seconds: float) -> None:
        self.step_path = step_path
        super().__init__(f"the run did not finish within {seconds:g} s (stopped at {step_path})")


class RunCancelled(Exception):
    """Someone cancelled the run (``bots runs cancel``); not catchable by ``try`` or ``retry``."""

    def __init__(self, step_path: str) -> None:
        self.step_path = step_path
        super().__init__(f"cancelled (stopped at {step_path})")


class Interpreter:
    """Executes steps against a lazily opened browser, hooks and the run's variables.

    Args:
        bot: The loaded bot (definition, directory, sub-flows).
        settings: Effective settings (step timeout).
        ctx: The run context; ``ctx.vars`` holds the variables.
        base_scope: Names every template sees: params, secrets, targets, run.
        redactor: Scrubs secrets from messages.
        keeper: Keeps artifact files (screenshots, downloads).
        open_browser: Starts the browser on the first browser step.
        record: Receives every finished step.
        run_deadline: ``time.monotonic()`` value when the run's time is up.
        run_timeout: The run timeout in seconds (for messages).
        cancel: Set when the run is to stop; checked before every step and during pauses.
        hook_resolver: ``(bot_dir, ref, bot_id) -> callable``; default: the loader's.
        capture: Captures the page's evidence when a failure chain starts (and a browser is
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
        open_browser: Callable[[], BrowserSession],
        record: Callable[[StepRecord], None],
        run_deadline: float,
        run_timeout: float,
        cancel: threading.Event | None = None,
        hook_resolver: Callable[[Path, str, str], Callable[..., Any]] | None = None,
        capture: CaptureEvidence | None = None,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.ctx = ctx
        self.vars = ctx.vars
        self.base_scope = base_scope
        self.redactor = redactor
        self.keeper = keeper
        self._open_browser = open_browser
        self._record = record
        self.run_deadline = run_deadline
        self.run_timeout = run_timeout
        self.cancel = cancel if cancel is not None else threading.Event()
        self._hook_resolver = hook_resolver
        self._hooks: dict[str, Callable[..., Any]] = {}
        self._browser: BrowserSession | None = None
        self._protected = 0  # depth of try/retry blocks that will handle a failure
        self._blocks: list[tuple[float, str, float]] = []  # (deadline, path, seconds)
        self._capture = capture
        self._capturing = capture is not None
        self._first_failure: FirstFailure | None = None  # of the open failure chain

    # ----------------------------------------------------------------- helpers for handlers

    @property
    def browser(self) -> BrowserSession:
        """The browser, started on first use."""
        if self._browser is None:
            self._browser = self._open_browser()
        return self._browser

    @property
    def open_browser_or_none(self) -> BrowserSession | None:
        """The browser if a step has started it."""
        return self._browser

    def scope(self) -> dict[str, Any]:
        """The names templates see: variables, then params, secrets, targets, run."""
        return {**self.vars, **self.base_scope}

    def value(self, template: Any) -> Any:
        """Render a template (any type) against the current scope."""
        return expressions.render(template, self.scope())

    def text(self, template: str) -> str:
        """Render a template that must give text (URLs, names, options)."""
        return expressions.render_text(template, self.scope())

    def locator(self, locator: Locator) -> LocatorSpec:
        """The model's locator with every template rendered, as the connector's spec."""
        scope = self.scope()

        def convert(loc: Locator) -> LocatorSpec:
            def text(value: str | None) -> str | None:
                return None if value is None else expressions.render_text(value, scope)

            return LocatorSpec(
                test_id=text(loc.test_id),
                role=loc.role,
                name=text(loc.name),
                label=text(loc.label),
                placeholder=text(loc.placeholder),
                text=text(loc.text),
                css=text(loc.css),
                xpath=text(loc.xpath),
                exact=loc.exact,
                has_text=text(loc.has_text),
                within=convert(loc.within) if loc.within is not None else None,
                frame=text(loc.frame),
                nth=loc.nth,
                fallbacks=tuple(convert(f) for f in loc.fallbacks),
            )

        return convert(locator)

    def timeout(self, step: Any) -> float:
        """Seconds the step may take: its own timeout, capped by the run and enclosing blocks."""
        own = step.timeout if step.timeout is not None else self.settings.step_timeout_s
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
        pushed = step.timeout is not None and step.KIND in CONTAINERS
        if pushed:
            self._blocks.append((time.monotonic() + step.timeout, path, step.timeout))
        try:
            if step.when is not None and not self.condition(step.when, path):
                self._finish(step, path, StepStatus.SKIPPED, started, clock, "condition false")
                return
            HANDLERS[step.KIND](self, step, path)
        except StepFailed as exc:
            message = exc.reason if exc.step_path == path else f"failed at {exc.step_path}"
            self._finish(step, path, self._failed_status(), started, clock, message)
            self._note_failure(exc)
            raise
        except ConnectorError as exc:
            if self.remaining() <= 0:
                self._finish(step, path, StepStatus.FAILED, started, clock, "run timed out")
                raise RunTimedOut(path, self.run_timeout) from None
            failure = StepFailed(path, self.redactor.redact(str(exc)))
            self._finish(step, path, self._failed_status(), started, clock, failure.reason)
            self._note_failure(failure)
            raise failure from None
        except expressions.TemplateProblem as exc:
            failure = ExpressionError(path, self.redactor.redact(str(exc)))
            self._finish(step, path, self._failed_status(), started, clock, failure.reason)
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
        self._capturing = evidence and self._capture is not None
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

    @contextmanager
    def recovering(self, active: bool = True) -> Iterator[None]:
        """Record failures inside as ``recovered``: a ``try`` body, or a retry attempt that
        will be repeated, handles them."""
        if active:
            self._protected += 1
        try:
            yield
        finally:
            if active:
                self._protected -= 1

    # ----------------------------------------------------------------- failure chains

    def failure_mark(self) -> FirstFailure | None:
        """The open chain as a ``try`` or ``retry`` starts; hand it to :meth:`recovered`."""
        return self._first_failure

    def recovered(self, mark: FirstFailure | None) -> None:
        """A ``try`` or ``retry`` that started at ``mark`` handled its failure: a chain that
        started inside it ends and its evidence is deleted; an older one stays open."""
        first = self._first_failure
        if first is not None and first is not mark:
            if first.evidence:
                self.ctx.log.info("failure handled, its evidence deleted", step=first.step_path)
            first.discard()
            self._first_failure = None

    def take_first_failure(self) -> FirstFailure | None:
        """The open chain's first failure, handed over (the run ended); no chain stays open."""
        first, self._first_failure = self._first_failure, None
        return first

    def _note_failure(self, failure: StepFailed) -> None:
        """Start a chain at ``failure`` unless one is open, capturing the page right now."""
        if self._first_failure is not None:
            return
        evidence: dict[ArtifactKind, Path] = {}
        if self._capturing and self._capture is not None and self._browser is not None:
            evidence = self._capture(self._browser)
        reason = self.redactor.redact(failure.reason)
        self._first_failure = FirstFailure(failure.step_path, reason, evidence)

    def _failed_status(self) -> StepStatus:
        return StepStatus.RECOVERED if self._protected else StepStatus.FAILED

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
        self._record(
            StepRecord(
                path=path,
                kind=step.KIND,
                name=redact(name) if name else name,
                status=status,
                started_at=started,
                duration_ms=int((time.perf_counter() - clock) * 1000),
                message=redact(message) if message else message,
            )
        )

    # ----------------------------------------------------------------- hooks

    def hook(self, ref: str, path: str) -> Callable[..., Any]:
        """The hook function ``module:function``, resolved once per run."""
        if ref not in self._hooks:
            resolver = self._hook_resolver
            try:
                if resolver is None:
                    resolver = _default_hook_resolver()
                self._hooks[ref] = resolver(self.bot.directory, ref, self.bot.definition.id)
            except Exception as exc:
                message = self.redactor.redact(f"cannot load hook {ref}: {exc}")
                raise HookError(path, message) from None
        return self._hooks[ref]

    def call_hook(self, ref: str, kwargs: dict[str, Any], timeout: float, path: str) -> Any:
        """Call a hook with the run context in a worker thread, up to ``timeout`` seconds.

        The thread lets a stuck hook fail the step instead of hanging the run; it cannot be
        killed, so it is a daemon thread that dies with the process.
        """
        function = self.hook(ref, path)
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = function(self.ctx, **kwargs)
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=target, name=f"hook {ref}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            if self.remaining() <= 0:
                raise RunTimedOut(path, self.run_timeout)
            raise HookError(path, f"hook {ref} did not return within {timeout:g} s")
        error = outcome.get("error")
        if error is not None:
            detail = str(error) or type(error).__name__
            message = f"hook {ref} raised {type(error).__name__}: {detail}"
            raise HookError(path, self.redactor.redact(message))
        return outcome.get("value")


def _default_hook_resolver() -> Callable[[Path, str, str], Callable[..., Any]]:
    """The model's ``resolve_hook`` (exported by the loader; defined in model.hooks)."""
    for name in ("orchestrator.model.loader", "orchestrator.model.hooks"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "resolve_hook"):
            return module.resolve_hook
    raise ImportError("orchestrator.model provides no resolve_hook")


def _register() -> dict[str, Handler]:
    from orchestrator.engine.browser_steps import BROWSER_HANDLERS
    from orchestrator.engine.flow_steps import FLOW_HANDLERS

    return {**FLOW_HANDLERS, **BROWSER_HANDLERS}


#: step kind -> function running it
HANDLERS: dict[str, Handler] = _register()

__all__ = [
    "HANDLERS",
    "CaptureEvidence",
    "FirstFailure",
    "Interpreter",
    "RunCancelled",
    "RunTimedOut",
]
