"""Run history, queue and audit trail in SQL: SQLite by default (a file in the data
directory), or one PostgreSQL shared by orchestrators and robots.

Example::

    from orchestrator.store import open_store

    with open_store("sqlite:///data/bots.sqlite") as store:
        for run in store.list_runs(tenant="giessen", bot_id="gewerbe-abgleich", limit=10):
            print(run.id, run.status)

:mod:`.api` is the API: :class:`RunStore` composes one repository per aggregate, all on
one :class:`~.transactions.Transactions`, so a unit of work can span aggregates.

One package per aggregate, each with its tables, record types, state moves and repository:

* :mod:`.runs`: the run queue and claiming, runs, their steps and artifacts, run moves
  (runs whose robot is gone) (``store.runs``), reading runs back (``store.run_reads``),
  what a run report reads (``store.run_reports``);
* :mod:`.work`: work queues and their items (``store.queues``);
* :mod:`.notifications`: the outbox of e-mail and webhook messages (``store.notifications``);
* :mod:`.audit`: the hash chain, its anchors noted down outside the database, the trail
  (``store.audit_trail``);
* :mod:`.reporting`: figures over a period (``store.reporting``);
* :mod:`.users`: people, their roles and tokens (``store.users``);
* :mod:`.robots`: robots and the leases they hold (``store.robots``);
* :mod:`.schedules`: schedules and leader leases (``store.schedules``);
* :mod:`.catalog_evidence` (a catalog bot's runs per city) and :mod:`.retention` (artifacts
  past their period and their deletion): one module each, they have no tables of their own.

Inside a package the modules are named by one rule: ``tables.py`` (its tables, on the one
shared metadata), ``records.py`` (the record types it hands out, and the row-level SQL that
writes and reads them), ``moves.py`` (its entity's guarded state moves), ``repository.py``
(the repository :class:`RunStore` composes); a further part is named for what it holds
(``runs/queue.py``, ``runs/reads.py``, ``runs/reports.py``, ``work/loading.py``,
``audit/chain.py``). A package
imports the machinery and, where needed, another aggregate's modules, never in a cycle
(``lint-imports`` checks it).

The machinery, at the top: :mod:`.tables` (the shared metadata and declarative base, the
naming convention, :func:`~.tables.utc_now`), :mod:`.database` (engines and errors),
:mod:`.transactions` (the one way repositories reach the database), :mod:`.lifecycle` (the
guarded move: every status change of any entity, checked against its machine in
:mod:`orchestrator.states`, with its audit entry), :mod:`.leased_work` (claiming with SKIP
LOCKED, leases, backoff and reaping, for runs, work items and notifications),
:mod:`.group_commit` (transactions shared by threads), :mod:`.migrate` and :mod:`.migrations`
(Alembic).
This package is the only one that imports SQLAlchemy.

A new aggregate is a new package (docs/orchestrator.md, "Adding an aggregate", has the
steps); e.g. the outbox of e-Akte filings, whose machine ``FILING_MACHINE`` (``pending ->
sending -> filed | pending | failed``) is declared in :mod:`orchestrator.states`::

    # orchestrator/store/filings/tables.py: on the shared metadata, plus a migration
    class FilingRow(Base):
        __tablename__ = "filings"

        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        tenant: Mapped[str] = mapped_column(String(64))
        status: Mapped[str] = mapped_column(String(16))
        attempts: Mapped[int] = mapped_column(Integer, server_default="0")
        holder: Mapped[str | None] = mapped_column(String(255))
        lease_expires_at: Mapped[datetime | None]
        not_before: Mapped[datetime | None]


    FILINGS = Base.metadata.tables["filings"]


    # orchestrator/store/filings/records.py: what its moves read, the entity as stored
    @dataclass(frozen=True)
    class FilingSnapshot:
        id: int
        tenant: str
        status: F
        holder: str | None
        attempts: int


    FILING_STATUS = StatusTable(
        machine=FILING_MACHINE,
        table=FILINGS,
        snapshot=FilingSnapshot,
        describe=lambda filing: {},
        not_found=filing_not_found,
        action_prefix="filing ",
    )
    FILING_WORK = LeasedWork(
        FILING_STATUS,
        waiting=(F.PENDING,),
        claimed=F.SENDING,
        held=(F.SENDING,),
        attempts="attempts",
    )


    # orchestrator/store/filings/repository.py: one transaction per method
    class FilingRepository:
        def __init__(self, transactions: Transactions) -> None:
            self._tx = transactions

        def claim(self, holder: str, limit: int = 10) -> list[FilingSnapshot]:
            with self._tx.change() as tx:  # the deliverer's claim
                for filing in FILING_WORK.expired(tx, tx.now):
                    tx.move(
                        FILING_STATUS,
                        [filing],
                        F.PENDING,
                        actor=REAPER,
                        columns=released(),
                        reason=lease_expired(filing),
                    )
                due = FILING_WORK.due(tx.now).limit(limit)
                taken = FILING_WORK.lock(tx, due)
                return FILING_WORK.take(tx, taken, holder=holder, lease_s=60)


    # orchestrator/store/api.py, in RunStore.__init__: store.filings
    self.filings = FilingRepository(self.transactions)
"""

from orchestrator.states import NotificationStatus
from orchestrator.store.api import RunStore, open_store
from orchestrator.store.audit.anchors import Anchor, note_anchor, read_anchors
from orchestrator.store.audit.chain import AuditCheck
from orchestrator.store.catalog_evidence import BotEvidence, CityRuns
from orchestrator.store.notifications.records import (
    BreachedItem,
    NewNotification,
    NotificationRecord,
)
from orchestrator.store.reporting.records import (
    DayCount,
    PeriodFigures,
    Reason,
    ReportScope,
    RobotBusy,
)
from orchestrator.store.robots.records import RobotRecord
from orchestrator.store.runs.queue import ClaimedRun, RunRequest
from orchestrator.store.runs.reports import RunCase
from orchestrator.store.schedules.records import ScheduleState
from orchestrator.store.users.records import ALL_TENANTS, Role, UserRecord
from orchestrator.store.work.loading import ItemRow, SyncResult
from orchestrator.store.work.queues import POLICY_DEFAULTS
from orchestrator.store.work.records import AddResult, QueueRecord, WorkItemRecord, WorkItemRun

__all__ = [
    "ALL_TENANTS",
    "POLICY_DEFAULTS",
    "AddResult",
    "Anchor",
    "AuditCheck",
    "BotEvidence",
    "BreachedItem",
    "CityRuns",
    "ClaimedRun",
    "DayCount",
    "ItemRow",
    "NewNotification",
    "NotificationRecord",
    "NotificationStatus",
    "PeriodFigures",
    "QueueRecord",
    "Reason",
    "ReportScope",
    "RobotBusy",
    "RobotRecord",
    "Role",
    "RunCase",
    "RunRequest",
    "RunStore",
    "ScheduleState",
    "SyncResult",
    "UserRecord",
    "WorkItemRecord",
    "WorkItemRun",
    "note_anchor",
    "open_store",
    "read_anchors",
]
