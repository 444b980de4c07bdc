"""Every bot under bots/ has an end-to-end test: a new bot without one fails the suite.

What is checked is only that some other module in tests/e2e names the bot (its directory
name as a string literal, as in ``bots("run", "posteingang-export", ...)``): that the test
runs the bot and passes is the business of that test.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.model import find_bots
from orchestrator.settings import PROJECT_ROOT

E2E = Path(__file__).parent


def test_every_bot_is_named_by_an_e2e_test() -> None:
    bots = [path.name for path in find_bots([PROJECT_ROOT / "bots"])]
    assert "gewerbe-uebertragung" in bots  # the check found the bots at all
    modules = {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(E2E.glob("test_*.py"))
        if path.name != Path(__file__).name
    }
    untested = [
        bot
        for bot in bots
        if not any(re.search(rf"""["']{re.escape(bot)}["']""", text) for text in modules.values())
    ]
    assert untested == [], f"bots without a test in tests/e2e: {untested}"
