"""Loading bots: by directory, file or id; the digest; finding bots; the committed schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import BotNotFound, DefinitionError
from orchestrator.model import (
    bot_json_schema,
    find_bots,
    load_bot,
    parse_yaml,
    resolve_bot,
    validate_paths,
)
from orchestrator.model.schema import DOCS_DIR, SCHEMA_FILES, schema_text, subflow_json_schema

from bot_files import WriteBot

VALID = """\
targets: [civento]
secrets: [civento_password]
steps:
  - include: flows/login.yaml
  - call: hooks:zaehlen
    with: {anzahl: 3}
    into: gezaehlt
  - pause: 1
"""
LOGIN = """\
description: Meldet den Bot an.
steps:
  - goto: "{{ targets.civento }}/login"
  - fill: {label: Passwort}
    value: "{{ secrets.civento_password }}"
"""
HOOKS = "def zaehlen(ctx, anzahl):\n    return anzahl\n"


@pytest.fixture
def valid_bot(write_bot: WriteBot) -> Path:
    return write_bot("demo", VALID, files={"flows/login.yaml": LOGIN, "hooks.py": HOOKS})


def test_a_valid_bot_loads_from_its_directory_or_file(valid_bot: Path) -> None:
    loaded = load_bot(valid_bot)
    assert loaded.id == "demo"
    assert loaded.directory == valid_bot.resolve()
    assert loaded.path == (valid_bot / "bot.yaml").resolve()
    assert [s.KIND for s in loaded.definition.steps] == ["include", "call", "pause"]
    assert loaded.subflows["flows/login.yaml"].description == "Meldet den Bot an."
    assert [(w.severity, w.line) for w in loaded.warnings] == [("warning", 12)]
    assert load_bot(valid_bot / "bot.yaml") == loaded


def test_digest_follows_every_file_but_not_bytecode(valid_bot: Path) -> None:
    before = load_bot(valid_bot).digest
    assert len(before) == 64
    (valid_bot / "__pycache__").mkdir()
    (valid_bot / "__pycache__" / "hooks.cpython-311.pyc").write_bytes(b"\0")
    assert load_bot(valid_bot).digest == before
    (valid_bot / "hooks.py").write_text(HOOKS + "\n# geändert\n")
    after_hook = load_bot(valid_bot).digest
    assert after_hook != before
    (valid_bot / "flows" / "login.yaml").write_text(LOGIN.replace("Meldet", "Loggt"))
    assert load_bot(valid_bot).digest not in (before, after_hook)


def test_missing_bot(workdir: Path) -> None:
    with pytest.raises(BotNotFound, match="nowhere"):
        load_bot(Path("nowhere"))
    with pytest.raises(BotNotFound, match="nowhere"):
        validate_paths([Path("nowhere")])


def test_find_bots_lists_bot_directories_sorted(write_bot: WriteBot) -> None:
    write_bot("bots/zeta", "steps: []")
    write_bot("bots/alpha", "steps: []")
    Path("bots/no-bot").mkdir()
    assert find_bots([Path("bots"), Path("missing")]) == [Path("bots/alpha"), Path("bots/zeta")]


def test_validate_paths_takes_files_bot_dirs_and_dirs_of_bots(write_bot: WriteBot) -> None:
    write_bot("bots/alpha", "steps:\n  - clik: {}\n")
    write_bot("bots/beta", "steps:\n  - clik: {}\n")
    paths = [Path("bots"), Path("bots/alpha"), Path("bots/beta/bot.yaml")]
    assert [p.path for p in validate_paths(paths)] == ["bots/alpha/bot.yaml", "bots/beta/bot.yaml"]


def test_resolve_bot_by_id_or_path(valid_bot: Path, write_bot: WriteBot) -> None:
    write_bot("bots/andere-bot", "steps:\n  - goto: http://x\n", bot_id="anderer-bot")
    assert resolve_bot("anderer-bot", [Path("bots")]).id == "anderer-bot"
    assert resolve_bot("demo/bot.yaml", [Path("bots")]).id == "demo"
    assert resolve_bot("demo", [Path("bots")]).id == "demo"  # a bot directory here
    with pytest.raises(BotNotFound) as caught:
        resolve_bot("andere-bot", [Path("bots")])
    assert str(caught.value) == (
        "no bot with id 'andere-bot' in bots (known: anderer-bot) (did you mean 'anderer-bot'?)"
    )


def test_resolve_bot_reports_an_invalid_bot(write_bot: WriteBot) -> None:
    write_bot("bots/kaputt", "steps:\n  - clik: {}\n")
    with pytest.raises(DefinitionError) as caught:
        resolve_bot("kaputt", [Path("bots")])
    assert [p.path for p in caught.value.problems] == ["bots/kaputt/bot.yaml"]


def test_bot_id_should_match_its_directory(write_bot: WriteBot) -> None:
    write_bot("bots/alpha", "steps:\n  - goto: http://x\n", bot_id="beta")
    assert [str(p) for p in validate_paths([Path("bots")])] == [
        "bots/alpha/bot.yaml:1:5: warning: bot id 'beta' differs from its directory name 'alpha'"
    ]


def test_error_paths_skip_the_step_kind_tag_and_point_at_nodes() -> None:
    from orchestrator.model import BotDefinition
    from orchestrator.model.schema_errors import validate_document

    doc = parse_yaml(
        "steps:\n  - click:\n      role: button\n      nme: OK\n  - retry:\n      - goto: 1\n",
        "x.yaml",
    )
    _, problems = validate_document(BotDefinition, doc)
    assert [str(p) for p in problems if "nme" in p.message] == [
        "x.yaml:4:7: unknown key 'nme' in locator (did you mean 'name'?)"
    ]


def test_yaml_merge_keys_and_positions() -> None:
    doc = parse_yaml("base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\n", "x.yaml")
    assert doc.data["use"] == {"a": 1, "b": 3}
    assert doc.key_position(("use", "b")) == (4, 3)
    assert doc.value_position(("use", "b", "missing")) == (4, 6)


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_is_up_to_date(name: str) -> None:
    generated = bot_json_schema() if SCHEMA_FILES[name] == "bot" else subflow_json_schema()
    committed = DOCS_DIR / name
    assert committed.is_file() and committed.read_text(encoding="utf-8") == schema_text(
        generated
    ), (
        f"docs/{name} is stale; regenerate it with: .venv/bin/python -c "
        '"from orchestrator.model.schema import write_schemas; write_schemas()"'
    )


def test_schema_describes_bot_files() -> None:
    schema = bot_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["id", "name", "version", "owner", "steps"]
    step_kinds = {
        ref["$ref"].rsplit("/", 1)[1] for ref in schema["properties"]["steps"]["items"]["oneOf"]
    }
    assert {"ClickStep", "IncludeStep", "ForEachStep"} <= step_kinds
    assert "if" in schema["$defs"]["IfStep"]["properties"]  # keys as written, not if_
    json.dumps(schema)
