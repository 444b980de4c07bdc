"""A broken bot file gets every problem reported at once, each at ``path:line:col``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.model import validate_paths

from bot_files import WriteBot

Problems = Callable[[Path], list[str]]


def test_yaml_syntax_error_points_at_the_offending_character(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot("demo", "steps:\n  - goto: http://x\n    wait_until: [load\n")
    assert problems_of(bot) == [
        "demo/bot.yaml:8:1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 7)"
    ]


def test_duplicate_key_is_reported_with_both_lines(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - fill: {label: Name}
            value: a
            value: b
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:8:5: duplicate key 'value' (first defined at line 7)"
    ]


def test_custom_yaml_tags_are_refused(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", "steps:\n  - goto: !!python/object:os.system x\n")
    assert problems_of(bot) == [
        "demo/bot.yaml:6:11: unsupported YAML tag '!!python/object:os.system' "
        "(only plain YAML is allowed)"
    ]


def test_unknown_key_points_at_the_key_and_suggests_the_right_one(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - fill: {label: Name}
            valeu: Mustermann
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:5: missing key 'value' in fill step",
        "demo/bot.yaml:7:5: unknown key 'valeu' in fill step (did you mean 'value'?)",
    ]


def test_unknown_step_kind_lists_the_kinds(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", "steps:\n  - clik: {role: button, name: OK}\n")
    [problem] = problems_of(bot)
    assert problem.startswith("demo/bot.yaml:6:5: unknown step kind 'clik' (expected one of: goto,")
    assert problem.endswith("use, for_each_item, add_items) (did you mean 'click'?)")


def test_step_with_two_kind_keys_names_them(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", "steps:\n  - click: {text: OK}\n    goto: http://x\n")
    assert problems_of(bot) == [
        "demo/bot.yaml:6:5: steps[0]: a step needs exactly one kind key, found several: click, goto"
    ]


def test_wrong_type_says_what_was_expected_and_found(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        tags: [gewerbe, 42]
        steps:
          - click: {text: 12}
          - goto: http://x
            timeout: lange
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:5:17: tags[1]: expected a string, got the integer 42",
        "demo/bot.yaml:7:19: steps[0].click.text: expected a string, got the integer 12",
        "demo/bot.yaml:9:14: steps[1].timeout: expected a number, got the string 'lange'",
    ]


def test_a_top_level_field_is_named_with_its_problem(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        id: demo
        name: Demo
        version: [1, 0]
        owner: {city: Gießen, fachamt: Ordnungsamt}
        tags: gewerbe
        steps:
          - goto: http://x
        """,
        header=False,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:3:10: version: expected a string, got a list",
        "demo/bot.yaml:5:7: tags: expected a list, got the string 'gewerbe'",
    ]


