"""State machines in SQL: every status change of any entity, with its audit entry, in one
transaction.

An entity with states is stored as a :class:`StatusTable`: its machine from
:mod:`orchestrator.states`, its table (with ``id``, ``tenant``, ``status`` and ``holder``
columns) and a frozen dataclass of the columns a move reads (its *snapshot*). The run's is
:data:`~orchestrator.store.runs.moves.RUN_STATUS`; a new entity adds a table, a machine and one
``StatusTable``, nothing here.

:class:`WriteTransaction` wraps one write transaction of the store. Its
:meth:`~WriteTransaction.move` (and :meth:`~WriteTransaction.move_one`, which uses it or a
one-statement shortcut) is the only code that changes a ``status``: it checks the move against
the machine (and, if asked, the expected status and holder), updates the rows in one statement
and queues one audit entry per row. The store appends the queued entries right before the
commit (:meth:`.transactions.Transactions.change`, :func:`.audit.chain.append`)::

    with transactions.change() as tx:
        tx.move_one(RUN_STATUS, run_id, RunStatus.RUNNING, actor="robot-1",
                    expect_holder="robot-1", columns={"started_at": tx.now})
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import (
    ClauseElement,
    Column,
    Connection,
    Row,
    Select,
    Table,
    Update,
    bindparam,
    select,
    update,
)

from orchestrator.errors import InvalidTransition
from orchestrator.states import StateMachine
from orchestrator.store.audit.chain import AuditEvent


class Entity(Protocol):
    """What a move needs of a row, as read and locked: a frozen dataclass with these fields."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def id(self) -> int: ...

    @property
    def tenant(self) -> str: ...

    @property
    def status(self) -> Any: ...  # a member of the machine's states

    @property
    def holder(self) -> str | None: ...


E = TypeVar("E", bound=Entity)


def _no_run(_entity: Any) -> int | None:
    return None


@dataclass(frozen=True, eq=False)
class StatusTable(Generic[E]):
    """An entity with states as stored: what :meth:`WriteTransaction.move` needs to know.

    Args:
        machine: Its states and moves.
        table: Its table; the ``snapshot`` fields name its columns.
        snapshot: The frozen dataclass a row is read into.
        describe: What an audit entry of a move says about the entity, besides ``from``,
            ``to``, ``holder`` (and ``error``, ``reason``), e.g. the bot and its parameters.
        not_found: The error for an unknown id (of a tenant, if one is given).
        run_id: The run an audit entry of a move belongs to, if any.
        action_prefix: Before the new status in the audit entry's action (``""`` for runs:
            ``"claimed"``; e.g. ``"item "`` for ``"item done"``).
    """

    machine: StateMachine[Any]
    table: Table
    snapshot: type[E]
    describe: Callable[[E], dict[str, Any]]
    not_found: Callable[[int, str | None], Exception]
    run_id: Callable[[E], int | None] = _no_run
    action_prefix: str = ""
    columns: tuple[Column[Any], ...] = field(init=False)

    def __post_init__(self) -> None:
        fields = dataclasses.fields(self.snapshot)
        object.__setattr__(self, "columns", tuple(self.table.c[f.name] for f in fields))

    def select(self) -> Select[Any]:
        """``SELECT`` of the snapshot's columns, to add conditions to."""
        return select(*self.columns)

    def read(self, row: Row[Any]) -> E:
        """The snapshot of a row of :meth:`select`."""
        values = dict(row._mapping)
        values["status"] = self.machine.states(values["status"])
        return self.snapshot(**values)


