"""Every YAML and shell snippet of README.md and docs/*.md works, as Typer's tests/test_tutorial.

Each document gets a throw-away project: a copy of ``bots/`` (the example bots and their
hooks) plus the files its YAML blocks name in their first line (see ``_snippets.py``). Then:

- a **YAML block** is validated as what it is: a whole bot (``id`` and ``steps``) as
  ``bots/ID/bot.yaml``; a sub-flow (``steps`` without ``id``) as a flow file a minimal bot
  includes; a step, a list of steps, a ``finally`` section or a list of locators inside a
  minimal bot (which declares the targets, secrets and parameters the snippet names, and sets
  the variables it uses but does not make: a fragment comes from a larger bot); a settings
  file (``tenants``, ``connectors``, ...) through ``BOTS_CONFIG``. A block marked
  ``<!-- snippet: invalid -->`` must fail, with each line of the ```text block after it;
- a **shell block** runs its ``bots ...`` lines with ``CliRunner`` against ``cli.app`` in an
  isolated data directory, with the ``export`` lines of the document so far, from the
  project's directory; a block that runs a bot gets the sandbox (on a free port, its targets
  in ``BOTS_TARGETS__*``). Every command must exit 0. Lines that are not ``bots`` commands,
  and ``bots`` commands that run until stopped, need the block marked
  ``<!-- snippet: not-run: REASON -->``; a marked block must hold such a line.

Blocks in other languages (``text``, ``python``, ``cron``, ``toml``, diagrams) are shown, not
run. The sandbox is seeded with 3 new Gewerbeanmeldungen (``BOTS_SANDBOX__CASES``) so the bot
runs stay short.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _snippets import (
    DOCS,
    MARKS,
    ROOT,
    SHELL,
    YAML,
    Block,
    all_blocks,
    blocks,
    commands,
    expected_output,
    needs_sandbox,
)
from pydantic import BaseModel
from ruamel.yaml import YAML as YamlParser
from typer.testing import CliRunner

from cli import app
from orchestrator.model import validate_paths
from orchestrator.model.registry import installed
from orchestrator.model.steps import step_kinds
from orchestrator.settings import Settings, load_settings
from sandbox.server import running_sandbox

BLOCKS = all_blocks()
OWNER = {"city": "Gießen", "fachamt": "Ordnungsamt"}
LOCATOR_KEYS = frozenset({"test_id", "role", "label", "placeholder", "text", "css", "xpath"})
#: The connector of the test fixture package, whose settings docs/connectors.md shows.
NOTIZ = ROOT / "tests" / "fixtures" / "notiz_connector" / "kb_notiz" / "__init__.py"


def _params(kind: set[str], *, slow: bool = False) -> list[Any]:
    chosen = [b for b in BLOCKS if b.lang in kind and not b.not_run]
    return [
        pytest.param(
            b,
            id=b.id,
            marks=[pytest.mark.slow, pytest.mark.browser] if slow and needs_sandbox(b) else [],
        )
        for b in chosen
    ]


# --------------------------------------------------------------------------- the project


def _load(text: str) -> Any:
    return YamlParser(typ="safe", pure=True).load(text)


def _project(tmp_path: Path, doc: Path) -> Path:
    """A copy of ``bots/`` with the files the document's YAML blocks name or define."""
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "bots", project / "bots", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for block in blocks(doc):
        if block.lang not in YAML or block.invalid:
            continue
        target = block.file
        if target is None:
            try:
                data = _load(block.text)
            except Exception:  # its own test reports it
                continue
            if not (isinstance(data, dict) and "id" in data and "steps" in data):
                continue
            target = f"bots/{data['id']}/bot.yaml"
        path = project / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
    return project


@pytest.fixture
def enter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``enter(block)``: make the block's project and work in it, as a reader would."""

    def go(block: Block) -> Path:
        project = _project(tmp_path, block.doc)
        monkeypatch.chdir(project)
        monkeypatch.setenv("BOTS_BOT_DIRS", json.dumps([str(project / "bots")]))
        monkeypatch.setenv("BOTS_SANDBOX__PORT", "0")
        monkeypatch.setenv("BOTS_SANDBOX__CASES", "3")
        return project

    yield go


# --------------------------------------------------------------------------- YAML blocks


def _names(text: str, prefix: str) -> list[str]:
    return sorted(set(re.findall(rf"\b{prefix}\.(\w+)", text)))


def _wrapper(block: Block, steps: list[Any], finally_: list[Any] | None = None) -> dict[str, Any]:
    """A minimal bot around steps of a snippet, declaring what the snippet names."""
    bot: dict[str, Any] = {
        "id": f"snippet-{block.line}",
        "name": f"Snippet {block.id}",
        "version": "0.1.0",
        "owner": OWNER,
        "targets": sorted({"civento", "gewerberegister", *_names(block.text, "targets")}),
        "steps": steps,
    }
    if secrets := _names(block.text, "secrets"):
        bot["secrets"] = dict.fromkeys(secrets, "aus der Umgebung")
    if params := _names(block.text, "params"):
        bot["parameters"] = {name: {"type": "string", "default": ""} for name in params}
    if finally_:
        bot["finally"] = finally_
    return bot


