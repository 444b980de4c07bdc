"""Runs: start one here, queue one for a robot (with the city's parameters), follow, list,
show, cancel and retry.

Each operation authorises once on the tenant of the one tenant rule; a run of another
tenant does not exist for the actor. Example::

    with open_context(settings, token) as ctx:
        run_id, tenant = enqueue_run(ctx, "gewerbe-uebertragung", {"limit": "20"}, tenant=None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.results import RunRecord, RunStatus, StepRecord
from orchestrator.services.access import Permission
from orchestrator.services.context import Context


def run_here(
    ctx: Context,
    bot: str,
    params: dict[str, str],
    *,
    tenant: str | None,
    trigger: str = "cli",
    retry: bool = True,
    on_step: Callable[[StepRecord], None] | None = None,
    on_retry: Callable[[RunRecord, float], None] | None = None,
    **options: Any,
) -> RunRecord:
    """Run ``bot`` (an id or a bot directory) in this process, retrying as its
    ``execution.retries`` say (unless not ``retry``); the last attempt's record.

    Raises:
        NotAllowed: the actor may not start runs on the tenant.
        BotBusy: another run holds the bot, or a pool it needs is full.
    """
    from orchestrator.engine import run_with_retries
    from orchestrator.model.loader import resolve_bot

    where = ctx.on_tenant(Permission.START_RUN, tenant)
    effective = ctx.settings.model_copy(update={"tenant": where})
    return run_with_retries(
        resolve_bot(bot, effective.bot_dirs),
        settings=effective,
        store=ctx.store,
        params=params,
        trigger=trigger,
        on_step=on_step,
        on_retry=on_retry,
        retry=retry,
        actor=ctx.actor.actor,
        **options,
    )


def enqueue_run(
    ctx: Context, bot: str, params: dict[str, str], *, tenant: str | None, trigger: str = "cli"
) -> tuple[int, str]:
    """Queue a run of ``bot`` for a robot, with the city's parameters under ``params``
    (:func:`~orchestrator.catalog.city.with_city_parameters`); its id and tenant.

    Raises:
        NotAllowed: the actor may not start runs on the tenant.
    """
    from orchestrator.catalog.city import with_city_parameters
    from orchestrator.model.loader import resolve_bot
    from orchestrator.requests import run_request

    where = ctx.on_tenant(Permission.START_RUN, tenant)
    effective = ctx.settings.model_copy(update={"tenant": where})
    loaded = resolve_bot(bot, effective.bot_dirs)
    request = run_request(
        loaded,
        settings=effective,
        tenant=where,
        params=with_city_parameters(loaded, effective, where, params),
        trigger=trigger,
        actor=ctx.actor.actor,
    )
    return ctx.store.enqueue(request), where


def follow_run(
    ctx: Context,
    run_id: int,
    *,
    tenant: str | None,
    on_retry: Callable[[int, int], None] | None = None,
) -> RunRecord:
    """Wait until run ``run_id`` and the retries queued after it ended; the last one."""
    from orchestrator.follow import follow_run as follow

    where = ctx.on_tenant(Permission.SHOW_RUN, tenant)
    return follow(ctx.store, run_id, tenant=where, on_retry=on_retry)


def list_runs(
    ctx: Context,
    *,
    bot: str | None,
    status: RunStatus | None,
    limit: int,
    tenant: str | None,
) -> list[RunRecord]:
    """The tenant's runs, newest first."""
    where = ctx.on_tenant(Permission.LIST_RUNS, tenant)
    return ctx.store.list_runs(bot_id=bot, tenant=where, status=status, limit=limit)


def get_run(ctx: Context, run_id: int, tenant: str | None) -> RunRecord:
    """One run with its steps and artifacts (RunNotFound for another tenant's); its report
    is written now if a robot left it to the first reader."""
    from orchestrator.reports.run_end import ensure_run_report

    where = ctx.on_tenant(Permission.SHOW_RUN, tenant)
    record = ctx.store.get_run(run_id, tenant=where)
    if ensure_run_report(ctx.store, ctx.settings, run_id, run=record):
        record = ctx.store.get_run(run_id, tenant=where)
    return record


def cancel_run(ctx: Context, run_id: int, tenant: str | None) -> RunStatus:
    """Cancel a run: a queued one at once (CANCELLED), a running one at its next step
    (RUNNING is returned)."""
    where = ctx.on_tenant(Permission.CANCEL_RUN, tenant)
    return ctx.store.cancel(run_id, tenant=where, actor=ctx.actor.actor)


def retry_run(ctx: Context, run_id: int, tenant: str | None) -> int:
    """Queue a new run like the ended run ``run_id``; the new run's id."""
    where = ctx.on_tenant(Permission.RETRY_RUN, tenant)
    return ctx.store.retry(run_id, tenant=where, actor=ctx.actor.actor)
