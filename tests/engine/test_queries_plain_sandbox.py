"""Queries against the sandbox served without ``data-*`` attributes, as a real Civento is.

Issue 9: on a page without data-* helpers, ``get: count`` of nothing is 0 and ``get: texts``
of nothing is [], both at once (not after the step timeout), and a ``when``/``if`` on the count
decides. The bot is YAML, logs in by label and role, and runs through the engine in Chromium
against the Civento stand-in with ``sandbox.data_attributes: false``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model import load_bot
from orchestrator.results import RunStatus, StepStatus
from orchestrator.settings import SandboxSettings, Settings, load_settings
from orchestrator.store import RunStore
from sandbox.server import RunningSandbox, running_sandbox

pytestmark = pytest.mark.browser

PLAIN = SandboxSettings(cases=3, data_attributes=False)
#: A start tag with a data-* attribute, in served HTML.
DATA_IN_TAG = re.compile(r"<[a-zA-Z][^>]*\sdata-[\w-]*", re.I)

BOT = """\
id: ohne-data-attribute
name: Posteingang ohne data-* Attribute
version: 1.0.0
owner: {city: Gießen, fachamt: Ordnungsamt}
targets: [civento]
secrets:
  civento_password: Passwort des Civento-Kontos rpa-gewerbe
steps:
  - goto: "{{ targets.civento }}/login"
  - fill: {label: Benutzername}
    value: rpa-gewerbe
  - fill: {label: Passwort}
    value: "{{ secrets.civento_password }}"
  - click: {role: button, name: Anmelden}
  - wait_for: {element: {role: heading, name: Posteingang}}
  # steps[5..7]: the page really has no data-* attribute, and the same query finds aria-*
  - extract: {xpath: "//*[@*[starts-with(name(), 'data-')]]"}
    get: count
    into: mit_data
  - extract: {xpath: "//*[@*[starts-with(name(), 'aria-')]]"}
    get: count
    into: mit_aria
  - extract: {role: row, within: {role: table, name: Posteingang}}
    get: count
    into: zeilen
  # steps[8..12]: a search that finds nothing; the table is gone
  - fill: {label: Suche}
    value: Niemand-Unbekannt
  - click: {role: button, name: Filtern}
  - wait_for: {text: Keine Vorgänge gefunden}
  - extract: {role: row}
    get: count
    into: treffer
  - extract: {role: link, name: "GA-"}
    get: texts
    into: nummern
  # steps[13..14]: the count decides
  - click: {role: link, name: "GA-"}
    when: treffer > 0
  - if: treffer == 0
    then:
      - set: {ergebnis: nicht gefunden}
    else:
      - set: {ergebnis: gefunden}
  # steps[15..21]: a Vorgang, whose form the page's script builds, also without data-*
  - goto: "{{ targets.civento }}/posteingang?leistung=Gewerbeanmeldung&status=Neu"
  - click: {role: link, name: "GA-", nth: 0}
  - wait_for: {element: {role: progressbar, name: Bitte warten}, state: hidden}
  - click: {role: tab, name: Schritt 2 Gewerbedaten}
  - extract: {label: Name des Betriebs}
    get: value
    into: betrieb
  - extract: {xpath: "//*[@*[starts-with(name(), 'data-')]]"}
    get: count
    into: mit_data_im_vorgang
  - extract: {role: alert}
    get: texts
    into: fehler
  - assert: >-
      mit_data == 0 and mit_aria > 0 and zeilen > 1 and treffer == 0 and nummern == []
      and ergebnis == 'nicht gefunden' and betrieb and mit_data_im_vorgang == 0 and fehler == []
    message: >-
      {{ [mit_data, mit_aria, zeilen, treffer, nummern, ergebnis, betrieb,
      mit_data_im_vorgang, fehler] }}
"""


@pytest.fixture(scope="module")
def plain_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """The sandbox without data-* attributes, on a free loopback port."""
    with running_sandbox(tmp_path_factory.mktemp("plain") / "sandbox", PLAIN) as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, plain_sandbox: RunningSandbox) -> Settings:
    """The Civento stand-in as target ``civento``; a step timeout of an hour, so that a query
    that waited for a match would outlast the test's own time limit."""
    return load_settings(
        data_dir=tmp_path / "data",
        targets={"civento": plain_sandbox.civento_url},
        step_timeout_s=3600.0,
        trace="on_failure",
    )


def test_the_served_pages_have_no_data_attribute(plain_sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=plain_sandbox.civento_url, follow_redirects=True) as civento:
        login = civento.get("/login").text
        inbox = civento.post(
            "/login", data={"benutzername": "rpa-gewerbe", "passwort": PLAIN.password}
        ).text
        nummer = re.findall(r'href="/civento/vorgang/([^"/]+)"', inbox)[0]
        vorgang = civento.get(f"/vorgang/{nummer}").text
    pages = {"login": login, "posteingang": inbox, "vorgang": vorgang}
    assert "Vorgänge" in inbox and f"Vorgang {nummer}" in vorgang
    found = {name: hits for name, page in pages.items() if (hits := DATA_IN_TAG.findall(page))}
    assert found == {}


def test_count_and_texts_of_nothing_answer_at_once_without_data_attributes(
    tmp_path: Path, settings: Settings, store: RunStore
) -> None:
    bot_dir = tmp_path / "bots" / "ohne-data-attribute"
    bot_dir.mkdir(parents=True)
    (bot_dir / "bot.yaml").write_text(BOT, encoding="utf-8")

    record = run_bot(
        load_bot(bot_dir),
        settings=settings,
        store=store,
        secrets=MappingSecretProvider({"civento_password": PLAIN.password}),
    )

    assert record.status == RunStatus.SUCCEEDED, (record.error_step, record.error)
    steps: dict[str, Any] = {step.path: step for step in record.steps}
    assert steps["steps[13]"].status == StepStatus.SKIPPED  # `when: treffer > 0`
    assert steps["steps[14].then[0]"].status == StepStatus.OK
    assert "steps[14].else[0]" not in steps
    # Zero matches are answers: waiting for a match would take the hour of the step timeout,
    # past the test's own time limit.
    for path in ("steps[5]", "steps[11]", "steps[12]", "steps[20]", "steps[21]"):
        assert steps[path].status == StepStatus.OK
