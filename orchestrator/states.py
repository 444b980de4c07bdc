"""The states of every entity that has a status, and the moves allowed between them.

One :class:`StateMachine` per entity type, declared here and nowhere else. The module is pure
data (no IO): the store checks every status change against these tables in the transaction
that writes it, together with the audit entry (``WriteTransaction.move`` in
:mod:`orchestrator.store.lifecycle`). Example::

    RUN_MACHINE.check(RunStatus.QUEUED, RunStatus.CLAIMED)  # allowed: returns None
    RUN_MACHINE.check(RunStatus.SUCCEEDED, RunStatus.RUNNING, entity_id=17)
    # InvalidTransition: run 17 is succeeded; it cannot become running (succeeded is final)

**Runs** (:data:`RUN_MACHINE`)::

    queued ──▶ claimed ──▶ running ──▶ succeeded | failed | timed_out | cancelled | lost
       │          │           │
       └─cancel   ├─▶ queued  ├─▶ queued   (handed back, or lost with a retry-safe bot)
                  └─▶ lost    └─▶ lost

**Work-queue items** (:data:`WORK_ITEM_MACHINE`, for the work queues)::

    new ──▶ in_progress ──▶ done ─────────────▶ new (retried by a user)
     │  ▲     │  ├─▶ needs_human ───────▶ new | done | abandoned
     │  │     │  ├─▶ retrying ──────────▶ in_progress | abandoned
     │  │     │  ├─▶ failed ────────────▶ new (retried by a user) | abandoned
     │  │     │  └─▶ awaiting_approval ─▶ done | needs_human | in_progress | new | abandoned
     └─▶ abandoned                 (an item of an approval queue starts in awaiting_approval)

An item is ``new`` until a robot takes it (``in_progress``). Processing ends in ``done``; in
``needs_human`` after a business exception (a clerk looks at the case, then gives it back to
the robots as ``new``, finishes it by hand or abandons it); in ``retrying`` after an
application error with attempts left, or when its robot's lease ran out (taken again after
the backoff); in ``failed`` once the attempts are used up; or in ``awaiting_approval`` when a
second person must confirm before a robot acts (approved: ``new``, or ``in_progress``/``done``
for a robot that paused mid-case; rejected: ``needs_human`` or ``abandoned``). Doing a
``done`` or ``failed`` case again is an explicit act of a user on that item (``new`` under
the same reference), never a new item. Only ``abandoned`` is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from orchestrator.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, eq=False)
class StateMachine(Generic[S]):
    """The states of one entity type and the moves allowed between them.

    States without a move out are final (:attr:`terminal`). Example::

        machine = StateMachine("approval", Approval, {Approval.OPEN: {Approval.GRANTED}},
                               initial=Approval.OPEN)
        machine.allows(Approval.OPEN, Approval.GRANTED)  # True
        machine.terminal                                 # frozenset({Approval.GRANTED})

    Args:
        entity: What the entity is called in messages, e.g. ``"run"``, ``"work item"``.
        states: The enum of its states.
        moves: For each state, the states it may move to; states not named have no move out.
        initial: The state a new entity is created in.

    Raises:
        ValueError: a move names a state outside ``states``, or leads back to its own state.
    """

    entity: str
    states: type[S]
    moves: Mapping[S, frozenset[S]]
    initial: S
    terminal: frozenset[S] = field(init=False)

    def __post_init__(self) -> None:
        frozen = {
            self.states(state): frozenset(map(self.states, to)) for state, to in self.moves.items()
        }
        for state, targets in frozen.items():
            if state in targets:
                raise ValueError(f"{self.entity}: a move from {state} to itself is no move")
        object.__setattr__(self, "moves", MappingProxyType(frozen))
        terminal = frozenset(state for state in self.states if not frozen.get(state))
        object.__setattr__(self, "terminal", terminal)

    def allows(self, current: S, to: S) -> bool:
        """Whether an entity in ``current`` may move to ``to``."""
        return to in self.moves.get(current, frozenset())

    def sources(self, to: S) -> list[S]:
        """The states from which ``to`` can be reached, in the order of the enum.

        Example: ``RUN_MACHINE.sources(RunStatus.RUNNING)`` -> ``[RunStatus.CLAIMED]``.
        """
        return [state for state in self.states if self.allows(state, to)]

    def check(self, current: S, to: S, *, entity_id: int | None = None) -> None:
        """Refuse a move the table does not allow.

        Raises:
            InvalidTransition: ``to`` cannot be reached from ``current``; the message names
                the entity and the moves it has from there, e.g. ``run 17 is claimed; it
                cannot become succeeded (from claimed: queued, running, cancelled, lost)``.
        """
        if not self.allows(current, to):
            allowed = [state.value for state in self.states if self.allows(current, state)]
            raise InvalidTransition(
                entity_id, current.value, to.value, entity=self.entity, allowed=allowed
            )


class RunStatus(StrEnum):
    """Where a run stands: ``queued -> claimed -> running -> <terminal>``.

    Terminal states: succeeded, failed, timed_out, cancelled, lost. :data:`RUN_MACHINE`
    lists every allowed move; the store refuses all others.
    """

    QUEUED = "queued"
    CLAIMED = "claimed"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    LOST = "lost"

    @property
    def is_terminal(self) -> bool:
        """True for a final state, from which no transition leads."""
        return self in RUN_MACHINE.terminal


RUN_MACHINE = StateMachine(
    "run",
    RunStatus,
    {
        # A robot (or `bots run` in-process) takes the run; a user may cancel it before.
        RunStatus.QUEUED: frozenset({RunStatus.CLAIMED, RunStatus.CANCELLED}),
        # Back to queued: handed back on SIGTERM, or its robot vanished and the bot is
        # retry-safe.
        RunStatus.CLAIMED: frozenset(
            {RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.CANCELLED, RunStatus.LOST}
        ),
        RunStatus.RUNNING: frozenset(
            {
                RunStatus.SUCCEEDED,
                RunStatus.FAILED,
                RunStatus.TIMED_OUT,
                RunStatus.CANCELLED,
                RunStatus.LOST,
                RunStatus.QUEUED,
            }
        ),
    },
    initial=RunStatus.QUEUED,
)
#: Every allowed move of a run: status -> the statuses it may become.
TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = RUN_MACHINE.moves
TERMINAL: frozenset[RunStatus] = RUN_MACHINE.terminal
#: The runs holding a robot slot and their pools' slots.
ACTIVE = frozenset({RunStatus.CLAIMED, RunStatus.RUNNING})


class WorkItemStatus(StrEnum):
    """Where an item of a work queue stands (see the module docstring for its moves)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NEEDS_HUMAN = "needs_human"
    FAILED = "failed"
    ABANDONED = "abandoned"
    RETRYING = "retrying"
    AWAITING_APPROVAL = "awaiting_approval"


