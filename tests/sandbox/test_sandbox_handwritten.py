"""The hand-written benchmark script against the sandbox: it transfers, exactly once.

(The script starts its own Playwright; it runs in a thread of its own, so that Playwright
fixtures open elsewhere in the session do not stand in its way.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from orchestrator.settings import SandboxSettings
from sandbox.seed import seed
from sandbox.server import running_sandbox
from sandbox.state import read_state


@pytest.mark.browser
def test_handwritten_transfer_once_and_only_once(
    tmp_path: Path,
    chromium_path: Path,
    handwritten: ModuleType,
    in_own_thread: Callable[..., Any],
) -> None:
    settings = SandboxSettings(cases=3)
    sandbox_dir = tmp_path / "sandbox"
    seed(sandbox_dir, settings)
    new = [
        v["nummer"]
        for v in read_state(sandbox_dir)["vorgaenge"]
        if v["status"] == "Neu" and v["leistung"] == "Gewerbeanmeldung"
    ]
    with running_sandbox(sandbox_dir, settings) as sandbox:
        args = (sandbox.civento_url, sandbox.gewerberegister_url, settings.password, chromium_path)
        assert in_own_thread(handwritten.transfer_cases, *args) == 3
        state = read_state(sandbox_dir)
        vorgaenge = {v["nummer"]: v for v in state["vorgaenge"]}
        for nummer in new:
            entries = [e for e in state["register"] if e["bezugszeichen"] == nummer]
            assert len(entries) == 1
            assert vorgaenge[nummer]["status"] == "Übertragen"
            assert vorgaenge[nummer]["aktenzeichen"] == entries[0]["aktenzeichen"]
        assert state["duplicates"] == []

        assert in_own_thread(handwritten.transfer_cases, *args) == 0
        assert read_state(sandbox_dir)["register"] == state["register"]
