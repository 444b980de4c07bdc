"""The run queue: what is asked for (:class:`RunRequest`), and handing runs to robots.

Claiming takes the oldest queued runs a robot may execute, in one transaction and a few
statements however many it takes (``limit``):

1. ``SELECT ... FOR UPDATE SKIP LOCKED`` (the leased-work claim, :data:`.moves.RUN_WORK`)
   of queued runs of the robot's tenants whose
   ``not_before`` has passed and whose labels the robot has, oldest first. Robots claiming at
   the same time skip each other's rows instead of waiting for them.
2. Only if a candidate is limited (``max_parallel`` > 0, or a pool with a capacity): the
   active runs are counted, on PostgreSQL under one transaction-level advisory lock, so two
   robots cannot both fill the last slot. On SQLite the write lock serialises everything.
3. One ``UPDATE`` moves all chosen runs to ``claimed`` under a lease, with one audit entry
   each (:meth:`orchestrator.store.leased_work.LeasedWork.take`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from orchestrator.states import ACTIVE, RunStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.database import dialect_insert
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.runs.moves import RUN_STATUS, RUN_WORK, RunSnapshot
from orchestrator.store.runs.tables import RUNS

# Any fixed number, the same in every process ("bots" + 2); see audit.py for + 1.
_PG_LIMITS_LOCK = 0x626F7473_0002
# Each further round looks at twice as many rows plus these, up to _MAX_PAGE: a queue full
# of runs a limit turns down is passed in a few rounds, not one row at a time.
_SPARE_CANDIDATES = 16
_MAX_PAGE = 512


@dataclass(frozen=True)
class RunRequest:
    """A run someone asks for: by hand, by a schedule, through the API, or as a retry.

    Example::

        RunRequest(tenant="giessen", bot_id="gewerbe-abgleich", bot_version="1.2.0",
                   bot_digest="9f86d0...", parameters={"datum": "2026-11-02"},
                   trigger="schedule", actor="schedule:giessen/morgens",
                   dedupe_key="schedule:giessen/morgens@2026-11-02T07:00:00+01:00")
    """

    tenant: str
    bot_id: str
    bot_version: str
    bot_digest: str
    parameters: dict[str, Any]  # already redacted
    trigger: str  # "cli" | "schedule" | "api" | "retry" | "benchmark"
    actor: str  # who: "user:alice@host", "schedule:giessen/morgens", ...
    labels: tuple[str, ...] = ()  # robot labels needed (bot.execution.labels)
    pools: tuple[str, ...] = ()  # pools the run takes a slot in
    max_parallel: int = 1  # runs of this bot per tenant at once, 0 = no limit
    retry_safe: bool = False  # re-queue instead of `lost` when the robot vanished
    timeout_s: float | None = None  # run timeout
    dedupe_key: str | None = None  # unique; a second enqueue with it returns the first id
    not_before: datetime | None = None  # not claimed before (retry backoff)
    retry_of: int | None = None
    attempt: int = 1
    max_attempts: int = 1  # attempts the bot's retries allow (shown as retries left)


@dataclass(frozen=True)
class ClaimedRun:
    """A run a robot claimed and now has to execute (or hand back)."""

    id: int
    tenant: str
    bot_id: str
    parameters: dict[str, Any]
    attempt: int
    timeout_s: float | None
    trigger: str
    robot_losses: int = 0  # how often a robot was lost while holding it before


def insert_queued(tx: WriteTransaction, request: RunRequest) -> int:
    """Insert ``request`` as a queued run (audit ``queued``) and return its id.

    A request whose ``dedupe_key`` is taken returns the id of the run that took it, and writes
    nothing. On PostgreSQL a concurrent insert of the same key waits for the other transaction.
    """
    statement = dialect_insert(tx.connection, RUNS).values(
        tenant=request.tenant,
        bot_id=request.bot_id,
        bot_version=request.bot_version,
        bot_digest=request.bot_digest,
        parameters=dict(request.parameters),
        trigger=request.trigger,
        actor=request.actor,
        status=RunStatus.QUEUED.value,
        created_at=tx.now,
        labels=sorted(set(request.labels)),
        pools=sorted(set(request.pools)),
        max_parallel=request.max_parallel,
        retry_safe=request.retry_safe,
        timeout_s=request.timeout_s,
        dedupe_key=request.dedupe_key,
        not_before=request.not_before,
        retry_of=request.retry_of,
        attempt=request.attempt,
        max_attempts=max(request.max_attempts, request.attempt),
    )
    if request.dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[RUNS.c.dedupe_key])
    run_id = tx.connection.execute(statement.returning(RUNS.c.id)).scalar_one_or_none()
    if run_id is None:
        taken = select(RUNS.c.id).where(RUNS.c.dedupe_key == request.dedupe_key)
        return int(tx.connection.execute(taken).scalar_one())
    data: dict[str, Any] = {
        "bot": request.bot_id,
        "version": request.bot_version,
        "digest": request.bot_digest,
        "parameters": dict(request.parameters),
        "from": None,
        "to": RunStatus.QUEUED.value,
        "trigger": request.trigger,
    }
    if request.retry_of is not None:
        data["retry_of"] = request.retry_of
        data["attempt"] = request.attempt
    tx.record(AuditEvent(RunStatus.QUEUED.value, request.tenant, request.actor, data, run_id))
    return int(run_id)


def claim(
    tx: WriteTransaction,
    *,
    holder: str,
    tenants: Collection[str],
    labels: Collection[str],
    limit: int,
    lease_s: float,
    pool_limits: Mapping[str, Mapping[str, int]],
) -> list[ClaimedRun]:
    """Claim up to ``limit`` runs for ``holder`` (see the module docstring)."""
    if limit <= 0 or not tenants:
        return []
    page = limit  # most claims take what they look at; a limit turning some down widens it
    dialect = tx.connection.dialect.name
    candidates = _candidates(dialect, tuple(sorted(set(tenants))), tuple(sorted(set(labels))))
    chosen: list[RunSnapshot] = []
    active: ActiveRuns | None = None
    after = 0
    while len(chosen) < limit:
        arguments = {"now": tx.now, "after": after, "page": page}
        rows = tx.connection.execute(candidates, arguments).all()
        for row in rows:
            run = RUN_STATUS.read(row)
            limits = pool_limits.get(run.tenant, {})
            if is_limited(run.max_parallel, run.pools, limits):
                active = active or ActiveRuns(tx.connection, tenants)
                if active.blocker(run.tenant, run.bot_id, run.max_parallel, run.pools, limits):
                    continue
                active.take(run.tenant, run.bot_id, run.pools, f"run {run.id} (claimed now)")
            chosen.append(run)
            if len(chosen) == limit:
                break
        if len(rows) < page:
            break
        after = rows[-1].id
        page = min(2 * page + _SPARE_CANDIDATES, _MAX_PAGE)
    since = {"claimed_at": tx.now}
    claimed = RUN_WORK.take(tx, chosen, holder=holder, lease_s=lease_s, columns=since)
    return [
        ClaimedRun(
            id=run.id,
            tenant=run.tenant,
            bot_id=run.bot_id,
            parameters=run.parameters,
            attempt=run.attempt,
            timeout_s=run.timeout_s,
            trigger=run.trigger,
            robot_losses=run.robot_losses,
        )
        for run in claimed
    ]


@functools.lru_cache(maxsize=64)
def _candidates(dialect: str, tenants: tuple[str, ...], labels: tuple[str, ...]) -> Select[Any]:
    """The claim's ``SELECT``, built once per robot (its tenants and labels); ``now``,
    ``after`` (the last id looked at) and ``page`` are bound at execution."""
    conditions = (
        RUNS.c.tenant.in_(tenants),
        _labels_fit(dialect, labels),
        RUNS.c.id > bindparam("after"),
    )
    return RUN_WORK.due(bindparam("now"), *conditions).limit(bindparam("page", type_=Integer))


def is_limited(max_parallel: int, pools: Collection[str], limits: Mapping[str, int]) -> bool:
    """Whether a run of this kind has to be counted against limits before it may start."""
    return max_parallel > 0 or any(pool in limits for pool in pools)


class ActiveRuns:
    """The claimed and running runs of some tenants, counted per bot and per pool.

    Creating it on PostgreSQL takes the limits' advisory lock (held until the transaction
    ends), so the counts stay true until the caller commits what it decided on them.
    """

    def __init__(self, connection: Connection, tenants: Collection[str]) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_PG_LIMITS_LOCK)))
        self._per_bot: Counter[tuple[str, str]] = Counter()
        self._per_pool: Counter[tuple[str, str]] = Counter()
        self._first_of_bot: dict[tuple[str, str], str] = {}
        self._first_in_pool: dict[tuple[str, str], str] = {}
        query = (
            select(
                RUNS.c.id,
                RUNS.c.tenant,
                RUNS.c.bot_id,
                RUNS.c.pools,
                RUNS.c.status,
                RUNS.c.holder,
                RUNS.c.claimed_at,
                RUNS.c.started_at,
            )
            .where(
                RUNS.c.status.in_([status.value for status in ACTIVE]),
                RUNS.c.tenant.in_(sorted(tenants)),
            )
            .order_by(RUNS.c.id)
        )
        for row in connection.execute(query):
            since = row.started_at or row.claimed_at
            shown = since.strftime("%Y-%m-%d %H:%M:%S UTC") if since else "an unknown time"
            described = f"run {row.id} ({row.status} since {shown}, holder {row.holder})"
            self.take(row.tenant, row.bot_id, row.pools, described)

    def take(self, tenant: str, bot_id: str, pools: Collection[str], described: str) -> None:
        """Count one more active run; ``described`` names it in :meth:`blocker` messages."""
        self._per_bot[tenant, bot_id] += 1
        self._first_of_bot.setdefault((tenant, bot_id), described)
        for pool in pools:
            self._per_pool[tenant, pool] += 1
            self._first_in_pool.setdefault((tenant, pool), described)

    def blocker(
        self,
        tenant: str,
        bot_id: str,
        max_parallel: int,
        pools: Collection[str],
        limits: Mapping[str, int],
    ) -> str | None:
        """Why another run of ``bot_id`` may not start now, naming a run in the way; or None.

        Example: ``"bot 'x' of tenant 'giessen' runs at most 1 at a time: held by run 17
        (running since 2026-11-02 07:00:01 UTC, holder robot-1)"``.
        """
        running = self._per_bot[tenant, bot_id]
        if max_parallel > 0 and running >= max_parallel:
            return (
                f"bot {bot_id!r} of tenant {tenant!r} runs at most {max_parallel} at a time: "
                f"held by {self._first_of_bot[tenant, bot_id]}"
            )
        for pool in sorted(pools):
            capacity = limits.get(pool)
            taken = self._per_pool[tenant, pool]
            if capacity is not None and taken >= capacity:
                holding = self._first_in_pool.get((tenant, pool), "nobody (capacity 0)")
                return (
                    f"pool {pool!r} of tenant {tenant!r} is full ({taken} of {capacity}): "
                    f"held by {holding}"
                )
        return None


def _labels_fit(dialect: str, labels: Collection[str]) -> ColumnElement[bool]:
    """SQL: every label the run needs is among ``labels``."""
    offered = sorted(set(labels))
    if dialect == "postgresql":
        return cast(RUNS.c.labels, JSONB).contained_by(offered)
    needed = func.json_each(RUNS.c.labels).table_valued("value")
    missing = select(literal(1)).select_from(needed).where(needed.c.value.not_in(offered))
    return ~missing.exists()
