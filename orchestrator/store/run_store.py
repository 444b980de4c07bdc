"""The run history: :class:`RunStore` writes and reads runs, their steps and artifacts.

Every write is its own short transaction, committed before the method returns: if the process
dies mid-run, everything recorded so far stays readable and the run stays ``running`` (for an
orchestrator to notice later). Example::

    store = open_store("sqlite:///data/bots.sqlite")
    run_id = store.start_run(tenant="giessen", bot_id="gewerbe-abgleich", bot_version="1.2.0",
                             bot_digest="9f86d0...", parameters={"datum": "2025-01-31"},
                             trigger="cli")
    store.record_step(run_id, StepRecord("steps[0]", "open", None, StepStatus.OK, now, 812))
    store.finish_run(run_id, RunStatus.SUCCEEDED)
    store.get_run(run_id).steps[0].path  # "steps[0]"
    store.close()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, exists, func, insert, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from orchestrator.errors import RunNotFound
from orchestrator.results import (
    ArtifactKind,
    ArtifactRecord,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from orchestrator.store.database import create_store_engine, database_errors, parse_url
from orchestrator.store.migrate import upgrade_to_head
from orchestrator.store.tables import ArtifactRow, RunRow, StepRow, utc_now

TERMINAL = frozenset(
    {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.CANCELLED,
        RunStatus.LOST,
    }
)


def open_store(database_url: str) -> RunStore:
    """Open the run history at ``database_url``, creating and migrating it as needed.

    For SQLite the file's directory is created. The schema is brought to the newest revision;
    several processes may do this at once.

    Raises:
        ConfigError: the URL is malformed or names an unsupported database.
        EnvironmentProblem: the database cannot be created, reached or migrated.
    """
    url = parse_url(database_url)
    engine = create_store_engine(url)
    try:
        upgrade_to_head(url, engine)
    except BaseException:
        engine.dispose()
        raise
    return RunStore(engine, url)


class RunStore:
    """Runs, steps and artifacts in one SQL database (see :func:`open_store`).

    Methods raise :class:`~orchestrator.errors.RunNotFound` for an unknown run id and
    :class:`~orchestrator.errors.EnvironmentProblem` when the database fails.
    """

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writing

    def start_run(
        self,
        *,
        tenant: str,
        bot_id: str,
        bot_version: str,
        bot_digest: str,
        parameters: dict[str, Any],
        trigger: str,
        run_dir: str | None = None,
    ) -> int:
        """Record a run that starts now (status ``running``) and return its id.

        ``parameters`` must already be redacted: the store keeps what it is given.
        """
        now = utc_now()
        row = RunRow(
            tenant=tenant,
            bot_id=bot_id,
            bot_version=bot_version,
            bot_digest=bot_digest,
            parameters=dict(parameters),
            trigger=trigger,
            status=RunStatus.RUNNING.value,
            created_at=now,
            started_at=now,
            run_dir=run_dir,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            return row.id

    def set_run_dir(self, run_id: int, run_dir: str) -> None:
        """Record where the run keeps its files (known only once the id is)."""
        self._update_run(run_id, run_dir=run_dir)

    def record_step(self, run_id: int, step: StepRecord) -> None:
        """Append an executed step to the run; steps are numbered in the order recorded."""
        next_seq = (
            select(func.coalesce(func.max(StepRow.seq), 0) + 1)
            .where(StepRow.run_id == run_id)
            .scalar_subquery()
        )
        statement = insert(StepRow).values(
            run_id=run_id,
            seq=next_seq,
            path=step.path,
            kind=step.kind,
            name=step.name,
            status=StepStatus(step.status).value,
            started_at=_aware(step.started_at, "StepRecord.started_at"),
            duration_ms=step.duration_ms,
            message=step.message,
        )
        self._insert_for_run(run_id, statement)

    def record_artifact(self, run_id: int, artifact: ArtifactRecord) -> None:
        """Record a file kept for the run; ``path`` is stored exactly as given."""
        statement = insert(ArtifactRow).values(
            run_id=run_id,
            step_path=artifact.step_path,
            kind=ArtifactKind(artifact.kind).value,
            path=artifact.path,
            sha256=artifact.sha256,
            size=artifact.size,
            created_at=utc_now(),
        )
        self._insert_for_run(run_id, statement)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        error: str | None = None,
        error_step: str | None = None,
    ) -> None:
        """Record the run's outcome, finished now.

        Raises:
            ValueError: ``status`` is not a terminal one (queued or running).
        """
        status = RunStatus(status)
        if status not in TERMINAL:
            raise ValueError(f"finish_run needs a terminal status, not {status.value!r}")
        self._update_run(
            run_id,
            status=status.value,
            finished_at=utc_now(),
            error=error,
            error_step=error_step,
        )

    # ----------------------------------------------------------------- reading

    def list_runs(
        self, *, bot_id: str | None = None, tenant: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first, optionally of one bot and/or tenant.

        The records carry no steps or artifacts; :meth:`get_run` has them.
        """
        query = select(RunRow).order_by(RunRow.id.desc()).limit(max(limit, 0))
        if bot_id is not None:
            query = query.where(RunRow.bot_id == bot_id)
        if tenant is not None:
            query = query.where(RunRow.tenant == tenant)
        with self._errors(), Session(self._engine) as session:
            return [_run_record(row) for row in session.scalars(query)]

    def get_run(self, run_id: int, *, tenant: str | None = None) -> RunRecord:
        """One run with its steps (in order) and artifacts.

        With ``tenant``, a run of another tenant counts as not found.

        Raises:
            RunNotFound: there is no such run (for this tenant).
        """
        query = (
            select(RunRow)
            .where(RunRow.id == run_id)
            .options(selectinload(RunRow.steps), selectinload(RunRow.artifacts))
        )
        if tenant is not None:
            query = query.where(RunRow.tenant == tenant)
        with self._errors(), Session(self._engine) as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                raise _not_found(run_id, tenant)
            return _run_record(row, with_details=True)

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            EnvironmentProblem: it does not.
        """
        with self._errors(), self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close all connections. The store must not be used afterwards."""
        self._engine.dispose()

    # ----------------------------------------------------------------- helpers

    @contextmanager
    def _errors(self) -> Iterator[None]:
        with database_errors(self._url):
            yield

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One short transaction, committed on leaving."""
        with self._errors(), Session(self._engine) as session, session.begin():
            yield session

    def _update_run(self, run_id: int, **values: Any) -> None:
        statement = update(RunRow).where(RunRow.id == run_id).values(**values)
        with self._write() as session:
            result = session.execute(statement)
            if getattr(result, "rowcount", 1) == 0:
                raise _not_found(run_id)

    def _insert_for_run(self, run_id: int, statement: Any) -> None:
        try:
            with self._write() as session:
                session.execute(statement)
        except IntegrityError:
            # The foreign key refused it, unless something else did: tell which.
            with self._errors(), Session(self._engine) as session:
                if not session.scalar(select(exists().where(RunRow.id == run_id))):
                    raise _not_found(run_id) from None
            raise


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _not_found(run_id: int, tenant: str | None = None) -> RunNotFound:
    scope = f" of tenant {tenant!r}" if tenant is not None else ""
    return RunNotFound(f"there is no run with id {run_id}{scope}.")


def _run_record(row: RunRow, *, with_details: bool = False) -> RunRecord:
    steps: list[StepRecord] = []
    artifacts: list[ArtifactRecord] = []
    if with_details:
        steps = [
            StepRecord(
                path=s.path,
                kind=s.kind,
                name=s.name,
                status=StepStatus(s.status),
                started_at=s.started_at,
                duration_ms=s.duration_ms,
                message=s.message,
            )
            for s in row.steps
        ]
        artifacts = [
            ArtifactRecord(
                kind=ArtifactKind(a.kind),
                path=a.path,
                sha256=a.sha256,
                size=a.size,
                step_path=a.step_path,
            )
            for a in row.artifacts
        ]
    return RunRecord(
        id=row.id,
        bot=row.bot_id,
        version=row.bot_version,
        digest=row.bot_digest,
        tenant=row.tenant,
        trigger=row.trigger,
        status=RunStatus(row.status),
        parameters=dict(row.parameters),
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        error_step=row.error_step,
        run_dir=row.run_dir,
        steps=steps,
        artifacts=artifacts,
    )
