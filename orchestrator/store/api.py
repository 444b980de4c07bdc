"""The store as callers get it: :func:`open_store` returns a :class:`RunStore`.

A :class:`RunStore` composes one repository per aggregate, all on the same
:class:`~.transactions.Transactions`: :attr:`~RunStore.runs` (:mod:`.runs`: the queue, runs,
their steps and artifacts), :attr:`~RunStore.robots` (:mod:`.robots`: robots and the leases
they hold), :attr:`~RunStore.schedules` (:mod:`.schedules`: schedules and leader leases),
:attr:`~RunStore.queues` (:mod:`.work`: work queues and their items),
:attr:`~RunStore.users` (:mod:`.users`: people, their roles and tokens) and
:attr:`~RunStore.audit_trail` (:mod:`.audit`). Each public method of the repositories
before the work queues is also a method of the store, with the same signature and
documentation; the work queues and the users are used as ``store.queues.*`` and
``store.users.*`` only.

Every write is a short transaction, committed before the method returns: if the process dies
mid-run, everything recorded so far stays readable. Every status change is a guarded move
(:mod:`.lifecycle`) that leaves an audit entry (:mod:`.audit`) in the same transaction.
Example::

    store = open_store("sqlite:///data/bots.sqlite")
    run_id = store.start_standalone(request, holder="cli:host:4711", lease_s=30, pool_limits={})
    store.record_step(run_id, StepRecord("steps[0]", "open", None, StepStatus.OK, now, 812))
    store.finish_run(run_id, RunStatus.SUCCEEDED, holder="cli:host:4711")
    store.get_run(run_id).steps[0].path  # "steps[0]"
    store.close()
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from orchestrator.store.audit.repository import AuditTrail
from orchestrator.store.catalog_evidence import CatalogEvidenceReads
from orchestrator.store.database import create_store_engine, parse_url
from orchestrator.store.migrate import upgrade_to_head
from orchestrator.store.notifications.repository import NotificationRepository
from orchestrator.store.reporting.repository import ReportingRepository
from orchestrator.store.retention import RetentionRepository
from orchestrator.store.robots.repository import RobotRepository
from orchestrator.store.runs.reads import RunReads
from orchestrator.store.runs.reports import RunReportReads
from orchestrator.store.runs.repository import RunRepository
from orchestrator.store.schedules.repository import ScheduleRepository
from orchestrator.store.transactions import Transactions
from orchestrator.store.users.repository import UserRepository
from orchestrator.store.work.repository import WorkQueueRepository

P = ParamSpec("P")
R = TypeVar("R")


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


def _on(
    repository: str, method: Callable[Concatenate[Any, P], R]
) -> Callable[Concatenate[RunStore, P], R]:
    """A method of the store that calls ``method`` of its attribute ``repository``."""

    @functools.wraps(method)
    def forward(store: RunStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(store, repository), *args, **kwargs)

    return forward


class RunStore:
    """Runs, their queue, steps, artifacts, audit trail, leases and robots in one database.

    All times are aware UTC datetimes. Methods raise :class:`~orchestrator.errors.RunNotFound`
    for an unknown run id (or one of another ``tenant``, where a tenant is given) and
    :class:`~orchestrator.errors.EnvironmentProblem` when the database fails.

    Attributes:
        transactions: The transaction helper every repository shares; one
            ``transactions.change()`` is one unit of work across repositories.
        runs: The queue, runs and their records.
        run_reads: Runs read back as the history shows them (:mod:`.runs.reads`).
        robots: Robots and the leases of the runs they hold.
        schedules: Schedules and leader leases.
        queues: Work queues and their items (:mod:`.work`); called as
            ``store.queues.add_item(...)``, without methods of the store's own.
        users: People with roles per tenant and their tokens (:mod:`.users`); called as
            ``store.users.authenticate(token)``.
        retention: Artifacts past their period and their deletion (:mod:`.retention`);
            called as ``store.retention.expired(...)``.
        audit_trail: Audit entries that are not status changes; checking and export.
        notifications: The outbox of e-mail and webhook messages (:mod:`.notifications`);
            called as ``store.notifications.queue(...)``.
        run_reports: What a run report reads besides the run (:mod:`.runs.reports`).
        reporting: Figures over a period for period reports and Open Data
            (:mod:`.reporting`); called as ``store.reporting.period(scope)``.
        catalog_evidence: A catalog bot's runs per city, the evidence for promoting it
            (:mod:`.catalog_evidence`); called as ``store.catalog_evidence.for_bot(...)``.
    """

    def __init__(self, engine: Engine, url: URL) -> None:
        self.transactions = Transactions(engine, url)
        self.runs = RunRepository(self.transactions)
        self.run_reads = RunReads(self.transactions)
        self.robots = RobotRepository(self.transactions)
        self.schedules = ScheduleRepository(self.transactions)
        self.queues = WorkQueueRepository(self.transactions)
        self.users = UserRepository(self.transactions)
        self.retention = RetentionRepository(self.transactions)
        self.audit_trail = AuditTrail(self.transactions)
        self.notifications = NotificationRepository(self.transactions)
        self.run_reports = RunReportReads(self.transactions)
        self.reporting = ReportingRepository(self.transactions)
        self.catalog_evidence = CatalogEvidenceReads(self.transactions)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # The queue and the runs' moves.
    enqueue = _on("runs", RunRepository.enqueue)
    start_standalone = _on("runs", RunRepository.start_standalone)
    claim = _on("runs", RunRepository.claim)
    mark_running = _on("runs", RunRepository.mark_running)
    finish_run = _on("runs", RunRepository.finish_run)
    hand_back = _on("runs", RunRepository.hand_back)
    reap_expired = _on("runs", RunRepository.reap_expired)
    cancel = _on("runs", RunRepository.cancel)
    retry = _on("runs", RunRepository.retry)
    # A run's record, and reading runs.
    set_run_dir = _on("runs", RunRepository.set_run_dir)
    record_step = _on("runs", RunRepository.record_step)
    record_steps = _on("runs", RunRepository.record_steps)
    record_artifact = _on("runs", RunRepository.record_artifact)
    record_artifacts = _on("runs", RunRepository.record_artifacts)
    rewrite_artifact = _on("runs", RunRepository.rewrite_artifact)
    list_runs = _on("run_reads", RunReads.list_runs)
    get_run = _on("run_reads", RunReads.get_run)
    retry_of = _on("run_reads", RunReads.retry_of)
    count_runs = _on("run_reads", RunReads.count_runs)
    # Robots and their leases.
    register_robot = _on("robots", RobotRepository.register_robot)
    robot = _on("robots", RobotRepository.robot)
    robot_stopped = _on("robots", RobotRepository.robot_stopped)
    list_robots = _on("robots", RobotRepository.list_robots)
    runs_held = _on("robots", RobotRepository.runs_held)
    renew = _on("robots", RobotRepository.renew)
    # Schedules and leader leases.
    acquire_lease = _on("schedules", ScheduleRepository.acquire_lease)
    release_lease = _on("schedules", ScheduleRepository.release_lease)
    schedule_state = _on("schedules", ScheduleRepository.schedule_state)
    set_schedule_paused = _on("schedules", ScheduleRepository.set_schedule_paused)
    record_firing = _on("schedules", ScheduleRepository.record_firing)
    # The audit trail.
    audit = _on("audit_trail", AuditTrail.audit)
    verify_audit = _on("audit_trail", AuditTrail.verify_audit)
    audit_head = _on("audit_trail", AuditTrail.audit_head)
    export_audit = _on("audit_trail", AuditTrail.export_audit)

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            EnvironmentProblem: it does not.
        """
        with self.transactions.query() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close all connections. The store must not be used afterwards."""
        self.transactions.close()
