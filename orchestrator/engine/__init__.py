"""The engine: interprets a bot definition against connectors and records the result.

It names no connector: the steps' handlers, the actions and the session factories come from
the connector registry (:mod:`orchestrator.model.registry`), and the engine meets every
target system through :class:`connectors.base.Connector` alone (a test greps this package).

* :mod:`.runner` - :func:`run_bot`, one run from inputs to the recorded outcome, and
  :func:`run_with_retries`, the attempts a standalone run gets;
* :mod:`.plan`, :mod:`.inputs` - what a run works with (parameters, targets), checked before
  it is recorded;
* :mod:`.execution`, :mod:`.outcome`, :mod:`.failures`, :mod:`.run_end` - one execution: the
  steps, ``finally``, how it ended, what follows its end (report, notifications);
* :mod:`.interpreter`, :mod:`.locating`, :mod:`.actions`, :mod:`.hook_calls` - the steps one
  by one, dispatched to the connectors' handlers and actions and to the bot's hooks;
* :mod:`.run_sessions`, :mod:`.sessions`, :mod:`.evidence` - the connectors' sessions of a
  run: opened on first use, forked for parallel workers, their failure evidence, closed;
* :mod:`.work_queue` - the run's access to the work queues (the ``SessionEnv.work_queues``);
* :mod:`.expressions` - Jinja templates and conditions in a sandbox;
* :mod:`.secrets`, :mod:`.credentials` - secret providers, the redactor, and the credentials
  a session learns during a run;
* :mod:`.context` - :class:`RunContext`, what hooks receive;
* :mod:`.artifacts`, :mod:`.runlog`, :mod:`.history` - the run's files (scrubbed of secrets
  and hashed), its log and its step records.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.engine.context import RunContext
    from orchestrator.engine.runner import run_bot, run_with_retries

__all__ = ["RunContext", "run_bot", "run_with_retries"]

#: Where each name of ``__all__`` lives: imported when first asked for, so that a module
#: using one part (a robot's service log, the secret providers) does not load the engine.
_HOMES = {"RunContext": "context", "run_bot": "runner", "run_with_retries": "runner"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
