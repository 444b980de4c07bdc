"""No secret value reaches disk: not in artifacts, traces, logs or the run history."""

from __future__ import annotations

import html
import io
import json
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.results import RunStatus
from orchestrator.settings import Settings
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

HOOKS = """
def audit(ctx, password):
    ctx.log.info("checking the password", password=password, length=len(password))
    (ctx.run_dir / "hook-output.txt").write_text(f"used {password}")
    ctx.artifact("hook-output.txt")
    (ctx.run_dir / "scratch.json").write_text(repr({"pw": password}))  # not kept: swept
"""


def _forms(value: str) -> dict[str, bytes]:
    forms = {
        "raw": value,
        "quote": quote(value),
        "quote safe=''": quote(value, safe=""),
        "quote_plus": quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "json unicode": json.dumps(value, ensure_ascii=False)[1:-1],
        "html": html.escape(value),
    }
    encoded = {name: form.encode() for name, form in forms.items()}
    encoded["raw latin-1"] = value.encode("latin-1")
    return encoded


def _contents(path: Path, data: bytes) -> list[tuple[str, bytes]]:
    """The file's bytes plus, for a zip, every member's (recursively)."""
    found = [(str(path), data)]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                found += _contents(path / name, archive.read(name))
    return found


def _scan(root: Path, forms: dict[str, bytes]) -> tuple[list[str], list[tuple[str, bytes]]]:
    everything = [
        item for file in sorted(root.rglob("*")) if file.is_file()
        for item in _contents(file, file.read_bytes())
    ]  # fmt: skip
    leaks = [
        f"{name} form in {where}"
        for where, data in everything
        for name, form in forms.items()
        if form in data
    ]
    return leaks, everything


@pytest.mark.browser
def test_a_password_leaves_no_trace_on_disk(
    settings: Settings, store: RunStore, make_bot: MakeBot, site: Any
) -> None:
    password = f"Pä$$ w0rd&x=1/{secrets.token_hex(4)}\"<'"
    bot = make_bot(
        [
            {"goto": "{{ targets.site }}/login"},
            {"fill": {"label": "Benutzername"}, "value": "rpa-gewerbe"},
            {"fill": {"label": "Passwort"}, "value": "{{ secrets.pw }}"},
            {"call": "hooks:audit", "with": {"password": "{{ secrets.pw }}"}},
            {"click": {"role": "button", "name": "Anmelden"}},
            {"wait_for": {"text": "Willkommen"}},
            {"click": {"role": "button", "name": "Abmelden"}, "timeout": 0.5},  # fails
        ],
        hooks=HOOKS,
        secrets=["pw"],
        trace="always",
    )
    record = run_bot(bot, settings=settings, store=store,
                     secrets=MappingSecretProvider({"pw": password}))  # fmt: skip

    assert record.status == RunStatus.FAILED and record.error_step == "steps[6]"
    assert {"screenshot", "trace", "html", "url", "log", "output"} <= {
        str(a.kind) for a in record.artifacts
    }
    # The password did travel: the site got it in the POST body.
    assert quote_plus(password).encode() in b"".join(site.posts)

    forms = _forms(password)
    leaks, scanned = _scan(settings.data_dir, forms)
    assert leaks == []
    # The scan looks where the password would be: inside the trace, at the fill and the POST.
    trace_members = [where for where, _ in scanned if "trace.zip/" in where]
    assert any(m.endswith(".trace") for m in trace_members)
    assert any(b"rpa-gewerbe" in data for where, data in scanned if "trace.zip/" in where)
    assert any(b"***" in data for where, data in scanned if "trace.zip/" in where)
    database = Path(settings.database.removeprefix("sqlite:///"))
    assert any(where == str(database) for where, _ in scanned)


@pytest.mark.browser
def test_no_leak_when_logging_into_the_civento_sandbox(
    settings: Settings, store: RunStore, make_bot: MakeBot, tmp_path: Path
) -> None:
    server = pytest.importorskip("sandbox.server")
    password = f"Pä$$ w0rd&x=1%{secrets.token_hex(4)}"
    sandbox_settings = settings.sandbox.model_copy(update={"password": password, "cases": 2})
    with server.running_sandbox(tmp_path / "sandbox-state", sandbox_settings) as sandbox:
        run_settings = settings.model_copy(update={"targets": {"civento": sandbox.base_url}})
        bot = make_bot(
            [
                {"goto": "{{ targets.civento }}/civento/login"},
                {"fill": {"label": "Benutzername"}, "value": "rpa-gewerbe"},
                {"fill": {"label": "Passwort"}, "value": "{{ secrets.pw }}"},
                {"click": {"role": "button", "name": "Anmelden"}},
                {"wait_for": {"url": "**/posteingang**"}},
                {"assert": "false", "message": "stop here, with all evidence"},
            ],
            secrets=["pw"],
            targets=["civento"],
            trace="always",
        )
        record = run_bot(bot, settings=run_settings, store=store,
                         secrets=MappingSecretProvider({"pw": password}))  # fmt: skip
    assert record.status == RunStatus.FAILED and record.error_step == "steps[5]", record.error
    leaks, scanned = _scan(settings.data_dir, _forms(password))
    assert leaks == []
    assert any(where.endswith("trace.zip/trace.network") for where, _ in scanned)
