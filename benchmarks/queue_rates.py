"""Work-queue throughput: the example performer with 1, 2 and 4 cases at once in one robot.

The sandbox is seeded afresh for each setting (``--cases`` new Gewerbeanmeldungen, 24 by
default, with ``--latency-ms`` of asynchronous load time, as a Fachverfahren over the network
has); the bot ``gewerbe-uebertragung`` fills its queue and works through it with
``parallel`` = 1, 2, 4 browsers. The rate counts the items done per minute of the
``for_each_item`` step. Prints ``queue_items_per_minute_{1,2,4}`` and ``queue_scaling_4``
(rate at 4 / rate at 1; aim: at least 2.5, since most of a case's time is waiting for the
target system).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.engine_overhead import BOT, QUEUE, forget_queue
from orchestrator.engine import run_bot
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.model.loader import resolve_bot
from orchestrator.settings import load_settings
from orchestrator.store import open_store
from sandbox.seed import seed
from sandbox.server import running_sandbox

SETTINGS = (1, 2, 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args(argv)

    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), trace="never")
        sandbox_settings = settings.sandbox.model_copy(
            update={"cases": args.cases, "latency_ms": args.latency_ms}
        )
        password = sandbox_settings.password
        seed(settings.sandbox_dir, sandbox_settings, reset=True)
        bot = resolve_bot(BOT, settings.bot_dirs)
        secrets = MappingSecretProvider(
            {"civento_password": password, "gewerberegister_password": password}
        )
        with (
            open_store(settings.database) as store,
            running_sandbox(settings.sandbox_dir, sandbox_settings) as sandbox,
        ):
            targets = {
                "civento": f"{sandbox.base_url}/civento",
                "gewerberegister": f"{sandbox.base_url}/gewerberegister",
            }
            run_settings = settings.model_copy(update={"targets": targets})
            for parallel in SETTINGS:
                seed(settings.sandbox_dir, sandbox_settings, reset=True)
                forget_queue(store, settings.tenant)
                record = run_bot(
                    bot,
                    settings=run_settings,
                    store=store,
                    params={"parallel": str(parallel), "max_cases": str(args.cases)},
                    trigger="benchmark",
                    secrets=secrets,
                )
                loop = next((s for s in record.steps if s.kind == "for_each_item"), None)
                done = store.queues.get_queue(settings.tenant, QUEUE).counts["done"]
                if str(record.status) != "succeeded" or done < args.cases:
                    # A busy machine makes a case time out now and then: its item waits for
                    # a retry. The rate of the items done still stands; say what was left.
                    print(f"queue_run_{parallel}: {record.status}, {done} of {args.cases} done")
                if loop is not None and loop.duration_ms and done:
                    rates[parallel] = done / (loop.duration_ms / 60_000)
    print(f"queue_cases: {args.cases}")
    for parallel, rate in rates.items():
        print(f"queue_items_per_minute_{parallel}: {rate:.1f}")
    if 1 in rates and 4 in rates:
        print(f"queue_scaling_4: {rates[4] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
