"""Everything a run report shows, gathered from the store, the bot's definition and the run
directory: plain records, in no language yet (the templates put them into words).

Example::

    facts = gather_run_facts(store, settings, 17)
    facts.counts.needs_human, [case.reference for case in facts.cases]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath

from orchestrator.errors import BotsError
from orchestrator.model.bot import BotDefinition
from orchestrator.model.loader import resolve_bot
from orchestrator.results import ArtifactKind, ArtifactRecord, RunRecord, StepRecord
from orchestrator.settings import Settings
from orchestrator.store import QueueRecord, RunCase, RunStore, WorkItemRecord

#: Keys of an item's output that hold its reference in the target system, in this order.
TARGET_REFERENCE_KEYS = (
    "aktenzeichen",
    "geschaeftszeichen",
    "kassenzeichen",
    "eintrag",
    "referenz",
    "reference",
)
#: The most steps a report lists; the rest is counted.
MAX_STEPS = 500
#: The most screenshots a report embeds; the rest is listed by name.
MAX_SCREENSHOTS = 20
#: Statuses in which a person must act on a case.
PERSON_MUST_ACT = ("needs_human", "failed", "awaiting_approval")
#: Statuses after which a case's data waits only for its queue's retention.
ENDED = ("done", "failed", "abandoned")
#: How each case status looks: ok (done), warn (a person must act), bad (failed), info.
TONES = {
    "done": "ok",
    "needs_human": "warn",
    "awaiting_approval": "warn",
    "failed": "bad",
    "retrying": "info",
}


@dataclass(frozen=True)
class BotFacts:
    """What the bot's definition adds: name, Fachamt, data categories, minutes per case.

    ``current`` is False when the definition found now is not the one the run used (its
    digest differs); None fields: the bot is not found any more.
    """

    name: str | None = None
    city: str | None = None
    fachamt: str | None = None
    data_categories: tuple[str, ...] = ()
    manual_minutes_per_case: float | None = None
    current: bool = True


@dataclass(frozen=True)
class Trigger:
    """Why the run started: ``kind`` is ``schedule`` (``who`` names it), ``person`` (``who``
    is the user), ``retry`` (``retry_of``), or the trigger as stored."""

    kind: str
    who: str | None = None
    retry_of: int | None = None


@dataclass(frozen=True)
class CaseCounts:
    """The run's cases counted: ``received`` the items it added to a queue, ``done`` to
    ``skipped`` by the status the run left each case in (``skipped``: being retried, or left
    unfinished), ``awaiting_approval`` the approvals pending in the queues it touched."""

    received: int = 0
    done: int = 0
    needs_human: int = 0
    failed: int = 0
    skipped: int = 0
    awaiting_approval: int = 0

    @property
    def worked(self) -> int:
        """Cases the run took."""
        return self.done + self.needs_human + self.failed + self.skipped + self.awaiting_approval


@dataclass(frozen=True)
class CaseLine:
    """One case of the run: pseudonymous reference, status, target reference, reason."""

    item_id: int
    reference: str
    queue: str
    status: str
    target_reference: tuple[str, str] | None
    reason: str | None
    screenshots: tuple[str, ...] = ()

    @property
    def tone(self) -> str:
        return TONES.get(self.status, "neutral")

    @property
    def person_must_act(self) -> bool:
        return self.status in PERSON_MUST_ACT


@dataclass(frozen=True)
class Screenshot:
    """A failure screenshot: ``anchor`` its id in the page, ``path`` the file (None once
    deleted), ``reference`` the case it belongs to, if any."""

    anchor: str
    name: str
    step_path: str | None
    path: Path | None
    reference: str | None = None


@dataclass(frozen=True)
class Deletion:
    """When a kind of data goes: ``on`` a date, or ``days`` after each case ended."""

    kind: str
    on: datetime | None = None
    days: int | None = None
    queue: str | None = None


@dataclass(frozen=True)
class RunFacts:
    """Everything one run report shows (see the module docstring)."""

    run: RunRecord
    bot: BotFacts
    trigger: Trigger
    robot: str | None
    counts: CaseCounts
    cases: tuple[CaseLine, ...]
    approvals: tuple[WorkItemRecord, ...]
    steps: tuple[StepRecord, ...]
    steps_left_out: int
    screenshots: tuple[Screenshot, ...]
    screenshots_left_out: int
    traces: tuple[Path, ...]
    deletions: tuple[Deletion, ...]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def duration_s(self) -> float | None:
        if self.run.started_at is None or self.run.finished_at is None:
            return None
        return (self.run.finished_at - self.run.started_at).total_seconds()

    @property
    def minutes_saved(self) -> float | None:
        """Cases done x the bot's manual minutes per case (None: the bot states none)."""
        per_case = self.bot.manual_minutes_per_case
        return None if per_case is None else self.counts.done * per_case

    @property
    def cases_for_a_person(self) -> tuple[CaseLine, ...]:
        return tuple(case for case in self.cases if case.person_must_act)


