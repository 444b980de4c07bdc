"""A run's connector sessions: opened on first use, their evidence, their leavings, closed.

Every installed connector with a session factory (``ConnectorSpec.session``) gets an opener
in the run's :class:`~orchestrator.engine.sessions.SessionPool`. The engine meets each of them
through :class:`connectors.base.Connector` alone, and names none: what the run owns and a
session may need (its display, its trace mode, its access to the work queues) comes in the
:class:`~orchestrator.model.registry.SessionEnv` the connector's factory gets:

* settings come from the settings file's ``connectors: {NAME: {...}}`` section, checked
  against the connector's model when the session is built; the run's display (a virtual one
  started for a headed run without a screen) goes to the sessions whose connector says
  ``display=True``, never into ``os.environ``;
* when a failure chain begins, every open session's evidence is captured
  (:meth:`RunSessions.capture_first_failure`: ``failure.*`` for the connector with
  ``main_evidence``, ``failure-NAME-*`` for the others); before the ``finally`` steps run,
  the failed run's evidence is noted (:meth:`RunSessions.note_failure`);
* each parallel worker gets forks of the sessions it uses (:meth:`RunSessions.worker`),
  opened and closed in its own thread;
* at the end each session leaves its files (a trace) and the failure evidence is kept
  (:meth:`RunSessions.finish`); then every session is closed, even after a crash of another
  one, after its learnt credentials went to the redactor (:meth:`RunSessions.close`)::

    sessions = RunSessions(connectors=registry.installed(), settings=settings, ...,
                           work_queues=queues)
    interpreter = Interpreter(..., sessions=sessions.pool,
                              capture=sessions.capture_first_failure, workers=sessions.worker)
    sessions.note_failure(first_failure, stopped_at="steps[3]")   # before `finally` runs
    sessions.finish(failed=True, error_step="steps[2]")   # failure.*, trace.zip kept, deferred
    sessions.close()                                       # always: sessions and display gone
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, ConnectorError
from orchestrator.engine.artifacts import ArtifactKeeper
from orchestrator.engine.evidence import Evidence, EvidenceCapture, artifact_kind
from orchestrator.engine.interpreter import CaptureEvidence, FirstFailure
from orchestrator.engine.secrets import Redactor
from orchestrator.engine.sessions import SessionPool
from orchestrator.errors import BotsError, ConfigError, EnvironmentProblem
from orchestrator.model.registry import ConnectorSpec, Registry, SessionEnv
from orchestrator.results import ArtifactKind
from orchestrator.settings import Settings

#: A parallel worker's sessions, how to capture their evidence, how to close them.
Worker = tuple[SessionPool, CaptureEvidence, Callable[[], None]]


class RunSessions:
    """The sessions of one run (see the module docstring)."""

    def __init__(
        self,
        *,
        connectors: Registry,
        settings: Settings,
        run_dir: Path,
        headed: bool,
        trace_mode: str,
        redactor: Redactor,
        keeper: ArtifactKeeper,
        log: Any,
        work_queues: Connector | None = None,
    ) -> None:
        self._specs = {
            name: spec for name, spec in connectors.connectors.items() if spec.session is not None
        }
        self._main = {name for name, spec in connectors.connectors.items() if spec.main_evidence}
        self._settings, self._run_dir, self._headed = settings, run_dir, headed
        self._trace_mode, self._keeper, self._log = trace_mode, keeper, log
        self._work_queues = work_queues
        self._capture = EvidenceCapture(run_dir, redactor, log)
        self._open: dict[str, Connector] = {}
        self._built: dict[str, Connector] = {}  # built for a worker to fork, not opened
        self._display: str | None = None
        self._resources = ExitStack()
        # (file, kind, step path) of the failure evidence, captured before `finally` runs
        self._evidence: list[tuple[Path, ArtifactKind, str | None]] | None = None
        openers: dict[str, Callable[[], Connector]] = {
            name: functools.partial(self._start, name) for name in self._specs
        }
        #: The run's own sessions, by connector name, opened on first use.
        self.pool = SessionPool(openers)

    # ----------------------------------------------------------------- opening

    def _start(self, name: str) -> Connector:
        session = self._built.pop(name, None) or self._build(name, trace=self._trace_mode)
        try:
            session.open()
        except ConnectorError as exc:
            session.close()
            raise EnvironmentProblem(f"connector {name!r} cannot open its session: {exc}") from None
        self._open[name] = session
        self._log.info("connector session opened", connector=name, headless=not self._headed)
        return session

    def _build(self, name: str, *, trace: str) -> Connector:
        spec = self._specs[name]
        assert spec.session is not None
        env = SessionEnv(
            settings=_connector_settings(spec, self._settings),
            run_dir=self._run_dir,
            headless=not self._headed,
            timeout_s=self._settings.step_timeout_s,
            display=self._display_for(spec),
            trace=trace,
            run_settings=self._settings,
            work_queues=self._work_queues,
        )
        return spec.session(env)

    def _display_for(self, spec: ConnectorSpec) -> str | None:
        """The run's display for a session showing windows in a headed run (or needing one in
        every run), started once."""
        if not (spec.needs_display or (self._headed and spec.display)):
            return None
        if self._display is None:
            from connectors.display import DisplayUnavailable, has_display, virtual_display

            if has_display():
                self._display = os.environ["DISPLAY"]
            else:
                try:
                    self._display = self._resources.enter_context(virtual_display())
                except DisplayUnavailable as exc:
                    why = "headed run" if self._headed else f"connector {spec.name!r}"
                    raise EnvironmentProblem(f"{why} needs a display: {exc}") from None
        return self._display

    # ----------------------------------------------------------------- parallel workers

    def worker(self, number: int) -> Worker:
        """Parallel worker ``number``'s sessions: a fork of each session it uses (the run's
        own where one serves every worker), the capture of its evidence
        (``worker-N/failure*``), and the release that closes its own (call it in the
        worker's thread)."""
        own: dict[str, Connector] = {}

        def fork(name: str) -> Connector:
            source = self._open.get(name) or self._unopened(name)
            session = source.fork()
            if session is None:
                raise BotsError(f"connector {name!r} cannot work in parallel workers")
            if session is source:
                return self.pool.get(name)
            try:
                session.open()
            except ConnectorError as exc:
                session.close()
                raise EnvironmentProblem(f"worker {number}: {exc}") from None
            own[name] = session
            self._log.info(f"worker {name} started", worker=number)
            return session

        def capture(pool: SessionPool) -> Evidence:
            (self._run_dir / f"worker-{number}").mkdir(parents=True, exist_ok=True)
            files: Evidence = {}
            for name, session in own.items():
                files |= self._capture.capture(
                    session, self._stem(name, f"worker-{number}/failure")
                )
            return files

        def release() -> None:
            while own:
                _, session = own.popitem()
                self._capture.learn(session)
                session.close()

        pool = SessionPool({name: functools.partial(fork, name) for name in self._specs})
        return pool, capture, release

    def _unopened(self, name: str) -> Connector:
        if name not in self._built:
            self._built[name] = self._build(name, trace=self._trace_mode)
        return self._built[name]

    # ----------------------------------------------------------------- evidence

    def _stem(self, name: str, stem: str) -> str:
        return stem if name in self._main else f"{stem}-{name}"

    def capture(
        self, pool: SessionPool, stem: str, unless_like: Evidence | None = None
    ) -> Evidence:
        """The evidence of ``pool``'s open sessions as ``stem*`` files (best effort)."""
        files: Evidence = {}
        for name, session in pool.opened().items():
            files |= self._capture.capture(session, self._stem(name, stem), unless_like=unless_like)
        return files

    def capture_first_failure(self, pool: SessionPool) -> Evidence:
        """The open sessions' state when a failure chain begins, as ``failure*`` files."""
        return self.capture(pool, "failure")

    def note_failure(self, first: FirstFailure | None, stopped_at: str | None) -> None:
        """Note the failed run's evidence: the first failure's, captured when it happened,
        plus the sessions' state now (``failure-final*``) if the run stopped at another step
        and it differs; without the first failure's, the state now as ``failure*``."""
        now = stopped_at or (first.step_path if first is not None else None)
        self._evidence = []
        if first is not None and first.evidence:
            self._evidence += [
                (path, kind, first.step_path) for path, kind in first.evidence.items()
            ]
            if stopped_at != first.step_path:
                final = self.capture(self.pool, "failure-final", unless_like=first.evidence)
                self._evidence += [(path, kind, now) for path, kind in final.items()]
        else:
            files = self.capture(self.pool, "failure")
            self._evidence += [(path, kind, now) for path, kind in files.items()]

    def finish(self, *, failed: bool, error_step: str | None) -> None:
        """Keep the failure evidence and what each session leaves (a trace)."""
        for session in self.pool.opened().values():
            self._capture.learn(session)  # redacted from evidence, trace and log
        if failed:
            self._keep_failure_evidence(error_step)
        for name, session in self._open.items():
            scratch = Path(tempfile.mkdtemp(prefix="bots-session-"))
            try:
                left = session.finish(scratch, failed=failed)
                for kind, path in left.items():
                    if path.is_file():
                        target = self._run_dir / path.name
                        self._keeper.keep(
                            target, artifact_kind(kind), error_step, source=path, defer=True
                        )
            except Exception as exc:  # a connector's own bug must not hide the run's outcome
                self._log.warning("session files not kept", connector=name, error=str(exc))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    def _keep_failure_evidence(self, step: str | None) -> None:
        """Keep the evidence captured before ``finally`` ran (or, if none was, the state now)."""
        if self._evidence is None:
            files = self.capture(self.pool, "failure")
            self._evidence = [(path, kind, step) for path, kind in files.items()]
        for path, kind, step_path in self._evidence:
            try:
                self._keeper.keep(path, kind, step_path=step_path, defer=True)
            except OSError as exc:
                self._log.warning("failure evidence not kept", file=path.name, error=str(exc))

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        """Close every session opened and the display; safe to repeat."""
        while self._open:
            name, session = self._open.popitem()
            self._capture.learn(session)
            try:
                session.close()
            except Exception as exc:  # close the others still
                self._log.warning("connector session not closed", connector=name, error=str(exc))
        self._built.clear()
        self._resources.close()


def _connector_settings(spec: ConnectorSpec, settings: Settings) -> Any:
    if spec.settings is None:
        return None
    values = settings.connectors.get(spec.name, {})
    try:
        return spec.settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"connectors.{spec.name}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"settings of connector {spec.name!r}: {problems}") from None