def test_a_nested_step_field_is_named_by_its_path_through_the_blocks(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - goto: http://x
          - try:
              - for_each: ["a", "b"]
                do:
                  - goto: http://x
            on_error:
              - retry:
                  - extract: {css: "#n"}
                    into: 1x
        finally:
          - goto: {url: http://x}
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:8:19: steps[1].try[0].for_each: expected a string, got a list",
        "demo/bot.yaml:14:19: steps[1].on_error[0].retry[0].into: '1x' is not a valid variable "
        "name (letters, digits, _; not starting with a digit)",
        "demo/bot.yaml:16:11: finally[0].goto: expected a string, got a mapping",
    ]


def test_a_locator_field_is_named_below_its_step(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - wait_for: {element: {role: buton}}
          - click: {text: OK, fallbacks: [{css: [a]}]}
          - wait_for: {url: "**/ok", text: OK}
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:32: steps[0].wait_for.element.role: 'buton' is not an ARIA role "
        "(did you mean 'button'?)",
        "demo/bot.yaml:7:41: steps[1].click.fallbacks[0].css: expected a string, got a list",
        "demo/bot.yaml:8:15: steps[2].wait_for: needs exactly one of element, url, text",
    ]


def test_execution_and_parameter_fields_are_named_by_their_path(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        parameters:
          max: {type: integer, default: viele}
        execution:
          labels: {browser: true}
          retries: {attempts: 0}
        steps:
          - goto: http://x
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:8: parameters.max: default 'viele' is not of type integer",
        "demo/bot.yaml:8:11: execution.labels: expected a list, got a mapping",
        "demo/bot.yaml:9:23: execution.retries.attempts: must be greater than or equal to 1, "
        "got the integer 0",
    ]


def test_a_sub_flow_field_is_named_from_the_top_of_the_sub_flow(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/login.yaml\n",
        files={
            "flows/login.yaml": """\
            inputs: [user]
            steps:
              - if: "1 > 0"
                then:
                  - fill: {label: Name}
                    value: x
                    timeout: bald
            """
        },
    )
    assert problems_of(bot) == [
        "demo/flows/login.yaml:1:9: inputs: expected a mapping, got a list",
        "demo/flows/login.yaml:7:18: steps[0].then[0].timeout: expected a number, "
        "got the string 'bald'",
    ]


def test_locator_problems_are_translated(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - click: {role: buton, name: Speichern}
          - click: {label: Name, css: "#name"}
          - click: Speichern
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:19: steps[0].click.role: 'buton' is not an ARIA role "
        "(did you mean 'button'?)",
        "demo/bot.yaml:7:12: steps[1].click: a locator needs exactly one of test_id, role, "
        "label, placeholder, text, css, xpath (found: label, css)",
        "demo/bot.yaml:8:12: steps[2].click: expected a locator such as "
        "{role: button, name: Speichern}, got the string 'Speichern'",
    ]


def test_errors_in_nested_blocks_point_into_them(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - if: "1 > 0"
            then:
              - goto: http://x
                wait_until: lod
            else:
              - for_each: "{{ [1, 2] }}"
                do:
                  - pause: 0
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:9:21: steps[0].then[0].wait_until: 'lod' is not one of: load, "
        "domcontentloaded, networkidle, commit (did you mean 'load'?)",
        "demo/bot.yaml:13:13: warning: pause waits a fixed time; prefer wait_for, which waits "
        "only as long as needed",
        "demo/bot.yaml:13:20: steps[0].else[0].do[0].pause: must be greater than 0, "
        "got the integer 0",
    ]


def test_all_problems_of_a_file_are_reported_at_once(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        secrets: [portal_password]
        steps:
          - goto: "{{ targets.portal }}/login"
          - fill: {label: Benutzer}
            valeu: rpa
          - clik: {role: button, name: Weiter}
          - fill: {label: Passwort}
            value: "{{ secrets.portal_pasword }}"
          - call: hooks:missing
        """,
    )
    problems = problems_of(bot)
    assert [p.split(": ")[0] for p in problems] == [
        "demo/bot.yaml:7:11",
        "demo/bot.yaml:8:5",
        "demo/bot.yaml:9:5",
        "demo/bot.yaml:10:5",
        "demo/bot.yaml:12:12",
        "demo/bot.yaml:13:11",
    ]
    assert "targets.portal is not a declared target" in problems[0]
    assert "missing key 'value' in fill step" in problems[1]
    assert "unknown key 'valeu'" in problems[2]
    assert "unknown step kind 'clik'" in problems[3]
    assert "secrets.portal_pasword is not a declared secret" in problems[4]
    assert "hook module 'hooks' not found" in problems[5]


def test_bad_metadata_is_reported_at_its_values(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "Demo",
        """\
        id: Demo Bot
        name: Demo
        version: "1.0"
        owner: {city: Gießen}
        parameters:
          max: {type: int, default: 5}
        steps:
          - goto: http://x
        """,
        header=False,
    )
    assert problems_of(bot) == [
        "Demo/bot.yaml:1:5: id: 'Demo Bot' is not valid: use lower-case letters, digits and "
        "dashes, e.g. 'gewerbe-melden'",
        "Demo/bot.yaml:1:5: warning: bot id 'Demo Bot' differs from its directory name 'Demo'",
        "Demo/bot.yaml:3:10: version: '1.0' is not a semantic version like '1.2.0'",
        "Demo/bot.yaml:4:8: missing key 'fachamt' in owner",
        "Demo/bot.yaml:6:15: parameters.max.type: 'int' is not one of: string, integer, "
        "number, boolean, list, date (did you mean 'integer'?)",
    ]


def test_an_empty_file_says_what_a_bot_needs(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot("demo", "", header=False)
    assert problems_of(bot) == ["demo/bot.yaml:1:1: expected a mapping, got an empty value"]


def test_warnings_alone_do_not_fail_validation(write_bot: WriteBot) -> None:
    write_bot("demo", "steps:\n  - pause: 2\n")
    problems = validate_paths([Path("demo")])
    assert [(p.severity, p.line, p.column) for p in problems] == [("warning", 6, 5)]


def test_duplicate_ids_are_reported_in_both_files(write_bot: WriteBot) -> None:
    write_bot("bots/first", "steps:\n  - goto: http://x\n", bot_id="same")
    write_bot("bots/second", "steps:\n  - goto: http://x\n", bot_id="same")
    errors = [str(p) for p in validate_paths([Path("bots")]) if p.severity == "error"]
    assert errors == [
        "bots/first/bot.yaml:1:5: bot id 'same' is also used by bots/second/bot.yaml",
        "bots/second/bot.yaml:1:5: bot id 'same' is also used by bots/first/bot.yaml",
    ]


def test_qualified_kind_keys_are_checked_like_bare_ones(tmp_path: Path) -> None:
    """Nested steps under ``flow.retry:`` are walked, options of ``browser.fill:`` known."""
    bot = tmp_path / "qualifiziert"
    bot.mkdir()
    (bot / "bot.yaml").write_text(
        "id: qualifiziert\n"
        "name: Qualifiziert\n"
        "version: 1.0.0\n"
        "owner: {city: Gießen, fachamt: IT}\n"
        "steps:\n"
        "  - flow.retry:\n"
        "      - browser.fill: {label: Name}\n"
        "        value: '{{ unbekannt }}'\n"
        "        valeu: x\n"
        "  - browser.klick: {role: button}\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in validate_paths([bot])]
    assert any(
        p.endswith("bot.yaml:8:16: undeclared variable 'unbekannt' (made nowhere by set, "
                   "into, for_each's as or include's with)") for p in problems
    ), problems  # fmt: skip
    assert any(
        p.endswith("bot.yaml:9:9: unknown key 'valeu' in fill step (did you mean 'value'?)")
        for p in problems
    ), problems
    assert any(
        p.endswith("bot.yaml:10:5: connector 'browser' has no step kind 'klick' (it has: goto, "
                   "click, fill, select, check, uncheck, press, wait_for, extract, screenshot, "
                   "download, upload) (did you mean 'click'?)") for p in problems
    ), problems  # fmt: skip


def test_a_step_with_two_kind_keys_still_counts_for_the_labels(tmp_path: Path) -> None:
    """The step's error is reported once; its connector's label is no second, false one."""
    bot = tmp_path / "doppelt"
    bot.mkdir()
    (bot / "bot.yaml").write_text(
        "id: doppelt\n"
        "name: Doppelt\n"
        "version: 1.0.0\n"
        "owner: {city: Gießen, fachamt: IT}\n"
        "execution: {labels: [browser]}\n"
        "steps:\n"
        "  - click: {role: button, name: Speichern}\n"
        "    browser.click: {role: button, name: Senden}\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in validate_paths([bot])]
    assert [p.split("bot.yaml:")[1] for p in problems] == [
        "7:5: steps[0]: a step needs exactly one kind key, found several: click, browser.click"
    ]
