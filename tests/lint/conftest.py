"""Bots written into a temporary working directory, for the lint rules to find things in.

Findings name files as the user gave them, so tests pass relative paths (``demo``) and
expect ``demo/bot.yaml:7:5``. The header fills lines 1-5 (id, name, version, owner,
manual_minutes_per_case): line 6 of the file is the first line of ``body``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

HEADER = """\
id: {id}
name: Demo
version: 1.0.0
owner: {{city: Gießen, fachamt: Ordnungsamt}}
manual_minutes_per_case: 4
"""

WriteBot = Callable[..., Path]


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
    ``header=False`` writes ``body`` alone."""

    def write(
        name: str, body: str, *, files: dict[str, str] | None = None, header: bool = True
    ) -> Path:
        directory = Path(name)
        directory.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        if header:
            text = HEADER.format(id=directory.name) + text
        (directory / "bot.yaml").write_text(text, encoding="utf-8")
        for relative, content in (files or {}).items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(content), encoding="utf-8")
        return directory

    return write
