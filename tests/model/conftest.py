"""Helpers for writing bots into a temporary directory that is also the working directory.

Problems carry paths as the user gave them, so tests pass relative paths (``demo``) and
expect ``demo/bot.yaml:3:5: ...``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.errors import DefinitionError, Problem
from orchestrator.model import load_bot

from bot_files import WriteBot, bot_writer

HEADER = """\
id: {id}
name: Demo
version: 1.0.0
owner: {{city: Gießen, fachamt: Ordnungsamt}}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory, made the current one."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def write_bot(workdir: Path) -> WriteBot:
    """``write_bot("demo", body, files={"hooks.py": ...})`` -> Path("demo") (relative);
    ``header=False`` writes ``body`` alone (see ``tests/bot_files.py``)."""
    return bot_writer(HEADER)


@pytest.fixture
def problems_of() -> Callable[[Path], list[str]]:
    """``problems_of(path)``: every problem ``load_bot`` raises, as ``path:line:col: msg``."""

    def problems(path: Path) -> list[str]:
        with pytest.raises(DefinitionError) as caught:
            load_bot(path)
        return rendered(caught.value.problems)

    return problems


def rendered(problems: list[Problem]) -> list[str]:
    """Problems as the CLI prints them."""
    return [str(p) for p in problems]
