"""A bot's ``finally`` steps load and are checked like its ``steps``: includes, names, kinds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.model import bot_json_schema, load_bot, subflow_json_schema

from bot_files import WriteBot

Problems = Callable[[Path], list[str]]

LOGOUT = """\
steps:
  - click: {role: button, name: Abmelden}
"""


def test_finally_steps_load_with_their_includes(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        """\
        targets: [civento]
        steps:
          - goto: "{{ targets.civento }}/posteingang"
        finally:
          - include: flows/logout.yaml
          - goto: "{{ targets.civento }}/abgemeldet"
        """,
        files={"flows/logout.yaml": LOGOUT},
    )
    loaded = load_bot(bot)
    assert [step.KIND for step in loaded.definition.finally_] == ["include", "goto"]
    assert loaded.subflows["flows/logout.yaml"].steps[0].KIND == "click"


def test_a_bot_without_finally_has_none(write_bot: WriteBot) -> None:
    bot = write_bot("demo", "steps:\n  - set: {x: 1}\n")
    assert load_bot(bot).definition.finally_ == []


def test_problems_in_finally_are_reported_where_they_are(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - set: {fertig: true}
        finally:
          - include: flows/logut.yaml
          - set: {meldung: "{{ fertig }} {{ abmeldung }}"}
          - clik: {text: Abmelden}
        """,
        files={"flows/logout.yaml": LOGOUT},
    )
    problems = problems_of(bot)
    assert (
        "demo/bot.yaml:8:14: include 'flows/logut.yaml' not found: no file "
        "demo/flows/logut.yaml (did you mean 'flows/logout.yaml'?)"
    ) in problems
    assert any(
        p.startswith("demo/bot.yaml:9:") and "undeclared variable 'abmeldung'" in p
        for p in problems
    ), problems
    assert any(p.startswith("demo/bot.yaml:10:") and "clik" in p for p in problems), problems
    assert not any("fertig" in p for p in problems)  # made in steps: known in finally


def test_finally_is_for_bots_not_sub_flows(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/login.yaml\n",
        files={"flows/login.yaml": "steps:\n  - set: {x: 1}\nfinally:\n  - set: {y: 2}\n"},
    )
    problems = problems_of(bot)
    assert any(p.startswith("demo/flows/login.yaml:3:1:") for p in problems), problems
    assert "finally" in bot_json_schema()["properties"]
    assert "finally" not in subflow_json_schema()["properties"]
