"""How a run's steps fail: the first failure of a chain, and the two ends no block catches.

:class:`FailureChain` is a run's open chain and :class:`FirstFailure` what it notes when one
starts; :class:`RunTimedOut` and :class:`RunCancelled` stop a run past every ``try`` and
``retry``.

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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.results import ArtifactKind, StepStatus


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


class FailureChain:
    """A run's (or a parallel worker's) open failure chain, and the blocks that handle one.

    Args:
        capture: Takes the open sessions' evidence (file -> kind) when a chain starts, never
            raising; None: the chains note path and reason only.
        log: The run's logger.

    ``protected`` counts the enclosing ``try`` and ``retry`` blocks that will handle a failure
    (their failures are recorded ``recovered``); ``capturing`` is False while a failed run's
    ``finally`` steps run, whose evidence stands.
    """

    def __init__(self, capture: Callable[[], dict[Path, ArtifactKind]] | None, log: Any) -> None:
        self.capture, self.log = capture, log
        self.capturing = capture is not None
        self.first: FirstFailure | None = None
        self.protected = 0

    @contextmanager
    def recovering(self, active: bool = True) -> Iterator[None]:
        """Failures inside are recorded as ``recovered``: something around handles them."""
        if active:
            self.protected += 1
        try:
            yield
        finally:
            if active:
                self.protected -= 1

    def failed_status(self) -> StepStatus:
        """The status of a step failing now: recovered inside a protecting block."""
        return StepStatus.RECOVERED if self.protected else StepStatus.FAILED

    def start(self, step_path: str, reason: str, loop: str | None) -> None:
        """Start a chain at the failure of ``step_path`` unless one is open, capturing the
        evidence right now (``reason`` is redacted already)."""
        if self.first is not None:
            return
        evidence = self.capture() if self.capturing and self.capture is not None else {}
        self.first = FirstFailure(step_path, reason, evidence, loop)

    def recovered(self, mark: object) -> None:
        """A block that started at ``mark`` (the then open chain) handled its failure: a chain
        that started inside it ends and its evidence is deleted; an older one stays open."""
        first = self.first
        if first is not None and first is not mark:
            if first.evidence:
                self.log.info("failure handled, its evidence deleted", step=first.step_path)
            first.discard()
            self.first = None

    def take(self) -> FirstFailure | None:
        """The open chain's first failure, handed over; no chain stays open."""
        first, self.first = self.first, None
        return first


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
