"""The ``fail`` step (a message and a kind) and ``retry``'s ``before_retry`` steps.

Real Chromium against the test site (tests/connectors/_site.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.errors import DeliberateFailure, FailureKind, StepFailed
from orchestrator.results import RunRecord, RunStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

pytestmark = pytest.mark.browser

NUMMER = {"extract": {"test_id": "vorgang-nummer"}, "into": "nummer"}


def _log(settings: Settings, record: RunRecord) -> list[dict[str, Any]]:
    path = settings.runs_dir / str(record.id) / "run.log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _trail(record: RunRecord) -> list[tuple[str, str]]:
    return [(step.path, str(step.status)) for step in record.steps]


@pytest.mark.parametrize(
    ("options", "kind"),
    [({"kind": "business"}, "business"), ({"kind": "application"}, "application"),
     ({}, "application")],
)  # fmt: skip
def test_fail_ends_the_run_with_its_message_and_kind(
    settings: Settings, store: RunStore, make_bot: MakeBot, options: dict[str, str], kind: str
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            NUMMER,
            {"fail": "Vorgang {{ nummer }}: keine Gewerbedaten", **options},
            {"set": {"never": 1}},
        ]
    )
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.FAILED
    assert record.error == "Vorgang GA-2025-0001: keine Gewerbedaten"
    assert record.error_step == "steps[2]"
    assert _trail(record)[-1] == ("steps[2]", "failed")  # the step after it never ran
    reached = [e for e in _log(settings, record) if e.get("event") == "fail step reached"]
    assert len(reached) == 1, _log(settings, record)
    assert reached[0]["kind"] == kind and reached[0]["step"] == "steps[2]"
    assert reached[0]["message"] == "Vorgang GA-2025-0001: keine Gewerbedaten"


def test_the_kind_is_on_the_exception() -> None:
    failure = DeliberateFailure("steps[2]", "keine Gewerbedaten", FailureKind.BUSINESS)
    assert isinstance(failure, StepFailed)
    assert failure.kind == "business" and failure.reason == "keine Gewerbedaten"
    assert str(failure) == "steps[2]: keine Gewerbedaten"
    assert StepFailed("steps[0]", "no element matches").kind == FailureKind.APPLICATION


def test_a_fail_in_try_is_handled_like_any_failure(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    steps: list[dict[str, Any]] = [
        {"goto": "{{ targets.site }}/locators"},
        NUMMER,
        {"try": [{"fail": "{{ nummer }} ist gesperrt", "kind": "business"}],
         "on_error": [{"set": {"grund": "{{ error.message }}", "wo": "{{ error.step }}"}}]},
        {"assert": "grund == 'GA-2025-0001 ist gesperrt' and wo == 'steps[2].try[0]'",
         "message": "{{ grund }} at {{ wo }}"},
    ]  # fmt: skip
    bot = make_bot(steps)
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert ("steps[2].try[0]", "recovered") in _trail(record)


def test_before_retry_runs_between_attempts_not_before_the_first(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    # /flaky shows "Bereit" from the second request for a key on: attempt 1 fails.
    steps: list[dict[str, Any]] = [
        {"set": {"anmeldungen": 0}},
        {"retry": [{"goto": "{{ targets.site }}/flaky?key=before-retry"},
                   {"click": {"role": "button", "name": "Bereit"}, "timeout": 2}],
         "before_retry": [{"goto": "{{ targets.site }}/login"},
                          {"set": {"anmeldungen": "{{ anmeldungen + 1 }}"}}],
         "attempts": 3, "backoff": 0.05},
        {"assert": "anmeldungen == 1", "message": "{{ anmeldungen }} Anmeldungen"},
    ]  # fmt: skip
    bot = make_bot(steps)
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert _trail(record) == [
        ("steps[0]", "ok"),
        ("steps[1].retry[0]", "ok"),
        ("steps[1].retry[1]", "recovered"),
        ("steps[1].before_retry[0]", "ok"),
        ("steps[1].before_retry[1]", "ok"),
        ("steps[1].retry[0]", "ok"),
        ("steps[1].retry[1]", "ok"),
        ("steps[1]", "ok"),
        ("steps[2]", "ok"),
    ]
    assert site.flaky_hits["before-retry"] == 2


def test_no_before_retry_when_the_first_attempt_succeeds(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"retry": [{"goto": "{{ targets.site }}/locators"}],
          "before_retry": [{"goto": "{{ targets.site }}/login"}]}]
    )  # fmt: skip
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert _trail(record) == [("steps[0].retry[0]", "ok"), ("steps[0]", "ok")]


def test_a_failing_before_retry_fails_its_attempt(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    steps: list[dict[str, Any]] = [
        {"goto": "{{ targets.site }}/locators"},
        {"retry": [{"fail": "Sitzung abgelaufen"}],
         "before_retry": [{"click": {"role": "button", "name": "Anmelden"}, "timeout": 0.3}],
         "attempts": 3, "backoff": 0.01},
    ]  # fmt: skip
    bot = make_bot(steps)
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.FAILED
    assert _trail(record) == [
        ("steps[0]", "ok"),
        ("steps[1].retry[0]", "recovered"),
        ("steps[1].before_retry[0]", "recovered"),  # attempt 2 failed here: one more try
        ("steps[1].before_retry[0]", "failed"),  # attempt 3, the last
        ("steps[1]", "failed"),
    ]
    assert record.error_step == "steps[1].retry[0]"  # the first failure of the chain
