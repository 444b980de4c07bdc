"""The browser connector: a Chromium session driven through Playwright.

This is the only module that imports Playwright. One :class:`BrowserSession` holds one
browser, one context and one page::

    with BrowserSession("/usr/lib/chromium/chromium", timeout_s=10) as browser:
        browser.goto("http://127.0.0.1:8765/civento/login")
        browser.fill(LocatorSpec(label="Benutzername"), "rpa-gewerbe")
        browser.click(LocatorSpec(role="button", name="Anmelden"))

Every action takes a :class:`~connectors.base.LocatorSpec`. Actions rely on Playwright's
auto-wait and strict mode, so a plain action costs one round trip to the browser; only
locators with fallbacks and failures cost more. Playwright's errors become the connector
errors of :mod:`connectors.base`, with one readable line instead of Playwright's call log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from playwright.sync_api import (
    Browser,
    BrowserContext,
    FrameLocator,
    Page,
    Playwright,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator as PwLocator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from connectors.base import (
    AmbiguousLocator,
    Connector,
    ConnectorError,
    ConnectorTimeout,
    ElementNotFound,
    LocatorSpec,
    NavigationError,
)
from connectors.browser.scripts import CANDIDATES_JS, FIELDS_JS, TABLE_JS

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
MAX_CANDIDATES = 5
#: Seconds a query (count, texts) waits at most for the page to finish parsing its HTML.
SETTLE_S = 2.0
T = TypeVar("T")
Root = Page | FrameLocator | PwLocator


def chromium_version(executable: Path | str) -> str:
    """Start Chromium headless once and return its version, e.g. ``"138.0.7204.92"``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            return browser.version
        finally:
            browser.close()


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _last_call_log_line(exc: BaseException) -> str | None:
    """The last line of Playwright's call log, e.g. ``element is not enabled``."""
    message = getattr(exc, "message", None) or str(exc)
    _, _, log = message.partition("Call log:")
    lines = [line.strip().lstrip("-").strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else None


class BrowserSession(Connector):
    """One Chromium browser with one context and one page.

    Args:
        executable: Path of the Chromium binary (Debian: ``/usr/lib/chromium/chromium``).
        headless: Run without a window; headed needs a display (see :mod:`connectors.display`).
        timeout_s: Default timeout of every action and wait, in seconds.
        trace: Record a Playwright trace (screenshots and DOM snapshots) from the start;
            :meth:`stop_trace` saves it.
        locale: Browser language and formats (``Accept-Language``, dates, numbers).
        timezone: Time zone the pages see.
    """

    name = "browser"

    def __init__(
        self,
        executable: Path | str,
        *,
        headless: bool = True,
        timeout_s: float = 30.0,
        trace: bool = False,
        locale: str = "de-DE",
        timezone: str = "Europe/Berlin",
    ) -> None:
        self.executable = Path(executable)
        self.locale = locale
        self.timezone = timezone
        self.headless = headless
        self.timeout_s = timeout_s
        self.trace = trace
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._tracing = False

    # ----------------------------------------------------------------- lifecycle

    def open(self) -> None:
        """Launch Chromium, create the context (downloads accepted) and the page."""
        if not self.executable.exists():
            raise ConnectorError(f"Chromium not found at {self.executable}")
        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self.executable),
                headless=self.headless,
                args=list(CHROMIUM_ARGS),
            )
            self._context = self._browser.new_context(
                accept_downloads=True, locale=self.locale, timezone_id=self.timezone
            )
            self._context.set_default_timeout(self.timeout_s * 1000)
            self._context.set_default_navigation_timeout(self.timeout_s * 1000)
            if self.trace:
                self._context.tracing.start(screenshots=True, snapshots=True, sources=False)
                self._tracing = True
            self._page = self._context.new_page()
        except PlaywrightError as exc:
            self.close()
            raise ConnectorError(
                f"Chromium at {self.executable} did not start: {_first_line(exc)}"
            ) from None

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
            raise ConnectorError(f"cannot save the trace: {_first_line(exc)}") from None
        return path if path.exists() else None

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
        self._tracing = False

    @property
    def page(self) -> Page:
        """The Playwright page (for this module and its tests; engines use the actions)."""
        if self._page is None:
            raise ConnectorError("the browser is not open")
        return self._page

    @property
    def is_open(self) -> bool:
        """Whether the browser has been opened and not closed since."""
        return self._page is not None

    # ----------------------------------------------------------------- locators

    def _build(self, spec: LocatorSpec, root: Root | None = None) -> PwLocator:
        base: Root = root if root is not None else self.page
        if spec.frame is not None:
            base = base.frame_locator(spec.frame)
        if spec.within is not None:
            base = self._build(spec.within, base)
        strategy = spec.strategy
        exact = spec.exact
        if strategy == "role":
            loc = base.get_by_role(spec.role, name=spec.name, exact=exact)  # type: ignore[arg-type]
        elif strategy == "label":
            loc = base.get_by_label(spec.label or "", exact=exact)
        elif strategy == "placeholder":
            loc = base.get_by_placeholder(spec.placeholder or "", exact=exact)
        elif strategy == "text":
            loc = base.get_by_text(spec.text or "", exact=exact)
        elif strategy == "test_id":
            loc = base.get_by_test_id(spec.test_id or "")
        elif strategy == "css":
            loc = base.locator(spec.css or "")
        else:
            loc = base.locator(f"xpath={spec.xpath}")
        if spec.has_text is not None:
            loc = loc.filter(has_text=spec.has_text)
        if spec.nth is not None:
            loc = loc.nth(spec.nth)
        return loc

    def locate(self, spec: LocatorSpec, timeout: float | None = None) -> PwLocator:
        """The Playwright locator for ``spec``, choosing among its fallbacks.

        Without fallbacks this costs nothing (the action itself waits). With fallbacks it
        waits once, up to the timeout, until *any* alternative is attached, then takes the
        first alternative in the written order that matches: the primary gets the whole
        auto-wait and no fallback burns a timeout of its own.

        Raises:
            ElementNotFound: no alternative matched within the timeout.
        """
        primary = self._build(spec)
        if not spec.fallbacks:
            return primary
        alternatives = [primary, *(self._build(f) for f in spec.fallbacks)]
        ms = self._ms(timeout)
        combined = primary
        for alternative in alternatives[1:]:
            combined = combined.or_(alternative)
        try:
            combined.first.wait_for(state="attached", timeout=ms)
        except PlaywrightTimeout:
            raise ElementNotFound(
                f"no element matches {spec.describe_all()} (waited {ms / 1000:g} s)"
            ) from None
        except PlaywrightError as exc:
            raise ConnectorError(
                f"cannot look for {spec.describe_all()}: {_first_line(exc)}"
            ) from None
        for alternative in alternatives:
            if alternative.count() > 0:
                return alternative
        return primary  # detached again meanwhile: let the action wait for the primary

    def candidates(self, loc: PwLocator) -> tuple[int, list[str]]:
        """How many elements ``loc`` matches and a description of up to five of them."""
        count = loc.count()
        described: list[str] = loc.evaluate_all(CANDIDATES_JS, MAX_CANDIDATES)
        return count, described

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
            raise self._timeout_error(spec, loc, what, exc) from None
        except PlaywrightError as exc:
            raise self._error(spec, loc, what, exc) from None

    def _error(
        self, spec: LocatorSpec, loc: PwLocator, what: str, exc: PlaywrightError
    ) -> ConnectorError:
        if "strict mode violation" in (exc.message or ""):
            try:
                count, described = self.candidates(loc)
            except PlaywrightError:
                count, described = 2, []
            return AmbiguousLocator(spec.describe(), count, described)
        return ConnectorError(f"{what} {spec.describe_all()}: {_first_line(exc)}")

    def _timeout_error(
        self, spec: LocatorSpec, loc: PwLocator, what: str, exc: PlaywrightError
    ) -> ConnectorError:
        try:
            found = loc.count()
        except PlaywrightError:
            found = -1
        if found == 0:
            return ElementNotFound(
                f"{what}: no element matches {spec.describe_all()} ({_first_line(exc)})"
            )
        reason = _last_call_log_line(exc)
        detail = f"; last state: {reason}" if reason else ""
        return ConnectorTimeout(f"{what} {spec.describe()}: {_first_line(exc)}{detail}")

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
            raise ConnectorTimeout(f"opening {url}: {_first_line(exc)}") from None
        except PlaywrightError as exc:
            raise NavigationError(f"cannot open {url}: {_first_line(exc)}") from None
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
            raise ConnectorError(f"wait for URL {pattern!r}: {_first_line(exc)}") from None

    def wait_for_text(self, text: str, *, timeout: float | None = None) -> None:
        """Wait until ``text`` is visible somewhere on the page."""
        try:
            self.page.get_by_text(text).first.wait_for(state="visible", timeout=self._ms(timeout))
        except PlaywrightTimeout:
            raise ConnectorTimeout(
                f"the text {text!r} did not appear within {self._ms(timeout) / 1000:g} s"
            ) from None
        except PlaywrightError as exc:
            raise ConnectorError(f"wait for text {text!r}: {_first_line(exc)}") from None

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
                f"read texts of {spec.describe_all()}: {_first_line(exc)}"
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
        and 0), once the page has settled."""
        self._settle(min(self._ms(timeout), SETTLE_S * 1000))
        alternatives = [spec, *spec.fallbacks]
        try:
            for alternative in alternatives:
                loc = self._build(alternative)
                found = loc.count()
                if found:
                    return loc, found
        except PlaywrightError as exc:
            raise ConnectorError(
                f"cannot count {spec.describe_all()}: {_first_line(exc)}"
            ) from None
        return self._build(spec), 0

    def _settle(self, ms: float) -> None:
        """Wait up to ``ms`` until the page and each frame have parsed their HTML (at once when
        they have); a page still loading after that is read as it is."""
        deadline = time.monotonic() + ms / 1000
        for frame in self.page.frames:
            left = (deadline - time.monotonic()) * 1000
            try:
                frame.wait_for_load_state("domcontentloaded", timeout=max(left, 1.0))
            except PlaywrightError:  # still loading, or detached meanwhile: count what is there
                continue

    def screenshot(
        self, path: Path, *, full_page: bool = True, timeout: float | None = None
    ) -> Path:
        """Save a PNG screenshot of the page to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path), full_page=full_page, timeout=self._ms(timeout))
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot take a screenshot: {_first_line(exc)}") from None
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
            raise ConnectorError(f"cannot save the download {name!r}: {_first_line(exc)}") from None
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

    def html(self) -> str:
        """The current page's HTML, followed by that of each frame in it.

        A Fachverfahren that works in frames shows its messages inside them, where the top
        page's HTML does not reach: each frame follows as a comment naming it, then its HTML.
        """
        try:
            parts = [self.page.content()]
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot read the page: {_first_line(exc)}") from None
        for frame in self.page.frames[1:]:
            label = f"frame name={frame.name!r} url={frame.url!r}".replace("--", "- -")
            try:
                parts.append(f"\n<!-- {label} -->\n{frame.content()}")
            except PlaywrightError as exc:  # detached meanwhile: the rest still helps
                parts.append(f"\n<!-- {label}: not readable ({_first_line(exc)}) -->\n")
        return "".join(parts)

    @property
    def url(self) -> str:
        """The current page's URL."""
        return self.page.url

    def cookie_values(self) -> list[str]:
        """The values of all cookies the browser context holds (session cookies, CSRF cookies).

        For redaction: the engine masks them in the run's artifacts. Not open: no cookies.
        """
        if self._context is None:
            return []
        try:
            return [cookie["value"] for cookie in self._context.cookies() if cookie.get("value")]
        except PlaywrightError as exc:
            raise ConnectorError(f"cannot read the cookies: {_first_line(exc)}") from None
