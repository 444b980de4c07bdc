"""One desktop as a connector session: an X display, its own accessibility bus, the
applications started on it, the window a bot works in, and its controls.

The session starts a D-Bus session bus of its own for the display (applications started
through it find their accessibility bus there), talks AT-SPI over it (:mod:`.atspi`), sends
pointer and keys through XTEST (:mod:`.xinput`) and reads pixels (:mod:`.ocr`). Every wait
has a real deadline; every action on a control that reports its value or state is read back::

    with DesktopSession(":99", timeout_s=10, run_dir=run_dir) as desktop:
        desktop.start_app(["zenity", "--entry", "--title", "Eingabe"])
        desktop.use_window(title="Eingabe", timeout=10)
        desktop.set_text(ControlSpec(role="textbox"), "Größe", timeout=5)
        desktop.click(ControlSpec(role="button", name="OK"), timeout=5)
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from connectors.base import (
    AmbiguousLocator,
    Connector,
    ConnectorError,
    ConnectorTimeout,
    ElementNotFound,
)
from connectors.desktop import xinput
from connectors.desktop.apps import Apps, stop_process
from connectors.desktop.atspi import AtspiBus, Node
from connectors.desktop.locate import ControlSpec, candidates, dump, search, subtree
from connectors.desktop.windows import WindowQuery, wait_for_window, wait_until_gone

POLL_S = 0.1
#: The bus name of windows known from X only (no accessibility tree).
X11 = "x11"


class DesktopSession(Connector):
    """The run's desktop (see the module docstring)."""

    name = "desktop"
    evidence_kinds = ("screenshot", "window", "tree")

    def __init__(self, display: str | None, *, timeout_s: float, run_dir: Path) -> None:
        self.display = display
        self.timeout_s = timeout_s
        self.run_dir = run_dir
        self._dbus: subprocess.Popen[str] | None = None
        self.bus_address: str | None = None
        self._bus: AtspiBus | None = None
        self.apps = Apps(run_dir)
        self.window: Node | None = None
        self._typed: set[str] = set()  # secrets typed, masked in every file of the run

    # ----------------------------------------------------------------- lifecycle

    def open(self) -> None:
        if not self.display:
            raise ConnectorError("the desktop needs an X display and the run has none")
        try:
            self._dbus = subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "DISPLAY": self.display},
            )
        except OSError as exc:
            raise ConnectorError(
                f"cannot start dbus-daemon ({exc.strerror}); fix: apt-get install -y dbus"
            ) from None
        assert self._dbus.stdout is not None
        self.bus_address = self._dbus.stdout.readline().strip()
        if not self.bus_address:
            raise ConnectorError("dbus-daemon did not start; fix: apt-get install -y dbus")
        self._bus = AtspiBus.connect(self.bus_address, timeout_s=max(self.timeout_s, 5))

    def close(self) -> None:
        self.apps.stop_all()
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        if self._dbus is not None:
            stop_process(self._dbus)  # type: ignore[arg-type]
            self._dbus = None

    def secrets_learnt(self) -> set[str]:
        return set(self._typed)

    @property
    def is_open(self) -> bool:
        return self._bus is not None

    @property
    def bus(self) -> AtspiBus:
        if self._bus is None:
            raise ConnectorError("the desktop session is not open")
        return self._bus

    def app_env(
        self, env: dict[str, str] | None = None, *, accessible: bool = True
    ) -> dict[str, str]:
        """The environment of an application started on this desktop."""
        assert self.display is not None and self.bus_address is not None
        merged = {
            **os.environ,
            "DISPLAY": self.display,
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "GTK_A11Y": "atspi",
            "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
            "QT_ACCESSIBILITY": "1",
        }
        merged.pop("NO_AT_BRIDGE", None)
        if not accessible:
            merged["NO_AT_BRIDGE"] = "1"
        merged.update(env or {})
        return merged

    # ----------------------------------------------------------------- applications

    def start_app(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        accessible: bool = True,
        log_name: str | None = None,
    ) -> int:
        """Start an application on this desktop (see :mod:`.apps`); its process id. It is
        stopped when the session closes."""
        app = self.apps.start(
            command,
            env=self.app_env(env, accessible=accessible),
            cwd=cwd,
            log_name=log_name,
            accessible=accessible,
        )
        return app.pid

    def close_app(self, name: str, *, timeout: float) -> None:
        """Close the applications started as ``name`` (or ``all``), see :func:`.apps.close`."""
        from connectors.desktop.apps import close

        close(self, name, timeout=timeout)

    # ----------------------------------------------------------------- windows

    def find_window(
        self,
        *,
        title: str | None = None,
        pattern: str | None = None,
        pid: int | None = None,
        dialog: bool = False,
        timeout: float,
    ) -> Node:
        """Wait for exactly one top-level window with this title (exact, or a regular
        expression ``pattern``) and/or process id; a ``dialog`` is a dialog of the
        current window's application (see :mod:`.windows`)."""
        return wait_for_window(
            self.windows, self.query(title, pattern, pid, dialog), timeout=timeout
        )

    def windows(self, deadline: float) -> list[Node]:
        """Every top-level window: those in the accessibility tree, and those X shows of
        applications without one (started with ``accessible=False``, a terminal server's
        client), as windows with no controls: found by pixels and driven by keys. An
        application started with a tree is only ever seen through it (its X window comes
        before it registers on the bus)."""
        found = self.bus.windows(deadline)
        on_bus = {window.pid for window in found} | self.apps.accessible_pids()
        for wid, title, pid, _ in xinput.x_windows(self._display(), deadline=deadline):
            if pid not in on_bus and title:
                found.append(Node(X11, str(wid), "frame", title, pid=pid))
        return found

    def extents(self, node: Node, deadline: float) -> tuple[int, int, int, int]:
        """x, y, width, height of a control or window on the screen."""
        if node.bus == X11:  # asked again: a window grows once it is mapped
            return xinput.x_geometry(self._display(), int(node.path), deadline=deadline)
        return self.bus.extents(node, deadline)

    def query(
        self, title: str | None, pattern: str | None, pid: int | None, dialog: bool
    ) -> WindowQuery:
        owner = self.window.bus if dialog and self.window is not None else None
        return WindowQuery(title, pattern, pid, dialog, owner)

    def use_window(self, **query: object) -> Node:
        """Find a window (:meth:`find_window`) and make it the one controls are found in."""
        self.window = self.find_window(**query)  # type: ignore[arg-type]
        return self.window

    def current(self) -> Node:
        if self.window is None:
            raise ConnectorError("no window chosen: add a `window:` step before this one")
        return self.window

    def focus(self, *, timeout: float) -> None:
        window = self.current()
        deadline = time.monotonic() + timeout
        if not xinput.activate(self._display(), window.name, deadline=deadline):
            self.bus.grab_focus(window, deadline)

    def maximise(self, *, timeout: float) -> None:
        self.focus(timeout=timeout)
        deadline = time.monotonic() + timeout
        xinput.xdotool(
            self._display(),
            "getactivewindow",
            "windowsize",
            "--sync",
            "100%",
            "100%",
            deadline=deadline,
        )

    def close_window(self, *, timeout: float) -> None:
        """Close the current window (as a person would, Alt+F4) and wait until it is gone."""
        window = self.current()
        self.focus(timeout=timeout)
        deadline = time.monotonic() + timeout
        xinput.hotkey(self._display(), "alt+F4", deadline=deadline)
        while any(
            w.path == window.path and w.bus == window.bus for w in self.bus.windows(deadline)
        ):
            if time.monotonic() + POLL_S > deadline:
                raise ConnectorTimeout(f"window {window.name!r} did not close within {timeout:g} s")
            time.sleep(POLL_S)
        self.window = None

    @property
    def display_name(self) -> str:
        """The display, once the session is open (``":99"``)."""
        return self._display()

    def _display(self) -> str:
        assert self.display is not None
        return self.display

    # ----------------------------------------------------------------- finding controls

    def snapshot(self, deadline: float, what: str) -> list[Node]:
        window = self.current()
        if window.bus == X11:
            return [window]  # no tree: pixels and keys only
        return self.bus.tree(window, deadline, what)

    def find(
        self, spec: ControlSpec, *, timeout: float
    ) -> tuple[Node | tuple[int, int, int, int], ControlSpec]:
        """Wait for exactly one control matching ``spec`` or one of its fallbacks, in
        order; the control (a node, or a screen box for OCR and offsets) and the spec that
        matched. Several matches fail at once, naming them."""
        deadline = time.monotonic() + timeout
        alternatives = (spec, *spec.fallbacks)
        near: list[Node] = []
        while True:
            nodes = self.snapshot(deadline, f"looking for {spec.describe_all()}")
            for alternative in alternatives:
                found = self._matches(alternative, nodes, deadline)
                if len(found) == 1:
                    return found[0], alternative
                if len(found) > 1:
                    raise AmbiguousLocator(
                        alternative.describe(),
                        len(found),
                        [self._show(f, deadline) for f in found[:5]],
                    )
            if time.monotonic() + POLL_S > deadline:
                near = candidates(spec, nodes)
                listed = "; ".join(self._show(n, deadline) for n in near) or "none alike"
                raise ElementNotFound(
                    f"no control matches {spec.describe_all()} in window "
                    f"{self.current().name!r} within {timeout:g} s; near: {listed}"
                )
            time.sleep(POLL_S)

    def count(self, spec: ControlSpec, *, timeout: float) -> int:
        """How many controls match now (0 included): answers at once."""
        deadline = time.monotonic() + timeout
        nodes = self.snapshot(deadline, f"counting {spec.describe()}")
        return len(self._matches(spec, nodes, deadline))

    def _matches(self, spec: ControlSpec, nodes: list[Node], deadline: float) -> list:
        if spec.ocr is not None:
            from connectors.desktop.ocr import find_on_screen

            box = self.extents(self.current(), deadline)
            boxes = find_on_screen(self._display(), box, spec.ocr)
            if spec.nth is not None:  # in reading order: top to bottom, left to right
                boxes = sorted(boxes, key=lambda b: (b[1] // 8, b[0]))
                return boxes[spec.nth : spec.nth + 1]
            return boxes
        if spec.offset is not None:
            if spec.origin is None:
                x, y, _, _ = self.extents(self.current(), deadline)
            else:
                found = self._matches(spec.origin, nodes, deadline)
                if len(found) != 1:
                    return found if len(found) > 1 else []
                x, y, _, _ = self._box(found[0], deadline)
            return [(x + spec.offset[0], y + spec.offset[1], 1, 1)]
        scope = nodes
        if spec.within is not None:
            parents = self._matches(spec.within, nodes, deadline)
            if len(parents) != 1 or not isinstance(parents[0], Node):
                return []
            scope = subtree(parents[0])[1:]
        found = search(spec, scope)
        if len(found) > 1:  # what is not shown (another tab's page) is not a candidate
            found = [node for node in found if "showing" in self.bus.states(node, deadline)]
        return found

    def _box(
        self, control: Node | tuple[int, int, int, int], deadline: float
    ) -> tuple[int, int, int, int]:
        return control if isinstance(control, tuple) else self.extents(control, deadline)

    def _show(self, control: Node | tuple[int, int, int, int], deadline: float) -> str:
        try:
            x, y, w, h = self._box(control, deadline)
        except ConnectorError:
            x = y = w = h = -1
        label = f"{control.role} {control.name!r}" if isinstance(control, Node) else "text"
        return f"{label} at ({x}, {y}, {w}x{h})"

    def tree_text(self, *, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        nodes = self.snapshot(deadline, "reading the window's tree")
        return dump(nodes[0])

    # ----------------------------------------------------------------- acting

    def click(
        self,
        spec: ControlSpec,
        *,
        button: str = "left",
        double: bool = False,
        by: str = "pointer",
        timeout: float,
    ) -> str:
        """Click a control with the pointer at its centre, after bringing its window to the
        front (as a person does: an application that opens a modal dialog from the click
        keeps answering its accessibility bus). ``by="action"``, or a control with no place
        on the screen, uses its accessibility action instead. Returns how it clicked."""
        deadline = time.monotonic() + timeout
        control, _ = self.find(spec, timeout=timeout)
        box = self._box(control, deadline)
        if isinstance(control, Node) and (by == "action" or box[2] <= 0 or box[3] <= 0):
            names = [name.casefold() for name in self.bus.actions(control, deadline)]
            for index, name in enumerate(names):
                if name in ("click", "press", "activate", "toggle"):
                    self.bus.do_action(control, index, deadline)
                    return "action"
            if by == "action":
                raise ConnectorError(f"{spec.describe()} offers no click action")
        self.focus(timeout=max(deadline - time.monotonic(), 0.1))
        x, y, w, h = box
        xinput.click(
            self._display(), x + w // 2, y + h // 2, button=button, double=double, deadline=deadline
        )
        return "pointer"

    def set_text(
        self, spec: ControlSpec, value: str, *, timeout: float, secret: bool = False
    ) -> None:
        """Replace a text field's content through the accessibility interface, read it
        back, and fail loudly when the field did not take it. A ``secret`` value is never
        read back into a message."""
        deadline = time.monotonic() + timeout
        if secret:
            self._typed.add(value)
        control, _ = self.find(spec, timeout=timeout)
        if not isinstance(control, Node) or not self.bus.set_text(control, value, deadline):
            raise ConnectorError(f"{spec.describe()} offers no editable text; type into it instead")
        if self.bus.text(control, deadline) != value and "password text" != control.atspi_role:
            shown = "the value" if secret else repr(value)
            raise ConnectorError(f"{spec.describe()} did not take {shown}: it holds another text")

    def type_text(
        self, spec: ControlSpec | None, text: str, *, timeout: float, secret: bool = False
    ) -> None:
        """Type ``text`` key by key into a control (focused first) or the focused one."""
        deadline = time.monotonic() + timeout
        if secret:
            self._typed.add(text)
        self.focus(timeout=timeout)
        if spec is not None:
            control, _ = self.find(spec, timeout=timeout)
            if isinstance(control, Node):
                self.bus.grab_focus(control, deadline)
            else:
                x, y, w, h = control
                xinput.click(self._display(), x + w // 2, y + h // 2, deadline=deadline)
        xinput.type_text(self._display(), text, deadline=deadline)

    def hotkey(self, keys: str, *, timeout: float) -> None:
        self.focus(timeout=timeout)
        xinput.hotkey(self._display(), keys, deadline=time.monotonic() + timeout)

    def fill_keys(
        self, spec: ControlSpec, value: str, *, timeout: float, secret: bool = False
    ) -> None:
        """Replace a field's content by keys (select all, type); read back where the field
        has a text to read."""
        deadline = time.monotonic() + timeout
        self.type_text(spec, "", timeout=timeout, secret=secret)
        xinput.hotkey(self._display(), "ctrl+a", deadline=deadline)
        xinput.type_text(self._display(), value, deadline=deadline)
        control, _ = self.find(spec, timeout=max(deadline - time.monotonic(), 0.1))
        if isinstance(control, Node) and control.atspi_role != "password text":
            if self.bus.text(control, deadline) != value:
                shown = "the value" if secret else repr(value)
                raise ConnectorError(f"{spec.describe()} did not take {shown} from the keys")

    def wait_text(self, text: str, *, gone: bool, timeout: float) -> None:
        """Wait until ``text`` is on the display (OCR), or (``gone``) no longer is."""
        from connectors.desktop.ocr import wait_text

        wait_text(self._display(), text, gone=gone, timeout=timeout)

    def read(self, spec: ControlSpec, *, timeout: float) -> str:
        """A control's text (its editable text, else its name)."""
        deadline = time.monotonic() + timeout
        control, used = self.find(spec, timeout=timeout)
        if isinstance(control, Node):
            return self.bus.text(control, deadline)
        if used.ocr is None:
            raise ConnectorError(f"{spec.describe()} is a place on the screen, not a control")
        from connectors.desktop.ocr import line_text  # the whole line the text stands in

        x, _, width, _ = self.extents(self.current(), deadline)
        return line_text(self._display(), (x, control[1], width, control[3]))

    def set_checked(self, spec: ControlSpec, checked: bool, *, timeout: float) -> None:
        """Tick or clear a check box, and read its state back."""
        deadline = time.monotonic() + timeout
        control, _ = self.find(spec, timeout=timeout)
        if not isinstance(control, Node):
            raise ConnectorError(f"{spec.describe()} is a place on the screen, not a check box")
        if ("checked" in self.bus.states(control, deadline)) != checked:
            self.click(spec, timeout=max(deadline - time.monotonic(), 0.1))
        while ("checked" in self.bus.states(control, deadline)) != checked:
            if time.monotonic() + POLL_S > deadline:
                raise ConnectorError(
                    f"{spec.describe()} did not change its state: the click had no effect"
                )
            time.sleep(POLL_S)

    def checked(self, spec: ControlSpec, *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        control, _ = self.find(spec, timeout=timeout)
        if not isinstance(control, Node):
            raise ConnectorError(f"{spec.describe()} is a place on the screen, not a check box")
        return "checked" in self.bus.states(control, deadline)

    def wait_control(self, spec: ControlSpec, *, gone: bool, timeout: float) -> None:
        """Wait until a control matching ``spec`` is there (``gone``: is no longer)."""
        if not gone:
            self.find(spec, timeout=timeout)
            return
        deadline = time.monotonic() + timeout
        while True:
            nodes = self.snapshot(deadline, f"waiting for {spec.describe()} to go")
            if not self._matches(spec, nodes, deadline):
                return
            if time.monotonic() + POLL_S > deadline:
                raise ConnectorTimeout(f"{spec.describe()} was still there after {timeout:g} s")
            time.sleep(POLL_S)

    def wait_window_gone(
        self,
        *,
        title: str | None = None,
        pattern: str | None = None,
        pid: int | None = None,
        dialog: bool = False,
        timeout: float,
    ) -> None:
        """Wait until no window fits the query (see :meth:`find_window`)."""
        wait_until_gone(self.windows, self.query(title, pattern, pid, dialog), timeout=timeout)

    def screenshot(self, target: Path, *, window: bool, timeout: float) -> Path:
        """The display (or the current window) as a PNG file."""
        box = self.extents(self.current(), time.monotonic() + timeout) if window else None
        return xinput.screenshot(self._display(), target, box)

    # ----------------------------------------------------------------- evidence

    def capture_evidence(self, directory: Path, stem: str) -> dict[str, Path]:
        from connectors.desktop.evidence import capture

        return capture(self, directory, stem)
