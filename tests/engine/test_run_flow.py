"""The interpreter without a browser: inputs, control flow, hooks, records, timeouts."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.errors import ConfigError, ParameterError, SecretMissing
from orchestrator.presenters import run_details
from orchestrator.results import RunStatus, StepRecord, StepStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

HOOKS = """
import time

def add(ctx, a, b):
    ctx.log.info("adding", a=a, b=b)
    return a + b

def remember(ctx, **values):
    ctx.vars.update(values)

def password_length(ctx, password):
    return len(password)

def leak(ctx, password):
    raise RuntimeError(f"login refused for password {password}")

def context_secret(ctx):
    return ctx.secret("pw") == "geheim-123"

def write_report(ctx, text):
    path = ctx.run_dir / "bericht.txt"
    path.write_text(text)
    ctx.artifact(path)
    return str(path)

def sleepy(ctx, marker):
    time.sleep(60)
    open(marker, "w").close()

def flaky(ctx, key):
    ctx.vars.setdefault("calls", {}).setdefault(key, 0)
    ctx.vars["calls"][key] += 1
    if ctx.vars["calls"][key] < 3:
        raise ValueError(f"not yet ({ctx.vars['calls'][key]})")
    return "done"
"""


def _no_browser(settings: Settings) -> Settings:
    # A path that cannot start: proves hook-only bots never launch Chromium.
    return settings.model_copy(update={"chromium": Path("/nonexistent/chromium")})


def test_hook_only_bot_runs_without_a_browser(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"call": "hooks:add", "with": {"a": "{{ params.n }}", "b": 2}, "into": "sum"},
            {"set": {"twice": "{{ sum * 2 }}", "label": "Summe {{ sum }}"}},
            {"assert": "twice == 14 and label == 'Summe 7'", "message": "got {{ twice }}"},
            {"call": "hooks:write_report", "with": {"text": "{{ label }}"}, "into": "report"},
            {"call": "hooks:context_secret", "into": "secret_ok"},
            {"assert": "secret_ok"},
        ],
        hooks=HOOKS,
        parameters={"n": {"type": "integer"}},
        secrets=["pw"],
        targets=[],
    )
    seen: list[str] = []
    record = run_bot(
        bot,
        settings=_no_browser(settings),
        store=store,
        params={"n": "5"},
        secrets=MappingSecretProvider({"pw": "geheim-123"}),
        on_step=lambda step: seen.append(step.path),
    )
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert record.parameters == {"n": 5}
    assert [s.path for s in record.steps] == [f"steps[{i}]" for i in range(6)] == seen
    kinds = {a.kind for a in record.artifacts}
    assert kinds == {"output", "log", "report"}
    report = next(a for a in record.artifacts if a.kind == "output")
    assert Path(report.path).read_text() == "Summe 7"
    run_dir = settings.runs_dir / str(record.id)
    assert not (run_dir / "trace.zip").exists()


def test_control_flow_records_paths(settings: Settings, store: RunStore, make_bot: MakeBot) -> None:
    bot = make_bot(
        [
            {"set": {"items": [1, 2, 3], "total": 0}},
            {
                "for_each": "{{ items }}",
                "as": "n",
                "do": [
                    {
                        "if": "n is odd",
                        "then": [{"set": {"total": "{{ total + n }}"}}],
                        "else": [{"set": {"even": "{{ n }}"}}],
                    },
                ],
            },
            {"include": "flows/check.yaml", "with": {"expected": 4}},
            {"set": {"never": 1}, "when": "total > 100"},
            {"assert": "n is not defined", "message": "the loop variable leaked"},
        ],
        subflows={
            "flows/check.yaml": {
                "steps": [{"set": {"seen": "{{ expected }}"}}, {"assert": "total == expected"}]
            }
        },
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    by_path = {s.path: s for s in record.steps}
    # Paths name the iteration: steps[1][0] is the first item's, steps[1][1] the second's.
    assert by_path["steps[1][0].do[0].then[0]"].status == StepStatus.OK
    assert by_path["steps[1][1].do[0].else[0]"].status == StepStatus.OK
    assert by_path["steps[2].include[1]"].kind == "assert"
    assert by_path["steps[3]"].status == StepStatus.SKIPPED


def test_retry_recovers_a_transient_failure(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {
                "retry": [{"call": "hooks:flaky", "with": {"key": "a"}, "into": "result"}],
                "attempts": 4,
                "backoff": 0.01,
            },
            {"assert": "result == 'done'"},
        ],
        hooks=HOOKS,
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    attempts = [s for s in record.steps if s.path == "steps[0].retry[0]"]
    assert [s.status for s in attempts] == ["recovered", "recovered", "ok"]
    assert "not yet (1)" in (attempts[0].message or "")


def test_retry_gives_up_after_the_last_attempt(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"retry": [{"call": "hooks:flaky", "with": {"key": "b"}}], "attempts": 2, "backoff": 0}],
        hooks=HOOKS,
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[0].retry[0]"
    assert record.error == "hook hooks:flaky raised ValueError: not yet (2)"
    statuses = [(s.path, s.status) for s in record.steps]
    assert statuses == [
        ("steps[0].retry[0]", "recovered"),
        ("steps[0].retry[0]", "failed"),
        ("steps[0]", "failed"),
    ]


def test_try_runs_on_error_with_the_error_in_scope(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {
                "try": [{"assert": "1 == 2", "message": "eins ist nicht zwei"}],
                "on_error": [{"set": {"caught": "{{ error.step }}: {{ error.message }}"}}],
            },
            {"assert": "caught == 'steps[0].try[0]: eins ist nicht zwei'"},
            {"assert": "error is not defined"},
        ],
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert record.steps[0].path == "steps[0].try[0]"
    assert record.steps[0].status == StepStatus.RECOVERED


def test_expression_errors_fail_the_step_readably(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot([{"set": {"x": "{{ vorgang.Nummer }}"}}], targets=[])
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[0]"
    assert record.error == "cannot evaluate '{{ vorgang.Nummer }}': 'vorgang' is undefined"


def test_hook_errors_are_redacted(settings: Settings, store: RunStore, make_bot: MakeBot) -> None:
    bot = make_bot(
        [{"call": "hooks:leak", "with": {"password": "{{ secrets.pw }}"}}],
        hooks=HOOKS,
        secrets=["pw"],
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store,
                     secrets=MappingSecretProvider({"pw": "s3cr3t&x"}))  # fmt: skip
    assert record.error == "hook hooks:leak raised RuntimeError: login refused for password ***"
    log = (settings.runs_dir / str(record.id) / "run.log.jsonl").read_text()
    assert "s3cr3t" not in log and "login refused for password ***" in log


def test_secrets_cannot_be_embedded_in_text(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot([{"set": {"url": "http://x/?pw={{ secrets.pw }}"}}], secrets=["pw"], targets=[])
    record = run_bot(bot, settings=_no_browser(settings), store=store,
                     secrets=MappingSecretProvider({"pw": "abcdef"}))  # fmt: skip
    assert record.status == RunStatus.FAILED
    assert "secrets.pw can only be used as a whole value" in (record.error or "")


def test_a_stuck_hook_fails_at_its_step_timeout(
    settings: Settings, store: RunStore, make_bot: MakeBot, tmp_path: Path
) -> None:
    woke = tmp_path / "woke"  # the hook writes it after sleeping 60 s
    bot = make_bot(
        [{"call": "hooks:sleepy", "with": {"marker": str(woke)}, "timeout": 0.2}],
        hooks=HOOKS,
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.FAILED
    assert record.error == "hook hooks:sleepy did not return within 0.2 s"
    assert not woke.exists(), "the run waited for the stuck hook"


def test_run_timeout(settings: Settings, store: RunStore, make_bot: MakeBot) -> None:
    bot = make_bot([{"pause": 60}, {"set": {"x": 1}}], targets=[], timeout=0.3)
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    # The budget cut the pause short: the run ended at the pause, the `set` never ran.
    assert record.status == RunStatus.TIMED_OUT
    assert record.error_step == "steps[0]"
    assert "did not finish within 0.3 s" in (record.error or "")
    # The pause did not run to its end and the step after it never started.
    assert {(s.path, s.status) for s in record.steps} <= {("steps[0]", StepStatus.FAILED)}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"n": "3", "flag": "ja", "tags": "a, b", "day": "2025-01-31", "x": "1.5"},
         {"n": 3, "flag": True, "tags": ["a", "b"], "day": "2025-01-31", "x": 1.5, "mode": "A"}),
        ({"n": 3, "mode": "B"},
         {"n": 3, "flag": False, "tags": [], "day": "2025-01-01", "x": 0, "mode": "B"}),
    ],
)  # fmt: skip
def test_parameters_are_coerced(
    settings: Settings, store: RunStore, make_bot: MakeBot, given: dict[str, Any],
    expected: dict[str, Any],
) -> None:  # fmt: skip
    bot = make_bot(
        [{"set": {"p": "{{ params }}"}}],
        targets=[],
        parameters={
            "n": {"type": "integer"},
            "flag": {"type": "boolean", "default": False},
            "tags": {"type": "list", "default": []},
            "day": {"type": "date", "default": "2025-01-01"},
            "x": {"type": "number", "default": 0},
            "mode": {"type": "string", "default": "A", "choices": ["A", "B"]},
        },
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store, params=given)
    assert record.parameters == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "parameter 'n' is required"),
        ({"n": "drei"}, "parameter 'n' must be of type integer"),
        ({"n": "1", "m": "2"}, "unknown parameter 'm'"),
        ({"n": "1", "mode": "C"}, "must be one of A, B"),
    ],
)
def test_bad_parameters_raise_before_a_run_exists(
    settings: Settings, store: RunStore, make_bot: MakeBot, given: dict[str, Any], message: str
) -> None:
    bot = make_bot(
        [{"set": {"x": 1}}],
        targets=[],
        parameters={"n": {"type": "integer"}, "mode": {"default": "A", "choices": ["A", "B"]}},
    )
    with pytest.raises(ParameterError, match=message):
        run_bot(bot, settings=settings, store=store, params=given)
    assert store.list_runs() == []


def test_missing_secret_and_target_raise_before_a_run_exists(
    settings: Settings, store: RunStore, make_bot: MakeBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot([{"set": {"x": 1}}], secrets=["civento_pw"], targets=[])
    with pytest.raises(SecretMissing, match="BOTS_SECRET_CIVENTO_PW"):
        run_bot(bot, settings=settings, store=store)
    monkeypatch.setenv("BOTS_SECRET_CIVENTO_PW", "from-env")
    assert run_bot(bot, settings=settings, store=store).status == RunStatus.SUCCEEDED

    no_target = make_bot([{"set": {"x": 1}}], targets=["gewerbeamt"])
    with pytest.raises(ConfigError, match="BOTS_TARGETS__GEWERBEAMT"):
        run_bot(no_target, settings=settings, store=store)
    assert len(store.list_runs()) == 1


def test_sigterm_cancels_the_run(settings: Settings, store: RunStore, make_bot: MakeBot) -> None:
    bot = make_bot([{"set": {"x": 1}}, {"pause": 60}], targets=[])
    # SIGTERM is sent only once the first step has finished, so the run's handler is in place
    # however slowly the run started (before it, SIGTERM would end pytest itself); the short
    # delay lets the run enter the pause, which is all that is left to do.
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))

    def on_step(step: StepRecord) -> None:
        if step.path == "steps[0]":
            timer.start()

    try:
        with pytest.raises(KeyboardInterrupt):
            run_bot(bot, settings=_no_browser(settings), store=store, on_step=on_step)
    finally:
        timer.cancel()
    (run,) = store.list_runs()
    assert run.status == RunStatus.CANCELLED
    steps = [(s.path, s.status, s.message) for s in store.get_run(run.id).steps]
    assert steps == [
        ("steps[0]", StepStatus.OK, None),
        ("steps[1]", StepStatus.FAILED, "cancelled"),  # the pause was interrupted
    ]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_block_timeout_fails_the_block(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"for_each": "{{ [1, 2, 3, 4] }}", "timeout": 0.25, "do": [{"pause": 60}]},
            {"set": {"x": 1}},
        ],
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[0]"
    assert record.error == "did not finish within its timeout of 0.25 s"
    # No pause ran to its end, no later item started, and nothing ran after the block.
    steps = [(s.path, s.status) for s in record.steps]
    assert steps in (
        [("steps[0][0].do[0]", StepStatus.FAILED), ("steps[0]", StepStatus.FAILED)],
        [("steps[0]", StepStatus.FAILED)],  # the time was up before the first pause began
    )


def test_a_failure_in_a_loop_names_its_iteration_and_value(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"set": {"faelle": [{"Nummer": "GA-1", "ok": True}, {"Nummer": "GA-2", "ok": False}]}},
            {"for_each": "{{ faelle }}", "as": "fall", "do": [
                {"assert": "fall.ok", "message": "Fall nicht bearbeitbar"},
            ]},
            {"for_each": "{{ ['a'] }}", "as": "x", "label": "{{ x | upper }}", "do": [
                {"try": [{"fail": "innen"}], "on_error": []},
            ]},
        ],
        targets=[],
    )  # fmt: skip
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1][1].do[0]"
    assert record.error == "Fall nicht bearbeitbar [steps[1][1]: fall.Nummer = GA-2]"
    failed = next(s for s in record.steps if s.path == "steps[1][1].do[0]")
    assert failed.message == "Fall nicht bearbeitbar [steps[1][1]: fall.Nummer = GA-2]"
    assert "steps[1][0].do[0]" in {s.path for s in record.steps}
    shown = "\n".join(run_details(store.get_run(record.id), max_robot_losses=3))  # `bots show`
    assert "steps[1][1]: fall.Nummer = GA-2" in shown
    assert "steps[1][1].do[0]" in shown


def test_qualified_kind_keys_run_as_their_bare_ones(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    """``flow.retry:`` is ``retry:``: its nested steps, its options, its record."""
    bot = make_bot(
        [
            {"flow.set": {"tries": 0}},
            {
                "flow.retry": [
                    {"flow.set": {"tries": "{{ tries + 1 }}"}},
                    {"flow.assert": "tries >= 2", "message": "erst {{ tries }}"},
                ],
                "attempts": 3,
                "backoff": 0,
            },
            {"flow.if": "tries == 2", "then": [{"set": {"fertig": "ja"}}]},
            {"assert": "fertig == 'ja'"},
        ],
        targets=[],
    )
    record = run_bot(bot, settings=_no_browser(settings), store=store, params={})
    assert record.status == RunStatus.SUCCEEDED, record.error
    top = [(s.path, s.kind) for s in record.steps if s.path.count("[") == 1]
    assert top == [
        ("steps[0]", "set"),
        ("steps[1]", "retry"),
        ("steps[2]", "if"),
        ("steps[3]", "assert"),
    ]
