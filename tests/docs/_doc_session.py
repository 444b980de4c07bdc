"""The throw-away project a document's blocks are checked in, and the running of shell blocks.

A document's project is a copy of what a reader has in a checkout: ``bots/`` (the example bots
and their hooks), ``bot_catalog.yaml`` (``BOTS_CATALOG_FILE`` names the copy: a docs test never
writes the repository's catalog), ``overlays/`` and ``catalog/`` (the bundles, when there are
any), plus the files the document's YAML blocks name in their first line. The ```diff blocks
above a block are applied to it in order; a shell block marked ``continues`` gets the shell
blocks above it run first, between those diffs, as the reader ran them (see ``_snippets.py``).

A shell block's ``bots ...`` lines run with ``CliRunner`` against ``cli.app`` in an isolated
data directory, with the ``export`` lines of the document so far, from the project's
directory; a block that runs a bot gets the sandbox (on a free port, its targets in
``BOTS_TARGETS__*``). Every command must exit 0, or the code of the block's ``exits`` mark.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from _snippets import (
    ROOT,
    SHELL,
    YAML,
    Block,
    Command,
    blocks,
    commands,
    following,
    missing_lines,
    needs_sandbox,
)
from ruamel.yaml import YAML as YamlParser
from typer.testing import CliRunner

from cli import app
from orchestrator.settings import load_settings
from sandbox.server import running_sandbox

#: What of the checkout a project copies besides bots/ (those that exist).
COPIED = ("bot_catalog.yaml", "overlays", "catalog")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def load_yaml(text: str) -> Any:
    return YamlParser(typ="safe", pure=True).load(text)


def make_project(tmp_path: Path, doc: Path) -> Path:
    """A copy of the checkout's bots, catalog and overlays, with the files the document's
    YAML blocks name or define."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "bots", project / "bots", ignore=_IGNORED)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=_IGNORED)
        elif source.is_file():
            shutil.copy2(source, project / name)
    for block in blocks(doc):
        if block.lang not in YAML or block.invalid:
            continue
        target = block.file
        if target is None:
            try:
                data = load_yaml(block.text)
            except Exception:  # its own test reports it
                continue
            if not (isinstance(data, dict) and "id" in data and "steps" in data):
                continue
            target = f"bots/{data['id']}/bot.yaml"
        path = project / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
    return project


