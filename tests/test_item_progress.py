"""The progress line of a bot working through a work queue (``bots run`` on a TTY)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.presenters import ItemProgress
from orchestrator.results import StepRecord, StepStatus


def _item(index: int, message: str, start: datetime) -> StepRecord:
    return StepRecord(
        path=f"steps[4][{index}]", kind="work_item", name=f"GA-{index}", status=StepStatus.OK,
        started_at=start + timedelta(seconds=10 * index), duration_ms=10_000, message=message,
    )  # fmt: skip


def test_counts_outcomes_rate_and_time_left() -> None:
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    progress = ItemProgress()
    assert progress.line() == ""
    messages = [
        "done (9 left)",
        "needs_human: Angabe fehlt: Beginn der Tätigkeit (8 left)",
        "retrying: the server answered 503 (7 left)",
        "failed: no element matches (6 left)",
        "done (5 left)",
        "done (4 left)",
    ]
    for index, message in enumerate(messages):
        line = progress.add(_item(index, message, start))
    assert progress.counts == {"done": 3, "needs_human": 1, "failed": 1, "retrying": 1}
    # six items in one minute: 6/min, 4 left: about 1 min
    assert line == (
        "items: 3 done, 1 for a person, 1 failed, 1 to retry · 6/min · 4 left, about 1 min · "
    )
