"""Where a control is: :class:`ControlSpec`, and how a snapshot of a window is searched.

One vocabulary on every backend: by role and name (and automation id, ``within`` a parent)
through the accessibility tree, by OCR text on the screen's pixels, or by an offset from the
window or another control; fallbacks tried in order. Answers are strict: several matches are
an error listing them (role, name, position), never the first one taken::

    ControlSpec(role="button", name="Speichern",
                fallbacks=(ControlSpec(ocr="Speichern"),))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from connectors.desktop.atspi import Node
from connectors.desktop.roles import atspi_roles


@dataclass(frozen=True)
class ControlSpec:
    """A control's locator with its templates rendered (mirrors the step models' one)."""

    role: str | None = None
    name: str | None = None
    exact: bool = True
    automation_id: str | None = None
    ocr: str | None = None
    offset: tuple[int, int] | None = None
    origin: ControlSpec | None = None  # the offset's origin; None: the window
    within: ControlSpec | None = None
    nth: int | None = None
    fallbacks: tuple[ControlSpec, ...] = field(default_factory=tuple)

    STRATEGIES: ClassVar[tuple[str, ...]] = ("role", "automation_id", "name", "ocr", "offset")

    @property
    def strategy(self) -> str:
        for name in self.STRATEGIES:
            if getattr(self, name) is not None:
                return name
        raise ValueError("a control locator needs one of " + ", ".join(self.STRATEGIES))

    @property
    def by_tree(self) -> bool:
        """Whether it is found in the accessibility tree (not on pixels)."""
        return self.ocr is None and self.offset is None

    def describe(self) -> str:
        """E.g. ``role='button'[name='Speichern']`` or ``ocr='Speichern'``."""
        if self.ocr is not None:
            text = f"ocr={self.ocr!r}"
        elif self.offset is not None:
            base = self.origin.describe() if self.origin is not None else "window"
            text = f"offset={list(self.offset)} from {base}"
        else:
            parts = []
            if self.role is not None:
                parts.append(f"role={self.role!r}")
            if self.automation_id is not None:
                parts.append(f"automation_id={self.automation_id!r}")
            if self.name is not None:
                parts.append(f"name={self.name!r}" + ("" if self.exact else " (contains)"))
            text = parts[0] + "".join(f"[{p}]" for p in parts[1:])
        if self.nth is not None:
            text += f"[nth={self.nth}]"
        if self.within is not None:
            text = f"{self.within.describe()} >> {text}"
        return text

    def describe_all(self) -> str:
        if not self.fallbacks:
            return self.describe()
        return f"{self.describe()} (or {', '.join(f.describe() for f in self.fallbacks)})"


def matches(spec: ControlSpec, node: Node) -> bool:
    """Whether ``node`` fits the spec's role, name and automation id."""
    if spec.role is not None and node.atspi_role not in _roles(spec.role):
        return False
    if spec.automation_id is not None and node.automation_id != spec.automation_id:
        return False
    if spec.name is not None:
        if spec.exact:
            return node.name.strip() == spec.name.strip()
        return spec.name.casefold() in node.name.casefold()
    return True


def _roles(role: str) -> tuple[str, ...]:
    try:
        return atspi_roles(role)
    except KeyError:
        return (role,)  # a backend's own role name, e.g. 'push button'


def search(spec: ControlSpec, nodes: Sequence[Node]) -> list[Node]:
    """The nodes matching ``spec`` (``within`` already applied by the caller)."""
    found = [node for node in nodes if matches(spec, node)]
    if spec.nth is not None:
        return found[spec.nth : spec.nth + 1] if -len(found) <= spec.nth < len(found) else []
    return found


def candidates(spec: ControlSpec, nodes: Sequence[Node], limit: int = 5) -> list[Node]:
    """Controls that come close (same role, or same name), to name in an error."""
    near = [
        node
        for node in nodes
        if (spec.role is not None and node.atspi_role in _roles(spec.role))
        or (spec.name is not None and spec.name.casefold() in node.name.casefold())
    ]
    return near[:limit]


def subtree(node: Node) -> list[Node]:
    """``node`` and every node below it."""
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children))
    return out


def dump(root: Node) -> str:
    """The tree as indented text: role, name, automation id (the desktop's page HTML)."""
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        ident = f" #{node.automation_id}" if node.automation_id else ""
        lines.append(f"{'  ' * depth}{node.role} {node.name!r}{ident} [{node.atspi_role}]")
        for child in node.children:
            walk(child, depth + 1)

    walk(root, 0)
    return "\n".join(lines) + "\n"
