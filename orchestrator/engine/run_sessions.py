"""The sessions of connectors other than the browser: opened on first use, evidence, closed.

Every installed connector with a session factory (``ConnectorSpec.session``) gets an opener
in the run's :class:`~orchestrator.engine.sessions.SessionPool`; the browser has its own
(:mod:`orchestrator.engine.run_browser`: traces, page evidence, cookies). Its settings come
from the settings file's ``connectors: {NAME: {...}}`` section, checked against the
connector's settings model when the session opens. When the run fails, each open session's
``capture_evidence`` saves ``failure-NAME.*`` into the run directory, kept as artifacts of
the failing step; at the end every session is closed, even after a crash of another one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, ConnectorError
from orchestrator.engine.artifacts import ArtifactKeeper
from orchestrator.errors import ConfigError, EnvironmentProblem
from orchestrator.model.registry import ConnectorSpec, Registry, SessionEnv
from orchestrator.results import ArtifactKind
from orchestrator.settings import Settings

#: The connector whose session the engine opens itself (RunBrowser).
BROWSER = "browser"


class ConnectorSessions:
    """A run's sessions of the non-browser connectors."""

    def __init__(
        self,
        *,
        connectors: Registry,
        settings: Settings,
        run_dir: Path,
        headed: bool,
        keeper: ArtifactKeeper,
        log: Any,
    ) -> None:
        self._specs = {
            name: spec
            for name, spec in connectors.connectors.items()
            if spec.session is not None and name != BROWSER
        }
        self._settings, self._run_dir, self._headed = settings, run_dir, headed
        self._keeper, self._log = keeper, log
        self._open: dict[str, Connector] = {}

    def openers(self) -> dict[str, Callable[[], Connector]]:
        """Connector name -> function opening its session, for the session pool."""
        return {name: functools.partial(self._start, name) for name in self._specs}

    def _start(self, name: str) -> Connector:
        spec = self._specs[name]
        assert spec.session is not None
        env = SessionEnv(
            settings=_connector_settings(spec, self._settings),
            run_dir=self._run_dir,
            headless=not self._headed,
            timeout_s=self._settings.step_timeout_s,
        )
        session = spec.session(env)
        try:
            session.open()
        except ConnectorError as exc:
            session.close()
            raise EnvironmentProblem(f"connector {name!r} cannot open its session: {exc}") from None
        self._open[name] = session
        self._log.info("connector session opened", connector=name)
        return session

    def finish(self, *, failed: bool, error_step: str | None) -> None:
        """Keep each open session's evidence when the run failed."""
        if not failed:
            return
        for name, session in self._open.items():
            try:
                files = session.capture_evidence(self._run_dir, f"failure-{name}")
            except Exception as exc:  # a connector's own bug must not hide the run's failure
                self._log.warning("connector evidence not captured", connector=name, error=str(exc))
                continue
            for kind, path in files.items():
                if path.is_file() and path.resolve().is_relative_to(self._run_dir.resolve()):
                    self._keeper.keep(path, _kind(kind), step_path=error_step, defer=True)

    def close(self) -> None:
        """Close every open session; safe to repeat."""
        while self._open:
            name, session = self._open.popitem()
            try:
                session.close()
            except Exception as exc:  # close the others still
                self._log.warning("connector session not closed", connector=name, error=str(exc))


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


def _kind(kind: str) -> ArtifactKind:
    try:
        return ArtifactKind(kind)
    except ValueError:
        return ArtifactKind.OUTPUT
