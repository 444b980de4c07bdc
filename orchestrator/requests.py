"""From a bot and parameters to a :class:`~orchestrator.store.RunRequest` for the queue.

One place decides what a queued run carries (labels, limits, pools, retry safety, timeout),
whoever queues it: ``bots run`` (standalone or ``--enqueue``), a schedule, a robot's retry::

    request = run_request(bot, settings=settings, tenant="giessen", params={"max_cases": "5"},
                          trigger="cli", actor="user:anna@rathaus")
    run_id = store.enqueue(request)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orchestrator.engine.inputs import coerce_params
from orchestrator.store import RunRequest

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot
    from orchestrator.settings import Settings


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
    robot labels it declares; its timeout is the bot's or the settings' run timeout.

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
        labels=tuple(execution.labels),
        pools=tuple(pools),
        max_parallel=execution.max_parallel,
        retry_safe=execution.retry_safe,
        timeout_s=definition.timeout or settings.run_timeout_s,
        dedupe_key=dedupe_key,
        not_before=not_before,
        retry_of=retry_of,
        attempt=attempt,
    )


def pool_limits(settings: Settings, tenants: Iterable[str]) -> dict[str, dict[str, int]]:
    """Pool capacities per tenant, as :meth:`RunStore.claim` takes them."""
    return {tenant: settings.pools_for(tenant) for tenant in tenants}
