"""The engine: interprets a bot definition against connectors and records the result.

* :mod:`.runner` - :func:`run_bot`, one run from inputs to the recorded outcome, and
  :func:`run_with_retries`, the attempts a standalone run gets;
* :mod:`.interpreter` and :mod:`.browser_steps` - one function per step kind;
* :mod:`.expressions` - Jinja templates and conditions in a sandbox;
* :mod:`.secrets` - secret providers, the secret wrapper for templates, the redactor;
* :mod:`.context` - :class:`RunContext`, what hooks receive;
* :mod:`.inputs` - parameter coercion and target URLs, checked before a run starts;
* :mod:`.artifacts` and :mod:`.runlog` - the run's files, scrubbed of secrets and hashed.
"""

from orchestrator.engine.context import RunContext
from orchestrator.engine.runner import run_bot, run_with_retries

__all__ = ["RunContext", "run_bot", "run_with_retries"]
