"""What a browser leaves a run: evidence of a failure, the trace, the cookies to mask.

The run meets these through the session interface (:class:`connectors.base.Connector`):
:meth:`~BrowserEvidence.capture_evidence` when a failure chain begins,
:meth:`~BrowserEvidence.secrets_learnt` before any file is kept and
:meth:`~BrowserEvidence.finish` (the trace) at the end. :class:`BrowserEvidence` is a part
of :class:`~connectors.browser.session.BrowserSession`, kept apart from driving pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from connectors.base import ConnectorError
from connectors.browser.errors import first_line

#: Seconds a screenshot of the evidence may take: a page too busy to be painted gets less
#: than the step's time.
EVIDENCE_SCREENSHOT_S = 5.0


class BrowserEvidence:
    """The evidence, trace and cookie parts of a browser session."""

    evidence_kinds: tuple[str, ...] = ("url", "screenshot", "html")
    trace: str
    timeout_s: float
    _context: BrowserContext | None
    _tracing: bool

    if TYPE_CHECKING:  # BrowserSession's

        @property
        def page(self) -> Page: ...

        @property
        def is_open(self) -> bool: ...

        def screenshot(
            self, path: Path, *, full_page: bool = True, timeout: float | None = None
        ) -> Path: ...

    def finish(self, scratch: Path, *, failed: bool) -> dict[str, Path]:
        """The trace as ``trace.zip`` when it is kept (``trace`` is ``always``, or
        ``on_failure`` and the run failed); a trace not kept is discarded."""
        keep = self.trace == "always" or (self.trace == "on_failure" and failed)
        try:
            saved = self.stop_trace(scratch / "trace.zip" if keep else None)
        except ConnectorError:
            return {}
        return {"trace": saved} if saved is not None else {}

    def stop_trace(self, path: Path | None) -> Path | None:
        """Stop tracing; save the trace zip to ``path`` (None: discard it). Returns the path."""
        if not self._tracing or self._context is None:
            return None
        self._tracing = False
        try:
            if path is None:
                self._context.tracing.stop()
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
            self._context.tracing.stop(path=str(path))
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot save the trace: {first_line(exc)}") from None
        return path if path.exists() else None

    def html(self) -> str:
        """The current page's HTML, followed by that of each frame in it.

        A Fachverfahren that works in frames shows its messages inside them, where the top
        page's HTML does not reach: each frame follows as a comment naming it, then its HTML.
        """
        try:
            parts = [self.page.content()]
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot read the page: {first_line(exc)}") from None
        for frame in self.page.frames[1:]:
            label = f"frame name={frame.name!r} url={frame.url!r}".replace("--", "- -")
            try:
                parts.append(f"\n<!-- {label} -->\n{frame.content()}")
            except PlaywrightError as exc:  # detached meanwhile: the rest still helps
                parts.append(f"\n<!-- {label}: not readable ({first_line(exc)}) -->\n")
        return "".join(parts)

    def capture_evidence(self, directory: Path, stem: str) -> dict[str, Path]:
        """Save the page as ``stem-url.txt``, ``stem.png`` and ``stem.html`` in ``directory``.

        Returns kind (``url``, ``screenshot``, ``html``) -> file for the files written, in that
        order, up to the first that fails; nothing raises and nothing is redacted. Not open:
        nothing is captured.
        """
        files: dict[str, Path] = {}
        if not self.is_open:
            return files
        try:
            directory.mkdir(parents=True, exist_ok=True)
            url = directory / f"{stem}-url.txt"
            url.write_text(self.url + "\n", encoding="utf-8")
            files["url"] = url
            shot = directory / f"{stem}.png"
            timeout = min(self.timeout_s, EVIDENCE_SCREENSHOT_S)
            files["screenshot"] = self.screenshot(shot, timeout=timeout)
            # Only once painted: reading the HTML has no timeout, a hung page would hang it.
            html = directory / f"{stem}.html"
            html.write_text(self.html(), encoding="utf-8")
            files["html"] = html
        except Exception:  # evidence is best effort: it must not hide the failure it shows
            pass
        return files

    @property
    def url(self) -> str:
        """The current page's URL."""
        return self.page.url

    def secrets_learnt(self) -> set[str]:
        """The values of the cookies the browser holds (:meth:`cookie_values`); none once it
        is gone (the trace's network log still has the cookies it sent)."""
        try:
            return set(self.cookie_values())
        except ConnectorError:
            return set()

    def cookie_values(self) -> list[str]:
        """The values of all cookies the browser context holds (session cookies, CSRF cookies).

        For redaction: the engine masks them in the run's artifacts. Not open: no cookies.
        """
        if self._context is None:
            return []
        try:
            return [cookie["value"] for cookie in self._context.cookies() if cookie.get("value")]
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot read the cookies: {first_line(exc)}") from None