def gather_run_facts(
    store: RunStore, settings: Settings, run_id: int, *, tenant: str | None = None
) -> RunFacts:
    """Read run ``run_id`` (of ``tenant``, where given) and all that its report shows.

    Raises:
        RunNotFound: there is no such run (for ``tenant``).
    """
    run = store.get_run(run_id, tenant=tenant)
    reads = store.run_reports
    taken = reads.cases(run_id)
    shots = _screenshots(run.artifacts, {case.item.id: case.item.reference for case in taken})
    cases = tuple(_case_line(case, shots) for case in taken)
    received = _received(store, run)
    worked = {case.item.queue_id for case in taken}
    touched = worked | set(received) | reads.next_queues(worked | set(received))
    approvals = tuple(reads.awaiting_approval(touched))
    steps = tuple(run.steps[:MAX_STEPS])
    return RunFacts(
        run=run,
        bot=_bot_facts(run, settings),
        trigger=_trigger(run, reads.actor(run_id)),
        robot=_robot(run.holder),
        counts=_counts(cases, sum(received.values()), len(approvals)),
        cases=cases,
        approvals=approvals,
        steps=steps,
        steps_left_out=len(run.steps) - len(steps),
        screenshots=tuple(shots[:MAX_SCREENSHOTS]),
        screenshots_left_out=max(0, len(shots) - MAX_SCREENSHOTS),
        traces=tuple(Path(a.path) for a in run.artifacts if a.kind == ArtifactKind.TRACE),
        deletions=_deletions(run, settings, reads.queues(worked), taken),
    )


def _bot_facts(run: RunRecord, settings: Settings) -> BotFacts:
    return _bot_facts_of(run.bot, run.digest, tuple(settings.bot_dirs))


@functools.lru_cache(maxsize=64)
def _bot_facts_of(bot_id: str, digest: str, bot_dirs: tuple[Path, ...]) -> BotFacts:
    """Loaded once per bot version and process: a robot writes a report after every run."""
    try:
        loaded = resolve_bot(bot_id, list(bot_dirs))
    except BotsError:  # removed or broken since: the report shows what the run recorded
        return BotFacts(current=False)
    definition: BotDefinition = loaded.definition
    return BotFacts(
        name=definition.name,
        city=definition.owner.city,
        fachamt=definition.owner.fachamt,
        data_categories=tuple(definition.data_categories),
        manual_minutes_per_case=definition.manual_minutes_per_case,
        current=loaded.digest == digest,
    )


def _trigger(run: RunRecord, actor: str | None) -> Trigger:
    """``schedule:giessen/morgens`` -> schedule ``morgens``; ``user:anna@rathaus`` -> the
    person ``anna@rathaus``; a retry names the run it retries."""
    if run.trigger == "retry" or (run.retry_of is not None and run.trigger != "schedule"):
        return Trigger("retry", retry_of=run.retry_of)
    kind, _, who = (actor or "").partition(":")
    if run.trigger == "schedule" or kind == "schedule":
        return Trigger("schedule", who=who.rpartition("/")[2] or None)
    if kind == "user":
        return Trigger("person", who=who)
    return Trigger(run.trigger, who=actor)