def _hooks_for(block: Block, directory: Path) -> None:
    """Copy the example bot's hooks.py whose functions the snippet calls as ``hooks:NAME``."""
    for name in set(re.findall(r"\bhooks:(\w+)", block.text)):
        for hooks in sorted((ROOT / "bots").glob("*/hooks.py")):
            if re.search(rf"^def {name}\(", hooks.read_text(encoding="utf-8"), re.M):
                shutil.copy(hooks, directory / "hooks.py")


def _check_wrapped(block: Block, project: Path, bot: dict[str, Any]) -> list[str]:
    """Validate the wrapped bot; variables it uses but never makes are set by a first step."""
    directory = project / "bots" / bot["id"]
    directory.mkdir(parents=True, exist_ok=True)
    _hooks_for(block, directory)
    for _ in range(2):
        (directory / "bot.yaml").write_text(json.dumps(bot, ensure_ascii=False), "utf-8")
        errors = _errors(Path("bots") / bot["id"])
        undeclared = sorted(
            {m.group(1) for e in errors if (m := re.search(r"undeclared variable '(\w+)'", e))}
        )
        if not undeclared:
            return errors
        bot["steps"] = [{"set": dict.fromkeys(undeclared, "")}, *bot["steps"]]
    return errors


def _errors(path: Path) -> list[str]:
    return [str(p) for p in validate_paths([path]) if p.severity == "error"]


def _is_step(item: Any) -> bool:
    return isinstance(item, dict) and any(key in step_kinds() for key in item)


def _is_locator(item: Any) -> bool:
    return isinstance(item, dict) and bool(LOCATOR_KEYS & set(item)) and not _is_step(item)


def _connector_settings(name: str) -> type[BaseModel] | None:
    """The settings model of connector ``name``: installed, or the test fixture's."""
    spec = installed().connectors.get(name)
    if spec is not None:
        return spec.settings
    if name == "notiz":  # loaded by file: putting it on sys.path would install it here
        namespace: dict[str, Any] = {"__name__": "kb_notiz_docs"}
        exec(compile(NOTIZ.read_text(encoding="utf-8"), str(NOTIZ), "exec"), namespace)
        model: type[BaseModel] = namespace["NotizSettings"]
        return model
    raise AssertionError(f"the docs configure connector {name!r}, which is not installed")


