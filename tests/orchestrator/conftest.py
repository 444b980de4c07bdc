"""Fixtures for orchestrator tests: scratch bots in a temporary bot directory.

Their hooks note what they did in one shared file (appends of one line each, so processes
writing at once never mix lines)::

    scratch_bots.add("notiz", pause=2, execution={"max_parallel": 0})
    run_id = scratch_bots.enqueue(store, "notiz")
    ...
    [note.run_id for note in scratch_bots.notes()]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.model.loader import resolve_bot
from orchestrator.requests import run_request
from orchestrator.settings import load_settings
from orchestrator.store import RunStore

HOOKS = """
import os
import time

NOTES = {notes!r}


def note(ctx, what="ran"):
    line = f"{{ctx.run_id}} {{what}} {{os.getpid()}} {{time.time():.6f}}\\n"
    fd = os.open(NOTES, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def fail(ctx):
    raise RuntimeError("Fachverfahren antwortet nicht")
"""


@dataclass(frozen=True)
class Note:
    """One line a hook wrote: which run, what, in which process, when (epoch seconds)."""

    run_id: int
    what: str
    pid: int
    at: float


@dataclass(frozen=True)
class ScratchBots:
    """Bots written for one test into ``directory`` (``BOTS_BOT_DIRS`` points there)."""

    directory: Path
    notes_file: Path

    def add(
        self,
        bot_id: str,
        *,
        pause: float | None = None,
        fail: bool = False,
        execution: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Path:
        """Write bot ``bot_id`` and return its directory.

        Its steps: note ``ran``; with ``pause``: note ``start``, pause, note ``end``; with
        ``fail``: a hook that raises instead of the last note.
        """
        steps: list[dict[str, Any]] = [{"call": "hooks:note"}]
        if pause is not None:
            steps = [
                {"call": "hooks:note", "with": {"what": "start"}},
                {"pause": pause},
                {"call": "hooks:note", "with": {"what": "end"}},
            ]
        if fail:  # after the pause, if there is one
            steps = [*steps[:-1], {"call": "hooks:fail"}]
        definition: dict[str, Any] = {
            "id": bot_id,
            "name": f"Testbot {bot_id}",
            "version": "1.0.0",
            "owner": {"city": "Gießen", "fachamt": "Ordnungsamt"},
            "execution": execution or {},
            "steps": steps,
        }
        if timeout is not None:
            definition["timeout"] = timeout
        bot_dir = self.directory / bot_id
        bot_dir.mkdir(parents=True)
        (bot_dir / "bot.yaml").write_text(json.dumps(definition, indent=2), encoding="utf-8")
        (bot_dir / "hooks.py").write_text(HOOKS.format(notes=str(self.notes_file)))
        return bot_dir

    def enqueue(
        self,
        store: RunStore,
        bot_id: str,
        *,
        tenant: str = "giessen",
        params: dict[str, Any] | None = None,
    ) -> int:
        """Queue a run of ``bot_id`` for ``tenant`` as the API would, and return its id."""
        settings = load_settings(bot_dirs=[self.directory])
        request = run_request(
            resolve_bot(bot_id, [self.directory]),
            settings=settings,
            tenant=tenant,
            params=params or {},
            trigger="api",
            actor="user:test@localhost",
        )
        return store.enqueue(request)

    def notes(self) -> list[Note]:
        """Every note written so far, in the order written."""
        if not self.notes_file.exists():
            return []
        lines = self.notes_file.read_text(encoding="utf-8").splitlines()
        return [
            Note(int(run_id), what, int(pid), float(at))
            for run_id, what, pid, at in (line.split() for line in lines)
        ]


@pytest.fixture
def scratch_bots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScratchBots:
    """An empty bot directory for the test's bots; ``BOTS_BOT_DIRS`` names it."""
    directory = tmp_path / "bots"
    directory.mkdir()
    monkeypatch.setenv("BOTS_BOT_DIRS", json.dumps([str(directory)]))
    return ScratchBots(directory, tmp_path / "notes.txt")