class WriteTransaction:
    """One write transaction: status moves and other events, each with its audit entry.

    ``now`` is the one instant the transaction stamps on everything it writes. ``events`` are
    the audit entries still to append; the store appends them just before it commits.
    """

    def __init__(self, connection: Connection, now: datetime) -> None:
        self.connection = connection
        self.now = now
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        """Queue an audit entry for something that is not a status change."""
        self.events.append(event)

    def lock(self, kind: StatusTable[E], entity_id: int, *, tenant: str | None = None) -> E:
        """Read and lock (PostgreSQL: ``FOR UPDATE``) one entity.

        Raises:
            RunNotFound (or the entity's own error): no such entity, or it belongs to another
                tenant than ``tenant``.
        """
        query = kind.select().where(kind.table.c.id == entity_id).with_for_update()
        if tenant is not None:
            query = query.where(kind.table.c.tenant == tenant)
        row = self.connection.execute(query).first()
        if row is None:
            raise kind.not_found(entity_id, tenant)
        return kind.read(row)

    def move_one(
        self,
        kind: StatusTable[E],
        entity_id: int,
        to: StrEnum,
        *,
        actor: str | None,
        expect: StrEnum | None = None,
        expect_holder: str | None = None,
        columns: Mapping[str, Any] | None = None,
    ) -> E:
        """Move one entity, like :meth:`move`; ``actor`` None means its holder.

        Where ``to`` can be reached from one status only (claimed -> running, running ->
        succeeded, ...), one ``UPDATE ... WHERE status = <that one> RETURNING`` checks and
        moves at once. If it moves nothing, or for other moves, the entity is locked, checked
        and moved by :meth:`move`, which also explains a refusal.

        Raises:
            RunNotFound (or the entity's own error): no such entity.
            InvalidTransition: as :meth:`move`.
        """
        columns = dict(columns or {})
        sources = kind.machine.sources(to)
        if len(sources) == 1 and expect in (None, sources[0]) and _plain(columns):
            statement = _move_one_statement(kind, tuple(columns), expect_holder is not None)
            arguments = {
                "entity_id": entity_id,
                "from_status": sources[0].value,
                "to_status": to.value,
                "holder_now": expect_holder,
                **{f"set_{key}": value for key, value in columns.items()},
            }
            row = self.connection.execute(statement, arguments).first()
            if row is not None:
                moved = kind.read(row)
                who = actor or moved.holder or "system"
                self._audit_move(kind, moved, sources[0], who, columns.get("error"), None)
                return moved
        entity = self.lock(kind, entity_id)
        who = actor or entity.holder or "system"
        (moved,) = self.move(
            kind,
            [entity],
            to,
            actor=who,
            expect=expect,
            expect_holder=expect_holder,
            columns=columns,
        )
        return moved

    def move(
        self,
        kind: StatusTable[E],
        entities: Sequence[E],
        to: StrEnum,
        *,
        actor: str,
        expect: StrEnum | None = None,
        expect_holder: str | None = None,
        columns: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> list[E]:
        """Move locked ``entities`` of ``kind`` to ``to``, setting ``columns`` too; returns
        them as moved. The one function behind every status change.

        Checks every entity before writing anything. The audit entry of each (action = the
        new status, after ``kind.action_prefix``) holds what ``kind.describe`` says, from/to,
        the holder, plus ``error`` if set in ``columns`` and ``reason`` if given.

        Raises:
            InvalidTransition: an entity is not in ``expect``, may not move to ``to`` from
                where it is (the machine's table), or is held by another holder than
                ``expect_holder``.
        """
        columns = dict(columns or {})
        for entity in entities:
            _check(kind, entity, to, expect=expect, expect_holder=expect_holder)
        if not entities:
            return []
        ids = [entity.id for entity in entities]
        if _plain(columns):
            arguments = {f"set_{key}": value for key, value in columns.items()}
            statement = _move_statement(kind, tuple(columns))
            self.connection.execute(statement, {"ids": ids, "to_status": to.value, **arguments})
        else:  # a value computed in SQL, e.g. attempt + 1
            table = kind.table
            statement = update(table).where(table.c.id.in_(ids)).values(status=to.value, **columns)
            self.connection.execute(statement)
        known = kind.snapshot.__dataclass_fields__
        changed = {
            key: value
            for key, value in columns.items()
            if key in known and not isinstance(value, ClauseElement)
        }
        moved = []
        for entity in entities:
            after = dataclasses.replace(entity, **{**changed, "status": to})
            self._audit_move(kind, after, entity.status, actor, columns.get("error"), reason)
            moved.append(after)
        return moved

    def _audit_move(
        self,
        kind: StatusTable[E],
        moved: E,
        source: StrEnum,
        actor: str,
        error: str | None,
        reason: str | None,
    ) -> None:
        data: dict[str, Any] = {
            **kind.describe(moved),
            "from": source.value,
            "to": moved.status.value,
            "holder": moved.holder,
        }
        if error is not None:
            data["error"] = error
        if reason is not None:
            data["reason"] = reason
        action = f"{kind.action_prefix}{moved.status.value}"
        self.events.append(AuditEvent(action, moved.tenant, actor, data, kind.run_id(moved)))


# The UPDATEs of moves, built once per table and set of columns: building a statement costs
# more CPU than the round trip of a short one. Their values are bound at execution (_plain).


@functools.lru_cache(maxsize=64)
def _move_one_statement(
    kind: StatusTable[Any], keys: tuple[str, ...], check_holder: bool
) -> Update:
    table = kind.table
    statement = update(table).where(
        table.c.id == bindparam("entity_id"), table.c.status == bindparam("from_status")
    )
    if check_holder:
        statement = statement.where(table.c.holder == bindparam("holder_now"))
    changes: dict[str, Any] = {key: bindparam(f"set_{key}") for key in keys}
    return statement.values(status=bindparam("to_status"), **changes).returning(*kind.columns)


@functools.lru_cache(maxsize=64)
def _move_statement(kind: StatusTable[Any], keys: tuple[str, ...]) -> Update:
    changes: dict[str, Any] = {key: bindparam(f"set_{key}") for key in keys}
    return (
        update(kind.table)
        .where(kind.table.c.id.in_(bindparam("ids", expanding=True)))
        .values(status=bindparam("to_status"), **changes)
    )


def _plain(columns: Mapping[str, Any]) -> bool:
    """Whether all values are plain data (no SQL expression): then a cached UPDATE fits."""
    return not any(isinstance(value, ClauseElement) for value in columns.values())


def _check(
    kind: StatusTable[E],
    entity: E,
    to: StrEnum,
    *,
    expect: StrEnum | None,
    expect_holder: str | None,
) -> None:
    entity_name = kind.machine.entity
    if expect is not None and entity.status is not expect:
        raise InvalidTransition(entity.id, entity.status.value, to.value, entity=entity_name)
    kind.machine.check(entity.status, to, entity_id=entity.id)
    if expect_holder is not None and entity.holder != expect_holder:
        held = f"{entity.status.value} under holder {entity.holder!r}"
        raise InvalidTransition(entity.id, held, to.value, entity=entity_name)
