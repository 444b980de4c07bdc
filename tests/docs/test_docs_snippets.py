"""Every YAML and shell snippet of README.md and docs/*.md works, as Typer's tests/test_tutorial.

Each block is checked in its document's throw-away project (``_doc_session.py``: a copy of the
checkout's bots, catalog and overlays, with the document's diffs and, for a shell block that
continues, its earlier shell blocks applied). Then:

- a **YAML block** is validated as what it is: a whole bot (``id`` and ``steps``) as
  ``bots/ID/bot.yaml``; a sub-flow (``steps`` without ``id``) as a flow file a minimal bot
  includes; a step, a list of steps, a ``finally`` section, a list of locators or other keys
  of a bot (``data_categories``) inside a minimal bot (which declares the targets, secrets and
  parameters the snippet names, and sets the variables it uses but does not make: a fragment
  comes from a larger bot); a settings file (``tenants``, ``connectors``, ...) through
  ``BOTS_CONFIG``; the bot catalog (``catalog_version``) as ``bots validate --catalog`` checks
  it; a city overlay (``bot`` and ``version``) against the bot's files in the project. A block
  marked ``<!-- snippet: invalid -->`` must fail, with each line of the ```text block after
  it; one marked ``written: PATH`` is checked by the shell block above it instead;
- a **shell block** runs (``_doc_session.run_shell``): every command exits 0 or the code its
  ``exits`` mark gives, and the ``output`` and ``written`` blocks after it agree with what it
  printed and wrote. Lines that are not ``bots`` commands, and ``bots`` commands that run
  until stopped, need the block marked ``<!-- snippet: not-run: REASON -->``; a marked block
  must hold such a line.

The other languages are checked by ``test_docs_blocks.py``. The sandbox is seeded with 3 new
Gewerbeanmeldungen (``BOTS_SANDBOX__CASES``) so the bot runs stay short.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from _doc_session import bots_beside, load_yaml, run_and_check
from _snippets import (
    DOCS,
    MARKS,
    PYTHON,
    ROOT,
    SHELL,
    YAML,
    Block,
    all_blocks,
    commands,
    expected_output,
    runs_bots,
)
from pydantic import BaseModel

from orchestrator.catalog.files import directory_files
from orchestrator.catalog.loading import check_catalog
from orchestrator.catalog.overlays import (
    bot_facts,
    check_overlays,
    overlay_problems,
    read_overlay,
)
from orchestrator.model import validate_paths
from orchestrator.model.bot import BotDefinition
from orchestrator.model.registry import installed
from orchestrator.model.steps import step_kinds
from orchestrator.settings import Settings, load_settings

BLOCKS = all_blocks()
OWNER = {"city": "Gießen", "fachamt": "Ordnungsamt"}
LOCATOR_KEYS = frozenset({"test_id", "role", "label", "placeholder", "text", "css", "xpath"})
#: The connector of the test fixture package, whose settings docs/connectors.md shows.
NOTIZ = ROOT / "tests" / "fixtures" / "notiz_connector" / "kb_notiz" / "__init__.py"


def _params(kind: set[str] | frozenset[str], *, slow: bool = False) -> list[Any]:
    chosen = [b for b in BLOCKS if b.lang in kind and not b.not_run and b.marked("written") is None]
    return [
        pytest.param(
            b,
            id=b.id,
            marks=[pytest.mark.slow, pytest.mark.browser] if slow and runs_bots(b) else [],
        )
        for b in chosen
    ]


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


def _is_bot_fragment(data: dict[str, Any]) -> bool:
    """Keys of a bot other than its steps (``data_categories: [...]``), no settings."""
    keys = set(data)
    bot_keys = set(BotDefinition.model_fields) - {"steps", "finally"}
    return bool(keys) and keys <= bot_keys and not keys <= set(Settings.model_fields)


def _check_catalog(block: Block, project: Path) -> list[str]:
    """The catalog file as ``bots validate --catalog`` checks it, in the project's place."""
    path = project / "bot_catalog.yaml"
    path.write_text(block.text, encoding="utf-8")
    problems = [*check_catalog(path), *check_overlays(path)]
    return [str(p) for p in problems if p.severity == "error"]


def _check_overlay(block: Block, project: Path) -> list[str]:
    """A city overlay, checked against the files of its bot in the project."""
    data = load_yaml(block.text)
    directory = project / "bots" / str(data["bot"])
    if not directory.is_dir():
        return [f"the overlay is for {data['bot']!r}, which is no bot of the project"]
    path = project / "overlays" / "snippet" / f"{data['bot']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text, encoding="utf-8")
    facts = bot_facts(directory_files(directory))
    problems = overlay_problems(read_overlay(path), facts, tenant="snippet", version=facts.version)
    return [str(p) for p in problems if p.severity == "error"]


