"""The accessibility check itself: axe-core does find what it must (else a clean report
would prove nothing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "/58BAwAI/AL+hc2rNAAAAABJRU5ErkJggg=="
)


def test_axe_reports_a_missing_language_and_alt_text(
    tmp_path: Path, axe_violations: Callable[[Path], list[dict[str, Any]]]
) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>x</title></head><body><main><h1>x</h1>"
        f'<img src="{PIXEL}"></main></body></html>',
        encoding="utf-8",
    )
    found = {violation["id"]: violation["impact"] for violation in axe_violations(page)}
    assert found == {"html-has-lang": "serious", "image-alt": "critical"}
