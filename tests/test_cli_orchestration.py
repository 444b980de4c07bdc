"""What admins rely on from the orchestration commands: exit 75 for a busy bot, tenant
scoping, the audit trail's verdict, and handing runs to robots.

Commands run in this process (``CliRunner``); runs that must hold a bot while another
command runs, be killed or be signalled, and robots, are processes of their own.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import app

ROOT = Path(__file__).resolve().parent.parent

# A bot whose first step leaves a mark in a file standing in for the target system, then
# works for a while: long enough for a second `bots run` to find it running.
SLOW_BOT = """\
id: langsam
name: Langsamer Bot
version: 1.0.0
owner: {city: Wetzlar, fachamt: Ordnungsamt}
parameters:
  wait: {type: boolean, default: true}
execution: {retry_safe: false}
steps:
  - call: hooks:touch_target
  - pause: 30
    when: params.wait
"""
HOOKS = """\
import os


def touch_target(ctx):
    with open(os.environ["TARGET_FILE"], "a", encoding="utf-8") as target:
        target.write(f"{ctx.tenant} {ctx.run_id}\\n")
"""

# A bot whose first attempt fails (the Fachverfahren "does not answer") and whose second
# succeeds: each attempt leaves a line in the target file.
FLAKY_BOT = """\
id: wackelig
name: Wackeliger Bot
version: 1.0.0
owner: {city: Marburg, fachamt: Bürgerbüro}
execution: {retries: {attempts: 3, backoff_s: 0.2}}
steps:
  - call: hooks:answer_on_second_try
"""
FLAKY_HOOKS = """\
import os


