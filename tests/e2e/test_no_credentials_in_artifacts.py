"""No session cookie or CSRF token the sandbox issued reaches any artifact of a run.

Two runs of `gewerbe-uebertragung` with `--trace always` while sessions expire every few page
views, so the bot logs in again and again: one forced to fail (the `Speichern` button never
appears: failure evidence on a Civento page with its CSRF meta tag), one that completes. Then
every file of the data directory, zips opened recursively, is searched for every value the
sandbox issued.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from _commands import bots

from orchestrator.settings import load_settings
from sandbox.seed import seed
from sandbox.server import running_sandbox
from sandbox.sessions import issued_credentials

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def contents(where: str, data: bytes) -> list[tuple[str, bytes]]:
    """The file's bytes plus, for a zip, every member's (recursively)."""
    found = [(where, data)]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                found += contents(f"{where}/{name}", archive.read(name))
    return found


def forms(value: str) -> dict[str, bytes]:
    return {
        "raw": value.encode(),
        "url-encoded": quote(value, safe="").encode(),
        "json-escaped": json.dumps(value)[1:-1].encode(),
    }


def test_no_issued_cookie_or_token_in_any_artifact(isolated_settings: Path) -> None:
    settings = load_settings()
    sandbox_settings = settings.sandbox.model_copy(update={"cases": 4, "expire_sessions_every": 10})
    seed(settings.sandbox_dir, sandbox_settings, reset=True)
    with running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox:
        env = {
            "BOTS_STEP_TIMEOUT_S": "5",
            "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
            "BOTS_TARGETS__GEWERBEREGISTER": sandbox.gewerberegister_url,
            "BOTS_SECRET_CIVENTO_PASSWORD": sandbox_settings.password,
            "BOTS_SECRET_GEWERBEREGISTER_PASSWORD": sandbox_settings.password,
        }
        run = ("run", "gewerbe-uebertragung", "--trace", "always", "--no-retry", "--json")
        sandbox.set_faults(late_elements_ms=600_000)  # no Speichern: the case fails
        failed = bots(*run, "-p", "max_cases=1", env=env)
        sandbox.set_faults(late_elements_ms=0)
        succeeded = bots(*run, env=env)
    assert failed.returncode == 0, failed.stdout + failed.stderr
    assert succeeded.returncode == 0, succeeded.stdout + succeeded.stderr
    # The first run's case failed (an application failure: tried again later), with evidence.
    items = json.loads(bots("queue", "items", "gewerbeanmeldungen", "--json", env={}).stdout)
    retrying = [item for item in items if item["status"] == "retrying"]
    assert len(retrying) == 1 and retrying[0]["evidence"], items

    issued = issued_credentials(settings.sandbox_dir)
    # Logins to both systems in both runs, and re-logins after expired sessions.
    assert len(issued["session_cookies"]) > 4, issued
    assert len(issued["csrf_tokens"]) > len(issued["session_cookies"])
    values = issued["session_cookies"] + issued["csrf_tokens"]

    scanned = [
        item
        for path in sorted(settings.data_dir.rglob("*"))
        if path.is_file() and settings.sandbox_dir not in path.parents
        for item in contents(str(path.relative_to(settings.data_dir)), path.read_bytes())
    ]
    leaks = [
        f"{form} form of an issued value in {where}"
        for where, data in scanned
        for value in values
        for form, encoded in forms(value).items()
        if encoded in data
    ]
    assert leaks == []

    # The scan looked where the credentials were: traces of both runs and the failure page,
    # each with the cookies and the token masked in place.
    traces = [where for where, _ in scanned if where.endswith("trace.zip")]
    assert len(traces) == 2
    network = b"".join(data for where, data in scanned if where.endswith(".network"))
    assert b"CIVENTOSESSION=***" in network and b"GRSESSIONID=***" in network
    assert re.search(rb'(?i)"name":"x-csrf-token","value":"\*\*\*"', network)
    pages = b"".join(data for where, data in scanned if where.endswith(".html"))
    assert b'<meta name="csrf-token" content="***">' in pages
    assert b'name="csrf_token" value="***"' in pages
