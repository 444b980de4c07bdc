"""The desktop session on a real X display (Xvfb + openbox) with its own accessibility bus,
driving zenity: a GTK 3 application from Debian's packages that this project did not write."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.base import AmbiguousLocator, ConnectorTimeout, ElementNotFound
from connectors.display import virtual_display

pytestmark = pytest.mark.skipif(
    shutil.which("zenity") is None or shutil.which("Xvfb") is None,
    reason="needs zenity and Xvfb (make system installs them)",
)

LANG = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LANGUAGE": "C"}


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display() as name:
        yield name


@pytest.fixture
def desktop(display: str, tmp_path: Path) -> Iterator[object]:
    from connectors.desktop.session import DesktopSession

    with DesktopSession(display, timeout_s=10, run_dir=tmp_path) as session:
        yield session


def test_role_and_name_drive_a_gtk_application_we_did_not_write(desktop, tmp_path) -> None:
    from connectors.desktop.locate import ControlSpec

    pid = desktop.start_app(
        ["zenity", "--entry", "--title", "Anmeldung", "--text", "Name des Hundes?"],
        env=LANG,
        log_name="zenity",
    )
    window = desktop.use_window(title="Anmeldung", pid=pid, timeout=20)
    assert window.role in ("dialog", "window")
    desktop.set_text(ControlSpec(role="textbox"), "Größe Bär", timeout=10)
    assert desktop.read(ControlSpec(role="textbox"), timeout=5) == "Größe Bär"
    assert desktop.count(ControlSpec(role="button"), timeout=5) >= 2
    assert desktop.count(ControlSpec(role="button", name="Gibt es nicht"), timeout=5) == 0
    how = desktop.click(ControlSpec(role="button", name="OK"), timeout=10)
    assert how in ("action", "pointer")
    app = desktop.apps.all()[0].process
    app.wait(timeout=10)
    assert app.returncode == 0
    assert (
        (tmp_path / "desktop" / "zenity.log")
        .read_text(encoding="utf-8")
        .strip()
        .endswith("Größe Bär")
    )


def test_a_fallback_is_tried_in_order_and_named(desktop) -> None:
    from connectors.desktop.locate import ControlSpec

    desktop.start_app(["zenity", "--question", "--title", "Frage", "--text", "Weiter?"], env=LANG)
    desktop.use_window(title="Frage", timeout=20)
    spec = ControlSpec(
        role="button", name="Speichern", fallbacks=(ControlSpec(role="button", name="Yes"),)
    )
    control, used = desktop.find(spec, timeout=5)
    assert used == spec.fallbacks[0]
    assert control.name == "Yes"


def test_two_matches_fail_and_name_both(desktop) -> None:
    from connectors.desktop.locate import ControlSpec

    desktop.start_app(["zenity", "--question", "--title", "Zweimal", "--text", "?"], env=LANG)
    desktop.use_window(title="Zweimal", timeout=20)
    started = time.monotonic()
    with pytest.raises(AmbiguousLocator) as caught:
        desktop.find(ControlSpec(role="button"), timeout=10)
    assert time.monotonic() - started < 5  # strict at once, not after the timeout
    message = str(caught.value)
    assert "'No'" in message and "'Yes'" in message and " at (" in message


def test_a_missing_control_names_what_is_near(desktop) -> None:
    from connectors.desktop.locate import ControlSpec

    desktop.start_app(["zenity", "--question", "--title", "Fehlt", "--text", "?"], env=LANG)
    desktop.use_window(title="Fehlt", timeout=20)
    with pytest.raises(ElementNotFound) as caught:
        desktop.find(ControlSpec(role="button", name="Abbrechen"), timeout=1)
    assert "'Yes'" in str(caught.value) and "Fehlt" in str(caught.value)


def test_a_window_that_never_appears_fails_within_its_timeout(desktop) -> None:
    started = time.monotonic()
    with pytest.raises(ConnectorTimeout) as caught:
        desktop.find_window(title="Hundesteuer Anmeldung", timeout=3)
    assert time.monotonic() - started < 3 + 2
    assert "'Hundesteuer Anmeldung'" in str(caught.value)


def test_a_hung_application_ends_the_step_with_a_timeout(desktop) -> None:
    from connectors.desktop.locate import ControlSpec

    pid = desktop.start_app(["zenity", "--entry", "--title", "Haengt"], env=LANG)
    desktop.use_window(title="Haengt", timeout=20)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(ConnectorTimeout) as caught:
            desktop.find(ControlSpec(role="button", name="OK"), timeout=2)
        assert time.monotonic() - started < 2 + 2
        assert "in time" in str(caught.value)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_evidence_is_the_display_the_window_and_its_tree(desktop, tmp_path) -> None:
    desktop.start_app(["zenity", "--entry", "--title", "Beweis", "--text", "Rasse?"], env=LANG)
    desktop.use_window(title="Beweis", timeout=20)
    files = desktop.capture_evidence(tmp_path, "failure")
    assert set(files) == {"screenshot", "window", "tree"}
    assert files["screenshot"].read_bytes()[:4] == b"\x89PNG"
    tree = files["tree"].read_text(encoding="utf-8")
    assert "button 'OK'" in tree and "textbox" in tree
