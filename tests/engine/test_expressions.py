"""Templates and conditions as bots use them."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.engine.expressions import TemplateProblem, condition, render, render_text
from orchestrator.engine.secrets import SecretValue, reveal

SCOPE: dict[str, Any] = {
    "vorgaenge": [{"Nummer": "GA-1"}, {"Nummer": "GA-2"}],
    "params": {"max_cases": 5},
    "secrets": {"pw": SecretValue("pw", "geheim")},
}


def test_a_single_expression_keeps_its_type() -> None:
    assert render("{{ vorgaenge }}", SCOPE) == SCOPE["vorgaenge"]
    assert render("  {{ params.max_cases + 1 }} ", SCOPE) == 6
    assert render("{{ vorgaenge | length }} Fälle", SCOPE) == "2 Fälle"
    assert render("plain {text}", SCOPE) == "plain {text}"


def test_render_walks_dicts_and_lists() -> None:
    value = {"a": ["{{ vorgaenge[0].Nummer }}", 3], "b": {"c": "{{ params.max_cases }}"}}
    assert render(value, SCOPE) == {"a": ["GA-1", 3], "b": {"c": 5}}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("vorgaenge | length > 1", True),
        ("{{ params.max_cases < 3 }}", False),
        ("vorgaenge[0].Nummer == 'GA-1'", True),
        ("'false'", False),
        ("[]", False),
    ],
)
def test_conditions(expression: str, expected: bool) -> None:
    assert condition(expression, SCOPE) is expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ vorgang.Nummer }}", "'vorgang' is undefined"),
        ("{{ vorgaenge[0].Name }}", "has no attribute 'Name'"),
        ("{{ params.max_cases / 0 }}", "division by zero"),
        ("{{ 1 + }}", "unexpected"),
        ("{{ ''.__class__ }}", "unsafe"),
    ],
)
def test_errors_are_readable(template: str, message: str) -> None:
    with pytest.raises(TemplateProblem, match=message) as caught:
        render(template, SCOPE)
    assert str(caught.value).startswith(f"cannot evaluate {template!r}: ")


def test_undefined_names_in_conditions_are_errors() -> None:
    with pytest.raises(TemplateProblem, match="'nope' is undefined"):
        condition("nope", SCOPE)


def test_secrets_stay_wrapped_and_masked() -> None:
    secret = render("{{ secrets.pw }}", SCOPE)
    assert isinstance(secret, SecretValue)
    assert str(secret) == "***" and "geheim" not in repr(secret)
    assert reveal({"x": [secret]}) == {"x": ["geheim"]}
    assert render("{{ secrets.pw | string }}", SCOPE) == "***"
    with pytest.raises(TemplateProblem, match="only be used as a whole value"):
        render("https://x/?pw={{ secrets.pw }}", SCOPE)
    with pytest.raises(TemplateProblem, match="only be used as a whole value"):
        render_text("{{ secrets.pw }}", SCOPE)
    with pytest.raises(TemplateProblem):
        render("{{ secrets.pw._value }}", SCOPE)
