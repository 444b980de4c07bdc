"""A run's access to the work queues: take an item, finish it, add items.

The engine builds this object on the run's store and hands it to every session factory as
``SessionEnv.work_queues``: the connector whose steps take and add items returns it as its
session. It takes items under the
run's holder with a lease that a thread renews while the item is worked on, so a robot killed
mid-item leaves the item to be taken again once the lease ran out: never done, never lost.
Items that a dead holder left behind are handed back before each take. The failure evidence
of an item (screenshot, page, URL) is kept as run artifacts under ``items/<id>/`` and linked
to the item::

    queues = RunQueues(store, tenant="giessen", holder="robot-1#ab12cd34", run_id=7,
                       lease_s=60, run_dir=run_dir, keep=keeper.keep, actor="robot:robot-1")
    item = queues.take("anmeldungen")          # WorkItemRecord, now in_progress, or None
    queues.complete(item, {"aktenzeichen": "GEW-GI-2026-00012"})

``names`` maps the queue names a bot uses to the tenant's own (a city's overlay of a catalog
bot, see :mod:`orchestrator.catalog.city`); every name a step gives passes :meth:`queue_name`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector
from orchestrator.errors import BotsError, FailureKind, QueueNotFound
from orchestrator.liveness import gone_here
from orchestrator.results import ArtifactKind
from orchestrator.store import RunStore, WorkItemRecord

#: ``keep(path, kind, step_path=..., source=...)``: the run's artifact keeper.
Keep = Callable[..., Any]


class RunQueues(Connector):
    """The work queues as one run sees them (see the module docstring)."""

    name = "work queues"

    def __init__(
        self,
        store: RunStore,
        *,
        tenant: str,
        holder: str,
        run_id: int,
        lease_s: float,
        run_dir: Path,
        keep: Keep,
        actor: str,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self._store, self._tenant, self._holder = store, tenant, holder
        self._names = dict(names or {})
        self._run_id, self._lease_s, self._run_dir = run_id, lease_s, run_dir
        self._keep, self._actor = keep, actor
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.counts: dict[str, int] = {}

    # ----------------------------------------------------------------- the session's life

    def open(self) -> None:
        """Nothing to open: the store is the run's."""

    def close(self) -> None:
        """Stop renewing leases; items still held are taken again after their lease."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None

    def capture_evidence(self, directory: Path, stem: str) -> dict[str, Path]:
        return {}

    def fork(self) -> RunQueues:
        """The same access for every parallel worker: it is safe across threads."""
        return self

    # ----------------------------------------------------------------- items

    def queue_name(self, queue: str) -> str:
        """The tenant's name of the queue the bot calls ``queue`` (mostly the same)."""
        return self._names.get(queue, queue)

    def take(self, queue: str) -> WorkItemRecord | None:
        """The next due item of ``queue`` (now ``in_progress`` under this run), or None."""
        queue = self.queue_name(queue)
        self._hand_back_from_the_dead(queue)
        item = self._store.queues.claim_item(
            self._tenant, queue, holder=self._holder, lease_s=self._lease_s, run_id=self._run_id
        )
        if item is not None:
            with self._lock:
                self._held.add(item.id)
            self._start_renewing()
        return item

    def left(self, queue: str) -> str:
        """How many items of ``queue`` wait, as ``"12 left"`` (for progress displays)."""
        queue = self.queue_name(queue)
        try:
            counts = self._store.queues.get_queue(self._tenant, queue).counts
        except BotsError:
            return "? left"
        return f"{counts.get('new', 0) + counts.get('retrying', 0)} left"

    def complete(self, item: WorkItemRecord, output: Mapping[str, Any]) -> WorkItemRecord:
        """The item is done, with ``output`` stored (and routed on, if the queue says so)."""
        try:
            done = self._store.queues.complete_item(
                item.id, holder=self._holder, output=dict(output), run_id=self._run_id
            )
        except BaseException:
            self._release(item, "error")
            raise
        self._release(item, str(done.status))
        return done

    def fail(
        self,
        item: WorkItemRecord,
        *,
        kind: str,
        message: str,
        evidence: Mapping[Path, ArtifactKind] | None = None,
        step_path: str | None = None,
    ) -> WorkItemRecord:
        """The item failed: ``business`` goes to a person, ``application`` is retried per the
        queue's policy; the evidence files are kept under ``items/<id>/`` and linked."""
        kept = self._keep_evidence(item, evidence or {}, step_path)
        try:
            failed = self._store.queues.fail_item(
                item.id,
                holder=self._holder,
                kind=FailureKind(kind),
                message=message,
                evidence=kept,
                run_id=self._run_id,
            )
        except BaseException:
            self._release(item, "error")
            raise
        self._release(item, str(failed.status))
        return failed

    def add(
        self, queue: str, reference: str, payload: Mapping[str, Any], *, priority: int = 0
    ) -> tuple[WorkItemRecord, bool]:
        """Add an item (a queue not declared yet is created with the default policy); an
        item with that reference already known is left as it is: ``(item, created)``."""
        queue = self.queue_name(queue)
        try:
            added = self._add(queue, reference, payload, priority)
        except QueueNotFound:
            try:
                self._store.queues.create_queue(self._tenant, queue, actor=self._actor)
            except BotsError:  # another run created it meanwhile
                pass
            added = self._add(queue, reference, payload, priority)
        return added.item, added.created

    def _add(self, queue: str, reference: str, payload: Mapping[str, Any], priority: int) -> Any:
        return self._store.queues.add_item(
            self._tenant, queue, reference, dict(payload), priority=priority, actor=self._actor
        )

    # ----------------------------------------------------------------- plumbing

    def _hand_back_from_the_dead(self, queue: str) -> None:
        """Items whose holder is gone go back to the queue before the next is taken: those
        whose lease ran out, and at once those of a process this host knows is dead (a
        killed `bots run`, a robot instance replaced by a restart under its name)."""
        self._store.queues.reap_items()
        dead = [
            holder
            for holder, since in self._store.queues.holders(self._tenant, queue).items()
            if holder != self._holder and self._gone(holder, since)
        ]
        if dead:
            self._store.queues.reap_items(holders=dead)

    def _gone(self, holder: str, since: datetime) -> bool:
        """Whether ``holder`` (``cli:HOST:PID`` or a robot instance ``NAME#HEX``) is known
        gone now; otherwise only its lease tells."""
        if holder.startswith("cli:"):
            host, _, pid = holder.removeprefix("cli:").rpartition(":")
            return pid.isdigit() and gone_here(host, int(pid), since)
        name, hash_sign, _ = holder.partition("#")
        if not hash_sign:
            return False
        robot = self._store.robot(name)
        if robot is None:
            return False
        if robot.instance != holder or robot.stopped_at is not None:
            return True  # replaced by a restart under its name, or stopped
        return gone_here(robot.host, robot.pid, robot.started_at)

    def _keep_evidence(
        self, item: WorkItemRecord, evidence: Mapping[Path, ArtifactKind], step_path: str | None
    ) -> list[str]:
        kept: list[str] = []
        target_dir = self._run_dir / "items" / str(item.id)
        for path, kind in evidence.items():
            if not path.is_file():
                continue
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / path.name
            shutil.move(str(path), target)
            try:
                self._keep(target, kind, step_path=step_path)
            except OSError:
                continue
            kept.append(str(target))
        return kept

    def _release(self, item: WorkItemRecord, outcome: str) -> None:
        with self._lock:
            self._held.discard(item.id)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def _start_renewing(self) -> None:
        if self._renewer is None:
            self._renewer = threading.Thread(
                target=self._renew, name=f"run-{self._run_id}-items", daemon=True
            )
            self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            with self._lock:
                if not self._held:
                    continue
            try:
                self._store.queues.renew_items(self._holder, self._lease_s)
            except BotsError:  # the database is away for a moment: try again next time
                continue