def yaml_problems(block: Block, project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The errors of a YAML block, validated as what it is (see the module docstring)."""
    try:
        data = load_yaml(block.text)
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
    if isinstance(data, dict) and "catalog_version" in data:
        return _check_catalog(block, project)
    if isinstance(data, dict) and {"bot", "version"} <= set(data) and "id" not in data:
        return _check_overlay(block, project)
    if isinstance(data, dict) and _is_bot_fragment(data):
        bot = _wrapper(block, [{"pause": 0.1}])
        return _check_wrapped(block, project, {**bot, **data})
    if isinstance(data, dict) and not set(data) <= set(Settings.model_fields):
        data = [data]  # one step
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all(_is_locator(item) for item in data):
            data = [{"extract": loc, "get": "count", "into": "treffer"} for loc in data]
        return _check_wrapped(block, project, _wrapper(block, data))  # a typo: its problem
    if isinstance(data, dict) and set(data) <= set(Settings.model_fields):
        return _check_settings(block, project, monkeypatch)
    return [
        "neither a bot, a sub-flow, steps, locators, a settings file, the catalog nor an "
        "overlay: make it one of them, or show it as ```text"
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


def _installed_problems(block: Block, project: Path) -> list[str]:
    data = load_yaml(block.text)
    assert isinstance(data, dict) and "id" in data, f"{block.id}: installed: only whole bots"
    path = project / "bots" / str(data["id"]) / "bot.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text, encoding="utf-8")
    result = bots_beside(block, ("validate", f"bots/{data['id']}"))
    return [] if result.returncode == 0 else (result.stderr + result.stdout).splitlines()


# --------------------------------------------------------------------------- shell blocks


@pytest.mark.parametrize("block", _params(SHELL, slow=True))
def test_shell_snippet_runs(block: Block, enter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    project = enter(block)
    problems = run_and_check(block, project, monkeypatch)
    assert problems == [], "\n\n".join(problems)


# --------------------------------------------------------------------------- the marks


def _mark_problems(block: Block) -> list[str]:
    """What is wrong with the block's marks (see ``_snippets.py``)."""
    problems = []
    for mark in block.marks:
        word = mark.split(":")[0].strip()
        if word not in MARKS:
            problems.append(f"unknown mark {mark!r} (known: {', '.join(MARKS)})")
    shell = _shell_before(block)
    right_after = shell is not None and shell[1] == 0
    runs = shell is not None and not shell[0].not_run
    rules = {
        "invalid": (block.lang in YAML, "only YAML blocks can be marked invalid"),
        "not-run": (block.lang in SHELL, "only shell blocks are run, no need to mark"),
        "exits": (block.lang in SHELL, "only shell blocks have exit codes"),
        "continues": (block.lang in SHELL, "only shell blocks continue the ones above"),
        "installed": (block.lang in YAML | SHELL, "only YAML and shell blocks are checked"),
        "output": (
            block.lang == "text" and right_after and runs,
            "an output is a ```text block right after a shell block that runs",
        ),
        "written": (runs, "a written file comes after a shell block that runs"),
        "excerpt": (
            block.lang in PYTHON | YAML | {"toml"},
            "only python, toml and yaml blocks are excerpts",
        ),
        "format": (block.lang in {"json", "csv"}, "only json and csv blocks have a format"),
    }
    for word, (fits, why) in rules.items():
        if block.marked(word) is not None and not fits:
            problems.append(why)
    for word in ("not-run", "written", "excerpt", "format", "installed"):
        if block.marked(word) == "":
            problems.append(f"{word}: give its value (see _snippets.py)")
    if block.not_run and not any(c.problem for c in commands(block)):
        problems.append("every line of it could run in a test: remove the not-run mark")
    if block.marked("exits") is not None and not (block.marked("exits") or "").isdigit():
        problems.append("exits: N, a number")
    if block.installed is not None and not list(
        block.installed.glob("*.dist-info/entry_points.txt")
    ):
        problems.append(f"{block.installed} holds no installed package")
    if block.excerpt is not None and not block.excerpt.is_file():
        problems.append(f"{block.excerpt} is no file of the repository")
    return problems


def _shell_before(block: Block) -> tuple[Block, int] | None:
    """The nearest shell block above ``block`` and how many blocks lie between, if any."""
    earlier = [b for b in BLOCKS if b.doc == block.doc and b.line < block.line]
    for between, before in enumerate(reversed(earlier)):
        if before.lang in SHELL:
            return before, between
    return None


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in BLOCKS if b.marks])
def test_marks_are_known_and_honest(block: Block) -> None:
    problems = _mark_problems(block)
    assert problems == [], f"{block.id}: " + "\n".join(problems)


def test_every_document_is_read() -> None:
    assert ROOT / "README.md" in DOCS
    assert {"bot-language.md", "connectors.md", "sandbox.md"} <= {d.name for d in DOCS}
    assert _params(YAML) and _params(SHELL)
