"""What shows a desktop's state at a failure: the display, the window, its tree.

The display's screenshot, the current window's screenshot and the window's accessibility
tree as text (the desktop's page HTML). Best effort: what cannot be captured (no window
chosen, an application that does not answer) is left out, and the run's log names it::

    files = capture(desktop, run_dir, "failure")
    # {"screenshot": failure.png, "window": failure-window.png, "tree": failure-tree.txt}
"""

from __future__ import annotations

import time
from contextlib import suppress
from pathlib import Path
from typing import Protocol

from connectors.desktop import xinput
from connectors.desktop.atspi import Node


class Desktop(Protocol):
    """What :func:`capture` needs of a desktop session (the session imports this module)."""

    display: str | None
    window: Node | None

    @property
    def is_open(self) -> bool: ...

    def extents(self, node: Node, deadline: float) -> tuple[int, int, int, int]: ...

    def tree_text(self, *, timeout: float) -> str: ...


#: Seconds each piece of evidence may take (a hung application must not hold the run).
EVIDENCE_S = 5.0


def capture(desktop: Desktop, directory: Path, stem: str) -> dict[str, Path]:
    """The evidence files by kind (``screenshot``, ``window``, ``tree``); never raises."""
    files: dict[str, Path] = {}
    if not desktop.display:
        return files
    with suppress(Exception):
        files["screenshot"] = xinput.screenshot(desktop.display, directory / f"{stem}.png")
    if desktop.window is None or not desktop.is_open:
        return files
    with suppress(Exception):
        box = desktop.extents(desktop.window, time.monotonic() + EVIDENCE_S)
        target = directory / f"{stem}-window.png"
        files["window"] = xinput.screenshot(desktop.display, target, box)
    with suppress(Exception):
        tree = directory / f"{stem}-tree.txt"
        tree.write_text(desktop.tree_text(timeout=EVIDENCE_S), encoding="utf-8")
        files["tree"] = tree
    return files
