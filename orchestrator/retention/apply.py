"""Deleting what has expired: :func:`apply_retention`, the programmatic twin of
``bots retention apply`` and the orchestrator's daily job.

In order:

1. files whose deletion an earlier run recorded but did not finish (killed between the two
   steps, see :mod:`orchestrator.store.retention`) are removed;
2. per period and kind (:mod:`.periods`), the artifacts whose run ended longer ago than the
   tenant keeps them, in batches: each batch is recorded as deleted with its audit entries,
   then its files are removed, then the record says nothing is pending;
3. work-item payloads past their queue's ``retention_days`` are purged
   (``store.queues.purge``: reference, status and history stay).

Only files inside their run's directory are removed (the data directory's ``runs`` when a
run has none recorded): a path elsewhere is reported and left alone, whatever the database
says. Directories emptied on the way are removed up to the run's directory. Example::

    outcome = apply_retention(store, settings, actor="user:anna@giessen", dry_run=True)
    outcome.deletions   # (Deletion(tenant="giessen", kind="screenshot", count=12, ...), ...)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.results import ArtifactKind
from orchestrator.retention.outcome import PAYLOAD, Deletion, RetentionOutcome
from orchestrator.retention.periods import EVIDENCE, retention_rules
from orchestrator.settings import Settings
from orchestrator.store import RunStore
from orchestrator.store.retention import ArtifactFile, RetentionRule


def apply_retention(
    store: RunStore,
    settings: Settings,
    *,
    actor: str,
    tenant: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RetentionOutcome:
    """Delete what has expired at ``now`` (default: now) of ``tenant`` (None: every tenant),
    audited under ``actor``; ``dry_run`` deletes nothing and says what it would delete.

    Raises:
        EnvironmentProblem: the database fails (what was done so far stays done and
            audited; the next run continues).
    """
    at = now or datetime.now(UTC)
    run = _Run(store, settings, actor=actor, tenant=tenant, dry_run=dry_run)
    run.finish_pending()
    for rule in retention_rules(settings):
        for kind in sorted(rule.kinds):
            run.expire(rule, kind, at)
    run.purge_payloads(at)
    return run.outcome(at)


@dataclass
class _Count:
    count: int = 0
    bytes: int | None = 0
    oldest: datetime | None = None
    days: int | None = None


@dataclass
class _Run:
    """One retention run: its tallies per tenant and kind, as it goes."""

    store: RunStore
    settings: Settings
    actor: str
    tenant: str | None
    dry_run: bool
    counts: dict[tuple[str, str], _Count] = field(default_factory=dict)
    finished: int = 0
    left_alone: list[str] = field(default_factory=list)
    evidence_runs: set[int] = field(default_factory=set)

    def finish_pending(self) -> None:
        """Remove the files of deletions recorded earlier but not finished."""
        after = 0
        while batch := self.store.retention.pending(after_id=after):
            after = batch[-1].id
            mine = [file for file in batch if self.tenant in (None, file.tenant)]
            if self.dry_run:
                self.finished += len(mine)
                continue
            removed = self._remove_all(mine)
            self.store.retention.unlinked(removed)
            self.finished += len(removed)

    def expire(self, rule: RetentionRule, kind: ArtifactKind, at: datetime) -> None:
        """Delete (or count) the expired artifacts of ``kind``, one batch at a time."""
        after = 0
        while batch := self.store.retention.expired(
            kind, rule, at, tenant=self.tenant, after_id=after
        ):
            after = batch[-1].id
            inside = [file for file in batch if self._inside(file)]
            if not self.dry_run:
                inside = self.store.retention.mark_deleted(inside, actor=self.actor)
                self.store.retention.unlinked(self._remove_all(inside))
                if rule.period == EVIDENCE:
                    self.evidence_runs.update(file.run_id for file in inside)
            for file in inside:
                self._count(file)

    def purge_payloads(self, at: datetime) -> None:
        """Purge (or count) the work-item payloads past their queue's retention."""
        tenants = [self.tenant] if self.tenant else self.store.retention.queue_tenants()
        for tenant in tenants:
            ids = self.store.queues.purge(tenant, now=at, dry_run=self.dry_run, actor=self.actor)
            if ids:
                self.counts[tenant, PAYLOAD] = _Count(len(ids), None, None, None)

    def outcome(self, at: datetime) -> RetentionOutcome:
        deletions = tuple(
            Deletion(tenant, kind, c.count, c.bytes, c.oldest, c.days)
            for (tenant, kind), c in sorted(self.counts.items())
        )
        return RetentionOutcome(
            self.dry_run,
            at,
            deletions,
            self.finished,
            tuple(self.left_alone),
            tuple(sorted(self.evidence_runs)),
        )

    def _count(self, file: ArtifactFile) -> None:
        count = self.counts.setdefault((file.tenant, file.kind.value), _Count(days=file.days))
        count.count += 1
        count.bytes = (count.bytes or 0) + file.size
        ended = file.run_ended_at
        if ended is not None and (count.oldest is None or ended < count.oldest):
            count.oldest = ended

    def _inside(self, file: ArtifactFile) -> bool:
        """Whether ``file`` lies inside its run's directory; if not, it is reported."""
        if _real(file.path).is_relative_to(self._boundary(file)):
            return True
        self.left_alone.append(
            f"{file.path} (run {file.run_id}): outside the run's directory "
            f"{self._boundary(file)}; not deleted"
        )
        return False

    def _remove_all(self, files: list[ArtifactFile]) -> list[int]:
        """Remove the files; the ids of those gone now (the others are reported)."""
        return [file.id for file in files if self._remove(file)]

    def _remove(self, file: ArtifactFile) -> bool:
        if not self._inside(file):
            return False
        path = _real(file.path)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            self.left_alone.append(f"{file.path} (run {file.run_id}): {exc.strerror}; tried again")
            return False
        _remove_empty_dirs(path.parent, self._boundary(file), own=file.run_dir is not None)
        return True

    def _boundary(self, file: ArtifactFile) -> Path:
        return _real(file.run_dir) if file.run_dir else _real(self.settings.runs_dir)


def _real(path: str | Path) -> Path:
    """``path`` absolute, with symbolic links resolved (so ``..`` and links cannot lead out)."""
    return Path(os.path.realpath(path))


def _remove_empty_dirs(directory: Path, boundary: Path, *, own: bool) -> None:
    """Remove ``directory`` and its parents while empty, up to ``boundary`` (the run's own
    directory, ``own``, included; the common ``runs`` directory not)."""
    while directory.is_relative_to(boundary):
        if directory == boundary and not own:
            return
        try:
            directory.rmdir()
        except OSError:  # not empty (or gone): its parents are not empty either
            return
        if directory == boundary:
            return
        directory = directory.parent
