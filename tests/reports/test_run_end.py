"""The report a run leaves when it ends: as configured (``reports.*``), as an artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.model.loader import load_bot
from orchestrator.settings import load_settings
from orchestrator.store import open_store

BOT = """\
id: kurz
name: Kurzer Lauf
version: 1.0.0
owner: {city: Marburg, fachamt: Bürgerbüro}
data_categories: [Vorgangsnummer]
steps:
  - set: {fertig: "ja"}
"""


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        ({}, '<html lang="de">'),
        ({"lang": "en"}, '<html lang="en">'),
        ({"on_run_end": False}, None),
    ],
    ids=["default", "english", "off"],
)
def test_a_report_is_written_when_a_run_ends_unless_switched_off(
    tmp_path: Path, reports: dict[str, Any], expected: str | None
) -> None:
    bot_dir = tmp_path / "bots" / "kurz"
    bot_dir.mkdir(parents=True)
    (bot_dir / "bot.yaml").write_text(BOT, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path / "data", bot_dirs=[tmp_path / "bots"], reports=reports
    )
    with open_store(settings.database) as store:
        record = run_bot(load_bot(bot_dir), settings=settings, store=store)
    assert record.run_dir is not None
    report = Path(record.run_dir) / "report" / "bericht.html"
    recorded = [a.path for a in record.artifacts if str(a.kind) == "report"]
    if expected is None:
        assert not report.exists() and recorded == []
        return
    assert recorded == [str(report.resolve())]
    page = report.read_text(encoding="utf-8")
    assert expected in page and "Vorgangsnummer" in page and "Bürgerbüro" in page
