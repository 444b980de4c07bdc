"""What a desktop run needs on the machine, checked without starting anything.

``bots doctor`` reports it; a desktop session checks its display when it opens::

    missing_for_desktop()    # [] or [("openbox (a window manager)", "openbox"), ...]
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

#: (what, the executable or file, the Debian package that provides it)
NEEDED: tuple[tuple[str, str, str], ...] = (
    ("openbox (a window manager: without one typed keys are lost)", "openbox", "openbox"),
    ("dbus-daemon", "dbus-daemon", "dbus"),
    ("at-spi-bus-launcher (the accessibility bus)", "/usr/libexec/at-spi-bus-launcher",
     "at-spi2-core"),
    ("xdotool", "xdotool", "xdotool"),
    ("tesseract", "tesseract", "tesseract-ocr"),
)  # fmt: skip


def missing_for_desktop() -> list[tuple[str, str]]:
    """(what is missing, the package to install) for every missing part."""
    missing = [
        (what, package)
        for what, tool, package in NEEDED
        if not (Path(tool).exists() if tool.startswith("/") else shutil.which(tool))
    ]
    if importlib.util.find_spec("gi") is None:
        missing.append(("GLib's Python bindings (gi)", "python3-gi"))
    if shutil.which("tesseract") and "deu" not in _tesseract_languages():
        missing.append(("Tesseract's German language data", "tesseract-ocr-deu"))
    return missing


def _tesseract_languages() -> set[str]:
    try:
        done = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(done.stdout.split()[1:])