def enter_project(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the block's project and work in it, as a reader would: up to the block, the
    document's diffs are applied (and, for a block that continues, its shell blocks run)."""
    project = make_project(tmp_path, block.doc)
    monkeypatch.chdir(project)
    monkeypatch.setenv("BOTS_BOT_DIRS", json.dumps([str(project / "bots")]))
    monkeypatch.setenv("BOTS_CATALOG_FILE", str(project / "bot_catalog.yaml"))
    # Never the developer's own token (~/.config/kommune-bots/token): no users, no token.
    monkeypatch.setenv("BOTS_TOKEN_FILE", str(tmp_path / "no-token"))
    monkeypatch.setenv("BOTS_SANDBOX__PORT", "0")
    monkeypatch.setenv("BOTS_SANDBOX__CASES", "3")
    earlier = [b for b in blocks(block.doc) if b.line < block.line]
    if block.continues:
        earlier = _resume(block, earlier, project)
    for before in earlier:
        if before.lang == "diff":
            apply_diff(before, project)
        elif block.continues and before.lang in SHELL and not before.not_run:
            run_shell(before, project, monkeypatch)
            _keep(before, project)
    return project


def run_and_check(block: Block, project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run a shell block in its project (made by :func:`enter_project`); returns what the
    ``output`` and ``written`` blocks after it show and it did not print or write."""
    printed = run_shell(block, project, monkeypatch)
    runnable_before = [
        b for b in blocks(block.doc) if b.line < block.line and b.lang in SHELL and not b.not_run
    ]
    if block.continues or not runnable_before:  # the project is as the reader has it
        _keep(block, project)
    return check_results(block, project, printed)


# --------------------------------------------------------------------------- sessions

#: The project and data directory as a shell block left them when it ran after every shell
#: block above it, for the blocks that continue from it: (document, line) -> the copies.
#: Later tests start there instead of running every block above them again (a test run alone
#: runs them all). Absolute paths a run records in the data directory still name the first
#: test's directories.
_LEFT: dict[tuple[Path, int], tuple[Path, Path]] = {}
_COPIES: list[Path] = []


def _resume(block: Block, earlier: list[Block], project: Path) -> list[Block]:
    """Restore the state the last shell block above ``block`` left, if kept; returns the
    blocks still to apply or run."""
    for position in range(len(earlier) - 1, -1, -1):
        kept = _LEFT.get((block.doc, earlier[position].line))
        if kept is None:
            continue
        for child in project.iterdir():  # the directory stays: it is the current one
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(kept[0], project, symlinks=True, dirs_exist_ok=True)
        data = Path(os.environ["BOTS_DATA_DIR"])
        shutil.rmtree(data, ignore_errors=True)
        if kept[1].exists():
            shutil.copytree(kept[1], data, symlinks=True)
        return earlier[position + 1 :]
    return earlier


def _keep(block: Block, project: Path) -> None:
    """Keep what ``block`` left when a later block of its document continues from it."""
    if not any(b.continues for b in following(block)):
        return
    if not _COPIES:
        _COPIES.append(Path(tempfile.mkdtemp(prefix="docs-sessions-")))
        atexit.register(shutil.rmtree, _COPIES[0], True)
    where = _COPIES[0] / f"{block.doc.stem}-{block.line}"
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(project, where / "project", symlinks=True)
    data = Path(os.environ["BOTS_DATA_DIR"])
    if data.exists():
        shutil.copytree(data, where / "data", symlinks=True)
    _LEFT[(block.doc, block.line)] = (where / "project", where / "data")


def apply_diff(block: Block, project: Path) -> None:
    """Apply a ```diff block to the project's files, as ``git apply`` does (no fuzz)."""
    done = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "-"],
        input=block.text,
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(project.parent)},
        timeout=60,
    )
    assert done.returncode == 0, f"{block.id}: the diff does not apply:\n{done.stderr}"


# --------------------------------------------------------------------------- shell blocks


def exports_before(block: Block) -> dict[str, str]:
    """The ``export`` lines of the document's shell blocks up to and including ``block``."""
    env: dict[str, str] = {}
    for earlier in blocks(block.doc):
        if earlier.lang in SHELL and earlier.line <= block.line:
            for command in commands(earlier):
                env.update(command.env)
    return env


def run_shell(block: Block, project: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the block's lines; every ``bots`` command must exit as the block says. Returns
    what they printed (stdout and stderr, as a terminal shows them)."""
    lines = commands(block)
    unrunnable = [f"{c.line}: {c.problem}" for c in lines if c.problem]
    assert unrunnable == [], (
        f"{block.id}: mark the block <!-- snippet: not-run: REASON --> or make it runnable:\n"
        + "\n".join(unrunnable)
    )
    for name, value in exports_before(block).items():
        monkeypatch.setenv(name, value)
    printed = []
    with _targets(block, monkeypatch) as targets:
        for command in lines:
            for name, value in command.env:
                monkeypatch.setenv(name, value)
            if command.mode is not None and command.path is not None:
                (project / command.path).chmod(command.mode)
            if command.request is not None:
                printed.append(targets.send(block, command))
                continue
            if not command.args:
                continue
            if block.installed is not None:
                done = bots_beside(block, command.args)
                assert done.returncode == block.exits, (
                    f"{block.id}: `{command.line}`: {done.stderr}"
                )
                printed.append(done.stdout + done.stderr)
                continue
            result = CliRunner().invoke(app, list(command.args))
            assert result.exit_code == block.exits, (
                f"{block.id}: `{command.line}` exited {result.exit_code}, not {block.exits}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
            )
            if command.stdout_to:
                (project / command.stdout_to).write_text(result.stdout, encoding="utf-8")
                printed.append(result.stderr)
            else:
                printed.append(result.output)
    return "".join(printed)


def check_results(block: Block, project: Path, printed: str) -> list[str]:
    """What the blocks after a shell block show of its results and the project disagrees
    with: an ``output`` block right after it, ``written: PATH`` blocks before the next shell
    block."""
    problems = []
    for position, after in enumerate(following(block)):
        if after.lang in SHELL:
            break
        if after.marked("output") is not None and position == 0:
            missing = missing_lines(after.text, printed)
            if missing:
                problems.append(
                    f"{after.id}: not in the output of {block.id}:\n"
                    + "\n".join(missing)
                    + f"\nthe output:\n{printed}"
                )
        written = after.marked("written")
        if written:
            path = project / written
            actual = path.read_text(encoding="utf-8") if path.is_file() else ""
            missing = missing_lines(after.text, actual)
            if missing:
                problems.append(
                    f"{after.id}: not in {written} after {block.id}:\n"
                    + "\n".join(missing)
                    + f"\nthe file:\n{actual}"
                )
    return problems


def bots_beside(block: Block, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """``bots ARGS`` in a separate process with the block's ``installed`` folder on the path
    (this process's registry must not see a package the project does not ship)."""
    assert block.installed is not None
    path = os.pathsep.join([str(ROOT), str(block.installed)])
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=300,
    )


class _targets:
    """The sandbox, serving while a block that runs bots runs, its URLs as the targets."""

    def __init__(self, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wanted, self.monkeypatch = needs_sandbox(block), monkeypatch
        self._running: Any = None
        self.base_url = ""

    def __enter__(self) -> _targets:
        if not self.wanted:
            return self
        settings = load_settings()
        self._running = running_sandbox(settings.sandbox_dir, settings.sandbox)
        sandbox = self._running.__enter__()
        self.base_url = sandbox.base_url
        self.monkeypatch.setenv("BOTS_TARGETS__CIVENTO", sandbox.civento_url)
        self.monkeypatch.setenv("BOTS_TARGETS__GEWERBEREGISTER", sandbox.gewerberegister_url)
        return self

    def send(self, block: Block, command: Command) -> str:
        """A ``curl`` line's request, to this sandbox; it must be answered with 2xx."""
        request = command.request
        assert request is not None
        answer = httpx.request(
            request.method,
            self.base_url + request.path,
            headers=dict(request.headers),
            content=request.body,
            timeout=30,
        )
        assert answer.is_success, (
            f"{block.id}: `{command.line}`: {answer.status_code} {answer.text}"
        )
        return answer.text + "\n"

    def __exit__(self, *exc: object) -> None:
        if self._running is not None:
            self._running.__exit__(*exc)
