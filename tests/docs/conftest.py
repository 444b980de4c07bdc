"""The fixture every docs test works in: the throw-away project of a block (``_doc_session``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _doc_session import enter_project
from _snippets import Block


@pytest.fixture
def enter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Block], Path]:
    """``enter(block)``: make the block's project and work in it, as a reader would."""

    def go(block: Block) -> Path:
        return enter_project(block, tmp_path, monkeypatch)

    return go
