"""Log lines carry times as ISO 8601 text, never a Python repr, in run logs and service logs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.engine.runlog import RunLog
from orchestrator.engine.secrets import Redactor
from orchestrator.service_log import service_logger

WHEN = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


def test_a_run_log_writes_times_as_iso_8601(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "run.log.jsonl", Redactor(), context={"attempt": 2})

    log.logger.info("retry queued", not_before=WHEN, day=date(2026, 12, 1), nested={"at": [WHEN]})
    log.close()

    (line,) = (tmp_path / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    event = json.loads(line)
    assert event["not_before"] == "2026-11-30T07:30:00+00:00"
    assert event["day"] == "2026-12-01"
    assert event["nested"] == {"at": ["2026-11-30T07:30:00+00:00"]}
    assert event["attempt"] == 2
    assert datetime.fromisoformat(event["timestamp"]).tzinfo is not None


def test_a_service_log_line_has_no_python_repr(capsys: pytest.CaptureFixture[str]) -> None:
    log = service_logger("info")

    log.info("firing skipped", fire_time=WHEN, wait=timedelta(seconds=90))

    line = capsys.readouterr().err
    assert "fire_time='2026-11-30T07:30:00+00:00'" in line
    assert "wait='PT90S'" in line
    assert "datetime.datetime(" not in line and "timedelta(" not in line
