"""A year of runs and cases of six cities, written straight into a store's tables.

For the period report benchmark: ``runs`` runs (1,000,000 by default) in 2025 with about five
cases each, spread the way a shared installation sees them: six tenants of different size,
four to six bots each, runs on working days in office hours, about 93 % of runs succeeding,
about 84 % of cases done at the first attempt, 7 % handed to a person (most of them settled
by hand within days), 6 % retried after an application error (a few failing for good), some
lost robots. Each (tenant, bot) has its queue; a few bots have an SLA of three days.

Only the store's tables are written (no engine, no audit trail): bulk inserts with
``executemany`` on SQLite, then ``COPY`` from that file into PostgreSQL. The generator is
deterministic (fixed seed); :data:`VERSION` names its output in the cache, so a changed
generator makes new files. Example::

    path = cached_sqlite(cache_dir, runs=100_000)      # generates once, then reuses
    copy_to_postgres(path, "postgresql+psycopg://postgres@127.0.0.1:5433/db_1")
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from orchestrator.store import open_store

#: Bump when the generated data changes: cached files of other versions are not used.
VERSION = 1
SEED = 2025
YEAR = 2025
ZONE = ZoneInfo("Europe/Berlin")
#: The report's "now": two weeks after the year, so recent cases still wait.
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
CASES_PER_RUN = 5.35

#: Tenant -> share of all runs.
TENANTS = {
    "giessen": 0.27,
    "marburg": 0.22,
    "fulda": 0.17,
    "offenbach": 0.14,
    "wetzlar": 0.11,
    "limburg": 0.09,
}
#: Bot -> (reference prefix, relative cases per run, SLA in days or None).
BOTS = {
    "gewerbe-uebertragung": ("GA", 1.2, 3),
    "wohngeld-pruefung": ("WG", 1.0, 5),
    "hundesteuer-anmeldung": ("HS", 0.8, None),
    "einbuergerung-datenuebernahme": ("EB", 0.6, None),
    "kfz-abmeldung": ("KA", 1.6, 2),
    "eakte-ablage": ("EA", 1.4, None),
    "posteingang-export": ("PE", 0.0, None),
}
RUN_OUTCOMES = (
    ("succeeded", 0.93),
    ("failed", 0.04),
    ("timed_out", 0.012),
    ("lost", 0.006),
    ("cancelled", 0.012),
)
RUN_ERRORS = (
    "Zeitüberschreitung beim Laden des Civento-Posteingangs",
    "Anmeldung am Gewerberegister fehlgeschlagen: Kennwort abgelaufen",
    "Element 'Speichern' nicht gefunden (Schritt steps[7])",
    "Verbindung zur e-Akte abgebrochen (CMIS: 503)",
    "Robot nicht mehr erreichbar",
)
NEEDS_HUMAN = (
    "Rechtsform unbekannt: bitte im Gewerberegister prüfen",
    "Pflichtangabe fehlt: Geburtsdatum",
    "IBAN ungültig",
    "Anschrift nicht im Melderegister gefunden",
    "Ablehnung durch das Register: Betrieb bereits angemeldet",
)
APPLICATION = (
    "Fachverfahren antwortet nicht (HTTP 503)",
    "Sitzung abgelaufen, erneute Anmeldung gescheitert",
)
NAMES = ("Müller", "Schmidt", "Yılmaz", "Nowak", "Becker", "Hoffmann", "Schäfer", "Koch")


def _ts(instant: float) -> str:
    """An epoch second as the store keeps times on SQLite (naive UTC, microseconds)."""
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class _Bot:
    """One bot of one tenant while its runs are generated."""

    tenant: str
    bot_id: str
    queue_id: int
    prefix: str
    cases_per_run: float
    sla_s: float | None
    robots: tuple[str, ...]
    pending: deque[tuple[int, int, float]] = field(default_factory=deque)  # id, attempt, due
    seq: int = 0


@dataclass
class _Tables:
    """Rows waiting to be written."""

    runs: list[tuple[object, ...]] = field(default_factory=list)
    items: list[list[object]] = field(default_factory=list)
    item_runs: list[tuple[object, ...]] = field(default_factory=list)
    updates: list[tuple[object, ...]] = field(default_factory=list)  # retried items' end


class _Generator:
    def __init__(self, runs: int) -> None:
        self.rng = random.Random(SEED)
        self.total_runs = runs
        self.run_id = 0
        self.item_id = 0
        self.item_run_id = 0
        self.now = NOW.timestamp()

    def bots(self) -> list[tuple[_Bot, int]]:
        """Every (tenant, bot) with its queue id and its number of runs."""
        chosen: list[tuple[_Bot, int]] = []
        queue_id = 0
        for tenant, share in TENANTS.items():
            names = sorted(self.rng.sample(sorted(BOTS), self.rng.randint(4, 6)))
            weights = [self.rng.uniform(0.5, 1.5) for _ in names]
            robots = tuple(f"rpa-{tenant}-{n:02d}" for n in (1, 2, 3))
            for name, weight in zip(names, weights, strict=True):
                queue_id += 1
                prefix, per_run, sla_days = BOTS[name]
                sla = sla_days * 86400.0 if sla_days else None
                bot = _Bot(tenant, name, queue_id, prefix, per_run, sla, robots)
                runs = round(self.total_runs * share * weight / sum(weights))
                chosen.append((bot, runs))
        return chosen

    def start_times(self, count: int) -> list[float]:
        """``count`` run starts on the year's days, mostly working days, 6 to 20 o'clock."""
        days = [date(YEAR, 1, 1) + timedelta(days=n) for n in range(365)]
        weights = [1.0 if day.weekday() < 5 else 0.05 for day in days]
        picked = self.rng.choices(days, weights, k=count)
        starts = []
        for day in picked:
            local = datetime(day.year, day.month, day.day, 6, tzinfo=ZONE)
            starts.append(local.timestamp() + self.rng.uniform(0, 14 * 3600))
        return sorted(starts)

    def generate(self, bot: _Bot, runs: int, out: _Tables) -> None:
        scale = CASES_PER_RUN * bot.cases_per_run / _mean_per_run()
        for started in self.start_times(runs):
            self.run(bot, started, scale, out)

    def run(self, bot: _Bot, started: float, scale: float, out: _Tables) -> None:
        rng = self.rng
        self.run_id += 1
        status = _pick(rng, RUN_OUTCOMES)
        robot = rng.choice(bot.robots)
        month = datetime.fromtimestamp(started, UTC).month
        holder = f"cli:rpa-dev:{rng.randint(100, 999)}" if rng.random() < 0.02 else None
        holder = holder or f"{robot}#{month:08x}"
        new_cases = int(rng.random() * 2 * scale + 0.5) if status != "cancelled" else 0
        retries: list[tuple[int, int, float]] = []
        while bot.pending and bot.pending[0][2] <= started and len(retries) < 20:
            retries.append(bot.pending.popleft())
        at = started + rng.uniform(5, 40)
        for item_id, attempt, _ in retries:
            at = self.attempt(bot, item_id, attempt, at, out)
        for _ in range(new_cases):
            at = self.new_case(bot, started, at, out)
        finished = at + rng.uniform(5, 60)
        error = rng.choice(RUN_ERRORS) if status in ("failed", "timed_out", "lost") else None
        out.runs.append(
            (
                self.run_id,
                bot.tenant,
                bot.bot_id,
                "1.2.0",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                '{"max_cases": 50}',
                "schedule",
                status,
                _ts(started - rng.uniform(0, 30)),
                _ts(started),
                _ts(finished),
                error,
                holder,
                f"schedule:{bot.tenant}/{bot.bot_id}",
            )
        )

    def new_case(self, bot: _Bot, started: float, at: float, out: _Tables) -> float:
        self.item_id += 1
        bot.seq += 1
        created = started - self.rng.uniform(600, 36 * 3600)
        deadline = _ts(created + bot.sla_s) if bot.sla_s else None
        reference = f"{bot.prefix}-{YEAR}-{bot.seq:07d}"
        payload = json.dumps({"name": self.rng.choice(NAMES), "nummer": bot.seq})
        out.items.append(
            [
                self.item_id,
                bot.queue_id,
                bot.tenant,
                reference,
                payload,
                "new",
                0,
                None,
                None,
                deadline,
                _ts(created),
                "system:posteingang",
                _ts(created),
                "system:posteingang",
            ]
        )
        return self.attempt(bot, self.item_id, 1, at, out, row=out.items[-1])

    def attempt(
        self,
        bot: _Bot,
        item_id: int,
        attempt: int,
        at: float,
        out: _Tables,
        row: list[object] | None = None,
    ) -> float:
        """One run's attempt at a case; returns when the run is done with it."""
        rng = self.rng
        end = at + rng.uniform(20, 90)
        roll = rng.random()
        kind: str | None = None
        error: str | None = None
        if roll < 0.84 or (attempt > 1 and roll < 0.95):
            outcome = status = "done"
        elif roll < 0.91:
            outcome, kind, error = "needs_human", "business", rng.choice(NEEDS_HUMAN)
            status = self.settle(end)
        elif roll < 0.997:
            kind, error = "application", rng.choice(APPLICATION)
            outcome = status = "retrying" if attempt < 3 else "failed"
        else:
            outcome, kind, error = "lease_expired", "application", "lease expired"
            status = "retrying"
        updated = end if status in ("done", "retrying", "failed", "needs_human") else None
        if status in ("done_by_hand", "abandoned"):
            updated = end + rng.uniform(3600, 12 * 86400)
            status = "done" if status == "done_by_hand" else "abandoned"
        if status == "retrying":
            bot.pending.append((item_id, attempt + 1, end + 300 * 2 ** (attempt - 1)))
        self.item_run_id += 1
        out.item_runs.append((self.item_run_id, item_id, self.run_id, attempt, outcome, _ts(at)))
        end_values = (status, attempt, kind, error, _ts(updated or end), item_id)
        if row is not None:
            row[5], row[6], row[7], row[8], row[12] = end_values[:5]
        else:
            out.updates.append(end_values)
        return end

    def settle(self, at: float) -> str:
        """What became of a case handed to a person: most are settled within days."""
        if self.now - at < 21 * 86400 and self.rng.random() < 0.6:
            return "needs_human"
        roll = self.rng.random()
        return "done_by_hand" if roll < 0.8 else "abandoned" if roll < 0.95 else "needs_human"


