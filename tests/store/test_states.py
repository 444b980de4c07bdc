"""The state machines as declared: exactly the documented moves are allowed, all others refused.

Pure: no database. The tables below restate the diagrams of :mod:`orchestrator.states` and
``docs/orchestrator.md``; a change to a machine has to change them too.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from orchestrator import results
from orchestrator.errors import InvalidTransition
from orchestrator.states import (
    RUN_MACHINE,
    WORK_ITEM_MACHINE,
    RunStatus,
    StateMachine,
    WorkItemStatus,
)

R, W = RunStatus, WorkItemStatus
RUN_MOVES = {
    (R.QUEUED, R.CLAIMED),
    (R.QUEUED, R.CANCELLED),
    (R.CLAIMED, R.RUNNING),
    (R.CLAIMED, R.QUEUED),
    (R.CLAIMED, R.CANCELLED),
    (R.CLAIMED, R.LOST),
    *((R.RUNNING, end) for end in (R.SUCCEEDED, R.FAILED, R.TIMED_OUT, R.CANCELLED, R.LOST)),
    (R.RUNNING, R.QUEUED),
}
WORK_ITEM_MOVES = {
    (W.NEW, W.IN_PROGRESS),
    (W.NEW, W.ABANDONED),
    *(
        (W.IN_PROGRESS, to)
        for to in (W.DONE, W.NEEDS_HUMAN, W.FAILED, W.RETRYING, W.AWAITING_APPROVAL)
    ),
    (W.RETRYING, W.IN_PROGRESS),
    (W.RETRYING, W.ABANDONED),
    (W.AWAITING_APPROVAL, W.DONE),
    (W.AWAITING_APPROVAL, W.NEEDS_HUMAN),
    (W.AWAITING_APPROVAL, W.IN_PROGRESS),
    (W.AWAITING_APPROVAL, W.NEW),
    (W.AWAITING_APPROVAL, W.ABANDONED),
    (W.NEEDS_HUMAN, W.NEW),
    (W.NEEDS_HUMAN, W.DONE),
    (W.NEEDS_HUMAN, W.ABANDONED),
    (W.FAILED, W.NEW),
    (W.FAILED, W.ABANDONED),
    (W.DONE, W.NEW),
}
MACHINES: list[tuple[StateMachine[Any], set[tuple[Any, Any]], set[Any]]] = [
    (RUN_MACHINE, RUN_MOVES, {R.SUCCEEDED, R.FAILED, R.TIMED_OUT, R.CANCELLED, R.LOST}),
    (WORK_ITEM_MACHINE, WORK_ITEM_MOVES, {W.ABANDONED}),
]


@pytest.mark.parametrize(("machine", "moves", "terminal"), MACHINES, ids=["run", "work item"])
def test_every_declared_move_is_allowed_and_every_other_is_refused(
    machine: StateMachine[Any], moves: set[tuple[Any, Any]], terminal: set[Any]
) -> None:
    for current in machine.states:
        for to in machine.states:
            if (current, to) in moves:
                machine.check(current, to, entity_id=7)
                assert machine.allows(current, to)
                continue
            with pytest.raises(InvalidTransition) as refused:
                machine.check(current, to, entity_id=7)
            error = refused.value
            assert (error.entity, error.entity_id, error.current, error.requested) == (
                machine.entity,
                7,
                current.value,
                to.value,
            )
            assert not machine.allows(current, to)
    assert machine.terminal == terminal


def test_a_refusal_says_what_the_entity_may_do_instead() -> None:
    with pytest.raises(InvalidTransition, match=r"^run 17 is queued; it cannot become running "):
        RUN_MACHINE.check(R.QUEUED, R.RUNNING, entity_id=17)
    with pytest.raises(InvalidTransition, match=r"\(from queued: claimed, cancelled\)$"):
        RUN_MACHINE.check(R.QUEUED, R.RUNNING, entity_id=17)
    with pytest.raises(
        InvalidTransition,
        match=r"^work item 3 is abandoned; it cannot become new \(abandoned is final\)$",
    ):
        WORK_ITEM_MACHINE.check(W.ABANDONED, W.NEW, entity_id=3)
    with pytest.raises(
        InvalidTransition,
        match=r"^work item 3 is done; it cannot become in_progress \(from done: new\)$",
    ):
        WORK_ITEM_MACHINE.check(W.DONE, W.IN_PROGRESS, entity_id=3)


def test_a_machine_with_a_move_outside_its_states_or_onto_itself_is_refused() -> None:
    class Light(StrEnum):
        RED = "red"
        GREEN = "green"

    with pytest.raises(ValueError):
        StateMachine("light", Light, {Light.RED: frozenset({"blue"})}, initial=Light.RED)
    with pytest.raises(ValueError, match="itself"):
        StateMachine("light", Light, {Light.RED: frozenset({Light.RED})}, initial=Light.RED)
    light = StateMachine("light", Light, {Light.RED: frozenset({Light.GREEN})}, initial=Light.RED)
    assert light.terminal == {Light.GREEN} and light.sources(Light.GREEN) == [Light.RED]


def test_the_run_machine_stays_importable_from_results() -> None:
    assert results.TRANSITIONS is RUN_MACHINE.moves
    assert results.TERMINAL == RUN_MACHINE.terminal
    assert results.ACTIVE == {R.CLAIMED, R.RUNNING}
    assert results.RunStatus is RunStatus and all(s.is_terminal for s in results.TERMINAL)
