"""Which artifact kinds expire after which period, from the settings ``retention`` (global,
and per tenant under ``tenants.<name>.retention``).

Three periods, each in days after the run ended:

* ``evidence`` (``evidence_days``, 30): screenshots, traces, page captures (HTML and URL),
  downloads, and the files a hook kept (``output``, e.g. a CSV of the inbox). They show or
  hold personal data copied out of the target systems, so they go first. A file a city must
  keep longer belongs in the e-Akte, the system of record, not in a run directory;
* ``reports`` (``reports_days``, 365): the run reports for the Fachamt;
* ``logs`` (``logs_days``, 365): the run's log (``run.log.jsonl``).

Work-item payloads follow their queue's ``retention_days`` instead. Example::

    for rule in retention_rules(settings):
        print(rule.period, sorted(rule.kinds), rule.days_for("giessen"))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.results import ArtifactKind
from orchestrator.settings import RetentionSettings, Settings
from orchestrator.store.retention import RetentionRule

K = ArtifactKind

#: The period of what shows the cases themselves (screenshots, traces, ...).
EVIDENCE = "evidence"
#: Period name -> the artifact kinds it covers and the setting holding its days.
PERIODS: Mapping[str, tuple[frozenset[ArtifactKind], str]] = {
    EVIDENCE: (
        frozenset({K.SCREENSHOT, K.TRACE, K.HTML, K.URL, K.DOWNLOAD, K.OUTPUT}),
        "evidence_days",
    ),
    "reports": (frozenset({K.REPORT}), "reports_days"),
    "logs": (frozenset({K.LOG}), "logs_days"),
}


def retention_rules(settings: Settings) -> list[RetentionRule]:
    """One rule per period: the global days, and the tenants whose own setting differs."""
    rules = []
    for period, (kinds, setting) in PERIODS.items():
        days = _days(settings.retention, setting)
        own = {
            tenant: _days(settings.retention_for(tenant), setting)
            for tenant in settings.all_tenants()
        }
        rules.append(
            RetentionRule(period, kinds, days, {t: d for t, d in own.items() if d != days})
        )
    return rules


def periods_of(settings: Settings, tenant: str) -> dict[str, int]:
    """``tenant``'s days per period, e.g. ``{"evidence": 30, "reports": 365, "logs": 365}``."""
    effective = settings.retention_for(tenant)
    return {period: _days(effective, setting) for period, (_, setting) in PERIODS.items()}


def own_setting(settings: Settings, tenant: str) -> bool:
    """Whether ``tenant`` has its own ``retention`` (else the global one applies)."""
    overlay = settings.tenants.get(tenant)
    return overlay is not None and overlay.retention is not None


def _days(retention: RetentionSettings, setting: str) -> int:
    return int(getattr(retention, setting))


def periods_as_json(settings: Settings, tenant: str, queues: Mapping[str, int]) -> dict[str, Any]:
    """``tenant``'s periods and its queues' ``retention_days`` (``queues``: name -> days), as
    `bots retention show --json` prints them."""
    days = periods_of(settings, tenant)
    return {
        "tenant": tenant,
        "own_setting": own_setting(settings, tenant),
        "periods": [
            {"period": period, "days": days[period], "kinds": sorted(kinds)}
            for period, (kinds, _) in PERIODS.items()
        ],
        "queues": [
            {"queue": name, "retention_days": queue_days}
            for name, queue_days in sorted(queues.items())
        ],
    }
