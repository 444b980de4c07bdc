"""Pointer, keyboard and pixels of one X display: xdotool (XTEST) and mss (XGetImage).

Every function takes the display explicitly and a deadline; none touches ``os.environ``::

    click(":99", 120, 340, deadline=time.monotonic() + 5)
    type_text(":99", "Größe", deadline=...)      # umlauts and ß through xdotool's keymap
    screenshot(":99", Path("display.png"))
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from connectors.base import ConnectorError, ConnectorTimeout


def xdotool(display: str, *args: str, deadline: float) -> str:
    """Run xdotool on ``display``; its stdout. Never prints what it typed on failure."""
    env = {**os.environ, "DISPLAY": display}
    try:
        done = subprocess.run(
            ["xdotool", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=max(deadline - time.monotonic(), 0.05),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConnectorTimeout(f"xdotool {args[0]} did not finish in time on {display}") from None
    except FileNotFoundError:
        raise ConnectorError("xdotool is not installed; fix: apt-get install -y xdotool") from None
    if done.returncode != 0 and args[0] not in ("search",):
        raise ConnectorError(f"xdotool {args[0]} failed on {display} (exit {done.returncode})")
    return done.stdout


def click(
    display: str, x: int, y: int, *, button: str = "left", double: bool = False, deadline: float
) -> None:
    number = {"left": "1", "middle": "2", "right": "3"}[button]
    repeat = ["--repeat", "2", "--delay", "80"] if double else []
    # No --sync: it waits for a pointer motion that never comes when the pointer is there
    # already (a second click on the same button); XTEST keeps the move before the click.
    xdotool(display, "mousemove", str(x), str(y), "click", *repeat, number, deadline=deadline)


def type_text(display: str, text: str, *, deadline: float) -> None:
    """Type ``text`` into the focused control, key by key."""
    xdotool(display, "type", "--delay", "12", "--", text, deadline=deadline)


def hotkey(display: str, keys: str, *, deadline: float) -> None:
    """Press a key combination, e.g. ``ctrl+s``, ``alt+F4``, ``Return``."""
    xdotool(display, "key", "--clearmodifiers", *keys.split(), deadline=deadline)


def activate(display: str, title: str, *, deadline: float) -> bool:
    """Bring the window titled exactly ``title`` to the front; False if X has none."""
    import re

    found = xdotool(display, "search", "--name", f"^{re.escape(title)}$", deadline=deadline)
    ids = found.split()
    if not ids:
        return False
    xdotool(display, "windowactivate", "--sync", ids[-1], deadline=deadline)
    return True


def screenshot(display: str, target: Path, box: tuple[int, int, int, int] | None = None) -> Path:
    """Save the display (or the box x, y, width, height of it) as a PNG."""
    import mss
    import mss.tools

    target.parent.mkdir(parents=True, exist_ok=True)
    with mss.mss(display=display) as grabber:
        monitor = grabber.monitors[0]
        if box is not None:  # the part of it on the screen (a window may reach beyond)
            x, y, width, height = box
            left, top = min(max(x, 0), monitor["width"] - 1), min(max(y, 0), monitor["height"] - 1)
            monitor = {
                "left": left,
                "top": top,
                "width": max(min(x + width, monitor["width"]) - left, 1),
                "height": max(min(y + height, monitor["height"]) - top, 1),
            }
        shot = grabber.grab(monitor)
        mss.tools.to_png(shot.rgb, shot.size, output=str(target))
    return target


def is_black(target: Path) -> bool:
    """Whether a screenshot is all black (a locked or minimised remote session)."""
    from PIL import Image

    with Image.open(target) as image:
        extrema = image.convert("L").getextrema()
    return bool(extrema[1] == 0)


def x_windows(
    display: str, *, deadline: float
) -> list[tuple[int, str, int, tuple[int, int, int, int]]]:
    """(window id, title, process id, box) of every visible top-level window with a title,
    as X knows them: what a robot sees of an application without an accessibility tree."""
    ids = xdotool(display, "search", "--onlyvisible", "--name", ".", deadline=deadline).split()
    found = []
    for wid in ids:
        try:
            out = xdotool(
                display, "getwindowname", wid, "getwindowpid", wid, "getwindowgeometry",
                "--shell", wid, deadline=deadline,
            ).splitlines()  # fmt: skip
        except ConnectorError:
            continue  # gone meanwhile, or without a process id (openbox's own)
        fields = dict(line.split("=", 1) for line in out[2:] if "=" in line)
        try:
            box = (int(fields["X"]), int(fields["Y"]), int(fields["WIDTH"]), int(fields["HEIGHT"]))
            found.append((int(wid), out[0], int(out[1]), box))
        except (KeyError, ValueError, IndexError):
            continue
    return found


def x_geometry(display: str, window: int, *, deadline: float) -> tuple[int, int, int, int]:
    """x, y, width, height of an X window on the screen now."""
    out = xdotool(display, "getwindowgeometry", "--shell", str(window), deadline=deadline)
    fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        return (int(fields["X"]), int(fields["Y"]), int(fields["WIDTH"]), int(fields["HEIGHT"]))
    except (KeyError, ValueError):
        raise ConnectorError(f"X window {window} is gone") from None
