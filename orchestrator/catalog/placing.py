"""Put a checked bundle's files into a bot directory: all of them, or none.

The files are written into a new folder beside the target, checked there (the digest of what
is on disk, the bot loads without errors), and only then moved into place with a rename. An
existing bot directory stays untouched until the new one is complete; it is then swapped
out and removed. Whatever goes wrong, the folder beside is removed again::

    place_bundle(bundle, Path("bots/posteingang-export"))

Nothing is written before the bundle was read and checked in memory
(:func:`~orchestrator.catalog.bundle.read_bundle`), and no file is written outside the
target's folder: every path is checked again, and files are created new, never through a
link.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from orchestrator.catalog.bundle import Bundle, unsafe_name
from orchestrator.errors import BundleRefused, DefinitionError, Problem
from orchestrator.model.loader import LoadedBot, bot_digest, load_bot


def place_bundle(bundle: Bundle, target: Path) -> LoadedBot:
    """Make ``target`` hold exactly the bundle's bot files; returns the bot loaded from it.

    Raises:
        BundleRefused: ``target`` is a link or a file, a path is unsafe, the files on disk do
            not have the manifest's digest, or the bot in the bundle has errors (their
            problems are listed). ``target`` is as it was.
    """
    target = Path(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BundleRefused(f"{target} is no directory (a link or a file): refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.installing-", dir=target.parent))
    try:
        _write_files(bundle, staging)
        _check_staged(bundle, staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_bot(target)


def _write_files(bundle: Bundle, staging: Path) -> None:
    root = staging.resolve()
    for name, data in sorted(bundle.files.items()):
        problem = unsafe_name(name)
        path = (staging / name).resolve()
        if problem is not None or not path.is_relative_to(root):
            raise BundleRefused(f"bundle {bundle.path}: the path {name!r} is unsafe ({problem})")
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(path, flags, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)


def _check_staged(bundle: Bundle, staging: Path) -> None:
    """What is on disk is what was signed, and it is a valid bot of the bundle's id."""
    digest = bot_digest(staging)
    if digest != bundle.manifest.digest:
        raise BundleRefused(
            f"bundle {bundle.path}: the files written have digest {digest}, the manifest says "
            f"{bundle.manifest.digest}"
        )
    try:
        loaded = load_bot(staging)
    except DefinitionError as exc:
        shown = f"{bundle.path}:bot"
        problems = [
            Problem(p.path.replace(str(staging), shown), p.line, p.column, p.message, p.severity)
            for p in exc.problems
        ]
        lines = "\n  ".join(str(p) for p in problems)
        raise BundleRefused(f"bundle {bundle.path}: the bot in it has errors:\n  {lines}") from None
    if (loaded.id, loaded.definition.version) != (bundle.bot, bundle.version):
        raise BundleRefused(
            f"bundle {bundle.path}: its manifest names {bundle.bot} {bundle.version}, its "
            f"bot.yaml {loaded.id} {loaded.definition.version}"
        )


def _swap_in(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing ``target`` goes only once that worked."""
    if not target.exists():
        os.rename(staging, target)
        return
    # An empty folder to rename the old files onto: a rename replaces an empty directory.
    previous = Path(tempfile.mkdtemp(prefix=f".{target.name}.previous-", dir=target.parent))
    os.rename(target, previous)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)
