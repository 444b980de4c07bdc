"""An X display for headed browsers and desktop programs on servers without a screen.

Xvfb alone is not enough: without a window manager, focus never moves and typed keys are
lost. So :func:`virtual_display` starts Xvfb *and* openbox and yields the display's name,
which the run hands to the sessions that show windows. It never sets the process's
``DISPLAY``: a robot runs several runs at once, each with a display of its own::

    with virtual_display() as display:   # ":99"
        BrowserSession(chromium, headless=False, display=display).open()
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DisplayUnavailable(RuntimeError):
    """No display is set and none can be started (Xvfb or openbox missing)."""


def has_display() -> bool:
    """Whether ``DISPLAY`` names an X server that answers."""
    display = os.environ.get("DISPLAY")
    if not display:
        return False
    number = display.split(":")[-1].split(".")[0]
    return Path(f"/tmp/.X11-unix/X{number}").exists()


def _read_display_number(reader: int, xvfb: subprocess.Popen[bytes], deadline: float) -> int:
    """The display number Xvfb writes to ``reader`` once it accepts connections."""
    text = b""
    try:
        while not text.endswith(b"\n"):
            ready, _, _ = select.select([reader], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise DisplayUnavailable("Xvfb did not start within 10 s")
            chunk = os.read(reader, 16)
            if not chunk:
                raise DisplayUnavailable(f"Xvfb did not start (exit code {xvfb.wait()})")
            text += chunk
    finally:
        os.close(reader)
    return int(text.strip())


@contextmanager
def virtual_display(width: int = 1600, height: int = 1000) -> Iterator[str]:
    """Start Xvfb plus openbox on a free display, yield its name, and stop both afterwards."""
    missing = [tool for tool in ("Xvfb", "openbox") if shutil.which(tool) is None]
    if missing:
        raise DisplayUnavailable(
            f"{' and '.join(missing)} not installed; fix: apt-get install -y xvfb openbox"
        )
    # Xvfb picks the display number itself (-displayfd): two runs starting at once can
    # never take the same one, as they could choosing a free-looking number first.
    reader, writer = os.pipe()
    try:
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(writer), "-screen", "0", f"{width}x{height}x24",
             "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(writer,),
        )  # fmt: skip
    finally:
        os.close(writer)
    wm: subprocess.Popen[bytes] | None = None
    try:
        number = _read_display_number(reader, xvfb, deadline=time.monotonic() + 10)
        display = f":{number}"
        wm = subprocess.Popen(
            ["openbox"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "DISPLAY": display},
        )
        time.sleep(0.3)  # openbox takes focus management a moment after start
        yield display
    finally:
        for proc in (wm, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
