"""The run state machine in SQL: every status change, with its audit entry, in one transaction.

:class:`WriteTransaction` wraps one write transaction of the store. Its
:meth:`~WriteTransaction.move` (and :meth:`~WriteTransaction.move_one`, which uses it or a
one-statement shortcut) is the only code that changes a run's ``status``: it checks the move
against :data:`~orchestrator.results.TRANSITIONS` (and, if asked, the expected status and
holder), updates the rows in one statement and queues one audit entry per run. The store
appends the queued entries right before the commit (see :func:`.audit.append`)::

    with store._change() as tx:
        tx.move_one(run_id, RunStatus.RUNNING, actor="robot-1", expect_holder="robot-1",
                    columns={"started_at": tx.now})
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ClauseElement, Connection, Row, Select, Update, bindparam, select, update

from orchestrator.errors import InvalidTransition, RunNotFound
from orchestrator.results import ACTIVE, TRANSITIONS, RunStatus
from orchestrator.store.audit import AuditEvent
from orchestrator.store.tables import RUNS

REAPER = "system:lease-expiry"
#: Robot losses a run survives by default; the next one marks it ``lost`` (see ``reap``).
MAX_ROBOT_LOSSES = 3


@dataclass(frozen=True)
class RunSnapshot:
    """The columns of a run that moves, claims and audit entries need, as read (and locked)."""

    id: int
    tenant: str
    bot_id: str
    bot_version: str
    bot_digest: str
    parameters: dict[str, Any]
    trigger: str
    status: RunStatus
    holder: str | None
    labels: list[str]
    pools: list[str]
    max_parallel: int
    retry_safe: bool
    timeout_s: float | None
    attempt: int
    cancel_requested: bool
    robot_losses: int
    max_attempts: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> RunSnapshot:
        """Build it from a row of :func:`select_runs`."""
        values = dict(row._mapping)
        values["status"] = RunStatus(values["status"])
        return cls(**values)


SNAPSHOT_COLUMNS = tuple(RUNS.c[field.name] for field in dataclasses.fields(RunSnapshot))
# For each status, the statuses a run may reach it from.
_SOURCES = {
    to: [source for source, targets in TRANSITIONS.items() if to in targets] for to in RunStatus
}


def select_runs() -> Select[Any]:
    """``SELECT`` of the :class:`RunSnapshot` columns, to add conditions to."""
    return select(*SNAPSHOT_COLUMNS)


class WriteTransaction:
    """One write transaction: status moves and other events, each with its audit entry.

    ``now`` is the one instant the transaction stamps on everything it writes. ``events`` are
    the audit entries still to append; the store appends them just before it commits.
    """

    def __init__(self, connection: Connection, now: datetime) -> None:
        self.connection = connection
        self.now = now
        self.events: list[AuditEvent] = []

    def lock(self, run_id: int, *, tenant: str | None = None) -> RunSnapshot:
        """Read and lock (PostgreSQL: ``FOR UPDATE``) one run.

        Raises:
            RunNotFound: no such run, or it belongs to another tenant than ``tenant``.
        """
        query = select_runs().where(RUNS.c.id == run_id).with_for_update()
        if tenant is not None:
            query = query.where(RUNS.c.tenant == tenant)
        row = self.connection.execute(query).first()
        if row is None:
            raise not_found(run_id, tenant)
        return RunSnapshot.from_row(row)

    def record(self, event: AuditEvent) -> None:
        """Queue an audit entry for something that is not a status change."""
        self.events.append(event)

    def move_one(
        self,
        run_id: int,
        to: RunStatus,
        *,
        actor: str | None,
        expect: RunStatus | None = None,
        expect_holder: str | None = None,
        columns: Mapping[str, Any] | None = None,
    ) -> RunSnapshot:
        """Move one run, like :meth:`move`; ``actor`` None means the run's holder.

        Where ``to`` can be reached from one status only (claimed -> running, running ->
        succeeded, ...), one ``UPDATE ... WHERE status = <that one> RETURNING`` checks and
        moves at once. If it moves nothing, or for other moves, the run is locked, checked and
        moved by :meth:`move`, which also explains a refusal.

        Raises:
            RunNotFound: no such run.
            InvalidTransition: as :meth:`move`.
        """
        columns = dict(columns or {})
        sources = _SOURCES[to]
        if len(sources) == 1 and expect in (None, sources[0]) and _plain(columns):
            statement = _move_one_statement(tuple(columns), expect_holder is not None)
            arguments = {
                "run_id": run_id,
                "from_status": sources[0].value,
                "to_status": to.value,
                "holder_now": expect_holder,
                **{f"set_{key}": value for key, value in columns.items()},
            }
            row = self.connection.execute(statement, arguments).first()
            if row is not None:
                moved = RunSnapshot.from_row(row)
                who = actor or moved.holder or "system"
                self._audit_move(moved, sources[0], who, columns.get("error"), None)
                return moved
        run = self.lock(run_id)
        who = actor or run.holder or "system"
        (moved,) = self.move(
            [run], to, actor=who, expect=expect, expect_holder=expect_holder, columns=columns
        )
        return moved

    def move(
        self,
        runs: Sequence[RunSnapshot],
        to: RunStatus,
        *,
        actor: str,
        expect: RunStatus | None = None,
        expect_holder: str | None = None,
        columns: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> list[RunSnapshot]:
        """Move locked ``runs`` to ``to``, setting ``columns`` too; returns them as moved.

        Checks every run before writing anything. The audit entry of each (action = the new
        status) holds bot, version, digest, parameters, from/to, holder, plus ``error`` if
        set in ``columns`` and ``reason`` if given.

        Raises:
            InvalidTransition: a run is not in ``expect``, may not move to ``to`` from where it
                is, or is held by another holder than ``expect_holder``.
        """
        columns = dict(columns or {})
        for run in runs:
            _check(run, to, expect=expect, expect_holder=expect_holder)
        if not runs:
            return []
        ids = [run.id for run in runs]
        if _plain(columns):
            arguments = {f"set_{key}": value for key, value in columns.items()}
            statement = _move_statement(tuple(columns))
            self.connection.execute(statement, {"ids": ids, "to_status": to.value, **arguments})
        else:  # a value computed in SQL, e.g. attempt + 1
            statement = update(RUNS).where(RUNS.c.id.in_(ids)).values(status=to.value, **columns)
            self.connection.execute(statement)
        moved = []
        for run in runs:
            after = dataclasses.replace(
                run,
                status=to,
                holder=columns["holder"] if "holder" in columns else run.holder,
                bot_digest=columns.get("bot_digest", run.bot_digest),
            )
            self._audit_move(after, run.status, actor, columns.get("error"), reason)
            moved.append(after)
        return moved

    def _audit_move(
        self,
        moved: RunSnapshot,
        source: RunStatus,
        actor: str,
        error: str | None,
        reason: str | None,
    ) -> None:
        data: dict[str, Any] = {
            "bot": moved.bot_id,
            "version": moved.bot_version,
            "digest": moved.bot_digest,
            "parameters": moved.parameters,
            "from": source.value,
            "to": moved.status.value,
            "holder": moved.holder,
        }
        if error is not None:
            data["error"] = error
        if reason is not None:
            data["reason"] = reason
        self.events.append(AuditEvent(moved.status.value, moved.tenant, actor, data, moved.id))

    def reap(
        self, *, tenants: Iterable[str] | None = None, max_losses: int = MAX_ROBOT_LOSSES
    ) -> list[tuple[int, RunStatus]]:
        """Settle the claimed/running runs (of ``tenants``) whose lease ran out.

        Each counts as a robot loss (see :meth:`robot_lost`), audited with the reason
        ``lease expired (holder X)``. Runs another transaction has locked are left alone.
        """
        query = (
            select_runs()
            .where(
                RUNS.c.status.in_([status.value for status in ACTIVE]),
                RUNS.c.lease_expires_at < self.now,
            )
            .order_by(RUNS.c.id)
            .with_for_update(skip_locked=True)
        )
        if tenants is not None:
            query = query.where(RUNS.c.tenant.in_(list(tenants)))
        runs = [RunSnapshot.from_row(row) for row in self.connection.execute(query).all()]
        done: list[tuple[int, RunStatus]] = []
        for run in runs:
            reason = f"lease expired (holder {run.holder})"
            done += self.robot_lost([run], reason=reason, actor=REAPER, max_losses=max_losses)
        return done

    def robot_lost(
        self,
        runs: Sequence[RunSnapshot],
        *,
        reason: str,
        actor: str,
        max_losses: int = MAX_ROBOT_LOSSES,
    ) -> list[tuple[int, RunStatus]]:
        """Settle locked active ``runs`` whose robot is gone (lease expired, robot restarted).

        The loss is counted in ``robot_losses``, apart from ``attempt``: a lost robot does not
        use up the bot's retries. A run whose cancellation was requested becomes
        ``cancelled``; a retry-safe one goes back to ``queued`` while it has been lost at most
        ``max_losses`` times, and is ``lost`` with the reason "robot lost N times" after that
        (a case that kills its robot is not re-queued for ever); any other run is ``lost``.

        Example: ``tx.robot_lost([tx.lock(17)], reason="robot r1 restarted", actor="r1#4f2a")``
        -> ``[(17, RunStatus.QUEUED)]``.
        """
        done: list[tuple[int, RunStatus]] = []
        for run in runs:
            losses = run.robot_losses + 1
            why = f"{reason}; robot loss {losses} of at most {max_losses}"
            counted = {"robot_losses": losses}
            if run.cancel_requested:
                to, columns = RunStatus.CANCELLED, {**self._ended(why), **counted}
            elif run.retry_safe and losses <= max_losses:
                to, columns = RunStatus.QUEUED, {**released(), **counted}
            elif run.retry_safe:
                why = f"robot lost {losses} times (at most {max_losses} re-queues); last: {reason}"
                to, columns = RunStatus.LOST, {**self._ended(why), **counted}
            else:
                to, columns = RunStatus.LOST, {**self._ended(why), **counted}
            self.move([run], to, actor=actor, columns=columns, reason=why)
            done.append((run.id, to))
        return done

    def _ended(self, error: str) -> dict[str, Any]:
        return {"finished_at": self.now, "lease_expires_at": None, "error": error}


# The UPDATEs of moves, built once per set of columns: building a statement costs more CPU
# than the round trip of a short one. Their values are bound at execution (see _plain).


@functools.lru_cache(maxsize=64)
def _move_one_statement(keys: tuple[str, ...], check_holder: bool) -> Update:
    statement = update(RUNS).where(
        RUNS.c.id == bindparam("run_id"), RUNS.c.status == bindparam("from_status")
    )
    if check_holder:
        statement = statement.where(RUNS.c.holder == bindparam("holder_now"))
    changes: dict[str, Any] = {key: bindparam(f"set_{key}") for key in keys}
    return statement.values(status=bindparam("to_status"), **changes).returning(*SNAPSHOT_COLUMNS)


@functools.lru_cache(maxsize=64)
def _move_statement(keys: tuple[str, ...]) -> Update:
    changes: dict[str, Any] = {key: bindparam(f"set_{key}") for key in keys}
    return (
        update(RUNS)
        .where(RUNS.c.id.in_(bindparam("ids", expanding=True)))
        .values(status=bindparam("to_status"), **changes)
    )


def _plain(columns: Mapping[str, Any]) -> bool:
    """Whether all values are plain data (no SQL expression): then a cached UPDATE fits."""
    return not any(isinstance(value, ClauseElement) for value in columns.values())


def released() -> dict[str, Any]:
    """The columns of a run going back to the queue: no holder, lease or start any more."""
    return {"holder": None, "lease_expires_at": None, "claimed_at": None, "started_at": None}


def not_found(run_id: int, tenant: str | None = None) -> RunNotFound:
    """The error for a run that does not exist (for ``tenant``)."""
    scope = f" of tenant {tenant!r}" if tenant is not None else ""
    return RunNotFound(f"there is no run with id {run_id}{scope}.")


def _check(
    run: RunSnapshot, to: RunStatus, *, expect: RunStatus | None, expect_holder: str | None
) -> None:
    if expect is not None and run.status is not expect:
        raise InvalidTransition(run.id, run.status.value, to.value)
    if to not in TRANSITIONS.get(run.status, frozenset()):
        raise InvalidTransition(run.id, run.status.value, to.value)
    if expect_holder is not None and run.holder != expect_holder:
        held = f"{run.status.value} under holder {run.holder!r}"
        raise InvalidTransition(run.id, held, to.value)
