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
from pathlib import Path
from typing import Any

from benchmarks.handwritten import transfer_cases
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.errors import QueueNotFound
from orchestrator.model.loader import resolve_bot
from orchestrator.settings import load_settings
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
    state = read_state(sandbox_dir)
    done = state["vorgaenge_by_status"].get("Übertragen", 0)
    if done < cases or state["duplicates"]:
        raise SystemExit(f"{who} did not transfer all {cases} cases exactly once: {state}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), trace="never")
        sandbox_settings = settings.sandbox.model_copy(update={"cases": args.cases})
        password = sandbox_settings.password
        seed(settings.sandbox_dir, sandbox_settings, reset=True)
        bot = resolve_bot(BOT, settings.bot_dirs)
        store = open_store(settings.database)
        secrets = MappingSecretProvider(
            {"civento_password": password, "gewerberegister_password": password}
        )
        script_times: list[float] = []
        engine_times: list[float] = []
        with running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox:
            targets = {
                "civento": f"{sandbox.base_url}/civento",
                "gewerberegister": f"{sandbox.base_url}/gewerberegister",
            }
            run_settings = settings.model_copy(update={"targets": targets})
            for _ in range(args.rounds):
                seed(settings.sandbox_dir, sandbox_settings, reset=True)
                start = time.perf_counter()
                transfer_cases(
                    targets["civento"], targets["gewerberegister"], password, settings.chromium
                )
                script_times.append(time.perf_counter() - start)
                _check_transferred(settings.sandbox_dir, args.cases, "hand-written script")

                seed(settings.sandbox_dir, sandbox_settings, reset=True)
                forget_queue(store, settings.tenant)  # the reseeded cases are new again
                start = time.perf_counter()
                record = run_bot(
                    bot, settings=run_settings, store=store, trigger="benchmark", secrets=secrets
                )
                engine_times.append(time.perf_counter() - start)
                if str(record.status) != "succeeded":
                    raise SystemExit(f"engine run failed: {record.error}")
                _check_transferred(settings.sandbox_dir, args.cases, "engine")
        store.close()

    script = statistics.median(script_times)
    engine = statistics.median(engine_times)
    print(f"cases: {args.cases}")
    print(f"rounds: {args.rounds}")
    print(f"handwritten_median_s: {script:.2f}")
    print(f"engine_median_s: {engine:.2f}")
    print(f"engine_overhead_ratio: {engine / script:.3f}")


if __name__ == "__main__":
    main()
