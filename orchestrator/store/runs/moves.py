"""How runs move in SQL: the run as :class:`~orchestrator.store.lifecycle.StatusTable`, and
runs whose robot is gone.

:data:`RUN_STATUS` ties the run machine (:data:`orchestrator.states.RUN_MACHINE`) to the
``runs`` table; every status change of a run is ``tx.move(RUN_STATUS, ...)`` or
``tx.move_one(RUN_STATUS, ...)`` (:mod:`orchestrator.store.lifecycle`). :data:`RUN_WORK` makes
runs leased work (:mod:`orchestrator.store.leased_work`): claimed by robots (:mod:`.queue`),
renewed by their heartbeat, reaped. :func:`reap` and :func:`robot_lost` settle the runs of a
robot that vanished (lease ran out, robot restarted). Example::

    with transactions.change() as tx:
        run = tx.lock(RUN_STATUS, 17)
        robot_lost(tx, [run], reason="robot r1 restarted", actor="r1#4f2a")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select

from orchestrator.errors import RunNotFound
from orchestrator.states import RUN_MACHINE, RunStatus
from orchestrator.store import leased_work
from orchestrator.store.leased_work import REAPER, LeasedWork, lease_expired
from orchestrator.store.lifecycle import StatusTable, WriteTransaction
from orchestrator.store.runs.tables import RUNS

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
        return RUN_STATUS.read(row)


def not_found(run_id: int, tenant: str | None = None) -> RunNotFound:
    """The error for a run that does not exist (for ``tenant``)."""
    scope = f" of tenant {tenant!r}" if tenant is not None else ""
    return RunNotFound(f"there is no run with id {run_id}{scope}.")


def _describe(run: RunSnapshot) -> dict[str, Any]:
    return {
        "bot": run.bot_id,
        "version": run.bot_version,
        "digest": run.bot_digest,
        "parameters": run.parameters,
    }


def _own_id(run: RunSnapshot) -> int | None:
    return run.id


RUN_STATUS: StatusTable[RunSnapshot] = StatusTable(
    machine=RUN_MACHINE,
    table=RUNS,
    snapshot=RunSnapshot,
    describe=_describe,
    not_found=not_found,
    run_id=_own_id,
)


#: Runs as leased work: robots claim queued runs (oldest first); claimed and running runs
#: are under a lease; a claim does not count attempts (a run's attempts are its retries).
RUN_WORK: LeasedWork[RunSnapshot] = LeasedWork(
    RUN_STATUS,
    waiting=(RunStatus.QUEUED,),
    claimed=RunStatus.CLAIMED,
    held=(RunStatus.CLAIMED, RunStatus.RUNNING),
)


def select_runs() -> Select[Any]:
    """``SELECT`` of the :class:`RunSnapshot` columns, to add conditions to."""
    return RUN_STATUS.select()


def released() -> dict[str, Any]:
    """The columns of a run going back to the queue: no holder, lease or start any more."""
    return {**leased_work.released(), "claimed_at": None, "started_at": None}


def ended(tx: WriteTransaction, error: str | None = None) -> dict[str, Any]:
    """The columns of a run that ends now (with ``error``, if given)."""
    columns: dict[str, Any] = {"finished_at": tx.now, "lease_expires_at": None}
    if error is not None:
        columns["error"] = error
    return columns


def reap(
    tx: WriteTransaction,
    *,
    tenants: Iterable[str] | None = None,
    max_losses: int = MAX_ROBOT_LOSSES,
) -> list[tuple[int, RunStatus]]:
    """Settle the claimed/running runs (of ``tenants``) whose lease ran out.

    Each counts as a robot loss (see :func:`robot_lost`), audited with the reason
    ``lease expired (holder X)``. Runs another transaction has locked are left alone.
    """
    scope = () if tenants is None else (RUNS.c.tenant.in_(list(tenants)),)
    runs = RUN_WORK.expired(tx, tx.now, *scope)
    done: list[tuple[int, RunStatus]] = []
    for run in runs:
        why = lease_expired(run)
        done += robot_lost(tx, [run], reason=why, actor=REAPER, max_losses=max_losses)
    return done


def robot_lost(
    tx: WriteTransaction,
    runs: Sequence[RunSnapshot],
    *,
    reason: str,
    actor: str,
    max_losses: int = MAX_ROBOT_LOSSES,
) -> list[tuple[int, RunStatus]]:
    """Settle locked active ``runs`` whose robot is gone (lease expired, robot restarted).

    The loss is counted in ``robot_losses``, apart from ``attempt``: a lost robot does not
    use up the bot's retries. A run whose cancellation was requested becomes ``cancelled``;
    a retry-safe one goes back to ``queued`` while it has been lost at most ``max_losses``
    times, and is ``lost`` with the reason "robot lost N times" after that (a case that
    kills its robot is not re-queued for ever); any other run is ``lost``.

    Example: ``robot_lost(tx, [tx.lock(RUN_STATUS, 17)], reason="robot r1 restarted",
    actor="r1#4f2a")`` -> ``[(17, RunStatus.QUEUED)]``.
    """
    done: list[tuple[int, RunStatus]] = []
    for run in runs:
        losses = run.robot_losses + 1
        why = f"{reason}; robot loss {losses} of at most {max_losses}"
        counted = {"robot_losses": losses}
        if run.cancel_requested:
            to, columns = RunStatus.CANCELLED, {**ended(tx, why), **counted}
        elif run.retry_safe and losses <= max_losses:
            to, columns = RunStatus.QUEUED, {**released(), **counted}
        elif run.retry_safe:
            why = f"robot lost {losses} times (at most {max_losses} re-queues); last: {reason}"
            to, columns = RunStatus.LOST, {**ended(tx, why), **counted}
        else:
            to, columns = RunStatus.LOST, {**ended(tx, why), **counted}
        tx.move(RUN_STATUS, [run], to, actor=actor, columns=columns, reason=why)
        done.append((run.id, to))
    return done
