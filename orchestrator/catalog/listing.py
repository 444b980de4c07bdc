"""The catalog as text and JSON: ``bots catalog list|show|promote`` print these, the web
console can reuse them. Example::

    for line in catalog_lines(catalog): print(line)
    # BOT                   NEWEST  MATURITY  CITIES
    # gewerbe-uebertragung  1.2.0   pilot     giessen 1.2.0, marburg 1.2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.catalog.loading import CatalogFile, WorkingCopy
from orchestrator.catalog.promotion import Promotion, percent
from orchestrator.errors import DefinitionError


def table(rows: Sequence[Sequence[str]], *, indent: str = "") -> list[str]:
    """Rows as aligned columns (the first row is the heading); trailing blanks dropped."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        (
            indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _cities(catalog: CatalogFile, bot_id: str) -> dict[str, str]:
    entry = catalog.entry(bot_id)
    return {tenant: item.version for tenant, item in entry.installations.items()}


def catalog_as_json(catalog: CatalogFile) -> list[dict[str, Any]]:
    """Every bot with its newest version, that version's maturity and who runs which version."""
    return [
        {
            "bot": bot_id,
            "newest": entry.newest().version,
            "maturity": entry.newest().maturity.value,
            "cities": _cities(catalog, bot_id),
        }
        for bot_id, entry in catalog.catalog.bots.items()
    ]


def catalog_lines(catalog: CatalogFile) -> list[str]:
    """:func:`catalog_as_json` as a table."""
    bots = catalog_as_json(catalog)
    if not bots:
        return [f"the catalog {catalog.path} lists no bots"]
    rows = [["BOT", "NEWEST", "MATURITY", "CITIES"]]
    for bot in bots:
        cities = ", ".join(f"{tenant} {version}" for tenant, version in bot["cities"].items())
        rows.append([bot["bot"], bot["newest"], bot["maturity"], cities or "-"])
    return table(rows)


def _working_copy(catalog: CatalogFile, bot_id: str) -> WorkingCopy | None:
    try:
        return catalog.working_copy(bot_id)
    except (DefinitionError, OSError):
        return None


def bot_as_json(catalog: CatalogFile, bot_id: str) -> dict[str, Any]:
    """A catalog bot as written, with its id and what its working copy is now."""
    entry = catalog.entry(bot_id)
    copy = _working_copy(catalog, bot_id)
    published = copy is not None and any(v.digest == copy.digest for v in entry.versions)
    working = (
        {"version": copy.version, "digest": copy.digest, "published": published}
        if copy is not None
        else None
    )
    return {"bot": bot_id, **entry.model_dump(mode="json"), "working_copy": working}


def bot_lines(catalog: CatalogFile, bot_id: str) -> list[str]:
    """:func:`bot_as_json` for a reader: versions and installations as tables."""
    data = bot_as_json(catalog, bot_id)
    lines = [f"{bot_id} ({data['path']})"]
    copy = data["working_copy"]
    if copy is None:
        lines.append("working copy: cannot be read (`bots validate` says why)")
    else:
        state = "published" if copy["published"] else "not published"
        lines.append(f"working copy: {copy['version']}, digest {copy['digest']} ({state})")
    if data["effort_hours"] is not None:
        lines.append(f"effort: {data['effort_hours']:g} hours to build")
    requires = data["requires"]
    lines.append(
        f"requires: connectors {', '.join(requires['connectors']) or '-'}; "
        f"robot labels {', '.join(requires['robot_labels']) or '-'}"
    )
    proven = data["proven_against"]
    if proven:
        lines.append("proven against: " + ", ".join(f"{k} {v}" for k, v in proven.items()))
    lines.append("versions:")
    rows = [["VERSION", "PUBLISHED", "MATURITY", "DIGEST", "SUCCESSOR"]]
    rows += [
        [v["version"], v["published"], v["maturity"], v["digest"], v["successor"] or ""]
        for v in data["versions"]
    ]
    lines += table(rows, indent="  ")
    installations = data["installations"]
    if not installations:
        lines.append("installations: none")
        return lines
    lines.append("installations:")
    rows = [["CITY", "VERSION", "OVERLAY", "FILES"]]
    rows += [
        [
            tenant,
            i["version"],
            i["overlay"],
            f"{i['into']}/{data['bot']}" if i["into"] else data["path"],
        ]
        for tenant, i in installations.items()
    ]
    return lines + table(rows, indent="  ")


def promotion_lines(result: Promotion) -> list[str]:
    """The evidence of a promotion as a table per city, then what was decided and why."""
    evidence, limits = result.evidence, result.thresholds
    version = result.version
    lines = [
        f"evidence for {result.bot_id} {version.version} (digest {version.digest}): runs "
        f"started {evidence.since:%Y-%m-%d} to {evidence.until:%Y-%m-%d} ({limits.days} days)"
    ]
    rows = [["CITY", "RUNS", "SUCCEEDED", "FAILED", "SUCCESS RATE"]]
    for city in evidence.cities:
        rows.append(_evidence_row(city.tenant, city.ended, city.succeeded, city.success_rate))
    rows.append(_evidence_row("all", evidence.ended, evidence.succeeded, evidence.success_rate))
    lines += table(rows, indent="  ")
    if result.target.value == "proven":
        lines.append(
            f"needed for proven: {limits.min_runs} successful runs in {limits.min_cities} "
            f"cities, success rate {percent(limits.min_success_rate)}, no lint errors"
        )
    lines += [f"  {error}" for error in result.lint_errors]
    move = f"{result.bot_id} {version.version}: {version.maturity} -> {result.target}"
    if result.accepted:
        successor = f" (successor: {result.successor})" if result.successor else ""
        return [*lines, f"done: {move}{successor}"]
    return [*lines, f"refused: {move}", *(f"  {short}" for short in result.shortfalls)]


def _evidence_row(name: str, ended: int, succeeded: int, rate: float | None) -> list[str]:
    shown = percent(rate) if rate is not None else "-"
    return [name, str(ended), str(succeeded), str(ended - succeeded), shown]
