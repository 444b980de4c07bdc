"""Queued and sent notifications as text and JSON: `bots notifications list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for their types only: a presenter loads no scheduler or store
    from orchestrator.store import NotificationRecord


def notification_as_json(message: NotificationRecord) -> dict[str, Any]:
    """A queued or sent notification as JSON-ready data (`bots notifications list --json`)."""
    return message.to_json()


def notification_line(message: NotificationRecord) -> str:
    """A notification as one line: id, when queued, status, event, subject, channel, and
    its delivery where it is not sent yet.

    Example: ``"    12  2026-11-30 08:15:02  pending   run_failed   run:17 -> ordnungsamt
    [attempt 2, next 08:16:02: SMTP server smtp:25 not reachable: Connection refused]"``.
    """
    line = (
        f"{message.id:>6}  {message.created_at:%Y-%m-%d %H:%M:%S}  {message.status!s:<9} "
        f"{message.event:<12} {message.subject} -> {message.channel}"
    )
    if message.sent_at is not None:
        return f"{line}  (sent {message.sent_at:%Y-%m-%d %H:%M:%S})"
    notes = []
    if message.attempts:
        notes.append(f"attempt {message.attempts}")
    if message.not_before is not None:
        due = "digest" if message.status == "held" else "next"
        notes.append(f"{due} {message.not_before:%Y-%m-%d %H:%M:%S}")
    if message.last_error:
        notes.append(message.last_error)
    return f"{line}  [{', '.join(notes)}]" if notes else line
