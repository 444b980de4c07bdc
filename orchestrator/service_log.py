"""Structured log lines of long-running processes (robots, orchestrators) on stderr.

One ``key=value`` line per event, with an ISO timestamp in UTC and the level, filtered by the
``log_level`` setting; journald or a log shipper takes them from there::

    log = service_logger(settings.log_level).bind(robot="robot-1")
    log.info("run claimed", run_id=17)
    # timestamp='2026-11-23T07:30:00.120Z' level='info' event='run claimed' robot='robot-1' ...
"""

from __future__ import annotations

import sys
from typing import Any

import structlog

from orchestrator.engine.runlog import LEVELS, iso_times


def service_logger(level: str) -> Any:
    """A structlog logger writing key=value lines to stderr from ``level`` upwards."""
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            iso_times,
            structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event"], drop_missing=True
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS.get(level.lower(), 20)),
    )
