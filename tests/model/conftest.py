"""Helpers for writing bots into a temporary directory that is also the working directory.

Problems carry paths as the user gave them, so tests pass relative paths (``demo``) and
expect ``demo/bot.yaml:3:5: ...``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.errors import DefinitionError, Problem
from orchestrator.model import load_bot

HEADER = """\
id: {id}
name: Demo
version: 1.0.0
owner: {{city: Gießen, fachamt: Ordnungsamt}}
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
    """``write_bot("demo", body, files={"hooks.py": ...})`` -> Path("demo") (relative).

    ``body`` is YAML after the four header lines (id, name, version, owner), so line 5 of
    the file is the first line of ``body``; pass ``header=False`` to write ``body`` alone.
    """

    def write(
        name: str, body: str, *, files: dict[str, str] | None = None, header: bool = True,
        bot_id: str | None = None,
    ) -> Path:  # fmt: skip
        directory = Path(name)
        directory.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        if header:
            text = HEADER.format(id=bot_id or directory.name) + text
        (directory / "bot.yaml").write_text(text, encoding="utf-8")
        for relative, content in (files or {}).items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(content), encoding="utf-8")
        return directory

    return write


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