def _robot(holder: str | None) -> str | None:
    """The robot's name from the holder: ``robot-1#5be0`` -> ``robot-1``; ``cli:host:4711``
    (a run started on the command line) -> ``host``."""
    if not holder:
        return None
    if holder.startswith("cli:"):
        return holder.removeprefix("cli:").rpartition(":")[0] or holder
    return holder.partition("#")[0]


def _received(store: RunStore, run: RunRecord) -> dict[int, int]:
    """The items the run added, per queue id (its bot adds them as ``bot:<id>``)."""
    if run.started_at is None:
        return {}
    until = run.finished_at or datetime.now(UTC)
    return store.run_reports.added(run.tenant, f"bot:{run.bot}", run.started_at, until)


def _counts(cases: Sequence[CaseLine], received: int, awaiting_approval: int) -> CaseCounts:
    by_status: dict[str, int] = {}
    for case in cases:
        by_status[case.status] = by_status.get(case.status, 0) + 1
    named = ("done", "needs_human", "failed")
    return CaseCounts(
        received=received,
        done=by_status.get("done", 0),
        needs_human=by_status.get("needs_human", 0),
        failed=by_status.get("failed", 0),
        skipped=sum(n for status, n in by_status.items() if status not in named),
        awaiting_approval=awaiting_approval,
    )


def _case_line(case: RunCase, shots: Sequence[Screenshot]) -> CaseLine:
    item = case.item
    status = case.outcome or "retrying"  # left unfinished (lease lost): it is taken again
    reason = item.last_error if status in ("needs_human", "failed", "retrying") else None
    anchors = tuple(shot.anchor for shot in shots if shot.reference == item.reference)
    return CaseLine(
        item_id=item.id,
        reference=item.reference,
        queue=item.queue,
        status=status,
        target_reference=target_reference(item.output),
        reason=reason,
        screenshots=anchors,
    )


def target_reference(output: dict[str, object] | None) -> tuple[str, str] | None:
    """The case's reference in the target system from the item's output, as (key, value).

    Example: ``{"aktenzeichen": "GEW-GI-2026-00012"}`` -> ``("aktenzeichen", "GEW-GI-...")``.
    """
    if not output:
        return None
    lowered = {str(key).lower(): (str(key), value) for key, value in output.items()}
    for key in TARGET_REFERENCE_KEYS:
        if key in lowered:
            name, value = lowered[key]
            if value not in (None, "", False):
                return name, str(value)
    return None


def _screenshots(
    artifacts: Sequence[ArtifactRecord], references: dict[int, str]
) -> list[Screenshot]:
    """The run's screenshots in the order kept; those under ``items/<id>/`` name their case."""
    shots = []
    for number, artifact in enumerate(
        (a for a in artifacts if a.kind == ArtifactKind.SCREENSHOT), start=1
    ):
        path = Path(artifact.path)
        shots.append(
            Screenshot(
                anchor=f"bild-{number}",
                name=path.name,
                step_path=artifact.step_path,
                path=path if path.is_file() else None,
                reference=references.get(_item_id(path) or -1),
            )
        )
    return shots


def _item_id(path: PurePath) -> int | None:
    parts = path.parts
    if len(parts) >= 3 and parts[-3] == "items" and parts[-2].isdigit():
        return int(parts[-2])
    return None


def _deletions(
    run: RunRecord, settings: Settings, queues: Sequence[QueueRecord], cases: Sequence[RunCase]
) -> tuple[Deletion, ...]:
    """When the run's evidence, its report and its cases' data are deleted."""
    retention = settings.retention_for(run.tenant)
    ended = run.finished_at
    deletions = [
        Deletion("evidence", on=_after(ended, retention.evidence_days)),
        Deletion("report", on=_after(ended, retention.reports_days)),
    ]
    for queue in queues:
        finished = [
            case.item.updated_at
            for case in cases
            if case.item.queue_id == queue.id and case.item.status in ENDED
        ]
        all_finished = len(finished) == sum(1 for case in cases if case.item.queue_id == queue.id)
        on = _after(max(finished), queue.retention_days) if finished and all_finished else None
        deletions.append(Deletion("payloads", on=on, days=queue.retention_days, queue=queue.name))
    return tuple(deletions)


def _after(moment: datetime | None, days: int) -> datetime | None:
    return None if moment is None else moment + timedelta(days=days)
