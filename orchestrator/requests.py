"""From a bot and parameters to a :class:`~orchestrator.store.RunRequest` for the queue.

One place decides what a queued run carries (labels, limits, pools, retry safety, timeout),
whoever queues it: ``bots run`` (standalone or ``--enqueue``), a schedule, a robot's retry::

    request = run_request(bot, settings=settings, tenant="giessen", params={"max_cases": "5"},
                          trigger="cli", actor="user:anna@rathaus")
    run_id = store.enqueue(request)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.model.parameters import coerce_params
from orchestrator.results import RunStatus
from orchestrator.store import RunRequest

if TYPE_CHECKING:
    from orchestrator.model.bot import Retries
    from orchestrator.model.loader import LoadedBot
    from orchestrator.settings import Settings

# The outcomes that count as application errors, worth another attempt.
RETRIED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})


def run_request(
    bot: LoadedBot,
    *,
    settings: Settings,
    tenant: str,
    params: dict[str, Any],
    trigger: str,
    actor: str,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    retry_of: int | None = None,
    attempt: int = 1,
) -> RunRequest:
    """The request to queue ``bot`` for ``tenant``; parameters are checked and coerced now.

    The run takes a slot in the pools the bot names (default: one per target) and needs the
    robot labels it declares and those of the connectors it uses (``LoadedBot.labels``); its
    timeout is the bot's or the settings' run timeout.

    Raises:
        ParameterError: a parameter is unknown, missing or of the wrong type.
    """
    definition = bot.definition
    execution = definition.execution
    pools = execution.pools if execution.pools is not None else definition.targets
    return RunRequest(
        tenant=tenant,
        bot_id=definition.id,
        bot_version=definition.version,
        bot_digest=bot.digest,
        parameters=coerce_params(definition.parameters, params),
        trigger=trigger,
        actor=actor,
        labels=bot.labels,
        pools=tuple(pools),
        max_parallel=execution.max_parallel,
        retry_safe=execution.retry_safe,
        timeout_s=definition.timeout or settings.run_timeout_s,
        dedupe_key=dedupe_key,
        not_before=not_before,
        retry_of=retry_of,
        attempt=attempt,
        max_attempts=execution.retries.attempts,
    )


def retry_backoff_s(retries: Retries, attempt: int) -> float | None:
    """Seconds to wait before the attempt after ``attempt``; None when none is left.

    Example: with ``attempts: 3, backoff_s: 60``: 60 after the 1st, 120 after the 2nd, then None.
    """
    if attempt >= retries.attempts:
        return None
    return retries.backoff_s * 2 ** (attempt - 1)


def next_attempt(
    bot: LoadedBot,
    *,
    settings: Settings,
    tenant: str,
    params: dict[str, Any],
    run_id: int,
    attempt: int,
    status: RunStatus,
    actor: str,
) -> RunRequest | None:
    """The queued retry of run ``run_id`` that ended ``status``, as the bot's retries say; or None.

    It waits out the backoff (``not_before``) and is unique per run (``dedupe_key``), so asking
    twice queues one retry.

    Raises:
        ParameterError: the run's parameters no longer fit the bot.
    """
    backoff_s = retry_backoff_s(bot.definition.execution.retries, attempt)
    if status not in RETRIED or backoff_s is None:
        return None
    return run_request(
        bot,
        settings=settings,
        tenant=tenant,
        params=params,
        trigger="retry",
        actor=actor,
        dedupe_key=f"retry:{run_id}",
        not_before=datetime.now(UTC) + timedelta(seconds=backoff_s),
        retry_of=run_id,
        attempt=attempt + 1,
    )


def pool_limits(settings: Settings, tenants: Iterable[str]) -> dict[str, dict[str, int]]:
    """Pool capacities per tenant, as :meth:`RunStore.claim` takes them."""
    return {tenant: settings.pools_for(tenant) for tenant in tenants}
