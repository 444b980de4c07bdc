"""Fault injection: 503 share, retry succeeds, static files and control endpoints spared."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.state import read_state


def test_health_and_runtime_fault_changes(client: httpx.Client) -> None:
    assert client.get("/_sandbox/health").json()["faults"]["fault_rate"] == 0.0
    changed = client.post("/_sandbox/faults", json={"fault_rate": 0.25, "latency_ms": 10})
    assert changed.json()["fault_rate"] == 0.25 and changed.json()["latency_ms"] == 10
    assert client.post("/_sandbox/faults", json={"fault_rate": 2}).status_code == 422
    assert client.post("/_sandbox/faults", json={"colour": "red"}).status_code == 422


def test_share_of_503_and_an_immediate_retry_succeeds(client: httpx.Client) -> None:
    client.post("/_sandbox/faults", json={"fault_rate": 0.5})
    codes = [client.get("/civento/login").status_code for _ in range(200)]
    failures = codes.count(503)
    assert 50 < failures < 130
    for index, code in enumerate(codes[:-1]):
        if code == 503:
            assert codes[index + 1] == 200, "a repeated request must not fail twice in a row"
    assert all(client.get("/civento/static/vorgang.js").status_code == 200 for _ in range(30))
    assert all(client.get("/_sandbox/health").status_code == 200 for _ in range(30))


def test_a_failed_post_changed_nothing(civento: httpx.Client, sandbox_dir: Path) -> None:
    client = civento
    nummer = next(v["nummer"] for v in read_state(sandbox_dir)["vorgaenge"] if v["status"] == "Neu")
    client.post("/_sandbox/faults", json={"fault_rate": 1.0})
    first = client.post(f"/civento/api/vorgang/{nummer}", json={"status": "In Bearbeitung"})
    assert first.status_code == 503
    states = {v["nummer"]: v["status"] for v in read_state(sandbox_dir)["vorgaenge"]}
    assert states[nummer] == "Neu"
    retry = client.post(f"/civento/api/vorgang/{nummer}", json={"status": "In Bearbeitung"})
    assert retry.status_code == 200
