"""Our role names map to AT-SPI roles and UI Automation control types, both ways."""

from __future__ import annotations

import pytest

from connectors.desktop.roles import (
    ROLES,
    atspi_roles,
    known_roles,
    role_of_atspi,
    role_of_uia,
    uia_control_types,
)

UIA_TYPES = {
    "ButtonControl", "CalendarControl", "CheckBoxControl", "ComboBoxControl", "CustomControl",
    "DataGridControl", "DataItemControl", "DocumentControl", "EditControl", "GroupControl",
    "HeaderControl", "HeaderItemControl", "HyperlinkControl", "ImageControl", "ListControl",
    "ListItemControl", "MenuBarControl", "MenuControl", "MenuItemControl", "PaneControl",
    "ProgressBarControl", "RadioButtonControl", "ScrollBarControl", "SemanticZoomControl",
    "SeparatorControl", "SliderControl", "SpinnerControl", "SplitButtonControl",
    "StatusBarControl", "TabControl", "TabItemControl", "TableControl", "TextControl",
    "ThumbControl", "TitleBarControl", "ToolBarControl", "ToolTipControl", "TreeControl",
    "TreeItemControl", "WindowControl", "AppBarControl",
}  # fmt: skip


def test_every_role_maps_to_both_backends() -> None:
    for role in known_roles():
        assert atspi_roles(role), role
        assert set(uia_control_types(role)) <= UIA_TYPES, role


@pytest.mark.parametrize(
    ("ours", "atspi", "uia"),
    [
        ("button", "push button", "ButtonControl"),
        ("textbox", "text", "EditControl"),
        ("combobox", "combo box", "ComboBoxControl"),
        ("checkbox", "check box", "CheckBoxControl"),
        ("dialog", "dialog", "WindowControl"),
        ("listitem", "list item", "ListItemControl"),
    ],
)
def test_the_common_controls(ours: str, atspi: str, uia: str) -> None:
    assert atspi in atspi_roles(ours)
    assert uia in uia_control_types(ours)
    assert role_of_atspi(atspi) == ours


def test_backend_roles_we_do_not_name_are_kept_as_they_are() -> None:
    assert role_of_atspi("ruler") == "ruler"
    assert role_of_uia("SemanticZoomControl") == "SemanticZoomControl"
    assert role_of_uia("EditControl") == "textbox"


def test_an_unknown_role_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        atspi_roles("knopf")
    assert "button" in ROLES


def test_doctor_names_what_a_desktop_run_lacks_with_the_fix(monkeypatch) -> None:
    from orchestrator.doctor import check_desktop
    from orchestrator.settings import Settings

    monkeypatch.setenv("PATH", "/nonexistent")
    check = check_desktop(Settings())
    assert not check.ok and check.optional
    assert "openbox" in check.detail and "xdotool" in check.detail
    assert check.fix is not None and "apt-get install -y" in check.fix and "dbus" in check.fix
