"""Locators: how a step names the element it acts on.

Playwright's semantic locators come first (role + name, label, placeholder, text, test id);
CSS and XPath are allowed as a last resort. Exactly one strategy per locator::

    {role: button, name: Speichern}
    {label: Aktenzeichen, fallbacks: [{css: "input[name=az]"}]}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import LocatorSpec

AriaRole = Literal[
    "alert", "alertdialog", "application", "article", "banner", "blockquote", "button",
    "caption", "cell", "checkbox", "code", "columnheader", "combobox", "complementary",
    "contentinfo", "definition", "deletion", "dialog", "directory", "document", "emphasis",
    "feed", "figure", "form", "generic", "grid", "gridcell", "group", "heading", "img",
    "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee", "math",
    "meter", "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "navigation",
    "none", "note", "option", "paragraph", "presentation", "progressbar", "radio", "radiogroup",
    "region", "row", "rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator",
    "slider", "spinbutton", "status", "strong", "subscript", "superscript", "switch", "tab",
    "table", "tablist", "tabpanel", "term", "textbox", "time", "timer", "toolbar", "tooltip",
    "tree", "treegrid", "treeitem",
]  # fmt: skip

#: The strategies a locator can use, best first (the order Playwright's recorder prefers);
#: the connector's spec (:class:`connectors.base.LocatorSpec`) holds them and describes a
#: locator in messages (``role='button'[name='Speichern']``), rendered.
STRATEGIES = LocatorSpec.STRATEGIES


class Locator(BaseModel):
    """Finds one element on the page. Every string value is a template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test_id: str | None = Field(None, description="Value of the element's data-testid.")
    role: AriaRole | None = Field(None, description="ARIA role, e.g. button, link, textbox.")
    name: str | None = Field(None, description="Accessible name (only with `role`).")
    label: str | None = Field(None, description="Text of the form field's label.")
    placeholder: str | None = Field(None, description="Placeholder text of an input.")
    text: str | None = Field(None, description="Visible text of the element.")
    css: str | None = Field(None, description="CSS selector (last resort: fragile).")
    xpath: str | None = Field(None, description="XPath expression (last resort: fragile).")
    exact: bool | None = Field(
        None, description="Match name/label/placeholder/text exactly, not as a substring."
    )
    has_text: str | None = Field(None, description="Keep only matches containing this text.")
    within: Locator | None = Field(None, description="Search only inside this element.")
    frame: str | None = Field(None, description="CSS selector of an iframe to search inside.")
    nth: int | None = Field(
        None, ge=0, description="Take the n-th match (0-based) instead of requiring one."
    )
    fallbacks: list[Locator] = Field(
        default_factory=list, description="Locators tried in order when this one finds nothing."
    )

    @model_validator(mode="after")
    def _one_strategy(self) -> Locator:
        used = [s for s in STRATEGIES if getattr(self, s) is not None]
        if len(used) != 1:
            found = ", ".join(used) if used else "none"
            raise ValueError(
                f"a locator needs exactly one of {', '.join(STRATEGIES)} (found: {found})"
            )
        if self.name is not None and self.role is None:
            raise ValueError("`name` belongs to a `role` locator")
        return self
