"""AT-SPI over D-Bus: the accessibility tree of the applications on one X display.

AT-SPI is plain D-Bus. Each session talks to *its* display's accessibility bus through a
connection of its own (GLib's GDBus, from Debian's python3-gi), never through libatspi's
process-wide one: a robot runs several runs at once, each on its own display and bus.
Every call carries the caller's deadline as its D-Bus timeout, so a hung application (one
sent SIGSTOP) ends the call with :class:`~connectors.base.ConnectorTimeout` instead of a
hang. A tree is read level by level with the calls of a level sent at once (pipelined), which
keeps a window of thousands of controls fast::

    bus = AtspiBus.connect("unix:path=/tmp/dbus-XYZ", timeout_s=5)
    for window in bus.windows(deadline):
        print(window.name, window.role, window.pid)
    nodes = bus.tree(window, deadline)          # every control below the window
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gi

gi.require_version("Gio", "2.0")
with warnings.catch_warnings():  # PyGObject's importer predates exec_module
    warnings.simplefilter("ignore", ImportWarning)
    from gi.repository import Gio, GLib

from connectors.base import ConnectorError, ConnectorTimeout  # noqa: E402
from connectors.desktop.roles import role_of_atspi  # noqa: E402

ROOT = "/org/a11y/atspi/accessible/root"
ACCESSIBLE = "org.a11y.atspi.Accessible"
PROPERTIES = "org.freedesktop.DBus.Properties"
REGISTRY = "org.a11y.atspi.Registry"

#: AT-SPI state bits (AtspiStateType) the connector reads.
STATE_BITS = {
    "active": 1, "checked": 4, "editable": 7, "enabled": 8, "focusable": 11, "focused": 12,
    "modal": 16, "pressed": 20, "selected": 23, "sensitive": 24, "showing": 25,
    "visible": 30, "indeterminate": 32,
}  # fmt: skip

#: A call: (object path, interface, method, arguments or None).
Call = tuple[str, str, str, "GLib.Variant | None"]


@dataclass(eq=False)
class Node:
    """One accessible object: where it lives on the bus and what it says about itself."""

    bus: str
    path: str
    atspi_role: str = ""
    name: str = ""
    description: str = ""
    automation_id: str = ""
    parent: Node | None = field(default=None, repr=False)
    children: list[Node] = field(default_factory=list, repr=False)
    pid: int = 0

    @property
    def role(self) -> str:
        """Our role name (``button``), see :mod:`connectors.desktop.roles`."""
        return role_of_atspi(self.atspi_role)

    def ancestors(self) -> list[Node]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def __repr__(self) -> str:
        return f"{self.role} {self.name!r}"


class AtspiBus:
    """A connection to one display's accessibility bus (see the module docstring)."""

    def __init__(self, connection: Any, session: Any) -> None:
        self._bus = connection
        self._session = session

    @classmethod
    def connect(cls, session_address: str, timeout_s: float) -> AtspiBus:
        """Connect to the accessibility bus of the session bus at ``session_address``
        (the bus launcher is started through D-Bus activation if it does not run yet)."""
        flags = (
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
        )
        try:
            session = Gio.DBusConnection.new_for_address_sync(session_address, flags, None, None)
            reply = session.call_sync(
                "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress",
                None, GLib.VariantType("(s)"), Gio.DBusCallFlags.NONE,
                int(timeout_s * 1000), None,
            )  # fmt: skip
            address = reply.unpack()[0]
            bus = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        except GLib.Error as exc:
            raise ConnectorError(
                f"no accessibility bus on the session bus {session_address}: {exc.message}; "
                "fix: apt-get install -y at-spi2-core (the desktop connector starts the bus)"
            ) from None
        return cls(bus, session)

    def close(self) -> None:
        for connection in (self._bus, self._session):
            try:
                connection.close_sync(None)
            except GLib.Error:
                pass

    # ----------------------------------------------------------------- calls

    def call(self, bus: str, call: Call, deadline: float, what: str) -> Any:
        """One call, answered before ``deadline`` or :class:`ConnectorTimeout` naming
        ``what`` the caller waited for."""
        path, interface, method, args = call
        try:
            reply = self._bus.call_sync(
                bus, path, interface, method, args, None, Gio.DBusCallFlags.NONE,
                _ms(deadline), None,
            )  # fmt: skip
        except GLib.Error as exc:
            raise _error(exc, what) from None
        return reply.unpack()

    def batch(self, calls: Sequence[tuple[str, Call]], deadline: float, what: str) -> list[Any]:
        """Several calls sent at once (bus, call); their answers in order. A call that fails
        answers None (the object went away meanwhile), a timeout raises."""
        if not calls:
            return []
        context = GLib.MainContext.new()
        context.push_thread_default()
        results: list[Any] = [None] * len(calls)
        pending = [len(calls)]
        timed_out = [False]

        def done(connection: Any, result: Any, index: int) -> None:
            try:
                results[index] = connection.call_finish(result).unpack()
            except GLib.Error as exc:
                if exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                    timed_out[0] = True
            pending[0] -= 1

        try:
            timeout = _ms(deadline)
            for index, (bus, (path, interface, method, args)) in enumerate(calls):
                self._bus.call(
                    bus, path, interface, method, args, None, Gio.DBusCallFlags.NONE,
                    timeout, None, done, index,
                )  # fmt: skip
            while pending[0]:
                context.iteration(True)
        finally:
            context.pop_thread_default()
        if timed_out[0]:
            raise ConnectorTimeout(f"the application did not answer in time while {what}")
        return results

    # ----------------------------------------------------------------- the tree

    def applications(self, deadline: float) -> list[Node]:
        """The applications registered on the bus, with their process ids."""
        (children,) = self.call(
            REGISTRY, (ROOT, ACCESSIBLE, "GetChildren", None), deadline, "listing applications"
        )
        apps = [Node(bus, path) for bus, path in children if bus]
        pids = self.batch(
            [
                ("org.freedesktop.DBus", ("/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "GetConnectionUnixProcessID", GLib.Variant("(s)", (app.bus,))))
                for app in apps
            ],
            deadline,
            "listing applications",
        )  # fmt: skip
        self._describe(apps, deadline, "listing applications")
        for app, pid in zip(apps, pids, strict=True):
            app.pid = pid[0] if pid else 0
        return apps

    def windows(self, deadline: float) -> list[Node]:
        """Every top-level window (frame, dialog, window) of every application."""
        apps = self.applications(deadline)
        self._expand(apps, deadline, "listing windows")
        windows = [child for app in apps for child in app.children]
        for window in windows:
            window.pid = window.parent.pid if window.parent else 0
        return windows

    def tree(self, root: Node, deadline: float, what: str = "reading the window") -> list[Node]:
        """Every node below ``root`` (``root`` first), read level by level."""
        root.children = []
        level, nodes = [root], [root]
        while level:
            self._expand(level, deadline, what)
            level = [child for node in level for child in node.children]
            nodes += level
        return nodes

    def _expand(self, parents: list[Node], deadline: float, what: str) -> None:
        answers = self.batch(
            [(node.bus, (node.path, ACCESSIBLE, "GetChildren", None)) for node in parents],
            deadline,
            what,
        )
        fresh: list[Node] = []
        for node, answer in zip(parents, answers, strict=True):
            node.children = [
                Node(bus, path, parent=node) for bus, path in (answer[0] if answer else [])
                if path != "/org/a11y/atspi/null"
            ]  # fmt: skip
            fresh += node.children
        self._describe(fresh, deadline, what)

    def _describe(self, nodes: list[Node], deadline: float, what: str) -> None:
        calls: list[tuple[str, Call]] = []
        for node in nodes:
            calls.append((node.bus, (node.path, ACCESSIBLE, "GetRoleName", None)))
            calls.append(
                (node.bus, (node.path, PROPERTIES, "GetAll", GLib.Variant("(s)", (ACCESSIBLE,))))
            )
        answers = self.batch(calls, deadline, what)
        for index, node in enumerate(nodes):
            role, props = answers[2 * index], answers[2 * index + 1]
            node.atspi_role = role[0] if role else ""
            values = props[0] if props else {}
            node.name = values.get("Name", "") or ""
            node.description = values.get("Description", "") or ""
            node.automation_id = values.get("AccessibleId", "") or ""

    # ----------------------------------------------------------------- one node

    def states(self, node: Node, deadline: float) -> set[str]:
        """The node's states by name (``checked``, ``focused``, ``showing``, ...)."""
        (words,) = self.call(node.bus, (node.path, ACCESSIBLE, "GetState", None), deadline,
                             f"reading the state of {node!r}")  # fmt: skip
        bits = 0
        for index, word in enumerate(words):
            bits |= word << (32 * index)
        return {name for name, bit in STATE_BITS.items() if bits & (1 << bit)}

    def extents(self, node: Node, deadline: float) -> tuple[int, int, int, int]:
        """x, y, width, height on the screen."""
        (box,) = self.call(
            node.bus,
            (node.path, "org.a11y.atspi.Component", "GetExtents", GLib.Variant("(u)", (0,))),
            deadline,
            f"reading the position of {node!r}",
        )
        return tuple(box)

    def optional(self, node: Node, call: tuple[str, str, Any], deadline: float, what: str) -> Any:
        """A call of an interface the node may not have: its answer, or None when the node
        refuses it (a timeout still raises)."""
        interface, method, args = call
        try:
            return self.call(node.bus, (node.path, f"org.a11y.atspi.{interface}", method, args),
                             deadline, what)  # fmt: skip
        except ConnectorTimeout:
            raise
        except ConnectorError:
            return None

    def actions(self, node: Node, deadline: float) -> list[str]:
        """The names of the node's actions (``click``, ``press``, ``toggle``), in order."""
        answer = self.optional(node, ("Action", "GetActions", None), deadline,
                               f"reading the actions of {node!r}")  # fmt: skip
        return [entry[0] for entry in answer[0]] if answer else []

    def do_action(self, node: Node, index: int, deadline: float) -> None:
        self.call(node.bus, (node.path, "org.a11y.atspi.Action", "DoAction",
                  GLib.Variant("(i)", (index,))), deadline, f"acting on {node!r}")  # fmt: skip

    def text(self, node: Node, deadline: float) -> str:
        """The node's text (Text interface), or its name when it has none."""
        answer = self.optional(node, ("Text", "GetText", GLib.Variant("(ii)", (0, -1))),
                               deadline, f"reading the text of {node!r}")  # fmt: skip
        return str(answer[0]) if answer else node.name

    def set_text(self, node: Node, value: str, deadline: float) -> bool:
        """Replace the node's text (EditableText); False when it offers no such interface."""
        answer = self.optional(
            node, ("EditableText", "SetTextContents", GLib.Variant("(s)", (value,))),
            deadline, f"setting the text of {node!r}",
        )  # fmt: skip
        return bool(answer and answer[0])

    def select_child(self, node: Node, index: int, deadline: float) -> bool:
        """Select the node's child ``index`` (Selection); False when it cannot."""
        answer = self.optional(node, ("Selection", "SelectChild", GLib.Variant("(i)", (index,))),
                               deadline, f"choosing in {node!r}")  # fmt: skip
        return bool(answer and answer[0])

    def table_size(self, node: Node, deadline: float) -> tuple[int, int] | None:
        """(rows, columns) of a table (Table interface), None when it is none."""
        rows = self._property(node, "Table", "NRows", deadline)
        columns = self._property(node, "Table", "NColumns", deadline)
        if rows is None or columns is None:
            return None
        return int(rows), int(columns)

    def _property(self, node: Node, interface: str, name: str, deadline: float) -> Any:
        try:
            (value,) = self.call(
                node.bus,
                (node.path, PROPERTIES, "Get",
                 GLib.Variant("(ss)", (f"org.a11y.atspi.{interface}", name))),
                deadline, f"reading {name} of {node!r}",
            )  # fmt: skip
        except ConnectorTimeout:
            raise
        except ConnectorError:
            return None
        return value

    def grab_focus(self, node: Node, deadline: float) -> bool:
        answer = self.optional(node, ("Component", "GrabFocus", None), deadline,
                               f"focusing {node!r}")  # fmt: skip
        return bool(answer and answer[0])

    def refresh(self, node: Node, deadline: float) -> None:
        """Read the node's name and role again (they change: a combo box's chosen item)."""
        self._describe([node], deadline, f"reading {node!r}")


def _ms(deadline: float) -> int:
    return max(int((deadline - time.monotonic()) * 1000), 1)


def _error(exc: Any, what: str) -> ConnectorError:
    if exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
        return ConnectorTimeout(f"the application did not answer in time while {what}")
    return ConnectorError(f"accessibility call failed while {what}: {exc.message}")
