"""`bots retention` as an admin uses it: what expired goes, the rest stays, the audit trail
still verifies, the history says what was deleted; and only an admin deletes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _runs import FinishedRuns
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.results import ArtifactKind
from orchestrator.store import RunStore
from orchestrator.store.tables import utc_now

K = ArtifactKind


def bots(*args: str, token: str | None = None) -> Result:
    """``bots ARGS`` in this process (as the holder of ``token``); no traceback may escape."""
    env = {"BOTS_TOKEN": token} if token is not None else None
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def ok(*args: str, token: str | None = None) -> Result:
    result = bots(*args, token=token)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def files_of(store: RunStore, run_id: int) -> dict[str, bool]:
    return {Path(a.path).name: Path(a.path).exists() for a in store.get_run(run_id).artifacts}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_apply_removes_expired_screenshots_and_traces_and_audit_verify_still_passes(
    store: RunStore, runs: FinishedRuns
) -> None:
    old = runs.add(40)
    recent = runs.add(5)
    ok("audit", "anchor")  # the head noted down before anything is deleted

    dry = ok("retention", "apply", "--dry-run").stdout
    assert "would delete     1 screenshot" in dry and "would delete     1 trace" in dry
    assert all(files_of(store, old.id).values())

    done = ok("retention", "apply").stdout
    assert "default      deleted     1 screenshot" in done
    assert "deleted     1 trace" in done and "kept 30 days" in done
    assert files_of(store, old.id) == {
        "failure.png": False,
        "failure.html": False,
        "failure-url.txt": False,
        "trace.zip": False,
        "run.log.jsonl": True,
    }
    assert all(files_of(store, recent.id).values())
    verified = ok("audit", "verify").stdout
    assert verified.startswith("ok: ") and "1 anchors agree" in verified

    shown = ok("show", str(old.id)).stdout
    today = f"{utc_now():%Y-%m-%d}"
    shot = old.artifacts[0]
    assert f"failure.png  sha256={shot.sha256[:16]}…  deleted by retention on {today}" in shown
    assert shown.count(f"deleted by retention on {today}") == 4
    again = as_json("retention", "apply")
    assert (again["deleted"], again["finished_from_before"]) == ([], 0)


def test_show_prints_each_tenants_periods_and_its_queues(
    store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bots.yaml"
    config.write_text("tenants:\n  marburg:\n    retention:\n      evidence_days: 7\n", "utf-8")
    monkeypatch.setenv("BOTS_CONFIG", str(config))
    ok("queue", "create", "gewerbe", "--retention-days", "90", "--tenant", "marburg")

    shown = ok("retention", "show").stdout.splitlines()

    assert "tenant default (the global setting):" in shown
    assert "tenant marburg (its own setting):" in shown
    marburg = shown[shown.index("tenant marburg (its own setting):") :]
    kinds = "download, html, output, screenshot, trace, url"
    assert marburg[1] == f"  evidence      7 days after the run ended: {kinds}"
    assert "  queue gewerbe: payloads 90 days after an item ended" in marburg
    (only,) = as_json("retention", "show", "--tenant", "marburg")
    assert only["own_setting"] is True
    days = {period["period"]: period["days"] for period in only["periods"]}
    assert days == {"evidence": 7, "reports": 365, "logs": 365}


def test_only_an_admin_deletes_and_only_in_its_own_tenant(
    store: RunStore, runs: FinishedRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTS_TOKEN_FILE", str(tmp_path / "token"))  # never the developer's
    old = runs.add(40)
    admin = ok("users", "add", "anna", "--tenant", "default", "--role", "admin").stdout.strip()
    operator = ok(
        "users", "add", "olaf", "--tenant", "default", "--role", "operator", token=admin
    ).stdout.strip()

    refused = bots("retention", "apply", token=operator)
    assert refused.exit_code == 2 and "may not retention apply" in refused.stderr
    other = bots("retention", "apply", "--tenant", "marburg", token=admin)
    assert other.exit_code == 2 and "cannot act on tenant 'marburg'" in other.stderr
    assert all(files_of(store, old.id).values())
    assert "evidence" in ok("retention", "show", token=operator).stdout

    ok("retention", "apply", token=admin)
    assert not files_of(store, old.id)["failure.png"]
    (entry, *_) = [e for e in store.export_audit() if e["action"] == "artifacts deleted"]
    assert entry["actor"] == "user:anna@default"
