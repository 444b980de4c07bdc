"""Engine overhead: the same transfer by a hand-written Playwright script and by the engine.

Both log in and transfer the same number of new Gewerbeanmeldungen (20 by default) from the
Civento stand-in into the Gewerberegister. Rounds alternate (script, engine, script, ...) on a
freshly seeded sandbox each time, so drift of the machine hits both alike. Prints the median
times and ``engine_overhead_ratio`` = median engine time / median script time (target: <= 1.05).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.handwritten import transfer_cases
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.errors import QueueNotFound
from orchestrator.model.loader import resolve_bot
from orchestrator.settings import Settings, load_settings
from orchestrator.store import open_store
from sandbox.seed import seed
from sandbox.server import running_sandbox
from sandbox.state import read_state

BOT = "gewerbe-uebertragung"
QUEUE = "gewerbeanmeldungen"


def forget_queue(store: Any, tenant: str) -> None:
    """Delete the bot's work queue: a sandbox seeded afresh brings the same numbers again."""
    try:
        store.queues.delete_queue(tenant, QUEUE, actor="benchmark")
    except QueueNotFound:
        pass


def _check_transferred(sandbox_dir: Path, cases: int, who: str) -> None:
    """Say so when ``who`` left cases untransferred or transferred one twice: a busy machine
    makes a case time out now and then; the time of the round still stands."""
    state = read_state(sandbox_dir)
    done = state["vorgaenge_by_status"].get("Übertragen", 0)
    if done < cases or state["duplicates"]:
        print(f"{who}_left: {cases - done} of {cases}, duplicates {state['duplicates']}")


#: One round of the tool measured against the script: ``(targets, settings, secrets)``.
Transfer = Callable[[dict[str, str], Settings, dict[str, str]], None]


def side_by_side(cases: int, rounds: int, who: str, transfer: Transfer) -> tuple[float, float]:
    """Median seconds of the hand-written script and of ``transfer`` over ``rounds``
    alternating rounds of ``cases`` cases, each on a freshly seeded sandbox.

    ``transfer`` gets the sandbox's target URLs, the settings (a throw-away data dir, whose
    store holds the bot's work queue, forgotten before each round) and the secrets.
    """
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), trace="never")
        sandbox_settings = settings.sandbox.model_copy(update={"cases": cases})
        password = sandbox_settings.password
        seed(settings.sandbox_dir, sandbox_settings, reset=True)
        secrets = {"civento_password": password, "gewerberegister_password": password}
        script_times: list[float] = []
        tool_times: list[float] = []
        with running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox:
            targets = {
                "civento": f"{sandbox.base_url}/civento",
                "gewerberegister": f"{sandbox.base_url}/gewerberegister",
            }
            run_settings = settings.model_copy(update={"targets": targets})
            for _ in range(rounds):
                seed(settings.sandbox_dir, sandbox_settings, reset=True)
                start = time.perf_counter()
                transfer_cases(
                    targets["civento"], targets["gewerberegister"], password, settings.chromium
                )
                script_times.append(time.perf_counter() - start)
                _check_transferred(settings.sandbox_dir, cases, "handwritten")

                seed(settings.sandbox_dir, sandbox_settings, reset=True)
                with open_store(settings.database) as store:
                    forget_queue(store, settings.tenant)  # the reseeded cases are new again
                start = time.perf_counter()
                transfer(targets, run_settings, secrets)
                tool_times.append(time.perf_counter() - start)
                _check_transferred(settings.sandbox_dir, cases, who)
    return statistics.median(script_times), statistics.median(tool_times)


def _engine(targets: dict[str, str], settings: Settings, secrets: dict[str, str]) -> None:
    with open_store(settings.database) as store:
        record = run_bot(
            resolve_bot(BOT, settings.bot_dirs),
            settings=settings,
            store=store,
            trigger="benchmark",
            secrets=MappingSecretProvider(secrets),
        )
    if str(record.status) != "succeeded":
        print(f"engine_run: {record.status}: {record.error}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    script, engine = side_by_side(args.cases, args.rounds, "engine", _engine)
    print(f"cases: {args.cases}")
    print(f"rounds: {args.rounds}")
    print(f"handwritten_median_s: {script:.2f}")
    print(f"engine_median_s: {engine:.2f}")
    print(f"engine_overhead_ratio: {engine / script:.3f}")


if __name__ == "__main__":
    main()
