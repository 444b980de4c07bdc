"""Queries that answer at once: ``get: count``, ``get: texts`` and the optional ``wait_for``.

Real Chromium against the test site (tests/connectors/_site.py). Zero matches is an answer,
not a failure after the step timeout; an optional wait stores whether its condition came true.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from orchestrator.engine import run_bot
from orchestrator.model import Step, load_bot
from orchestrator.results import RunStatus, StepStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)
STEP = TypeAdapter(Step)


def _ran(record: Any, path: str) -> Any:
    return next(step for step in record.steps if step.path == path)


@pytest.mark.browser
def test_count_of_nothing_is_zero_and_texts_of_nothing_empty_at_once(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    steps: list[dict[str, Any]] = [
        {"goto": "{{ targets.site }}/locators"},
        {"extract": {"role": "row", "name": "GA-9"}, "get": "count", "into": "treffer"},
        {"extract": {"css": ".fehler"}, "get": "texts", "into": "fehler"},
        {"extract": {"role": "row"}, "get": "count", "into": "zeilen"},
        {"click": {"role": "link", "name": "GA-9"}, "when": "treffer > 0"},
        {"if": "treffer == 0", "then": [{"set": {"ergebnis": "nicht gefunden"}}]},
        {"assert": "treffer == 0 and fehler == [] and zeilen == 3",
         "message": "got {{ treffer }}, {{ fehler }}, {{ zeilen }}"},
        {"assert": "ergebnis == 'nicht gefunden'"},
    ]  # fmt: skip
    bot = make_bot(steps)
    # Waiting for a match would take the hour, past the test's own time limit.
    patient = settings.model_copy(update={"step_timeout_s": 3600.0})
    record = run_bot(bot, settings=patient, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert _ran(record, "steps[4]").status == StepStatus.SKIPPED  # `when: treffer > 0`
    for path in ("steps[1]", "steps[2]"):
        assert _ran(record, path).status == StepStatus.OK


@pytest.mark.browser
def test_optional_wait_for_answers_false_then_true(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bereit = {"element": {"role": "button", "name": "Bereit"}}
    steps: list[dict[str, Any]] = [
        # /flaky shows the button from the second request for a key on.
        {"goto": "{{ targets.site }}/flaky?key=optional-{{ run.id }}"},
        {"wait_for": bereit, "timeout": 0.5, "into": "erst"},
        {"goto": "{{ targets.site }}/flaky?key=optional-{{ run.id }}"},
        {"wait_for": bereit, "timeout": 10, "into": "dann"},
        # /locators adds its button "Später" 300 ms after the page's script ran.
        {"goto": "{{ targets.site }}/locators", "wait_until": "commit"},
        {"wait_for": {"element": {"role": "button", "name": "Später"}}, "into": "spaeter"},
        {"wait_for": {"url": "**/nirgends"}, "timeout": 0.3, "into": "url"},
        {"wait_for": {"text": "Nirgends"}, "timeout": 0.3, "into": "text"},
        {"wait_for": {"element": {"css": "#nirgends"}}, "timeout": 0.3, "into": "element"},
        {"wait_for": {"element": {"css": "#nirgends"}, "state": "detached"}, "into": "weg"},
        {"assert": "erst is false and dann is true and spaeter is true and url is false"
                   " and text is false and element is false and weg is true",
         "message": "{{ [erst, dann, spaeter, url, text, element, weg] }}"},
    ]  # fmt: skip
    bot = make_bot(steps)
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert [s.status for s in record.steps] == [StepStatus.OK] * 11
    # An answered wait is no failure: no evidence was taken.
    assert not (settings.runs_dir / str(record.id) / "failure.png").exists()


@pytest.mark.browser
def test_a_wait_for_without_into_still_fails(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            {"wait_for": {"element": {"css": "#nirgends"}}, "timeout": 0.3},
        ]
    )
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1]" and "#nirgends" in (record.error or "")


def test_into_only_where_a_step_answers() -> None:
    wait = STEP.validate_python({"wait_for": {"text": "Fertig"}, "timeout": 3, "into": "fertig"})
    assert wait.into == "fertig"
    count = STEP.validate_python({"extract": {"role": "row"}, "get": "count", "into": "n"})
    assert count.get == "count"
    with pytest.raises(ValidationError, match="into"):
        STEP.validate_python({"click": {"role": "button", "name": "OK"}, "into": "x"})
    with pytest.raises(ValidationError, match="into"):
        STEP.validate_python({"wait_for": {"text": "Fertig"}, "into": "kein name"})
    with pytest.raises(ValidationError, match="attribute"):
        STEP.validate_python(
            {"extract": {"role": "row"}, "get": "count", "attribute": "id", "into": "n"}
        )


def test_answers_are_variables_for_when_and_if(tmp_path: Path) -> None:
    bot_dir = tmp_path / "treffer"
    bot_dir.mkdir()
    (bot_dir / "bot.yaml").write_text(
        textwrap.dedent(
            """\
            id: treffer
            name: Treffer
            version: 1.0.0
            owner: {city: Gießen, fachamt: Ordnungsamt}
            targets: [civento]
            steps:
              - goto: "{{ targets.civento }}/suche"
              - extract: {role: row}
                get: count
                into: treffer
              - wait_for: {element: {role: dialog, name: Hinweis}}
                timeout: 3
                into: hinweis_da
              - click: {role: button, name: Schließen}
                when: hinweis_da
              - if: treffer > 0
                then:
                  - click: {role: row, nth: 0}
            """
        ),
        encoding="utf-8",
    )
    steps = load_bot(bot_dir).definition.steps
    assert [step.KIND for step in steps] == ["goto", "extract", "wait_for", "click", "if"]
