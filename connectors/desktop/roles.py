"""The desktop connector's role names, and what they are in AT-SPI and UI Automation.

A bot names a control's role in our words (``button``, ``textbox``, ``combobox``); each
backend matches it against its own roles: AT-SPI role names on Linux (GTK, Qt, Java,
LibreOffice), UI Automation control types on Windows. One table holds both, so a bot written
against the Linux stand-in reads the same against a Windows Fachverfahren::

    >>> atspi_roles("button")
    ('push button',)
    >>> uia_control_types("textbox")
    ('EditControl',)
    >>> role_of_atspi("push button")
    'button'
"""

from __future__ import annotations

#: Our role -> (AT-SPI role names, UI Automation control types).
ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "button": (("push button",), ("ButtonControl",)),
    "toggle": (("toggle button",), ("ButtonControl",)),
    "checkbox": (("check box", "check menu item"), ("CheckBoxControl",)),
    "radio": (("radio button", "radio menu item"), ("RadioButtonControl",)),
    "textbox": (("text", "entry", "password text", "terminal"), ("EditControl",)),
    "password": (("password text",), ("EditControl",)),
    "combobox": (("combo box",), ("ComboBoxControl",)),
    "spinbutton": (("spin button",), ("SpinnerControl",)),
    "list": (("list", "list box", "tree", "tree table", "table"), ("ListControl",)),
    "listitem": (("list item", "table cell", "tree item"), ("ListItemControl",)),
    "table": (("table", "tree table"), ("TableControl", "DataGridControl")),
    "cell": (("table cell",), ("DataItemControl",)),
    "menu": (("menu",), ("MenuControl",)),
    "menubar": (("menu bar",), ("MenuBarControl",)),
    "menuitem": (("menu item", "check menu item", "radio menu item"), ("MenuItemControl",)),
    "tab": (("page tab",), ("TabItemControl",)),
    "tablist": (("page tab list",), ("TabControl",)),
    "label": (("label", "static"), ("TextControl",)),
    "link": (("link",), ("HyperlinkControl",)),
    "image": (("image", "icon"), ("ImageControl",)),
    "group": (("panel", "filler", "grouping", "section"), ("GroupControl", "PaneControl")),
    "toolbar": (("tool bar",), ("ToolBarControl",)),
    "statusbar": (("status bar",), ("StatusBarControl",)),
    "scrollbar": (("scroll bar",), ("ScrollBarControl",)),
    "progressbar": (("progress bar",), ("ProgressBarControl",)),
    "slider": (("slider",), ("SliderControl",)),
    "window": (("frame", "window"), ("WindowControl",)),
    "dialog": (("dialog", "alert", "file chooser"), ("WindowControl",)),
    "document": (("document frame", "document text"), ("DocumentControl",)),
}


def known_roles() -> tuple[str, ...]:
    """Our role names, sorted."""
    return tuple(sorted(ROLES))


def atspi_roles(role: str) -> tuple[str, ...]:
    """The AT-SPI role names our ``role`` matches; ``KeyError`` for an unknown role."""
    return ROLES[role][0]


def uia_control_types(role: str) -> tuple[str, ...]:
    """The UI Automation control types our ``role`` matches; ``KeyError`` if unknown."""
    return ROLES[role][1]


def _first_by(index: int) -> dict[str, str]:
    seen: dict[str, str] = {}
    for ours, backends in ROLES.items():
        for theirs in backends[index]:
            seen.setdefault(theirs, ours)
    return seen


_FROM_ATSPI = _first_by(0)
_FROM_UIA = _first_by(1)


def role_of_atspi(name: str) -> str:
    """Our role for an AT-SPI role name (the AT-SPI name itself where we have none)."""
    return _FROM_ATSPI.get(name, name)


def role_of_uia(control_type: str) -> str:
    """Our role for a UI Automation control type (the type itself where we have none)."""
    return _FROM_UIA.get(control_type, control_type)
