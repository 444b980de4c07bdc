"""Each lint rule finds what it is for, at the right line and column, and stays quiet on the
way a bot should be written instead.

Bodies start at line 6 of bot.yaml (five header lines, ``manual_minutes_per_case`` among
them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.lint import lint_bot

WriteBot = Callable[..., Path]

RAISING_HOOKS = """\
from orchestrator.errors import BusinessException


def pruefen(ctx, akte):
    if not akte:
        raise BusinessException("Die Akte ist leer.")
    return akte
"""
PLAIN_HOOKS = """\
def pruefen(ctx, akte):
    return akte
"""


def positions(findings: list, rule: str) -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in findings if f.rule == rule]


# rule, body, files, expected (line, column) of each finding of that rule
FOUND = [
    ("fixed-pause", "steps:\n  - pause: 3\n", {}, [(7, 5)]),
    ("nth-locator", "steps:\n  - click: {role: button, name: Weiter, nth: 1}\n", {}, [(7, 41)]),
    (
        "nth-locator",
        "steps:\n  - click:\n      css: 'table tr:nth-child(3) a'\n",
        {},
        [(8, 12)],
    ),
    (
        "nth-locator",
        "steps:\n  - click:\n      role: button\n      fallbacks: [{text: Weiter, nth: 0}]\n",
        {},
        [(9, 34)],
    ),
    ("fragile-xpath", "steps:\n  - click: {xpath: /html/body/div/form/input}\n", {}, [(7, 20)]),
    ("fragile-xpath", "steps:\n  - click: {xpath: '//table//tr[3]/td'}\n", {}, [(7, 20)]),
    ("fragile-xpath", "steps:\n  - click: {xpath: '//div/div/div/span/a'}\n", {}, [(7, 20)]),
    ("generated-id", "steps:\n  - click: {css: '#ext-gen123'}\n", {}, [(7, 18)]),
    ("generated-id", "steps:\n  - fill: {css: '#form\\:j_idt45'}\n    value: x\n", {}, [(7, 17)]),
    ("generated-id", "steps:\n  - click: {xpath: \"//*[@id='ember123']\"}\n", {}, [(7, 20)]),
    ("generated-id", "steps:\n  - click: {css: '[id=\":r1:\"]'}\n", {}, [(7, 18)]),
    (
        "generated-id",
        "steps:\n  - within: {frame: 'iframe#f3a9c27b1e'}\n    do: [{click: {text: Weiter}}]\n",
        {},
        [(7, 21)],
    ),
    (
        "raw-step-with-action",
        "targets: [civento]\nsteps:\n  - goto: '{{ targets.civento }}/posteingang'\n"
        "  - click: {role: link, name: Neu}\n",
        {},
        [(9, 5)],
    ),
    (
        "raw-step-with-action",
        "targets: [civento]\nsecrets: [pw]\nsteps:\n  - use: civento.anmelden\n"
        "    with: {benutzer: rpa, passwort: '{{ secrets.pw }}'}\n"
        "  - fill: {label: Suche}\n    value: GA-1\n",
        {},
        [(11, 5)],
    ),
    ("secret-in-file", "steps:\n  - set: {api_token: abc123}\n", {}, [(7, 22)]),
    (
        "secret-in-file",
        "steps:\n  - fill: {label: Kennwort}\n    value: Sommer2026\n",
        {},
        [(8, 12)],
    ),
    (
        "secret-in-file",
        "parameters:\n  passwort: {default: geheim}\nsteps:\n  - pause: 1\n",
        {},
        [(7, 23)],
    ),
    (
        "secret-in-file",
        "targets: [civento]\nsteps:\n  - use: civento.anmelden\n"
        "    with: {benutzer: rpa, passwort: Sommer2026}\n",
        {},
        [(9, 37)],
    ),
    (
        "token-like-value",
        "steps:\n  - set: {kopf: 'ghp_0123456789abcdefABCDEF0123456789abcd'}\n",
        {},
        [(7, 17)],
    ),
    ("token-like-value", "steps:\n  - set: {x: 'Zx9Kq2LmPw8RtYv3NbC7dFgH'}\n", {}, [(7, 14)]),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n      - set: {fertig: true}\n",
        {},
        [(7, 5)],
    ),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n"
        "      - call: hooks:pruefen\n        with: {akte: '{{ item }}'}\n",
        {"hooks.py": PLAIN_HOOKS},
        [(7, 5)],
    ),
    ("unreachable-step", "steps:\n  - fail: Abbruch\n  - pause: 1\n  - pause: 2\n", {}, [(8, 5)]),
    (
        "unreachable-step",
        "steps:\n  - if: 'false'\n    then: [{pause: 1}]\n",
        {},
        [(8, 5)],
    ),
    ("unreachable-step", "steps:\n  - pause: 1\n    when: '{{ False }}'\n", {}, [(8, 5)]),
    (
        "unreachable-step",
        "steps:\n  - try:\n      - assert: 'false'\n      - pause: 1\n"
        "    on_error: [{set: {x: 1}}]\n",
        {},
        [(9, 9)],
    ),
    (
        "unreachable-step",
        "steps:\n  - if: run.id\n    then: [{fail: a}]\n    else: [{fail: b, kind: business}]\n"
        "  - pause: 1\n",
        {},
        [(10, 5)],
    ),
]

# rule, body, files: the rule finds nothing
CLEAN = [
    ("fixed-pause", "steps:\n  - wait_for: {text: Gespeichert}\n", {}),
    ("nth-locator", "steps:\n  - click: {role: row, name: GA-2026-000231}\n", {}),
    (
        "nth-locator",
        "steps:\n  - click: {role: button, name: Speichern, within: {label: Antrag}}\n",
        {},
    ),
    ("fragile-xpath", "steps:\n  - click: {xpath: \"//button[@data-action='speichern']\"}\n", {}),
    (
        "fragile-xpath",
        "steps:\n  - fill: {xpath: \"//label[text()='Name']/following-sibling::input\"}\n"
        "    value: x\n",
        {},
    ),
    ("generated-id", "steps:\n  - click: {css: '#aktenzeichen, #step2'}\n", {}),
    ("generated-id", "steps:\n  - click: {css: \"input[name='az']\"}\n", {}),
    (
        "raw-step-with-action",
        "targets: [portal]\nsteps:\n  - goto: '{{ targets.portal }}/start'\n"
        "  - click: {role: link, name: Neu}\n",
        {},
    ),
    (
        "raw-step-with-action",
        "targets: [civento]\nsteps:\n  - goto: '{{ targets.civento }}/x'\n"
        "  - goto: https://portal.example.invalid\n  - click: {text: Weiter}\n",
        {},
    ),
    (
        "secret-in-file",
        "secrets: {pw: Passwort des Kontos rpa-gewerbe}\ntargets: [civento]\nsteps:\n"
        "  - use: civento.anmelden\n    with: {benutzer: rpa, passwort: '{{ secrets.pw }}'}\n"
        "  - fill: {label: Passwort}\n    value: '{{ secrets.pw }}'\n",
        {},
    ),
    (
        "secret-in-file",
        "steps:\n  - include: flows/anmelden.yaml\n    with: {passwort: '{{ run.id }}'}\n",
        {
            "flows/anmelden.yaml": "inputs: {passwort: Das Passwort des Kontos}\n"
            "steps:\n  - fill: {label: Passwort}\n    value: '{{ passwort }}'\n"
        },
    ),
    ("token-like-value", "steps:\n  - set: {id: 3f2504e0-4f89-11d3-9a0c-0305e82c3301}\n", {}),
    ("token-like-value", "steps:\n  - set: {hook: register_entry_from_vorgang_und_akte}\n", {}),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n"
        "      - fail: Angaben fehlen\n        kind: business\n        when: not item\n",
        {},
    ),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n"
        "      - call: hooks:pruefen\n        with: {akte: '{{ item }}'}\n",
        {"hooks.py": RAISING_HOOKS},
    ),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n      - try: [{set: {x: 1}}]\n"
        "        on_error: [{set: {y: 2}}]\n",
        {},
    ),
    (
        "queue-without-business-handling",
        "steps:\n  - for_each_item: antraege\n    do:\n      - include: flows/pruefen.yaml\n",
        {"flows/pruefen.yaml": "steps:\n  - fail: unvollständig\n    kind: business\n"},
    ),
    ("unreachable-step", "steps:\n  - fail: Abbruch\n    when: run.id\n  - pause: 1\n", {}),
    ("unreachable-step", "steps:\n  - pause: 1\n  - fail: Ende\n", {}),
    ("unreachable-step", "steps:\n  - if: 'true'\n    then: [{pause: 1}]\n", {}),
]


@pytest.mark.parametrize(("rule", "body", "files", "expected"), FOUND)
def test_the_rule_finds_it_at_its_position(
    write_bot: WriteBot, rule: str, body: str, files: dict[str, str], expected: list
) -> None:
    findings = lint_bot(write_bot("demo", body, files=files))
    assert positions(findings, rule) == expected, [str(f) for f in findings]


@pytest.mark.parametrize(("rule", "body", "files"), CLEAN)
def test_the_rule_stays_quiet_on_the_better_way(
    write_bot: WriteBot, rule: str, body: str, files: dict[str, str]
) -> None:
    findings = lint_bot(write_bot("demo", body, files=files))
    assert positions(findings, rule) == [], [str(f) for f in findings]
    assert not [f for f in findings if f.rule == "invalid-bot"], [str(f) for f in findings]


def test_a_missing_manual_minutes_figure_is_found_at_the_bot_id(write_bot: WriteBot) -> None:
    body = "id: demo\nname: Demo\nversion: 1.0.0\nowner: {city: Gießen, fachamt: Ordnungsamt}\n"
    body += "steps:\n  - set: {x: 1}\n"
    findings = lint_bot(write_bot("demo", body, header=False))
    assert [(f.rule, f.line, f.column) for f in findings] == [("missing-manual-minutes", 1, 1)]


def test_a_bot_with_manual_minutes_has_no_such_finding(write_bot: WriteBot) -> None:
    findings = lint_bot(write_bot("demo", "steps:\n  - set: {x: 1}\n"))
    assert findings == []


def test_findings_in_a_sub_flow_name_the_sub_flow_file(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - include: flows/warten.yaml\n",
        files={"flows/warten.yaml": "steps:\n  - pause: 5\n"},
    )
    assert [str(f).split(" fixed-pause")[0] for f in lint_bot(bot)] == [
        "demo/flows/warten.yaml:2:5: warning"
    ]


def test_messages_never_repeat_the_secret_they_found(write_bot: WriteBot) -> None:
    bot = write_bot(
        "demo",
        "steps:\n  - fill: {label: Passwort}\n    value: Sommer2026\n"
        "  - set: {x: 'ghp_0123456789abcdefABCDEF0123456789abcd'}\n",
    )
    text = "\n".join(str(f) for f in lint_bot(bot))
    assert "secret-in-file" in text and "token-like-value" in text
    assert "Sommer2026" not in text and "ghp_0123" not in text