WORK_ITEM_MACHINE = StateMachine(
    "work item",
    WorkItemStatus,
    {
        # A robot takes it, or a user drops it before it was worked on.
        WorkItemStatus.NEW: frozenset({WorkItemStatus.IN_PROGRESS, WorkItemStatus.ABANDONED}),
        WorkItemStatus.IN_PROGRESS: frozenset(
            {
                WorkItemStatus.DONE,
                WorkItemStatus.NEEDS_HUMAN,  # business exception: the case needs a clerk
                WorkItemStatus.FAILED,  # application error, no attempts left
                WorkItemStatus.RETRYING,  # application error with attempts left, lease expired
                WorkItemStatus.AWAITING_APPROVAL,  # a human confirms before the robot goes on
            }
        ),
        # Taken again once the backoff passed, or given up by a user.
        WorkItemStatus.RETRYING: frozenset({WorkItemStatus.IN_PROGRESS, WorkItemStatus.ABANDONED}),
        # Approved (robots may take it, the robot finishes it, or nothing is left to do) or
        # rejected (a clerk looks at it, or it is dropped).
        WorkItemStatus.AWAITING_APPROVAL: frozenset(
            {
                WorkItemStatus.NEW,
                WorkItemStatus.DONE,
                WorkItemStatus.NEEDS_HUMAN,
                WorkItemStatus.IN_PROGRESS,
                WorkItemStatus.ABANDONED,
            }
        ),
        # The clerk gives it back to the robots, finishes it by hand, or drops it.
        WorkItemStatus.NEEDS_HUMAN: frozenset(
            {WorkItemStatus.NEW, WorkItemStatus.DONE, WorkItemStatus.ABANDONED}
        ),
        # Only an explicit retry by a user queues a failed or done item again.
        WorkItemStatus.FAILED: frozenset({WorkItemStatus.NEW, WorkItemStatus.ABANDONED}),
        WorkItemStatus.DONE: frozenset({WorkItemStatus.NEW}),
    },
    initial=WorkItemStatus.NEW,
)


class NotificationStatus(StrEnum):
    """Where a message of the notification outbox stands (:data:`NOTIFICATION_MACHINE`)."""

    HELD = "held"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DIGESTED = "digested"


#: A notification (e-mail or webhook message) in the outbox::
#:
#:     held ──▶ digested            (carried by the day's digest, itself a new message)
#:     pending ──▶ sending ──▶ sent
#:        ▲           ├─▶ pending   (delivery failed, or the deliverer's lease ran out)
#:        │           └─▶ failed    (attempts used up, or its channel is gone)
#:        └── queued
NOTIFICATION_MACHINE = StateMachine(
    "notification",
    NotificationStatus,
    {
        NotificationStatus.HELD: frozenset({NotificationStatus.DIGESTED}),
        NotificationStatus.PENDING: frozenset({NotificationStatus.SENDING}),
        NotificationStatus.SENDING: frozenset(
            {NotificationStatus.SENT, NotificationStatus.PENDING, NotificationStatus.FAILED}
        ),
    },
    initial=NotificationStatus.PENDING,
)


class Maturity(StrEnum):
    """How far a published version of a catalog bot has earned trust (:data:`MATURITY_MACHINE`).

    ``proven`` needs evidence: successful runs in several cities (``bots catalog promote``);
    ``deprecated`` names a successor.
    """

    EXPERIMENTAL = "experimental"
    PILOT = "pilot"
    PROVEN = "proven"
    DEPRECATED = "deprecated"


#: A published version of a catalog bot (``bot_catalog.yaml``)::
#:
#:     experimental ──▶ pilot ──▶ proven ──▶ deprecated
#:           └───────────┴──────────────────────▲
#:
#: Trust is earned one step at a time; any version may be given up for a successor.
MATURITY_MACHINE = StateMachine(
    "bot version",
    Maturity,
    {
        Maturity.EXPERIMENTAL: frozenset({Maturity.PILOT, Maturity.DEPRECATED}),
        Maturity.PILOT: frozenset({Maturity.PROVEN, Maturity.DEPRECATED}),
        Maturity.PROVEN: frozenset({Maturity.DEPRECATED}),
    },
    initial=Maturity.EXPERIMENTAL,
)
