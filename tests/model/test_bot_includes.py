"""Includes resolve to sub-flow files inside the bot directory, recursively, without cycles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.model import load_bot

from bot_files import WriteBot

Problems = Callable[[Path], list[str]]

LOGIN = """\
steps:
  - include: flows/fields.yaml
  - click: {role: button, name: Anmelden}
"""
FIELDS = """\
steps:
  - fill: {label: Benutzer}
    value: rpa
"""


def test_includes_are_resolved_recursively(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/login.yaml\n  - include: ./flows/login.yaml\n",
        files={"flows/login.yaml": LOGIN, "flows/fields.yaml": FIELDS},
    )
    loaded = load_bot(bot)
    assert sorted(loaded.subflows) == [
        "./flows/login.yaml",
        "flows/fields.yaml",
        "flows/login.yaml",
    ]
    assert loaded.subflows["flows/login.yaml"] == loaded.subflows["./flows/login.yaml"]
    assert loaded.subflows["flows/fields.yaml"].steps[0].KIND == "fill"


def test_unresolved_includes(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - include: flows/logn.yaml
          - include: ../other/flow.yaml
          - include: /etc/passwd
          - include: "flows/{{ run.tenant }}.yaml"
          - include: flows
        """,
        files={"flows/login.yaml": FIELDS},
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:14: include 'flows/logn.yaml' not found: no file demo/flows/logn.yaml "
        "(did you mean 'flows/login.yaml'?)",
        "demo/bot.yaml:7:14: include '../other/flow.yaml' points outside the bot directory",
        "demo/bot.yaml:8:14: include '/etc/passwd' must be a path relative to the bot directory",
        "demo/bot.yaml:9:14: an include path cannot be a template: includes are read when loading",
        "demo/bot.yaml:10:14: include 'flows' is a directory, not a sub-flow file",
    ]


def test_problems_inside_a_sub_flow_carry_its_path(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/login.yaml\n",
        files={"flows/login.yaml": "steps:\n  - fill: {label: Benutzer}\n    valu: rpa\n"},
    )
    assert problems_of(bot) == [
        "demo/flows/login.yaml:2:5: missing key 'value' in fill step",
        "demo/flows/login.yaml:3:5: unknown key 'valu' in fill step (did you mean 'value'?)",
    ]


def test_include_cycles_are_reported(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/a.yaml\n",
        files={
            "flows/a.yaml": "steps:\n  - include: flows/b.yaml\n",
            "flows/b.yaml": "steps:\n  - goto: http://x\n  - include: flows/a.yaml\n",
        },
    )
    assert problems_of(bot) == [
        "demo/flows/b.yaml:3:14: include cycle: flows/a.yaml -> flows/b.yaml -> flows/a.yaml"
    ]


def test_a_sub_flow_with_a_yaml_error(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/a.yaml\n  - clik: {}\n",
        files={"flows/a.yaml": "steps: [\n"},
    )
    problems = problems_of(bot)
    assert [p.split(": ")[0] for p in problems] == ["demo/bot.yaml:7:5", "demo/flows/a.yaml:2:1"]


def test_a_shared_flow_beside_the_bots_is_included_and_checked(
    write_bot: WriteBot, problems_of: Problems, workdir: Path
) -> None:
    shared = workdir / "bots" / "_shared"
    shared.mkdir(parents=True)
    (shared / "abmelden.yaml").write_text(
        "steps:\n  - click: {role: button, name: Abmelden}\n", encoding="utf-8"
    )
    (shared / "kaputt.yaml").write_text("steps:\n  - clik: {css: x}\n", encoding="utf-8")
    bot = write_bot("bots/demo", "steps:\n  - include: _shared/abmelden.yaml\n")
    loaded = load_bot(bot)
    assert loaded.subflows["_shared/abmelden.yaml"].steps[0].KIND == "click"

    broken = write_bot(
        "bots/zwei",
        "steps:\n  - include: _shared/kaputt.yaml\n  - include: _shared/fehlt.yaml\n"
        "  - include: _shared/../demo/bot.yaml\n  - include: nirgends:x.yaml\n",
    )
    found = problems_of(broken)
    assert any(
        p.startswith("bots/_shared/kaputt.yaml:2:5: unknown step kind 'clik'") for p in found
    )
    assert any(
        "bots/zwei/bot.yaml:7:14: include '_shared/fehlt.yaml' not found" in p for p in found
    )
    assert any("bots/zwei/bot.yaml:8:14: include '_shared/../demo/bot.yaml' points outside" in p
               for p in found)  # fmt: skip
    assert any("bots/zwei/bot.yaml:9:14: include 'nirgends:x.yaml': no installed connector" in p
               for p in found)  # fmt: skip
