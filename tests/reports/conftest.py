"""Fixtures of the report tests: a report opened in a real Chromium, axe-core's verdict on it.

axe-core comes from the npm registry once (``npm install axe-core@4``) into
``~/.cache/kommune-bots/axe-core`` and is reused by later runs; ``KOMMUNE_BOTS_CACHE`` moves
the cache. Playwright's sync API runs in a thread of its own, so these fixtures work beside
tests that hold a browser open in the main thread.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from connectors.browser.chromium import CHROMIUM_ARGS
from orchestrator.settings import load_settings

AXE_VERSION = "4"
#: The WCAG 2.1 AA rules (and best practices) axe-core checks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERIOUS = ("serious", "critical")


def _cache_dir() -> Path:
    base = os.environ.get("KOMMUNE_BOTS_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "kommune-bots"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """``axe.min.js`` of axe-core 4, fetched from the npm registry on first use."""
    prefix = _cache_dir() / "axe-core"
    script = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is missing: the accessibility tests need axe-core from the npm registry "
            "(Debian: apt-get install npm)"
        )
    prefix.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
         f"axe-core@{AXE_VERSION}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not script.is_file():
        pytest.fail(f"npm could not install axe-core@{AXE_VERSION}:\n{done.stderr[-2000:]}")
    return script


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The Chromium the project drives (settings' default: Debian's chromium)."""
    return load_settings().chromium


def _in_own_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Playwright's sync API refuses a thread where another sync Playwright is open."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


OpenPage = Callable[..., Any]


@pytest.fixture(scope="session")
def open_page(chromium_path: Path) -> OpenPage:
    """``open_page(html_path, look, *, bypass_csp=False)``: load the file in a fresh Chromium
    and return ``look(page, dialogs)``; ``dialogs`` lists the messages of every dialog
    (``alert``, ...) the page opened, each dismissed at once."""

    @contextmanager
    def loaded(html_path: Path, bypass_csp: bool) -> Iterator[tuple[Page, list[str]]]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium_path), headless=True, args=list(CHROMIUM_ARGS)
            )
            try:
                context = browser.new_context(bypass_csp=bypass_csp)
                page = context.new_page()
                dialogs: list[str] = []

                def on_dialog(dialog: Any) -> None:
                    dialogs.append(dialog.message)
                    dialog.dismiss()

                page.on("dialog", on_dialog)
                page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
                yield page, dialogs
            finally:
                browser.close()

    def run(html_path: Path, look: Callable[..., Any], *, bypass_csp: bool = False) -> Any:
        def in_browser() -> Any:
            with loaded(html_path, bypass_csp) as (page, dialogs):
                return look(page, dialogs)

        return _in_own_thread(in_browser)

    return run


@pytest.fixture(scope="session")
def axe_violations(axe_script: Path, open_page: OpenPage) -> Callable[[Path], list[dict[str, Any]]]:
    """``axe_violations(html_path)``: axe-core's serious and critical WCAG 2.1 AA violations
    of the page, each as ``{"id", "impact", "help", "targets"}`` (the first few elements).

    The report's Content-Security-Policy forbids every script, axe too: the check's browser
    context bypasses it (``bypass_csp``), which changes nothing axe looks at.
    """

    def check(page: Page, _dialogs: list[str]) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(axe_script))
        options = json.dumps({"runOnly": {"type": "tag", "values": AXE_TAGS}})
        result = page.evaluate(f"async () => await axe.run(document, {options})")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [node["target"] for node in v["nodes"]][:5],
            }
            for v in result["violations"]
            if v.get("impact") in SERIOUS
        ]

    def violations(html_path: Path) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = open_page(html_path, check, bypass_csp=True)
        return found

    return violations
