"""Retention of real runs: a bot fails in a real Chromium against the sandbox, keeping its
screenshot, failure page and trace; once its time is up `bots retention apply` removes them,
keeps those of a recent run, and `bots audit verify` still passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _runs import FinishedRuns
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.settings import Settings
from orchestrator.store import RunStore
from sandbox.server import running_sandbox

pytestmark = pytest.mark.browser

BOT = """\
id: posteingang-pruefen
name: Posteingang prüfen
version: 1.0.0
owner: {city: Gießen, fachamt: Ordnungsamt}
targets: [civento]
steps:
  - goto: "{{ targets.civento }}"
  - screenshot: anmeldung
  - click: {role: button, name: Gibt es nicht}
    timeout: 2
"""


def bots(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def failed_run() -> int:
    """Run the bot; it fails at its click. Returns the run's id."""
    result = bots("run", "posteingang-pruefen", "--json", "--no-retry")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    record = json.loads(result.stdout)
    assert record["status"] == "failed"
    return int(record["id"])


def kept(store: RunStore, run_id: int) -> dict[str, bool]:
    """Each artifact kind of the run: whether its file is still there."""
    found: dict[str, bool] = {}
    for artifact in store.get_run(run_id).artifacts:
        found[artifact.kind] = found.get(artifact.kind, False) or Path(artifact.path).exists()
    return found


def report_of(store: RunStore, run_id: int) -> str:
    """The run's own report (written when it ended), as it is on disk now."""
    (html,) = [
        Path(a.path)
        for a in store.get_run(run_id).artifacts
        if a.kind == "report" and a.path.endswith(".html")
    ]
    return html.read_text("utf-8")


def test_expired_screenshots_and_traces_of_real_runs_go_and_the_audit_trail_verifies(
    store: RunStore,
    settings: Settings,
    runs: FinishedRuns,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot_dir = tmp_path / "bots" / "posteingang-pruefen"
    bot_dir.mkdir(parents=True)
    (bot_dir / "bot.yaml").write_text(BOT, "utf-8")
    monkeypatch.setenv("BOTS_BOT_DIRS", json.dumps([str(bot_dir.parent)]))
    with running_sandbox(settings.sandbox_dir, settings.sandbox) as sandbox:
        monkeypatch.setenv("BOTS_TARGETS__CIVENTO", sandbox.civento_url)
        old, recent = failed_run(), failed_run()
    evidence = {"screenshot", "html", "url", "trace"}
    kinds = set(kept(store, old))
    assert evidence | {"log"} <= kinds <= evidence | {"log", "report"}
    assert all(kept(store, old).values())
    assert "data:image/png;base64," in report_of(store, old)  # it embeds the screenshots
    runs.ended(old, 31)  # the evidence period is 30 days; reports and logs stay 365

    applied = bots("retention", "apply")

    assert applied.exit_code == 0, applied.stderr
    assert kept(store, old) == {kind: kind not in evidence for kind in kinds}
    assert all(kept(store, recent).values())
    assert "deleted     2 screenshot" in applied.stdout  # the step's and the failure's
    assert "deleted     1 trace" in applied.stdout
    # The report stays, written again without the screenshots that were just deleted.
    assert "data:image/png;base64," not in report_of(store, old)
    assert "Bildschirmfoto anmeldung.png ist nicht mehr vorhanden" in report_of(store, old)
    assert "data:image/png;base64," in report_of(store, recent)
    verified = bots("audit", "verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("ok: ")
    shown = bots("show", str(old)).stdout
    assert shown.count("deleted by retention on") == 5  # 2 screenshots, html, url, trace
