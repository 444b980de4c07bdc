"""The code stays in modules a reader can hold in mind: a module that grows past the limit
holds two ideas and is split (issue 9), and the CLI entry point only assembles the app."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE_LINES = 500
CLI_LINES = 150


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("package", ["orchestrator", "connectors"])
def test_no_module_of_the_library_is_over_the_limit(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules
    too_long = {str(p.relative_to(ROOT)): _lines(p) for p in modules if _lines(p) > MODULE_LINES}
    assert too_long == {}, f"split these modules (at most {MODULE_LINES} lines): {too_long}"


def test_the_cli_entry_point_only_assembles_the_app() -> None:
    assert _lines(ROOT / "cli.py") < CLI_LINES
