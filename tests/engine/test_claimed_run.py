"""A run a robot claimed from the queue, executed by the engine (no robot process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.engine.runner import run_claimed
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.identity import Identity
from orchestrator.requests import next_attempt, run_request
from orchestrator.results import RunStatus
from orchestrator.services import runs
from orchestrator.services.context import Context
from orchestrator.settings import Settings
from orchestrator.store import ClaimedRun, Role, RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)
ROBOT = "robot-test"


def _claim(bot: Any, settings: Settings, store: RunStore, params: dict[str, Any]) -> ClaimedRun:
    request = run_request(
        bot, settings=settings, tenant=settings.tenant, params=params, trigger="test",
        actor="test:claimed",
    )  # fmt: skip
    run_id = store.enqueue(request)
    (claimed,) = store.claim(
        holder=ROBOT, tenants={settings.tenant}, labels=set(), limit=1, lease_s=30,
        pool_limits={settings.tenant: {}},
    )  # fmt: skip
    assert claimed.id == run_id
    return claimed


def _no_browser(settings: Settings) -> Settings:
    return settings.model_copy(update={"chromium": Path("/nonexistent/chromium")})


def test_claimed_run_executes_with_the_parameters_it_was_queued_with(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"assert": "params.n == 3"},
            {"call": "hooks:secret_known", "into": "known"},
            {"assert": "known"},
        ],
        hooks="def secret_known(ctx):\n    return ctx.secret('pw') == 'geheim-123'\n",
        targets=[],
        parameters={"n": {"type": "integer"}},
        secrets=["pw"],
    )
    settings = _no_browser(settings)
    claimed = _claim(bot, settings, store, {"n": "3"})
    secrets = MappingSecretProvider({"pw": "geheim-123"})
    record = run_claimed(
        bot, claimed, settings=settings, store=store, holder=ROBOT, secrets=secrets
    )
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert record.id == claimed.id and record.parameters == {"n": 3}
    assert record.steps == []  # the robot needs the outcome only
    stored = store.get_run(claimed.id)
    assert [step.path for step in stored.steps] == ["steps[0]", "steps[1]", "steps[2]"]
    assert stored.run_dir == str(settings.runs_dir / str(claimed.id))
    assert (settings.runs_dir / str(claimed.id) / "run.log.jsonl").is_file()


def test_claimed_run_whose_inputs_no_longer_fit_ends_failed_and_is_retried(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [{"set": {"x": 1}}],
        targets=[],
        secrets=["civento_pw"],
        execution={"retries": {"attempts": 2, "backoff_s": 0}},
    )
    claimed = _claim(bot, settings, store, {})

    def retry(status: RunStatus) -> Any:
        return next_attempt(
            bot, settings=settings, tenant=claimed.tenant, params=claimed.parameters,
            run_id=claimed.id, attempt=claimed.attempt, status=status, actor="test:claimed",
        )  # fmt: skip

    record = run_claimed(
        bot, claimed, settings=settings, store=store, holder=ROBOT, next_attempt=retry
    )
    assert record.status == RunStatus.FAILED
    assert record.error is not None
    assert record.error.startswith("cannot start: ")
    assert "BOTS_SECRET_CIVENTO_PW" in record.error
    retries = [run for run in store.list_runs() if run.retry_of == claimed.id]
    assert [(run.status, run.attempt) for run in retries] == [(RunStatus.QUEUED, 2)]


def test_a_claimed_runs_report_is_written_when_bots_show_first_reads_it(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot([{"set": {"x": 1}}], targets=[])
    claimed = _claim(bot, settings, store, {})
    record = run_claimed(bot, claimed, settings=settings, store=store, holder=ROBOT)
    assert record.status == RunStatus.SUCCEEDED, record.error
    report = settings.runs_dir / str(claimed.id) / "report" / "bericht.html"
    assert not report.exists()  # the robot claimed its next run instead
    ctx = Context(store, settings, Identity("anna", settings.tenant, frozenset(Role), "user"))
    shown = runs.get_run(ctx, claimed.id, None)
    assert [a.path for a in shown.artifacts if a.kind == "report"] == [str(report.resolve())]
    assert '<html lang="de">' in report.read_text(encoding="utf-8")
    assert runs.get_run(ctx, claimed.id, None).artifacts == shown.artifacts  # once
