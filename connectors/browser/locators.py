"""From a :class:`~connectors.base.LocatorSpec` to the Playwright locator it names.

:func:`build` translates one spec (its frame, ``within``, strategy, ``has_text``, ``nth``);
:func:`locate` chooses among a spec's fallbacks for an action, :func:`matches_now` for a
query that must not wait for a match (``count``, ``texts``)::

    loc = build(page, LocatorSpec(role="button", name="Speichern", within=LocatorSpec(css="form")))
    # page.locator("form").get_by_role("button", name="Speichern")
"""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FrameLocator, Page
from playwright.sync_api import Locator as PwLocator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from connectors.base import ConnectorError, ElementNotFound, LocatorSpec
from connectors.browser.errors import first_line

Root = Page | FrameLocator | PwLocator


def build(root: Root, spec: LocatorSpec) -> PwLocator:
    """The locator for ``spec`` inside ``root`` (the page, a frame or an element)."""
    base = root
    if spec.frame is not None:
        base = base.frame_locator(spec.frame)
    if spec.within is not None:
        base = build(base, spec.within)
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


def locate(page: Page, spec: LocatorSpec, ms: float) -> PwLocator:
    """The locator for ``spec`` on ``page``, choosing among its fallbacks.

    Without fallbacks this costs nothing (the action itself waits). With fallbacks it
    waits once, up to ``ms`` milliseconds, until *any* alternative is attached, then takes the
    first alternative in the written order that matches: the primary gets the whole
    auto-wait and no fallback burns a timeout of its own.

    Raises:
        ElementNotFound: no alternative matched within the timeout.
    """
    primary = build(page, spec)
    if not spec.fallbacks:
        return primary
    alternatives = [primary, *(build(page, f) for f in spec.fallbacks)]
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
        raise ConnectorError(f"cannot look for {spec.describe_all()}: {first_line(exc)}") from None
    for alternative in alternatives:
        if alternative.count() > 0:
            return alternative
    return primary  # detached again meanwhile: let the action wait for the primary


def matches_now(page: Page, spec: LocatorSpec, settle_ms: float) -> tuple[PwLocator, int]:
    """The first alternative of ``spec`` that matches now and its count (else the primary
    and 0), once the page has settled (:func:`settle`, at most ``settle_ms``)."""
    settle(page, settle_ms)
    try:
        for alternative in (spec, *spec.fallbacks):
            loc = build(page, alternative)
            found = loc.count()
            if found:
                return loc, found
    except PlaywrightError as exc:
        raise ConnectorError(f"cannot count {spec.describe_all()}: {first_line(exc)}") from None
    return build(page, spec), 0


def settle(page: Page, ms: float) -> None:
    """Wait up to ``ms`` until the page and each frame have parsed their HTML (at once when
    they have); a page still loading after that is read as it is."""
    deadline = time.monotonic() + ms / 1000
    for frame in page.frames:
        left = (deadline - time.monotonic()) * 1000
        try:
            frame.wait_for_load_state("domcontentloaded", timeout=max(left, 1.0))
        except PlaywrightError:  # still loading, or detached meanwhile: count what is there
            continue
