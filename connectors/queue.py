"""The queue connector: bots that work through a work queue, and bots that fill one.

``for_each_item`` takes one item after another from a queue of the bot's tenant and runs its
steps for each, as its own unit: an item whose steps succeed is ``done`` (with ``output``
stored); one that fails with a *business* failure (a ``fail`` step with ``kind: business``,
a connector's refusal, a hook's ``BusinessException``) goes to a person (``needs_human``)
with its message and is not tried again; any other failure is an *application* failure,
retried per the queue's policy, then ``failed``, with the evidence of that attempt. Either
way the bot goes on with the next item::

    - for_each_item: gewerbeanmeldungen
      as: fall                      # the item's payload; `work_item` has id, reference, attempt
      label: "{{ work_item.reference }}"
      do:
        - use: civento.vorgang_lesen
          with: {nummer: "{{ work_item.reference }}"}
          into: akte
      output: {aktenzeichen: "{{ aktenzeichen }}"}

``add_items`` adds items (a producer, e.g. a dispatcher reading the Posteingang); a reference
the queue knows already is left alone, so a dispatcher may run as often as it likes::

    - add_items: gewerbeanmeldungen
      items: "{{ vorgaenge }}"
      reference: "{{ item.Nummer }}"
      into: neu                     # how many were new

The session of this connector is the run's access to the work queues, which the engine
builds on the run's store (:mod:`orchestrator.engine.work_queue`) and hands every session
factory as ``SessionEnv.work_queues``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from connectors.base import Connector, ConnectorError
from connectors.step_run import StepRun
from orchestrator.errors import FailureKind, StepFailed
from orchestrator.model.registry import ConnectorSpec, SessionEnv, StepKind
from orchestrator.model.steps import VARIABLE, Step, StepBase

_MISSING = object()
#: The kind of the record each item's outcome leaves in the run's steps.
ITEM = "work_item"
#: The most items one run works on at once.
MAX_PARALLEL = 16


class ForEachItemStep(StepBase):
    """Work through a queue: run `do` for each item taken from it, each as its own unit.

    The steps of the item taken second have paths ``steps[3][1].do[0]``, ...; a failure ends
    that item (to a person, or to be retried), not the run.
    """

    KIND: ClassVar[str] = "for_each_item"
    for_each_item: str = Field(description="The queue's name (template), e.g. gewerbeanmeldungen.")
    as_: str = Field(
        "item", alias="as", description="Variable holding the item's payload.", pattern=VARIABLE
    )
    do: list[Step] = Field(min_length=1, description="Steps run for every item.")
    output: Any = Field(
        None,
        description="The item's output, stored when its steps succeeded (templates), e.g. "
        "{aktenzeichen: '{{ aktenzeichen }}'}; routed on to the queue's next_on_success.",
    )
    label: str | None = Field(
        None,
        description="What names an item in messages and `bots show` (template); default: "
        "its reference.",
    )
    max_items: str | None = Field(
        None, description="Take at most this many items in this run (template), e.g. "
        "'{{ params.max_cases }}'."
    )  # fmt: skip
    parallel: int | str = Field(
        1,
        description="Work on this many items at once (1 to 16, or a template such as "
        "'{{ params.parallel }}'), each in a browser of its own within this robot: most of a "
        "case's time is waiting for the target system.",
    )

    def children(self) -> list[tuple[str, list[Step]]]:
        return [("do", self.do)]


class AddItemsStep(StepBase):
    """Add items to a queue; references the queue knows already are left alone."""

    KIND: ClassVar[str] = "add_items"
    add_items: str = Field(description="The queue's name (template).")
    items: str = Field(description="Template yielding a list of payloads (mappings).")
    reference: str = Field(
        description="Template naming each item's unique reference, with `item` bound to the "
        "payload, e.g. '{{ item.Nummer }}' (a pseudonym such as the Civento number, never a "
        "person's name)."
    )
    priority: int = Field(0, description="Higher is taken first.")
    into: str | None = Field(
        None, description="Variable receiving how many items were new.", pattern=VARIABLE
    )


def _for_each_item(it: StepRun, step: Any, path: str) -> None:
    queues = it.session("queue")
    queue = it.text(step.for_each_item)
    limit = int(it.value(step.max_items)) if step.max_items is not None else None
    turns = _Turns(limit)
    saved = {name: it.vars.get(name, _MISSING) for name in (step.as_, "work_item")}
    try:
        parallel = _parallel(it, step, path)
        if parallel == 1:
            _worker(it, step, queues, queue, path, turns)
        else:
            _in_parallel(it, step, queues, queue, path, turns, parallel)
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                it.vars.pop(name, None)
            else:
                it.vars[name] = value
    it.log.info("queue worked through", queue=queue, taken=turns.taken, **queues.counts)


class _Turns:
    """Numbers the items taken (their paths' index) and stops at the limit, across workers."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.taken = limit, 0
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def next(self) -> int | None:
        with self._lock:
            if self.stop.is_set() or (self.limit is not None and self.taken >= self.limit):
                return None
            self.taken += 1
            return self.taken - 1


def _worker(it: StepRun, step: Any, queues: Any, queue: str, path: str, turns: _Turns) -> None:
    """Take items one after another until the queue has none due (or the limit is reached)."""
    while (index := turns.next()) is not None:
        item = queues.take(queue)
        if item is None:
            turns.stop.set()
            return
        it.vars[step.as_] = item.payload or {}
        it.vars["work_item"] = {
            "id": item.id,
            "reference": item.reference,
            "attempt": item.attempts,
            "queue": queue,
        }
        _work(it, step, queues, item, f"{path}[{index}]")


def _parallel(it: StepRun, step: Any, path: str) -> int:
    value = it.value(step.parallel) if isinstance(step.parallel, str) else step.parallel
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_PARALLEL:
        raise StepFailed(path, f"parallel must be 1 to {MAX_PARALLEL}, got {value!r}")
    return number


def _in_parallel(
    it: StepRun, step: Any, queues: Any, queue: str, path: str, turns: _Turns, parallel: int
) -> None:
    """``parallel`` workers, each with an interpreter and a browser of its own; the first
    error that ends a worker (run timed out, cancelled, a browser that cannot start) stops
    the others after their current item and is raised here."""
    errors: list[BaseException] = []

    def work(number: int) -> None:
        child = None
        try:
            child = it.fork(number)
            _worker(child, step, queues, queue, path, turns)
        except BaseException as exc:
            errors.append(exc)
            turns.stop.set()
        finally:
            if child is not None:
                child.release()

    threads = [
        threading.Thread(target=work, args=(number,), name=f"worker-{number}", daemon=True)
        for number in range(1, parallel + 1)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:  # Ctrl-C or SIGTERM in the main thread: the workers stop too
        turns.stop.set()
        it.cancel.set()
        raise
    if errors:
        raise errors[0]


def _work(it: StepRun, step: Any, queues: Any, item: Any, here: str) -> None:
    """One item as its own unit: done, or failed with its kind, message and evidence."""
    mark = it.failure_mark()
    started = datetime.now(UTC)
    label = item.reference
    if step.label is not None:
        try:
            label = it.text(step.label)
        except Exception:  # a label that cannot render must not fail the item
            label = item.reference
    try:
        with it.iteration(here, f"{step.as_} = {label}"), it.recovering():
            it.run(step.do, f"{here}.do")
            # Stored with the item for good: secrets never, even if a template names one.
            output = it.redactor.redact_data(it.revealed(step.output)) if step.output else {}
    except StepFailed as exc:
        first = it.failure_mark()
        evidence = dict(first.evidence) if first is not None and first is not mark else {}
        if first is not None and first is not mark:
            it.take_first_failure()  # the evidence now belongs to the item, not the run
        kind = "business" if exc.kind == FailureKind.BUSINESS else "application"
        reason = first.reason if first is not None and first is not mark else exc.reason
        failed = queues.fail(
            item, kind=kind, message=reason, evidence=evidence, step_path=exc.step_path
        )
        it.log.warning(
            "item failed", item=item.id, reference=item.reference, kind=kind, reason=reason
        )
        left = queues.left(item.queue)
        it.note(here, ITEM, item.reference, False, f"{failed.status}: {reason} ({left})", started)
        return
    if not isinstance(output, dict):
        output = {"output": output}
    queues.complete(item, output)
    it.note(here, ITEM, item.reference, True, f"done ({queues.left(item.queue)})", started)


def _add_items(it: StepRun, step: Any, path: str) -> None:
    queues = it.session("queue")
    queue = it.text(step.add_items)
    items = it.value(step.items)
    if not isinstance(items, list | tuple):
        raise StepFailed(path, f"add_items needs a list, but {step.items!r} is not one")
    previous = it.vars.get("item", _MISSING)
    created = 0
    try:
        for payload in items:
            it.vars["item"] = payload
            reference = it.text(step.reference).strip()
            if not reference:
                raise StepFailed(path, f"an item without reference: {step.reference!r} is empty")
            data = payload if isinstance(payload, dict) else {"value": payload}
            _, new = queues.add(queue, reference, data, priority=step.priority)
            created += int(new)
    finally:
        if previous is _MISSING:
            it.vars.pop("item", None)
        else:
            it.vars["item"] = previous
    it.log.info("items added", queue=queue, new=created, known=len(items) - created)
    if step.into:
        it.vars[step.into] = created


def _session(env: SessionEnv) -> Connector:
    """The run's work queues, as the engine built them on its store."""
    if env.work_queues is None:
        raise ConnectorError("work queues are reached only inside a run of the orchestrator")
    queues: Connector = env.work_queues
    return queues


CONNECTOR = ConnectorSpec(
    name="queue",
    description="Work queues: work through the items of a queue one at a time, each as its "
    "own unit (done, to a person after a business failure, retried after an application "
    "failure), and add items to a queue (references known already are left alone).",
    steps=(
        StepKind(
            ForEachItemStep,
            _for_each_item,
            binds=("@as", "work_item"),
            sees={"label": ("@as", "work_item"), "output": ("@as", "work_item")},
        ),
        StepKind(AddItemsStep, _add_items, creates=("into",), sees={"reference": ("item",)}),
    ),
    session=_session,
)
