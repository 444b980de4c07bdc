"""Bots written into the current directory by tests that read them as a user's files.

Problems and findings carry paths as the user gave them, so tests pass relative paths
(``demo``) and expect ``demo/bot.yaml:LINE:COL``; a header template fills the first lines.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

WriteBot = Callable[..., Path]


def bot_writer(template: str) -> WriteBot:
    """``write("demo", body, files={"hooks.py": ...}, bot_id=None, header=True)`` -> the
    relative directory ``demo``; ``body`` follows ``template`` (formatted with the bot's id),
    or stands alone with ``header=False``."""

    def write(
        name: str, body: str, *, files: dict[str, str] | None = None, header: bool = True,
        bot_id: str | None = None,
    ) -> Path:  # fmt: skip
        directory = Path(name)
        directory.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        if header:
            text = template.format(id=bot_id or directory.name) + text
        (directory / "bot.yaml").write_text(text, encoding="utf-8")
        for relative, content in (files or {}).items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(content), encoding="utf-8")
        return directory

    return write
