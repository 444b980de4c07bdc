"""Evidence of a failure, captured from any session into the run directory, scrubbed.

The interpreter captures when a failure chain starts (before ``on_error`` or another retry
attempt changes the page); the runner keeps the capture as the run's failure evidence, or
deletes it when the failure was handled. A session writes its evidence
(:meth:`connectors.base.Connector.capture_evidence`) into a scratch folder outside the run
directory; the credentials it learnt (its cookies) and those in the files (tokens in a URL or
a page) are added to the run's redactor, and only then are the scrubbed files written into
the run directory, so even a file left behind by a killed process holds none::

    capture = EvidenceCapture(run_dir, redactor, log)
    files = capture.capture(session, "failure")
    # {run_dir / "failure-url.txt": ArtifactKind.URL, run_dir / "failure.png": ..., ...}
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from connectors.base import Connector
from orchestrator.engine.artifacts import scrub_bytes
from orchestrator.engine.credentials import harvest, harvest_session, harvest_url
from orchestrator.engine.secrets import Redactor
from orchestrator.results import ArtifactKind

#: Files by path with their kind, as a capture returns them.
Evidence = dict[Path, ArtifactKind]


class EvidenceCapture:
    """Captures a session's evidence as ``<stem>*`` files of the run directory.

    Args:
        run_dir: Where the files go (``stem`` may name a folder in it: ``worker-2/failure``).
        redactor: The run's redactor; secrets, cookie values and tokens are masked.
        log: The run's logger (what could not be captured is logged, never raised).
    """

    def __init__(self, run_dir: Path, redactor: Redactor, log: Any) -> None:
        self._run_dir = run_dir
        self._redactor = redactor
        self._log = log

    def learn(self, session: Connector) -> None:
        """Add the credentials ``session`` learnt to the redactor (never raises)."""
        harvest_session(session, self._redactor, self._log)

    def capture(
        self, session: Connector, stem: str, *, unless_like: Evidence | None = None
    ) -> Evidence:
        """Capture ``session``'s evidence; returns the files written, by path.

        Best effort: what cannot be captured is logged and left out; nothing raises. With
        ``unless_like`` (another capture's files), nothing is kept when every text file is
        the same as one of those.
        """
        self.learn(session)
        scratch = Path(tempfile.mkdtemp(prefix="bots-evidence-"))
        try:
            raw = self._capture_raw(session, scratch, Path(stem).name)
            files = self._write(raw, self._run_dir / Path(stem).parent)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if unless_like is not None and _same(files, unless_like):
            for path in files:
                path.unlink(missing_ok=True)
            return {}
        if files:
            self._log.info("failure evidence captured", files=sorted(p.name for p in files))
        return files

    def _capture_raw(self, session: Connector, scratch: Path, stem: str) -> dict[str, Path]:
        try:
            raw = session.capture_evidence(scratch, stem)
        except Exception as exc:  # evidence is best effort: it must never fail the run
            self._log.warning(
                "failure evidence not captured", connector=session.name, error=str(exc)
            )
            raw = {}
        for kind in session.evidence_kinds:
            if kind not in raw:
                self._log.warning(f"failure {kind} not captured", connector=session.name)
        inside = scratch.resolve()
        return {
            kind: path
            for kind, path in raw.items()
            if path.is_file() and path.resolve().is_relative_to(inside)
        }

    def _write(self, raw: dict[str, Path], into: Path) -> Evidence:
        contents = {kind: path.read_bytes() for kind, path in raw.items()}
        for kind, data in contents.items():  # learn every token before writing any file
            self._redactor.add_all(harvest(data, raw[kind].name))
            if kind == "url":
                self._redactor.add_all(harvest_url(data.decode("utf-8", "replace").strip()))
        files: Evidence = {}
        for kind, data in contents.items():
            target = into / raw[kind].name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(scrub_bytes(data, self._redactor, target.name))
            files[target] = artifact_kind(kind)
        return files


def artifact_kind(kind: str) -> ArtifactKind:
    """The artifact kind of a session's file kind; an unknown one is an output."""
    try:
        return ArtifactKind(kind)
    except ValueError:
        return ArtifactKind.OUTPUT


def _same(files: Evidence, other: Evidence) -> bool:
    """Whether every text file of ``files`` (not the screenshots) has a twin in ``other``."""
    texts = [(path, kind) for path, kind in files.items() if kind != ArtifactKind.SCREENSHOT]
    if not texts:
        return False
    return all(
        any(k == kind and _text_of(p) == _text_of(path) for p, k in other.items())
        for path, kind in texts
    )


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
