"""The schema comes from the Alembic migrations, automatically and safely, on every backend."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from orchestrator.errors import EnvironmentProblem
from orchestrator.results import RunStatus
from orchestrator.store import RunRequest, open_store
from orchestrator.store.migrate import alembic_config
from orchestrator.store.tables import Base

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _inspect(database_url: str) -> tuple[set[str], set[str], list[object]]:
    """Tables, schema revisions, and differences between the tables module and the database."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return (
                set(sa.inspect(connection).get_table_names()),
                set(context.get_current_heads()),
                compare_metadata(context, Base.metadata),
            )
    finally:
        engine.dispose()


def test_the_quick_check_knows_the_newest_migration() -> None:
    """A store at ``migrate.HEAD`` opens without Alembic: it must be the migrations' head."""
    from orchestrator.store import migrate

    assert migrate.HEAD == HEAD


def test_opening_a_store_at_head_loads_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bots.sqlite'}"
    open_store(url).close()
    code = (
        "import sys; from orchestrator.store import open_store; "
        f"open_store({url!r}).close(); print(any(m.startswith('alembic') for m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.stdout.strip() == "False", shown.stderr


def test_opening_a_fresh_database_migrates_it_to_head(database_url: str) -> None:
    open_store(database_url).close()

    tables, revisions, differences = _inspect(database_url)

    assert {"runs", "steps", "artifacts", "alembic_version"} <= tables
    assert revisions == {HEAD}
    assert differences == [], "orchestrator/store/*/tables.py and the migrations disagree"


def test_the_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    open_store(database_url).close()

    command.downgrade(alembic_config(database_url), "base")
    assert _inspect(database_url)[0] <= {"alembic_version"}

    with open_store(database_url) as store:
        assert store.list_runs() == []


def test_a_database_from_a_newer_version_is_refused(database_url: str) -> None:
    open_store(database_url).close()
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    with pytest.raises(EnvironmentProblem, match=r"9999.*newer version"):
        open_store(database_url)


OPEN_WHEN_TOLD = """
import sys, time
from pathlib import Path
from orchestrator.store import RunRequest, open_store

url, go = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
request = RunRequest(tenant="t", bot_id="b", bot_version="1", bot_digest="d", parameters={},
                     trigger="cli", actor="user:alice", max_parallel=0)
with open_store(url) as store:
    print(store.start_standalone(request, holder="cli:host:1", lease_s=600, pool_limits={}),
          flush=True)
"""


def test_processes_opening_a_fresh_database_at_once_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, database_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in processes:  # all imported and waiting: now they race
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = [process.communicate(timeout=60) for process in processes]

    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    run_ids = sorted(int(stdout) for stdout, _ in outcomes)
    assert run_ids == [1, 2, 3, 4]
    assert _inspect(database_url)[1] == {HEAD}


# ------------------------------------------------------------------ SQLite specifics


def test_the_sqlite_file_and_its_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "bots.sqlite"
    open_store(f"sqlite:///{path}").close()
    assert path.is_file()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite"
    open_store(f"sqlite:///{path}").close()

    # journal_mode is kept in the file, so any later connection shows it.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "bots.sqlite"
    with open_store(f"sqlite:///{path}") as store:
        request = RunRequest(
            tenant="t",
            bot_id="b",
            bot_version="1",
            bot_digest="d",
            parameters={},
            trigger="cli",
            actor="user:alice",
            max_parallel=0,
        )
        run_id = store.start_standalone(request, holder="cli:host:1", lease_s=600, pool_limits={})
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE runs SET error = 'half-written'")
            # The writer holds its lock until after the read: a reader that waited for it
            # would end in "database is locked", not here with the last committed value.
            assert store.get_run(run_id).error is None
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_a_database_of_0001_with_runs_in_it_is_migrated_keeping_them(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "0001")
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        for status in ("succeeded", "running"):
            connection.execute(
                sa.text(
                    "INSERT INTO runs (tenant, bot_id, bot_version, bot_digest, parameters, "
                    "trigger, status, created_at, started_at) VALUES ('giessen', 'alt', '1', "
                    "'d', '{\"ort\": \"Gießen\"}', 'cli', :status, :at, :at)"
                ),
                {"status": status, "at": datetime(2025, 11, 1, 8, 0, tzinfo=UTC)},
            )
    engine.dispose()

    with open_store(database_url) as store:
        runs = store.list_runs()
        assert [(r.id, r.status, r.parameters) for r in runs] == [
            (2, RunStatus.RUNNING, {"ort": "Gießen"}),
            (1, RunStatus.SUCCEEDED, {"ort": "Gießen"}),
        ]
        assert _inspect(database_url)[1:] == ({HEAD}, [])
        # The run 0001 left running has no lease anyone renews: the first reap settles it.
        assert store.reap_expired() == [(2, RunStatus.LOST)]
        assert store.retry(1, tenant="giessen", actor="user:bob") == 3
        assert store.verify_audit().ok
