"""What follows once a run's outcome is recorded: its report is written, and those who must
know are told; and later, when its records expire, its report is written again without them.

The first two are after the fact: neither may change the recorded outcome or stop the robot,
so a failure of either is logged and the run ends all the same.
"""

from __future__ import annotations

import structlog

from orchestrator.engine.secrets import EnvSecretProvider
from orchestrator.notifications.run_end import notify_run_end
from orchestrator.reports.run_end import (
    ensure_run_report,
    refresh_run_reports,
    write_run_report,
)
from orchestrator.retention import RetentionOutcome, apply_retention
from orchestrator.settings import Settings
from orchestrator.store import RunStore


def tenant_secrets(tenant: str) -> EnvSecretProvider:
    """Where ``tenant``'s notification passwords and tokens come from: its own secrets
    (``BOTS_SECRET_<TENANT>__<NAME>``), then the shared ones (``BOTS_SECRET_<NAME>``)."""
    return EnvSecretProvider(tenant=tenant)


def after_run(
    store: RunStore, settings: Settings, run_id: int, *, final: bool, report_now: bool = True
) -> None:
    """Write run ``run_id``'s report and notify about it; ``final``: no retry follows.

    ``report_now`` False (a robot's runs): the report waits until it is first read (``bots
    show``, or a notification that names it), so that the robot's next claim does not.
    """
    log = structlog.get_logger(__name__)
    if report_now:
        try:
            write_run_report(store, settings, run_id)
        except Exception as exc:  # a report is no reason to fail a recorded run
            log.warning("run report not written", run_id=run_id, error=str(exc))

    def report() -> None:
        try:
            ensure_run_report(store, settings, run_id)
        except Exception as exc:  # the notification goes all the same
            log.warning("run report not written", run_id=run_id, error=str(exc))

    try:
        notify_run_end(
            store, settings, run_id, final=final, secrets=tenant_secrets, before_link=report
        )
    except Exception as exc:  # nor is a notification
        log.warning("run notification not queued", run_id=run_id, error=str(exc))


def expire_records(
    store: RunStore,
    settings: Settings,
    *,
    actor: str,
    tenant: str | None = None,
    dry_run: bool = False,
) -> RetentionOutcome:
    """Apply retention (``bots retention apply`` and the leader's daily job), then write the
    reports of the runs whose evidence it deleted again: reports embed screenshots, which
    would otherwise outlive their period inside the report."""
    outcome = apply_retention(store, settings, actor=actor, tenant=tenant, dry_run=dry_run)
    refresh_run_reports(store, settings, outcome.evidence_runs)
    return outcome
