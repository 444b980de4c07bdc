"""The run history and queue: :class:`RunStore` is the one API over the database.

Every write is a short transaction, committed before the method returns: if the process dies
mid-run, everything recorded so far stays readable. The starts and outcomes that concurrent
threads record at the same moment share one transaction (:mod:`.group_commit`). Every status
change goes through :meth:`RunStore.transition` (:mod:`.lifecycle`) and leaves an audit entry
(:mod:`.audit`) in the same transaction. Example::

    store = open_store("sqlite:///data/bots.sqlite")
    run_id = store.start_standalone(request, holder="cli:host:4711", lease_s=30, pool_limits={})
    store.record_step(run_id, StepRecord("steps[0]", "open", None, StepStatus.OK, now, 812))
    store.finish_run(run_id, RunStatus.SUCCEEDED, holder="cli:host:4711")
    store.get_run(run_id).steps[0].path  # "steps[0]"
    store.close()
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from orchestrator.errors import BotBusy, InvalidTransition, RobotNameTaken
from orchestrator.results import (
    ACTIVE,
    TERMINAL,
    ArtifactRecord,
    RunRecord,
    RunStatus,
    StepRecord,
)
from orchestrator.store import coordination
from orchestrator.store.anchors import Anchor, verify_trail
from orchestrator.store.audit import (
    AuditCheck,
    AuditEvent,
    append,
    export_entries,
)
from orchestrator.store.coordination import RobotRecord, ScheduleState
from orchestrator.store.database import (
    create_store_engine,
    database_errors,
    for_writing,
    parse_url,
)
from orchestrator.store.group_commit import GroupCommit
from orchestrator.store.lifecycle import (
    MAX_ROBOT_LOSSES,
    RunSnapshot,
    WriteTransaction,
    not_found,
    released,
    select_runs,
)
from orchestrator.store.migrate import upgrade_to_head
from orchestrator.store.queue import (
    ActiveRuns,
    ClaimedRun,
    RunRequest,
    claim,
    insert_queued,
    is_limited,
)
from orchestrator.store.records import (
    SUMMARY_COLUMNS,
    aware,
    insert_artifacts,
    insert_steps,
    run_record,
    run_summary,
)
from orchestrator.store.tables import AUDIT_LOG, ROBOTS, RUNS, RunRow, utc_now


def open_store(database_url: str) -> RunStore:
    """Open the run history at ``database_url``, creating and migrating it as needed.

    For SQLite the file's directory is created. The schema is brought to the newest revision;
    several processes may do this at once.

    Raises:
        ConfigError: the URL is malformed or names an unsupported database.
        EnvironmentProblem: the database cannot be created, reached or migrated.
    """
    url = parse_url(database_url)
    engine = create_store_engine(url)
    try:
        upgrade_to_head(url, engine)
    except BaseException:
        engine.dispose()
        raise
    return RunStore(engine, url)


class RunStore:
    """Runs, their queue, steps, artifacts, audit trail, leases and robots in one database.

    All times are aware UTC datetimes. Methods raise :class:`~orchestrator.errors.RunNotFound`
    for an unknown run id (or one of another ``tenant``, where a tenant is given) and
    :class:`~orchestrator.errors.EnvironmentProblem` when the database fails.
    """

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine  # reads: deferred transactions
        # Reads of one statement: on PostgreSQL without BEGIN and ROLLBACK around it.
        single = {"isolation_level": "AUTOCOMMIT"} if url.get_backend_name() != "sqlite" else {}
        self._single = engine.execution_options(**single)
        self._writer = for_writing(engine)  # writes: SQLite's write lock from BEGIN on
        self._url = url
        self._group = GroupCommit(self._change)  # starts and outcomes of concurrent runs

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- the queue

    def enqueue(self, request: RunRequest) -> int:
        """Queue a run and return its id; a taken ``dedupe_key`` returns the first run's id.

        Example: ``store.enqueue(RunRequest(tenant="giessen", bot_id="x", ...))`` -> ``17``.
        """
        with self._change() as tx:
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
        ``holder`` with a lease of ``lease_s`` seconds (renew it with :meth:`renew`).

        Example::

            run_id = store.start_standalone(request, holder="cli:host:4711", lease_s=30,
                                            pool_limits={"civento": 2})

        Raises:
            BotBusy: another run holds the bot or a pool slot; the message names it, e.g.
                ``... held by run 17 (running since 2026-11-02 07:00:01 UTC, holder robot-1)``.
        """
        with self._change() as tx:
            tx.reap(tenants=[request.tenant], max_losses=max_losses)
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

    def start_run(
        self,
        *,
        tenant: str,
        bot_id: str,
        bot_version: str,
        bot_digest: str,
        parameters: dict[str, Any],
        trigger: str,
        run_dir: str | None = None,
    ) -> int:
        """Record a run that starts now in this process, without limits, and return its id.

        The older form of :meth:`start_standalone`: held by ``cli:<host>:<pid>`` with no
        lease (nobody renews it, so it is never reaped). ``parameters`` must be redacted.

        Example: ``store.start_run(tenant="giessen", bot_id="x", bot_version="1",
        bot_digest="9f86d0...", parameters={}, trigger="cli")`` -> ``18``.
        """
        holder = f"cli:{socket.gethostname()}:{os.getpid()}"
        request = RunRequest(
            tenant=tenant,
            bot_id=bot_id,
            bot_version=bot_version,
            bot_digest=bot_digest,
            parameters=parameters,
            trigger=trigger,
            actor=holder,
            max_parallel=0,
        )
        with self._change() as tx:
            return self._start_now(tx, request, holder=holder, lease_s=None, run_dir=run_dir)

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
        with self._change() as tx:
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
                run_id, RunStatus.RUNNING, actor=holder, expect_holder=holder, columns=columns
            )

        self._group.run(start, order=run_id)

    def renew(self, holder: str, lease_s: float) -> set[int]:
        """Extend the leases of all claimed/running runs of ``holder`` to now + ``lease_s``.

        Also the heartbeat of the robot of that name, if one registered. Returns the ids among
        the runs whose cancellation was requested (:meth:`cancel`): stop them.

        Example: ``if 17 in store.renew("robot-1", 30): cancel_event.set()``.
        """
        # Locks the runs in id order, as a shared transaction of starts and outcomes does:
        # taking them in any order could deadlock with one.
        held = (
            select(RUNS.c.id)
            .where(RUNS.c.holder == holder, RUNS.c.status.in_([s.value for s in ACTIVE]))
            .order_by(RUNS.c.id)
            .with_for_update()
        )
        with self._change() as tx:
            # The robot's row before its runs, as a registration locks them: a restart under
            # the name cannot deadlock with a renewal of the instance it replaces.
            coordination.robot_heartbeat(tx.connection, holder, tx.now)
            renewed = tx.connection.execute(
                update(RUNS)
                .where(RUNS.c.id.in_(held.scalar_subquery()))
                .values(lease_expires_at=tx.now + timedelta(seconds=lease_s))
                .returning(RUNS.c.id, RUNS.c.cancel_requested)
            ).all()
        return {row.id for row in renewed if row.cancel_requested}

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
            tx.move_one(run_id, status, actor=holder, expect_holder=holder, columns=columns)
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
        with self._change() as tx:
            run = tx.lock(run_id)
            if run.cancel_requested:
                ended = {"finished_at": tx.now, "lease_expires_at": None}
                tx.move(
                    [run], RunStatus.CANCELLED, actor=holder, expect_holder=holder, columns=ended
                )
                return
            tx.move(
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
        with self._change() as tx:
            return tx.reap(tenants=tenants, max_losses=max_losses)

    def cancel(self, run_id: int, *, tenant: str | None, actor: str) -> RunStatus:
        """Cancel a run: queued or claimed ones at once; a running one via its holder.

        For a running run, the cancellation is requested and ``RUNNING`` returned: the holder
        sees it on its next :meth:`renew` and stops the run. ``tenant`` None: any tenant.

        Example: ``store.cancel(17, tenant="giessen", actor="user:alice@host")``.

        Raises:
            RunNotFound: no such run of ``tenant``.
            InvalidTransition: the run has already ended.
        """
        with self._change() as tx:
            run = tx.lock(run_id, tenant=tenant)
            if run.status is not RunStatus.RUNNING:
                ended = {"finished_at": tx.now, "lease_expires_at": None}
                tx.move([run], RunStatus.CANCELLED, actor=actor, columns=ended)
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
        with self._change() as tx:
            run = tx.lock(run_id, tenant=tenant)
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

    def transition(
        self,
        run_id: int,
        to: RunStatus,
        *,
        actor: str,
        expect: RunStatus | None = None,
        expect_holder: str | None = None,
        **columns: Any,
    ) -> None:
        """Move a run to status ``to`` (setting ``columns`` too), with its audit entry.

        The one function behind every status change: it checks the move against
        :data:`~orchestrator.results.TRANSITIONS`, that the run is in ``expect`` and held by
        ``expect_holder`` (where given), and writes nothing if not.

        Example: ``store.transition(17, RunStatus.LOST, actor="admin:bob",
        expect=RunStatus.RUNNING, error="machine burnt down")``.

        Raises:
            RunNotFound: no such run.
            InvalidTransition: one of the checks failed.
        """
        with self._change() as tx:
            tx.move_one(
                run_id,
                RunStatus(to),
                actor=actor,
                expect=expect,
                expect_holder=expect_holder,
                columns=columns,
            )

    # ----------------------------------------------------------------- a run's record

    def set_run_dir(self, run_id: int, run_dir: str) -> None:
        """Record where the run keeps its files (known only once the id is)."""
        with self._write() as connection:
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

    # ----------------------------------------------------------------- reading runs

    def list_runs(
        self,
        *,
        tenant: str | None = None,
        bot_id: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
    ) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first; ``tenant`` None only for admin tools.

        The records carry no steps or artifacts; :meth:`get_run` has them.

        Example: ``store.list_runs(tenant="giessen", status=RunStatus.QUEUED, limit=10)``.
        """
        query = select(*SUMMARY_COLUMNS).order_by(RUNS.c.id.desc()).limit(max(limit, 0))
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        if bot_id is not None:
            query = query.where(RUNS.c.bot_id == bot_id)
        if status is not None:
            query = query.where(RUNS.c.status == RunStatus(status).value)
        with self._query() as connection:
            return [run_summary(row) for row in connection.execute(query)]

    def get_run(self, run_id: int, *, tenant: str | None = None, details: bool = True) -> RunRecord:
        """One run with its steps (in order) and artifacts (``details=False``: without).

        With ``tenant``, a run of another tenant counts as not found.

        Example: ``store.get_run(17, tenant="giessen").status``.

        Raises:
            RunNotFound: there is no such run (for this tenant).
        """
        if not details:
            summary = select(*SUMMARY_COLUMNS).where(RUNS.c.id == run_id)
            if tenant is not None:
                summary = summary.where(RUNS.c.tenant == tenant)
            with self._query() as connection:
                found = connection.execute(summary).first()
            if found is None:
                raise not_found(run_id, tenant)
            return run_summary(found)
        query = select(RunRow).where(RunRow.id == run_id)
        query = query.options(selectinload(RunRow.steps), selectinload(RunRow.artifacts))
        if tenant is not None:
            query = query.where(RunRow.tenant == tenant)
        with self._errors(), Session(self._engine) as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                raise not_found(run_id, tenant)
            return run_record(row)

    def retry_of(self, run_id: int, *, tenant: str | None = None) -> int | None:
        """The id of the run queued as the next attempt of run ``run_id``, if there is one.

        Example: ``store.retry_of(17, tenant="giessen")`` -> ``23``.
        """
        query = select(RUNS.c.id).where(RUNS.c.retry_of == run_id).order_by(RUNS.c.id).limit(1)
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        with self._query() as connection:
            found = connection.scalar(query)
        return int(found) if found is not None else None

    def count_runs(
        self, *, tenant: str | None = None, status: RunStatus | None = None
    ) -> dict[str, int]:
        """How many runs there are per status (statuses without runs left out).

        Example: ``store.count_runs(tenant="giessen")`` -> ``{"queued": 3, "succeeded": 120}``.
        """
        query = select(RUNS.c.status, func.count()).group_by(RUNS.c.status)
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        if status is not None:
            query = query.where(RUNS.c.status == RunStatus(status).value)
        with self._query() as connection:
            return {row[0]: int(row[1]) for row in connection.execute(query)}

    # ----------------------------------------------------------------- leases, schedules

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take lease ``name`` for ``ttl_s`` seconds, or renew it; False if another holds it.

        Example: ``if store.acquire_lease("scheduler", "orch-1", 15): lead()``.
        """
        with self._write() as connection:
            return coordination.acquire_lease(connection, name, holder, ttl_s, utc_now())

    def release_lease(self, name: str, holder: str) -> None:
        """Give up lease ``name`` if ``holder`` has it, so another can take it at once.

        Example: ``store.release_lease("scheduler", "orch-1")``.
        """
        with self._write() as connection:
            coordination.release_lease(connection, name, holder)

    def schedule_state(self, tenant: str) -> dict[str, ScheduleState]:
        """The state of ``tenant``'s schedules, by name (schedules never touched are absent).

        Example: ``store.schedule_state("giessen")["morgens"].paused``.
        """
        with self._read() as connection:
            return coordination.schedule_states(connection, tenant)

    def set_schedule_paused(self, tenant: str, name: str, paused: bool, *, actor: str) -> None:
        """Pause or resume a schedule (audited).

        Example: ``store.set_schedule_paused("giessen", "morgens", True, actor="user:alice")``.
        """
        with self._change() as tx:
            coordination.set_paused(tx.connection, tenant, name, paused)
            action = "schedule paused" if paused else "schedule resumed"
            tx.record(AuditEvent(action, tenant, actor, {"schedule": name}))

    def record_firing(self, tenant: str, name: str, fire_time: datetime) -> None:
        """Remember that the schedule fired at ``fire_time`` (an earlier time changes nothing).

        Example: ``store.record_firing("giessen", "morgens", fire_time)``.
        """
        fire_time = aware(fire_time, "fire_time")
        with self._write() as connection:
            coordination.record_firing(connection, tenant, name, fire_time)

    # ----------------------------------------------------------------- robots

    def register_robot(
        self,
        name: str,
        *,
        instance: str,
        tenants: Collection[str],
        labels: Collection[str],
        concurrency: int,
        host: str,
        pid: int,
        replaces: str | None = None,
        max_losses: int = MAX_ROBOT_LOSSES,
    ) -> list[tuple[int, RunStatus]]:
        """Register ``instance`` as the process of robot ``name`` now (audited).

        ``replaces`` is the instance the caller found registered under the name and judged
        gone (:meth:`robot`); the runs it still holds are handed back at once, in the same
        transaction, as a robot loss (re-queued or ``lost``, see
        :meth:`~orchestrator.store.lifecycle.WriteTransaction.robot_lost`), instead of
        waiting for their leases to run out. Returns what became of them. :meth:`renew` with
        ``instance`` is the robot's heartbeat.

        Example::

            before = store.robot("robot-1")
            store.register_robot("robot-1", instance="robot-1#5be0f3a1", tenants=["giessen"],
                                 labels=["browser"], concurrency=2, host="rpa-01", pid=4711,
                                 replaces=before.instance if before else None)

        Raises:
            RobotNameTaken: another process registered under ``name`` after the caller looked
                (the registration is no longer ``replaces``); nothing was changed.
        """
        taken = f"robot {name!r} was registered meanwhile by another process"
        with self._change() as tx:
            current = coordination.lock_robot(tx.connection, name)
            registered = current.instance if current is not None else None
            if current is not None and registered != replaces:
                raise RobotNameTaken(
                    f"{taken} (instance {registered}, host {current.host}, pid {current.pid}); "
                    "two robots cannot share a name."
                )
            # A name never registered has no row to lock: the insert itself decides who was
            # first, on PostgreSQL as on SQLite.
            if not coordination.register_robot(
                tx.connection,
                name,
                instance=instance,
                tenants=sorted(tenants),
                labels=sorted(labels),
                concurrency=concurrency,
                host=host,
                pid=pid,
                now=tx.now,
                first=current is None,
            ):
                raise RobotNameTaken(f"{taken}; two robots cannot share a name.")
            data = {
                "robot": name,
                "instance": instance,
                "replaces": registered,
                "tenants": sorted(tenants),
                "labels": sorted(labels),
                "host": host,
                "pid": pid,
            }
            tx.record(AuditEvent("robot started", None, instance, data))
            # The name's earlier holders: the replaced instance, and the name itself (robots
            # registered before instances existed held their runs by name).
            holders = [holder for holder in (registered, name) if holder]
            held = tx.connection.execute(
                select_runs()
                .where(
                    RUNS.c.holder.in_(holders),
                    RUNS.c.status.in_([status.value for status in ACTIVE]),
                )
                .order_by(RUNS.c.id)
                .with_for_update()
            ).all()
            runs = [RunSnapshot.from_row(row) for row in held]
            reason = f"robot {name} restarted; its instance {registered or name} is gone"
            return tx.robot_lost(runs, reason=reason, actor=instance, max_losses=max_losses)

    def robot(self, name: str) -> RobotRecord | None:
        """The registration of robot ``name``, or None if it never registered.

        Example: ``store.robot("robot-1").instance`` -> ``"robot-1#5be0f3a1"``.
        """
        with self._read() as connection:
            row = connection.execute(select(ROBOTS).where(ROBOTS.c.name == name)).first()
        return RobotRecord(**row._mapping) if row is not None else None

    def robot_stopped(self, instance: str) -> None:
        """Record that robot instance ``instance`` stopped (audited).

        Example: ``store.robot_stopped("robot-1#5be0f3a1")``.
        """
        with self._change() as tx:
            coordination.robot_stopped(tx.connection, instance, tx.now)
            tx.record(AuditEvent("robot stopped", None, instance, {"instance": instance}))

    def list_robots(self) -> list[RobotRecord]:
        """Every robot that ever registered, by name.

        Example: ``[r.name for r in store.list_robots() if r.stopped_at is None]``.
        """
        with self._read() as connection:
            return coordination.list_robots(connection)

    def runs_held(self) -> dict[str, list[int]]:
        """The claimed and running runs by holder (robot instance or ``cli:host:pid``).

        Example: ``store.runs_held()`` -> ``{"robot-1#5be0f3a1": [17, 18]}``.
        """
        query = (
            select(RUNS.c.holder, RUNS.c.id)
            .where(RUNS.c.status.in_([status.value for status in ACTIVE]))
            .order_by(RUNS.c.id)
        )
        held: dict[str, list[int]] = {}
        with self._query() as connection:
            for row in connection.execute(query):
                held.setdefault(row.holder, []).append(row.id)
        return held

    # ----------------------------------------------------------------- audit trail

    def audit(
        self,
        action: str,
        *,
        tenant: str | None,
        actor: str,
        data: dict[str, Any],
        run_id: int | None = None,
    ) -> None:
        """Append an entry for something that is not a run's status change.

        Example: ``store.audit("secrets rotated", tenant="giessen", actor="user:alice",
        data={"names": ["CIVENTO_PASSWORD"]})``.
        """
        with self._change() as tx:
            tx.record(AuditEvent(action, tenant, actor, dict(data), run_id))

    def verify_audit(self, anchors: Sequence[Anchor] = ()) -> AuditCheck:
        """Recompute the whole hash chain; name the first altered, inserted or deleted entry.

        ``anchors`` (heads noted down outside the database, :mod:`.anchors`) also show the
        newest entries deleted, or the trail rewritten with fresh hashes.

        Example::

            check = store.verify_audit(read_anchors(settings.audit_anchors_file))
            print(check.ok, check.checked, check.head_hash, check.first_bad_seq, check.problem)
        """
        with self._read() as connection:
            return verify_trail(connection, anchors)

    def audit_head(self) -> tuple[int, str] | None:
        """The newest audit entry's ``seq`` and ``hash``, to note down (:mod:`.anchors`)."""
        query = select(AUDIT_LOG.c.seq, AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq.desc())
        with self._query() as connection:
            row = connection.execute(query.limit(1)).first()
        return (row.seq, row.hash) if row is not None else None

    def export_audit(
        self, *, since: datetime | None = None, tenant: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The audit entries at or after ``since`` (of ``tenant``), JSON-ready, in order.

        Example: ``for entry in store.export_audit(tenant="giessen"): print(entry["seq"])``.
        """
        if since is not None:
            aware(since, "since")
        with self._read() as connection:
            yield from export_entries(connection, since=since, tenant=tenant)

    # ----------------------------------------------------------------- the store

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            EnvironmentProblem: it does not.
        """
        with self._query() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close all connections. The store must not be used afterwards."""
        self._engine.dispose()

    # ----------------------------------------------------------------- helpers

    def _start_now(
        self,
        tx: WriteTransaction,
        request: RunRequest,
        *,
        holder: str,
        lease_s: float | None,
        run_dir: str | None = None,
    ) -> int:
        run_id = insert_queued(tx, request)
        until = tx.now + timedelta(seconds=lease_s) if lease_s is not None else None
        lease = {"holder": holder, "claimed_at": tx.now, "lease_expires_at": until}
        claimed = tx.move([tx.lock(run_id)], RunStatus.CLAIMED, actor=request.actor, columns=lease)
        started: dict[str, Any] = {"started_at": tx.now}
        if run_dir is not None:
            started["run_dir"] = run_dir
        tx.move(claimed, RunStatus.RUNNING, actor=request.actor, columns=started)
        return run_id

    @contextmanager
    def _errors(self) -> Iterator[None]:
        with database_errors(self._url):
            yield

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _query(self) -> Iterator[Connection]:
        """A connection for one read statement (each statement sees what is committed)."""
        with self._errors(), self._single.connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One short write transaction without audit entries, committed on leaving."""
        with self._errors(), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def _change(self) -> Iterator[WriteTransaction]:
        """One write transaction whose audit entries are appended last, right before commit."""
        with self._errors(), self._writer.begin() as connection:
            tx = WriteTransaction(connection, utc_now())
            yield tx
            append(connection, tx.events, tx.now)

    def _insert_for_run(self, run_id: int, insert_rows: Callable[[Connection], None]) -> None:
        try:
            with self._write() as connection:
                insert_rows(connection)
        except IntegrityError:
            # The foreign key refused it, unless something else did: tell which.
            with self._query() as connection:
                if not connection.scalar(select(exists().where(RUNS.c.id == run_id))):
                    raise not_found(run_id) from None
            raise
