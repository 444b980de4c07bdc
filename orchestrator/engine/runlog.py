"""The log of one run: JSON lines in the run directory, readable lines on the console.

Every event passes the run's :class:`~orchestrator.engine.secrets.Redactor` before it is
written anywhere. The file keeps every level; the console shows ``settings.log_level`` and
up, coloured on a terminal, ``key=value`` lines otherwise (cron mails, CI logs)::

    log = RunLog(run_dir / "run.log.jsonl", redactor, level="info")
    log.logger.info("step", path="steps[0]", status="ok")
    log.close()
"""

from __future__ import annotations

import json
import sys
from collections.abc import MutableMapping
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, TextIO

import structlog

from orchestrator.engine.secrets import Redactor

LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}


def iso_times(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: dates and times in an event as ISO 8601 text, never a repr.

    Example: ``log.info("retry queued", not_before=datetime(2026, 11, 30, 7, tzinfo=UTC))``
    writes ``not_before='2026-11-30T07:00:00+00:00'``.
    """
    for key, value in event.items():
        event[key] = _iso(value)
    return event


def _iso(value: Any) -> Any:
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{value.total_seconds():g}S"
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(item) for item in value]
    return value


class RunLog:
    """A structlog logger writing one run's events to a JSON-lines file and the console.

    Args:
        path: The JSON-lines file (created; appended to).
        redactor: Scrubs secrets from every event.
        level: Lowest level shown on the console.
        console: Stream for console lines (default: the current ``sys.stderr``).
        context: Key/values bound to every event (run id, bot, tenant).
    """

    def __init__(
        self,
        path: Path,
        redactor: Redactor,
        *,
        level: str = "info",
        console: TextIO | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self._redactor = redactor
        self._file: TextIO | None = path.open("a", encoding="utf-8", buffering=1)
        self._console = console
        self._level = LEVELS.get(level.lower(), 20)
        stream = console or sys.stderr
        self._render: Any
        if stream.isatty():
            self._render = structlog.dev.ConsoleRenderer(colors=True)
        else:
            self._render = structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event"], drop_missing=True
            )
        self.logger: Any = structlog.wrap_logger(
            structlog.ReturnLogger(),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                iso_times,
                self._write,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(0),
            context_class=dict,
        ).bind(**(context or {}))

    def _write(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        # Redact the rendered lines, not the values: an exception or object rendered with
        # str() may carry a secret too.
        redact = self._redactor.redact
        if self._file is not None:
            self._file.write(redact(json.dumps(event, default=str, ensure_ascii=False)) + "\n")
        if LEVELS.get(method, 20) >= self._level:
            stream = self._console or sys.stderr  # looked up now: a progress display may wrap it
            try:
                stream.write(redact(str(self._render(None, method, dict(event)))) + "\n")
                stream.flush()
            except (OSError, ValueError):  # console closed (daemon, broken pipe): the file has it
                pass
        raise structlog.DropEvent

    def close(self) -> None:
        """Close the file; later events still reach the console."""
        if self._file is not None:
            self._file.close()
            self._file = None
