"""Promote a published version by its track record: ``bots catalog promote``.

A version moves one step at a time (:data:`~orchestrator.states.MATURITY_MACHINE`):
``experimental -> pilot -> proven``, and any version to ``deprecated`` with a successor. It
becomes ``proven`` only with evidence from the run history: at least ``min_runs`` successful
runs of its files (matched by digest), in at least ``min_cities`` cities, with a success rate
of at least ``min_success_rate``, over the last ``days`` days (defaults: the catalog's
``promotion:`` section) and no lint errors in its files. The evidence is gathered either way;
a refusal names every number that falls short. Example::

    result = promote(store, catalog_path, "gewerbe-uebertragung", Maturity.PROVEN,
                     actor="user:anna@giessen")
    result.accepted        # False
    result.shortfalls      # ('successful runs: 12 < 20', 'cities: 1 < 2 (giessen)')

An accepted promotion is written into the catalog (comments and order kept) and recorded in
the audit trail.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.catalog.editing import edit_catalog
from orchestrator.catalog.files import materialize, version_files
from orchestrator.catalog.loading import (
    CatalogFile,
    load_catalog,
    shown_path,
    successor_problem,
)
from orchestrator.catalog.model import PromotionDefaults, PublishedVersion
from orchestrator.errors import InputError, InvalidTransition
from orchestrator.lint import lint_bot
from orchestrator.states import MATURITY_MACHINE, Maturity
from orchestrator.store import BotEvidence, RunStore


@dataclass(frozen=True)
class Thresholds:
    """What ``proven`` asks of the run history (see the module docstring)."""

    min_runs: int
    min_cities: int
    min_success_rate: float
    days: int

    @classmethod
    def of(cls, defaults: PromotionDefaults, **overrides: Any) -> Thresholds:
        """The catalog's defaults, with the ``overrides`` that are not None on top."""
        values = defaults.model_dump()
        values.update({key: value for key, value in overrides.items() if value is not None})
        try:
            checked = PromotionDefaults.model_validate(values)  # the bounds of the file's
        except ValidationError as exc:
            wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InputError(f"promotion thresholds: {wrong}") from None
        return cls(**checked.model_dump())


@dataclass(frozen=True)
class Promotion:
    """A requested move of a published version, with its evidence and what falls short."""

    bot_id: str
    version: PublishedVersion
    target: Maturity
    evidence: BotEvidence
    thresholds: Thresholds
    shortfalls: tuple[str, ...]
    lint_errors: tuple[str, ...] = ()
    successor: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the version may move: nothing falls short."""
        return not self.shortfalls

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data (``bots catalog promote --json``)."""
        evidence = self.evidence
        return {
            "bot": self.bot_id,
            "version": self.version.version,
            "digest": self.version.digest,
            "from": self.version.maturity.value,
            "to": self.target.value,
            "successor": self.successor,
            "accepted": self.accepted,
            "shortfalls": list(self.shortfalls),
            "lint_errors": list(self.lint_errors),
            "thresholds": vars(self.thresholds),
            "evidence": {
                "since": evidence.since.isoformat(),
                "until": evidence.until.isoformat(),
                "ended": evidence.ended,
                "succeeded": evidence.succeeded,
                "success_rate": evidence.success_rate,
                "cities": [
                    {
                        "tenant": city.tenant,
                        "ended": city.ended,
                        "succeeded": city.succeeded,
                        "success_rate": city.success_rate,
                    }
                    for city in evidence.cities
                ],
            },
        }


def evidence_shortfalls(evidence: BotEvidence, thresholds: Thresholds) -> list[str]:
    """Each number of ``evidence`` below ``thresholds``, e.g. ``successful runs: 12 < 20``."""
    short = []
    if evidence.succeeded < thresholds.min_runs:
        short.append(f"successful runs: {evidence.succeeded} < {thresholds.min_runs}")
    cities = evidence.cities_with_success
    if len(cities) < thresholds.min_cities:
        named = ", ".join(cities) or "none with a successful run"
        short.append(f"cities: {len(cities)} < {thresholds.min_cities} ({named})")
    rate = evidence.success_rate
    if rate is None:
        short.append(f"success rate: no run ended in the last {thresholds.days} days")
    elif rate < thresholds.min_success_rate:
        short.append(
            f"success rate: {percent(rate)} < {percent(thresholds.min_success_rate)} "
            f"({evidence.succeeded} of {evidence.ended} runs)"
        )
    return short


def percent(share: float) -> str:
    """``0.9512`` -> ``95.1 %``."""
    return f"{share * 100:.1f} %"


