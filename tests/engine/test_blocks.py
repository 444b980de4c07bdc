"""Blocks with shared options (``within``) and several fields in one ``extract``.

Real Chromium against the test site (tests/connectors/_site.py): its ``/locators`` page holds
an iframe (``#frm``, a button "Im Rahmen" and ``#inner``), labelled form fields and two look-
alike boxes ``#box1``/``#box2`` (a ``.v`` span each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.engine import run_bot
from orchestrator.results import RunStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)
pytestmark = pytest.mark.browser


def test_within_gives_the_steps_inside_its_frame_and_element(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            {"within": {"frame": "#frm"}, "do": [
                {"extract": {"css": "#inner"}, "into": "im_rahmen"},
                {"click": {"role": "button", "name": "Im Rahmen"}},
                # the frame has no heading: the count looks inside the frame only
                {"extract": {"css": "h1", "frame": None}, "get": "count", "into": "h1_im_rahmen"},
            ]},
            {"within": {"element": {"css": "#box2"}}, "do": [
                {"extract": {"css": ".v"}, "into": "box"},
                {"within": {"element": {"css": "span"}}, "do": [
                    {"extract": {"text": "zwei"}, "get": "count", "into": "innen"},
                ]},
            ]},
            {"extract": {"css": "#inner"}, "get": "count", "into": "draussen"},
            {"assert": "im_rahmen == 'frame-text' and box == 'zwei' and innen == 1"},
            {"assert": "h1_im_rahmen == 0 and draussen == 0"},
        ]
    )  # fmt: skip
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert [s.path for s in record.steps if s.kind == "click"] == ["steps[1].do[1]"]


def test_within_timeout_is_each_steps_default(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            {"within": {"timeout": 0.5}, "do": [{"click": {"css": "#nowhere"}}]},
        ]
    )
    # Without the block's 0.5 s, the click would wait the hour, past the test's own limit.
    patient = settings.model_copy(update={"step_timeout_s": 3600})
    record = run_bot(bot, settings=patient, store=store)
    assert record.status == RunStatus.FAILED
    assert record.error_step == "steps[1].do[0]"
    assert "no element matches css='#nowhere'" in (record.error or ""), record.error


def test_extract_fields_reads_several_elements_into_one_mapping(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/locators"},
            {"extract": {"fields": {
                "aktenzeichen": {"label": "Aktenzeichen"},
                "suche": {"placeholder": "Suche"},
            }}, "get": "value", "into": "werte"},
            {"extract": {"css": "body"}, "get": "fields", "into": "formular"},
            {"assert": "werte == {'aktenzeichen': 'AZ-1', 'suche': 'search-value'}"},
            {"assert": "formular.Aktenzeichen == 'AZ-1' and formular.Rechtsform == 'GmbH'"},
        ]
    )  # fmt: skip
    record = run_bot(bot, settings=settings, store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
