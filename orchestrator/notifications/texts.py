"""What the messages say, in German (the default) and English: one table per language.

Each event has a subject and body lines, ``str.format`` templates over the message's facts
(see :mod:`orchestrator.notifications.messages`); a line naming a fact that is missing or
None is left out. The words a Fachamt reads are German by default; domain words (Vorgang,
Fachamt) stay German in the English table too where they name a thing of the casework.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Table = Mapping[str, str | tuple[str, ...]]

_DE: dict[str, str | tuple[str, ...]] = {
    "prefix": "[RPA {tenant}]",
    "run_failed.subject": "Lauf {run_id} von {bot} {status_text}",
    "run_failed.body": (
        "Der Bot {bot} (Version {version}) hat Lauf {run_id} nicht erfolgreich beendet: "
        "{status_text}.",
        "Versuch {attempt} von {max_attempts}; es folgt kein weiterer Versuch.",
        "Abgebrochen bei Schritt: {error_step}",
        "Gescheiterte Läufe in Folge: {failures}",
        "Beendet: {finished_at}",
    ),
    "needs_human.subject": "{count_text} für eine Person (Bot {bot}, Lauf {run_id})",
    "needs_human.body": (
        "Lauf {run_id} des Bots {bot} hat {count_text} an eine Person übergeben:",
        "{item_lines}",
        "(einschließlich der Versuche davor: Läufe {earlier_runs})",
        "Gründe und was zu tun ist, stehen im Bericht.",
    ),
    "sla_breach.subject": "Frist überschritten: Vorgang {reference} (Warteschlange {queue})",
    "sla_breach.body": (
        "Der Vorgang {reference} in der Warteschlange {queue} hat seine Frist "
        "({deadline}) überschritten.",
        "Stand: {item_status_text}",
    ),
    "robot_gone.subject": "Roboter {robot} meldet sich nicht mehr",
    "robot_gone.body": (
        "Der Roboter {robot} auf dem Rechner {host} hat sich zuletzt am {heartbeat_at} "
        "gemeldet und wurde nicht ordnungsgemäß beendet.",
        "Seine Läufe werden nach Ablauf ihrer Leases erneut eingereiht oder als verloren "
        "markiert. Bitte den Rechner prüfen und den Roboter neu starten (`bots robot start`).",
    ),
    "test.subject": "Testnachricht an {channel}",
    "test.body": (
        "Dies ist eine Testnachricht über den Kanal {channel}. Wer sie liest, erhält hier "
        "auch die Benachrichtigungen der Bots.",
    ),
    "digest.subject": "Tagesübersicht vom {date}: {count_text}",
    "digest.body": ("Meldungen seit der letzten Übersicht:", "{entry_lines}"),
    "report": "Bericht: {report}",
    "details": "Details für die Administration: bots show {run_id}",
    "footer": "Diese Nachricht enthält keine Falldaten; Gründe und Nachweise stehen im Bericht. "
    "Mandant: {tenant}.",
    "more": "… und {more} weitere",
    "item_line": "- {reference} (Warteschlange {queue})",
    "cases.one": "1 Vorgang",
    "cases.many": "{count} Vorgänge",
    "entries.one": "1 Meldung",
    "entries.many": "{count} Meldungen",
    "status.failed": "fehlgeschlagen",
    "status.timed_out": "Zeitüberschreitung",
    "status.lost": "verloren (Roboter ausgefallen)",
    "status.cancelled": "abgebrochen",
    "item.new": "neu, noch nicht bearbeitet",
    "item.in_progress": "in Bearbeitung",
    "item.retrying": "wartet auf einen neuen Versuch",
    "item.needs_human": "wartet auf eine Person",
    "item.awaiting_approval": "wartet auf Freigabe",
    "time": "%d.%m.%Y %H:%M",
    "date": "%d.%m.%Y",
}

_EN: dict[str, str | tuple[str, ...]] = {
    "prefix": "[RPA {tenant}]",
    "run_failed.subject": "Run {run_id} of {bot} {status_text}",
    "run_failed.body": (
        "Bot {bot} (version {version}) did not finish run {run_id}: {status_text}.",
        "Attempt {attempt} of {max_attempts}; no further attempt follows.",
        "Stopped at step: {error_step}",
        "Failed runs in a row: {failures}",
        "Ended: {finished_at}",
    ),
    "needs_human.subject": "{count_text} for a person (bot {bot}, run {run_id})",
    "needs_human.body": (
        "Run {run_id} of bot {bot} handed {count_text} to a person:",
        "{item_lines}",
        "(including the attempts before it: runs {earlier_runs})",
        "The reasons and what to do are in the report.",
    ),
    "sla_breach.subject": "Deadline passed: Vorgang {reference} (queue {queue})",
    "sla_breach.body": (
        "Vorgang {reference} in queue {queue} has passed its deadline ({deadline}).",
        "Status: {item_status_text}",
    ),
    "robot_gone.subject": "Robot {robot} stopped answering",
    "robot_gone.body": (
        "Robot {robot} on host {host} last reported at {heartbeat_at} and did not stop cleanly.",
        "Its runs are queued again or marked lost once their leases run out. Please check "
        "the machine and start the robot again (`bots robot start`).",
    ),
    "test.subject": "Test message to {channel}",
    "test.body": (
        "This is a test message through channel {channel}. Whoever reads it will get the "
        "bots' notifications here too.",
    ),
    "digest.subject": "Daily summary of {date}: {count_text}",
    "digest.body": ("Messages since the last summary:", "{entry_lines}"),
    "report": "Report: {report}",
    "details": "Details for administrators: bots show {run_id}",
    "footer": "This message holds no case data; reasons and evidence are in the report. "
    "Tenant: {tenant}.",
    "more": "… and {more} more",
    "item_line": "- {reference} (queue {queue})",
    "cases.one": "1 case",
    "cases.many": "{count} cases",
    "entries.one": "1 message",
    "entries.many": "{count} messages",
    "status.failed": "failed",
    "status.timed_out": "timed out",
    "status.lost": "lost (robot gone)",
    "status.cancelled": "cancelled",
    "item.new": "new, not worked on yet",
    "item.in_progress": "in progress",
    "item.retrying": "waiting for another attempt",
    "item.needs_human": "waiting for a person",
    "item.awaiting_approval": "waiting for approval",
    "time": "%Y-%m-%d %H:%M",
    "date": "%Y-%m-%d",
}

TEXTS: Mapping[str, Table] = MappingProxyType(
    {"de": MappingProxyType(_DE), "en": MappingProxyType(_EN)}
)
