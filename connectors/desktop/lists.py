"""Lists and combo boxes: choosing an entry by its text, reading rows.

An entry is chosen through the accessibility interface (AT-SPI Selection; UI Automation's
SelectionItem on Windows) and the choice is read back: a combo box is named after what it
shows, a list's entry reports itself selected. An entry that is not offered is a business
refusal naming what is (another attempt gets the same answer)::

    choose(desktop, ControlSpec(role="combobox", name="Rasse"), "Dackel", timeout=5)
    rows(desktop, ControlSpec(role="table", name="Treffer"), timeout=5)   # [["HS-1", ...]]
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connectors.base import BusinessRefusal, ConnectorError
from connectors.desktop.atspi import Node
from connectors.desktop.locate import ControlSpec, subtree

if TYPE_CHECKING:
    from connectors.desktop.session import DesktopSession

POLL_S = 0.1


def choose(desktop: DesktopSession, spec: ControlSpec, option: str, *, timeout: float) -> None:
    """Choose the entry ``option`` of a combo box or list, and read the choice back."""
    deadline = time.monotonic() + timeout
    control, _ = desktop.find(spec, timeout=timeout)
    if not isinstance(control, Node):
        raise ConnectorError(f"{spec.describe()} is a place on the screen, not a list")
    entries = [n for n in subtree(control)[1:] if n.role in ("menuitem", "listitem")]
    chosen = [n for n in entries if n.name.strip() == option.strip()]
    if not chosen:
        offered = ", ".join(repr(n.name) for n in entries[:12]) or "none"
        raise BusinessRefusal(f"{spec.describe()} offers no entry {option!r}; it has {offered}")
    entry = chosen[0]
    # The combo box or list selects (GTK's combo box, UIA's Selection), or the entry's own
    # container does (a menu), or the entry is clicked through its action: the first that
    # shows the choice counts.
    holder = entry.parent or control
    tries = [
        lambda: desktop.bus.select_child(control, entries.index(entry), deadline),
        lambda: desktop.bus.select_child(holder, holder.children.index(entry), deadline),
    ]
    for attempt in tries:
        if attempt() and _settled(desktop, control, entry, deadline, 1.0):
            return
    if not _settled(desktop, control, entry, deadline, max(deadline - time.monotonic(), 0)):
        raise ConnectorError(f"{spec.describe()} did not take {option!r}")


def _settled(
    desktop: DesktopSession, control: Node, entry: Node, deadline: float, within: float
) -> bool:
    until = min(deadline, time.monotonic() + within)
    while not _shows_choice(desktop, control, entry, deadline):
        if time.monotonic() + POLL_S > until:
            return False
        time.sleep(POLL_S)
    return True


def _shows_choice(desktop: DesktopSession, control: Node, entry: Node, deadline: float) -> bool:
    """Whether the control shows ``entry`` as chosen: a combo box's text field holds it (or,
    without one, the combo box is named after it, as GTK and UIA name them); a list's entry
    reports itself selected."""
    if control.role == "combobox":
        texts = [child for child in control.children if child.role == "textbox"]
        if texts:
            return desktop.bus.text(texts[0], deadline).strip() == entry.name.strip()
        desktop.bus.refresh(control, deadline)
        if control.name.strip() == entry.name.strip():
            return True
    return "selected" in desktop.bus.states(entry, deadline)


def rows(desktop: DesktopSession, spec: ControlSpec, *, timeout: float) -> list[list[str]]:
    """A list's or table's rows, each the texts of its cells (headers left out)."""
    deadline = time.monotonic() + timeout
    control, _ = desktop.find(spec, timeout=timeout)
    if not isinstance(control, Node):
        raise ConnectorError(f"{spec.describe()} is a place on the screen, not a list")
    size = desktop.bus.table_size(control, deadline)
    cells = [n for n in control.children if n.atspi_role in ("table cell", "list item")]
    if size is None or size[1] <= 0:
        return [[desktop.bus.text(n, deadline)] for n in cells]
    width = size[1]
    texts = [desktop.bus.text(n, deadline) for n in cells]
    return [texts[i : i + width] for i in range(0, len(texts) - width + 1, width)]
