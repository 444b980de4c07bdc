"""A secret the bot used never reaches its report: not in a reason, an output, the error."""

from __future__ import annotations

import html
import secrets
from pathlib import Path

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model.loader import load_bot
from orchestrator.reports.run_report import write_run_report_files
from orchestrator.settings import load_settings
from orchestrator.store import open_store

BOT = """\
id: geheimnis-probe
name: Geheimnis-Probe
version: 1.0.0
owner: {city: Gießen, fachamt: Ordnungsamt}
secrets:
  token: Zugangsschlüssel des Fachverfahrens
steps:
  - call: hooks:faelle
    into: faelle
  - add_items: faelle
    items: "{{ faelle }}"
    reference: "{{ item.nummer }}"
  - for_each_item: faelle
    as: fall
    do:
      - call: hooks:pruefen
        with: {fall: "{{ fall }}", token: "{{ secrets.token }}"}
        into: aktenzeichen
    output: {aktenzeichen: "{{ aktenzeichen }}"}
  - call: hooks:abschliessen
    with: {token: "{{ secrets.token }}"}
"""

HOOKS = """\
from orchestrator.errors import BusinessException


def faelle(ctx):
    return [{"nummer": "F-1"}, {"nummer": "F-2"}]


def pruefen(ctx, fall, token):
    if fall["nummer"] == "F-1":
        raise BusinessException(f"Fachverfahren lehnt Zugang {token} ab")
    return f"AZ-{token}"


def abschliessen(ctx, token):
    raise RuntimeError(f"Abschluss mit {token} gescheitert")
"""


def test_a_secret_is_in_no_report(tmp_path: Path) -> None:
    token = f"Geh3im<&>{secrets.token_hex(4)}"
    bot_dir = tmp_path / "bots" / "geheimnis-probe"
    bot_dir.mkdir(parents=True)
    (bot_dir / "bot.yaml").write_text(BOT, encoding="utf-8")
    (bot_dir / "hooks.py").write_text(HOOKS, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", bot_dirs=[tmp_path / "bots"])
    with open_store(settings.database) as store:
        record = run_bot(
            load_bot(bot_dir),
            settings=settings,
            store=store,
            secrets=MappingSecretProvider({"token": token}),
        )
        assert str(record.status) == "failed"
        on_demand = write_run_report_files(store, settings, record.id, tmp_path / "out")
    assert record.run_dir is not None
    at_run_end = Path(record.run_dir) / "report" / "bericht.html"
    for report in (at_run_end, on_demand.html):
        page = report.read_text(encoding="utf-8")
        assert "Abschluss mit" in page and "F-1" in page and "F-2" in page  # the report is there
        for form in (token, html.escape(token), html.escape(token, quote=False)):
            assert form not in page, report
