"""The browser connector: a Chromium session driven through Playwright.

One :class:`BrowserSession` holds one browser, one context and one page::

    with BrowserSession("/usr/lib/chromium/chromium", timeout_s=10) as browser:
        browser.goto("http://127.0.0.1:8765/civento/login")
        browser.fill(LocatorSpec(label="Benutzername"), "rpa-gewerbe")
        browser.click(LocatorSpec(role="button", name="Anmelden"))

Every action takes a :class:`~connectors.base.LocatorSpec`. Actions rely on Playwright's
auto-wait and strict mode, so a plain action costs one round trip to the browser; only
locators with fallbacks and failures cost more. :mod:`.locators` turns a spec into a
Playwright locator; :mod:`.errors` turns Playwright's errors into the connector errors of
:mod:`connectors.base`, with one readable line instead of Playwright's call log. These three
and :mod:`.chromium` (Chromium's version, printing a page to PDF) are the only modules that
import Playwright.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator as PwLocator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from connectors.base import (
    Connector,
    ConnectorError,
    ConnectorTimeout,
    LocatorSpec,
    NavigationError,
)
from connectors.browser import errors, locators
from connectors.browser.chromium import CHROMIUM_ARGS
from connectors.browser.errors import MAX_CANDIDATES, first_line
from connectors.browser.evidence import BrowserEvidence
from connectors.browser.scripts import FIELDS_JS, TABLE_JS

__all__ = ["CHROMIUM_ARGS", "MAX_CANDIDATES", "SETTLE_S", "BrowserSession"]

#: Seconds a query (count, texts) waits at most for the page to finish parsing its HTML.
SETTLE_S = 2.0
T = TypeVar("T")


class BrowserSession(BrowserEvidence, Connector):
    """One Chromium browser with one context and one page.

    Args:
        executable: Path of the Chromium binary (Debian: ``/usr/lib/chromium/chromium``).
        headless: Run without a window; headed needs a display (see :mod:`connectors.display`).
        timeout_s: Default timeout of every action and wait, in seconds.
        trace: Record a Playwright trace (screenshots and DOM snapshots) from the start:
            ``never``, ``on_failure`` or ``always`` (whether :meth:`finish` keeps it; True
            means ``always``); :meth:`stop_trace` saves it.
        locale: Browser language and formats (``Accept-Language``, dates, numbers).
        timezone: Time zone the pages see.
        display: The X display of a headed browser (the run's, see
            :class:`~orchestrator.model.registry.SessionEnv`); None: the process's ``DISPLAY``.
    """

    name = "browser"

    def __init__(
        self,
        executable: Path | str,
        *,
        headless: bool = True,
        timeout_s: float = 30.0,
        trace: bool | str = False,
        locale: str = "de-DE",
        timezone: str = "Europe/Berlin",
        display: str | None = None,
    ) -> None:
        self.executable = Path(executable)
        self.display = display
        self.locale = locale
        self.timezone = timezone
        self.headless = headless
        self.timeout_s = timeout_s
        self.trace = trace if isinstance(trace, str) else ("always" if trace else "never")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._pages: dict[str, Page] = {}
        self._tracing = False

    # ----------------------------------------------------------------- lifecycle

    def open(self) -> None:
        """Launch Chromium, create the context (downloads accepted) and the page."""
        if not self.executable.exists():
            raise ConnectorError(
                f"Chromium not found at {self.executable}; fix: apt-get install -y chromium, "
                "or set BOTS_CHROMIUM"
            )
        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self.executable),
                headless=self.headless,
                args=list(CHROMIUM_ARGS),
                # the run's display, for this browser only: other runs of the process have
                # their own
                env={**os.environ, "DISPLAY": self.display} if self.display else None,
            )
            self._context = self._browser.new_context(
                accept_downloads=True, locale=self.locale, timezone_id=self.timezone
            )
            self._context.set_default_timeout(self.timeout_s * 1000)
            self._context.set_default_navigation_timeout(self.timeout_s * 1000)
            if self.trace != "never":
                self._context.tracing.start(screenshots=True, snapshots=True, sources=False)
                self._tracing = True
            self._page = self._context.new_page()
            self._pages = {"main": self._page}
        except PlaywrightError as exc:
            self.close()
            raise ConnectorError(
                f"Chromium at {self.executable} did not start: {first_line(exc)}; fix: "
                "apt-get install -y chromium, or set BOTS_CHROMIUM"
            ) from None

    def fork(self) -> BrowserSession:
        """A browser of its own for a parallel worker, as this one is configured but without
        a trace (the run's trace is this browser's)."""
        return BrowserSession(
            self.executable,
            headless=self.headless,
            timeout_s=self.timeout_s,
            locale=self.locale,
            timezone=self.timezone,
            display=self.display,
        )

    def close(self) -> None:
        """Close page, context, browser and Playwright; safe to call more than once."""
        for closer in (
            self._context.close if self._context else None,
            self._browser.close if self._browser else None,
            self._playwright.stop if self._playwright else None,
        ):
            if closer is None:
                continue
            try:
                closer()
            except Exception:  # already gone (driver killed by Ctrl-C, browser crashed)
                pass
        self._page = self._context = self._browser = self._playwright = None
        self._pages = {}
        self._tracing = False

    @property
    def page(self) -> Page:
        """The Playwright page (for this module and its tests; engines use the actions)."""
        if self._page is None:
            raise ConnectorError("the browser is not open")
        return self._page

    def use_page(self, name: str) -> None:
        """Work in the tab ``name`` from now on, opened on first use (the first tab is
        ``main``): each target system's actions keep a tab of their own, as a clerk keeps
        Civento and the register side by side, so a page need not be loaded again."""
        if self._context is None:
            raise ConnectorError("the browser is not open")
        page = self._pages.get(name)
        try:
            if page is None or page.is_closed():
                page = self._pages[name] = self._context.new_page()
            if page is not self._page:
                page.bring_to_front()  # Chromium throttles the timers of background tabs
                self._page = page
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot switch to tab {name!r}: {first_line(exc)}") from None

    @property
    def is_open(self) -> bool:
        """Whether the browser has been opened and not closed since."""
        return self._page is not None

    # ----------------------------------------------------------------- locators

    def locate(self, spec: LocatorSpec, timeout: float | None = None) -> PwLocator:
        """The Playwright locator for ``spec``, choosing among its fallbacks
        (see :func:`connectors.browser.locators.locate`).

        Raises:
            ElementNotFound: no alternative matched within the timeout.
        """
        return locators.locate(self.page, spec, self._ms(timeout))

    def candidates(self, loc: PwLocator) -> tuple[int, list[str]]:
        """How many elements ``loc`` matches and a description of up to five of them."""
        return errors.candidates(loc)

    # ----------------------------------------------------------------- plumbing

    def _ms(self, timeout: float | None) -> float:
        return (self.timeout_s if timeout is None else max(timeout, 0.001)) * 1000

    def _act(
        self,
        spec: LocatorSpec,
        what: str,
        action: Callable[[PwLocator, float], T],
        timeout: float | None,
    ) -> T:
        """Run ``action`` on the element ``spec`` names, translating Playwright's errors."""
        started = time.monotonic()
        loc = self.locate(spec, timeout)
        ms = self._ms(timeout) - (time.monotonic() - started) * 1000
        try:
            return action(loc, max(ms, 1.0))
        except PlaywrightTimeout as exc:
            raise errors.timeout_error(spec, loc, what, exc) from None
        except PlaywrightError as exc:
            raise errors.action_error(spec, loc, what, exc) from None

    # ----------------------------------------------------------------- actions

    def goto(
        self,
        url: str,
        *,
        wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load",
        timeout: float | None = None,
    ) -> None:
        """Open ``url``; an HTTP status of 400 or more is a :class:`NavigationError`."""
        try:
            response = self.page.goto(url, wait_until=wait_until, timeout=self._ms(timeout))
        except PlaywrightTimeout as exc:
            raise ConnectorTimeout(f"opening {url}: {first_line(exc)}") from None
        except PlaywrightError as exc:
            raise NavigationError(f"cannot open {url}: {first_line(exc)}") from None
        if response is not None and response.status >= 400:
            raise NavigationError(
                f"cannot open {url}: the server answered {response.status} {response.status_text}"
            )

    def click(
        self,
        spec: LocatorSpec,
        *,
        button: Literal["left", "right", "middle"] = "left",
        double: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Click the element (waits until it is visible, enabled and stable)."""
        if double:
            self._act(
                spec, "double-click", lambda el, ms: el.dblclick(button=button, timeout=ms), timeout
            )
        else:
            self._act(spec, "click", lambda el, ms: el.click(button=button, timeout=ms), timeout)

    def fill(self, spec: LocatorSpec, value: str, *, timeout: float | None = None) -> None:
        """Replace the content of an input field with ``value``."""
        self._act(spec, "fill", lambda el, ms: el.fill(value, timeout=ms), timeout)

    def select_option(
        self, spec: LocatorSpec, option: str, *, timeout: float | None = None
    ) -> None:
        """Choose the option of a ``<select>`` whose value or label is ``option``."""
        self._act(spec, "select", lambda el, ms: el.select_option(option, timeout=ms), timeout)

    def check(self, spec: LocatorSpec, *, timeout: float | None = None) -> None:
        """Tick a checkbox or radio button."""
        self._act(spec, "check", lambda el, ms: el.check(timeout=ms), timeout)

    def uncheck(self, spec: LocatorSpec, *, timeout: float | None = None) -> None:
        """Clear a checkbox."""
        self._act(spec, "uncheck", lambda el, ms: el.uncheck(timeout=ms), timeout)

    def press(self, spec: LocatorSpec, key: str, *, timeout: float | None = None) -> None:
        """Press ``key`` (e.g. ``Enter``, ``Control+A``) on the element."""
        self._act(spec, "press", lambda el, ms: el.press(key, timeout=ms), timeout)

    def wait_for_element(
        self,
        spec: LocatorSpec,
        state: Literal["visible", "hidden", "attached", "detached"] = "visible",
        *,
        timeout: float | None = None,
    ) -> None:
        """Wait until the element is in ``state``."""
        if state in ("hidden", "detached"):  # fallbacks name alternatives of a present element
            spec_for_wait = LocatorSpec(**{**spec.__dict__, "fallbacks": ()})
        else:
            spec_for_wait = spec
        self._act(
            spec_for_wait,
            f"wait for {state}",
            lambda el, ms: el.wait_for(state=state, timeout=ms),
            timeout,
        )

    def wait_for_url(self, pattern: str, *, timeout: float | None = None) -> None:
        """Wait until the page's URL matches the glob ``pattern`` (``**/vorgang/*``)."""
        try:
            self.page.wait_for_url(pattern, timeout=self._ms(timeout))
        except PlaywrightTimeout:
            raise ConnectorTimeout(
                f"the URL did not match {pattern!r} within {self._ms(timeout) / 1000:g} s "
                f"(it is {self.page.url})"
            ) from None
        except PlaywrightError as exc:
            raise ConnectorError(f"wait for URL {pattern!r}: {first_line(exc)}") from None

    def wait_for_text(self, text: str, *, timeout: float | None = None) -> None:
        """Wait until ``text`` is visible somewhere on the page."""
        try:
            self.page.get_by_text(text).first.wait_for(state="visible", timeout=self._ms(timeout))
        except PlaywrightTimeout:
            raise ConnectorTimeout(
                f"the text {text!r} did not appear within {self._ms(timeout) / 1000:g} s"
            ) from None
        except PlaywrightError as exc:
            raise ConnectorError(f"wait for text {text!r}: {first_line(exc)}") from None

    def extract(
        self,
        spec: LocatorSpec,
        get: Literal["text", "texts", "value", "attribute", "table", "fields"] = "text",
        *,
        attribute: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Read from the page: inner text, all texts, an input's value, an attribute or a table.

        ``table`` returns the rows of an HTML table as dicts keyed by the header cells, e.g.
        ``[{"Nummer": "GA-2025-0001", "Status": "Neu"}]``. ``texts`` returns the texts of all
        matches at once, once the page has loaded (:meth:`count`): ``[]`` when none match.
        ``fields`` returns every labelled form field inside the element as label -> value,
        e.g. ``{"Vorname": "Anna", "Rechtsform": "GmbH"}`` (hidden tab panels included).
        """
        if get == "text":
            return self._act(
                spec, "read text of", lambda el, ms: el.inner_text(timeout=ms), timeout
            )
        if get == "value":
            return self._act(
                spec, "read value of", lambda el, ms: el.input_value(timeout=ms), timeout
            )
        if get == "attribute":
            name = attribute or ""
            return self._act(
                spec,
                f"read attribute {name!r} of",
                lambda el, ms: el.get_attribute(name, timeout=ms),
                timeout,
            )
        if get in ("table", "fields"):
            script, what = (
                (TABLE_JS, "read table") if get == "table" else (FIELDS_JS, "read fields")
            )
            return self._act(spec, what, lambda el, ms: el.evaluate(script, timeout=ms), timeout)
        loc, _ = self._matches_now(spec, timeout)
        try:
            return loc.all_inner_texts()
        except PlaywrightError as exc:
            raise ConnectorError(
                f"read texts of {spec.describe_all()}: {first_line(exc)}"
            ) from None

    def count(self, spec: LocatorSpec, *, timeout: float | None = None) -> int:
        """How many elements ``spec`` matches now: 0 is an answer, not a timeout.

        Waits only until the page (and its frames) have loaded their HTML, at most
        :data:`SETTLE_S` and never past ``timeout``; then counts without waiting for a match.
        With fallbacks: the count of the first alternative that matches, else 0.
        """
        return self._matches_now(spec, timeout)[1]

    def _matches_now(self, spec: LocatorSpec, timeout: float | None) -> tuple[PwLocator, int]:
        """The first alternative of ``spec`` that matches now and its count (else the primary
        and 0), once the page has settled (at most :data:`SETTLE_S`)."""
        return locators.matches_now(self.page, spec, min(self._ms(timeout), SETTLE_S * 1000))

    def screenshot(
        self, path: Path, *, full_page: bool = True, timeout: float | None = None
    ) -> Path:
        """Save a PNG screenshot of the page to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path), full_page=full_page, timeout=self._ms(timeout))
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot take a screenshot: {first_line(exc)}") from None
        return path

    def download(
        self,
        spec: LocatorSpec,
        directory: Path,
        *,
        save_as: str | None = None,
        timeout: float | None = None,
    ) -> Path:
        """Click the element, wait for the download it starts, and save it in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)

        def click_and_wait(loc: PwLocator, ms: float) -> Any:
            with self.page.expect_download(timeout=ms) as info:
                loc.click(timeout=ms)
            return info.value

        download = self._act(spec, "download via", click_and_wait, timeout)
        name = Path(save_as or download.suggested_filename or "download").name
        target = directory / name
        try:
            download.save_as(str(target))
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot save the download {name!r}: {first_line(exc)}") from None
        failure = download.failure()
        if failure:
            raise ConnectorError(f"the download {name!r} failed: {failure}")
        return target

    def upload(self, spec: LocatorSpec, files: list[Path], *, timeout: float | None = None) -> None:
        """Set the files of an ``<input type=file>``."""
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise ConnectorError(f"cannot upload {', '.join(missing)}: no such file")
        paths = [str(f) for f in files]
        self._act(spec, "upload to", lambda el, ms: el.set_input_files(paths, timeout=ms), timeout)
