"""What a lint rule looks at: a loaded bot with the parsed YAML (positions included) of its
own file and of every sub-flow it includes, plus the source of its hook modules."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.model import LoadedBot, YamlDocument, load_bot, read_yaml
from orchestrator.model.loader import BOT_FILE, SHARED_DIR


@dataclass(frozen=True)
class BotFiles:
    """A valid bot and its YAML files, bot file first.

    Attributes:
        loaded: The bot as the engine would run it.
        docs: ``bot.yaml``, then every sub-flow it includes from its own directory or from
            ``_shared/`` (a connector's flows belong to the connector and are not linted).
        includes: Include reference as written -> the parsed sub-flow (one of ``docs``).
        texts: File path as shown -> its lines (for ``# bots-lint: disable=...`` comments).
    """

    loaded: LoadedBot
    docs: tuple[YamlDocument, ...]
    includes: dict[str, YamlDocument] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def bot_doc(self) -> YamlDocument:
        """The parsed ``bot.yaml``."""
        return self.docs[0]

    def lines(self, path: str) -> list[str]:
        """The lines of a file of the bot, by the path findings show."""
        return self.texts.get(path, [])

    def hook_module(self, module: str) -> ast.Module | None:
        """The parsed source of a hook module (``hooks`` -> ``hooks.py`` of the bot), or None
        when it is not a file of the bot. Hooks are read, never imported, here."""
        return _parse_module(self.loaded.directory, module)


def read_bot_files(path: Path) -> BotFiles:
    """Load the bot at ``path`` (a directory or its ``bot.yaml``) and parse its YAML files.

    Raises:
        BotNotFound: No bot at ``path``.
        DefinitionError: The bot is invalid.
    """
    bot_file = path / BOT_FILE if path.is_dir() else path
    loaded = load_bot(bot_file)
    by_file = {bot_file.resolve(): read_yaml(bot_file, str(bot_file))}
    includes: dict[str, YamlDocument] = {}
    for ref in loaded.subflows:
        target = _subflow_file(loaded.directory, ref)
        if target is None:
            continue
        if target not in by_file:
            by_file[target] = read_yaml(target, _shown(bot_file.parent, loaded.directory, target))
        includes[ref] = by_file[target]
    texts = {doc.path: _lines(doc.path) for doc in by_file.values()}
    return BotFiles(loaded, tuple(by_file.values()), includes, texts)


def _subflow_file(directory: Path, ref: str) -> Path | None:
    connector, colon, _ = ref.partition(":")
    if colon and connector and "/" not in connector:
        return None  # a connector's flow
    if ref.startswith(f"{SHARED_DIR}/"):
        return (directory.parent / SHARED_DIR / ref.removeprefix(f"{SHARED_DIR}/")).resolve()
    return (directory / ref).resolve()


def _shown(shown_dir: Path, directory: Path, target: Path) -> str:
    """The path as the loader shows it: under the directory the user named."""
    if target.is_relative_to(directory):
        return str(shown_dir / target.relative_to(directory))
    if target.is_relative_to(directory.parent):
        return str(shown_dir.parent / target.relative_to(directory.parent))
    return str(target)


def _lines(shown: str) -> list[str]:
    try:
        return Path(shown).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


@functools.lru_cache(maxsize=64)
def _parse_module_cached(file: Path, mtime_ns: int) -> ast.Module | None:
    try:
        return ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _parse_module(directory: Path, module: str) -> ast.Module | None:
    base = directory / Path(*module.split("."))
    for file in (base.with_suffix(".py"), base / "__init__.py"):
        if file.is_file():
            return _parse_module_cached(file, file.stat().st_mtime_ns)
    return None
