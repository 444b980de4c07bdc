"""Run history, queue and audit trail in SQL: SQLite by default (a file in the data
directory), or one PostgreSQL shared by orchestrators and robots.

Example::

    from orchestrator.store import open_store

    with open_store("sqlite:///data/bots.sqlite") as store:
        for run in store.list_runs(tenant="giessen", bot_id="gewerbe-abgleich", limit=10):
            print(run.id, run.status)

Modules: :mod:`.run_store` (:class:`RunStore`, the API: it composes one repository per
aggregate), the repositories :mod:`.runs` (the queue, runs, their steps and artifacts),
:mod:`.robots` (robots and the leases they hold), :mod:`.schedules` (schedules and leader
leases), :mod:`.work_items` (work queues and their items, ``store.queues``; with
:mod:`.work_queues`, :mod:`.work_item_moves`, :mod:`.work_item_actions`,
:mod:`.work_loading` and :mod:`.work_records`), :mod:`.run_reports` (what a run
report reads besides the run), :mod:`.reporting` (figures over a period,
``store.reporting``; with :mod:`.reporting_records`), :mod:`.users`
(people, their roles and tokens, ``store.users``), :mod:`.notifications` (the outbox of
e-mail and webhook messages, ``store.notifications``; with
:mod:`.notification_records`), :mod:`.retention` (artifacts past their period and
their deletion, ``store.retention``), :mod:`.catalog_evidence` (a catalog bot's runs per
city, ``store.catalog_evidence``) and :mod:`.audit_trail`, all on the one
transaction helper :mod:`.transactions`;
:mod:`.lifecycle` (the guarded move: every status change of any entity, checked against its
machine in :mod:`orchestrator.states`, with its audit entry), :mod:`.run_moves` (the run as an
entity with states; runs whose robot is gone), :mod:`.queue` (requests and claiming),
:mod:`.group_commit` (transactions shared by threads), :mod:`.records` (steps, artifacts, runs
read back), :mod:`.audit` (the hash chain), :mod:`.anchors` (its head noted down outside the
database), :mod:`.coordination` (the SQL of leader leases, schedule state, robots),
:mod:`.tables` (the schema as Python classes), :mod:`.migrate` and :mod:`.migrations`
(Alembic), :mod:`.database` (engines and errors).
This package is the only one that imports SQLAlchemy.
"""

from orchestrator.states import NotificationStatus
from orchestrator.store.anchors import Anchor, note_anchor, read_anchors
from orchestrator.store.audit import AuditCheck
from orchestrator.store.catalog_evidence import BotEvidence, CityRuns
from orchestrator.store.coordination import RobotRecord, ScheduleState
from orchestrator.store.notification_records import (
    BreachedItem,
    NewNotification,
    NotificationRecord,
)
from orchestrator.store.queue import ClaimedRun, RunRequest
from orchestrator.store.reporting_records import (
    DayCount,
    PeriodFigures,
    Reason,
    ReportScope,
    RobotBusy,
)
from orchestrator.store.run_reports import RunCase
from orchestrator.store.run_store import RunStore, open_store
from orchestrator.store.users import ALL_TENANTS, Role, UserRecord
from orchestrator.store.work_loading import ItemRow, SyncResult
from orchestrator.store.work_queues import POLICY_DEFAULTS
from orchestrator.store.work_records import AddResult, QueueRecord, WorkItemRecord, WorkItemRun

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
