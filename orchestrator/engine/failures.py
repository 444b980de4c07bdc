"""How a run's steps fail: the first failure of a chain, and the two ends no block catches.

:class:`FirstFailure` is what :class:`~orchestrator.engine.interpreter.Interpreter` notes when
a failure chain starts (see its module docstring); :class:`RunTimedOut` and
:class:`RunCancelled` stop a run past every ``try`` and ``retry``.

Failure chains: when a step fails while no chain is open, a chain starts and its
:class:`FirstFailure` is noted: the failing step's path, its reason, and the page's evidence
captured right then, before ``on_error`` steps or further ``retry`` attempts change the page.
Failures while the chain is open (in ``on_error``, in later attempts) capture nothing. The
chain ends when the ``try`` or ``retry`` it started in recovers (the evidence is deleted) or
when the run ends (the runner keeps it as the run's failure evidence)::

    - retry: [{goto: ...}, {click: ...}]   # attempt 1: the click fails: evidence captured
                                           # attempt 2: the click fails: same chain, no capture
                                           # attempt 3: succeeds: chain over, evidence deleted
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.results import ArtifactKind


@dataclass
class FirstFailure:
    """The first failure of a failure chain: where, why, and the evidence of that moment.

    Example: ``FirstFailure("steps[2].try[0]", "no element matches text='Weiter'",
    {run_dir / "failure-url.txt": ArtifactKind.URL, ...})``; ``evidence`` is empty when no
    session was open.
    """

    step_path: str
    reason: str
    evidence: dict[Path, ArtifactKind] = field(default_factory=dict)
    #: The loop iteration it happened in, e.g. ``steps[3][2]: vorgang.Nummer = GA-2026-000231``.
    loop: str | None = None

    def discard(self) -> None:
        """Delete the evidence files: the failure was handled."""
        for path in self.evidence:
            path.unlink(missing_ok=True)
        self.evidence.clear()


class RunTimedOut(Exception):
    """The run's time is up; not catchable by ``try`` or ``retry``."""

    def __init__(self, step_path: str, seconds: float) -> None:
        self.step_path = step_path
        super().__init__(f"the run did not finish within {seconds:g} s (stopped at {step_path})")


class RunCancelled(Exception):
    """Someone cancelled the run (``bots runs cancel``); not catchable by ``try`` or ``retry``."""

    def __init__(self, step_path: str) -> None:
        self.step_path = step_path
        super().__init__(f"cancelled (stopped at {step_path})")
