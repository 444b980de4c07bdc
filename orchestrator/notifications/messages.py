"""From a queued notification's facts to the words a person reads: subject, text, JSON.

The facts are what :mod:`orchestrator.notifications.events` put into the outbox:
pseudonymous references (run ids, case references, robot names) and a link to the run
report, never payloads or error texts (an error can quote a case field). Times are shown in
the orchestrator's time zone. Example::

    message = compose("run_failed", "giessen", "de", facts, zone=ZoneInfo("Europe/Berlin"))
    message.subject  # "[RPA giessen] Lauf 17 von gewerbe-uebertragung fehlgeschlagen"
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.notifications.texts import TEXTS, Table

#: Facts holding ISO times, shown as local times.
TIME_FACTS = ("finished_at", "deadline", "heartbeat_at")
#: Case references listed in one message at most; the rest are counted.
MAX_LISTED = 50


@dataclass(frozen=True)
class Message:
    """A notification as sent: e-mail subject and text, and the webhook's JSON."""

    subject: str
    text: str
    data: dict[str, Any]


def compose(
    event: str, tenant: str, lang: str, facts: Mapping[str, Any], *, zone: ZoneInfo
) -> Message:
    """The message about ``event`` of ``tenant`` in ``lang`` (``de`` or ``en``)."""
    table = TEXTS.get(lang, TEXTS["de"])
    values = _values(event, tenant, facts, table, zone)
    subject = f"{_text(table, 'prefix').format_map(values)} {_subject(event, values, table)}"
    lines = [line for line in _lines(table, f"{event}.body", values) if line is not None]
    links = [
        _fill(_text(table, "report"), values),
        _fill(_text(table, "details"), values) if event != "digest" else None,
    ]
    tail = [line for line in links if line is not None]
    footer = _text(table, "footer").format_map(values)
    body = "\n".join([*lines, "", *tail, *([""] if tail else []), footer])
    data = {
        "event": event,
        "tenant": tenant,
        "lang": lang if lang in TEXTS else "de",
        "title": subject,
        "text": f"{subject}\n\n{body}",
        "facts": dict(facts),
    }
    return Message(subject=subject, text=body, data=data)


def _subject(event: str, values: Mapping[str, Any], table: Table) -> str:
    return _text(table, f"{event}.subject").format_map(values)


def _values(
    event: str, tenant: str, facts: Mapping[str, Any], table: Table, zone: ZoneInfo
) -> dict[str, Any]:
    """The facts with what the templates add: local times, status words, counts, lists."""
    values: dict[str, Any] = {"tenant": tenant, **facts}
    for name in TIME_FACTS:
        if isinstance(values.get(name), str):
            moment = datetime.fromisoformat(values[name]).astimezone(zone)
            values[name] = moment.strftime(_text(table, "time"))
    if "status" in facts:
        values["status_text"] = table.get(f"status.{facts['status']}", str(facts["status"]))
    if "item_status" in facts:
        values["item_status_text"] = table.get(
            f"item.{facts['item_status']}", str(facts["item_status"])
        )
    if (values.get("failures") or 0) <= 1:
        values["failures"] = None  # one failure is no streak worth a line
    if event == "needs_human":
        items = list(facts.get("items") or [])
        values["count_text"] = _count(table, "cases", len(items))
        values["item_lines"] = _listed(table, items)
    if event == "digest":
        entries = list(facts.get("entries") or [])
        values["count_text"] = _count(table, "entries", len(entries))
        values["date"] = date.fromisoformat(facts["date"]).strftime(_text(table, "date"))
        values["entry_lines"] = "\n".join(
            _entry(entry, tenant, table, zone) for entry in entries[:MAX_LISTED]
        ) + _more(table, len(entries))
    return values


def _entry(entry: Mapping[str, Any], tenant: str, table: Table, zone: ZoneInfo) -> str:
    """One message of a digest: its subject, and its report link beneath."""
    values = _values(entry["event"], tenant, entry["facts"], table, zone)
    line = f"- {_subject(entry['event'], values, table)}"
    report = _fill(_text(table, "report"), values)
    return f"{line}\n  {report}" if report else line


def _listed(table: Table, items: list[Mapping[str, Any]]) -> str:
    lines = [_text(table, "item_line").format_map(item) for item in items[:MAX_LISTED]]
    return "\n".join(lines) + _more(table, len(items))


def _more(table: Table, count: int) -> str:
    if count <= MAX_LISTED:
        return ""
    return "\n" + _text(table, "more").format(more=count - MAX_LISTED)


def _count(table: Table, word: str, count: int) -> str:
    key = f"{word}.one" if count == 1 else f"{word}.many"
    return _text(table, key).format(count=count)


def _lines(table: Table, key: str, values: Mapping[str, Any]) -> list[str | None]:
    lines = table[key]
    return [_fill(line, values) for line in ((lines,) if isinstance(lines, str) else lines)]


def _fill(template: str, values: Mapping[str, Any]) -> str | None:
    """``template`` filled in; None if it names a value that is missing or None."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if any(values.get(name) is None for name in names):
        return None
    return template.format_map(values)


def _text(table: Table, key: str) -> str:
    text = table[key]
    assert isinstance(text, str), key
    return text
