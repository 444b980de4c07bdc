"""Runs and their records: the queue, each run's moves, its steps and artifacts.

:class:`RunRepository` is the aggregate of a run: everything that writes a ``runs`` row, or
the ``steps`` and ``artifacts`` that belong to one, goes through it (reading them back is
:mod:`.reads`). Starts and outcomes that
concurrent threads record at the same moment share one transaction
(:mod:`orchestrator.store.group_commit`). Every status change is a guarded move
(:mod:`orchestrator.store.lifecycle`, :mod:`.moves`) with its audit entry in the same
transaction. Example::

    runs = RunRepository(transactions)
    run_id = runs.start_standalone(request, holder="cli:host:4711", lease_s=30, pool_limits={})
    runs.record_step(run_id, StepRecord("steps[0]", "open", None, StepStatus.OK, now, 812))
    runs.finish_run(run_id, RunStatus.SUCCEEDED, holder="cli:host:4711")
    RunReads(transactions).get_run(run_id).steps[0].path  # "steps[0]"
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, exists, select, update
from sqlalchemy.exc import IntegrityError

from orchestrator.errors import BotBusy, InvalidTransition
from orchestrator.results import ArtifactRecord, StepRecord
from orchestrator.states import TERMINAL, RunStatus
from orchestrator.store.audit.chain import AuditEvent
from orchestrator.store.group_commit import GroupCommit
from orchestrator.store.lifecycle import WriteTransaction
from orchestrator.store.runs.moves import (
    MAX_ROBOT_LOSSES,
    RUN_STATUS,
    ended,
    not_found,
    reap,
    released,
)
from orchestrator.store.runs.queue import (
    ActiveRuns,
    ClaimedRun,
    RunRequest,
    claim,
    insert_queued,
    is_limited,
)
from orchestrator.store.runs.records import (
    insert_artifacts,
    insert_steps,
)
from orchestrator.store.runs.tables import ARTIFACTS, RUNS
from orchestrator.store.transactions import Transactions


class RunRepository:
    """Runs, their queue, steps and artifacts (see the module docstring).

    Methods raise :class:`~orchestrator.errors.RunNotFound` for an unknown run id (or one of
    another ``tenant``, where a tenant is given) and
    :class:`~orchestrator.errors.EnvironmentProblem` when the database fails.
    """

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions
        self._group = GroupCommit(transactions.change)  # starts and outcomes of concurrent runs

    def enqueue(self, request: RunRequest) -> int:
        """Queue a run and return its id; a taken ``dedupe_key`` returns the first run's id.

        Example: ``store.enqueue(RunRequest(tenant="giessen", bot_id="x", ...))`` -> ``17``.
        """
        with self._tx.change() as tx:
            return insert_queued(tx, request)

    def start_standalone(
        self,
        request: RunRequest,
        *,
        holder: str,
        lease_s: float,
        pool_limits: Mapping[str, int],
        max_losses: int = MAX_ROBOT_LOSSES,
    ) -> int:
        """Start a run in this process now (``bots run``): queued -> claimed -> running.

        In one transaction: reap the tenant's runs whose lease ran out, check the bot's
        ``max_parallel`` and the capacities of its pools (``pool_limits``: pool -> capacity
        for ``request.tenant``; pools not named are unlimited), then insert the run, held by
        ``holder`` with a lease of ``lease_s`` seconds (renewed by
        :meth:`.RobotRepository.renew`).

        Example::

            run_id = store.start_standalone(request, holder="cli:host:4711", lease_s=30,
                                            pool_limits={"civento": 2})

        Raises:
            BotBusy: another run holds the bot or a pool slot; the message names it, e.g.
                ``... held by run 17 (running since 2026-11-02 07:00:01 UTC, holder robot-1)``.
        """
        with self._tx.change() as tx:
            reap(tx, tenants=[request.tenant], max_losses=max_losses)
            if is_limited(request.max_parallel, request.pools, pool_limits):
                active = ActiveRuns(tx.connection, [request.tenant])
                blocker = active.blocker(
                    request.tenant,
                    request.bot_id,
                    request.max_parallel,
                    request.pools,
                    pool_limits,
                )
                if blocker is not None:
                    raise BotBusy(f"cannot start {request.bot_id} now: {blocker}")
            return self._start_now(tx, request, holder=holder, lease_s=lease_s)

    def claim(
        self,
        *,
        holder: str,
        tenants: Collection[str],
        labels: Collection[str],
        limit: int,
        lease_s: float,
        pool_limits: Mapping[str, Mapping[str, int]],
    ) -> list[ClaimedRun]:
        """Claim up to ``limit`` queued runs for robot ``holder``, oldest first.

        Only runs of ``tenants`` whose ``not_before`` passed and whose labels are all among
        ``labels``; respecting each bot's ``max_parallel`` per tenant and the pool capacities
        (``pool_limits``: tenant -> pool -> capacity), counting the runs claimed in this call.
        Each becomes ``claimed`` with a lease of ``lease_s`` seconds.

        Example::

            for run in store.claim(holder="robot-1", tenants={"giessen"}, labels={"browser"},
                                   limit=2, lease_s=30, pool_limits={"giessen": {"civento": 1}}):
                store.mark_running(run.id, holder="robot-1")
        """
        with self._tx.change() as tx:
            return claim(
                tx,
                holder=holder,
                tenants=tenants,
                labels=labels,
                limit=limit,
                lease_s=lease_s,
                pool_limits=pool_limits,
            )

    def mark_running(
        self,
        run_id: int,
        *,
        holder: str,
        bot_digest: str | None = None,
        run_dir: str | None = None,
    ) -> None:
        """A claimed run starts now: ``claimed -> running``, by its holder.

        ``bot_digest`` records the digest of the bot actually executed, if known.

        Example: ``store.mark_running(17, holder="robot-1", run_dir="/data/runs/17")``.

        Raises:
            InvalidTransition: the run is no longer claimed (cancelled meanwhile), or by another
                holder.
        """

        def start(tx: WriteTransaction) -> None:
            columns: dict[str, Any] = {"started_at": tx.now}
            if bot_digest is not None:
                columns["bot_digest"] = bot_digest
            if run_dir is not None:
                columns["run_dir"] = run_dir
            tx.move_one(
                RUN_STATUS,
                run_id,
                RunStatus.RUNNING,
                actor=holder,
                expect_holder=holder,
                columns=columns,
            )

        self._group.run(start, order=run_id)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        error: str | None = None,
        error_step: str | None = None,
        *,
        holder: str | None = None,
        steps: Sequence[StepRecord] = (),
        artifacts: Sequence[ArtifactRecord] = (),
        retry: RunRequest | None = None,
    ) -> int | None:
        """Record the run's outcome, finished now: ``running -> <terminal>``.

        With ``holder``, refuses if another holder owns the run (it was reaped and re-queued).
        ``steps`` and ``artifacts`` not recorded yet, and ``retry`` (the next attempt, queued),
        are written in the same transaction: the run is complete, and its retry queued, the
        moment it counts as ended; nothing is written if the move is refused. Returns the id
        of the queued retry, if any.

        Example: ``store.finish_run(17, RunStatus.FAILED, "Element fehlt", "steps[2]",
        holder="robot-1")``.

        Raises:
            ValueError: ``status`` is not a terminal one.
            InvalidTransition: the run is not running (any more), or by another holder.
        """
        status = RunStatus(status)
        if status not in TERMINAL:
            raise ValueError(f"finish_run needs a terminal status, not {status.value!r}")

        def finish(tx: WriteTransaction) -> int | None:
            columns = {
                "finished_at": tx.now,
                "error": error,
                "error_step": error_step,
                "lease_expires_at": None,
            }
            tx.move_one(
                RUN_STATUS, run_id, status, actor=holder, expect_holder=holder, columns=columns
            )
            if steps:
                insert_steps(tx.connection, run_id, steps)
            if artifacts:
                insert_artifacts(tx.connection, run_id, artifacts)
            return insert_queued(tx, retry) if retry is not None else None

        return self._group.run(finish, order=run_id)

    def hand_back(self, run_id: int, *, holder: str) -> None:
        """Give a claimed (or running) run back to the queue, e.g. when the robot stops.

        A run whose cancellation was requested is cancelled instead.

        Example: ``store.hand_back(17, holder="robot-1")``.

        Raises:
            InvalidTransition: the run is not claimed/running, or by another holder.
        """
        with self._tx.change() as tx:
            run = tx.lock(RUN_STATUS, run_id)
            if run.cancel_requested:
                tx.move(
                    RUN_STATUS,
                    [run],
                    RunStatus.CANCELLED,
                    actor=holder,
                    expect_holder=holder,
                    columns=ended(tx),
                )
                return
            tx.move(
                RUN_STATUS,
                [run],
                RunStatus.QUEUED,
                actor=holder,
                expect_holder=holder,
                columns=released(),
                reason="handed back",
            )

    def reap_expired(
        self, *, tenants: Collection[str] | None = None, max_losses: int = MAX_ROBOT_LOSSES
    ) -> list[tuple[int, RunStatus]]:
        """Settle claimed/running runs (of ``tenants``) whose lease ran out; returns what was done.

        Each is a robot loss, counted apart from the bot's retries: a retry-safe run is queued
        again (same attempt) until it was lost more than ``max_losses`` times, then ``lost``;
        one whose cancellation was requested is cancelled, any other is ``lost``; each
        audited as ``lease expired (holder X)``.

        Example: ``store.reap_expired()`` -> ``[(17, RunStatus.LOST), (18, RunStatus.QUEUED)]``.
        """
        with self._tx.change() as tx:
            return reap(tx, tenants=tenants, max_losses=max_losses)

    def cancel(self, run_id: int, *, tenant: str | None, actor: str) -> RunStatus:
        """Cancel a run: queued or claimed ones at once; a running one via its holder.

        For a running run, the cancellation is requested and ``RUNNING`` returned: the holder
        sees it on its next :meth:`~.RobotRepository.renew` and stops the run. ``tenant``
        None: any tenant.

        Example: ``store.cancel(17, tenant="giessen", actor="user:alice@host")``.

        Raises:
            RunNotFound: no such run of ``tenant``.
            InvalidTransition: the run has already ended.
        """
        with self._tx.change() as tx:
            run = tx.lock(RUN_STATUS, run_id, tenant=tenant)
            if run.status is not RunStatus.RUNNING:
                tx.move(RUN_STATUS, [run], RunStatus.CANCELLED, actor=actor, columns=ended(tx))
                return RunStatus.CANCELLED
            tx.connection.execute(
                update(RUNS).where(RUNS.c.id == run_id).values(cancel_requested=True)
            )
            data = {"bot": run.bot_id, "status": run.status.value, "holder": run.holder}
            tx.record(AuditEvent("cancel requested", run.tenant, actor, data, run_id))
            return RunStatus.RUNNING

    def retry(self, run_id: int, *, tenant: str | None, actor: str) -> int:
        """Queue a new run like the ended run ``run_id`` (``retry_of`` it, attempt + 1).

        Example: ``store.retry(17, tenant="giessen", actor="user:alice@host")`` -> ``23``.

        Raises:
            RunNotFound: no such run of ``tenant``.
            InvalidTransition: the run has not ended yet.
        """
        with self._tx.change() as tx:
            run = tx.lock(RUN_STATUS, run_id, tenant=tenant)
            if run.status not in TERMINAL:
                raise InvalidTransition(run_id, run.status.value, "queued again")
            request = RunRequest(
                tenant=run.tenant,
                bot_id=run.bot_id,
                bot_version=run.bot_version,
                bot_digest=run.bot_digest,
                parameters=run.parameters,
                trigger="retry",
                actor=actor,
                labels=tuple(run.labels),
                pools=tuple(run.pools),
                max_parallel=run.max_parallel,
                retry_safe=run.retry_safe,
                timeout_s=run.timeout_s,
                retry_of=run_id,
                attempt=run.attempt + 1,
                max_attempts=run.max_attempts,
            )
            return insert_queued(tx, request)

    def set_run_dir(self, run_id: int, run_dir: str) -> None:
        """Record where the run keeps its files (known only once the id is)."""
        with self._tx.write() as connection:
            result = connection.execute(
                update(RUNS).where(RUNS.c.id == run_id).values(run_dir=run_dir)
            )
            if result.rowcount == 0:
                raise not_found(run_id)

    def record_step(self, run_id: int, step: StepRecord) -> None:
        """Append an executed step to the run; steps are numbered in the order recorded."""
        self.record_steps(run_id, [step])

    def record_steps(self, run_id: int, steps: Sequence[StepRecord]) -> None:
        """Append executed steps to the run, in order, in one transaction."""
        if steps:
            self._insert_for_run(run_id, lambda connection: insert_steps(connection, run_id, steps))

    def record_artifact(self, run_id: int, artifact: ArtifactRecord) -> None:
        """Record a file kept for the run; ``path`` is stored exactly as given."""
        self.record_artifacts(run_id, [artifact])

    def record_artifacts(self, run_id: int, artifacts: Sequence[ArtifactRecord]) -> None:
        """Record files kept for the run, in one transaction."""
        if artifacts:
            self._insert_for_run(
                run_id, lambda connection: insert_artifacts(connection, run_id, artifacts)
            )

    def rewrite_artifact(self, run_id: int, artifact: ArtifactRecord) -> bool:
        """Record that the file at ``artifact.path`` of run ``run_id`` was written anew (its
        new sha256 and size), e.g. a report rendered again once its screenshots were deleted;
        False if the run has no such file on record (or it was deleted)."""
        with self._tx.write() as connection:
            changed = connection.execute(
                update(ARTIFACTS)
                .where(
                    ARTIFACTS.c.run_id == run_id,
                    ARTIFACTS.c.path == artifact.path,
                    ARTIFACTS.c.deleted_at.is_(None),
                )
                .values(sha256=artifact.sha256, size=artifact.size)
            )
        return bool(changed.rowcount)

    def _start_now(
        self, tx: WriteTransaction, request: RunRequest, *, holder: str, lease_s: float
    ) -> int:
        run_id = insert_queued(tx, request)
        until = tx.now + timedelta(seconds=lease_s)
        lease = {"holder": holder, "claimed_at": tx.now, "lease_expires_at": until}
        first = [tx.lock(RUN_STATUS, run_id)]
        claimed = tx.move(RUN_STATUS, first, RunStatus.CLAIMED, actor=request.actor, columns=lease)
        started = {"started_at": tx.now}
        tx.move(RUN_STATUS, claimed, RunStatus.RUNNING, actor=request.actor, columns=started)
        return run_id

    def _insert_for_run(self, run_id: int, insert_rows: Callable[[Connection], None]) -> None:
        try:
            with self._tx.write() as connection:
                insert_rows(connection)
        except IntegrityError:
            # The foreign key refused it, unless something else did: tell which.
            with self._tx.query() as connection:
                if not connection.scalar(select(exists().where(RUNS.c.id == run_id))):
                    raise not_found(run_id) from None
            raise
