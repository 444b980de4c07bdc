"""Names in templates must be declared; secrets may go only where they cannot leak."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.model import load_bot

from bot_files import WriteBot

Problems = Callable[[Path], list[str]]


def test_declared_names_pass(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        """\
        targets: [civento]
        parameters:
          max_cases: {type: integer, default: 5}
        secrets: {civento_password: Passwort des Bot-Kontos}
        steps:
          - goto: "{{ targets.civento }}/login?bot={{ run.bot }}"
          - fill: {label: Passwort}
            value: "{{ secrets.civento_password }}"
          - extract: {role: table}
            get: table
            into: vorgaenge
          - set: {limit: "{{ params.max_cases }}"}
          - for_each: "{{ vorgaenge[:limit] }}"
            as: vorgang
            when: vorgaenge | length > 0
            do:
              - try:
                  - click: {role: link, name: "{{ vorgang.Nummer }} ({{ loop.index }})"}
                on_error:
                  - screenshot: "fehler-{{ vorgang.Nummer }}"
                    when: "{{ error.message is defined }}"
        """,
    )
    assert len(load_bot(bot).definition.steps) == 5


def test_undeclared_names_are_reported_where_used(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        targets: [civento]
        parameters:
          max_cases: {type: integer, default: 5}
        steps:
          - goto: "{{ targets.civnto }}/x"
          - set: {limit: "{{ params.max_case }}"}
          - if: vorgange | length > 0
            then:
              - click: {text: "{{ vorgang }}"}
          - for_each: "{{ [1, 2] }}"
            as: vorgang
            do:
              - click: {text: "{{ vorgang }}"}
          - click: {text: "{{ error.message }}"}
          - click: {text: "{{ run.user }}"}
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:9:11: targets.civnto is not a declared target (declared: civento) "
        "(did you mean 'civento'?)",
        "demo/bot.yaml:10:18: params.max_case is not a declared parameter (declared: max_cases) "
        "(did you mean 'max_cases'?)",
        "demo/bot.yaml:11:9: undeclared variable 'vorgange' (made nowhere by set, into, "
        "for_each's as or include's with)",
        "demo/bot.yaml:13:23: undeclared variable 'vorgang' (made nowhere by set, into, "
        "for_each's as or include's with)",
        "demo/bot.yaml:18:19: 'error' is only defined inside on_error",
        "demo/bot.yaml:19:19: run.user is not a declared run attribute "
        "(declared: bot, dir, id, started_at, tenant)",
    ]


def test_template_syntax_errors_are_reported(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - goto: "{{ 'x' }"
          - assert: "1 >"
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:6:11: invalid template: unexpected '}'",
        "demo/bot.yaml:7:13: invalid condition: unexpected 'end of template'",
    ]


def test_secrets_must_be_declared(write_bot: WriteBot, problems_of: Problems) -> None:
    bot = write_bot(
        "demo",
        """\
        secrets: [civento_password]
        steps:
          - fill: {label: Passwort}
            value: "{{ secrets.civento_pasword }}"
        """,
    )
    assert problems_of(bot) == [
        "demo/bot.yaml:8:12: secrets.civento_pasword is not a declared secret "
        "(declared: civento_password) (did you mean 'civento_password'?)"
    ]


def test_secrets_may_not_go_where_they_would_leak(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        secrets: [pw]
        steps:
          - goto: "http://x/?pw={{ secrets.pw }}"
          - set: {kopie: "{{ secrets.pw }}"}
          - fill: {label: Passwort}
            value: "Passwort: {{ secrets.pw }}"
          - call: hooks:login
            with: {password: "{{ secrets.pw }}"}
        """,
        files={"hooks.py": "def login(ctx, password):\n    pass\n"},
    )
    leak = (
        "secrets.pw may only be used as a fill value or a call argument "
        "(anywhere else it could end up in logs)"
    )
    assert problems_of(bot) == [
        f"demo/bot.yaml:7:11: {leak}",
        f"demo/bot.yaml:8:18: {leak}",
        'demo/bot.yaml:10:12: secrets.pw can only be used as a whole value, "{{ secrets.pw }}", '
        "not inside a longer text",
    ]


def test_subflow_sees_its_inputs_and_the_bots_variables(
    write_bot: WriteBot, problems_of: Problems
) -> None:
    bot = write_bot(
        "demo",
        """\
        steps:
          - set: {kennung: rpa}
          - include: flows/login.yaml
            with: {benutzer: "{{ kennung }}", ziel: x}
        """,
        files={
            "flows/login.yaml": """\
                inputs: {benutzer: Name des Kontos}
                steps:
                  - fill: {label: Benutzer}
                    value: "{{ benutzer }} {{ kennung }} {{ ziel }} {{ unbekannt }}"
                """
        },
    )
    assert problems_of(bot) == [
        "demo/flows/login.yaml:4:12: undeclared variable 'unbekannt' (made nowhere by set, into, "
        "for_each's as or include's with)"
    ]
