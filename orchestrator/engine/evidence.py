"""Evidence of a failure: the page's URL, screenshot and HTML, captured into the run directory.

The interpreter captures when a failure chain starts (before ``on_error`` or another retry
attempt changes the page); the runner keeps the capture as the run's failure evidence, or
deletes it when the failure was handled. Nothing written here holds a credential the run knows
of: the browser's cookies and the page's CSRF tokens are added to the run's redactor before
any file is written, so even a file left behind by a killed process has none::

    pages = PageCapture(run_dir, redactor, log)
    files = pages.capture(browser, "failure", timeout=5)
    # {ArtifactKind.URL: run_dir / "failure-url.txt", ArtifactKind.SCREENSHOT: ..., HTML: ...}
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine.credentials import harvest_cookies, harvest_html, harvest_url
from orchestrator.engine.secrets import Redactor
from orchestrator.results import ArtifactKind

if TYPE_CHECKING:
    from connectors.browser import BrowserSession


class PageCapture:
    """Captures the open page as ``<stem>-url.txt``, ``<stem>.png`` and ``<stem>.html``.

    Args:
        run_dir: Where the files go.
        redactor: The run's redactor; secrets, cookie values and tokens are masked in the text.
        log: The run's logger (what could not be captured is logged, never raised).
    """

    def __init__(self, run_dir: Path, redactor: Redactor, log: Any) -> None:
        self._run_dir = run_dir
        self._redactor = redactor
        self._log = log

    def capture(
        self,
        browser: BrowserSession,
        stem: str,
        timeout: float,
        *,
        unless_like: dict[ArtifactKind, Path] | None = None,
    ) -> dict[ArtifactKind, Path]:
        """Capture the page; returns the files written, by kind.

        Best effort: what cannot be captured is logged and left out; nothing raises. With
        ``unless_like`` (another capture's files), nothing is kept when the URL and HTML are
        the same as those files'.
        """
        files: dict[ArtifactKind, Path] = {}
        log = self._log
        harvest_cookies(browser, self._redactor)
        try:
            url = browser.url
            self._redactor.add_all(harvest_url(url))
            files[ArtifactKind.URL] = self._write(f"{stem}-url.txt", url + "\n")
        except Exception as exc:  # evidence is best effort: it must never fail the run
            log.warning("failure url not captured", error=str(exc))
        try:
            shot = browser.screenshot(self._run_dir / f"{stem}.png", timeout=timeout)
            files[ArtifactKind.SCREENSHOT] = shot
        except Exception as exc:
            # Reading the HTML has no timeout: a page too busy to be painted would hang it.
            log.warning("failure screenshot not captured", error=str(exc))
            log.warning("failure html not captured", error="the page did not paint")
        else:
            try:
                html = browser.html()
                self._redactor.add_all(harvest_html(html))
                files[ArtifactKind.HTML] = self._write(f"{stem}.html", html)
            except Exception as exc:
                log.warning("failure html not captured", error=str(exc))
        if unless_like is not None and _same_page(files, unless_like):
            for path in files.values():
                path.unlink(missing_ok=True)
            return {}
        if files:
            log.info("failure evidence captured", files=sorted(p.name for p in files.values()))
        return files

    def _write(self, name: str, text: str) -> Path:
        path = self._run_dir / name
        path.write_text(self._redactor.redact(text), encoding="utf-8")
        return path


def _same_page(files: dict[ArtifactKind, Path], other: dict[ArtifactKind, Path]) -> bool:
    """Whether two captures show the same URL and HTML."""
    return all(
        kind in files and kind in other and _text_of(files[kind]) == _text_of(other[kind])
        for kind in (ArtifactKind.URL, ArtifactKind.HTML)
    )


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
