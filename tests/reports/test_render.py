"""The shared parts of every report: its words in both languages, dates and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from orchestrator.reports.i18n import LANGUAGES, STRINGS, translator
from orchestrator.reports.render import Formatter, render


def test_every_text_exists_in_every_language() -> None:
    missing = [key for key, texts in STRINGS.items() if set(texts) != set(LANGUAGES)]
    assert missing == []


def test_an_unknown_language_or_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        render("run_report.html.j2", {}, lang="fr")
    with pytest.raises(KeyError):
        translator("de")("run.no-such-key")


def test_dates_in_the_readers_time_zone_and_numbers_as_the_language_writes_them() -> None:
    german, english = Formatter("de"), Formatter("en")
    winter_evening = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 Feb in Berlin
    assert german.datetime(winter_evening) == "01.02.2026 00:30:00"
    assert english.datetime(winter_evening) == "2026-02-01 00:30:00"
    assert german.date(winter_evening) == "01.02.2026"
    assert german.date(date(2026, 3, 1)) == "01.03.2026"
    assert german.number(1234.5) == "1.234,5" and english.number(1234.5) == "1,234.5"
    assert german.number(24.0) == "24" and german.number(12) == "12"
    assert german.percent(0.953) == "95,3 %"
    assert german.duration(2.46) == "2,5 s" and german.duration(3725) == "1 h 2 min 5 s"
    assert german.datetime(None) == german.duration(None) == "–"
