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
    holder = entry.parent or control
    index = holder.children.index(entry)
    if not desktop.bus.select_child(holder, index, deadline):
        raise ConnectorError(f"{spec.describe()} does not let its entries be chosen")
    while not _shows_choice(desktop, control, entry, deadline):
        if time.monotonic() + POLL_S > deadline:
            raise ConnectorError(f"{spec.describe()} did not take {option!r}")
        time.sleep(POLL_S)


def _shows_choice(desktop: DesktopSession, control: Node, entry: Node, deadline: float) -> bool:
    if control.role == "combobox":  # a combo box is named after its choice
        desktop.bus.refresh(control, deadline)
        return control.name.strip() == entry.name.strip()
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
