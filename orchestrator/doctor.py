"""`bots doctor`: checks the machine a robot runs on and says how to fix what is wrong.

Each check is independent and returns a :class:`Check`; none raises. Optional checks (a display
for headed runs) report but do not fail the doctor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.settings import Settings


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    optional: bool = False


def check_chromium(settings: Settings) -> Check:
    """Chromium exists at the configured path and starts headless."""
    from connectors.browser import chromium_version

    path = settings.chromium
    fix = "apt-get install -y chromium, or set BOTS_CHROMIUM to the browser's path"
    if not path.exists():
        return Check("chromium", False, f"{path} does not exist", fix)
    try:
        version = chromium_version(path)
    except Exception as exc:  # the browser's own failure, whatever it is
        return Check("chromium", False, f"{path} does not start: {exc}", fix)
    return Check("chromium", True, f"{path} starts ({version})")


def check_display(settings: Settings) -> Check:
    """A display for `--headed`: an X server, or Xvfb and openbox to start one."""
    from connectors.display import has_display

    if has_display():
        return Check("display", True, f"DISPLAY={os.environ['DISPLAY']}", optional=True)
    missing = [tool for tool in ("Xvfb", "openbox") if shutil.which(tool) is None]
    if missing:
        return Check(
            "display",
            False,
            "no DISPLAY, and headed runs cannot start a virtual one",
            "apt-get install -y xvfb openbox",
            optional=True,
        )
    return Check(
        "display", True, "no DISPLAY; headed runs start Xvfb + openbox themselves", optional=True
    )


def check_desktop(settings: Settings) -> Check:
    """What desktop runs need: a window manager, D-Bus, the accessibility bus, GLib's
    bindings, xdotool and Tesseract with German (the desktop connector starts the buses)."""
    from connectors.desktop.preflight import missing_for_desktop

    missing = missing_for_desktop()
    if missing:
        tools = ", ".join(name for name, _ in missing)
        packages = " ".join(sorted({package for _, package in missing}))
        return Check(
            "desktop",
            False,
            f"desktop runs lack {tools}",
            f"apt-get install -y {packages} (then make venv, which links python3-gi)",
            optional=True,
        )
    return Check(
        "desktop",
        True,
        "window manager, D-Bus, accessibility bus, xdotool and Tesseract (deu) present",
        optional=True,
    )


def check_data_dir(settings: Settings) -> Check:
    """The data directory exists (or can be made) and is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        return Check(
            "data directory",
            False,
            f"{path} is not writable: {exc.strerror}",
            "set BOTS_DATA_DIR to a writable directory, or fix its owner and permissions",
        )
    return Check("data directory", True, f"{path} is writable")


def check_database(settings: Settings) -> Check:
    """The run history database opens and answers."""
    from orchestrator.store import open_store

    shown = settings.database.split("@")[-1]  # never print a password in a URL
    try:
        store = open_store(settings.database)
        try:
            store.ping()
        finally:
            store.close()
    except Exception as exc:  # every way a database can fail is worth reporting as such
        return Check(
            "database",
            False,
            f"{shown}: {exc}",
            "check BOTS_DATABASE_URL, that the server runs, and the account's rights",
        )
    return Check("database", True, f"{shown} reachable")


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_chromium,
    check_display,
    check_desktop,
    check_data_dir,
    check_database,
)


def run_checks(settings: Settings) -> list[Check]:
    """Run every check, in order."""
    return [check(settings) for check in CHECKS]