def _check_settings(block: Block, project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    config = project / "bots-config.yaml"
    config.write_text(block.text, encoding="utf-8")
    monkeypatch.setenv("BOTS_CONFIG", str(config))
    try:
        settings = load_settings()
    except Exception as exc:
        return [str(exc)]
    errors = []
    for name, values in settings.connectors.items():
        model = _connector_settings(name)
        if model is None:
            errors.append(f"connector {name!r} takes no settings")
            continue
        try:
            model.model_validate(values)
        except ValueError as exc:
            errors.append(f"connectors.{name}: {exc}")
    return errors


def _check_subflow(block: Block, project: Path, data: dict[str, Any]) -> list[str]:
    """A shared flow (``bots/_shared/...``) or an unnamed one: included by a minimal bot; a
    flow of an example bot (``bots/BOT/flows/...``): that bot."""
    where = block.file or f"bots/snippet-{block.line}/flows/snippet.yaml"
    (project / where).parent.mkdir(parents=True, exist_ok=True)
    (project / where).write_text(block.text, encoding="utf-8")
    if block.file is not None and not where.startswith("bots/_shared/"):
        return _errors(Path(*Path(where).parts[:2]))
    ref = where.removeprefix("bots/") if block.file else "flows/snippet.yaml"
    inputs = data.get("inputs") or {}
    include = {"include": ref, **({"with": dict.fromkeys(inputs, "")} if inputs else {})}
    return _check_wrapped(block, project, _wrapper(block, [include]))


def yaml_problems(block: Block, project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The errors of a YAML block, validated as what it is (see the module docstring)."""
    try:
        data = _load(block.text)
    except Exception as exc:
        return [f"not YAML: {exc}"]
    if isinstance(data, dict) and "id" in data and "steps" in data:
        path = project / "bots" / str(data["id"]) / "bot.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
        return _errors(path.relative_to(project).parent)
    if isinstance(data, dict) and "steps" in data:  # a sub-flow
        return _check_subflow(block, project, data)
    if isinstance(data, dict) and set(data) <= {"steps", "finally"} and "finally" in data:
        return _check_wrapped(block, project, _wrapper(block, [{"pause": 0.1}], data["finally"]))
    if isinstance(data, dict) and not set(data) <= set(Settings.model_fields):
        data = [data]  # one step
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all(_is_locator(item) for item in data):
            data = [{"extract": loc, "get": "count", "into": "treffer"} for loc in data]
        return _check_wrapped(block, project, _wrapper(block, data))  # a typo: its problem
    if isinstance(data, dict) and set(data) <= set(Settings.model_fields):
        return _check_settings(block, project, monkeypatch)
    return [
        "neither a bot, a sub-flow, steps, locators nor a settings file: make it one of them, "
        "or show it as ```text"
    ]


@pytest.mark.parametrize("block", _params(YAML))
def test_yaml_snippet_validates(block: Block, enter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project = enter(block)
    if block.installed is not None:
        problems = _installed_problems(block, project)
    else:
        problems = yaml_problems(block, project, monkeypatch)
    if not block.invalid:
        assert problems == [], f"{block.id}: the snippet does not validate:\n" + "\n".join(problems)
        return
    shown = expected_output(block)
    assert shown is not None, f"{block.id}: an invalid snippet needs a ```text block after it"
    assert problems, f"{block.id}: marked invalid, but it validates"
    missing = [line for line in shown.text.splitlines() if line.strip() not in problems]
    assert missing == [], (
        f"{block.id}: the doc shows messages validation does not give:\n"
        + "\n".join(missing)
        + "\nvalidation gives:\n"
        + "\n".join(problems)
    )


def _bots_beside(block: Block, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
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


def _installed_problems(block: Block, project: Path) -> list[str]:
    data = _load(block.text)
    assert isinstance(data, dict) and "id" in data, f"{block.id}: installed: only whole bots"
    path = project / "bots" / str(data["id"]) / "bot.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text, encoding="utf-8")
    result = _bots_beside(block, ("validate", f"bots/{data['id']}"))
    return [] if result.returncode == 0 else (result.stderr + result.stdout).splitlines()


# --------------------------------------------------------------------------- shell blocks


def _exports_before(block: Block) -> dict[str, str]:
    """The ``export`` lines of the document's shell blocks up to and including ``block``."""
    env: dict[str, str] = {}
    for earlier in blocks(block.doc):
        if earlier.lang in SHELL and earlier.line <= block.line:
            for command in commands(earlier):
                env.update(command.env)
    return env


@pytest.mark.parametrize("block", _params(SHELL, slow=True))
def test_shell_snippet_runs(block: Block, enter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project = enter(block)
    lines = commands(block)
    unrunnable = [f"{c.line}: {c.problem}" for c in lines if c.problem]
    assert unrunnable == [], (
        f"{block.id}: mark the block <!-- snippet: not-run: REASON --> or make it runnable:\n"
        + "\n".join(unrunnable)
    )
    for name, value in _exports_before(block).items():
        monkeypatch.setenv(name, value)
    with _targets(block, monkeypatch):
        for command in lines:
            for name, value in command.env:
                monkeypatch.setenv(name, value)
            if not command.args:
                continue
            if block.installed is not None:
                done = _bots_beside(block, command.args)
                assert done.returncode == 0, f"{block.id}: `{command.line}`: {done.stderr}"
                continue
            result = CliRunner().invoke(app, list(command.args))
            assert result.exit_code == 0, (
                f"{block.id}: `{command.line}` exited {result.exit_code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
            )
            if command.stdout_to:
                (project / command.stdout_to).write_text(result.stdout, encoding="utf-8")


class _targets:
    """The sandbox, serving while a block that runs bots runs, its URLs as the targets."""

    def __init__(self, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wanted, self.monkeypatch = needs_sandbox(block), monkeypatch
        self._running: Any = None

    def __enter__(self) -> None:
        if not self.wanted:
            return
        settings = load_settings()
        self._running = running_sandbox(settings.sandbox_dir, settings.sandbox)
        sandbox = self._running.__enter__()
        self.monkeypatch.setenv("BOTS_TARGETS__CIVENTO", sandbox.civento_url)
        self.monkeypatch.setenv("BOTS_TARGETS__GEWERBEREGISTER", sandbox.gewerberegister_url)

    def __exit__(self, *exc: object) -> None:
        if self._running is not None:
            self._running.__exit__(*exc)


# --------------------------------------------------------------------------- the marks


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in BLOCKS if b.mark])
def test_marks_are_known_and_honest(block: Block) -> None:
    assert block.mark is not None
    word = block.mark.split(":")[0].strip()
    assert word in MARKS, f"{block.id}: unknown mark {block.mark!r} (known: {', '.join(MARKS)})"
    if block.invalid:
        assert block.lang in YAML, f"{block.id}: only YAML blocks can be marked invalid"
    if block.not_run:
        reason = block.mark.partition(":")[2].strip()
        assert reason, f"{block.id}: say why the block cannot run: not-run: REASON"
        assert block.lang in SHELL, f"{block.id}: only shell blocks are run, no need to mark"
        assert any(c.problem for c in commands(block)), (
            f"{block.id}: every line of it could run in a test: remove the not-run mark"
        )
    if block.installed is not None:
        assert block.lang in YAML | SHELL, f"{block.id}: only YAML and shell blocks are checked"
        entry_points = list(block.installed.glob("*.dist-info/entry_points.txt"))
        assert entry_points, f"{block.id}: {block.installed} holds no installed package"


def test_every_document_is_read() -> None:
    assert ROOT / "README.md" in DOCS
    assert {"bot-language.md", "connectors.md", "sandbox.md"} <= {d.name for d in DOCS}
    assert _params(YAML) and _params(SHELL)
