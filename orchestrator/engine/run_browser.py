"""The one place where a run meets its browser: opening it, its evidence, closing it.

A run opens the browser when its first browser step needs it (:meth:`RunBrowser.open`, the
opener of the ``browser`` session in the run's session pool), captures the page when a
failure chain begins (:meth:`RunBrowser.capture_first_failure`), notes the failed run's
evidence before the ``finally`` steps change the page (:meth:`RunBrowser.note_failure`), and
at the end keeps that evidence and the trace and closes the browser (:meth:`RunBrowser.finish`,
then :meth:`RunBrowser.close`)::

    browser = RunBrowser(settings=settings, run_dir=run_dir, headed=False, trace_mode="on_failure",
                         redactor=redactor, keeper=keeper, log=log)
    interpreter = Interpreter(..., sessions=SessionPool({"browser": browser.open}),
                              capture=lambda sessions: browser.capture_first_failure())
    ...
    browser.note_failure(first_failure, stopped_at="steps[3]")   # before `finally` runs
    browser.finish(failed=True, error_step="steps[2]")   # failure.*, trace.zip kept, deferred
    browser.close()                                       # always: browser and display gone
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorError
from orchestrator.engine.artifacts import ArtifactKeeper
from orchestrator.engine.credentials import harvest_cookies
from orchestrator.engine.evidence import PageCapture
from orchestrator.engine.interpreter import FirstFailure
from orchestrator.engine.secrets import Redactor
from orchestrator.errors import EnvironmentProblem
from orchestrator.results import ArtifactKind
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from connectors.browser import BrowserSession

ARTIFACT_TIMEOUT_S = 10.0
# A capture at a failure inside the run takes the run's time: the screenshot gets less.
FIRST_FAILURE_CAPTURE_S = 5.0


class RunBrowser:
    """A run's browser, started on first use, and the failure evidence and trace it leaves."""

    def __init__(
        self,
        *,
        settings: Settings,
        run_dir: Path,
        headed: bool,
        trace_mode: str,
        redactor: Redactor,
        keeper: ArtifactKeeper,
        log: Any,
    ) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.headed = headed
        self.trace_mode = trace_mode
        self.redactor = redactor
        self.keeper = keeper
        self.log = log
        #: The browser, once a step has started it.
        self.session: BrowserSession | None = None
        self._pages = PageCapture(run_dir, redactor, log)
        self._resources = ExitStack()
        # (file, kind, step path) of the failure evidence, captured before `finally` runs
        self._evidence: list[tuple[Path, ArtifactKind, str | None]] | None = None

    def open(self) -> BrowserSession:
        """Start the browser (and, for a headed run without a display, a virtual one).

        Raises:
            EnvironmentProblem: no Chromium, or no display for a headed run.
        """

        if self.headed:
            from connectors.display import DisplayUnavailable, has_display, virtual_display

            if not has_display():
                try:
                    self._resources.enter_context(virtual_display())
                except DisplayUnavailable as exc:
                    raise EnvironmentProblem(f"headed run: {exc}") from None
        browser = self._session(trace=self.trace_mode != "never")
        try:
            browser.open()
        except ConnectorError as exc:
            raise EnvironmentProblem(
                f"{exc}; fix: apt-get install -y chromium, or set BOTS_CHROMIUM"
            ) from None
        self._resources.callback(browser.close)
        self.session = browser
        self.log.info("browser started", headless=not self.headed, trace=self.trace_mode)
        return browser

    def open_worker(self, number: int) -> BrowserSession:
        """A browser of its own for parallel worker ``number`` (``for_each_item`` with
        ``parallel``; no trace: the run's trace is the main browser's). Playwright's objects
        belong to the thread that made them: the worker closes it (:meth:`close_worker`)."""

        browser = self._session(trace=False)
        try:
            browser.open()
        except ConnectorError as exc:
            raise EnvironmentProblem(f"worker {number}: {exc}") from None
        self.log.info("worker browser started", worker=number)
        return browser

    def capture_worker(self, browser: BrowserSession, number: int) -> dict[ArtifactKind, Path]:
        """A worker's page when a failure chain begins, as ``worker-N/failure.*``."""
        (self.run_dir / f"worker-{number}").mkdir(parents=True, exist_ok=True)
        stem = f"worker-{number}/failure"
        return self._pages.capture(browser, stem, FIRST_FAILURE_CAPTURE_S)

    def close_worker(self, browser: BrowserSession) -> None:
        """Close a worker's browser in its thread; its cookies are noted for redaction."""
        try:
            harvest_cookies(browser, self.redactor)
        except ConnectorError:
            pass
        finally:
            browser.close()

    def capture_first_failure(self) -> dict[ArtifactKind, Path]:
        """The page when a failure chain begins, as ``failure.*`` files (best effort); none
        before the browser is open."""
        if self.session is None:
            return {}
        return self._pages.capture(self.session, "failure", FIRST_FAILURE_CAPTURE_S)

    def note_failure(self, first: FirstFailure | None, stopped_at: str | None) -> None:
        """Note the failed run's evidence: the first failure's, captured when it happened,
        plus the page as it is now (``failure-final.*``) if the run stopped at another step
        and the page differs; without the first failure's, the page now as ``failure.*``."""
        browser = self.session
        now = stopped_at or (first.step_path if first is not None else None)
        self._evidence = []
        if first is not None and first.evidence:
            self._evidence += [
                (path, kind, first.step_path) for kind, path in first.evidence.items()
            ]
            if browser is not None and stopped_at != first.step_path:
                final = self._pages.capture(
                    browser, "failure-final", ARTIFACT_TIMEOUT_S, unless_like=first.evidence
                )
                self._evidence += [(path, kind, now) for kind, path in final.items()]
        elif browser is not None:
            files = self._pages.capture(browser, "failure", ARTIFACT_TIMEOUT_S)
            self._evidence += [(path, kind, now) for kind, path in files.items()]

    def finish(self, *, failed: bool, error_step: str | None) -> None:
        """Keep the failure evidence and the trace, then close the browser."""
        browser = self.session
        if browser is None:
            return
        try:
            harvest_cookies(browser, self.redactor)  # redacted from evidence, trace and log
            if failed:
                self._keep_failure_evidence(browser, error_step)
            keep = self.trace_mode == "always" or (self.trace_mode == "on_failure" and failed)
            # Playwright writes the trace outside the run directory; only the scrubbed copy
            # enters it.
            scratch = Path(tempfile.mkdtemp(prefix="bots-trace-"))
            try:
                saved = browser.stop_trace(scratch / "trace.zip" if keep else None)
                if saved is not None:
                    self.keeper.keep(
                        self.run_dir / "trace.zip",
                        ArtifactKind.TRACE,
                        error_step,
                        source=saved,
                        defer=True,
                    )
            except ConnectorError as exc:
                self.log.warning("trace not saved", error=str(exc))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        finally:
            browser.close()

    def _session(self, *, trace: bool) -> BrowserSession:
        """A browser session as the settings say (``connectors.browser.chromium`` first)."""
        from connectors.browser import BrowserSession

        own = self.settings.connectors.get("browser", {}).get("chromium")
        return BrowserSession(
            own or self.settings.chromium,
            headless=not self.headed,
            timeout_s=self.settings.step_timeout_s,
            trace=trace,
        )

    def close(self) -> None:
        """Close whatever is still open (the browser, a virtual display); safe to repeat."""
        self._resources.close()

    def _keep_failure_evidence(self, browser: BrowserSession, step: str | None) -> None:
        """Keep the evidence captured before ``finally`` ran (or, if none was, the page now)."""
        if self._evidence is None:
            files = self._pages.capture(browser, "failure", ARTIFACT_TIMEOUT_S)
            self._evidence = [(path, kind, step) for kind, path in files.items()]
        for path, kind, step_path in self._evidence:
            try:
                self.keeper.keep(path, kind, step_path=step_path, defer=True)
            except OSError as exc:
                self.log.warning("failure evidence not kept", file=path.name, error=str(exc))