def _mean_per_run() -> float:
    working = [share for _, share, _ in BOTS.values()]
    return sum(working) / len(working)


def _pick(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, share in choices:
        total += share
        if roll < total:
            return value
    return choices[-1][0]


RUN_COLUMNS = (
    "id, tenant, bot_id, bot_version, bot_digest, parameters, trigger, status, created_at, "
    "started_at, finished_at, error, holder, actor"
)
ITEM_COLUMNS = (
    "id, queue_id, tenant, reference, payload, status, attempts, last_error_kind, last_error, "
    "deadline, created_at, created_by, updated_at, updated_by"
)
ITEM_RUN_COLUMNS = "id, item_id, run_id, attempt, outcome, at"
QUEUE_COLUMNS = (
    "id, tenant, name, max_attempts, retry_delay_s, backoff, sla_s, created_at, created_by"
)
ROBOT_COLUMNS = "name, tenants, labels, concurrency, host, pid, started_at, heartbeat_at"
TABLES = {
    "queues": QUEUE_COLUMNS,
    "robots": ROBOT_COLUMNS,
    "runs": RUN_COLUMNS,
    "work_items": ITEM_COLUMNS,
    "work_item_runs": ITEM_RUN_COLUMNS,
}


def generate_sqlite(path: Path, runs: int) -> None:
    """Create the store at ``path`` (migrated) and fill it with a year of ``runs`` runs."""
    open_store(f"sqlite:///{path}").close()
    generator = _Generator(runs)
    connection = sqlite3.connect(path)
    connection.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;"
    )
    created = _ts(datetime(YEAR - 1, 12, 1, tzinfo=UTC).timestamp())
    bots = generator.bots()
    with connection:
        for bot, _ in bots:
            connection.execute(
                f"INSERT INTO queues ({QUEUE_COLUMNS}) VALUES (?, ?, ?, 3, 300, 2, ?, ?, ?)",
                (bot.queue_id, bot.tenant, bot.bot_id, bot.sla_s, created, "system:setup"),
            )
        for tenant in TENANTS:
            for n in (1, 2, 3):
                connection.execute(
                    f"INSERT INTO robots ({ROBOT_COLUMNS}) VALUES (?, ?, '[]', ?, ?, 1, ?, ?)",
                    (f"rpa-{tenant}-{n:02d}", json.dumps([tenant]), 2, "rpa", created, created),
                )
    for bot, count in bots:
        out = _Tables()
        generator.generate(bot, count, out)
        with connection:
            _write(connection, out)
    connection.execute("ANALYZE")
    connection.close()


