"""The track record of a catalog bot, per city: ``store.catalog_evidence``.

``bots catalog promote BOT --to proven`` asks the run history whether a version has earned
trust: how many of its runs ended, how many succeeded, in which cities (tenants). Runs count
when they *started* in ``[since, until)`` and ended on their own (cancelled ones are left
out: a person stopped them), as in the period reports. A version is matched by the digest of
its files, which every run records: runs of a changed working copy under the same version
number do not count. Example::

    evidence = store.catalog_evidence.for_bot(
        "gewerbe-uebertragung", digest="3f0c...", since=now - timedelta(days=90)
    )
    evidence.succeeded, evidence.success_rate, evidence.cities_with_success
    [(city.tenant, city.succeeded, city.ended) for city in evidence.cities]

Read-only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from orchestrator.states import RunStatus
from orchestrator.store.reporting.records import ENDED, success_rate
from orchestrator.store.runs.tables import RUNS
from orchestrator.store.tables import aware, utc_now
from orchestrator.store.transactions import Transactions


@dataclass(frozen=True)
class CityRuns:
    """One city's (tenant's) runs of the bot in the period, by outcome."""

    tenant: str
    outcomes: dict[str, int]

    @property
    def ended(self) -> int:
        """Runs that ended on their own: succeeded, failed, timed out or lost."""
        return sum(self.outcomes.get(status.value, 0) for status in ENDED)

    @property
    def succeeded(self) -> int:
        """Runs that succeeded."""
        return self.outcomes.get(RunStatus.SUCCEEDED.value, 0)

    @property
    def success_rate(self) -> float | None:
        """Succeeded / ended; None without ended runs."""
        return success_rate(self.outcomes)


@dataclass(frozen=True)
class BotEvidence:
    """A bot's runs in ``[since, until)``, per city; ``digest`` None: every version's runs."""

    bot_id: str
    digest: str | None
    since: datetime
    until: datetime
    cities: tuple[CityRuns, ...]

    @property
    def ended(self) -> int:
        """Runs that ended on their own, in every city."""
        return sum(city.ended for city in self.cities)

    @property
    def succeeded(self) -> int:
        """Successful runs, in every city."""
        return sum(city.succeeded for city in self.cities)

    @property
    def success_rate(self) -> float | None:
        """Succeeded / ended over every city; None without ended runs."""
        return self.succeeded / self.ended if self.ended else None

    @property
    def cities_with_success(self) -> list[str]:
        """The tenants with at least one successful run, sorted."""
        return [city.tenant for city in self.cities if city.succeeded]


class CatalogEvidenceReads:
    """The run history as evidence for the catalog (see the module docstring)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def for_bot(
        self,
        bot_id: str,
        *,
        since: datetime,
        until: datetime | None = None,
        digest: str | None = None,
    ) -> BotEvidence:
        """The runs of ``bot_id`` (of the files with ``digest``) that started in
        ``[since, until)`` and ended on their own, counted per tenant and outcome.

        Example: ``store.catalog_evidence.for_bot("x", since=now - timedelta(days=90))``.
        """
        since = aware(since, "since")
        until = aware(until, "until") if until is not None else utc_now()
        conditions = [
            RUNS.c.bot_id == bot_id,
            RUNS.c.started_at >= since,
            RUNS.c.started_at < until,
            RUNS.c.status.in_([status.value for status in ENDED]),
        ]
        if digest is not None:
            conditions.append(RUNS.c.bot_digest == digest)
        query = (
            select(RUNS.c.tenant, RUNS.c.status, func.count().label("runs"))
            .where(*conditions)
            .group_by(RUNS.c.tenant, RUNS.c.status)
        )
        counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        with self._tx.query() as connection:
            for row in connection.execute(query):
                counts[row.tenant][row.status] += row.runs
        cities = tuple(CityRuns(tenant, dict(counts[tenant])) for tenant in sorted(counts))
        return BotEvidence(bot_id, digest, since, until, cities)
