"""Rules on how steps find elements: by position (``nth``), by long or absolute XPath, or by
ids the web framework generates anew on every page load."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.lint.context import BotFiles
from orchestrator.lint.rule import Hit, Rule, flow_steps
from orchestrator.model import YamlDocument
from orchestrator.model.locators import STRATEGIES, Locator
from orchestrator.model.validation import child_keys
from orchestrator.model.yaml_loader import Loc

#: XPath with more location steps than this is tied to the page's layout.
MAX_XPATH_STEPS = 4
#: Step keys holding data for templates or hooks, never locators.
_DATA_KEYS = frozenset({"with", "set", "output", "items", "value", "files"})
_LOCATOR_KEYS = frozenset(info.alias or name for name, info in Locator.model_fields.items())
_POSITIONAL_CSS = re.compile(r":nth-(?:last-)?(?:child|of-type)\(|:eq\(|>>\s*nth=")
_XPATH_INDEX = re.compile(r"\[\s*\d+\s*\]|position\(\)")
_CSS_ID = re.compile(r"#((?:\\.|[\w\-])+)|\[\s*id\s*=\s*['\"]?([^'\"\]]+)")
_XPATH_ID = re.compile(r"@id\s*=\s*['\"]([^'\"]+)['\"]")
#: Ids web frameworks number or hash on each page load, with who makes them.
GENERATED_IDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^ext-(?:gen|comp|element)-?\d+$"), "ExtJS"),
    (re.compile(r"(?:^|:)j_id(?:t)?\d+"), "JSF"),
    (re.compile(r"^ember\d+$"), "Ember"),
    (re.compile(r"^:r[0-9a-z]+:$|^«r[0-9a-z]+»$"), "React"),
    (re.compile(r"^(?:gwt-uid|x-auto|ui-id|mui|react-select)-\d+"), "a widget library"),
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
     "a UUID"),
    (re.compile(r"(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])(?<![0-9a-z])[0-9a-f]{8,}(?![0-9a-z])"),
     "a hash"),
    (re.compile(r"\d{5,}"), "a long number"),
)  # fmt: skip


@dataclass(frozen=True)
class Selector:
    """A CSS or XPath text inside a step, where it is and of which kind."""

    loc: Loc
    kind: str  # "css" or "xpath"
    text: str


def locators(doc: YamlDocument, loc: Loc, value: Any) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every locator mapping inside ``value`` (a step's option), nested ones included."""
    if isinstance(value, dict):
        keys = set(value)
        if keys & set(STRATEGIES) and keys <= _LOCATOR_KEYS:
            yield loc, value
        for key, item in value.items():
            yield from locators(doc, (*loc, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from locators(doc, (*loc, index), item)


def step_locators(bot: BotFiles) -> Iterator[tuple[YamlDocument, Loc, dict[str, Any]]]:
    """Every locator of every step (fallbacks, ``within`` and ``extract`` fields included)."""
    for doc, visit in flow_steps(bot):
        skipped = _DATA_KEYS | {visit.written(key) for key in child_keys(visit.kind)}
        for key, value in visit.step.items():
            if key not in skipped:
                for loc, locator in locators(doc, (*visit.loc, key), value):
                    yield doc, loc, locator


def selectors(bot: BotFiles) -> Iterator[tuple[YamlDocument, Selector]]:
    """Every CSS and XPath text of the bot's steps: locators' ``css``/``xpath``, and the
    ``frame`` selectors of locators and ``within`` blocks."""
    for doc, visit in flow_steps(bot):
        skipped = _DATA_KEYS | {visit.written(key) for key in child_keys(visit.kind)}
        for key, value in visit.step.items():
            if key not in skipped:
                yield from ((doc, s) for s in _selectors_in((*visit.loc, key), value))


def _selectors_in(loc: Loc, value: Any) -> Iterator[Selector]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("css", "frame") and isinstance(item, str):
                yield Selector((*loc, key), "css", item)
            elif key == "xpath" and isinstance(item, str):
                yield Selector((*loc, key), "xpath", item)
            else:
                yield from _selectors_in((*loc, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _selectors_in((*loc, index), item)


def _nth_locators(bot: BotFiles) -> Iterator[Hit]:
    for doc, loc, locator in step_locators(bot):
        if "nth" in locator:
            yield Hit(
                doc, (*loc, "nth"),
                f"nth: {locator['nth']} takes a match by its position, which changes when the "
                "page changes; name the element (role and name, label, test_id) or narrow the "
                "matches with has_text or within",
                at_key=True,
            )  # fmt: skip
    for doc, selector in selectors(bot):
        if selector.kind == "css" and _POSITIONAL_CSS.search(selector.text):
            yield Hit(
                doc, selector.loc,
                "the CSS selector picks an element by its position (:nth-child, :nth-of-type, "
                "nth=); name the element by what it is (role and name, label, test_id)",
            )  # fmt: skip


def xpath_problem(xpath: str) -> str | None:
    """Why an XPath is tied to the page's layout, or None. Examples: ``/html/body/div`` is
    absolute, ``//tr[3]/td`` has an index, ``//div/div/div/span/a`` has too many steps."""
    text = xpath.strip().lstrip("(")
    if text.startswith("/") and not text.startswith("//"):
        return "it is absolute (from /html down)"
    if _XPATH_INDEX.search(xpath):
        return "it picks elements by position ([3], position())"
    steps = [s for s in re.split(r"/+", _without_predicates(xpath)) if s.strip(" .()")]
    if len(steps) > MAX_XPATH_STEPS:
        return f"it has {len(steps)} steps (more than {MAX_XPATH_STEPS})"
    return None


def _without_predicates(xpath: str) -> str:
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "''", xpath)
    while (stripped := re.sub(r"\[[^\[\]]*\]", "", text)) != text:
        text = stripped
    return text


def _fragile_xpaths(bot: BotFiles) -> Iterator[Hit]:
    for doc, selector in selectors(bot):
        if selector.kind == "xpath" and (why := xpath_problem(selector.text)):
            yield Hit(
                doc, selector.loc,
                f"this XPath breaks when the page's layout changes: {why}; name the element "
                "(role and name, label, test_id) or use a short XPath anchored on a stable "
                "attribute or text",
            )  # fmt: skip


def generated_id(selector: Selector) -> tuple[str, str] | None:
    """``(id, maker)`` when the selector names an element by a generated id, else None.

    Example: ``Selector((), "css", "#ext-gen123 input")`` -> ``("ext-gen123", "ExtJS")``.
    """
    pattern = _CSS_ID if selector.kind == "css" else _XPATH_ID
    for match in pattern.finditer(selector.text):
        ident = next(g for g in match.groups() if g is not None)
        ident = re.sub(r"\\(.)", r"\1", ident).strip()
        for generated, maker in GENERATED_IDS:
            if generated.search(ident):
                return ident, maker
    return None


def _generated_ids(bot: BotFiles) -> Iterator[Hit]:
    for doc, selector in selectors(bot):
        if (found := generated_id(selector)) is not None:
            ident, maker = found
            yield Hit(
                doc, selector.loc,
                f"the id {ident!r} looks generated ({maker}): it changes between page loads "
                "or versions; name the element by role and name, label or test_id",
            )  # fmt: skip


RULES = (
    Rule(
        "nth-locator",
        "A locator picks an element by its position among several matches.",
        "nth (and CSS :nth-child, :nth-of-type) take the n-th match: when a row, a button or a "
        "hint is added to the page, the bot acts on the wrong element without noticing. Name "
        "the element by what it is (role and name, label, test_id), or narrow the matches with "
        "has_text or within.",
        "warning",
        _nth_locators,
    ),
    Rule(
        "fragile-xpath",
        "An XPath is absolute, uses positions or has many steps.",
        f"An XPath from /html down, with indexes like [3], or with more than {MAX_XPATH_STEPS} "
        "steps describes the page's layout, not the element: any change to the layout breaks "
        "it. Prefer role and name, label or test_id; if XPath it must be, anchor a short one on "
        "a stable attribute or text.",
        "warning",
        _fragile_xpaths,
    ),
    Rule(
        "generated-id",
        "A selector names an element by an id the web framework generates.",
        "Ids such as ext-gen123 (ExtJS), j_idt45 (JSF), ember123, :r1: (React), gwt-uid-7, "
        "or hashes and UUIDs are made anew on page loads or releases: the selector works "
        "today and fails tomorrow. Name the element by role and name, label or test_id.",
        "warning",
        _generated_ids,
    ),
)