def _write(connection: sqlite3.Connection, out: _Tables) -> None:
    connection.executemany(
        f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 14)})", out.runs
    )
    connection.executemany(
        f"INSERT INTO work_items ({ITEM_COLUMNS}) VALUES ({', '.join('?' * 14)})", out.items
    )
    connection.executemany(
        f"INSERT INTO work_item_runs ({ITEM_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        out.item_runs,
    )
    connection.executemany(
        "UPDATE work_items SET status = ?, attempts = ?, last_error_kind = ?, last_error = ?, "
        "updated_at = ? WHERE id = ?",
        out.updates,
    )


def cached_sqlite(cache_dir: Path, runs: int) -> Path:
    """The generated store of ``runs`` runs in ``cache_dir``, generated first if missing."""
    path = cache_dir / f"period-report-v{VERSION}-{runs}.sqlite"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate_sqlite(partial, runs)
        partial.rename(path)
    return path


def copy_to_postgres(source: Path, url: str) -> None:
    """Copy the generated tables of the SQLite store ``source`` into the (migrated, empty)
    PostgreSQL store at ``url`` with ``COPY``, then ``VACUUM ANALYZE`` them."""
    open_store(url).close()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    reader = sqlite3.connect(source)
    with psycopg.connect(conninfo, autocommit=True) as target:
        for table, columns in TABLES.items():
            with target.cursor() as cursor:
                statement = f"COPY {table} ({columns}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in _rows_for_postgres(reader, table, columns):
                        copy.write_row(row)
        for table in TABLES:
            target.execute(f"VACUUM ANALYZE {table}")
    reader.close()


def _rows_for_postgres(
    reader: sqlite3.Connection, table: str, columns: str
) -> Iterator[tuple[object, ...]]:
    """Rows as PostgreSQL reads them: SQLite's naive UTC times get their zone."""
    names = [name.strip() for name in columns.split(",")]
    times = [
        n for n, name in enumerate(names) if name.endswith("_at") or name in ("deadline", "at")
    ]
    for row in reader.execute(f"SELECT {columns} FROM {table}"):
        values = list(row)
        for n in times:
            if values[n] is not None:
                values[n] = f"{values[n]}+00"
        yield tuple(values)
