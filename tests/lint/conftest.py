"""Bots written into a temporary working directory, for the lint rules to find things in.

Findings name files as the user gave them, so tests pass relative paths (``demo``) and
expect ``demo/bot.yaml:7:5``. The header fills lines 1-5 (id, name, version, owner,
manual_minutes_per_case): line 6 of the file is the first line of ``body``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot_files import WriteBot, bot_writer

HEADER = """\
id: {id}
name: Demo
version: 1.0.0
owner: {{city: Gießen, fachamt: Ordnungsamt}}
manual_minutes_per_case: 4
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
