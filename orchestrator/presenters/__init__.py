"""Records as text and JSON, written once for the CLI, the reports and a later web console.

A presenter takes a record (a run, a robot's state, a schedule, a work queue or item) and
returns lines of text or JSON-ready data; it prints nothing and reads nothing. One module per
kind of record: :mod:`.runs`, :mod:`.robots` (and schedules), :mod:`.work` (queues, items, a
bot's progress), :mod:`.retention`, :mod:`.notifications`, :mod:`.users`; each name is also
importable from here. Example::

    for line in run_details(store.get_run(17), max_robot_losses=2):
        print(line)
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.presenters.notifications import notification_as_json, notification_line
from orchestrator.presenters.retention import retention_lines, retention_period_lines, size_text
from orchestrator.presenters.robots import (
    robot_as_json,
    robot_lines,
    schedule_as_json,
    schedule_line,
)
from orchestrator.presenters.runs import (
    artifact_line,
    run_as_json,
    run_details,
    run_line,
    run_summary,
)
from orchestrator.presenters.users import identity_line, user_line
from orchestrator.presenters.work import (
    ItemProgress,
    duration_text,
    item_as_json,
    item_details,
    item_line,
    queue_as_json,
    queue_details,
    queue_line,
)


def json_text(data: Any) -> str:
    """``data`` as the indented JSON every ``--json`` option prints."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


__all__ = [
    "ItemProgress",
    "artifact_line",
    "duration_text",
    "identity_line",
    "item_as_json",
    "item_details",
    "item_line",
    "json_text",
    "notification_as_json",
    "notification_line",
    "queue_as_json",
    "queue_details",
    "queue_line",
    "retention_lines",
    "retention_period_lines",
    "robot_as_json",
    "robot_lines",
    "run_as_json",
    "run_details",
    "run_line",
    "run_summary",
    "schedule_as_json",
    "schedule_line",
    "size_text",
    "user_line",
]
