"""The case, not the run, is done exactly once: kills at every save boundary, and chaos.

The sandbox holds the bot at an exact request (:mod:`sandbox.breakpoints`) while the test
kills it, so every boundary between two saves is hit on purpose, not by luck. Whether a case
was done once is read from the sandbox's own state: its status, its history (``verlauf``)
and the register.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.results import RunStatus
from orchestrator.settings import PROJECT_ROOT, load_settings
from orchestrator.store import RunStore, open_store
from sandbox.db import db_path
from sandbox.postgres import PostgresServer
from sandbox.seed import seed
from sandbox.server import RunningSandbox, running_sandbox
from sandbox.state import read_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BOT = "gewerbe-uebertragung"


# ----------------------------------------------------------------------------- helpers


def new_cases(sandbox_dir: Path) -> set[str]:
    return {
        v["nummer"]
        for v in read_state(sandbox_dir)["vorgaenge"]
        if v["status"] == "Neu" and v["leistung"] == "Gewerbeanmeldung"
    }


def assert_each_case_done_once(sandbox_dir: Path, numbers: set[str]) -> None:
    """Every case "Übertragen", moved there once, with exactly one register entry."""
    state = read_state(sandbox_dir)
    assert state["duplicates"] == []
    register: dict[str, list[str]] = {}
    for entry in state["register"]:
        register.setdefault(entry["bezugszeichen"], []).append(entry["aktenzeichen"])
    with sqlite3.connect(db_path(sandbox_dir)) as conn:
        moves = Counter(
            nummer
            for (nummer,) in conn.execute(
                "SELECT v.nummer FROM verlauf AS h JOIN vorgaenge AS v ON v.id = h.vorgang_id"
                " WHERE h.eintrag LIKE 'Status: % → Übertragen'"
            )
        )
    for vorgang in (v for v in state["vorgaenge"] if v["nummer"] in numbers):
        nummer = vorgang["nummer"]
        assert vorgang["status"] == "Übertragen", vorgang
        assert register.get(nummer) == [vorgang["aktenzeichen"]], (vorgang, register.get(nummer))
        assert moves[nummer] == 1, f"{nummer} moved to Übertragen {moves[nummer]} times"


def bot_env(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    password = load_settings().sandbox.password
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "BOTS_TARGETS__CIVENTO": sandbox.civento_url,
        "BOTS_TARGETS__GEWERBEREGISTER": sandbox.gewerberegister_url,
        "BOTS_SECRET_CIVENTO_PASSWORD": password,
        "BOTS_SECRET_GEWERBEREGISTER_PASSWORD": password,
        "BOTS_STEP_TIMEOUT_S": "10",
        "BOTS_LOG_LEVEL": "warning",
        **extra,
    }


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and everything it started (its browser too), as a crash would."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def runs_settled(store: RunStore) -> bool:
    """Nothing runs and nothing queued is due; a retry queued with its backoff may still wait
    (it is not active)."""
    now = datetime.now(UTC)
    return not any(
        r.status in ("claimed", "running")
        or (r.status == "queued" and (r.not_before is None or r.not_before <= now))
        for r in store.list_runs(limit=1000)
    )


# ----------------------------------------------------------------------------- save boundaries

# Where the bot is stopped: the request that is held (never applied) when it dies.
BOUNDARIES = {
    # Before the register entry exists: nothing was done for the case yet.
    "before the register entry": ("POST", "/gewerberegister/neu", None),
    # Register entry made, Civento not yet told: the case is still "Neu".
    "between the entry and the write-back": ("POST", "/civento/api/vorgang/.*", "Bearbeitung"),
    # Aktenzeichen written with "In Bearbeitung", the second save missing.
    "between the two status saves": ("POST", "/civento/api/vorgang/.*", "Übertragen"),
}


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_a_bot_killed_at_a_save_boundary_is_completed_by_the_next_run(
    boundary: str, tmp_path: Path
) -> None:
    settings = load_settings()
    sandbox_settings = settings.sandbox.model_copy(update={"cases": 3})
    seed(settings.sandbox_dir, sandbox_settings, reset=True)
    numbers = new_cases(settings.sandbox_dir)
    method, path, body = BOUNDARIES[boundary]
    with running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox:
        # A short lease: the killed run holds the bot only briefly (no-overlap rule).
        env = bot_env(sandbox, BOTS_ORCHESTRATOR__LEASE_S="2")
        breakpoints = sandbox.app.state.breakpoints
        held = breakpoints.add(method, path, body)
        with (tmp_path / "killed.log").open("wb") as log:
            doomed = subprocess.Popen(
                [sys.executable, "-c", "import cli; cli.main()", "run", BOT, "--no-retry"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd="/",
                start_new_session=True,
            )
        try:
            wait_for(
                lambda: held.state == "held" or doomed.poll() is not None, 300, "the breakpoint"
            )
            assert held.state == "held", (tmp_path / "killed.log").read_text()
        finally:
            kill_group(doomed)
            breakpoints.release(held.id, "fail")  # the held request never reaches the app

        half_done = read_state(settings.sandbox_dir)["vorgaenge"]
        if boundary == "between the two status saves":
            stuck = [v for v in half_done if v["nummer"] in numbers and v["status"] != "Neu"]
            assert [(v["status"], bool(v["aktenzeichen"])) for v in stuck] == [
                ("In Bearbeitung", True)
            ], half_done
        # Cases a person has taken over ("In Bearbeitung" without Aktenzeichen) stay theirs.
        persons = {
            v["nummer"]
            for v in half_done
            if v["status"] == "In Bearbeitung" and not v["aktenzeichen"]
        }

        def run_again() -> subprocess.CompletedProcess[str] | None:
            done = subprocess.run(
                [sys.executable, "-c", "import cli; cli.main()", "run", BOT, "--no-retry"],
                capture_output=True,
                text=True,
                env=env,
                cwd="/",
                timeout=600,
            )
            return None if done.returncode == 75 else done  # the dead run's lease still holds

        again = wait_for(run_again, 120, "the killed run's lease to run out")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_each_case_done_once(settings.sandbox_dir, numbers)
    after = {v["nummer"]: v for v in read_state(settings.sandbox_dir)["vorgaenge"]}
    assert persons and all(after[n]["status"] == "In Bearbeitung" for n in persons)


# ----------------------------------------------------------------------------- chaos

LEASE_S = 3.0
CHAOS_CASES = 40
CHAOS_RUNS = 10
KILLS = 9
# Runs started after the chaos for cases a failed run left (at most one is needed per
# failure mode; a few allow for a slow machine).
FOLLOW_UP_RUNS = 3


@pytest.fixture
def pg_store(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunStore]:
    url = postgres_server.new_database()
    monkeypatch.setenv("BOTS_DATABASE_URL", url)
    monkeypatch.setenv("BOTS_TENANT", "giessen")
    with open_store(url) as store:
        yield store


class Robots:
    """Robot processes by name; a name can be restarted after a kill."""

    def __init__(self, env: dict[str, str], logs: Path, store: RunStore) -> None:
        self.env, self.logs, self.store = env, logs, store
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "import cli; cli.main()", "robot", "start", "--name", name],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        self.processes[name] = process

        def registered() -> bool:
            assert process.poll() is None, (self.logs / f"{name}.log").read_text()
            robot = self.store.robot(name)
            return robot is not None and robot.pid == process.pid

        wait_for(registered, 60, f"robot {name} to register")

    def kill(self, name: str) -> None:
        kill_group(self.processes.pop(name))

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in list(self.processes.items()):
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                kill_group(process)
            del self.processes[name]


# Its own limit, far above the run time on a quiet machine (about 3 minutes): every wait in
# it has a limit of its own, for the state it waits for.
@pytest.mark.timeout(2400)
def test_chaos_every_case_done_exactly_once_with_robots_killed_and_restarted(
    pg_store: RunStore, tmp_path: Path
) -> None:
    from orchestrator.model.loader import resolve_bot
    from orchestrator.requests import run_request

    store = pg_store
    settings = load_settings()
    sandbox_settings = settings.sandbox.model_copy(update={"cases": CHAOS_CASES})
    seed(settings.sandbox_dir, sandbox_settings, reset=True)
    numbers = new_cases(settings.sandbox_dir)
    assert len(numbers) == CHAOS_CASES
    chance = random.Random(8)
    with running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox:
        env = bot_env(
            sandbox,
            BOTS_ORCHESTRATOR__LEASE_S=str(LEASE_S),
            BOTS_ORCHESTRATOR__REAP_EVERY_S="0.5",
            BOTS_ROBOT__POLL_S="0.1",
            BOTS_LOG_LEVEL="info",
        )
        robots = Robots(env, tmp_path, store)
        bot = resolve_bot(BOT, settings.bot_dirs)

        def enqueue() -> int:
            request = run_request(
                bot,
                settings=settings,
                tenant="giessen",
                params={},
                trigger="api",
                actor="user:chaos@localhost",
            )
            return store.enqueue(request)

        def running() -> list[Any]:
            active = [r for r in store.list_runs() if r.status is RunStatus.RUNNING]
            if not active and runs_settled(store):
                runs.append(enqueue())  # the work ran out before the kills did: more comes
            return active

        runs = [enqueue() for _ in range(CHAOS_RUNS)]
        names = ["robot-a", "robot-b", "robot-c"]
        try:
            for name in names:
                robots.start(name)
            restarted_same_name = 0
            for kill in range(KILLS):
                wait_for(running, 300, "a running run")
                time.sleep(chance.uniform(1.0, 6.0))  # somewhere in the middle of the work
                holders = {r.holder for r in store.list_runs() if r.status is RunStatus.RUNNING}
                holding = [n for n in robots.processes if any(
                    h and h.startswith(n + "#") for h in holders
                )]  # fmt: skip
                idle = [n for n in robots.processes if n not in holding]
                aim_at_idle = kill % 4 == 3 and idle
                victim = chance.choice(idle if aim_at_idle else holding or list(robots.processes))
                before = store.robot(victim)
                assert before is not None
                robots.kill(victim)
                if kill % 2 == 0:  # a systemd unit with a fixed name restarts it
                    robots.start(victim)
                    restarted_same_name += 1
                    # Nothing is held by the dead instance once its successor registered
                    # (that the restart hands it back at once, not the lease, is proven by
                    # test_robot_processes with a lease of 600 s).
                    assert before.instance not in store.runs_held()
                else:
                    robots.start(f"{victim}-{kill}")
            assert restarted_same_name >= 4

            wait_for(lambda: runs_settled(store), 900, "every run to end")
            # A case whose run failed (a kill, a step timing out on a slow machine) stays
            # "Neu" for the next run, as the schedule would start it: the test starts that run
            # instead of waiting out the bot's backoff, so how fast the machine is decides
            # how many runs it takes, never the outcome.
            for _ in range(FOLLOW_UP_RUNS):
                if not new_cases(settings.sandbox_dir) & numbers:
                    break
                runs.append(enqueue())
                wait_for(lambda: runs_settled(store), 600, "the follow-up run to end")
        finally:
            robots.stop_all()

    assert_each_case_done_once(settings.sandbox_dir, numbers)
    assert not [r for r in store.list_runs(limit=500) if r.status in ("claimed", "running")]
    assert all(store.get_run(run_id, details=False).status != "running" for run_id in runs)
    losses = sum(r.robot_losses for r in store.list_runs(limit=500))
    assert losses >= 1, "no kill hit a run"
    verify = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "audit", "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        cwd="/",
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
