"""Failure evidence and the run's error show the first failure, not what recovery did after it.

A step fails, ``on_error`` or a retry changes the page, the run fails later: ``failure.*`` shows
the page of the first failure, ``failure-final.*`` the page at the end, and the error names the
first cause with its step. A failure that a ``try`` or ``retry`` recovers leaves nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.results import ArtifactKind, ArtifactRecord, RunRecord, RunStatus, StepRecord
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

HOOKS = """
def refuse(ctx, password):
    raise RuntimeError(f"Unzulässige Zeichen im Passwort {password}")
"""
MISSING = {"click": {"text": "Nirgends"}, "timeout": 0.3}


def _evidence(record: RunRecord) -> dict[str, ArtifactRecord]:
    """Screenshot, HTML and URL artifacts by file name."""
    kinds = {ArtifactKind.SCREENSHOT, ArtifactKind.HTML, ArtifactKind.URL}
    return {Path(a.path).name: a for a in record.artifacts if a.kind in kinds}


def _run_dir_files(settings: Settings, record: RunRecord) -> list[str]:
    return sorted(p.name for p in (settings.runs_dir / str(record.id)).iterdir())


def _captures(settings: Settings, record: RunRecord) -> int:
    log = settings.runs_dir / str(record.id) / "run.log.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return sum(1 for line in lines if line["event"] == "failure evidence captured")


@pytest.mark.browser
def test_evidence_and_error_show_the_first_failure_not_the_page_on_error_left(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/second"},
            {
                "try": [{"goto": "{{ targets.site }}/status/422"}],  # the target refuses
                "on_error": [
                    {"goto": "{{ targets.site }}/login"},  # log in again
                    {"assert": "false", "message": "Anlegen gescheitert"},
                ],
            },
        ]
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1].try[0]"
    assert record.error == (
        "Anlegen gescheitert (stopped at steps[1].on_error[1]; first failure at "
        f"steps[1].try[0]: cannot open {site.base_url}/status/422: the server answered 422 "
        "Unprocessable Entity)"
    )
    evidence = _evidence(record)
    assert sorted(evidence) == [
        "failure-final-url.txt",
        "failure-final.html",
        "failure-final.png",
        "failure-url.txt",
        "failure.html",
        "failure.png",
    ]
    first = {name: a for name, a in evidence.items() if not name.startswith("failure-final")}
    assert {a.step_path for a in first.values()} == {"steps[1].try[0]"}
    assert Path(first["failure-url.txt"].path).read_text().strip().endswith("/status/422")
    assert "Status 422" in Path(first["failure.html"].path).read_text()
    assert Path(first["failure.png"].path).read_bytes().startswith(b"\x89PNG")
    final = {name: a for name, a in evidence.items() if name.startswith("failure-final")}
    assert {a.step_path for a in final.values()} == {"steps[1].on_error[1]"}
    assert Path(final["failure-final-url.txt"].path).read_text().strip().endswith("/login")
    assert "Anmeldung" in Path(final["failure-final.html"].path).read_text()


@pytest.mark.browser
def test_later_attempts_of_a_retry_capture_nothing_more(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    bot = make_bot(
        [
            {"set": {"n": 0}},
            {
                "retry": [
                    {"set": {"n": "{{ n + 1 }}"}},
                    {"goto": "{{ targets.site }}/status/50{{ n }}"},
                ],
                "attempts": 3,
                "backoff": 0,
            },
        ]
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1].retry[1]"
    # The last attempt failed at the same step: its error stands alone.
    assert record.error == (
        f"cannot open {site.base_url}/status/503: the server answered 503 Service Unavailable"
    )
    evidence = _evidence(record)
    assert sorted(evidence) == ["failure-url.txt", "failure.html", "failure.png"]
    assert Path(evidence["failure-url.txt"].path).read_text().strip().endswith("/status/501")
    assert "Status 501" in Path(evidence["failure.html"].path).read_text()
    assert _captures(settings, record) == 1


@pytest.mark.browser
def test_a_recovered_failure_leaves_no_evidence(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/second"},
            {"try": [MISSING], "on_error": [{"set": {"handled": "{{ error.step }}"}}]},
            {
                "retry": [
                    {"goto": "{{ targets.site }}/flaky?key=first-failure-{{ run.id }}"},
                    {"click": {"role": "button", "name": "Bereit"}, "timeout": 0.3},
                ],
                "attempts": 3,
                "backoff": 0,
            },
        ],
        trace="never",
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.SUCCEEDED, record.error
    assert [s.path for s in record.steps if s.status == "recovered"] == [
        "steps[1].try[0]",
        "steps[2].retry[1]",
    ]
    assert _evidence(record) == {}
    assert _run_dir_files(settings, record) == ["report", "run.log.jsonl"]  # no evidence


@pytest.mark.browser
def test_a_later_failure_is_not_blamed_on_a_recovered_one(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/second"},
            {"try": [MISSING], "on_error": [{"goto": "{{ targets.site }}/login"}]},
            MISSING,
        ]
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[2]"
    assert "first failure" not in (record.error or "")
    evidence = _evidence(record)
    assert sorted(evidence) == ["failure-url.txt", "failure.html", "failure.png"]
    assert Path(evidence["failure-url.txt"].path).read_text().strip().endswith("/login")
    assert {a.step_path for a in evidence.values()} == {"steps[2]"}


@pytest.mark.browser
def test_recovery_inside_on_error_keeps_the_first_failure(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    bot = make_bot(
        [
            {
                "try": [{"goto": "{{ targets.site }}/status/500"}],
                "on_error": [
                    {"goto": "{{ targets.site }}/second"},
                    # A failure handled inside on_error belongs to the chain already open.
                    {"try": [MISSING], "on_error": [{"set": {"ignored": True}}]},
                    {"assert": "false", "message": "gescheitert: {{ error.message }}"},
                ],
            },
        ]
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[0].try[0]"
    # The assert's message quotes the first cause already: only its step is added.
    assert record.error == (
        f"gescheitert: cannot open {site.base_url}/status/500: the server answered 500 "
        "Internal Server Error (stopped at steps[0].on_error[2]; first failure at steps[0].try[0])"
    )
    evidence = _evidence(record)
    assert Path(evidence["failure-url.txt"].path).read_text().strip().endswith("/status/500")
    assert "Status 500" in Path(evidence["failure.html"].path).read_text()
    assert _captures(settings, record) == 2  # the first failure, and the final page


def test_the_first_cause_of_a_cancelled_run_is_named_and_redacted(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    cancel = threading.Event()

    def cancel_after_first_attempt(step: StepRecord) -> None:
        if step.path == "steps[0].retry[0]":
            cancel.set()  # the retry's backoff wakes up and stops the run

    bot = make_bot(
        [
            {
                "retry": [{"call": "hooks:refuse", "with": {"password": "{{ secrets.pw }}"}}],
                "attempts": 3,
                "backoff": 300,
            }
        ],
        hooks=HOOKS,
        secrets=["pw"],
        targets=[],
    )
    record = run_bot(
        bot,
        settings=settings.model_copy(update={"chromium": Path("/nonexistent/chromium")}),
        store=store,
        secrets=MappingSecretProvider({"pw": "s3cr3t€"}),
        cancel=cancel,
        on_step=cancel_after_first_attempt,
    )

    assert record.status == RunStatus.CANCELLED
    assert record.error_step == "steps[0].retry[0]"
    assert record.error == (
        "cancelled (stopped at steps[0]) (first failure at steps[0].retry[0]: "
        "hook hooks:refuse raised RuntimeError: Unzulässige Zeichen im Passwort ***)"
    )
    assert _evidence(record) == {}  # no browser, no browser evidence


@pytest.mark.browser
def test_evidence_that_cannot_be_captured_does_not_change_the_outcome(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/second"},
            {
                "try": [{"goto": "chrome://crash"}],  # the page's renderer is gone
                "on_error": [{"assert": "false", "message": "Seite abgestürzt"}],
            },
        ]
    )
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1].try[0]"
    assert (record.error or "").startswith(
        "Seite abgestürzt (stopped at steps[1].on_error[0]; first failure at steps[1].try[0]: "
        "cannot open chrome://crash"
    ), record.error
    assert "failure.png" not in _evidence(record)
    log = (settings.runs_dir / str(record.id) / "run.log.jsonl").read_text()
    warnings = [json.loads(line) for line in log.splitlines() if '"warning"' in line]
    assert "failure screenshot not captured" in {w["event"] for w in warnings}


@pytest.mark.browser
def test_a_page_too_busy_to_answer_does_not_hold_up_the_run(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    # Once loaded, the page's script never yields: it cannot be painted, and reading its HTML
    # (which has no timeout) would never return.
    busy = "data:text/html,<h1>Rechnet</h1><script>setTimeout(() => { for (;;) {} }, 50)</script>"
    bot = make_bot([{"goto": busy}, {"wait_for": {"url": "**/nie"}, "timeout": 0.3}], trace="never")
    record = run_bot(bot, settings=settings, store=store)

    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1]"
    evidence = _evidence(record)
    assert sorted(evidence) == ["failure-url.txt"]
    assert Path(evidence["failure-url.txt"].path).read_text().startswith("data:text/html,")