def check_promotion(
    store: RunStore,
    catalog: CatalogFile,
    bot_id: str,
    target: Maturity,
    *,
    version: str | None = None,
    successor: str | None = None,
    thresholds: Thresholds | None = None,
    lint_severities: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Promotion:
    """Whether ``bot_id`` (``version``, default its newest) may become ``target``, and why not.

    Raises:
        BotNotFound: the catalog has no such bot or version.
        InvalidTransition: the version cannot move from its maturity to ``target``.
        InputError: a successor is missing (deprecated), not wanted, or names nothing the
            catalog has.
    """
    entry = catalog.entry(bot_id)
    published = catalog.published(bot_id, version) if version else entry.newest()
    _check_move(bot_id, published, target, successor, catalog)
    limits = thresholds or Thresholds.of(catalog.catalog.promotion)
    until = now or datetime.now(UTC)
    evidence = store.catalog_evidence.for_bot(
        bot_id, digest=published.digest, since=until - timedelta(days=limits.days), until=until
    )
    promotion = Promotion(bot_id, published, target, evidence, limits, (), successor=successor)
    if target is not Maturity.PROVEN:
        return promotion
    errors = tuple(lint_errors(catalog, bot_id, published, lint_severities))
    short = evidence_shortfalls(evidence, limits)
    if errors:
        short.append(
            f"lint errors: {len(errors)} (`bots lint {shown_path(catalog.bot_dir(bot_id))}`)"
        )
    return replace(promotion, shortfalls=tuple(short), lint_errors=errors)


def promote(
    store: RunStore,
    catalog_path: Path,
    bot_id: str,
    target: Maturity,
    *,
    actor: str,
    version: str | None = None,
    successor: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    lint_severities: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Promotion:
    """Check the promotion (:func:`check_promotion`); if accepted, write the new maturity (and
    successor) into the catalog and record it in the audit trail as ``actor``.

    ``overrides`` replace the catalog's thresholds (``min_runs``, ``min_cities``,
    ``min_success_rate``, ``days``; None values are ignored).

    Raises:
        ConfigError, DefinitionError: the catalog is missing or invalid.
        BotNotFound, InvalidTransition, InputError: see :func:`check_promotion`.
    """
    catalog = load_catalog(catalog_path)
    limits = Thresholds.of(catalog.catalog.promotion, **dict(overrides or {}))
    result = check_promotion(
        store,
        catalog,
        bot_id,
        target,
        version=version,
        successor=successor,
        thresholds=limits,
        lint_severities=lint_severities,
        now=now,
    )
    if result.accepted:
        _write(store, catalog, result, actor)
    return result


def lint_errors(
    catalog: CatalogFile,
    bot_id: str,
    published: PublishedVersion,
    severities: Mapping[str, str] | None,
) -> list[str]:
    """The lint errors of a published version's files (the working copy's, when they are
    the same; else its bundle's, read into a temporary directory)."""
    copy = catalog.working_copy(bot_id)
    if copy.digest == published.digest:
        findings = lint_bot(copy.directory, severities=severities)
    else:
        files = version_files(catalog, bot_id, published.version)
        with tempfile.TemporaryDirectory(prefix="bots-lint-") as scratch:
            directory = materialize(files, Path(scratch) / bot_id)
            findings = lint_bot(directory, severities=severities)
    return [str(finding) for finding in findings if finding.severity == "error"]


# --------------------------------------------------------------------------- internals


def _check_move(
    bot_id: str,
    published: PublishedVersion,
    target: Maturity,
    successor: str | None,
    catalog: CatalogFile,
) -> None:
    if not MATURITY_MACHINE.allows(published.maturity, target):
        allowed = [s.value for s in Maturity if MATURITY_MACHINE.allows(published.maturity, s)]
        raise InvalidTransition(
            None,
            published.maturity.value,
            target.value,
            entity=f"version {published.version} of {bot_id}",
            allowed=allowed,
        )
    if target is Maturity.DEPRECATED and successor is None:
        raise InputError(
            f"deprecating {bot_id} {published.version} needs --successor: the bot, and its "
            f"version, the cities should use instead (e.g. {bot_id}@2.0.0 or other-bot@1.0.0)"
        )
    if target is not Maturity.DEPRECATED and successor is not None:
        raise InputError("--successor goes with --to deprecated only")
    if successor is not None:
        problem = successor_problem(catalog.catalog, successor, bot_id, published.version)
        if problem:
            raise InputError(problem)


def _write(store: RunStore, catalog: CatalogFile, result: Promotion, actor: str) -> None:
    """The new maturity into the catalog file, recorded in the audit trail first."""
    index = catalog.entry(result.bot_id).versions.index(result.version)

    def change(data: Any) -> None:
        version = data["bots"][result.bot_id]["versions"][index]
        version["maturity"] = result.target.value
        if result.successor is not None:
            version.insert(list(version).index("maturity") + 1, "successor", result.successor)

    edit = edit_catalog(catalog.path, change)
    try:
        action = "catalog version deprecated" if result.successor else "catalog version promoted"
        store.audit(action, tenant=None, actor=actor, data=_audit_data(result))
        edit.commit()
    finally:
        edit.discard()


def _audit_data(result: Promotion) -> dict[str, Any]:
    evidence = result.evidence
    return {
        "bot": result.bot_id,
        "version": result.version.version,
        "digest": result.version.digest,
        "from": result.version.maturity.value,
        "to": result.target.value,
        "successor": result.successor,
        "days": result.thresholds.days,
        "succeeded": evidence.succeeded,
        "ended": evidence.ended,
        "cities": {city.tenant: city.succeeded for city in evidence.cities},
    }
