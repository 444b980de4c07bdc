"""Bots that fill and work through a work queue (``add_items``, ``for_each_item``).

No browser: hooks and flow steps against the real store. One item per outcome: done with its
output, a business failure (to a person, not retried), an application failure (retried by
the queue's policy), and the run goes on past each of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.engine import run_bot
from orchestrator.results import RunStatus
from orchestrator.settings import Settings
from orchestrator.states import WorkItemStatus
from orchestrator.store import RunStore

MakeBot = Callable[..., Any]  # the make_bot fixture (tests/engine/conftest.py)

HOOKS = """\
from orchestrator.errors import BusinessException


def pruefen(ctx, fall):
    if fall["art"] == "fachlich":
        raise BusinessException(f"Rechtsform „{fall['rechtsform']}“ ist unbekannt.")
    if fall["art"] == "technisch":
        raise RuntimeError("Register antwortet nicht")
    return "AZ-" + fall["nummer"]
"""


def _no_browser(settings: Settings) -> Settings:
    return settings.model_copy(update={"chromium": Path("/nonexistent/chromium")})


def test_every_item_ends_in_its_own_state_and_the_run_goes_on(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    faelle = [
        {"nummer": "GA-1", "art": "gut", "rechtsform": "GmbH"},
        {"nummer": "GA-2", "art": "fachlich", "rechtsform": "Verein"},
        {"nummer": "GA-3", "art": "technisch", "rechtsform": "KG"},
        {"nummer": "GA-4", "art": "per-fail", "rechtsform": "AG"},
        {"nummer": "GA-5", "art": "gut", "rechtsform": "OHG"},
    ]
    bot = make_bot(
        [
            {"set": {"faelle": faelle}},
            {"add_items": "eingang", "items": "{{ faelle }}", "reference": "{{ item.nummer }}",
             "into": "neu"},
            {"add_items": "eingang", "items": "{{ faelle }}", "reference": "{{ item.nummer }}",
             "into": "nochmal"},
            {"assert": "neu == 5 and nochmal == 0"},
            {"for_each_item": "eingang", "as": "fall", "do": [
                {"fail": "Angaben unvollständig: {{ fall.nummer }}", "kind": "business",
                 "when": "fall.art == 'per-fail'"},
                {"call": "hooks:pruefen", "with": {"fall": "{{ fall }}"}, "into": "az"},
            ], "output": {"aktenzeichen": "{{ az }}", "ref": "{{ work_item.reference }}"}},
        ],
        hooks=HOOKS,
        targets=[],
    )  # fmt: skip
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error

    items = {i.reference: i for i in store.queues.list_items(settings.tenant, "eingang")}
    assert items["GA-1"].status == WorkItemStatus.DONE
    assert items["GA-1"].output == {"aktenzeichen": "AZ-GA-1", "ref": "GA-1"}
    assert items["GA-5"].status == WorkItemStatus.DONE
    assert items["GA-2"].status == WorkItemStatus.NEEDS_HUMAN
    assert items["GA-2"].last_error_kind == "business"
    assert items["GA-2"].last_error == "Rechtsform „Verein“ ist unbekannt."
    assert items["GA-4"].status == WorkItemStatus.NEEDS_HUMAN
    assert items["GA-4"].last_error == "Angaben unvollständig: GA-4"
    assert items["GA-3"].status == WorkItemStatus.RETRYING  # attempts left, after a backoff
    assert items["GA-3"].last_error_kind == "application"
    assert "Register antwortet nicht" in (items["GA-3"].last_error or "")
    # Each item's steps carry its iteration: steps[4][N].do[...]
    paths = {s.path for s in record.steps}
    assert {f"steps[4][{n}].do[1]" for n in range(5)} <= paths | {"steps[4][3].do[1]"}
    failed = [s for s in record.steps if s.status == "recovered" and s.kind == "call"]
    assert any("fall = GA-2" in (s.message or "") for s in failed)


def test_an_item_a_killed_process_held_is_taken_again_at_once(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    import socket
    import subprocess
    import sys

    store.queues.create_queue(settings.tenant, "eingang", actor="test")
    store.queues.add_item(settings.tenant, "eingang", "GA-7", {"nummer": "GA-7"}, actor="test")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    holder = f"cli:{socket.gethostname()}:{int(dead.stdout)}"
    # A `bots run` took the item with a lease of an hour, then was killed.
    taken = store.queues.claim_item(settings.tenant, "eingang", holder=holder, lease_s=3600)
    assert taken is not None
    bot = make_bot(
        [{"for_each_item": "eingang", "as": "fall", "do": [{"set": {"x": "{{ fall.nummer }}"}}],
          "output": {"gesehen": "{{ x }}"}}],
        targets=[],
    )  # fmt: skip
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    item = store.queues.get_item(taken.id)
    assert item.status == WorkItemStatus.DONE and item.output == {"gesehen": "GA-7"}
    assert item.attempts == 2  # the killed one's, and this run's
    assert [(run.run_id, run.outcome) for run in item.runs] == [(record.id, "done")]


def test_parallel_workers_share_the_queue_and_each_item_is_done_once(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    hooks = (
        "import time\n\n"
        "def bearbeiten(ctx, nummer):\n"
        "    start = time.monotonic()\n"
        "    time.sleep(0.2)\n"
        "    return [start, time.monotonic()]\n"
    )
    bot = make_bot(
        [
            {"set": {"faelle": [{"nummer": f"GA-{n}"} for n in range(12)]}},
            {"add_items": "eingang", "items": "{{ faelle }}", "reference": "{{ item.nummer }}"},
            {"for_each_item": "eingang", "as": "fall", "parallel": 3, "do": [
                {"call": "hooks:bearbeiten", "with": {"nummer": "{{ fall.nummer }}"},
                 "into": "worker"},
                {"fail": "kaputt", "kind": "business", "when": "fall.nummer == 'GA-5'"},
            ], "output": {"worker": "{{ worker }}"}},
            {"assert": "fall is not defined and work_item is not defined"},
        ],
        hooks=hooks,
        targets=[],
    )  # fmt: skip
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error
    items = store.queues.list_items(settings.tenant, "eingang")
    assert len(items) == 12
    done = [i for i in items if i.status == WorkItemStatus.DONE]
    assert len(done) == 11 and all(i.attempts == 1 for i in items)
    assert {i.reference for i in items if i.status == WorkItemStatus.NEEDS_HUMAN} == {"GA-5"}
    spans = sorted(i.output["worker"] for i in done)  # [start, end] of each item's hook
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)), (
        "no two items were worked on at the same time"
    )
    # Every item's steps carry a path of its own: steps[2][0] ... steps[2][11].
    calls = sorted(s.path for s in record.steps if s.kind == "call")
    assert len(calls) == 12 and len(set(calls)) == 12


def test_a_done_items_output_arrives_in_the_next_queue_and_a_failed_one_in_its_own(
    settings: Settings, store: RunStore, make_bot: MakeBot
) -> None:
    """Routing as a bot meets it: the performer's output goes on to ``next_on_success``
    (e.g. an e-Akte filing queue) under the same reference, and a case that failed for
    good goes on to ``next_on_failure`` with its payload, where a second bot takes it."""
    tenant = settings.tenant
    store.queues.create_queue(tenant, "eakte", actor="test")
    store.queues.create_queue(tenant, "klaerung", actor="test")
    store.queues.create_queue(
        tenant, "eingang", max_attempts=1, next_on_success="eakte",
        next_on_failure="klaerung", actor="test",
    )  # fmt: skip
    for nummer, art in (("GA-1", "gut"), ("GA-2", "technisch"), ("GA-3", "gut")):
        payload = {"nummer": nummer, "art": art, "rechtsform": "GmbH"}
        store.queues.add_item(tenant, "eingang", nummer, payload, actor="test")
    bot = make_bot(
        [
            {"for_each_item": "eingang", "as": "fall", "do": [
                {"call": "hooks:pruefen", "with": {"fall": "{{ fall }}"}, "into": "az"},
            ], "output": {"aktenzeichen": "{{ az }}"}},
            {"for_each_item": "eakte", "as": "akte", "do": [
                {"set": {"abgelegt": "{{ akte.aktenzeichen }}"}},
            ], "output": {"abgelegt": "{{ abgelegt }}"}},
        ],
        hooks=HOOKS,
        targets=[],
    )  # fmt: skip
    record = run_bot(bot, settings=_no_browser(settings), store=store)
    assert record.status == RunStatus.SUCCEEDED, record.error

    eakte = {i.reference: i for i in store.queues.list_items(tenant, "eakte")}
    assert set(eakte) == {"GA-1", "GA-3"}
    for reference, item in eakte.items():
        # The output of the first queue is the payload of the next, worked by the same run.
        assert item.payload == {"aktenzeichen": f"AZ-{reference}"}
        assert item.status == WorkItemStatus.DONE
        assert item.output == {"abgelegt": f"AZ-{reference}"}
    klaerung = store.queues.list_items(tenant, "klaerung")
    assert [(i.reference, i.status) for i in klaerung] == [("GA-2", WorkItemStatus.NEW)]
    assert klaerung[0].payload == {"nummer": "GA-2", "art": "technisch", "rechtsform": "GmbH"}
    eingang = {i.reference: i.status for i in store.queues.list_items(tenant, "eingang")}
    assert eingang == {
        "GA-1": WorkItemStatus.DONE, "GA-2": WorkItemStatus.FAILED, "GA-3": WorkItemStatus.DONE
    }  # fmt: skip
