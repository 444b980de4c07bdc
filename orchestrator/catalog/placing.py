"""Put a checked bundle's files into a bot directory: all of them, or none.

The files are written into a new folder beside the target, checked there (the digest of what
is on disk, the bot loads without errors), and only then moved into place with a rename. An
existing bot directory stays untouched until the new one is complete; it is then swapped
out, and kept until the caller's other changes (overlay, audit, catalog) are done too:
:meth:`Placed.keep` then removes it, :meth:`Placed.undo` puts it back. Whatever goes wrong
while placing, the folder beside is removed again::

    placed = place_bundle(bundle, Path("bots/posteingang-export"))
    try:
        ...                  # the rest of the install
    except BaseException:
        placed.undo()        # the old files are back
        raise
    placed.keep()            # the old files are gone

Nothing is written before the bundle was read and checked in memory
(:func:`~orchestrator.catalog.bundle.read_bundle`), and no file is written outside the
target's folder: every path is checked again, and files are created new, never through a
link.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.catalog.bundle import Bundle, unsafe_name
from orchestrator.errors import BundleRefused, DefinitionError, Problem
from orchestrator.model.loader import LoadedBot, bot_digest, load_bot


@dataclass(frozen=True)
class Placed:
    """A bundle's files in place at ``target``; the folder they replaced (``previous``, None
    when there was none) is kept until :meth:`keep` or :meth:`undo`."""

    bot: LoadedBot
    target: Path
    previous: Path | None

    def keep(self) -> None:
        """The new files stay: the replaced folder is removed."""
        if self.previous is not None:
            shutil.rmtree(self.previous, ignore_errors=True)

    def undo(self) -> None:
        """``target`` as it was before: the replaced folder back, or no folder at all."""
        _put_back(self.target, self.previous)


def place_bundle(bundle: Bundle, target: Path) -> Placed:
    """Make ``target`` hold exactly the bundle's bot files; the replaced files are kept until
    :meth:`Placed.keep` or :meth:`Placed.undo`.

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
        # mkdtemp makes the folder 0700: the bot folder gets the modes of any new folder.
        os.chmod(staging, 0o777 & ~_umask())
        _write_files(bundle, staging)
        _check_staged(bundle, staging)
        previous = _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        loaded = load_bot(target)
    except BaseException:
        _put_back(target, previous)
        raise
    return Placed(loaded, target, previous)


def _write_files(bundle: Bundle, staging: Path) -> None:
    root = staging.resolve()
    for name, data in sorted(bundle.files.items()):
        problem = unsafe_name(name)
        path = (staging / name).resolve()
        if problem is not None or not path.is_relative_to(root):
            raise BundleRefused(f"bundle {bundle.path}: the path {name!r} is unsafe ({problem})")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, flags, 0o666)  # the umask applies, as to any new file
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise BundleRefused(
                f"bundle {bundle.path}: cannot write {name} into {staging.parent}: "
                f"{exc.strerror or exc}"
            ) from None


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


def _swap_in(staging: Path, target: Path) -> Path | None:
    """Move ``staging`` to ``target``; returns where an existing ``target`` went, or None."""
    if not target.exists():
        os.rename(staging, target)
        return None
    # An empty folder to rename the old files onto: a rename replaces an empty directory.
    previous = Path(tempfile.mkdtemp(prefix=f".{target.name}.previous-", dir=target.parent))
    try:
        os.rename(target, previous)
    except BaseException:
        previous.rmdir()
        raise
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(previous, target)
        raise
    return previous


def _put_back(target: Path, previous: Path | None) -> None:
    """``target`` as before the swap: ``previous`` back in place, or no ``target`` at all."""
    # An empty folder to rename the new files onto: a rename replaces an empty directory.
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.undone-", dir=target.parent))
    os.rename(target, aside)
    if previous is not None:
        os.rename(previous, target)
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    # Reading the umask means setting it: set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