def answer_on_second_try(ctx):
    with open(os.environ["TARGET_FILE"], "a+", encoding="utf-8") as target:
        target.seek(0)
        earlier = target.read().count("wackelig")
        target.write(f"wackelig {ctx.run_id}\\n")
    if not earlier:
        raise RuntimeError("Fachverfahren antwortet nicht")
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment for `bots` subprocesses: own data dir, the test bot, the target file."""
    bots_dir = tmp_path / "bots"
    (bots_dir / "langsam").mkdir(parents=True)
    (bots_dir / "langsam" / "bot.yaml").write_text(SLOW_BOT, encoding="utf-8")
    (bots_dir / "langsam" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    (bots_dir / "wackelig").mkdir()
    (bots_dir / "wackelig" / "bot.yaml").write_text(FLAKY_BOT, encoding="utf-8")
    (bots_dir / "wackelig" / "hooks.py").write_text(FLAKY_HOOKS, encoding="utf-8")
    return {
        "BOTS_DATA_DIR": str(tmp_path / "data"),
        "BOTS_BOT_DIRS": json.dumps([str(bots_dir)]),
        "TARGET_FILE": str(tmp_path / "target.txt"),
        "BOTS_ORCHESTRATOR__LEASE_S": "3",
        "PYTHONPATH": str(ROOT),
    }


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", "import cli; cli.main()", *args]


def bots(*args: str, env: dict[str, str]) -> Result:
    """``bots ARGS`` in this process, with ``env`` on top of the environment."""
    return CliRunner().invoke(app, list(args), env=env)


def target_lines(env: dict[str, str]) -> list[str]:
    path = Path(env["TARGET_FILE"])
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_second_run_of_a_running_bot_exits_75_without_touching_the_target(
    env: dict[str, str],
) -> None:
    first = subprocess.Popen(
        command("run", "langsam"), cwd="/", env={**os.environ, **env}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_until(lambda: len(target_lines(env)) == 1)
        second = bots("run", "langsam", "-p", "wait=false", env=env)
        assert second.exit_code == 75, second.stdout + second.stderr
        assert "langsam" in second.stderr and "Traceback" not in second.stderr
        assert len(target_lines(env)) == 1  # the second run never reached the target
        listed = json.loads(bots("runs", "list", "--json", env=env).stdout)
        assert [r["status"] for r in listed] == ["running"]
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    listed = json.loads(bots("runs", "list", "--json", env=env).stdout)
    assert [r["status"] for r in listed] == ["cancelled"]
    # Once the bot is free again, it runs.
    third = bots("run", "langsam", "-p", "wait=false", env=env)
    assert third.exit_code == 0, third.stdout + third.stderr


def test_a_killed_run_does_not_block_the_bot_after_its_lease_ran_out(
    env: dict[str, str],
) -> None:
    first = subprocess.Popen(command("run", "langsam"), cwd="/", env={**os.environ, **env})
    wait_until(lambda: len(target_lines(env)) == 1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert bots("run", "langsam", "-p", "wait=false", env=env).exit_code == 75
    time.sleep(3.5)  # the lease (3 s) runs out
    again = bots("run", "langsam", "-p", "wait=false", env=env)
    assert again.exit_code == 0, again.stdout + again.stderr
    statuses = [r["status"] for r in json.loads(bots("runs", "list", "--json", env=env).stdout)]
    assert statuses == ["succeeded", "lost"]


def test_one_city_cannot_see_or_act_on_anothers_runs(env: dict[str, str]) -> None:
    giessen = {**env, "BOTS_TENANT": "giessen"}
    marburg = {**env, "BOTS_TENANT": "marburg"}
    queued = bots("run", "langsam", "--enqueue", "--json", env=giessen)
    assert queued.exit_code == 0, queued.stderr
    run_id = str(json.loads(queued.stdout)["id"])

    assert json.loads(bots("runs", "list", "--json", env=marburg).stdout) == []
    assert json.loads(bots("history", "--json", env=marburg).stdout) == []
    for args in (["show", run_id], ["runs", "cancel", run_id], ["runs", "retry", run_id]):
        refused = bots(*args, env=marburg)
        assert refused.exit_code == 2, (args, refused.stdout, refused.stderr)
        assert f"no run with id {run_id}" in refused.stderr
    # ... while Gießen still sees its run, untouched, and may cancel it.
    listed = json.loads(bots("runs", "list", "--json", env=giessen).stdout)
    assert [(str(r["id"]), r["status"]) for r in listed] == [(run_id, "queued")]
    assert bots("runs", "cancel", run_id, env=giessen).exit_code == 0
    assert json.loads(bots("show", run_id, "--json", env=giessen).stdout)["status"] == "cancelled"


def test_audit_verify_names_an_entry_edited_behind_the_applications_back(
    env: dict[str, str], tmp_path: Path
) -> None:
    for _ in range(2):
        assert bots("run", "langsam", "-p", "wait=false", env=env).exit_code == 0
    verified = bots("audit", "verify", env=env)
    assert verified.exit_code == 0, verified.stderr
    assert "entries checked" in verified.stdout

    exported = bots("audit", "export", "-o", str(tmp_path / "audit.jsonl"), env=env)
    assert exported.exit_code == 0, exported.stderr
    entries = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert len(entries) >= 8  # 2 runs: queued, claimed, running, succeeded
    victim = entries[3]["seq"]

    database = sqlite3.connect(tmp_path / "data" / "bots.sqlite")
    with database:
        triggers = database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        ).fetchall()
        for (name,) in triggers:  # an attacker with database access drops the guards
            database.execute(f'DROP TRIGGER "{name}"')
        database.execute("UPDATE audit_log SET actor = 'user:niemand' WHERE seq = ?", (victim,))
    database.close()

    broken = bots("audit", "verify", env=env)
    assert broken.exit_code == 1
    assert f"entry {victim}" in broken.stderr


def test_audit_anchor_lets_verify_see_the_newest_entries_deleted(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert bots("run", "langsam", "-p", "wait=false", env=env).exit_code == 0
    anchored = bots("audit", "anchor", env=env)
    assert anchored.exit_code == 0, anchored.stderr
    anchors = tmp_path / "data" / "audit-anchors.jsonl"
    head = json.loads(anchors.read_text().splitlines()[-1])
    assert f"noted entry {head['seq']}" in anchored.stdout
    assert "1 anchors agree" in bots("audit", "verify", env=env).stdout

    database = sqlite3.connect(tmp_path / "data" / "bots.sqlite")
    with database:
        for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            database.execute(f'DROP TRIGGER "{name}"')
        database.execute("DELETE FROM audit_log WHERE seq >= ?", (head["seq"] - 1,))
    database.close()

    broken = bots("audit", "verify", env=env)
    assert broken.exit_code == 1
    assert f"broken at entry {head['seq'] - 1}: deleted" in broken.stderr
    refused = bots("audit", "anchor", env=env)  # a truncated head is no anchor
    assert refused.exit_code == 1
    assert len(anchors.read_text().splitlines()) == 1

    anchors.write_text("kein JSON\n")
    malformed = bots("audit", "verify", env=env)
    assert malformed.exit_code == 2
    assert f"{anchors}:1: not an audit anchor" in malformed.stderr
    assert "Traceback" not in malformed.stderr


def test_enqueued_run_is_executed_by_a_robot_and_wait_exits_with_its_outcome(
    env: dict[str, str],
) -> None:
    robot = subprocess.Popen(
        command("robot", "start", "--labels", "browser", "--name", "robot-1"),
        cwd="/", env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        done = bots("run", "langsam", "-p", "wait=false", "--enqueue", "--wait", env=env)
        assert done.exit_code == 0, done.stdout + done.stderr
        assert target_lines(env) and target_lines(env)[0].startswith("default ")
    finally:
        robot.send_signal(signal.SIGTERM)
        assert robot.wait(timeout=60) == 0


def test_standalone_run_retries_a_failed_attempt_as_the_bot_says(env: dict[str, str]) -> None:
    done = bots("run", "wackelig", env=env)
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "Fachverfahren antwortet nicht; next attempt in 0.2 s" in done.stderr
    history = json.loads(bots("history", "wackelig", "--json", env=env).stdout)
    first, second = sorted(history, key=lambda run: run["id"])
    assert (first["status"], second["status"]) == ("failed", "succeeded")
    assert second["trigger"] == "retry"
    assert len(target_lines(env)) == 2  # two attempts, no third


def test_wait_follows_an_enqueued_run_through_its_retries(env: dict[str, str]) -> None:
    robot = subprocess.Popen(
        command("robot", "start", "--name", "robot-1"),
        cwd="/", env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        done = bots("run", "wackelig", "--enqueue", "--wait", "--json", env=env)
        assert done.exit_code == 0, done.stdout + done.stderr
        assert "following its retry" in done.stderr
        assert json.loads(done.stdout)["status"] == "succeeded"
    finally:
        robot.send_signal(signal.SIGTERM)
        assert robot.wait(timeout=60) == 0
    assert len(target_lines(env)) == 2


def test_an_operator_sees_robots_and_what_they_hold(env: dict[str, str]) -> None:
    robot = subprocess.Popen(
        command("robot", "start", "--name", "robot-1"),
        cwd="/", env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        queued = bots("run", "langsam", "--enqueue", env=env)
        assert queued.exit_code == 0, queued.stdout + queued.stderr
        wait_until(lambda: len(target_lines(env)) == 1)

        (listed,) = json.loads(bots("robot", "list", "--json", env=env).stdout)
        (run,) = json.loads(bots("runs", "list", "--json", env=env).stdout)
        shown = bots("show", str(run["id"]), env=env).stdout
    finally:
        robot.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        robot.send_signal(signal.SIGTERM)  # the second one cancels the running run
        assert robot.wait(timeout=60) == 0

    assert (listed["name"], listed["state"], listed["runs"]) == ("robot-1", "alive", [run["id"]])
    assert listed["instance"].startswith("robot-1#") and listed["labels"] == ["browser"]
    assert datetime.fromisoformat(listed["heartbeat_at"]).tzinfo is not None
    assert (run["status"], run["holder"]) == ("running", listed["instance"])
    assert (run["attempt"], run["retries_left"], run["robot_losses"]) == (1, 0, 0)
    assert datetime.fromisoformat(run["lease_expires_at"]) > datetime.fromisoformat(
        run["started_at"]
    )
    assert f"holder:     {listed['instance']}" in shown
    assert "attempt:    1 of 1 (0 retries left)   robot losses: 0" in shown
    (after,) = json.loads(bots("robot", "list", "--json", env=env).stdout)
    assert (after["state"], after["runs"]) == ("gone", [])
    assert "robot-1  gone" in bots("robot", "list", env=env).stdout
