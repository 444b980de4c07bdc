"""Notifications a run's end gives rise to (a failed run, cases for a person).

Called by the engine once a run's outcome is recorded (``after_run``), with ``final`` True
when no retry follows. An attempt with retries left says nothing yet (no alert noise during
retries); the last one says ``run_failed``, if its rules' ``after_failures`` are reached, and
``needs_human`` for the cases it and the attempts before it left for a person. The messages
carry the bot, the run, the step it stopped at and a link to the run report; never the run's
error text, which can quote a case field. Queueing is one insert; the messages are
then tried at once, with the channels' short timeouts, and whatever fails stays pending for
the next deliverer. Example::

    notify_run_end(store, settings, 17, final=True, secrets=tenant_secrets)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from orchestrator.errors import BotsError, RunNotFound
from orchestrator.notifications.channels import SecretsFor
from orchestrator.notifications.delivery import configured, deliver, deliverer
from orchestrator.notifications.events import Event, failures_window, messages_for, wanted
from orchestrator.results import RunRecord, RunStatus, iso_or_none
from orchestrator.settings import NotificationSettings, Settings
from orchestrator.store import RunStore

#: The outcomes a ``run_failed`` is about: the bot's own failures, as retries see them.
FAILED = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})
#: Where the run report is written, inside the run directory.
REPORT_FILE = Path("report") / "bericht.html"


def notify_run_end(
    store: RunStore,
    settings: Settings,
    run_id: int,
    *,
    final: bool,
    secrets: SecretsFor | None = None,
    before_link: Callable[[], None] | None = None,
) -> list[int]:
    """Queue the notifications run ``run_id``'s end calls for; ``final``: no retry follows.

    With ``secrets`` (the tenant's secret store), the queued messages are delivered at once
    where the channel answers; without, they wait for the next deliverer. ``before_link``
    is called before a message names the run's report (it writes one not written yet).
    Returns the ids of the messages queued.
    """
    if not configured(settings):  # the common case costs no query
        return []
    run = store.get_run(run_id, details=False)
    config = settings.notifications_for(run.tenant)
    if not config.rules:
        return []
    now = datetime.now(UTC)
    if final and before_link is not None:
        before_link()
    events = run_events(store, config, run, final=final)
    messages = [message for event in events for message in messages_for(settings, event, now=now)]
    ids = store.notifications.queue(messages, actor=f"run:{run_id}")
    if ids and secrets is not None:
        try:
            deliver(store, settings, secrets=secrets, holder=deliverer("run"), ids=ids)
        except BotsError as exc:  # the database is away: the messages are queued all the same
            structlog.get_logger(__name__).warning(
                "notifications queued, not delivered", run_id=run_id, error=str(exc)
            )
    return ids


def run_events(
    store: RunStore, config: NotificationSettings, run: RunRecord, *, final: bool
) -> list[Event]:
    """The events of ``run``'s end its tenant's rules may ask for (none before the last
    attempt)."""
    if not final:
        return []
    base: dict[str, Any] = {
        "bot": run.bot,
        "version": run.version,
        "run_id": run.id,
        "finished_at": iso_or_none(run.finished_at),
        "report": report_link(config, run),
    }
    events = []
    if run.status in FAILED and wanted(config, "run_failed"):
        window = failures_window(config, run.max_attempts)
        failures = store.notifications.consecutive_failures(
            run.tenant, run.bot, run.id, window=window
        )
        facts = {
            **base,
            "status": str(run.status),
            "attempt": run.attempt,
            "max_attempts": run.max_attempts,
            "error_step": run.error_step,
            "failures": failures,
        }
        events.append(
            Event(run.tenant, "run_failed", f"run:{run.id}", facts, run.bot, max(failures, 1))
        )
    if wanted(config, "needs_human"):
        attempts = attempts_of(store, run)
        items = [
            {"queue": queue, "reference": reference}
            for queue, reference in store.notifications.items_for_a_person(attempts)
        ]
        if items:
            earlier = ", ".join(str(run_id) for run_id in attempts[1:]) or None
            facts = {**base, "items": items, "earlier_runs": earlier}
            events.append(Event(run.tenant, "needs_human", f"run:{run.id}", facts, run.bot))
    return events


def attempts_of(store: RunStore, run: RunRecord) -> list[int]:
    """``run``'s id and those of the attempts before it, newest first."""
    ids = [run.id]
    earlier = run.retry_of
    while earlier is not None and earlier not in ids:
        ids.append(earlier)
        try:
            earlier = store.get_run(earlier, details=False).retry_of
        except RunNotFound:  # deleted meanwhile: the chain ends here
            break
    return ids


def report_link(config: NotificationSettings, run: RunRecord) -> str | None:
    """Where the run's report is read: ``report_url`` filled in, else the report file's path
    (None while the run has no report file)."""
    if config.report_url:
        return config.report_url.format(run_id=run.id, tenant=run.tenant)
    if run.run_dir is None:
        return None
    path = Path(run.run_dir) / REPORT_FILE
    return str(path) if path.is_file() else None
