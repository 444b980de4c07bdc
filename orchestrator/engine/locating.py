"""From the model's locators to the connectors' specs: templates rendered, blocks applied.

A ``within`` block (:class:`~orchestrator.model.steps.WithinStep`) gives every locator inside
it the block's frame (unless the locator names its own) and searches inside the block's
element; blocks nest, the innermost applied first::

    - within: {frame: "iframe[name=arbeitsbereich]"}
      do:
        - fill: {label: Bezugszeichen}      # -> frame='iframe[name=arbeitsbereich]' >> label=...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import LocatorSpec
from orchestrator.engine import expressions
from orchestrator.model import Locator
from orchestrator.model.steps import Scope


def to_spec(locator: Locator, scopes: Sequence[Scope], names: dict[str, Any]) -> LocatorSpec:
    """``locator`` inside ``scopes`` (outermost first), rendered against ``names``."""
    for block in reversed(scopes):  # the innermost block first
        locator = _in_scope(locator, block)

    def text(value: str | None) -> str | None:
        return None if value is None else expressions.render_text(value, names)

    def convert(loc: Locator) -> LocatorSpec:
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


def _nest(inner: Locator | None, outer: Locator) -> Locator:
    """``inner``'s chain of ``within`` elements, searched inside ``outer``."""
    if inner is None:
        return outer
    return inner.model_copy(update={"within": _nest(inner.within, outer)})


def _in_scope(locator: Locator, block: Scope) -> Locator:
    """``locator`` inside a ``within`` block: the block's frame unless it names its own, and
    searched inside the block's element (outermost first)."""
    changes: dict[str, Any] = {}
    if block.frame is not None and locator.frame is None:
        changes["frame"] = block.frame
    if block.element is not None:
        changes["within"] = _nest(locator.within, block.element)
    if locator.fallbacks and changes:
        changes["fallbacks"] = [_in_scope(f, block) for f in locator.fallbacks]
    return locator.model_copy(update=changes) if changes else locator
