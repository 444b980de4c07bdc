"""How a run's steps ended, and the ``error`` and ``error_step`` a run is recorded with.

The run's ``error`` names the first cause and ``error_step`` is its step
(``docs/bot-language.md``)::

    error:      <last error> (stopped at <last step>; first failure at <first step>: <reason>)
    error_step: <first step>

The parenthesis is left out when the first failure is the last one's step; ``stopped at`` when
the last error names its step already (a timeout), ``: <reason>`` when the last error quotes it.
A failure inside a loop adds its iteration, e.g. ``[steps[5][3]: vorgang.Nummer = GA-2026-000231]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.engine.interpreter import FirstFailure
from orchestrator.results import RunStatus

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """How a run's steps (or its ``finally`` steps) ended."""

    status: RunStatus = RunStatus.SUCCEEDED
    error: str | None = None
    stopped_at: str | None = None  # the step the last error came from, if known
    first: FirstFailure | None = None  # of the failure chain open at the end
    reraise: BaseException | None = None

    def error_and_step(self) -> tuple[str | None, str | None]:
        """The run's ``error`` naming the first cause, and ``error_step``: the first cause's
        step (format in the module docstring)."""
        first = self.first
        if self.error is None or first is None:
            return self.error, self.stopped_at
        loop = f" [{first.loop}]" if first.loop and first.loop not in self.error else ""
        if first.step_path == self.stopped_at:
            return f"{self.error}{loop}", self.stopped_at
        stopped = f"stopped at {self.stopped_at}"
        where = f"{stopped}; " if self.stopped_at and stopped not in self.error else ""
        reason = "" if first.reason in self.error else f": {first.reason}"
        return (
            f"{self.error} ({where}first failure at {first.step_path}{reason}){loop}",
            first.step_path,
        )
