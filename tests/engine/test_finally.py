"""A bot's ``finally`` steps: after success and failure, after a timeout or cancellation, never
hiding the main failure; a failing ``finally`` fails a run that had succeeded."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.results import ArtifactKind, RunRecord, RunStatus, StepRecord
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

HOOKS = """
import os
import signal

def logout(ctx):
    raise RuntimeError("Abmelden nicht möglich")

def terminate(ctx):
    os.kill(os.getpid(), signal.SIGTERM)
"""
MISSING = {"click": {"text": "Nirgends"}, "timeout": 0.3}


def _no_browser(settings: Settings) -> Settings:
    return settings.model_copy(update={"chromium": Path("/nonexistent/chromium")})


def _statuses(record: RunRecord) -> list[tuple[str, str]]:
    return [(s.path, str(s.status)) for s in record.steps]


def _urls(record: RunRecord) -> dict[str, str]:
    """URL artifact file name -> the URL it holds."""
    return {
        Path(a.path).name: Path(a.path).read_text().strip()
        for a in record.artifacts
        if a.kind == ArtifactKind.URL
    }


@pytest.mark.browser
def test_finally_runs_after_the_steps_succeeded(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/login"},
            {"fill": {"label": "Benutzername"}, "value": "rpa-gewerbe"},
            {"click": {"role": "button", "name": "Anmelden"}},
        ],
        **{
            "finally": [
                {"goto": "{{ targets.site }}/second", "name": "Abmelden"},
                {"wait_for": {"text": "Zweite Seite"}},
            ]
        },
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.SUCCEEDED, record.error
    assert _statuses(record) == [
        ("steps[0]", "ok"),
        ("steps[1]", "ok"),
        ("steps[2]", "ok"),
        ("finally[0]", "ok"),
        ("finally[1]", "ok"),
    ]
    assert record.steps[3].name == "Abmelden"
    assert {str(a.kind) for a in record.artifacts} == {"log", "report"}


@pytest.mark.browser
def test_a_failing_finally_does_not_hide_the_main_failure(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"goto": "{{ targets.site }}/second"}, MISSING],
        **{
            "finally": [
                {"goto": "{{ targets.site }}/login"},
                {"click": {"text": "Abmelden"}, "timeout": 0.3},  # fails
                {"set": {"abgemeldet": True}},  # runs all the same
            ]
        },
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1]"
    assert "no element matches text='Nirgends'" in (record.error or "")
    assert "Abmelden" not in (record.error or "")
    assert _statuses(record)[-3:] == [
        ("finally[0]", "ok"),
        ("finally[1]", "failed"),
        ("finally[2]", "ok"),
    ]
    # The evidence is the main failure's page, not the one `finally` left.
    assert _urls(record) == {"failure-url.txt": f"{settings.targets['site']}/second"}
    assert {a.step_path for a in record.artifacts if a.kind == ArtifactKind.URL} == {"steps[1]"}
    log = (settings.runs_dir / str(record.id) / "run.log.jsonl").read_text()
    events = [json.loads(line) for line in log.splitlines()]
    (failed,) = [e for e in events if e["event"] == "finally steps failed"]
    assert failed["error_step"] == "finally[1]"


@pytest.mark.browser
def test_a_failing_finally_fails_a_run_that_succeeded(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"goto": "{{ targets.site }}/second"}],
        **{"finally": [{"goto": "{{ targets.site }}/login"}, MISSING, {"set": {"x": 1}}]},
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "finally[1]"
    assert "no element matches text='Nirgends'" in (record.error or "")
    assert _statuses(record)[-1] == ("finally[2]", "ok")
    assert _urls(record) == {"failure-url.txt": f"{settings.targets['site']}/login"}


def test_a_failing_hook_in_finally_fails_a_run_that_succeeded(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"set": {"x": 1}}],
        hooks=HOOKS,
        targets=[],
        **{"finally": [{"call": "hooks:logout"}]},
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "finally[0]"
    assert record.error == "hook hooks:logout raised RuntimeError: Abmelden nicht möglich"


def test_finally_runs_after_a_run_timeout_with_a_budget_of_its_own(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"pause": 30}],
        targets=[],
        timeout=0.5,
        **{"finally": [{"set": {"abgemeldet": True}}, {"assert": "abgemeldet"}]},
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)

    assert record.status == RunStatus.TIMED_OUT
    assert record.error_step == "steps[0]"
    assert _statuses(record) == [
        ("steps[0]", "failed"),
        ("finally[0]", "ok"),
        ("finally[1]", "ok"),
    ]


def test_finally_runs_after_a_cancellation(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    cancel = threading.Event()

    def cancel_after_first_step(step: StepRecord) -> None:
        if step.path == "steps[0]":
            cancel.set()  # as `bots runs cancel` does

    bot = make_bot(
        [{"set": {"x": 1}}, {"pause": 300}],
        targets=[],
        **{"finally": [{"set": {"abgemeldet": True}}]},
    )
    record = run_bot(
        bot,
        settings=_no_browser(settings),
        store=store,
        cancel=cancel,
        on_step=cancel_after_first_step,
    )

    assert record.status == RunStatus.CANCELLED
    assert record.error == "cancelled (stopped at steps[1])"
    assert _statuses(record) == [("steps[0]", "ok"), ("finally[0]", "ok")]


def test_finally_is_skipped_after_sigterm(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"call": "hooks:terminate"}],
        hooks=HOOKS,
        targets=[],
        **{"finally": [{"set": {"abgemeldet": True}}]},
    )
    with pytest.raises(KeyboardInterrupt):
        run_bot(bot, settings=_no_browser(settings), store=store)

    (run,) = store.list_runs()
    record = store.get_run(run.id)
    assert record.status == RunStatus.CANCELLED
    assert [s.path for s in record.steps] == ["steps[0]"]
