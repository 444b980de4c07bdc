"""The one small interface every connector implements, and the errors connectors raise.

A connector is a session with one kind of target system (a browser, a desktop, a mailbox).
It is opened, used and closed; as a context manager it closes itself::

    with BrowserSession(chromium_path, headless=True) as browser:
        browser.goto("http://127.0.0.1:8765/civento/login")

Connectors know nothing of bots, runs or the orchestrator (dependencies flow
``cli -> orchestrator -> connectors``); the engine translates these exceptions into its own::

    ConnectorError                 any failure talking to the target system
    ├── ElementNotFound            no element matches a locator (nor any of its fallbacks)
    ├── AmbiguousLocator           a locator matches several elements (names the candidates)
    ├── ConnectorTimeout           the element exists but the action did not finish in time
    ├── NavigationError            a page could not be opened (DNS, refused, HTTP layer)
    └── BusinessRefusal            the target system refused the case (a business failure:
                                   another attempt gets the same answer)

Connector *actions* (``use: civento.vorgang_lesen``) get an :class:`ActionContext`: the
sessions they work on, the bot's target URLs, the time left, a per-run state of their
connector (e.g. the account to log in again with).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self


class ConnectorError(Exception):
    """A connector could not do what it was asked; the message says what and where."""


class ElementNotFound(ConnectorError):
    """No element matches the locator (nor any of its fallbacks) within the timeout."""


class AmbiguousLocator(ConnectorError):
    """The locator matches several elements; ``candidates`` describes up to five of them.

    Example message::

        role='button' matches 3 elements, expected one: <button id="save"> button "Speichern";
        <button> button "Speichern und weiter"; ... Make the locator more specific (exact: true,
        within, has_text) or pick one with nth.
    """

    def __init__(self, locator: str, count: int, candidates: list[str]) -> None:
        self.locator = locator
        self.count = count
        self.candidates = candidates
        listed = "; ".join(candidates)
        more = f"; and {count - len(candidates)} more" if count > len(candidates) else ""
        super().__init__(
            f"{locator} matches {count} elements, expected one: {listed}{more}. Make the "
            "locator more specific (exact: true, within, has_text) or pick one with nth."
        )


class ConnectorTimeout(ConnectorError):
    """An action or wait did not finish within its timeout."""


class NavigationError(ConnectorError):
    """A page could not be opened."""


class BusinessRefusal(ConnectorError):
    """The target system refused the case (e.g. the register rejects a field): another
    attempt gets the same answer, so the run (or work item) fails as a *business* failure."""


@dataclass(frozen=True)
class LocatorSpec:
    """Where an element is, with every template already rendered.

    Mirrors ``orchestrator.model.Locator`` field by field (exactly one strategy of
    ``test_id``, ``role``, ``label``, ``placeholder``, ``text``, ``css``, ``xpath``), so
    connectors need not import the orchestrator. Example::

        LocatorSpec(role="button", name="Speichern", fallbacks=(LocatorSpec(css="#save"),))
    """

    test_id: str | None = None
    role: str | None = None
    name: str | None = None
    label: str | None = None
    placeholder: str | None = None
    text: str | None = None
    css: str | None = None
    xpath: str | None = None
    exact: bool | None = None
    has_text: str | None = None
    within: LocatorSpec | None = None
    frame: str | None = None
    nth: int | None = None
    fallbacks: tuple[LocatorSpec, ...] = field(default_factory=tuple)

    #: The strategies, best first (the order Playwright's recorder prefers).
    STRATEGIES: ClassVar[tuple[str, ...]] = (
        "test_id", "role", "label", "placeholder", "text", "css", "xpath",
    )  # fmt: skip

    @property
    def strategy(self) -> str:
        """The strategy used, e.g. ``role``."""
        for name in self.STRATEGIES:
            if getattr(self, name) is not None:
                return name
        raise ValueError("a locator needs one of " + ", ".join(self.STRATEGIES))

    def describe(self) -> str:
        """A short human description, e.g. ``role='button'[name='Speichern']``."""
        text = f"{self.strategy}={getattr(self, self.strategy)!r}"
        if self.name is not None:
            text += f"[name={self.name!r}]"
        if self.has_text is not None:
            text += f"[has_text={self.has_text!r}]"
        if self.nth is not None:
            text += f"[nth={self.nth}]"
        if self.within is not None:
            text = f"{self.within.describe()} >> {text}"
        if self.frame is not None:
            text = f"frame={self.frame!r} >> {text}"
        return text

    def describe_all(self) -> str:
        """This locator and its fallbacks, e.g. ``label='Name' (or css='#name')``."""
        if not self.fallbacks:
            return self.describe()
        rest = ", ".join(f.describe() for f in self.fallbacks)
        return f"{self.describe()} (or {rest})"


class Connector(ABC):
    """A session with one target system: open it, use it, close it.

    Subclasses set ``name`` and implement :meth:`open` and :meth:`close`; ``close`` must be
    safe to call twice and after a failed ``open``. The engine meets every session through
    this interface alone, the browser's included:

    * :meth:`capture_evidence` when a failure chain begins and when a failed run ends;
    * :meth:`secrets_learnt` before evidence is written and before the session closes (the
      credentials it learnt, masked in every file of the run);
    * :meth:`fork` for each parallel worker (``for_each_item`` with ``parallel``);
    * :meth:`finish` when the run ends (files the session leaves, e.g. a trace);
    * :meth:`close`, always, in the thread that opened the session.
    """

    name: str = "connector"
    #: The kinds :meth:`capture_evidence` writes when all goes well; the run's log names
    #: each one that could not be captured.
    evidence_kinds: tuple[str, ...] = ()

    def capture_evidence(self, directory: Path, stem: str) -> dict[str, Path]:
        """Save what shows the session's state now (a screenshot, the page, the URL) as
        ``directory/stem.*``; returns kind -> file (kinds: ``screenshot``, ``html``, ``url``,
        ``log``). Never raises; the default captures nothing. The engine scrubs the files of
        every secret it knows before they enter the run directory."""
        return {}

    def secrets_learnt(self) -> set[str]:
        """Credentials the session learnt during the run (session cookies, tokens), to be
        masked in the run's files and log. Never raises; the default learnt none."""
        return set()

    def fork(self) -> Connector | None:
        """A session for a parallel worker, not opened yet: the worker opens it and closes it
        in its own thread. ``self`` when one session serves every worker (it is safe across
        threads; the run closes it); None (the default) when workers cannot use it."""
        return None

    def finish(self, scratch: Path, *, failed: bool) -> dict[str, Path]:
        """Files the session leaves when the run ends (kind -> file, e.g. ``trace``), written
        into ``scratch``, outside the run directory: the engine keeps scrubbed copies of them
        under the same names. Called once, before :meth:`close`; never raises; the default
        leaves none."""
        return {}

    @abstractmethod
    def open(self) -> None:
        """Start the session (launch the program, log in, connect)."""

    @abstractmethod
    def close(self) -> None:
        """End the session and free its resources; never raises for an already closed one."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class ActionContext:
    """What a connector action gets besides its arguments.

    Args:
        connector: The action's connector name (``civento``).
        sessions: The run's sessions; ``sessions.get("browser")`` opens the browser if needed.
        targets: The bot's target URLs by name (``{"civento": "http://..."}``).
        state: This connector's state for the run (kept between its actions).
        log: The run's logger (structlog); messages are redacted.
        call_timeout: Seconds one call into a session may take (the step's timeout).
        deadline: ``time.monotonic()`` value when the run's (or block's) time is up.
        redact: Scrubs secrets from a text (for messages built from page content).
    """

    connector: str
    sessions: Any
    targets: dict[str, str]
    state: dict[str, Any]
    log: Any
    call_timeout: float
    deadline: float
    redact: Callable[[str], str] = field(default=lambda text: text)

    def session(self, name: str) -> Any:
        """The run's session of connector ``name`` (opened on first use)."""
        return self.sessions.get(name)

    def timeout(self) -> float:
        """Seconds the next call into a session may take."""
        return max(min(self.call_timeout, self.deadline - time.monotonic()), 0.001)

    def target(self, name: str | None = None) -> str:
        """The URL of target ``name`` (default: the connector's name), without a final '/'."""
        key = name or self.connector
        url = self.targets.get(key)
        if not url:
            raise ConnectorError(
                f"{self.connector}: the bot declares no target {key!r} (add it to targets:)"
            )
        return str(url).rstrip("/")
