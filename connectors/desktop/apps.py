"""The applications a desktop session started: how a program is found, started, logged,
and ended (a stopped one included).

A program is a path, a command on ``PATH``, or one installed beside the robot (in the
directory of the Python running it, as ``pip install`` puts console scripts), so a bot names
``hundesteuer-client`` whether or not the robot's ``PATH`` has its virtualenv::

    apps = Apps(run_dir)
    pid = apps.start(["hundesteuer-client", "--server", url], env=desktop_env)
    apps.stop_all()
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connectors.base import ConnectorError
from connectors.desktop import xinput
from connectors.desktop.atspi import Node


class Desktop(Protocol):
    """What :func:`close` needs of a desktop session (the session imports this module)."""

    apps: Apps
    window: Node | None

    @property
    def display_name(self) -> str: ...

    def windows(self, deadline: float) -> list[Node]: ...


@dataclass
class App:
    """One started application: its name (the program's file name), process, and whether
    it exposes an accessibility tree."""

    name: str
    process: subprocess.Popen[bytes]
    accessible: bool = True

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None


def resolve(program: str) -> str:
    """The program's path: as given when it holds a '/', else from ``PATH``, else beside
    the running Python; ConnectorError naming where it looked when none has it."""
    if os.sep in program:
        if not Path(program).is_file():
            raise ConnectorError(f"cannot start {program!r}: there is no such file")
        return program
    found = shutil.which(program) or shutil.which(program, path=str(Path(sys.executable).parent))
    if found is None:
        raise ConnectorError(
            f"cannot start {program!r}: it is neither on PATH nor in {Path(sys.executable).parent}"
        )
    return found


class Apps:
    """The applications of one desktop session (see the module docstring)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._apps: list[App] = []
        #: The names of every application started in the session, ended ones included.
        self.names: set[str] = set()

    def start(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_name: str | None = None,
        accessible: bool = True,
    ) -> App:
        """Start ``command``; its output goes to ``desktop/NAME.log`` in the run directory."""
        if not command or not command[0]:
            raise ConnectorError("start_app needs a program")
        program = resolve(command[0])
        name = log_name or Path(command[0]).name
        logs = self.run_dir / "desktop"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as out:
            try:
                process = subprocess.Popen(
                    [program, *command[1:]],
                    cwd=cwd,
                    env=dict(env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ConnectorError(f"cannot start {command[0]!r}: {exc.strerror}") from None
        app = App(name, process, accessible)
        self._apps.append(app)
        self.names.add(name)
        return app

    def named(self, name: str) -> list[App]:
        """The running applications started as ``name`` (every one for ``all``)."""
        return [app for app in self._apps if name in ("all", app.name) and app.running()]

    def all(self) -> list[App]:
        return list(self._apps)

    def accessible_pids(self) -> set[int]:
        """Process ids of the applications started with an accessibility tree."""
        return {app.pid for app in self._apps if app.accessible}

    def wait_ended(self, apps: Sequence[App], deadline: float) -> bool:
        """Whether every one of ``apps`` ended before ``deadline``."""
        while any(app.running() for app in apps):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, app: App) -> None:
        stop_process(app.process)
        self._apps.remove(app)

    def stop_all(self) -> None:
        while self._apps:
            self.stop(self._apps[-1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """End a process and its group: SIGCONT first (a stopped one cannot end otherwise), then
    SIGTERM, then SIGKILL after 3 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGCONT)
    except OSError:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=3)


def close(desktop: Desktop, name: str, *, timeout: float) -> None:
    """Close the applications started as ``name`` (or ``all``) as a person would: Alt+F4
    on each of their windows until they end; ended by signal when the time is up."""
    deadline = time.monotonic() + timeout
    apps = desktop.apps.named(name)
    started = desktop.apps.names
    if not apps:  # ended already (logged out, closed by a person): nothing to do
        if name == "all" or name in started:
            return
        listed = ", ".join(sorted(started)) or "none"
        raise ConnectorError(f"no application {name!r} was started (started: {listed})")
    pids = {app.pid for app in apps}
    try:
        for window in desktop.windows(deadline):
            if window.pid in pids and time.monotonic() < deadline:
                xinput.activate(desktop.display_name, window.name, deadline=deadline)
                xinput.hotkey(desktop.display_name, "alt+F4", deadline=deadline)
    except ConnectorError:
        pass  # a hung application is ended below
    desktop.apps.wait_ended(apps, max(deadline, time.monotonic() + 1))
    for app in apps:
        desktop.apps.stop(app)
    if desktop.window is not None and desktop.window.pid in pids:
        desktop.window = None
